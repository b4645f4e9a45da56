/**
 * The lease table's lossless event ring (`eventWaitMs`, what the daemon uses for its audit
 * log): a lease event is never overwritten — an allocation waits, bounded, for the main thread
 * to drain, and is refused rather than created without its record — and expiries that do not
 * fit are left for the next sweep.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LEASE_ALLOCATE, LEASE_REFRESH, LeaseTable, MAP_EXHAUSTED } from "../../lib/lease/table.ts";
import { host, hostBytes, options, to4 } from "./helpers.ts";

const ALLOC = LEASE_ALLOCATE | LEASE_REFRESH;

function lossless(pool: string, ring: number, reservationSecs = 3600, waitMs = 20) {
  return LeaseTable.create({ ...options([pool], [], reservationSecs, ring), eventWaitMs: waitMs });
}

Deno.test("a full lossless ring refuses a new lease after a bounded wait instead of overwriting", () => {
  const t = lossless("192.0.2.0/24", 4);
  assert.equal(t.lossless, true);
  for (let i = 0; i < 4; i++) assert.equal(to4(t, host(i), 1, ALLOC), `192.0.2.${i + 1}`);
  assert.equal(t.eventRoom, 0);
  const before = performance.now();
  assert.equal(to4(t, host(4), 1, ALLOC), MAP_EXHAUSTED, "no room for its record: refused");
  const waitedMs = performance.now() - before;
  assert.ok(waitedMs < 2000, `waited ${waitedMs} ms for a 20 ms bound`);
  assert.equal(t.size, 4, "no lease without its record");
  assert.equal(t.eventsLost, 0);
  assert.equal(t.eventWaits, 1);
  assert.equal(t.eventWaitRefusals, 1);
  // Until the main thread drains, further new hosts are refused without another wait.
  const again = performance.now();
  for (let i = 0; i < 50; i++) assert.equal(to4(t, host(100 + i), 1, ALLOC), MAP_EXHAUSTED);
  assert.ok(performance.now() - again < 500, "each refusal waited again");
  assert.equal(t.eventWaits, 1);
  assert.equal(t.eventWaitRefusals, 51);
  // Existing leases are looked up without waiting.
  assert.equal(to4(t, host(2), 2, ALLOC), "192.0.2.3");
  assert.deepEqual(t.drainEvents().map((e) => e.kind), [
    "created",
    "created",
    "created",
    "created",
  ]);
  assert.equal(to4(t, host(4), 3, ALLOC), "192.0.2.5", "room again: created");
  assert.equal(t.drainEvents().length, 1);
});

Deno.test("a host refused for an exhausted pool is not made to wait for ring room", () => {
  const t = lossless("192.0.2.0/30", 2, 3600, 5000);
  to4(t, host(1), 1, ALLOC);
  to4(t, host(2), 1, ALLOC);
  const before = performance.now();
  for (let i = 0; i < 100; i++) assert.equal(to4(t, host(3 + i), 1, ALLOC), MAP_EXHAUSTED);
  assert.ok(performance.now() - before < 1000, "refusals waited for the 5 s bound");
  assert.equal(t.eventWaits, 0);
  assert.equal(t.eventsLost, 0);
});

Deno.test("expiries and re-creations beyond the ring's size in one drain interval lose nothing", () => {
  // A /28 has 14 addresses; with a 1 s reservation all 14 can expire and 14 new hosts take
  // their addresses within one drain interval: 28 events, more than a pool-sized ring (16).
  const overwrite = LeaseTable.create(options(["192.0.2.0/28"], [], 1, 16));
  const safe = lossless("192.0.2.0/28", 16, 1);
  for (const t of [overwrite, safe]) {
    for (let i = 0; i < 14; i++) to4(t, host(i), 10, ALLOC);
    for (let i = 100; i < 114; i++) to4(t, host(i), 12, ALLOC);
  }
  assert.ok(overwrite.eventsLost > 0, "the overwriting ring lost events");
  assert.equal(safe.eventsLost, 0);
  assert.ok(safe.eventWaitRefusals > 0, "the lossless ring refused what it could not record");
  const events = safe.drainEvents();
  const created = events.filter((e) => e.kind === "created").length;
  const expired = events.filter((e) => e.kind === "expired").length;
  assert.equal(events.length, 16);
  assert.equal(created - expired, safe.size, "every lease held has its record");
  // Drained as the daemon drains: the rest of the new hosts get in, expiring the old leases
  // with records.
  const rest = [];
  for (let i = 100; i < 114; i++) {
    rest.push(...safe.drainEvents());
    assert.notEqual(to4(safe, host(i), 12, ALLOC), MAP_EXHAUSTED);
  }
  rest.push(...safe.drainEvents());
  const all = [...events, ...rest];
  assert.equal(all.filter((e) => e.kind === "created").length, 28);
  assert.equal(all.filter((e) => e.kind === "expired").length, 14);
  assert.equal(safe.size, 14);
  assert.equal(safe.eventsLost, 0);
});

Deno.test("a lossless sweep frees what fits in the ring and the rest after a drain", () => {
  const t = lossless("10.64.0.0/22", 64, 10);
  // The ring holds 64: drain as the daemon does (on its half-full signal) while filling.
  let events = 0;
  const drain = () => (events += t.drainEvents().length);
  for (let i = 0; i < 1022; i++) {
    if (i % 32 === 0) drain();
    assert.notEqual(to4(t, host(i), 0, ALLOC), MAP_EXHAUSTED);
  }
  drain();
  assert.equal(events, 1022);
  let sweeps = 0;
  let freed = 0;
  do {
    drain();
    freed += t.sweep(11);
    sweeps++;
  } while (t.eventRoom === 0 && sweeps < 100);
  drain();
  assert.equal(freed, 1022);
  assert.equal(events, 2044);
  assert.ok(sweeps >= 16, `${sweeps} sweeps for 1022 expiries in a 64-record ring`);
  assert.equal(t.size, 0);
  assert.equal(t.eventsLost, 0);
});

// ---- a Worker allocating while the main thread drains ----------------------------------------

const FIXTURE = new URL("./worker_fixture.ts", import.meta.url);
const canRead = Deno.permissions.querySync({ name: "read", path: FIXTURE }).state === "granted";
if (!canRead) console.warn("SKIPPED lossless Worker test: needs --allow-read for the Worker");

Deno.test({
  name: "a Worker creating 20,000 leases through a 64-record lossless ring: every one recorded",
  ignore: !canRead,
}, async () => {
  const opts = { ...options(["10.64.0.0/16"], [], 3600, 64), eventWaitMs: 2000 };
  const table = LeaseTable.create(opts);
  const gate = new SharedArrayBuffer(8);
  const worker = new Worker(FIXTURE.href, { type: "module" });
  const keepAlive = setInterval(() => {}, 50);
  try {
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => ready = resolve);
    const done = new Promise<number[]>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<number[] | "ready">) => {
        if (e.data === "ready") ready();
        else resolve(e.data);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    });
    worker.postMessage({ sab: table.buffer, gate, opts, from: 0, count: 20_000, now: 5 });
    await isReady;
    Atomics.store(new Int32Array(gate), 1, 1);
    Atomics.notify(new Int32Array(gate), 1);
    // The main thread drains whenever the Worker signals (half full, or waiting for room).
    const created = new Set<string>();
    let finished = false;
    void done.then(() => (finished = true), () => (finished = true));
    const deadline = Date.now() + 30_000;
    while (!finished && Date.now() < deadline) {
      const seen = table.eventSignal;
      for (const ev of table.drainEvents()) created.add(ev.v6.join("."));
      await Promise.race([table.waitForEvents(seen), done, new Promise((r) => setTimeout(r, 5))]);
    }
    const got = await done;
    for (const ev of table.drainEvents()) created.add(ev.v6.join("."));
    assert.equal(got.filter((v) => v === MAP_EXHAUSTED).length, 0, "no lease refused");
    assert.equal(created.size, 20_000);
    assert.ok(created.has(hostBytes(19_999).join(".")));
    assert.equal(table.eventsLost, 0);
    assert.equal(table.eventWaitRefusals, 0);
    console.log(
      `20,000 leases, 64-record ring: the Worker waited for room ${table.eventWaits} times`,
    );
  } finally {
    clearInterval(keepAlive);
    worker.terminate();
  }
});
