// Packet-reading Worker of tests/bench/tun_io.ts: attaches to the TUN fd the main thread
// opened and counts packets into shared memory, either with blocking reads or by draining a
// non-blocking fd until EAGAIN and then poll()ing with a timeout.
import { attachTun } from "../../ffi/tun.ts";
import { EAGAIN } from "../../ffi/libc.ts";

interface Start {
  fd: number;
  name: string;
  mode: "blocking" | "poll";
  shared: SharedArrayBuffer;
}

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (e: MessageEvent<Start>) => {
  const { fd, name, mode, shared } = e.data;
  const ctl = new Int32Array(shared); // [0] packets, [1] stop, [2] errors
  const tun = attachTun(fd, name, 1500);
  const buf = new Uint8Array(2048);
  scope.postMessage("ready");
  if (mode === "blocking") {
    for (;;) {
      const n = tun.read(buf, 0, buf.length);
      if (n > 0) Atomics.add(ctl, 0, 1);
      else Atomics.add(ctl, 2, 1);
      if (Atomics.load(ctl, 1) !== 0) return;
    }
  }
  while (Atomics.load(ctl, 1) === 0) {
    const n = tun.read(buf, 0, buf.length);
    if (n > 0) Atomics.add(ctl, 0, 1);
    else if (n === -EAGAIN) tun.waitReadable(100);
    else Atomics.add(ctl, 2, 1);
  }
};
