import assert from "node:assert/strict";
import { formatIpv4 } from "../../lib/addr/ipv4.ts";
import { formatIpv6 } from "../../lib/addr/ipv6.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  LeaseTable,
  MAP_EXHAUSTED,
  MAP_NONE,
} from "../../lib/lease/table.ts";
import { host, hostBytes, ip4, ip6, options, to4, to6 } from "./helpers.ts";

const ALLOC = LEASE_ALLOCATE | LEASE_REFRESH;

Deno.test("v4For6() hands out pool addresses first come first served, in config order across prefixes", () => {
  // The second prefix is numerically lower: config order, not numeric order, decides.
  const t = LeaseTable.create(options(["198.51.100.8/30", "192.0.2.0/31"], [], 3600));
  assert.equal(t.capacity, 4);
  assert.equal(to4(t, host(5), 100, ALLOC), "198.51.100.9");
  assert.equal(to4(t, host(1), 101, ALLOC), "198.51.100.10");
  assert.equal(to4(t, host(9), 102, ALLOC), "192.0.2.0");
  assert.equal(to4(t, host(2), 103, ALLOC), "192.0.2.1");
  assert.equal(to4(t, host(3), 104, ALLOC), MAP_EXHAUSTED);
  // Existing hosts keep their addresses.
  assert.equal(to4(t, host(5), 105, ALLOC), "198.51.100.9");
  assert.equal(to4(t, host(2), 105, ALLOC), "192.0.2.1");
  assert.equal(t.size, 4);
});

Deno.test("pool skips network and broadcast of a /24 but uses every address of a /31 and a /32", () => {
  const t = LeaseTable.create(
    options(["192.0.2.0/24", "198.51.100.6/31", "203.0.113.9/32"], [], 60),
  );
  assert.equal(t.capacity, 254 + 2 + 1);
  const got: string[] = [];
  for (let i = 0; i < 257; i++) got.push(String(to4(t, host(i), 0, ALLOC)));
  assert.equal(got[0], "192.0.2.1");
  assert.equal(got[253], "192.0.2.254");
  assert.deepEqual(got.slice(254), ["198.51.100.6", "198.51.100.7", "203.0.113.9"]);
  assert.ok(!got.includes("192.0.2.0") && !got.includes("192.0.2.255"));
  assert.equal(to4(t, host(999), 0, ALLOC), MAP_EXHAUSTED);
  assert.equal(t.owns4(ip4("192.0.2.0")), false);
  assert.equal(t.owns4(ip4("192.0.2.255")), false);
  assert.equal(t.owns4(ip4("198.51.100.6")), true);
  assert.equal(t.owns4(ip4("203.0.113.9")), true);
  assert.equal(t.owns4(ip4("203.0.113.10")), false);
});

Deno.test("static-mapped addresses inside the pool are never leased", () => {
  const t = LeaseTable.create(
    options(
      ["192.0.2.0/29"],
      [["192.0.2.1", "2001:db8::100"], ["192.0.2.4/31", "2001:db8:ff::/127"]],
      60,
    ),
  );
  assert.equal(t.capacity, 6 - 3);
  assert.equal(to4(t, host(1), 0, ALLOC), "192.0.2.2");
  assert.equal(to4(t, host(2), 0, ALLOC), "192.0.2.3");
  assert.equal(to4(t, host(3), 0, ALLOC), "192.0.2.6");
  assert.equal(to4(t, host(4), 0, ALLOC), MAP_EXHAUSTED);
  // The static hosts still map, without taking leases.
  assert.equal(to4(t, "2001:db8::100", 0, ALLOC), "192.0.2.1");
  assert.equal(to4(t, "2001:db8:ff::1", 0, ALLOC), "192.0.2.5");
  assert.equal(to6(t, "192.0.2.4", 0, 0), "2001:db8:ff::");
  assert.equal(t.size, 3);
  assert.equal(t.owns4(ip4("192.0.2.1")), true);
});

