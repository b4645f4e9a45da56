import assert from "node:assert/strict";
import {
  countersForLog,
  describeLeaseEvent,
  describeRefusal,
  newDaemonCounters,
  nonZeroCounters,
  receivedByQueue,
  SaveScheduler,
} from "../../lib/daemon/report.ts";
import { COUNTER_ROW_LENGTH, IoStat, SharedState } from "../../lib/daemon/shared.ts";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import { hex } from "../_util/packets.ts";

Deno.test("SaveScheduler saves a change at once, then at most once per interval", () => {
  const s = new SaveScheduler({ minIntervalMs: 1000, refreshIntervalMs: 60_000 });
  assert.equal(s.due(0, 0), false, "nothing changed");
  s.markDirty();
  assert.equal(s.due(5, 1), true, "first change: save now");
  s.saved(5);
  s.markDirty();
  assert.equal(s.due(500, 1), false, "within the interval");
  assert.equal(s.due(1005, 1), true, "interval over");
  s.saved(1005);
  assert.equal(s.due(30_000, 1), false, "clean, refresh not due");
  assert.equal(s.due(61_005, 1), true, "refresh of last-seen times");
  assert.equal(s.due(61_005, 0), false, "no leases, nothing to refresh");
});

Deno.test("SaveScheduler retries a failed save after 1, 2, 4 … s, at most a minute apart", () => {
  const s = new SaveScheduler({ minIntervalMs: 1000, refreshIntervalMs: 60_000 });
  s.markDirty();
  let at = 0;
  const waits: number[] = [];
  for (let i = 0; i < 9; i++) {
    assert.equal(s.due(at, 1), true);
    s.saved(at);
    assert.equal(s.failed(), i + 1);
    let next = at + 1;
    while (!s.due(next, 1)) next += 1;
    waits.push(next - at);
    at = next;
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  s.saved(at);
  s.succeeded();
  assert.equal(s.failuresInRow, 0);
  assert.equal(s.due(at + 30_000, 1), false, "written: only the refresh is due again");
  s.markDirty();
  assert.equal(s.due(at + 1000, 1), true, "a new change waits the normal interval");
});

Deno.test("countersForLog() adds the main thread's non-zero counters to the Workers'", () => {
  const s = SharedState.create(1);
  s.counterRow(0)[Stat.RECEIVED] = 2;
  const daemon = newDaemonCounters();
  assert.deepEqual(countersForLog(s.sumCounters(), daemon), { received: 2 });
  daemon.lease_file_write_errors = 3;
  assert.deepEqual(countersForLog(s.sumCounters(), daemon), {
    received: 2,
    lease_file_write_errors: 3,
  });
});

Deno.test("describeLeaseEvent() writes both addresses and the event name", () => {
  const v6 = hex("20010db8 00000000 00000000 00000001");
  const created = describeLeaseEvent({ kind: "created", v4: 0xc0000201, v6, atSecs: 7, count: 1 });
  assert.equal(created.message, "lease created: {v6} <-> {v4}");
  assert.deepEqual(created.properties, {
    event: "lease-created",
    v6: "2001:db8::1",
    v4: "192.0.2.1",
    atSecs: 7,
  });
  const refused = describeLeaseEvent({ kind: "refused", v4: -1, v6, atSecs: 8, count: 3 });
  assert.equal(refused.message, "lease refused for {v6}: {reason}");
  assert.equal(refused.properties.reason, "pool exhausted", "no refusal given: the pool");
  const limited = describeLeaseEvent({
    kind: "refused",
    v4: -1,
    v6,
    atSecs: 8,
    count: 1,
    refusal: "prefix lease limit",
  });
  assert.equal(limited.properties.reason, "prefix lease limit");
});

Deno.test("describeRefusal() says first refusals, summaries and unnamed sources apart", () => {
  const first = describeRefusal({ v6: "2001:db8::9", refusals: 1, summary: false, intervalMs: 0 });
  assert.equal(first.message, "lease refused for {v6}: {reason}");
  assert.equal(first.properties.reason, "pool exhausted");
  const summary = describeRefusal({
    v6: "2001:db8::9",
    refusals: 199,
    summary: true,
    intervalMs: 10_040,
  });
  assert.equal(
    summary.message,
    "lease refused for {v6} {refusals} more times in {intervalSecs} s: {reason}",
  );
  assert.deepEqual(summary.properties, {
    event: "lease-refused",
    v6: "2001:db8::9",
    reason: "pool exhausted",
    refusals: 199,
    summary: true,
    intervalSecs: 10,
  });
  const others = describeRefusal({ v6: null, refusals: 7, summary: true, intervalMs: 10_000 });
  assert.match(others.message, /not logged one by one/);
});

Deno.test("SharedState sums every Worker's counters and nonZeroCounters() names them", () => {
  const s = SharedState.create(2);
  s.counterRow(0)[Stat.RECEIVED] = 3;
  s.counterRow(1)[Stat.RECEIVED] = 4;
  s.counterRow(1)[Drop.TRUNCATED] = 1;
  s.counterRow(0)[IoStat.WRITE_ERRORS] = 2;
  const totals = s.sumCounters();
  assert.equal(totals.length, COUNTER_ROW_LENGTH);
  assert.deepEqual(nonZeroCounters(totals), { truncated: 1, received: 7, tun_write_errors: 2 });
  assert.deepEqual(receivedByQueue(s), [3, 4], "each Worker's row on its own");
});

Deno.test("SharedState sized for N queues has N counter rows, each its own memory", () => {
  const s = SharedState.create(4);
  assert.equal(s.rows, 4);
  const attached = SharedState.attach(s.buffer);
  assert.equal(attached.rows, 4);
  for (let q = 0; q < 4; q++) attached.counterRow(q)[Stat.RECEIVED] = 10 * (q + 1);
  assert.deepEqual(receivedByQueue(s), [10, 20, 30, 40]);
  assert.equal(s.sumCounters()[Stat.RECEIVED], 100);
  assert.throws(() => s.counterRow(4), /out of 0..3/);
});

Deno.test("SharedState: a Worker's attached view sees the generation, stop flag and clock", () => {
  const main = SharedState.create(1);
  const worker = SharedState.attach(main.buffer);
  main.setNowMs(1234.5);
  assert.equal(main.bumpGeneration(), 1);
  assert.deepEqual([worker.generation, worker.stopping, worker.nowMs], [1, false, 1234.5]);
  main.requestStop();
  assert.deepEqual([worker.generation, worker.stopping], [2, true]);
  assert.throws(() => SharedState.attach(new SharedArrayBuffer(10)), /not a SharedState buffer/);
  assert.throws(() => main.counterRow(1), /out of 0..0/);
});
