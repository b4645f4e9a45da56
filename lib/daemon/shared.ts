/**
 * The daemon's shared memory outside the lease table: a control block the main thread and the
 * packet Workers both see (generation, stop flag, coarse clock) and one row of counters per
 * Worker. No messages cross threads per packet (docs/DESIGN.md): the main thread writes the clock
 * every ~100 ms and sums the counter rows when it reports them.
 *
 * @module
 */

import { COUNTER_COUNT } from "../xlat/drop.ts";

/** Counters the packet loop keeps beside the engine's, stored after them in each row. */
export const IoStat = {
  /** Packets written to the device. */
  WRITTEN: COUNTER_COUNT + 0,
  /** Writes the kernel refused (negative errno). */
  WRITE_ERRORS: COUNTER_COUNT + 1,
  /** Reads that failed with an errno other than EINTR/EAGAIN. */
  READ_ERRORS: COUNTER_COUNT + 2,
  /** Configuration generations this Worker switched to (SIGHUP reloads). */
  RELOADS: COUNTER_COUNT + 3,
} as const;

/** Entries of a row that are single named counters: the engine's, then {@link IoStat}. */
export const SCALAR_COUNTERS: number = COUNTER_COUNT + 4;

/**
 * Protocol labels of the per-protocol packet counts (upstream protomask's
 * `protomask_packets{protocol}`): every packet counts under its IP version and, when it is one
 * of these, under its transport too.
 */
export const PACKET_PROTOCOLS: readonly string[] = ["ipv4", "ipv6", "icmp", "icmpv6", "tcp", "udp"];
/** Status labels of the per-protocol packet counts: translated, or not (`dropped`). */
export const PACKET_STATUSES: readonly string[] = ["translated", "dropped"];
/** First entry of the per-protocol packet counts: `[protocol × 2 + status]`. */
export const PACKETS_BASE: number = SCALAR_COUNTERS;
/** ICMP codes counted one by one (0..15); larger codes share the last bucket. */
export const ICMP_CODE_BUCKETS = 17;
/**
 * First entry of the received-ICMP counts: `[(family × 256 + type) × ICMP_CODE_BUCKETS +
 * min(code, 16)]`, family 0 for ICMP, 1 for ICMPv6.
 */
export const ICMP_RECV_BASE: number = PACKETS_BASE + PACKET_PROTOCOLS.length * 2;

/**
 * Entries in one Worker's counter row: the engine's counters, {@link IoStat}, the
 * per-protocol packet counts and the received-ICMP counts (about 70 KB).
 */
export const COUNTER_ROW_LENGTH: number = ICMP_RECV_BASE + 2 * 256 * ICMP_CODE_BUCKETS;

/** Int32 control words. */
const C_GENERATION = 0;
const C_STOP = 1;
const CONTROL_WORDS = 8;
/** Byte offset of the clock (Float64, milliseconds since the Unix epoch). */
const CLOCK_OFFSET = CONTROL_WORDS * 4;
/** Byte offset of the first counter row. */
const ROWS_OFFSET = CLOCK_OFFSET + 8;

/**
 * The control block and counter rows over one SharedArrayBuffer.
 *
 * The clock is a Float64 written by one thread; an aligned 8-byte store is not torn on the
 * 64-bit platforms Deno runs on, and a reader that sees the previous value is at most one tick
 * (~100 ms) behind.
 */
export class SharedState {
  /** The buffer (post it to Workers; they `attach`). */
  readonly buffer: SharedArrayBuffer;
  /** Number of counter rows (Workers). */
  readonly rows: number;
  readonly #control: Int32Array;
  readonly #clock: Float64Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.rows = (buffer.byteLength - ROWS_OFFSET) / (COUNTER_ROW_LENGTH * 8);
    this.#control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.#clock = new Float64Array(buffer, CLOCK_OFFSET, 1);
  }

  /**
   * Allocates the shared state for `workers` packet Workers.
   * @param workers number of counter rows (at least 1)
   * @returns the new state (generation 0, not stopped, clock 0)
   */
  static create(workers: number): SharedState {
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`workers must be a positive integer, got ${workers}`);
    }
    return new SharedState(new SharedArrayBuffer(ROWS_OFFSET + workers * COUNTER_ROW_LENGTH * 8));
  }

  /**
   * Wraps a buffer made by {@link SharedState.create} (in a Worker).
   * @param buffer the shared buffer
   * @returns a view of the same state
   */
  static attach(buffer: SharedArrayBuffer): SharedState {
    const rowBytes = COUNTER_ROW_LENGTH * 8;
    if (
      buffer.byteLength < ROWS_OFFSET + rowBytes || (buffer.byteLength - ROWS_OFFSET) % rowBytes
    ) {
      throw new RangeError(`not a SharedState buffer (${buffer.byteLength} bytes)`);
    }
    return new SharedState(buffer);
  }

  /**
   * The counter row of one Worker (a view; pass it to the engine context as its counters).
   * @param index Worker index, 0-based
   * @returns the row
   */
  counterRow(index: number): Float64Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.rows) {
      throw new RangeError(`counter row ${index} out of 0..${this.rows - 1}`);
    }
    return new Float64Array(
      this.buffer,
      ROWS_OFFSET + index * COUNTER_ROW_LENGTH * 8,
      COUNTER_ROW_LENGTH,
    );
  }

  /**
   * Sums every Worker's row.
   * @returns a fresh array of {@link COUNTER_ROW_LENGTH} totals
   */
  sumCounters(): Float64Array {
    const total = new Float64Array(COUNTER_ROW_LENGTH);
    for (let r = 0; r < this.rows; r++) {
      const row = this.counterRow(r);
      for (let i = 0; i < COUNTER_ROW_LENGTH; i++) total[i]! += row[i]!;
    }
    return total;
  }

  /** The configuration generation (bumped by every reload and by stop). */
  get generation(): number {
    return Atomics.load(this.#control, C_GENERATION);
  }

  /**
   * Publishes a new configuration generation; Workers notice it before their next packet.
   * @returns the new generation
   */
  bumpGeneration(): number {
    return Atomics.add(this.#control, C_GENERATION, 1) + 1;
  }

  /** Whether the daemon is stopping. */
  get stopping(): boolean {
    return Atomics.load(this.#control, C_STOP) !== 0;
  }

  /** Asks the Workers to stop (they see it with the generation bump this makes). */
  requestStop(): void {
    Atomics.store(this.#control, C_STOP, 1);
    this.bumpGeneration();
  }

  /** The coarse clock in milliseconds since the Unix epoch. */
  get nowMs(): number {
    return this.#clock[0]!;
  }

  /**
   * Sets the coarse clock (main thread, about every 100 ms).
   * @param nowMs milliseconds since the Unix epoch
   */
  setNowMs(nowMs: number): void {
    this.#clock[0] = nowMs;
  }
}
