import assert from "node:assert/strict";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  LeaseTable,
  MAP_EXHAUSTED,
  MAP_NONE,
  MAP_PREFIX_LIMIT,
} from "../../lib/lease/table.ts";
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

/** Sources all four Workers allocate in the race test, and sources each has of its own. */
const SHARED = 12_000;
const OWN = 1000;

/**
 * Starts one fixture Worker per host list on `table`, releases them together through one gate
 * (as packet Workers of several TUN queues meet new sources at once) and returns, per Worker,
 * the address each of its hosts got, in its list's order.
 */
async function race(
  table: LeaseTable,
  opts: ReturnType<typeof options>,
  lists: number[][],
): Promise<number[][]> {
  const gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const workers = lists.map(() => new Worker(FIXTURE.href, { type: "module" }));
  try {
    const readies: Promise<void>[] = [];
    const results = workers.map((w, k) => {
      let ready!: () => void;
      readies.push(new Promise<void>((resolve) => ready = resolve));
      const done = new Promise<number[]>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<number[] | "ready">) => {
          if (e.data === "ready") ready();
          else resolve(e.data);
        };
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
      });
      w.postMessage({ sab: table.buffer, gate, opts, from: 0, count: 0, now: 7, hosts: lists[k] });
      return done;
    });
    await Promise.all(readies);
    Atomics.store(g, 1, 1);
    Atomics.notify(g, 1);
    return await Promise.all(results);
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** Checks that every host has one address whoever asked, and no address has two hosts. */
function assertUnique(lists: number[][], got: number[][]): Map<number, number> {
  const byHost = new Map<number, number>();
  const byAddr = new Map<number, number>();
  lists.forEach((hosts, k) =>
    hosts.forEach((h, i) => {
      const v4 = got[k]![i]!;
      if (v4 === MAP_EXHAUSTED) return;
      assert.ok(v4 >= 0, `host ${h}: ${v4}`);
      const prev = byHost.get(h);
      assert.ok(prev === undefined || prev === v4, `host ${h} got ${prev} and ${v4}`);
      byHost.set(h, v4);
      const owner = byAddr.get(v4);
      assert.ok(owner === undefined || owner === h, `${v4} leased to ${owner} and ${h}`);
      byAddr.set(v4, h);
    })
  );
  return byHost;
}

Deno.test({
  name:
    "four Workers racing (as four TUN queues) for the same and different sources: one address per host, one host per address",
  ignore: !canRead,
}, async () => {
  const opts = options(["10.30.0.0/17"], [], 3600, 8);
  const table = LeaseTable.create(opts);
  const shared = Array.from({ length: SHARED }, (_, i) => i);
  // Each Worker meets the shared sources in another order (forward, backward, rotated) and
  // OWN sources of its own, before or after them.
  const lists = [0, 1, 2, 3].map((k) => {
    const order = k === 1
      ? [...shared].reverse()
      : [...shared.slice(k * (SHARED / 4)), ...shared.slice(0, k * (SHARED / 4))];
    const own = Array.from({ length: OWN }, (_, i) => 100_000 + k * OWN + i);
    return k % 2 === 0 ? [...order, ...own] : [...own, ...order];
  });
  const got = await race(table, opts, lists);
  const byHost = assertUnique(lists, got);
  assert.equal(byHost.size, SHARED + 4 * OWN, "every source got an address (the pool has 32766)");
  assert.ok(got.every((g) => g.every((v4) => v4 !== MAP_EXHAUSTED)));
  assert.equal(table.size, SHARED + 4 * OWN);
  const out = new Uint8Array(16);
  for (const [h, v4] of byHost) {
    assert.equal(table.v6For4(v4, out, 0, 7, 0), 1);
    assert.deepEqual(out, hostBytes(h));
  }
});

Deno.test({
  name:
    "four Workers racing for more sources than the pool holds fill it exactly, without a duplicate",
  ignore: !canRead,
}, async () => {
  const opts = options(["10.40.0.0/24"], [], 3600, 8);
  const table = LeaseTable.create(opts);
  // 4 x 200 sources of their own plus 100 shared: 900 sources for 254 addresses.
  const lists = [0, 1, 2, 3].map((k) => [
    ...Array.from({ length: 100 }, (_, i) => (k % 2 === 0 ? i : 99 - i)),
    ...Array.from({ length: 200 }, (_, i) => 1000 + k * 200 + i),
  ]);
  const got = await race(table, opts, lists);
  const byHost = assertUnique(lists, got);
  assert.equal(byHost.size, table.capacity);
  assert.equal(table.size, table.capacity);
  assert.equal(new Set(byHost.values()).size, table.capacity, "every pool address used once");
});

Deno.test({
  name:
    "four Workers racing new sources of one /64 under MaxLeasesPerPrefix = 100 grant exactly 100 leases",
  ignore: !canRead,
}, async () => {
  // hostBytes() numbers hosts inside 2001:db8:1::/64: all 2,000 sources share one prefix.
  const opts = {
    ...options(["10.50.0.0/20"], [], 3600, 8),
    limits: {
      allowedSources: null,
      maxLeasesPerPrefix: 100,
      leasePrefixLength: 64,
      maxNewLeasesPerSecond: 0,
    },
  };
  const table = LeaseTable.create(opts);
  const lists = [0, 1, 2, 3].map((k) => Array.from({ length: 500 }, (_, i) => k * 500 + i));
  const got = await race(table, opts, lists);
  const granted = got.flat().filter((v4) => v4 < MAP_NONE);
  const refused = got.flat().filter((v4) => v4 === MAP_PREFIX_LIMIT);
  assert.equal(granted.length, 100, "exactly the limit, whichever Worker asked");
  assert.equal(refused.length, 1900);
  assert.equal(new Set(granted).size, 100, "no address twice");
  assert.equal(table.size, 100);
  assert.equal(table.leasesInPrefix(hostBytes(0)), 100);
});
