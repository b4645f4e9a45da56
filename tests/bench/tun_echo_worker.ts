/**
 * The copying Worker of tests/bench/tun_echo.ts: blocking `readInto` from one TUN fd,
 * `writeFrom` the same bytes to the other, counters in shared memory. Runs until the process
 * exits (or the input fd is closed).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { EBADF, EINTR, libc, readInto, writeFrom } from "../../ffi/libc.ts";
import { ECHO_COPIED, ECHO_READ_ERRORS, ECHO_WRITE_ERRORS, type EchoStart } from "./tun_echo.ts";

/** Failed reads after which the Worker gives up. */
const MAX_READ_ERRORS = 100;

self.onmessage = (e: MessageEvent<EchoStart>) => {
  const { inFd, outFd, shared } = e.data;
  const counters = new Int32Array(shared);
  const buf = new Uint8Array(65536);
  libc(); // readInto and writeFrom use this thread's symbols
  self.postMessage("ready");
  for (;;) {
    const n = readInto(inFd, buf, 0, buf.length);
    if (n > 0) {
      if (writeFrom(outFd, buf, 0, n) === n) counters[ECHO_COPIED]!++;
      else counters[ECHO_WRITE_ERRORS]!++;
    } else if (n !== -EINTR) {
      // A blocking TUN read fails only when the device goes away: stop instead of spinning.
      if (++counters[ECHO_READ_ERRORS]! >= MAX_READ_ERRORS || n === -EBADF) return;
    }
  }
};
