/**
 * The Prometheus exposition of lib/daemon/metrics.ts, read back with a small parser of the
 * text format written here (independent of the renderer), and the per-protocol / ICMP type
 * counts the packet loop keeps for it (lib/daemon/breakdown.ts).
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/config.ts";
import { LOOP_IDLE, PacketLoop } from "../../lib/daemon/loop.ts";
import {
  escapeLabelValue,
  health,
  type MetricsInput,
  renderMetrics,
} from "../../lib/daemon/metrics.ts";
import { newDaemonCounters } from "../../lib/daemon/report.ts";
import { COUNTER_ROW_LENGTH, SharedState } from "../../lib/daemon/shared.ts";
import { LeaseTable } from "../../lib/lease/table.ts";
import { XlatContext } from "../../lib/xlat/context.ts";
import { Drop, RESERVED_DROP_REASONS } from "../../lib/xlat/drop.ts";
import { engineSettings, leaseTableOptions } from "../../lib/xlat/settings.ts";
import { hex } from "../_util/packets.ts";
import { FakeTun } from "../_util/fake_tun.ts";
import { BASE_TOML, fixChecksums, T0_MS, UDP6_FROM_HOST } from "../xlat/_build.ts";

/** One sample of an exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the text format (0.0.4): HELP/TYPE comments, then `name{l="v",...} value` lines
 * whose family has been declared; label values unescaped. Fails the test on anything else.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  assert.ok(text.endsWith("\n"), "ends with a line feed");
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === "TYPE") {
        assert.ok(["counter", "gauge"].includes(meta[3]!), line);
        assert.ok(!types.has(meta[2]!), `${meta[2]} declared twice`);
        types.set(meta[2]!, meta[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? "";
    while (rest.length > 0) {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/.exec(rest);
      assert.ok(l !== null, `bad labels in ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
      rest = rest.slice(l[0].length);
    }
    assert.ok(types.has(m[1]!), `${m[1]} sampled before its TYPE`);
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function input(over: Partial<MetricsInput> = {}): MetricsInput {
  return {
    totals: new Float64Array(COUNTER_ROW_LENGTH),
    receivedByQueue: [0],
    daemon: newDaemonCounters(),
    poolAddresses: 254,
    dynamicLeases: 0,
    staticMaps: 0,
    workers: 1,
    workersAlive: 1,
    rssBytes: 50e6,
    heapUsedBytes: 4e6,
    version: "0.1.0",
    startTimeSecs: 1_700_000_000,
    ...over,
  };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]!.value;
}

Deno.test("renderMetrics() exports every counter of the shared rows and of the main thread", () => {
  // Every entry of a row gets a value of its own; each must come out in some sample. A counter
  // added to the row later (drop reason, loop or engine statistic) fails here until exported.
  const totals = new Float64Array(COUNTER_ROW_LENGTH);
  const unused = new Set(RESERVED_DROP_REASONS);
  for (let i = 0; i < COUNTER_ROW_LENGTH; i++) if (!unused.has(i)) totals[i] = 1_000_000 + i;
  const daemon = newDaemonCounters();
  const keys = Object.keys(daemon) as (keyof typeof daemon)[];
  keys.forEach((k, i) => (daemon[k] = 5_000_000 + i));
  const { samples } = parseExposition(renderMetrics(input({ totals, daemon })));
  const values = new Set(samples.map((s) => s.value));
  const missing: number[] = [];
  for (let i = 0; i < COUNTER_ROW_LENGTH; i++) {
    if (!unused.has(i) && !values.has(1_000_000 + i)) missing.push(i);
  }
  assert.deepEqual(missing, [], "row entries without a series");
  assert.deepEqual(keys.filter((_, i) => !values.has(5_000_000 + i)), [], "daemon counters");
  assert.ok(
    RESERVED_DROP_REASONS.every((i) => i === 0 || i === 38),
    `only 0 and 38 (reserved for the offload work) may be gaps: ${RESERVED_DROP_REASONS}`,
  );
});

Deno.test("renderMetrics() writes one drops_total sample per drop reason, named as in drop.ts", () => {
  const totals = new Float64Array(COUNTER_ROW_LENGTH);
  totals[Drop.POOL_EXHAUSTED] = 7;
  totals[Drop.SOURCE_NOT_ALLOWED] = 3;
  const { samples, types } = parseExposition(renderMetrics(input({ totals })));
  const drops = samples.filter((s) => s.name === "protomask_drops_total");
  assert.equal(drops.length, Object.keys(Drop).length);
  assert.equal(types.get("protomask_drops_total"), "counter");
  assert.equal(value(samples, "protomask_drops_total", { reason: "pool_exhausted" }), 7);
  assert.equal(value(samples, "protomask_drops_total", { reason: "source_not_allowed" }), 3);
  assert.equal(value(samples, "protomask_drops_total", { reason: "lease_rate_limit" }), 0);
  assert.ok(!drops.some((s) => s.labels.reason!.startsWith("unknown")), "no gap is rendered");
});

Deno.test("renderMetrics() escapes label values and writes gauges of the main thread", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const text = renderMetrics(input({
    version: '1.0 "odd"\\\nname',
    dynamicLeases: 12,
    staticMaps: 2,
    receivedByQueue: [5, 6],
  }));
  const { samples, types } = parseExposition(text);
  assert.equal(
    samples.find((s) => s.name === "protomask_build_info")!.labels.version,
    '1.0 "odd"\\\nname',
  );
  assert.equal(value(samples, "protomask_leases", { kind: "dynamic" }), 12);
  assert.equal(value(samples, "protomask_leases", { kind: "static" }), 2);
  assert.equal(types.get("protomask_leases"), "gauge");
  assert.equal(value(samples, "protomask_pool_addresses"), 254);
  assert.equal(value(samples, "protomask_process_resident_memory_bytes"), 50e6);
  assert.equal(value(samples, "protomask_queue_received_packets_total", { queue: "1" }), 6);
});

Deno.test("health() is 200 while every packet Worker runs, 503 when one ended or the daemon stops", () => {
  assert.equal(health([true, true], false).status, 200);
  assert.deepEqual(health([true, false], false), {
    status: 503,
    body: "unhealthy: packet workers 1 ended\n",
  });
  assert.equal(health([true], true).status, 503);
  assert.equal(health([], false).status, 503);
});

/** Echo Request from 2001:db8::1 to 64:ff9b::198.51.100.7. */
// deno-fmt-ignore
const ECHO6 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  000c3a40                              // payload length 12, next header ICMPv6, hop limit 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  80000000                              // Echo Request (128), code 0, checksum (filled in)
  0a0b0001                              // identifier 0x0a0b, sequence 1
  70696e67                              // data "ping"
