/**
 * Daemon bookkeeping that needs no I/O: when to save the lease file, how lease events and
 * counters read in the logs.
 *
 * @module
 */

import { formatIpv4 } from "../addr/ipv4.ts";
import { formatIpv6 } from "../addr/ipv6.ts";
import type { LeaseEvent } from "../lease/table.ts";
import type { RefusalLine } from "./refusal_log.ts";
import { COUNTER_COUNT, counterName, Stat } from "../xlat/drop.ts";
import { IoStat, SCALAR_COUNTERS, type SharedState } from "./shared.ts";

/** Options of {@link SaveScheduler}. */
export interface SaveSchedulerOptions {
  /** Least time between two saves, in milliseconds (default 1000). */
  minIntervalMs?: number;
  /** Save at least this often while leases exist, to record last-seen times (default 60 s). */
  refreshIntervalMs?: number;
  /** Longest wait before retrying a save that failed (default 60 s). */
  maxRetryMs?: number;
}

/**
 * Decides when the lease file is written: soon after a lease is created or freed (at most once
 * per `minIntervalMs`, so `kill -9` loses at most about that much), and every
 * `refreshIntervalMs` while leases exist so their last-seen times stay close. A save that
 * failed is retried after `minIntervalMs`, doubled for every further failure in a row up to
 * `maxRetryMs`, so a lasting problem (a full disk, a read-only directory) is retried — and
 * logged — about once a minute rather than once a second.
 */
export class SaveScheduler {
  readonly #minIntervalMs: number;
  readonly #refreshIntervalMs: number;
  readonly #maxRetryMs: number;
  #dirty = false;
  #lastSaveMs = -Infinity;
  #failures = 0;

  /**
   * Creates a scheduler with nothing to save yet.
   * @param opts intervals
   */
  constructor(opts: SaveSchedulerOptions = {}) {
    this.#minIntervalMs = opts.minIntervalMs ?? 1000;
    this.#refreshIntervalMs = opts.refreshIntervalMs ?? 60_000;
    this.#maxRetryMs = opts.maxRetryMs ?? 60_000;
  }

  /** Saves that failed since the last one that succeeded. */
  get failuresInRow(): number {
    return this.#failures;
  }

