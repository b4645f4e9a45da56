/**
 * The main thread's side of the lease table, without I/O: the live table, the table a reload
 * retired (merged into the live one at the next sweep), the lease file's save schedule, and
 * the drain of lease events from both tables into the daemon's counters and the caller's sinks
 * (audit log, mapping log, refusal lines). The clock comes in as a function; runtime/run.ts
 * supplies `Date.now`, the tests a fake one.
 *
 * @module
 */

import { formatIpv6 } from "../addr/ipv6.ts";
import type {
  LeaseEvent,
  LeaseRecord,
  LeaseTable,
  LeaseTableOptions,
  ReconfigureResult,
  RestoreResult,
} from "../lease/table.ts";
import { type RefusalLine, RefusalLog } from "./refusal_log.ts";
import { type DaemonCounters, SaveScheduler } from "./report.ts";

/** Drain-and-sweep rounds per sweep when expiries fill the event ring. */
const MAX_SWEEP_ROUNDS = 64;

/** Where the keeper sends what it drains (the caller logs and records it). */
export interface LeaseKeeperSinks {
  /** A "created", "expired" or "restored" event: its audit line and mapping-log record. */
  leaseEvent(ev: LeaseEvent): void;
  /** A refusal line due now (first refusal of a host, or a summary), stamped `nowMs`. */
  refusal(line: RefusalLine, nowMs: number): void;
  /** `lost` lease events were overwritten before they were drained; `total` since start. */
  eventsLost(lost: number, total: number): void;
}

/** What {@link LeaseKeeper} needs. */
export interface LeaseKeeperOptions {
  /** The live lease table (the keeper takes it over; `restore` it before the Workers start). */
  table: LeaseTable;
  /** The main thread's counters, updated in place. */
  counters: DaemonCounters;
  /** Where drained events go. */
  sinks: LeaseKeeperSinks;
  /** The clock, in milliseconds since the epoch. */
  nowMs: () => number;
  /** The save schedule (default: `new SaveScheduler()`). */
  scheduler?: SaveScheduler;
  /** The refusal rate limit (default: `new RefusalLog()`). */
  refusals?: RefusalLog;
}

/** What a lease table counts about its event ring. */
interface EventTallies {
  lost: number;
  refusals: number;
  waits: number;
  waitRefusals: number;
}

/** A lease snapshot to write to the lease file. */
export interface SaveSnapshot {
  /** The live leases. */
  records: LeaseRecord[];
  /** The seconds the snapshot was taken at (the file's timestamp). */
  nowSecs: number;
}

/**
 * Keeps the daemon's lease tables between the Workers (which create and refresh leases in
 * shared memory) and the files and logs (which runtime/run.ts writes).
 *
 * Call {@link drain} often (a timer, and {@link watch} when a Worker fills the ring to half),
 * {@link sweep} once a second, {@link reload} on SIGHUP, {@link close} at stop.
 */
export class LeaseKeeper {
  #table: LeaseTable;
  #retired: LeaseTable | null = null;
  #closed = false;
  readonly #counters: DaemonCounters;
  readonly #sinks: LeaseKeeperSinks;
  readonly #now: () => number;
  readonly #scheduler: SaveScheduler;
  readonly #refusals: RefusalLog;
  /** Per table, the tallies already reported. */
  readonly #seen = new WeakMap<LeaseTable, EventTallies>();

  /**
   * Takes over `opts.table`; whatever its ring counted so far is not reported.
   * @param opts the table, counters, sinks and clock
   */
  constructor(opts: LeaseKeeperOptions) {
    this.#table = opts.table;
    this.#counters = opts.counters;
    this.#sinks = opts.sinks;
    this.#now = opts.nowMs;
    this.#scheduler = opts.scheduler ?? new SaveScheduler();
    this.#refusals = opts.refusals ?? new RefusalLog();
    this.#takeTallies(this.#table);
  }

  /** The live table (the one the Workers use after the last reload). */
  get table(): LeaseTable {
    return this.#table;
  }

  /** The table the last reload replaced, until the next {@link sweep} merges it; else null. */
  get retired(): LeaseTable | null {
    return this.#retired;
  }