Deno.test("a host with a static map never gets a dynamic lease, and static maps never expire", () => {
  const t = LeaseTable.create(
    options(
      ["192.0.2.0/24"],
      [["198.51.100.7", "2001:db8::7"], ["10.0.0.0/8", "2001:db8:a::/104"]],
      10,
    ),
  );
  assert.equal(to4(t, "2001:db8::7", 0, ALLOC), "198.51.100.7");
  assert.equal(to4(t, "2001:db8:a::1:203", 0, ALLOC), "10.1.2.3");
  assert.equal(t.size, 0);
  assert.equal(to4(t, "2001:db8::7", 1e6, 0), "198.51.100.7");
  assert.equal(to6(t, "198.51.100.7", 1e6, 0), "2001:db8::7");
  assert.equal(to6(t, "10.9.8.7", 1e6, 0), "2001:db8:a::9:807");
  assert.equal(t.sweep(1e6), 0);
  assert.equal(t.owns4(ip4("10.200.0.1")), true);
  assert.equal(t.staticV4For6(ip6("2001:db8:a::ff:ffff"), 0), ip4("10.255.255.255"));
  assert.equal(t.staticV4For6(ip6("2001:db8::8"), 0), MAP_NONE);
  const out = new Uint8Array(16);
  assert.equal(t.staticV6For4(ip4("198.51.100.7"), out, 0), 1);
  assert.equal(formatIpv6(out), "2001:db8::7");
  assert.equal(t.staticV6For4(ip4("192.0.2.1"), out, 0), 0);
});

Deno.test("staticV4For6() and staticV6For4() ignore dynamic leases", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 10));
  assert.equal(to4(t, host(1), 0, ALLOC), "192.0.2.1");
  assert.equal(t.staticV4For6(hostBytes(1), 0), MAP_NONE);
  assert.equal(t.staticV6For4(ip4("192.0.2.1"), new Uint8Array(16), 0), 0);
});

Deno.test("a lease expires at exactly reservationSecs + 1 idle seconds, in both lookups, before any sweep", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  assert.equal(to4(t, host(1), 1000, ALLOC), "192.0.2.1");
  assert.equal(to4(t, host(1), 1100, 0), "192.0.2.1");
  assert.equal(to6(t, "192.0.2.1", 1100, 0), host(1));
  assert.equal(to4(t, host(1), 1101, 0), MAP_NONE);
  assert.equal(to4(t, host(1), 1101, LEASE_REFRESH), MAP_NONE);
  assert.equal(to6(t, "192.0.2.1", 1101, LEASE_REFRESH), null);
  assert.equal(t.size, 1, "not reclaimed until a sweep");
  assert.deepEqual(t.snapshot(1101), []);
  assert.equal(t.sweep(1100), 0);
  assert.equal(t.sweep(1101), 1);
  assert.equal(t.size, 0);
  const ev = t.drainEvents();
  assert.deepEqual(ev.map((e) => [e.kind, formatIpv4(e.v4), formatIpv6(e.v6), e.atSecs]), [
    ["created", "192.0.2.1", host(1), 1000],
    ["expired", "192.0.2.1", host(1), 1101],
  ]);
});

Deno.test("fractional seconds are truncated to whole seconds", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 10));
  assert.equal(to4(t, host(1), 5.9, ALLOC), "192.0.2.1");
  assert.equal(to4(t, host(1), 15.99, 0), "192.0.2.1");
  assert.equal(to4(t, host(1), 16.01, 0), MAP_NONE);
});

