/**
 * Daemon bookkeeping that needs no I/O: when to save the lease file, how lease events and
 * counters read in the logs.
 *
 * @module
 */

import { formatIpv4 } from "../addr/ipv4.ts";
import { formatIpv6 } from "../addr/ipv6.ts";
import type { LeaseEvent } from "../lease/table.ts";
import { COUNTER_COUNT, counterName, Stat } from "../xlat/drop.ts";
import { COUNTER_ROW_LENGTH, IoStat, type SharedState } from "./shared.ts";

/** Options of {@link SaveScheduler}. */
export interface SaveSchedulerOptions {
  /** Least time between two saves, in milliseconds (default 1000). */
  minIntervalMs?: number;
  /** Save at least this often while leases exist, to record last-seen times (default 60 s). */
  refreshIntervalMs?: number;
}

/**
 * Decides when the lease file is written: soon after a lease is created or freed (at most once
 * per `minIntervalMs`, so `kill -9` loses at most about that much), and every
 * `refreshIntervalMs` while leases exist so their last-seen times stay close.
 */
export class SaveScheduler {
  readonly #minIntervalMs: number;
  readonly #refreshIntervalMs: number;
  #dirty = false;
  #lastSaveMs = -Infinity;

  /**
   * Creates a scheduler with nothing to save yet.
   * @param opts intervals
   */
  constructor(opts: SaveSchedulerOptions = {}) {
    this.#minIntervalMs = opts.minIntervalMs ?? 1000;
    this.#refreshIntervalMs = opts.refreshIntervalMs ?? 60_000;
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
    if (this.#dirty) return age >= this.#minIntervalMs;
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
}

/**
 * The audit-log line of a lease event.
 *
 * @param ev an event drained from the lease table
 * @returns a message and the structured properties for LogTape
 */
export function describeLeaseEvent(
  ev: LeaseEvent,
): { message: string; properties: Record<string, string | number> } {
  const v6 = formatIpv6(ev.v6);
  if (ev.kind === "refused") {
    return {
      message: `lease refused for ${v6}: pool exhausted`,
      properties: { event: "lease-refused", v6, atSecs: ev.atSecs },
    };
  }
  const v4 = formatIpv4(ev.v4);
  const verb = { created: "created", expired: "expired", restored: "restored" }[ev.kind];
  return {
    message: `lease ${verb}: ${v6} <-> ${v4}`,
    properties: { event: `lease-${ev.kind}`, v6, v4, atSecs: ev.atSecs },
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
 * @param index index into a row of {@link COUNTER_ROW_LENGTH}
 * @returns its snake_case name
 */
export function rowCounterName(index: number): string {
  return index < COUNTER_COUNT ? counterName(index) : IO_NAMES[index] ?? `unknown_${index}`;
}

/**
 * The non-zero counters by name, for the log.
 * @param totals a summed counter row
 * @returns name → value for every non-zero entry, in index order
 */
export function nonZeroCounters(totals: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 1; i < Math.min(totals.length, COUNTER_ROW_LENGTH); i++) {
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
