/**
 * The ceiling for tests/bench/e2e.ts: the smallest Deno program that moves the benchmark's
 * packets through TUN devices the way the daemon does (a Worker doing blocking FFI `read`
 * into a preallocated buffer with `readInto` and `write` from it with `writeFrom`), but
 * without translating them.
 *
 * ```
 * deno run -A tests/bench/tun_echo.ts IN OUT MAX_SECS
 * ```
 *
 * Opens two TUN devices (`IFF_TUN | IFF_NO_PI`), prints `ready IN OUT` once the Worker runs,
 * and copies every packet read from IN to OUT unchanged. The caller routes the traffic: in
 * e2e.ts the client and the server speak plain IPv4 and policy routing in the middle
 * namespace sends everything arriving from either of them into IN, so each packet costs one
 * kernel route into a TUN, one FFI read, one FFI write and one kernel route out again —
 * exactly the I/O of a translated packet, minus the translation, the lease lookup and the
 * checksum update. One queue, no offload. Exits after MAX_SECS at the latest, or on
 * SIGTERM/SIGINT (printing its counters).
 *
 * @module
 */

import { openTun } from "../../ffi/tun.ts";

/** Counter slots of the shared Int32Array: packets copied, failed writes, failed reads. */
export const ECHO_COPIED = 0;
/** Slot: writes that failed or were short. */
export const ECHO_WRITE_ERRORS = 1;
/** Slot: reads that failed (other than EINTR). */
export const ECHO_READ_ERRORS = 2;

/** What the main thread sends the Worker. */
export interface EchoStart {
  /** TUN fd to read. */
  inFd: number;
  /** TUN fd to write. */
  outFd: number;
  /** Three Int32 counters (see {@link ECHO_COPIED}). */
  shared: SharedArrayBuffer;
}

async function main(): Promise<number> {
  const [inName, outName, maxText] = Deno.args;
  const maxSecs = Number(maxText);
  if (!inName || !outName || !(maxSecs > 0)) {
    console.error("usage: tun_echo.ts IN OUT MAX_SECS");
    return 2;
  }
  const tunIn = openTun({ name: inName });
  const tunOut = openTun({ name: outName });
  const shared = new SharedArrayBuffer(12);
  const counters = new Int32Array(shared);
  const worker = new Worker(new URL("./tun_echo_worker.ts", import.meta.url), { type: "module" });
  const ready = new Promise<void>((resolve) => (worker.onmessage = () => resolve()));
  const start: EchoStart = { inFd: tunIn.fd, outFd: tunOut.fd, shared };
  worker.postMessage(start);
  await ready;
  console.log(`ready ${tunIn.name} ${tunOut.name}`);
  const { promise, resolve } = Promise.withResolvers<string>();
  const timer = setTimeout(() => resolve("time limit"), maxSecs * 1000);
  Deno.addSignalListener("SIGTERM", () => resolve("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => resolve("SIGINT"));
  const why = await promise;
  clearTimeout(timer);
  console.log(
    `stopped (${why}): copied ${counters[ECHO_COPIED]}, write errors ` +
      `${counters[ECHO_WRITE_ERRORS]}, read errors ${counters[ECHO_READ_ERRORS]}`,
  );
  // The Worker is blocked in read() and cannot be terminated; exiting the process ends it and
  // closes both devices.
  return 0;
}

if (import.meta.main) Deno.exit(await main());