Deno.test("traffic in either direction with LEASE_REFRESH keeps a lease alive; without it the lease ages", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  assert.equal(to4(t, host(1), 0, ALLOC), "192.0.2.1");
  assert.equal(to6(t, "192.0.2.1", 90, LEASE_REFRESH), host(1)); // inbound refresh
  assert.equal(to4(t, host(1), 180, LEASE_REFRESH), "192.0.2.1"); // outbound refresh
  assert.equal(to6(t, "192.0.2.1", 250, 0), host(1)); // lookups without the flag...
  assert.equal(to4(t, host(1), 270, LEASE_ALLOCATE), "192.0.2.1"); // ...do not refresh
  assert.equal(to4(t, host(1), 280, 0), "192.0.2.1");
  assert.equal(to4(t, host(1), 281, 0), MAP_NONE);
  assert.deepEqual(t.drainEvents().map((e) => e.kind), ["created"]);
});

Deno.test("a refresh with an older timestamp does not move last-seen backwards", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  to4(t, host(1), 500, ALLOC);
  assert.equal(to4(t, host(1), 400, LEASE_REFRESH), "192.0.2.1");
  assert.equal(to6(t, "192.0.2.1", 300, LEASE_REFRESH), host(1));
  assert.equal(to4(t, host(1), 600, 0), "192.0.2.1");
  assert.equal(to4(t, host(1), 601, 0), MAP_NONE);
});

Deno.test("a new host gets the lowest expired address without a sweep; the old host starts over", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  assert.equal(to4(t, host(1), 0, ALLOC), "192.0.2.1");
  assert.equal(to4(t, host(2), 50, ALLOC), "192.0.2.2");
  assert.equal(to4(t, host(3), 101, ALLOC), "192.0.2.1"); // host 1 expired at 101
  assert.equal(to6(t, "192.0.2.1", 101, 0), host(3));
  assert.equal(to4(t, host(1), 101, 0), MAP_NONE);
  assert.equal(to4(t, host(1), 102, ALLOC), "192.0.2.3");
  assert.equal(to4(t, host(2), 150, 0), "192.0.2.2");
  assert.deepEqual(
    t.drainEvents().map((e) => `${e.kind} ${formatIpv4(e.v4)} ${formatIpv6(e.v6)} @${e.atSecs}`),
    [
      `created 192.0.2.1 ${host(1)} @0`,
      `created 192.0.2.2 ${host(2)} @50`,
      `expired 192.0.2.1 ${host(1)} @101`,
      `created 192.0.2.1 ${host(3)} @101`,
      `created 192.0.2.3 ${host(1)} @102`,
    ],
  );
});

Deno.test("a returning host whose own lease expired gets the first free address again", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  assert.equal(to4(t, host(1), 0, ALLOC), "192.0.2.1");
  assert.equal(to4(t, host(2), 0, ALLOC), "192.0.2.2");
  assert.equal(to4(t, host(2), 200, ALLOC), "192.0.2.1"); // both expired; .1 is first free
  assert.equal(to4(t, host(1), 200, ALLOC), "192.0.2.2");
  assert.equal(t.size, 2);
});

Deno.test("an exhausted pool returns MAP_EXHAUSTED, records 'refused', and recovers when a lease expires", () => {
  const t = LeaseTable.create(options(["192.0.2.0/31"], [], 100));
  assert.equal(to4(t, host(1), 0, ALLOC), "192.0.2.0");
  assert.equal(to4(t, host(2), 10, ALLOC), "192.0.2.1");
  assert.equal(to4(t, host(3), 20, ALLOC), MAP_EXHAUSTED);
  assert.equal(to4(t, host(3), 20, LEASE_REFRESH), MAP_NONE, "no allocation without the flag");
  assert.equal(to4(t, host(3), 100, ALLOC), MAP_EXHAUSTED);
  const ev = t.drainEvents();
  // The two refusals of host 3 in a row share one record.
  assert.deepEqual(ev.map((e) => [e.kind, e.count]), [
    ["created", 1],
    ["created", 1],
    ["refused", 2],
  ]);
  assert.equal(ev[2]!.v4, -1);
  assert.equal(formatIpv6(ev[2]!.v6), host(3));
  assert.equal(ev[2]!.atSecs, 20, "the time of the first refusal");
  assert.equal(to4(t, host(3), 101, ALLOC), "192.0.2.0");
  assert.equal(to4(t, host(4), 101, ALLOC), MAP_EXHAUSTED);
});

