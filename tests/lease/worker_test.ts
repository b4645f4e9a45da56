import assert from "node:assert/strict";
import { LEASE_ALLOCATE, LEASE_REFRESH, LeaseTable, MAP_EXHAUSTED } from "../../lib/lease/table.ts";
import { hostBytes, options } from "./helpers.ts";

const FIXTURE = new URL("./worker_fixture.ts", import.meta.url);
// Loading a Worker module from disk needs read permission (`deno task test` grants it).
const canRead = Deno.permissions.querySync({ name: "read", path: FIXTURE }).state === "granted";
if (!canRead) {
  console.warn("SKIPPED lease Worker test: needs --allow-read to load the Worker module");
}

Deno.test({
  name:
    "a Worker and the main thread allocating at the same time never share an address or double-lease a host",
  ignore: !canRead,
}, async () => {
  const opts = options(["10.20.0.0/20"], [], 3600, 8);
  const table = LeaseTable.create(opts);
  const gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const worker = new Worker(FIXTURE.href, {
    type: "module",
  });
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
    // Main thread: hosts 0..2999; Worker: hosts 1500..4499 (1500 in common).
    worker.postMessage({ sab: table.buffer, gate, opts, from: 1500, count: 3000, now: 7 });
    await isReady;
    // The Worker is parked in Atomics.wait; release it and race it.
    Atomics.store(g, 1, 1);
    Atomics.notify(g, 1);
    const mine: number[] = [];
    for (let i = 0; i < 3000; i++) {
      mine.push(table.v4For6(hostBytes(i), 0, 7, LEASE_ALLOCATE | LEASE_REFRESH));
    }
    const theirs = await done;

    const byHost = new Map<number, number>();
    const check = (h: number, v4: number) => {
      if (v4 === MAP_EXHAUSTED) return;
      assert.ok(v4 >= 0, `host ${h}: ${v4}`);
      const prev = byHost.get(h);
      assert.ok(prev === undefined || prev === v4, `host ${h} got ${prev} and ${v4}`);
      byHost.set(h, v4);
    };
    mine.forEach((v4, i) => check(i, v4));
    theirs.forEach((v4, i) => check(1500 + i, v4));
    assert.equal(byHost.size, table.capacity, "4500 hosts for 4094 addresses fill the pool");
    assert.equal(new Set(byHost.values()).size, byHost.size, "no address leased twice");
    assert.equal(table.size, table.capacity);
    const out = new Uint8Array(16);
    for (const [h, v4] of byHost) {
      assert.equal(table.v6For4(v4, out, 0, 7, 0), 1);
      assert.deepEqual(out, hostBytes(h));
    }
  } finally {
    worker.terminate();
  }
});
