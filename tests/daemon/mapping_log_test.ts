import assert from "node:assert/strict";
import {
  droppedRecord,
  holderAt,
  leaseEventRecord,
  mappingLine,
  type ParsedMappingLine,
  refusalRecord,
} from "../../lib/daemon/mapping_log.ts";
import { parseIpv6 } from "../../lib/addr/ipv6.ts";
import { parseIpv4 } from "../../lib/addr/ipv4.ts";

Deno.test("mappingLine() writes one JSON object per line: time in ISO 8601 UTC, then the event", () => {
  const ev = {
    kind: "created" as const,
    v4: parseIpv4("198.51.100.7")!,
    v6: parseIpv6("2001:db8:a::2")!,
    atSecs: 1_780_000_000,
    count: 1,
  };
  assert.equal(
    mappingLine(leaseEventRecord(ev)),
    '{"time":"2026-05-28T20:26:40.000Z","event":"created","ipv6":"2001:db8:a::2",' +
      '"ipv4":"198.51.100.7"}\n',
  );
  assert.equal(
    mappingLine(
      droppedRecord({ timeMs: 0, ipv6: "2001:db8::1", ipv4: "192.0.2.1", reason: "stopped" }),
    ),
    '{"time":"1970-01-01T00:00:00.000Z","event":"dropped","ipv6":"2001:db8::1",' +
      '"ipv4":"192.0.2.1","reason":"stopped"}\n',
  );
  const refused = refusalRecord(
    { v6: "2001:db8::9", refusals: 12, summary: true, intervalMs: 10_000 },
    1000,
  );
  assert.equal(
    mappingLine(refused),
    '{"time":"1970-01-01T00:00:01.000Z","event":"refused","ipv6":"2001:db8::9",' +
      '"reason":"pool exhausted","count":12}\n',
  );
  const others = refusalRecord({ v6: null, refusals: 5, summary: true, intervalMs: 10_000 }, 0);
  assert.equal(others.ipv6, undefined);
});

Deno.test("holderAt() answers from the last created/restored line unless expired or dropped after", () => {
  const l = (
    time: string,
    event: ParsedMappingLine["event"],
    ipv6: string,
    ipv4 = "192.0.2.7",
  ) => ({
    time: `2026-01-01T${time}.000Z`,
    event,
    ipv6,
    ipv4,
  });
  const log: ParsedMappingLine[] = [
    l("14:00:00", "created", "2001:db8::a"),
    l("14:01:00", "created", "2001:db8::c", "192.0.2.8"),
    l("14:02:00", "expired", "2001:db8::a"),
    l("14:02:30", "created", "2001:db8::b"),
    l("14:05:00", "dropped", "2001:db8::b"),
    l("14:06:00", "restored", "2001:db8::d"),
  ];
  const at = (t: string) => holderAt(log, "192.0.2.7", `2026-01-01T${t}.000Z`);
  assert.equal(at("13:59:59"), null);
  assert.equal(at("14:00:00"), "2001:db8::a");
  assert.equal(at("14:01:59"), "2001:db8::a");
  assert.equal(at("14:02:00"), null);
  assert.equal(at("14:03:00"), "2001:db8::b");
  assert.equal(at("14:05:30"), null);
  assert.equal(at("14:07:00"), "2001:db8::d");
  assert.equal(holderAt(log, "192.0.2.8", "2026-01-01T14:03:00.000Z"), "2001:db8::c");
});
