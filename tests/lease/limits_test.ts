/**
 * The abuse limits of the lease table (lib/lease/limits.ts): which sources may get a new
 * dynamic lease, how many per prefix, how many per second — and that the per-prefix counts
 * stay right across expiry, restore, reload and views of one table in several threads.
 */

import assert from "node:assert/strict";
import { parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  type LeaseLimitOptions,
  LeaseTable,
  type LeaseTableOptions,
  MAP_EXHAUSTED,
  MAP_PREFIX_LIMIT,
  MAP_RATE_LIMIT,
  MAP_SOURCE_NOT_ALLOWED,
} from "../../lib/lease/table.ts";
import { LeaseLimits, NO_LEASE_LIMITS, prefixCells } from "../../lib/lease/limits.ts";
import { Prng } from "../_util/prng.ts";
import { ip6, options, to4 } from "./helpers.ts";

const NEW = LEASE_ALLOCATE | LEASE_REFRESH;
const T0 = 1_000_000;

function withLimits(
  limits: Partial<LeaseLimitOptions>,
  pool = ["192.0.2.0/24"],
  statics: [string, string][] = [],
): LeaseTableOptions {
  return { ...options(pool, statics, 300), limits: { ...NO_LEASE_LIMITS, ...limits } };
}

function prefixes(...texts: string[]) {
  return texts.map((t) => {
    const p = parseIpv6Prefix(t);
    assert.ok(p, t);
    return p;
  });
}

Deno.test("AllowedSources: a source outside every listed prefix gets no lease; static maps are unaffected", () => {
  const t = LeaseTable.create(withLimits(
    { allowedSources: prefixes("2001:db8:a::/48", "2001:db8:b::7/128") },
    ["192.0.2.0/24"],
    [["192.0.2.200", "2001:db8:ff::1"]],
  ));
  assert.equal(to4(t, "2001:db8:a:1::1", T0, NEW), "192.0.2.1");
  assert.equal(to4(t, "2001:db8:b::7", T0, NEW), "192.0.2.2");
  assert.equal(to4(t, "2001:db8:b::8", T0, NEW), MAP_SOURCE_NOT_ALLOWED);
  assert.equal(to4(t, "2001:db8:c::1", T0, NEW), MAP_SOURCE_NOT_ALLOWED);
  assert.equal(to4(t, "2001:db8:ff::1", T0, NEW), "192.0.2.200", "a static map is not a lease");
  assert.equal(t.size, 2);
  const events = t.drainEvents();
  assert.deepEqual(
    events.map((e) => [e.kind, e.refusal ?? null]),
    [["created", null], ["created", null], ["refused", "source not allowed"], [
      "refused",
      "source not allowed",
    ]],
  );
});

Deno.test("AllowedSources = [] lets no source take a dynamic lease", () => {
  const t = LeaseTable.create(withLimits({ allowedSources: [] }));
  assert.equal(to4(t, "2001:db8::1", T0, NEW), MAP_SOURCE_NOT_ALLOWED);
});

Deno.test("MaxLeasesPerPrefix: the fifth host of a /64 is refused, other /64s and earlier hosts keep theirs", () => {
  const t = LeaseTable.create(withLimits({ maxLeasesPerPrefix: 4, leasePrefixLength: 64 }));
  for (let i = 1; i <= 4; i++) assert.equal(to4(t, `2001:db8:1::${i}`, T0, NEW), `192.0.2.${i}`);
  assert.equal(to4(t, "2001:db8:1::5", T0, NEW), MAP_PREFIX_LIMIT);
  assert.equal(to4(t, "2001:db8:1:0:ffff::5", T0, NEW), MAP_PREFIX_LIMIT, "same /64");
  assert.equal(to4(t, "2001:db8:1:1::5", T0, NEW), "192.0.2.5", "the next /64");
  // Existing leases are looked up, not counted again.
  for (let i = 1; i <= 4; i++) {
    assert.equal(to4(t, `2001:db8:1::${i}`, T0 + 1, NEW), `192.0.2.${i}`);
  }
  assert.equal(t.leasesInPrefix(ip6("2001:db8:1::99")), 4);
  assert.equal(t.leasesInPrefix(ip6("2001:db8:1:1::99")), 1);
  assert.equal(t.drainEvents().filter((e) => e.refusal === "prefix lease limit").length, 2);
});

