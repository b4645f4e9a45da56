/**
 * The LeaseKeeper on real lease tables with a fake clock: what a reload keeps and drops, the
 * retired table merged at the next sweep, the save schedule and its back-off, events drained
 * from both tables into the counters and sinks, and the lossless ring's waits counted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatIpv6 } from "../../lib/addr/ipv6.ts";
import { LeaseKeeper } from "../../lib/daemon/lease_keeper.ts";
import type { RefusalLine } from "../../lib/daemon/refusal_log.ts";
import { type DaemonCounters, newDaemonCounters } from "../../lib/daemon/report.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  type LeaseEvent,
  LeaseTable,
  type LeaseTableOptions,
  MAP_EXHAUSTED,
} from "../../lib/lease/table.ts";
import { host, options, to4 } from "../lease/helpers.ts";

const ALLOC = LEASE_ALLOCATE | LEASE_REFRESH;
const T0_MS = 1_700_000_000_000;
const T0 = T0_MS / 1000;

/** A keeper over a fresh table, with a settable clock and everything it reports recorded. */
function setUp(opts: LeaseTableOptions) {
  const clock = { ms: T0_MS };
  const events: { kind: string; v6: string; v4: number }[] = [];
  const refusals: RefusalLine[] = [];
  const lost: [number, number][] = [];
  const counters: DaemonCounters = newDaemonCounters();
  const keeper = new LeaseKeeper({
    table: LeaseTable.create(opts),
    counters,
    nowMs: () => clock.ms,
    sinks: {
      leaseEvent: (ev: LeaseEvent) =>
        events.push({ kind: ev.kind, v6: formatIpv6(ev.v6), v4: ev.v4 }),
      refusal: (line) => refusals.push(line),
      eventsLost: (n, total) => lost.push([n, total]),
    },
  });
  return { clock, events, refusals, lost, counters, keeper };
}

const secs = (clock: { ms: number }) => Math.floor(clock.ms / 1000);

Deno.test("a reload keeps the leases the new pool holds, drops the others, and publishes before switching", () => {
  const k = setUp(options(["192.0.2.0/29"], [], 3600));
  const old = k.keeper.table;
  for (let i = 0; i < 6; i++) to4(old, host(i), T0, ALLOC); // 192.0.2.1 .. .6
  k.keeper.drain();
  assert.equal(k.counters.lease_created, 6);
  k.keeper.beginSave(); // nothing dirty from here
  assert.equal(k.keeper.scheduler.dirty, false);

  let published: LeaseTable | null = null;
  const result = k.keeper.reload(options(["192.0.2.0/30"], [], 3600), (r) => {
    assert.equal(k.keeper.table, old, "the Workers get the new table before the keeper switches");
    published = r.table;
  });
  assert.equal(published, result.table);
  assert.equal(k.keeper.table, result.table);
  assert.equal(k.keeper.retired, old);
  assert.equal(result.restored, 2, "192.0.2.1 and .2, the /30's hosts, stay");
  assert.deepEqual(result.dropped.map((d) => d.record.v4), [3, 4, 5, 6].map((i) => `192.0.2.${i}`));
  assert.ok(result.dropped.every((d) => d.reason === "outside pool"));
  assert.equal(k.counters.lease_dropped, 4);
  assert.equal(k.counters.lease_restored, 0, "carried-over leases are not news");
  assert.equal(k.keeper.table.size, 2);
  assert.equal(k.keeper.scheduler.dirty, true, "the dropped leases must leave the file");
});

Deno.test("a reload the table refuses changes nothing", () => {
  const k = setUp(options(["192.0.2.0/30"], [], 3600));
  const old = k.keeper.table;
  assert.throws(() =>
    k.keeper.reload({ ...options(["192.0.2.0/30"], [], 3600), eventRingSize: 0 }, () => {
      assert.fail("published a refused table");
    })
  );
  assert.equal(k.keeper.table, old);
  assert.equal(k.keeper.retired, null);
});

