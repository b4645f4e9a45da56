import assert from "node:assert/strict";
import { RefusalLog } from "../../lib/daemon/refusal_log.ts";

const A = "2001:db8:b::2";
const B = "2001:db8:b::3";

Deno.test("RefusalLog logs a source's first refusal, then one line per interval with the count", () => {
  const log = new RefusalLog({ intervalMs: 10_000 });
  assert.deepEqual(log.refused(A, 1, 0), {
    v6: A,
    reason: "pool exhausted",
    refusals: 1,
    summary: false,
    intervalMs: 0,
  });
  // 199 more packets within the interval: counted, not logged.
  for (let i = 1; i < 200; i++) assert.equal(log.refused(A, 1, i * 10), null);
  assert.deepEqual(log.flush(9_999), [], "interval not over");
  assert.deepEqual(log.flush(10_000), [{
    v6: A,
    reason: "pool exhausted",
    refusals: 199,
    summary: true,
    intervalMs: 10_000,
  }]);
  // Refused on in the next interval: counted again, summarised at its end.
  assert.equal(log.refused(A, 5, 12_000), null);
  assert.deepEqual(log.flush(20_000), [{
    v6: A,
    reason: "pool exhausted",
    refusals: 5,
    summary: true,
    intervalMs: 10_000,
  }]);
  // A quiet interval: forgotten, and the next refusal is logged at once.
  assert.deepEqual(log.flush(30_000), []);
  assert.equal(log.sources, 0);
  assert.deepEqual(log.refused(A, 1, 31_000), {
    v6: A,
    reason: "pool exhausted",
    refusals: 1,
    summary: false,
    intervalMs: 0,
  });
});

Deno.test("RefusalLog keeps sources apart and logs a packet count carried by one record", () => {
  const log = new RefusalLog({ intervalMs: 1000 });
  assert.equal(log.refused(A, 30, 0)?.refusals, 30);
  assert.equal(log.refused(B, 1, 100)?.v6, B);
  assert.equal(log.refused(B, 2, 200), null);
  assert.equal(log.refused(A, 4, 300), null);
  assert.deepEqual(log.flush(1000).map((l) => [l.v6, l.refusals]), [[A, 4]]);
  assert.deepEqual(log.flush(1100).map((l) => [l.v6, l.refusals]), [[B, 2]]);
});

Deno.test("RefusalLog.flush(now, true) reports every count at shutdown and forgets the sources", () => {
  const log = new RefusalLog();
  log.refused(A, 1, 0);
  log.refused(A, 1, 5);
  log.refused(B, 1, 5);
  assert.deepEqual(log.flush(50, true), [{
    v6: A,
    reason: "pool exhausted",
    refusals: 1,
    summary: true,
    intervalMs: 50,
  }]);
  assert.equal(log.sources, 0);
});

Deno.test("RefusalLog follows at most maxSources sources and sums the others in one line", () => {
  const log = new RefusalLog({ intervalMs: 1000, maxSources: 2 });
  assert.notEqual(log.refused("2001:db8::1", 1, 0), null);
  assert.notEqual(log.refused("2001:db8::2", 1, 0), null);
  for (let i = 3; i < 1000; i++) {
    assert.equal(log.refused(`2001:db8::${i.toString(16)}`, 1, 0), null);
  }
  log.unattributed(3, 10);
  assert.deepEqual(log.flush(1000), [{
    v6: null,
    reason: "pool exhausted or an abuse limit",
    refusals: 1000,
    summary: true,
    intervalMs: 1000,
  }]);
  assert.equal(log.sources, 0);
});

Deno.test("RefusalLog follows a source once per reason and names the reason in its lines", () => {
  const log = new RefusalLog({ intervalMs: 1000 });
  assert.equal(log.refused(A, 1, 0, "source not allowed")?.reason, "source not allowed");
  assert.equal(log.refused(A, 1, 10, "source not allowed"), null);
  assert.equal(log.refused(A, 1, 20, "lease rate limit")?.reason, "lease rate limit");
  assert.equal(log.refused(A, 2, 30, "lease rate limit"), null);
  assert.deepEqual(log.flush(1020).map((l) => [l.v6, l.reason, l.refusals]), [
    [A, "source not allowed", 1],
    [A, "lease rate limit", 2],
  ]);
});