  /** How long after the last attempt the next one may start, in milliseconds. */
  get retryDelayMs(): number {
    if (this.#failures === 0) return this.#minIntervalMs;
    return Math.min(this.#maxRetryMs, this.#minIntervalMs * 2 ** (this.#failures - 1));
  }

  /** Records that the leases changed (a lease was created, expired or dropped). */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Whether a change is waiting to be saved. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Whether to save now.
   * @param nowMs current time
   * @param leaseCount leases in the table now
   * @returns true when a change is waiting and the last save is `minIntervalMs` old, or when
   *   leases exist and the last save is `refreshIntervalMs` old
   */
  due(nowMs: number, leaseCount: number): boolean {
    const age = nowMs - this.#lastSaveMs;
    if (this.#dirty) return age >= this.retryDelayMs;
    return leaseCount > 0 && age >= this.#refreshIntervalMs;
  }

  /**
   * Records a save that started at `nowMs` (changes after it are marked dirty again by the caller).
   * @param nowMs when the snapshot was taken
   */
  saved(nowMs: number): void {
    this.#dirty = false;
    this.#lastSaveMs = nowMs;
  }

  /** Records that the save begun by the last {@link saved} call was written. */
  succeeded(): void {
    this.#failures = 0;
  }

  /**
   * Records that the save begun by the last {@link saved} call failed: it stays due, after
   * {@link retryDelayMs}.
   * @returns the failures in a row, this one included
   */
  failed(): number {
    this.#dirty = true;
    return ++this.#failures;
  }
}

/**
 * Counters the daemon's main thread keeps, logged with the packet Workers' counters (whose
 * names they do not share).
 */
export interface DaemonCounters {
  /** Lease-file writes that failed (each is retried). */
  lease_file_write_errors: number;
  /** Lease events overwritten in the event ring before the main thread logged them. */
  lease_events_lost: number;
  /** New leases whose Worker found the event ring full and waited for the main thread. */
  lease_event_waits: number;
  /** New leases refused because the event ring stayed full (no lease without its record). */
  lease_event_wait_refusals: number;
  /** Writes (and reopens) of the mapping log that failed (the lines are kept and retried). */
  mapping_log_write_errors: number;
  /** Leases created (drained "created" events). */
  lease_created: number;
  /** Leases expired (drained "expired" events). */
  lease_expired: number;
  /** Leases put back from the lease file or carried over by a reload. */
  lease_restored: number;
  /** Leases dropped at a restore or reload (conflict with the configuration). */
  lease_dropped: number;
  /** Refused packets of hosts that got no lease (pool exhausted or an abuse limit). */
  lease_refused: number;
  /** Configuration reloads applied (SIGHUP). */
  config_reloads: number;
  /** Configuration reloads rejected (the running configuration stayed). */
  config_reloads_rejected: number;
}

/**
 * Fresh main-thread counters.
 * @returns every counter at 0
 */
export function newDaemonCounters(): DaemonCounters {
  return {
    lease_file_write_errors: 0,
    lease_events_lost: 0,
    lease_event_waits: 0,
    lease_event_wait_refusals: 0,
    mapping_log_write_errors: 0,
    lease_created: 0,
    lease_expired: 0,
    lease_restored: 0,
    lease_dropped: 0,
    lease_refused: 0,
    config_reloads: 0,
    config_reloads_rejected: 0,
  };
}

/**
 * Every non-zero counter by name, for the log: the Workers' summed row, then the main
 * thread's.
 * @param totals a summed counter row
 * @param daemon the main thread's counters
 * @returns name → value, zeros left out
 */
export function countersForLog(
  totals: Float64Array,
  daemon: Readonly<DaemonCounters>,
): Record<string, number> {
  const out = nonZeroCounters(totals);
  for (const [name, value] of Object.entries(daemon)) if (value !== 0) out[name] = value;
  return out;
}

/**
 * The audit-log line of a lease event.
 *
 * @param ev an event drained from the lease table
 * @returns a LogTape message template (the addresses as `{v6}`, `{v4}` placeholders, so a
 *   text line does not repeat them after the message) and the structured properties
 */
export function describeLeaseEvent(
  ev: LeaseEvent,
): { message: string; properties: Record<string, string | number> } {
  const v6 = formatIpv6(ev.v6);
  if (ev.kind === "refused") {
    return {
      message: "lease refused for {v6}: {reason}",
      properties: {
        event: "lease-refused",
        v6,
        reason: ev.refusal ?? "pool exhausted",
        atSecs: ev.atSecs,
      },
    };
  }
  const v4 = formatIpv4(ev.v4);
  const verb = { created: "created", expired: "expired", restored: "restored" }[ev.kind];
  return {
    message: `lease ${verb}: {v6} <-> {v4}`,
    properties: { event: `lease-${ev.kind}`, v6, v4, atSecs: ev.atSecs },
  };
}

/**
 * The audit-log line of refused leases (rate-limited by `RefusalLog`).
 *
 * @param line a line from `RefusalLog`
 * @returns a LogTape message template and the properties; `refusals` is the number of
 *   refused packets the line accounts for
 */
export function describeRefusal(
  line: RefusalLine,
): { message: string; properties: Record<string, string | number | boolean | null> } {
  const properties = {
    event: "lease-refused",
    v6: line.v6,
    reason: line.reason ?? "pool exhausted",
    refusals: line.refusals,
    summary: line.summary,
    intervalSecs: Math.round(line.intervalMs / 1000),
  };
  if (!line.summary) return { message: "lease refused for {v6}: {reason}", properties };
  if (line.v6 === null) {
    return {
      message: "lease refused {refusals} more times in {intervalSecs} s to hosts not logged " +
        "one by one: {reason}",
      properties,
    };
  }
  return {
    message: "lease refused for {v6} {refusals} more times in {intervalSecs} s: {reason}",
    properties,
  };
}

const IO_NAMES: Record<number, string> = {
  [IoStat.WRITTEN]: "tun_written",
  [IoStat.WRITE_ERRORS]: "tun_write_errors",
  [IoStat.READ_ERRORS]: "tun_read_errors",
  [IoStat.RELOADS]: "reloads",
};

/**
 * The name of an entry of a counter row (engine drop reasons and stats, then the loop's).
 * @param index index into a row of `COUNTER_ROW_LENGTH` (shared.ts)
 * @returns its snake_case name
 */
export function rowCounterName(index: number): string {
  return index < COUNTER_COUNT ? counterName(index) : IO_NAMES[index] ?? `unknown_${index}`;
}

/**
 * The non-zero single counters by name, for the log (the per-protocol and ICMP type counts
 * are left to the metrics).
 * @param totals a summed counter row
 * @returns name → value for every non-zero entry, in index order
 */
export function nonZeroCounters(totals: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 1; i < Math.min(totals.length, SCALAR_COUNTERS); i++) {
    if (totals[i]! !== 0) out[rowCounterName(i)] = totals[i]!;
  }
  return out;
}

/**
 * The packets each Worker received, by counter row — with several TUN queues, how the kernel
 * spread the flows over them.
 * @param shared the daemon's shared state
 * @returns one count per row (Worker, queue), in row order
 */
export function receivedByQueue(shared: SharedState): number[] {
  const out: number[] = [];
  for (let r = 0; r < shared.rows; r++) out.push(shared.counterRow(r)[Stat.RECEIVED]!);
  return out;
}
