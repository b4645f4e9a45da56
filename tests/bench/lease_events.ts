/**
 * `deno run -A tests/bench/lease_events.ts`: what the lossless audit log costs the thread that
 * creates leases, three ways, in one run (ratios against the first):
 *
 * 1. a pool-sized ring (65,536 records), drained by the main thread: the daemon's normal case;
 * 2. the same Worker through a 64-record lossless ring, so it waits for the main thread's
 *    drain every ~32 leases (back-pressure, the worst case of the daemon's choice);
 * 3. writing from the allocating thread: each lease formatted as its JSON line and written
 *    to a file with one `write` (what a Worker would do without a ring).
 *
 * Prints leases per second for each. Rounds alternate so machine noise hits all three.
 *
 * @module
 */

import { LeaseTable, MAP_EXHAUSTED } from "../../lib/lease/table.ts";
import { mappingLine } from "../../lib/daemon/mapping_log.ts";
import { formatIpv6 } from "../../lib/addr/ipv6.ts";
import { formatIpv4 } from "../../lib/addr/ipv4.ts";
import { hostBytes, options } from "../lease/helpers.ts";
import { LEASE_ALLOCATE, LEASE_REFRESH } from "../../lib/lease/table.ts";

const N = 30_000;
const FIXTURE = new URL("../lease/worker_fixture.ts", import.meta.url);

async function throughWorker(ring: number): Promise<number> {
  const opts = { ...options(["10.64.0.0/16"], [], 3600, ring), eventWaitMs: 2000 };
  const table = LeaseTable.create(opts);
  const gate = new SharedArrayBuffer(8);
  const worker = new Worker(FIXTURE.href, { type: "module" });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => ready = r);
  const done = new Promise<number[]>((resolve) => {
    worker.onmessage = (e) => e.data === "ready" ? ready() : resolve(e.data);
  });
  worker.postMessage({ sab: table.buffer, gate, opts, from: 0, count: N, now: 5 });
  await isReady;
  const t0 = performance.now();
  Atomics.store(new Int32Array(gate), 1, 1);
  Atomics.notify(new Int32Array(gate), 1);
  let finished = false;
  let drained = 0;
  void done.then(() => finished = true);
  while (!finished) {
    const seen = table.eventSignal;
    drained += table.drainEvents().length;
    await Promise.race([table.waitForEvents(seen), done, new Promise((r) => setTimeout(r, 5))]);
  }
  const got = await done;
  const ms = performance.now() - t0;
  drained += table.drainEvents().length;
  worker.terminate();
  if (drained !== N || got.includes(MAP_EXHAUSTED)) throw new Error(`lost: ${drained} of ${N}`);
  return N / (ms / 1000);
}

function writingFromAllocator(path: string): number {
  const table = LeaseTable.create(options(["10.64.0.0/16"], [], 3600, 65536));
  const file = Deno.openSync(path, { append: true, create: true });
  const enc = new TextEncoder();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const b = hostBytes(i);
    const v4 = table.v4For6(b, 0, 5, LEASE_ALLOCATE | LEASE_REFRESH);
    const line = mappingLine({
      timeMs: Date.now(),
      event: "created",
      ipv6: formatIpv6(b),
      ipv4: formatIpv4(v4),
    });
    file.writeSync(enc.encode(line));
  }
  const ms = performance.now() - t0;
  file.close();
  return N / (ms / 1000);
}

const dir = await Deno.makeTempDir();
const rows: number[][] = [[], [], []];
for (let round = 0; round < 3; round++) {
  rows[0]!.push(await throughWorker(65536));
  rows[1]!.push(await throughWorker(64));
  rows[2]!.push(writingFromAllocator(`${dir}/m.log`));
}
await Deno.remove(dir, { recursive: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const base = median(rows[0]!);
const names = [
  "pool-sized ring, drained by the main thread",
  "64-record lossless ring (waits for drains)",
  "JSON line + write() per lease in the allocating thread",
];
names.forEach((n, i) => {
  const m = median(rows[i]!);
  console.log(`${n}: ${Math.round(m)} leases/s (${(m / base).toFixed(2)}x)`);
});