Deno.test("MaxLeasesPerPrefix counts leases freed by the sweep and by allocation's own reclaim", () => {
  const t = LeaseTable.create(withLimits({ maxLeasesPerPrefix: 2, leasePrefixLength: 64 }));
  assert.equal(to4(t, "2001:db8:1::1", T0, NEW), "192.0.2.1");
  assert.equal(to4(t, "2001:db8:1::2", T0 + 100, NEW), "192.0.2.2");
  assert.equal(to4(t, "2001:db8:1::3", T0 + 100, NEW), MAP_PREFIX_LIMIT);
  // ::1 expires at T0 + 301; the allocating path reclaims it before checking the limit.
  assert.equal(to4(t, "2001:db8:1::3", T0 + 301, NEW), "192.0.2.1");
  assert.equal(t.leasesInPrefix(ip6("2001:db8:1::")), 2);
  t.sweep(T0 + 401 + 1);
  assert.equal(t.size, 1, "::2 swept");
  assert.equal(t.leasesInPrefix(ip6("2001:db8:1::")), 1);
  t.sweep(T0 + 2000);
  assert.equal(t.leasesInPrefix(ip6("2001:db8:1::")), 0);
  assert.equal(to4(t, "2001:db8:1::4", T0 + 2000, NEW), "192.0.2.1");
  assert.equal(to4(t, "2001:db8:1::5", T0 + 2000, NEW), "192.0.2.2");
  assert.equal(to4(t, "2001:db8:1::6", T0 + 2000, NEW), MAP_PREFIX_LIMIT);
});

Deno.test("MaxLeasesPerPrefix counts restored leases (lease file, reload), so a restart does not reset it", () => {
  const opts = withLimits({ maxLeasesPerPrefix: 2, leasePrefixLength: 48 });
  const t = LeaseTable.create(opts);
  assert.equal(to4(t, "2001:db8:1:1::1", T0, NEW), "192.0.2.1");
  assert.equal(to4(t, "2001:db8:1:2::1", T0, NEW), "192.0.2.2");
  const saved = t.snapshot(T0);
  const restarted = LeaseTable.create(opts);
  assert.equal(restarted.restore(saved, T0 + 5).restored, 2);
  assert.equal(restarted.leasesInPrefix(ip6("2001:db8:1::")), 2);
  assert.equal(to4(restarted, "2001:db8:1:3::1", T0 + 5, NEW), MAP_PREFIX_LIMIT);
  const { table: reloaded } = restarted.reconfigure(opts, T0 + 6);
  assert.equal(to4(reloaded, "2001:db8:1:3::1", T0 + 6, NEW), MAP_PREFIX_LIMIT);
  assert.equal(to4(reloaded, "2001:db8:2::1", T0 + 6, NEW), "192.0.2.3");
  // A reload that raises the limit lets the third one in.
  const raised = reloaded.reconfigure(
    withLimits({ maxLeasesPerPrefix: 3, leasePrefixLength: 48 }),
    T0 + 7,
  );
  assert.equal(to4(raised.table, "2001:db8:1:3::1", T0 + 7, NEW), "192.0.2.4");
});

Deno.test("MaxLeasesPerPrefix is one count for every view of the table (the packet Workers)", () => {
  const opts = withLimits({ maxLeasesPerPrefix: 3, leasePrefixLength: 64 });
  const a = LeaseTable.create(opts);
  const b = LeaseTable.attach(a.buffer, opts);
  assert.equal(to4(a, "2001:db8:1::1", T0, NEW), "192.0.2.1");
  assert.equal(to4(b, "2001:db8:1::2", T0, NEW), "192.0.2.2");
  assert.equal(to4(a, "2001:db8:1::3", T0, NEW), "192.0.2.3");
  assert.equal(to4(b, "2001:db8:1::4", T0, NEW), MAP_PREFIX_LIMIT);
  assert.equal(b.leasesInPrefix(ip6("2001:db8:1::")), 3);
  assert.throws(
    () => LeaseTable.attach(a.buffer, options(["192.0.2.0/24"], [], 300)),
    /these options need/,
    "a view without the limits does not fit the buffer",
  );
});

Deno.test("MaxLeasesPerPrefix: the counts match the leases held through random creation and expiry", () => {
  const prng = new Prng(9);
  const opts = withLimits({ maxLeasesPerPrefix: 3, leasePrefixLength: 64 }, ["10.0.0.0/22"]);
  const t = LeaseTable.create(opts);
  let now = T0;
  for (let step = 0; step < 20_000; step++) {
    now += prng.u32() % 3 === 0 ? 1 : 0;
    const net = prng.u32() % 64;
    const v6 = `2001:db8:${net.toString(16)}::${(prng.u32() % 8).toString(16)}`;
    to4(t, v6, now, NEW);
    if (step % 500 === 0) t.sweep(now);
  }
  const held = new Map<string, number>();
  for (const r of t.snapshot(now)) {
    const b = ip6(r.v6);
    const net = `2001:db8:${((b[4]! << 8) | b[5]!).toString(16)}`;
    held.set(net, (held.get(net) ?? 0) + 1);
  }
  t.sweep(now);
  for (let net = 0; net < 64; net++) {
    const p = `2001:db8:${net.toString(16)}`;
    const n = held.get(p) ?? 0;
    assert.ok(n <= 3, `${p}::/64 holds ${n}`);
    assert.equal(t.leasesInPrefix(ip6(`${p}::`)), n, `${p}::/64`);
  }
  t.sweep(now + 1000);
  for (let net = 0; net < 64; net++) {
    assert.equal(t.leasesInPrefix(ip6(`2001:db8:${net.toString(16)}::`)), 0);
  }
});

