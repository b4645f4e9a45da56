/**
 * The Prometheus text exposition (format 0.0.4) of the daemon's counters, rendered on scrape
 * from the summed per-Worker counter rows (./shared.ts) and what the main thread knows (the
 * lease table's size, its own counters, the process memory it measured). The packet Workers
 * pay nothing for it beyond the counters they keep anyway. Pure: every number comes in as an
 * argument.
 *
 * Series (see the README's Metrics section): upstream protomask's `protomask_packets{protocol,
 * status}` and `protomask_icmp_packets_recv{protocol,icmp_type,icmp_code}` under their
 * upstream names, then `protomask_drops_total{reason}` for every drop reason, translations
 * each way, ICMP errors sent and suppressed, the engine's other counters, TUN I/O, pool and
 * lease gauges, lease events by kind, reloads, process memory and build info.
 *
 * @module
 */

import { Drop, Stat } from "../xlat/drop.ts";
import type { DaemonCounters } from "./report.ts";
import {
  ICMP_CODE_BUCKETS,
  ICMP_RECV_BASE,
  IoStat,
  PACKET_PROTOCOLS,
  PACKET_STATUSES,
  PACKETS_BASE,
} from "./shared.ts";

/** The `Content-Type` of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What a scrape renders. */
export interface MetricsInput {
  /** The Workers' counter rows summed (`SharedState.sumCounters()`). */
  totals: Float64Array;
  /** Packets each Worker (queue) received, in row order. */
  receivedByQueue: readonly number[];
  /** The main thread's counters. */
  daemon: Readonly<DaemonCounters>;
  /** Pool addresses that can be leased (`LeaseTable.capacity`). */
  poolAddresses: number;
  /** Dynamic leases held (`LeaseTable.size`). */
  dynamicLeases: number;
  /** Static map entries (`Rules.MapStatic`). */
  staticMaps: number;
  /** Packet Workers started. */
  workers: number;
  /** Packet Workers still running. */
  workersAlive: number;
  /** Resident set size of the process in bytes (`Deno.memoryUsage().rss`). */
  rssBytes: number;
  /** V8 heap in use, bytes (`Deno.memoryUsage().heapUsed`). */
  heapUsedBytes: number;
  /** The daemon's version (deno.json). */
  version: string;
  /** When the daemon started, seconds since the Unix epoch. */
  startTimeSecs: number;
}

/**
 * Escapes a label value (backslash, double quote and line feed, as the format requires).
 * @param value the raw value
 * @returns the text between the quotes
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes HELP text (backslash and line feed). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as the format writes it. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Collects the lines of one exposition. */
class Exposition {
  readonly lines: string[] = [];
  readonly #declared = new Set<string>();

