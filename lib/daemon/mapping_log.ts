/**
 * The lines of the lease audit log (`[Logging] MappingLog`): one JSON object per line and per
 * lease event, for `jq`. Pure: times come in as arguments.
 *
 * ```json
 * {"time":"2025-06-01T14:02:11.000Z","event":"created","ipv6":"2001:db8:a::2","ipv4":"198.51.100.7"}
 * {"time":"2025-06-01T16:02:12.000Z","event":"expired","ipv6":"2001:db8:a::2","ipv4":"198.51.100.7"}
 * {"time":"2025-06-01T16:05:00.000Z","event":"refused","ipv6":"2001:db8:a::9","reason":"pool exhausted","count":12}
 * ```
 *
 * @module
 */

import { formatIpv4 } from "../addr/ipv4.ts";
import { formatIpv6 } from "../addr/ipv6.ts";
import type { LeaseEvent } from "../lease/table.ts";
import type { RefusalLine } from "./refusal_log.ts";

/** What happened to a mapping. */
export type MappingEvent = "created" | "restored" | "expired" | "dropped" | "refused";

/** One line of the audit log. */
export interface MappingRecord {
  /** When, in milliseconds since the epoch (written as ISO 8601 UTC). */
  timeMs: number;
  /** What happened. */
  event: MappingEvent;
  /** The IPv6 host; absent in a summary of refusals of hosts not followed one by one. */
  ipv6?: string;
  /** The pool address (absent for `refused`). */
  ipv4?: string;
  /** Why, for `dropped` and `refused`. */
  reason?: string;
  /** For `refused`: the refused packets this line accounts for. */
  count?: number;
}

/**
 * Renders one audit-log line: a JSON object with `time`, `event`, then `ipv6`, `ipv4`,
 * `reason` and `count` when present, and a newline.
 *
 * @param r the record
 * @returns the line, ending in `\n`
 * @example mappingLine({ timeMs: 0, event: "created", ipv6: "2001:db8::1", ipv4: "192.0.2.1" })
 */
export function mappingLine(r: MappingRecord): string {
  const o: Record<string, string | number> = {
    time: new Date(r.timeMs).toISOString(),
    event: r.event,
  };
  if (r.ipv6 !== undefined) o.ipv6 = r.ipv6;
  if (r.ipv4 !== undefined) o.ipv4 = r.ipv4;
  if (r.reason !== undefined) o.reason = r.reason;
  if (r.count !== undefined) o.count = r.count;
  return JSON.stringify(o) + "\n";
}

/**
 * The audit record of a lease event drained from the lease table (created, expired,
 * restored); refusals go through `RefusalLog` and {@link refusalRecord} instead.
 *
 * @param ev the event; its `atSecs` (the recording thread's clock) is the time
 * @returns the record
 */
export function leaseEventRecord(ev: LeaseEvent): MappingRecord {
  const ipv6 = formatIpv6(ev.v6);
  if (ev.kind === "refused") {
    const reason = ev.refusal ?? "pool exhausted";
    return { timeMs: ev.atSecs * 1000, event: "refused", ipv6, reason };
  }
  return { timeMs: ev.atSecs * 1000, event: ev.kind, ipv6, ipv4: formatIpv4(ev.v4) };
}

/**
 * The audit record of a lease dropped at start or reload (its address left the pool, a
 * static map claimed it, it expired while the daemon was down …) or at stop.
 *
 * @param opts the lease's addresses, why it was dropped and when
 * @returns the record
 */
export function droppedRecord(
  opts: { timeMs: number; ipv6: string; ipv4: string; reason: string },
): MappingRecord {
  return { event: "dropped", ...opts };
}

/**
 * The audit record of a `RefusalLog` line: one per source per interval, with the count.
 *
 * @param line the rate-limited refusal line
 * @param timeMs when it is written
 * @returns the record (`ipv6` absent for the refusals of hosts not followed one by one)
 */
export function refusalRecord(line: RefusalLine, timeMs: number): MappingRecord {
  return {
    timeMs,
    event: "refused",
    ...(line.v6 === null ? {} : { ipv6: line.v6 }),
    reason: line.reason ?? "pool exhausted",
    count: line.refusals,
  };
}

/** A record parsed back from a line (tests, tools). */
export interface ParsedMappingLine {
  /** ISO 8601 UTC. */
  time: string;
  /** What happened. */
  event: MappingEvent;
  /** The IPv6 host. */
  ipv6?: string;
  /** The pool address. */
  ipv4?: string;
  /** Why. */
  reason?: string;
  /** Refusals counted. */
  count?: number;
}

/**
 * Who held an IPv4 address at a moment, by the audit log: the last `created` or `restored`
 * of that address at or before `time` with no `expired` or `dropped` of it after that —
 * what the README's `jq` one-liner computes.
 *
 * @param lines the log's records in file order (older rotated files first)
 * @param ipv4 the pool address
 * @param time ISO 8601 UTC, in the log's format
 * @returns the IPv6 host, or null when nobody held it
 */
export function holderAt(
  lines: readonly ParsedMappingLine[],
  ipv4: string,
  time: string,
): string | null {
  let holder: string | null = null;
  for (const l of lines) {
    if (l.ipv4 !== ipv4 || l.time > time) continue;
    if (l.event === "created" || l.event === "restored") holder = l.ipv6 ?? null;
    else if (l.event === "expired" || l.event === "dropped") holder = null;
  }
  return holder;
}