Deno.test("an empty pool maps only static hosts", () => {
  const t = LeaseTable.create(options([], [["192.0.2.1", "2001:db8::1"]], 100));
  assert.equal(t.capacity, 0);
  assert.equal(to4(t, "2001:db8::1", 0, ALLOC), "192.0.2.1");
  assert.equal(to4(t, host(1), 0, ALLOC), MAP_EXHAUSTED);
  assert.equal(to6(t, "192.0.2.2", 0, 0), null);
});

Deno.test("a /16 pool leases 65,534 distinct addresses to 65,534 hosts, then refuses", () => {
  const t = LeaseTable.create(options(["10.7.0.0/16"], [], 3600));
  assert.equal(t.capacity, 65534);
  const seen = new Set<number>();
  const buf = new Uint8Array(16);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, 0x20010db8);
  for (let i = 0; i < 65534; i++) {
    dv.setUint32(12, i);
    const v4 = t.v4For6(buf, 0, 1000, ALLOC);
    assert.ok(v4 >= ip4("10.7.0.1") && v4 <= ip4("10.7.255.254"), `host ${i} got ${v4}`);
    seen.add(v4);
  }
  assert.equal(seen.size, 65534);
  assert.equal(t.size, 65534);
  dv.setUint32(12, 65534);
  assert.equal(t.v4For6(buf, 0, 1000, ALLOC), MAP_EXHAUSTED);
  // Every host still finds its own address, and every address its host.
  const out = new Uint8Array(16);
  for (let i = 0; i < 65534; i += 997) {
    dv.setUint32(12, i);
    const v4 = t.v4For6(buf, 0, 1001, 0);
    assert.equal(t.v6For4(v4, out, 0, 1001, 0), 1);
    assert.deepEqual(out, buf);
  }
  // The default ring has room for an event per pool address: nothing is lost, undrained; the
  // refusal is not recorded in a ring more than half full (counted instead).
  assert.equal(t.eventsLost, 0);
  assert.equal(t.refusalsUnrecorded, 1);
  const ev = t.drainEvents();
  assert.equal(ev.length, 65534);
  assert.equal(ev.at(-1)!.kind, "created");
});

Deno.test("the default event ring holds an event per pool address, 1024 to 65536 records", () => {
  const fill = (pool: string, n: number) => {
    const t = LeaseTable.create(options([pool], [], 10));
    for (let i = 0; i < n; i++) to4(t, host(i), 0, ALLOC);
    return t;
  };
  const small = fill("192.0.2.0/28", 14);
  small.sweep(11); // 14 expired
  assert.equal(small.drainEvents().length, 28);
  const mid = fill("10.64.0.0/20", 4094);
  assert.equal(mid.sweep(11), 4094, "every lease expires in one sweep");
  assert.equal(mid.eventsLost, 4094 - 2, "a 4096-record ring, undrained");
  const fresh = fill("10.64.0.0/20", 4094);
  fresh.drainEvents(); // what the daemon does right before it sweeps
  fresh.sweep(11);
  assert.equal(fresh.eventsLost, 0);
  assert.equal(fresh.drainEvents().length, 4094);
});

Deno.test("the event ring overwrites the oldest records, counts them lost, and drains in order", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100, 4));
  for (let i = 0; i < 10; i++) to4(t, host(i), i, ALLOC);
  assert.equal(t.eventsLost, 6);
  assert.deepEqual(t.drainEvents(2).map((e) => [e.kind, e.atSecs]), [["created", 6], [
    "created",
    7,
  ]]);
  assert.deepEqual(t.drainEvents().map((e) => e.atSecs), [8, 9]);
  assert.deepEqual(t.drainEvents(), []);
  to4(t, host(10), 10, ALLOC);
  assert.deepEqual(t.drainEvents().map((e) => [e.kind, e.atSecs]), [["created", 10]]);
  assert.equal(t.eventsLost, 6);
});