  /** Declares a metric family once (HELP and TYPE lines). */
  family(name: string, type: "counter" | "gauge", help: string): void {
    if (this.#declared.has(name)) return;
    this.#declared.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  /** One sample. */
  sample(name: string, labels: Record<string, string>, value: number): void {
    const keys = Object.keys(labels);
    const l = keys.length === 0
      ? ""
      : `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(",")}}`;
    this.lines.push(`${name}${l} ${formatValue(value)}`);
  }

  /** A family with a single unlabelled sample. */
  single(name: string, type: "counter" | "gauge", help: string, value: number): void {
    this.family(name, type, help);
    this.sample(name, {}, value);
  }
}

/** Engine counters that are not drops, with their metric names and help. */
const STAT_SERIES: readonly [number, string, string][] = [
  [Stat.RECEIVED, "protomask_received_packets_total", "Packets read from the TUN device."],
  [
    Stat.ICMP_ERRORS_SENT,
    "protomask_icmp_errors_sent_total",
    "ICMP errors the translator originated.",
  ],
  [
    Stat.ICMP_ERRORS_SUPPRESSED,
    "protomask_icmp_errors_suppressed_total",
    "ICMP errors not sent because of the rate limit (Translation.ICMPErrorRate).",
  ],
  [
    Stat.ECHO_REPLIES,
    "protomask_echo_replies_total",
    "Echo Replies for the translator's own addresses.",
  ],
  [
    Stat.HAIRPINNED,
    "protomask_hairpinned_packets_total",
    "Packets hairpinned IPv6 -> IPv4 -> IPv6.",
  ],
  [
    Stat.REASSEMBLED,
    "protomask_reassembled_datagrams_total",
    "Datagrams reassembled (fragmented ICMP).",
  ],
  [
    Stat.FRAGMENTS_CREATED,
    "protomask_fragments_created_total",
    "Fragments emitted by the translator's own fragmentation.",
  ],
];

/** The offload counters of a row, by the `kind` label they get. */
const OFFLOAD_KINDS: readonly (readonly [string, number])[] = [
  ["gso_translated", Stat.GSO_TRANSLATED],
  ["gso_segmented", Stat.GSO_SEGMENTED],
  ["partial_translated", Stat.PARTIAL_TRANSLATED],
  ["checksum_completed", Stat.CHECKSUM_COMPLETED],
];

/** The packet loop's counters. */
const IO_SERIES: readonly [number, string, string][] = [
  [IoStat.WRITTEN, "protomask_tun_written_packets_total", "Packets written to the TUN device."],
  [
    IoStat.WRITE_ERRORS,
    "protomask_tun_write_errors_total",
    "Writes to the TUN device that failed.",
  ],
  [IoStat.READ_ERRORS, "protomask_tun_read_errors_total", "Reads from the TUN device that failed."],
  [
    IoStat.RELOADS,
    "protomask_worker_reloads_total",
    "Configuration generations the packet Workers switched to (one per Worker per reload).",
  ],
];

/** Lease event counters of the main thread, by the `event` label they get. */
const LEASE_EVENT_COUNTERS: readonly [keyof DaemonCounters, string][] = [
  ["lease_created", "created"],
  ["lease_expired", "expired"],
  ["lease_restored", "restored"],
  ["lease_dropped", "dropped"],
  ["lease_refused", "refused"],
];

/**
 * Renders every series.
 *
 * @param m the numbers of this scrape
 * @returns the exposition text (ends with a line feed)
 */
export function renderMetrics(m: MetricsInput): string {
  const x = new Exposition();
  const t = m.totals;
  const at = (i: number) => t[i] ?? 0;
  renderUpstream(x, m, at);
  renderEngine(x, m, at);
  renderLeases(x, m);
  renderProcess(x, m);
  return x.lines.join("\n") + "\n";
}

/** The build info and upstream protomask's two families, under their names. */
function renderUpstream(x: Exposition, m: MetricsInput, at: (i: number) => number): void {
  x.family("protomask_build_info", "gauge", "Always 1; the version in a label.");
  x.sample("protomask_build_info", { version: m.version }, 1);

  // Upstream protomask's two families, under their names (no _total suffix there).
  x.family("protomask_packets", "counter", "Number of packets processed");
  PACKET_PROTOCOLS.forEach((protocol, p) => {
    PACKET_STATUSES.forEach((status, s) => {
      x.sample("protomask_packets", { protocol, status }, at(PACKETS_BASE + p * 2 + s));
    });
  });
  x.family("protomask_icmp_packets_recv", "counter", "Number of ICMP packets received");
  for (let family = 0; family < 2; family++) {
    for (let type = 0; type < 256; type++) {
      for (let code = 0; code < ICMP_CODE_BUCKETS; code++) {
        const v = at(ICMP_RECV_BASE + (family * 256 + type) * ICMP_CODE_BUCKETS + code);
        if (v === 0) continue;
        x.sample("protomask_icmp_packets_recv", {
          protocol: family === 0 ? "icmp" : "icmpv6",
          icmp_type: String(type),
          icmp_code: code === ICMP_CODE_BUCKETS - 1 ? `${code}+` : String(code),
        }, v);
      }
    }
  }
}

/** The engine's and the packet loop's counters, summed over the Workers. */
function renderEngine(x: Exposition, m: MetricsInput, at: (i: number) => number): void {
  x.family("protomask_drops_total", "counter", "Packets not translated, by reason.");
  for (const [key, reason] of Object.entries(Drop)) {
    x.sample("protomask_drops_total", { reason: key.toLowerCase() }, at(reason));
  }
  x.family(
    "protomask_translated_packets_total",
    "counter",
    "Packets translated, by direction.",
  );
  x.sample("protomask_translated_packets_total", { direction: "6to4" }, at(Stat.TRANSLATED_6TO4));
  x.sample("protomask_translated_packets_total", { direction: "4to6" }, at(Stat.TRANSLATED_4TO6));
  for (const [i, name, help] of STAT_SERIES) x.single(name, "counter", help, at(i));
  x.family(
    "protomask_offload_packets_total",
    "counter",
    "TUN offload: GSO super-packets translated whole or segmented in software, packets " +
      "translated with their partial checksum, partial checksums completed first.",
  );
  for (const [kind, i] of OFFLOAD_KINDS) {
    x.sample("protomask_offload_packets_total", { kind }, at(i));
  }
  x.family(
    "protomask_queue_received_packets_total",
    "counter",
    "Packets read by each TUN queue's packet Worker.",
  );
  m.receivedByQueue.forEach((v, q) => {
    x.sample("protomask_queue_received_packets_total", { queue: String(q) }, v);
  });
  for (const [i, name, help] of IO_SERIES) x.single(name, "counter", help, at(i));
}

/** The main thread's: pool and leases, lease events, reloads, any other daemon counter. */
function renderLeases(x: Exposition, m: MetricsInput): void {
  x.single(
    "protomask_pool_addresses",
    "gauge",
    "Pool addresses that can be leased.",
    m.poolAddresses,
  );
  x.family("protomask_leases", "gauge", "Mappings in use: static map entries, dynamic leases.");
  x.sample("protomask_leases", { kind: "static" }, m.staticMaps);
  x.sample("protomask_leases", { kind: "dynamic" }, m.dynamicLeases);
  x.family("protomask_lease_events_total", "counter", "Lease events, by kind.");
  for (const [key, event] of LEASE_EVENT_COUNTERS) {
    x.sample("protomask_lease_events_total", { event }, m.daemon[key]);
  }
  x.single(
    "protomask_reloads_total",
    "counter",
    "Configuration reloads applied (SIGHUP).",
    m.daemon.config_reloads,
  );
  x.single(
    "protomask_reloads_rejected_total",
    "counter",
    "Configuration reloads rejected (the running configuration stayed).",
    m.daemon.config_reloads_rejected,
  );
  // Any other main-thread counter, under its own name: a counter added later is exported.
  const named = new Set<string>([
    ...LEASE_EVENT_COUNTERS.map(([k]) => k),
    "config_reloads",
    "config_reloads_rejected",
  ]);
  for (const [key, value] of Object.entries(m.daemon)) {
    if (named.has(key)) continue;
    x.single(`protomask_${key}_total`, "counter", `${key.replace(/_/g, " ")}.`, value);
  }
}

/** The Workers and the process. */
function renderProcess(x: Exposition, m: MetricsInput): void {
  x.single("protomask_packet_workers", "gauge", "Packet Workers started.", m.workers);
  x.single("protomask_packet_workers_alive", "gauge", "Packet Workers running.", m.workersAlive);
  x.single(
    "protomask_process_resident_memory_bytes",
    "gauge",
    "Resident set size of the daemon.",
    m.rssBytes,
  );
  x.single(
    "protomask_process_heap_used_bytes",
    "gauge",
    "V8 heap in use (main thread).",
    m.heapUsedBytes,
  );
  x.single(
    "protomask_process_start_time_seconds",
    "gauge",
    "When the daemon started, seconds since the Unix epoch.",
    m.startTimeSecs,
  );
}

/** The answer of `/healthz`. */
export interface Health {
  /** HTTP status: 200 while every packet Worker runs, else 503. */
  status: 200 | 503;
  /** The body: `ok`, or what is wrong. */
  body: string;
}

/**
 * The health of the daemon for `/healthz`.
 * @param alive one flag per packet Worker: still running
 * @param stopping whether the daemon is shutting down
 * @returns 200 while every Worker runs and the daemon is not stopping, 503 otherwise
 */
export function health(alive: readonly boolean[], stopping: boolean): Health {
  const dead = alive.flatMap((a, i) => (a ? [] : [i]));
  if (alive.length > 0 && dead.length === 0 && !stopping) {
    return { status: 200, body: `ok: ${alive.length} packet workers running\n` };
  }
  const why = [
    ...(alive.length === 0 ? ["no packet workers"] : []),
    ...(dead.length > 0 ? [`packet workers ${dead.join(", ")} ended`] : []),
    ...(stopping ? ["stopping"] : []),
  ];
  return { status: 503, body: `unhealthy: ${why.join("; ")}\n` };
}