`));

/** IPv4 Destination Unreachable code 3 from 198.51.100.7 to an unleased pool address. */
// deno-fmt-ignore
const UNREACH4 = fixChecksums(hex(`
  45000038   // version 4, IHL 5, total length 56
  00000000   // identification 0, no flags
  40010000   // TTL 64, protocol ICMP, header checksum (filled in)
  c6336407   // source 198.51.100.7
  c00002fe   // destination 192.0.2.254 (no lease)
  03030000   // Destination Unreachable (3), port unreachable (3), checksum (filled in)
  00000000   // unused
  45000014 00000000 40110000 c00002fe c6336407   // quoted IPv4 header (UDP)
  1f900035 00080000                              // quoted UDP header
`));

Deno.test("PacketLoop counts packets by protocol and status and received ICMP by type and code", () => {
  const cfg = parseConfig(BASE_TOML);
  const shared = SharedState.create(1);
  shared.setNowMs(T0_MS);
  const ctx = new XlatContext({
    settings: engineSettings(cfg),
    mapper: LeaseTable.create(leaseTableOptions(cfg)),
    counters: shared.counterRow(0),
  });
  const dev = new FakeTun();
  const loop = new PacketLoop(dev, ctx, shared);
  dev.inject(UDP6_FROM_HOST, ECHO6, ECHO6, UNREACH4, new Uint8Array([0x45, 0]));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  const { samples } = parseExposition(
    renderMetrics(input({ totals: shared.sumCounters(), receivedByQueue: [5] })),
  );
  const packets = (protocol: string, status: string) =>
    value(samples, "protomask_packets", { protocol, status });
  assert.equal(packets("ipv6", "translated"), 3);
  assert.equal(packets("udp", "translated"), 1);
  assert.equal(packets("icmpv6", "translated"), 2);
  assert.equal(packets("ipv4", "dropped"), 2, "the error about no lease, the truncated one");
  assert.equal(packets("icmp", "dropped"), 1);
  assert.equal(packets("tcp", "translated"), 0);
  const icmp = samples.filter((s) => s.name === "protomask_icmp_packets_recv");
  assert.deepEqual(icmp.map((s) => [s.labels, s.value]), [
    [{ protocol: "icmp", icmp_type: "3", icmp_code: "3" }, 1],
    [{ protocol: "icmpv6", icmp_type: "128", icmp_code: "0" }, 2],
  ]);
});