Deno.test("leases created in the retired table are merged into the live one at the next sweep", () => {
  const k = setUp(options(["192.0.2.0/29"], [], 3600));
  const old = k.keeper.table;
  to4(old, host(1), T0, ALLOC);
  k.keeper.reload(options(["192.0.2.0/29"], [], 3600), () => {});
  // A Worker that has not switched yet creates a lease in the old table.
  const late = to4(old, host(2), T0, ALLOC);
  assert.equal(typeof late, "string");
  assert.equal(k.keeper.table.size, 1);
  k.keeper.beginSave();
  k.clock.ms += 1000;
  k.keeper.sweep();
  assert.equal(k.keeper.retired, null);
  assert.equal(k.keeper.table.size, 2);
  assert.equal(to4(k.keeper.table, host(2), T0 + 1, LEASE_REFRESH), late, "same address");
  assert.equal(k.keeper.scheduler.dirty, true);
  assert.deepEqual(
    k.events.filter((e) => e.v6 === host(2)).map((e) => e.kind),
    ["created", "restored"],
    "created in the old table, then restored into the new one",
  );
});

Deno.test("a second reload before the sweep merges the first one's retired table first", () => {
  const k = setUp(options(["192.0.2.0/29"], [], 3600));
  const first = k.keeper.table;
  to4(first, host(1), T0, ALLOC);
  k.keeper.reload(options(["192.0.2.0/29"], [], 3600), () => {});
  // A Worker that has not switched yet creates a lease in the first table …
  const late = to4(first, host(2), T0, ALLOC);
  assert.equal(typeof late, "string");
  // … and a second SIGHUP arrives before the once-a-second sweep.
  k.keeper.reload(options(["192.0.2.0/29"], [], 3600), () => {});
  k.clock.ms += 1000;
  k.keeper.sweep();
  assert.equal(k.keeper.retired, null);
  assert.equal(k.keeper.table.size, 2, "both leases survive two quick reloads");
  assert.equal(to4(k.keeper.table, host(2), T0 + 1, LEASE_REFRESH), late, "same address");
});

Deno.test("drain takes the retired table's events first, then the live table's", () => {
  const k = setUp(options(["192.0.2.0/29"], [], 3600));
  const old = k.keeper.table;
  k.keeper.reload(options(["192.0.2.0/29"], [], 3600), () => {});
  to4(k.keeper.table, host(3), T0, ALLOC);
  to4(old, host(4), T0, ALLOC);
  k.keeper.drain();
  assert.deepEqual(k.events.map((e) => [e.kind, e.v6]), [
    ["created", host(4)],
    ["created", host(3)],
  ]);
  assert.equal(k.counters.lease_created, 2);
});

Deno.test("the sweep expires idle leases, draining a full lossless ring between rounds", () => {
  const k = setUp({ ...options(["192.0.2.0/27"], [], 60, 4), eventWaitMs: 5 });
  for (let i = 0; i < 20; i++) {
    to4(k.keeper.table, host(i), T0, ALLOC);
    k.keeper.drain();
  }
  assert.equal(k.counters.lease_created, 20);
  k.clock.ms += 120_000;
  k.keeper.sweep();
  assert.equal(k.keeper.table.size, 0);
  assert.equal(k.counters.lease_expired, 20, "every expiry recorded, none lost");
  assert.equal(k.counters.lease_events_lost, 0);
  assert.deepEqual(k.lost, []);
});

Deno.test("save scheduling: due after a change, backs off after failures, resets after a write", () => {
  const k = setUp(options(["192.0.2.0/29"], [], 3600));
  assert.equal(k.keeper.saveDue(), false, "nothing changed, no leases");
  to4(k.keeper.table, host(1), T0, ALLOC);
  k.keeper.drain();
  assert.equal(k.keeper.saveDue(), true, "a new lease");
  const snap = k.keeper.beginSave();
  assert.equal(snap.nowSecs, T0);
  assert.deepEqual(snap.records.map((r) => r.v6), [host(1)]);
  assert.equal(k.keeper.saveDue(), false);
  assert.equal(k.keeper.saveFailed(), 1);
  assert.equal(k.counters.lease_file_write_errors, 1);
  assert.equal(k.keeper.saveDue(), false, "retried after 1 s, not at once");
  k.clock.ms += 1000;
  assert.equal(k.keeper.saveDue(), true);
  k.keeper.beginSave();
  assert.equal(k.keeper.saveFailed(), 2);
  k.clock.ms += 1000;
  assert.equal(k.keeper.saveDue(), false, "the second failure doubles the delay");
  k.clock.ms += 1000;
  assert.equal(k.keeper.saveDue(), true);
  k.keeper.beginSave();
  assert.equal(k.keeper.saveSucceeded(), 2, "the failures before this write");
  assert.equal(k.keeper.scheduler.failuresInRow, 0);
  assert.equal(k.keeper.saveDue(), false);
  k.clock.ms += 59_000;
  assert.equal(k.keeper.saveDue(), false);
  k.clock.ms += 1000;
  assert.equal(k.keeper.saveDue(), true, "a minute later: last-seen times refreshed");
});