Deno.test("refusals never push lease events out: one record per host in a row, none past half full", () => {
  const t = LeaseTable.create(options(["192.0.2.0/32"], [], 100, 8));
  to4(t, host(1), 0, ALLOC);
  for (let i = 0; i < 50; i++) to4(t, host(2), 1, ALLOC); // one host refused 50 times
  to4(t, host(3), 2, ALLOC);
  to4(t, host(2), 3, ALLOC); // host 2 again, after host 3: a record of its own
  for (let h = 4; h < 20; h++) to4(t, host(h), 4, ALLOC); // 16 more hosts; ring half full
  assert.equal(t.eventsLost, 0);
  assert.equal(t.refusalsUnrecorded, 16);
  assert.deepEqual(
    t.drainEvents().map((e) => `${e.kind} ${formatIpv6(e.v6)} x${e.count}`),
    [
      `created ${host(1)} x1`,
      `refused ${host(2)} x50`,
      `refused ${host(3)} x1`,
      `refused ${host(2)} x1`,
    ],
  );
  // A lease event still fits after refusals filled half the ring.
  for (let h = 20; h < 30; h++) to4(t, host(h), 5, ALLOC);
  t.sweep(200);
  assert.equal(t.eventsLost, 0);
  assert.deepEqual(t.drainEvents().map((e) => e.kind), [
    "refused",
    "refused",
    "refused",
    "refused",
    "expired",
  ]);
});

Deno.test("the event signal moves when the ring reaches half full, and waitForEvents() wakes", async () => {
  // A pending Atomics.waitAsync does not keep Deno's event loop running (the daemon's timers
  // do); this timer stands in for them.
  const keepAlive = setInterval(() => {}, 10);
  try {
    await signalScenario();
  } finally {
    clearInterval(keepAlive);
  }
});

async function signalScenario(): Promise<void> {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100, 8));
  const seen = t.eventSignal;
  const woke = t.waitForEvents(seen);
  for (let i = 0; i < 3; i++) to4(t, host(i), 0, ALLOC);
  assert.equal(t.eventSignal, seen, "3 of 8: below half");
  to4(t, host(3), 0, ALLOC);
  assert.equal(t.eventSignal, seen + 1, "4 of 8: half full");
  await woke;
  for (let i = 4; i < 12; i++) to4(t, host(i), 0, ALLOC);
  assert.equal(t.eventSignal, seen + 1, "fuller, but half was crossed once");
  t.drainEvents();
  for (let i = 12; i < 16; i++) to4(t, host(i), 0, ALLOC);
  assert.equal(t.eventSignal, seen + 2, "drained, then half full again");
  // Already moved: resolves at once. wakeEventWaiters() wakes a waiter too.
  await t.waitForEvents(seen);
  const waiting = t.waitForEvents(t.eventSignal);
  t.wakeEventWaiters();
  await waiting;
}

Deno.test("sweep() frees only expired leases and reports each as 'expired'", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 10));
  for (let i = 0; i < 6; i++) to4(t, host(i), 0, ALLOC);
  for (let i = 3; i < 6; i++) to4(t, host(i), 10, LEASE_REFRESH);
  t.drainEvents();
  assert.equal(t.sweep(10), 0);
  assert.equal(t.sweep(11), 3); // idle 11 > 10 for hosts 0..2
  assert.equal(t.size, 3);
  assert.deepEqual(t.drainEvents().map((e) => `${e.kind} ${formatIpv4(e.v4)}`), [
    "expired 192.0.2.1",
    "expired 192.0.2.2",
    "expired 192.0.2.3",
  ]);
  assert.deepEqual(t.snapshot(11).map((r) => r.v4), ["192.0.2.4", "192.0.2.5", "192.0.2.6"]);
  for (let i = 3; i < 6; i++) assert.equal(to4(t, host(i), 11, 0), `192.0.2.${i + 1}`);
  assert.equal(t.sweep(11), 0);
  assert.equal(to4(t, host(7), 11, ALLOC), "192.0.2.1");
});

