import assert from "node:assert/strict";
import { formatIpv4 } from "../../lib/addr/ipv4.ts";
import { formatIpv6 } from "../../lib/addr/ipv6.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  type LeaseRecord,
  LeaseTable,
  MAP_NONE,
  RESTORE_FUTURE_SLACK_SECS,
} from "../../lib/lease/table.ts";
import { host, options, to4, to6 } from "./helpers.ts";

const ALLOC = LEASE_ALLOCATE | LEASE_REFRESH;

Deno.test("snapshot() lists live leases in pool order with last-seen; restore() into a new table reproduces them", () => {
  const opts = options(["192.0.2.0/24", "198.51.100.0/31"], [], 100);
  const a = LeaseTable.create(opts);
  for (let i = 0; i < 256; i++) to4(a, host(i), 1000 + (i % 7), ALLOC);
  to4(a, host(3), 1050, LEASE_REFRESH);
  const snap = a.snapshot(1060);
  assert.equal(snap.length, 256);
  assert.deepEqual(snap[0], { v4: "192.0.2.1", v6: host(0), lastSeenSecs: 1000 });
  assert.deepEqual(snap[3], { v4: "192.0.2.4", v6: host(3), lastSeenSecs: 1050 });
  assert.deepEqual(snap[255], {
    v4: "198.51.100.1",
    v6: host(255),
    lastSeenSecs: 1000 + (255 % 7),
  });

  const b = LeaseTable.create(opts);
  const r = b.restore(snap, 1060);
  assert.deepEqual(r, { restored: 256, dropped: [] });
  assert.deepEqual(b.snapshot(1060), snap);
  assert.equal(b.size, 256);
  assert.equal(to4(b, host(3), 1150, 0), "192.0.2.4");
  assert.equal(to4(b, host(0), 1101, 0), MAP_NONE, "kept its old last-seen, so expires on time");
  assert.equal(to6(b, "198.51.100.1", 1060, 0), host(255));
  const ev = b.drainEvents();
  assert.equal(ev.length, 256);
  assert.ok(ev.every((e) => e.kind === "restored" && e.atSecs === 1060));
  assert.equal(formatIpv4(ev[1]!.v4), "192.0.2.2");
  assert.equal(formatIpv6(ev[1]!.v6), host(1));
});

Deno.test("after restore() new hosts still get the first free address", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  t.restore([
    { v4: "192.0.2.1", v6: host(1), lastSeenSecs: 10 },
    { v4: "192.0.2.3", v6: host(3), lastSeenSecs: 10 },
  ], 10);
  assert.equal(to4(t, host(9), 10, ALLOC), "192.0.2.2");
  assert.equal(to4(t, host(8), 10, ALLOC), "192.0.2.4");
  assert.equal(to4(t, host(1), 10, ALLOC), "192.0.2.1");
});

Deno.test("restore() drops each bad record with its reason and keeps the good ones", () => {
  const t = LeaseTable.create(
    options(["192.0.2.0/24"], [["192.0.2.200", "2001:db8::200"], [
      "198.51.100.0/24",
      "2001:db8:5::/120",
    ]], 100),
  );
  const now = 10_000;
  const good = { v4: "192.0.2.7", v6: host(7), lastSeenSecs: now - 100 };
  const cases: [unknown, string][] = [
    [{ v4: "192.0.2.300", v6: host(1), lastSeenSecs: now }, "unparsable"],
    [{ v4: "192.0.2.1", v6: "2001:db8::g", lastSeenSecs: now }, "unparsable"],
    [{ v4: "192.0.2.1", v6: host(1), lastSeenSecs: "now" }, "unparsable"],
    [{ v4: "192.0.2.1", v6: host(1), lastSeenSecs: NaN }, "unparsable"],
    [{ v4: "192.0.2.1", v6: host(1), lastSeenSecs: -1 }, "unparsable"],
    [{ v4: "192.0.2.1", v6: host(1) }, "unparsable"],
    [null, "unparsable"],
    [{ v4: "192.0.2.200", v6: host(1), lastSeenSecs: now }, "static conflict"],
    [{ v4: "192.0.2.1", v6: "2001:db8::200", lastSeenSecs: now }, "static conflict"],
    [{ v4: "192.0.2.1", v6: "2001:db8:5::9", lastSeenSecs: now }, "static conflict"],
    [{ v4: "198.51.100.9", v6: host(1), lastSeenSecs: now }, "static conflict"],
    [{ v4: "203.0.113.1", v6: host(1), lastSeenSecs: now }, "outside pool"],
    [{ v4: "192.0.2.0", v6: host(1), lastSeenSecs: now }, "outside pool"],
    [{ v4: "192.0.2.255", v6: host(1), lastSeenSecs: now }, "outside pool"],
    [{ v4: "192.0.2.1", v6: host(1), lastSeenSecs: now - 101 }, "expired"],
    [
      { v4: "192.0.2.1", v6: host(1), lastSeenSecs: now + RESTORE_FUTURE_SLACK_SECS + 1 },
      "future-dated",
    ],
    [{ v4: "192.0.2.1", v6: host(1), lastSeenSecs: 2 ** 40 }, "future-dated"],
    [good, "restored"],
    [{ v4: "192.0.2.7", v6: host(8), lastSeenSecs: now }, "duplicate v4"],
    [{ v4: "192.0.2.8", v6: host(7), lastSeenSecs: now }, "duplicate v6"],
    [{ v4: "192.0.2.9", v6: host(9), lastSeenSecs: now + RESTORE_FUTURE_SLACK_SECS }, "restored"],
  ];
  const r = t.restore(cases.map(([rec]) => rec as LeaseRecord), now);
  assert.equal(r.restored, 2);
  const expectedDrops = cases.filter(([, why]) => why !== "restored");
  assert.deepEqual(
    r.dropped.map((d) => d.reason),
    expectedDrops.map(([, why]) => why),
  );
  for (let i = 0; i < expectedDrops.length; i++) {
    assert.equal(r.dropped[i]!.record, expectedDrops[i]![0]);
  }
  assert.deepEqual(t.snapshot(now).map((x) => x.v4), ["192.0.2.7", "192.0.2.9"]);
  assert.equal(to6(t, "192.0.2.7", now, 0), host(7));
});