Deno.test("MaxNewLeasesPerSecond: a token bucket over all sources, refilled each second", () => {
  const t = LeaseTable.create(withLimits({ maxNewLeasesPerSecond: 3 }));
  for (let i = 1; i <= 3; i++) assert.equal(to4(t, `2001:db8::${i}`, T0, NEW), `192.0.2.${i}`);
  assert.equal(to4(t, "2001:db8::4", T0, NEW), MAP_RATE_LIMIT);
  assert.equal(to4(t, "2001:db8::1", T0, NEW), "192.0.2.1", "an existing lease costs no token");
  assert.equal(to4(t, "2001:db8::4", T0 + 1, NEW), "192.0.2.4", "one second later");
  assert.equal(to4(t, "2001:db8::5", T0 + 1, NEW), "192.0.2.5");
  assert.equal(to4(t, "2001:db8::6", T0 + 1, NEW), "192.0.2.6");
  assert.equal(to4(t, "2001:db8::7", T0 + 1, NEW), MAP_RATE_LIMIT);
  // The bucket holds at most a second's worth, however long it was idle.
  for (let i = 8; i <= 10; i++) {
    assert.notEqual(typeof to4(t, `2001:db8::${i}`, T0 + 60, NEW), "number");
  }
  assert.equal(to4(t, "2001:db8::b", T0 + 60, NEW), MAP_RATE_LIMIT);
  assert.equal(
    t.drainEvents().filter((e) => e.refusal === "lease rate limit").length,
    3,
  );
});

Deno.test("MaxNewLeasesPerSecond spends no token on a host refused because the pool is full", () => {
  const t = LeaseTable.create(withLimits({ maxNewLeasesPerSecond: 2 }, ["192.0.2.1/32"]));
  assert.equal(to4(t, "2001:db8::1", T0, NEW), "192.0.2.1");
  assert.equal(to4(t, "2001:db8::2", T0, NEW), MAP_EXHAUSTED);
  assert.equal(to4(t, "2001:db8::3", T0, NEW), MAP_EXHAUSTED, "still a token: the pool refuses");
  assert.deepEqual(t.drainEvents().map((e) => e.refusal ?? null), [
    null,
    "pool exhausted",
    "pool exhausted",
  ]);
});

Deno.test("LeaseTable.create() refuses limit options out of range", () => {
  assert.throws(() => LeaseTable.create(withLimits({ leasePrefixLength: 0 })), /leasePrefixLength/);
  assert.throws(
    () => LeaseTable.create(withLimits({ maxLeasesPerPrefix: -1 })),
    /maxLeasesPerPrefix/,
  );
  assert.throws(
    () => LeaseTable.create(withLimits({ maxNewLeasesPerSecond: 1.5 })),
    /maxNewLeasesPerSecond/,
  );
});

Deno.test("LeaseLimits: per-prefix counts match a model through random adds and removes in a crowded table", () => {
  // A 16-address pool: 32 hash cells and 16 entries, reused through the free stack.
  const opts: LeaseLimitOptions = { ...NO_LEASE_LIMITS, maxLeasesPerPrefix: 100 };
  const limits = new LeaseLimits(opts, new Int32Array(prefixCells(opts, 16)), new Int32Array(2));
  limits.clear();
  const rng = new Prng(7);
  const model = new Map<number, number>();
  // Prefixes differ in words 0 and 1 (above /64) and share a host part the /64 mask removes.
  const words = (p: number) => [0x20010db8 ^ (p >>> 3), (p * 0x9e3779b1) >>> 0, 0x1234, p];
  let removedToZero = 0;
  for (let step = 0; step < 20_000; step++) {
    const p = rng.below(24);
    const [w0, w1, w2, w3] = words(p);
    const n = model.get(p) ?? 0;
    const held = [...model.values()].reduce((a, b) => a + b, 0);
    if (n > 0 && (rng.below(2) === 0 || held >= 16)) {
      limits.leaseRemoved(w0!, w1!, w2!, w3!);
      if (n === 1) removedToZero++;
      if (n === 1) model.delete(p);
      else model.set(p, n - 1);
    } else if (held < 16) {
      limits.leaseAdded(w0!, w1!, w2!, w3!);
      model.set(p, n + 1);
    }
    const [c0, c1, c2, c3] = words(rng.below(24));
    const q = [...model.keys()].find((k) => words(k)[0] === c0 && words(k)[1] === c1);
    assert.equal(limits.leasesInPrefix(c0!, c1!, c2!, c3!), q === undefined ? 0 : model.get(q));
  }
  assert.ok(removedToZero > 1000, `entries freed and reused: ${removedToZero}`);
});
