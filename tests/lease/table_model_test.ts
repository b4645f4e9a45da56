/**
 * Random operation sequences against a plain reference model (a Map), to
 * check the shared-memory table, its IPv6 hash (backward-shift deletion) and
 * its free-slot bitmap under many inserts and expiries.
 */
import assert from "node:assert/strict";
import { formatIpv4 } from "../../lib/addr/ipv4.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  LeaseTable,
  MAP_EXHAUSTED,
  MAP_NONE,
} from "../../lib/lease/table.ts";
import { hostBytes, ip4, mulberry32, options } from "./helpers.ts";

interface ModelLease {
  addr: number;
  last: number;
}

/** The specification, written the slow and obvious way. */
class Model {
  leases = new Map<number, ModelLease>();
  constructor(readonly addrs: number[], readonly res: number) {}

  live(l: ModelLease | undefined, now: number): l is ModelLease {
    return l !== undefined && now - l.last <= this.res;
  }

  v4For6(h: number, now: number, flags: number): number {
    const l = this.leases.get(h);
    if (this.live(l, now)) {
      if ((flags & LEASE_REFRESH) !== 0 && now > l.last) l.last = now;
      return l.addr;
    }
    if ((flags & LEASE_ALLOCATE) === 0) return MAP_NONE;
    this.leases.delete(h);
    for (const addr of this.addrs) {
      let holder = -1;
      for (const [other, ol] of this.leases) if (ol.addr === addr) holder = other;
      if (holder !== -1 && this.live(this.leases.get(holder), now)) continue;
      if (holder !== -1) this.leases.delete(holder);
      this.leases.set(h, { addr, last: now });
      return addr;
    }
    return MAP_EXHAUSTED;
  }

  holder(addr: number, now: number): number {
    for (const [h, l] of this.leases) if (l.addr === addr && this.live(l, now)) return h;
    return -1;
  }

  v6For4(addr: number, now: number, flags: number): number {
    const h = this.holder(addr, now);
    const l = this.leases.get(h);
    if (h !== -1 && l && (flags & LEASE_REFRESH) !== 0 && now > l.last) l.last = now;
    return h;
  }

  sweep(now: number): void {
    for (const [h, l] of this.leases) if (!this.live(l, now)) this.leases.delete(h);
  }

  liveCount(now: number): number {
    let n = 0;
    for (const l of this.leases.values()) if (this.live(l, now)) n++;
    return n;
  }
}

function poolAddrs(first: string, count: number): number[] {
  const a = ip4(first);
  return Array.from({ length: count }, (_, i) => a + i);
}

function run(
  { seed, pool, addrs, hosts, res, ops, fullCheckEvery }: {
    seed: number;
    pool: string;
    addrs: number[];
    hosts: number;
    res: number;
    ops: number;
    fullCheckEvery: number;
  },
): void {
  const rnd = mulberry32(seed);
  const t = LeaseTable.create(options([pool], [], res, 64));
  const m = new Model(addrs, res);
  const hostBuf = Array.from({ length: hosts }, (_, i) => hostBytes(i));
  const hostOf = new Map(hostBuf.map((b, i) => [b.join(","), i]));
  const out = new Uint8Array(16);
  const six = (addr: number, now: number, flags: number): number =>
    t.v6For4(addr, out, 0, now, flags) === 0 ? -1 : hostOf.get(out.join(",")) ?? -2;
  let now = 1000;
  // The table returns int32 addresses; the model keeps uint32s.
  const four = (h: number, now: number, flags: number): number => {
    const r = t.v4For6(hostBuf[h]!, 0, now, flags);
    return r >= MAP_NONE ? r : r >>> 0;
  };
  const checkHost = (h: number, step: number) =>
    assert.equal(
      four(h, now, 0),
      m.v4For6(h, now, 0),
      `seed ${seed} step ${step} host ${h}`,
    );
  const checkAddr = (a: number, step: number) =>
    assert.equal(
      six(a, now, 0),
      m.v6For4(a, now, 0),
      `seed ${seed} step ${step} addr ${formatIpv4(a)}`,
    );

  for (let step = 0; step < ops; step++) {
    now += Math.floor(rnd() * 4);
    const h = Math.floor(rnd() * hosts);
    const a = addrs[Math.floor(rnd() * addrs.length)]!;
    const op = rnd();
    if (op < 0.6) {
      const flags = rnd() < 0.8 ? LEASE_ALLOCATE | LEASE_REFRESH : LEASE_ALLOCATE;
      assert.equal(four(h, now, flags), m.v4For6(h, now, flags), `step ${step}`);
    } else if (op < 0.7) {
      assert.equal(four(h, now, LEASE_REFRESH), m.v4For6(h, now, LEASE_REFRESH));
    } else if (op < 0.95) {
      assert.equal(six(a, now, LEASE_REFRESH), m.v6For4(a, now, LEASE_REFRESH), `step ${step}`);
    } else {
      t.sweep(now);
      m.sweep(now);
      assert.equal(t.size, m.liveCount(now), `seed ${seed} step ${step} size after sweep`);
    }
    checkHost(h, step);
    checkAddr(a, step);
    if (step % fullCheckEvery === 0) {
      for (let i = 0; i < hosts; i++) checkHost(i, step);
      for (const addr of addrs) checkAddr(addr, step);
      assert.deepEqual(
        t.snapshot(now).map((r) => r.v4),
        addrs.filter((x) => m.holder(x, now) !== -1).map(formatIpv4),
      );
    }
  }
}

for (const seed of [1, 2, 3, 0xdecafbad]) {
  Deno.test(`lease table matches a reference model under random allocate/refresh/expire/sweep (seed ${seed}, /26)`, () => {
    run({
      seed,
      pool: "192.0.2.64/26",
      addrs: poolAddrs("192.0.2.65", 62),
      hosts: 100,
      res: 15,
      ops: 4000,
      fullCheckEvery: 1,
    });
  });
}

Deno.test("lease table matches a reference model with a /22 pool and 3000 hosts (seed 7)", () => {
  run({
    seed: 7,
    pool: "198.18.0.0/22",
    addrs: poolAddrs("198.18.0.1", 1022),
    hosts: 3000,
    res: 40,
    ops: 6000,
    fullCheckEvery: 500,
  });
});

for (const seed of [11, 12, 13, 14, 15, 16]) {
  Deno.test(`lease table matches a reference model in a tiny, often wrapping hash (seed ${seed}, /29)`, () => {
    run({
      seed,
      pool: "203.0.113.8/29",
      addrs: poolAddrs("203.0.113.9", 6),
      hosts: 20,
      res: 6,
      ops: 3000,
      fullCheckEvery: 1,
    });
  });
}