Deno.test("a full lossless ring's waits and refusals reach the counters once", () => {
  const k = setUp({ ...options(["192.0.2.0/28"], [], 3600, 4), eventWaitMs: 5 });
  const t = k.keeper.table;
  for (let i = 0; i < 4; i++) to4(t, host(i), T0, ALLOC);
  assert.equal(to4(t, host(4), T0, ALLOC), MAP_EXHAUSTED, "no room for its record");
  assert.equal(to4(t, host(5), T0, ALLOC), MAP_EXHAUSTED);
  k.keeper.drain();
  assert.equal(k.counters.lease_created, 4);
  assert.equal(k.counters.lease_event_waits, 1);
  assert.equal(k.counters.lease_event_wait_refusals, 2);
  assert.equal(k.counters.lease_events_lost, 0);
  k.keeper.drain();
  assert.equal(k.counters.lease_event_waits, 1, "not counted twice");
  assert.equal(k.counters.lease_event_wait_refusals, 2);
});

Deno.test("an overwriting ring's lost events are counted and reported once", () => {
  const k = setUp(options(["192.0.2.0/28"], [], 3600, 4));
  for (let i = 0; i < 7; i++) to4(k.keeper.table, host(i), T0, ALLOC);
  k.keeper.drain();
  assert.deepEqual(k.lost, [[3, 3]]);
  assert.equal(k.counters.lease_events_lost, 3);
  assert.equal(k.counters.lease_created, 4);
  k.keeper.drain();
  assert.deepEqual(k.lost, [[3, 3]]);
});

Deno.test("refused hosts get one line at once and a summary when their interval ends", () => {
  const k = setUp(options(["192.0.2.0/31"], [], 3600));
  const t = k.keeper.table;
  to4(t, host(1), T0, ALLOC);
  to4(t, host(2), T0, ALLOC);
  for (let i = 0; i < 3; i++) assert.equal(to4(t, host(9), T0, ALLOC), MAP_EXHAUSTED);
  k.keeper.drain();
  assert.equal(k.refusals.length, 1);
  assert.equal(k.refusals[0]!.v6, host(9));
  assert.equal(k.refusals[0]!.summary, false);
  assert.equal(to4(t, host(9), T0, ALLOC), MAP_EXHAUSTED);
  k.keeper.drain();
  assert.equal(k.counters.lease_refused, 4);
  k.keeper.close();
  assert.equal(k.refusals.length, 2, "close flushes the summary");
  assert.equal(k.refusals[1]!.summary, true);
});

Deno.test("restore at start: its events go to the callback only, then the watch ends at close", async () => {
  const k = setUp(options(["192.0.2.0/28"], [], 3600, 4));
  const records = [0, 1, 2, 3, 4, 5].map((i) => ({
    v4: `192.0.2.${i + 1}`,
    v6: host(i),
    lastSeenSecs: secs(k.clock) - 10,
  }));
  const seen: string[] = [];
  const result = k.keeper.restore(records, (ev) => seen.push(ev.kind));
  assert.equal(result.restored, 6, "more leases than the ring holds, in chunks");
  assert.equal(seen.filter((s) => s === "restored").length, 6);
  assert.equal(k.events.length, 0);
  assert.equal(k.counters.lease_restored, 0);
  const watching = k.keeper.watch();
  to4(k.keeper.table, host(7), T0, ALLOC);
  k.keeper.close();
  await watching;
  assert.deepEqual(k.events.map((e) => e.kind), ["created"]);
});