Deno.test("attach() gives a second view of the same leases in both directions", () => {
  const opts = options(["192.0.2.0/24"], [["198.51.100.1", "2001:db8::1"]], 100, 16);
  const a = LeaseTable.create(opts);
  const b = LeaseTable.attach(a.buffer, opts);
  assert.equal(b.buffer, a.buffer);
  assert.equal(to4(a, host(1), 0, ALLOC), "192.0.2.1");
  assert.equal(to4(b, host(1), 0, 0), "192.0.2.1");
  assert.equal(to4(b, host(2), 5, ALLOC), "192.0.2.2");
  assert.equal(to6(a, "192.0.2.2", 5, 0), host(2));
  assert.equal(to4(b, "2001:db8::1", 5, 0), "198.51.100.1");
  assert.equal(to6(b, "192.0.2.1", 90, LEASE_REFRESH), host(1)); // refresh through b...
  assert.equal(to4(a, host(1), 150, 0), "192.0.2.1"); // ...seen by a
  assert.equal(a.size, 2);
  assert.equal(b.size, 2);
  assert.deepEqual(a.drainEvents().map((e) => e.kind), ["created", "created"]);
  assert.deepEqual(b.drainEvents(), [], "one shared ring");
});

Deno.test("attach() refuses a buffer made with other options", () => {
  const opts = options(["192.0.2.0/24"], [], 100);
  const a = LeaseTable.create(opts);
  assert.throws(() => LeaseTable.attach(a.buffer, options(["192.0.2.0/23"], [], 100)), RangeError);
  assert.throws(() => LeaseTable.attach(a.buffer, options(["192.0.2.0/24"], [], 101)), RangeError);
  assert.throws(
    () => LeaseTable.attach(new SharedArrayBuffer(a.buffer.byteLength), opts),
    /not created by LeaseTable.create/,
  );
});

Deno.test("create() rejects overlapping pools, huge pools and bad numbers", () => {
  assert.throws(
    () => LeaseTable.create(options(["192.0.2.0/24", "192.0.2.128/25"], [], 1)),
    /overlaps/,
  );
  assert.throws(() => LeaseTable.create(options(["10.0.0.0/8"], [], 1)), /more than/);
  assert.throws(() => LeaseTable.create(options(["192.0.2.0/24"], [], -1)), /reservationSecs/);
  assert.throws(() => LeaseTable.create(options(["192.0.2.0/24"], [], 1.5)), /reservationSecs/);
  assert.throws(() => LeaseTable.create(options(["192.0.2.0/24"], [], 1, 0)), /eventRingSize/);
  assert.throws(
    () =>
      LeaseTable.create({
        pool: [{ addr: ip4("192.0.2.1"), len: 24 }],
        staticMaps: [],
        reservationSecs: 1,
      }),
    /host bits/,
  );
  assert.throws(
    () => LeaseTable.create(options(["192.0.2.0/24"], [["192.0.2.0/24", "2001:db8::/121"]], 1)),
    /RFC 7757/,
  );
});

Deno.test("hot-path lookups on garbage input return no mapping instead of throwing", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  const short = new Uint8Array(3);
  assert.equal(t.v4For6(short, 0, 0, 0), MAP_NONE);
  assert.equal(t.v6For4(ip4("192.0.2.9"), short, 0, 0, 0), 0);
  assert.equal(t.v6For4(-5, short, 0, 0, 0), 0);
  assert.equal(t.owns4(2 ** 40), false);
});