Deno.test("restore() replaces a lease that has expired in the table (same address or same host)", () => {
  const t = LeaseTable.create(options(["192.0.2.0/24"], [], 100));
  to4(t, host(1), 0, ALLOC); // 192.0.2.1, expired from 101
  to4(t, host(2), 0, ALLOC); // 192.0.2.2, expired from 101
  t.drainEvents();
  const r = t.restore([
    { v4: "192.0.2.1", v6: host(5), lastSeenSecs: 150 },
    { v4: "192.0.2.9", v6: host(2), lastSeenSecs: 150 },
  ], 200);
  assert.deepEqual(r, { restored: 2, dropped: [] });
  assert.equal(to6(t, "192.0.2.1", 200, 0), host(5));
  assert.equal(to4(t, host(2), 200, 0), "192.0.2.9");
  assert.equal(to6(t, "192.0.2.2", 200, 0), null);
  assert.equal(t.size, 2);
  assert.deepEqual(t.drainEvents().map((e) => `${e.kind} ${formatIpv4(e.v4)}`), [
    "expired 192.0.2.1",
    "restored 192.0.2.1",
    "expired 192.0.2.2",
    "restored 192.0.2.9",
  ]);
});

Deno.test("reconfigure() carries still-valid leases into a new table and lists the ones dropped", () => {
  const a = LeaseTable.create(options(["192.0.2.0/29", "198.51.100.0/30"], [], 100));
  for (let i = 1; i <= 8; i++) to4(a, host(i), 50, ALLOC); // .1-.6, then 198.51.100.1-.2
  const { table: b, restored, dropped } = a.reconfigure(
    options(["192.0.2.0/28"], [["192.0.2.3", "2001:db8::3"]], 300),
    120,
  );
  assert.equal(restored, 5);
  assert.deepEqual(dropped.map((d) => [d.record.v4, d.reason]), [
    ["192.0.2.3", "static conflict"],
    ["198.51.100.1", "outside pool"],
    ["198.51.100.2", "outside pool"],
  ]);
  assert.equal(b.capacity, 13);
  assert.equal(to4(b, host(1), 120, 0), "192.0.2.1");
  assert.equal(to4(b, host(3), 120, ALLOC), "192.0.2.7", "lost its address, gets the first free");
  assert.equal(to4(b, "2001:db8::3", 120, 0), "192.0.2.3");
  assert.equal(to4(b, host(1), 350, 0), "192.0.2.1", "new reservation time applies");
  assert.notEqual(b.buffer, a.buffer);
  assert.equal(to4(a, host(7), 120, 0), "198.51.100.1", "the old table is untouched");
});

Deno.test("reconfigure() drops leases that the new (shorter) reservation time has expired", () => {
  const a = LeaseTable.create(options(["192.0.2.0/24"], [], 1000));
  to4(a, host(1), 0, ALLOC);
  to4(a, host(2), 500, ALLOC);
  const { restored, dropped } = a.reconfigure(options(["192.0.2.0/24"], [], 100), 550);
  assert.equal(restored, 1);
  assert.deepEqual(dropped.map((d) => [d.record.v6, d.reason]), [[host(1), "expired"]]);
});