  /** The lease file's save schedule (for its retry delay and failure count). */
  get scheduler(): SaveScheduler {
    return this.#scheduler;
  }

  /**
   * Restores leases from the lease file at start, half an event ring at a time so the
   * "restored" and "expired" records of any number of leases fit a lossless ring. Those
   * events go to `onEvent` only (they are not news for the audit log or the counters).
   * @param records the file's leases
   * @param onEvent each event of the restore
   * @returns what was restored and what dropped
   */
  restore(records: readonly LeaseRecord[], onEvent: (ev: LeaseEvent) => void): RestoreResult {
    const t = this.#table;
    const result = restoreInChunks(t, records, this.#secs(), () => {
      for (const ev of t.drainEvents()) onEvent(ev);
    });
    this.#takeTallies(t);
    return result;
  }

  /** Drains the lease events of the retired table (if any), then of the live one. */
  drain(): void {
    if (this.#retired !== null) this.#drainTable(this.#retired);
    this.#drainTable(this.#table);
  }

  /**
   * The once-a-second work: merges a table retired by a reload (leases a Worker created in it
   * while the reload was being published), expires idle leases — draining and sweeping again
   * while expiries fill the lossless ring — and flushes the refusal lines that are due.
   */
  sweep(): void {
    const nowSecs = this.#secs();
    if (this.#retired !== null) this.#mergeRetired(this.#retired, nowSecs);
    this.drain(); // the whole ring for the leases this sweep may expire at once
    // The ring never overwrites: a sweep frees what fits, so drain and sweep again.
    for (let round = 0; round < MAX_SWEEP_ROUNDS; round++) {
      this.#table.sweep(nowSecs);
      if (this.#table.eventRoom > 0) break;
      this.#drainTable(this.#table);
    }
    this.flushRefusals(false);
  }

  /**
   * Sends the refusal summary lines that are due to the sinks.
   * @param all every pending line, whatever its interval's age (at stop)
   */
  flushRefusals(all: boolean): void {
    for (const line of this.#refusals.flush(this.#now(), all)) {
      this.#sinks.refusal(line, this.#now());
    }
  }

  /**
   * Whether the lease file should be written now (see {@link SaveScheduler.due}).
   * @returns true when a save is due
   */
  saveDue(): boolean {
    return this.#scheduler.due(this.#now(), this.#table.size);
  }

  /**
   * Starts a save: the live leases now; changes from here on make the file dirty again.
   * @returns the leases to write and the time to stamp them with
   */
  beginSave(): SaveSnapshot {
    const nowMs = this.#now();
    const nowSecs = Math.floor(nowMs / 1000);
    const records = this.#table.snapshot(nowSecs);
    this.#scheduler.saved(nowMs);
    return { records, nowSecs };
  }

  /**
   * Records that the save begun by {@link beginSave} failed; it is retried after the
   * scheduler's back-off.
   * @returns the failures in a row, this one included
   */
  saveFailed(): number {
    this.#counters.lease_file_write_errors++;
    return this.#scheduler.failed();
  }

  /**
   * Records that the save begun by {@link beginSave} was written.
   * @returns the failures in a row before it (0 when the last save worked too)
   */
  saveSucceeded(): number {
    const failures = this.#scheduler.failuresInRow;
    this.#scheduler.succeeded();
    return failures;
  }

  /**
   * Moves the leases to a table for new options. `publish` gets the new table before the
   * keeper switches to it, and must hand it to every Worker (then bump the generation); the
   * old table is retired — Workers may still create leases in it until they switch — and
   * merged into the new one by the next {@link sweep} (or by the next reload, if that comes
   * first).
   * @param options the new table's options
   * @param publish hands the new table to the Workers
   * @returns the new table with what carried over and what was dropped
   * @throws {Error} when the new options are refused (nothing changed)
   */
  reload(
    options: LeaseTableOptions,
    publish: (result: ReconfigureResult) => void,
  ): ReconfigureResult {
    // A second reload before the sweep: merge the first one's retired table now, or the leases
    // Workers created in it would be lost when it is replaced.
    if (this.#retired !== null) this.#mergeRetired(this.#retired, this.#secs());
    const result = this.#table.reconfigure(options, this.#secs());
    result.table.drainEvents(); // "restored" events of carried-over leases: not news
    this.#takeTallies(result.table);
    this.#counters.lease_dropped += result.dropped.length;
    publish(result);
    this.#drainTable(this.#table);
    const old = this.#table;
    this.#retired = old;
    this.#table = result.table;
    old.wakeEventWaiters(); // the half-full watch moves to the new table
    if (result.dropped.length > 0) this.#scheduler.markDirty();
    return result;
  }

  /**
   * Drains the events each time a Worker fills the event ring to half its size (the Worker
   * moves a shared word and `Atomics.notify`s; nothing crosses threads per packet), so a burst
   * of new hosts is logged before the ring fills; the timer drains the rest. Ends after
   * {@link close}.
   */
  async watch(): Promise<void> {
    while (!this.#closed) {
      const t = this.#table;
      const seen = t.eventSignal;
      this.drain();
      await t.waitForEvents(seen);
    }
  }

  /** At stop: ends {@link watch}, drains both tables and flushes every refusal line. */
  close(): void {
    this.#closed = true;
    this.#table.wakeEventWaiters();
    this.drain();
    this.flushRefusals(true);
  }

  #secs(): number {
    return Math.floor(this.#now() / 1000);
  }

  #mergeRetired(retired: LeaseTable, nowSecs: number): void {
    this.#drainTable(retired);
    const t = this.#table;
    this.#drainTable(t);
    const before = t.size;
    restoreInChunks(t, retired.snapshot(nowSecs), nowSecs, () => this.#drainTable(t));
    if (t.size !== before) this.#scheduler.markDirty();
    this.#retired = null;
  }

  #drainTable(t: LeaseTable): void {
    const nowMs = this.#now();
    const c = this.#counters;
    for (const ev of t.drainEvents()) {
      if (ev.kind === "refused") {
        c.lease_refused += ev.count;
        const line = this.#refusals.refused(
          formatIpv6(ev.v6),
          ev.count,
          nowMs,
          ev.refusal ?? undefined,
        );
        if (line !== null) this.#sinks.refusal(line, nowMs);
        continue;
      }
      if (ev.kind === "created") c.lease_created++;
      else if (ev.kind === "expired") c.lease_expired++;
      else if (ev.kind === "restored") c.lease_restored++;
      this.#sinks.leaseEvent(ev);
      this.#scheduler.markDirty();
    }
    const missed = this.#takeTallies(t);
    this.#refusals.unattributed(missed.refusals, nowMs);
    c.lease_event_waits += missed.waits;
    c.lease_event_wait_refusals += missed.waitRefusals;
    c.lease_refused += missed.refusals;
    if (missed.lost > 0) {
      c.lease_events_lost += missed.lost;
      this.#scheduler.markDirty();
      this.#sinks.eventsLost(missed.lost, c.lease_events_lost);
    }
  }

  /** What `t` counted since the last call for it (all of it, the first time). */
  #takeTallies(t: LeaseTable): EventTallies {
    const seen = this.#seen.get(t) ?? { lost: 0, refusals: 0, waits: 0, waitRefusals: 0 };
    const now = {
      lost: t.eventsLost,
      refusals: t.refusalsUnrecorded,
      waits: t.eventWaits,
      waitRefusals: t.eventWaitRefusals,
    };
    this.#seen.set(t, now);
    return {
      lost: now.lost - seen.lost,
      refusals: now.refusals - seen.refusals,
      waits: now.waits - seen.waits,
      waitRefusals: now.waitRefusals - seen.waitRefusals,
    };
  }
}

/**
 * Restores `records` a chunk at a time (half the event ring), calling `drain` after each, so
 * the "restored" and "expired" records of any number of leases fit in the lossless ring.
 */
function restoreInChunks(
  table: LeaseTable,
  records: readonly LeaseRecord[],
  nowSecs: number,
  drain: () => void,
): RestoreResult {
  const chunk = Math.max(1, table.eventRingSize >>> 1);
  const result: RestoreResult = { restored: 0, dropped: [] };
  for (let i = 0; i < records.length; i += chunk) {
    const r = table.restore(records.slice(i, i + chunk), nowSecs);
    result.restored += r.restored;
    result.dropped.push(...r.dropped);
    drain();
  }
  return result;
}
