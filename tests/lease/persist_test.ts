import assert from "node:assert/strict";
import {
  decodeLeaseFile,
  encodeLeaseFile,
  LEASE_FILE_FORMAT,
  LEASE_FILE_VERSION,
} from "../../lib/lease/persist.ts";
import { LEASE_ALLOCATE, LeaseTable } from "../../lib/lease/table.ts";
import { host, mulberry32, options, to4 } from "./helpers.ts";

Deno.test("encodeLeaseFile() output decodes to the same records and save time", () => {
  const records = [
    { v4: "192.0.2.1", v6: "2001:db8::1", lastSeenSecs: 1_700_000_000 },
    { v4: "192.0.2.2", v6: "2001:db8::2", lastSeenSecs: 1_700_000_005 },
  ];
  const text = encodeLeaseFile(records, 1_700_000_010);
  const doc = JSON.parse(text);
  assert.equal(doc.format, LEASE_FILE_FORMAT);
  assert.equal(doc.version, LEASE_FILE_VERSION);
  assert.equal(doc.savedAtSecs, 1_700_000_010);
  assert.ok(text.endsWith("\n"));
  assert.deepEqual(decodeLeaseFile(text), { records, savedAtSecs: 1_700_000_010, problem: null });
});

Deno.test("encodeLeaseFile() writes only the record fields", () => {
  const extra = { v4: "192.0.2.1", v6: "2001:db8::1", lastSeenSecs: 5, secret: "x" };
  const text = encodeLeaseFile([extra], 6);
  assert.ok(!text.includes("secret"));
  assert.deepEqual(decodeLeaseFile(text).records, [{
    v4: "192.0.2.1",
    v6: "2001:db8::1",
    lastSeenSecs: 5,
  }]);
});

Deno.test("a table's snapshot survives encode, decode and restore", () => {
  const opts = options(["192.0.2.0/24"], [], 100);
  const a = LeaseTable.create(opts);
  for (let i = 0; i < 10; i++) to4(a, host(i), 40 + i, LEASE_ALLOCATE);
  const decoded = decodeLeaseFile(encodeLeaseFile(a.snapshot(60), 60));
  assert.equal(decoded.problem, null);
  const b = LeaseTable.create(opts);
  assert.deepEqual(b.restore(decoded.records, 61), { restored: 10, dropped: [] });
  assert.deepEqual(b.snapshot(61), a.snapshot(61));
});

Deno.test("decodeLeaseFile() reports whole-file garbage as a problem with no records", () => {
  const cases: [string, RegExp][] = [
    ["", /not JSON/],
    ["{", /not JSON/],
    ["\u0000\u00ff", /not JSON/],
    ["null", /not a JSON object/],
    ["[]", /not a JSON object/],
    ["42", /not a JSON object/],
    ['{"version":1,"leases":[]}', /"format"/],
    [`{"format":"${LEASE_FILE_FORMAT}","version":2,"leases":[]}`, /unsupported "version" 2/],
    [`{"format":"${LEASE_FILE_FORMAT}","version":"1","leases":[]}`, /unsupported "version" "1"/],
    [`{"format":"${LEASE_FILE_FORMAT}","version":1,"leases":{}}`, /"leases" is not an array/],
    [`{"format":"${LEASE_FILE_FORMAT}","version":1}`, /"leases" is not an array/],
  ];
  for (const [text, problem] of cases) {
    const d = decodeLeaseFile(text);
    assert.deepEqual(d.records, [], text);
    assert.equal(d.savedAtSecs, null, text);
    assert.match(d.problem ?? "", problem, text);
  }
});

Deno.test("decodeLeaseFile() skips malformed entries, keeps good ones, and says how many it skipped", () => {
  const good = { v4: "192.0.2.1", v6: "2001:db8::1", lastSeenSecs: 7 };
  const text = JSON.stringify({
    format: LEASE_FILE_FORMAT,
    version: LEASE_FILE_VERSION,
    savedAtSecs: 9,
    leases: [
      good,
      null,
      3,
      [],
      { v4: 1, v6: "::1", lastSeenSecs: 1 },
      { v4: "1.2.3.4", v6: "::1" },
      {
        v4: "1.2.3.4",
        v6: "::1",
        lastSeenSecs: -3,
      },
    ],
  });
  const d = decodeLeaseFile(text);
  assert.deepEqual(d.records, [good]);
  assert.equal(d.savedAtSecs, 9);
  assert.equal(d.problem, "6 malformed lease entries skipped");
});

Deno.test("decodeLeaseFile() flags a missing save time but keeps the records", () => {
  const d = decodeLeaseFile(
    `{"format":"${LEASE_FILE_FORMAT}","version":1,"leases":[{"v4":"192.0.2.1","v6":"::1","lastSeenSecs":1}]}`,
  );
  assert.equal(d.records.length, 1);
  assert.equal(d.savedAtSecs, null);
  assert.match(d.problem ?? "", /savedAtSecs/);
});

Deno.test("decodeLeaseFile() never throws on random or mutated text", () => {
  const rnd = mulberry32(42);
  const valid = encodeLeaseFile([{ v4: "192.0.2.1", v6: "2001:db8::1", lastSeenSecs: 1 }], 2);
  const alphabet = '{}[]":,0123456789.-eE truefalsnul\\\u00e9\n';
  for (let n = 0; n < 2000; n++) {
    let text: string;
    if (n % 2 === 0) {
      text = Array.from(
        { length: Math.floor(rnd() * 40) },
        () => alphabet[Math.floor(rnd() * alphabet.length)],
      ).join(
        "",
      );
    } else {
      const chars = [...valid];
      for (let k = 0; k < 3; k++) {
        chars[Math.floor(rnd() * chars.length)] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      }
      text = chars.join("");
    }
    const d = decodeLeaseFile(text);
    assert.ok(Array.isArray(d.records));
    assert.ok(d.problem === null || typeof d.problem === "string");
    for (const r of d.records) {
      assert.equal(typeof r.v4, "string");
      assert.equal(typeof r.v6, "string");
      assert.ok(Number.isFinite(r.lastSeenSecs));
    }
  }
});
