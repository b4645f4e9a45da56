/**
 * The lease table's SharedArrayBuffer: its sections, the header cells by name, the slot flags,
 * and the pool address ranges the slots stand for. Pure layout arithmetic; the table
 * (./table.ts) and the event ring (./event_ring.ts) work through the views made here.
 *
 * ```
 * header   Int32 x 20   lock, magic, sizes, live count, free hint, next possible expiry,
 *                       event ring cursors and counters (the H_* cells below)
 * v6       Uint32 x 4n  IPv6 address of each pool slot (big-endian words)
 * lastSeen Uint32 x n   seconds; refreshed with one Atomics.store
 * flags    Int32 x n    FREE, IN_USE, RESERVED (covered by a static map)
 * used     Int32 x n/32 bitmap of non-free slots: lowest free slot in O(1)-ish
 * hash     Int32 x 2^k  ./hash.ts from IPv6 to slot, load factor <= 1/2
 * events   Int32 x 8r   the event ring (./event_ring.ts names the 8 cells of a record)
 * prefixes Int32 x 4p+2 per-prefix lease counts of MaxLeasesPerPrefix (./limits.ts), or none
 * bucket   Int32 x 2    token bucket of MaxNewLeasesPerSecond
 * ```
 *
 * docs/ARCHITECTURE.md ("Lease table") gives the byte offsets.
 *
 * @module
 */

import type { Ipv4Prefix } from "../addr/ipv4.ts";
import { BUCKET_CELLS, type LeaseLimitOptions, prefixCells } from "./limits.ts";
import {
  DEFAULT_EVENT_RING_SIZE,
  type LeaseTableOptions,
  MAX_DEFAULT_EVENT_RING_SIZE,
  MAX_EVENT_RING_SIZE,
  MAX_EVENT_WAIT_MS,
  MAX_POOL_ADDRESSES,
} from "./types.ts";
import { ceilPow2, wordMask } from "./words.ts";

// Header cells (Int32 indices).
/** The spin lock: 0 free, 1 held (`Atomics.compareExchange`). */
export const H_LOCK = 0;
/** {@link MAGIC} once the creator has initialised the buffer. */
export const H_MAGIC = 1;
/** Pool slots (checked by `attach`). */
export const H_SLOTS = 2;
/** Hash cells (checked by `attach`). */
export const H_HASH_SIZE = 3;
/** Event ring records (a power of two). */
export const H_RING_SIZE = 4;
/** `reservationSecs` (checked by `attach`). */
export const H_RESERVATION = 5;
/** Leases held (live, or expired and not yet reclaimed). */
export const H_SIZE = 6;
/** First `used` word that may have a free bit. */
export const H_FREE_HINT = 7;
/** uint32: no lease can be expired while `now` is below this (min lastSeen + res + 1). */
export const H_NEXT_CHECK = 8;
/** Event ring write cursor (records ever written, wrapping int32). */
export const H_EV_WRITE = 9;
/** Event ring read cursor. */
export const H_EV_READ = 10;
/** Events overwritten before anyone drained them. */
export const H_EV_LOST = 11;
/** Slots not reserved by a static map. */
export const H_LEASABLE = 12;
/** Bumped (and notified) each time the ring fills to half its size: see `waitForEvents`. */
export const H_EV_SIGNAL = 13;
/** Refusals not recorded because the ring was at least half full. */
export const H_REFUSALS_UNRECORDED = 14;
/** Lossless mode: the most milliseconds an allocation waits for ring room (0: overwrite). */
export const H_EV_WAIT_MS = 15;
/** Allocations that found the ring full and waited for the main thread to drain. */
export const H_EV_WAITS = 16;
/** Allocations refused because the ring stayed full for `eventWaitMs`. */
export const H_EV_WAIT_REFUSALS = 17;
/**
 * 1 after a wait for room timed out, until the next drain: later allocations are refused at
 * once instead of each waiting again, so a stalled main thread costs a Worker one wait.
 */
export const H_EV_STALLED = 18;
/** Header size in Int32 cells (one spare). */
export const HEADER_CELLS = 20;
/** "LEAS": the header's {@link H_MAGIC} of an initialised buffer. */
export const MAGIC = 0x4c454153;

/** Int32 cells of one event record (./event_ring.ts names them). */
export const EV_CELLS = 8;

// Slot flags.
/** Slot flag: no lease. */
export const FREE = 0;
/** Slot flag: leased (live or expired). */
export const IN_USE = 1;
/** Slot flag: the address is claimed by a static map; never leased. */
export const RESERVED = 2;

/** The largest uint32. */
export const U32_MAX = 0xffffffff;

/** Pool address ranges derived from the options (identical in every thread). */
export interface PoolRanges {
  /** First address of each prefix's leasable range. */
  first: Uint32Array;
  /** Addresses in each range. */
  count: Uint32Array;
  /** Slot of each range's first address. */
  base: Uint32Array;
  /** Slots in all. */
  slots: number;
}

/** Section sizes and byte offsets inside the SharedArrayBuffer. */
export interface Layout {
  /** Pool slots. */
  slots: number;
  /** Hash cells. */
  hashSize: number;
  /** Event ring records. */
  ringSize: number;
  /** Int32 words of the `used` bitmap. */
  words: number;
  /** Byte offset of the v6 section. */
  v6At: number;
  /** Byte offset of lastSeen. */
  lastAt: number;
  /** Byte offset of flags. */
  flagsAt: number;
  /** Byte offset of the used bitmap. */
  usedAt: number;
  /** Byte offset of the hash. */
  hashAt: number;
  /** Byte offset of the event ring. */
  ringAt: number;
  /** Byte offset of the per-prefix counts. */
  prefixAt: number;
  /** Int32 cells of the per-prefix counts. */
  prefixCells: number;
  /** Byte offset of the token bucket. */
  bucketAt: number;
  /** Buffer size. */
  bytes: number;
}

/** Typed-array views of every section of one table's buffer. */
export interface LeaseViews {
  /** Header cells. */
  h: Int32Array;
  /** The same header cells, unsigned (H_NEXT_CHECK and the counters). */
  hu: Uint32Array;
  /** IPv6 host of each slot. */
  v6: Uint32Array;
  /** Last-seen seconds of each slot. */
  last: Uint32Array;
  /** Slot flags. */
  flags: Int32Array;
  /** Bitmap of non-free slots. */
  used: Int32Array;
  /** Hash cells. */
  hash: Int32Array;
  /** Event records. */
  ring: Int32Array;
  /** Per-prefix counts. */
  prefixes: Int32Array;
  /** Token bucket. */
  bucket: Int32Array;
}

function checkPrefix4(p: Ipv4Prefix, where: string): void {
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > 32) {
    throw new RangeError(`${where}: prefix length must be 0..32`);
  }
  if (!Number.isInteger(p.addr) || p.addr < 0 || p.addr > U32_MAX) {
    throw new RangeError(`${where}: address must be a uint32`);
  }
  if (((p.addr & ~wordMask(p.len, 0)) >>> 0) !== 0) {
    throw new RangeError(`${where}: host bits set`);
  }
}

/**
 * Checks the pool and numbers its addresses: every address of each prefix in order, except the
 * network and broadcast addresses of prefixes shorter than /31 (RFC 3021).
 *
 * @param pool Pool prefixes in configuration order.
 * @returns The ranges.
 * @throws {RangeError} On a malformed or overlapping prefix, or a pool over
 *   {@link MAX_POOL_ADDRESSES}.
 */
export function poolRanges(pool: readonly Ipv4Prefix[]): PoolRanges {
  const n = pool.length;
  const first = new Uint32Array(n);
  const count = new Uint32Array(n);
  const base = new Uint32Array(n);
  let slots = 0;
  for (let r = 0; r < n; r++) {
    const p = pool[r]!;
    checkPrefix4(p, `pool[${r}]`);
    for (let q = 0; q < r; q++) {
      const o = pool[q]!;
      const len = Math.min(o.len, p.len);
      if (((o.addr ^ p.addr) & wordMask(len, 0)) === 0) {
        throw new RangeError(`pool[${r}]: overlaps pool[${q}]`);
      }
    }
    const size = 2 ** (32 - p.len);
    // RFC 3021: a /31 (and a /32) has no network or broadcast address to skip.
    const skip = p.len < 31 ? 1 : 0;
    if (slots + size - 2 * skip > MAX_POOL_ADDRESSES) {
      throw new RangeError(`pool: more than ${MAX_POOL_ADDRESSES} addresses`);
    }
    first[r] = p.addr + skip;
    count[r] = size - 2 * skip;
    base[r] = slots;
    slots += size - 2 * skip;
  }
  return { first, count, base, slots };
}

/**
 * Lays the sections out one after the other.
 *
 * @param slots Pool slots.
 * @param ringSize Event ring records.
 * @param limits The abuse limits (the per-prefix counts need room).
 * @returns Sizes and byte offsets.
 */
export function layoutFor(slots: number, ringSize: number, limits: LeaseLimitOptions): Layout {
  const words = Math.ceil(slots / 32);
  const hashSize = ceilPow2(Math.max(16, 2 * slots));
  const v6At = HEADER_CELLS * 4;
  const lastAt = v6At + 16 * slots;
  const flagsAt = lastAt + 4 * slots;
  const usedAt = flagsAt + 4 * slots;
  const hashAt = usedAt + 4 * words;
  const ringAt = hashAt + 4 * hashSize;
  const prefixAt = ringAt + 4 * EV_CELLS * ringSize;
  const pCells = prefixCells(limits, slots);
  const bucketAt = prefixAt + 4 * pCells;
  const bytes = bucketAt + 4 * BUCKET_CELLS;
  return {
    slots,
    hashSize,
    ringSize,
    words,
    v6At,
    lastAt,
    flagsAt,
    usedAt,
    hashAt,
    ringAt,
    prefixAt,
    prefixCells: pCells,
    bucketAt,
    bytes,
  };
}

/**
 * Views every section of a buffer laid out by {@link layoutFor}.
 *
 * @param sab The buffer (`lay.bytes` long).
 * @param lay Its layout.
 * @returns The views.
 */
export function viewsOf(sab: SharedArrayBuffer, lay: Layout): LeaseViews {
  return {
    h: new Int32Array(sab, 0, HEADER_CELLS),
    hu: new Uint32Array(sab, 0, HEADER_CELLS),
    v6: new Uint32Array(sab, lay.v6At, 4 * lay.slots),
    last: new Uint32Array(sab, lay.lastAt, lay.slots),
    flags: new Int32Array(sab, lay.flagsAt, lay.slots),
    used: new Int32Array(sab, lay.usedAt, lay.words),
    hash: new Int32Array(sab, lay.hashAt, lay.hashSize),
    ring: new Int32Array(sab, lay.ringAt, EV_CELLS * lay.ringSize),
    prefixes: new Int32Array(sab, lay.prefixAt, lay.prefixCells),
    bucket: new Int32Array(sab, lay.bucketAt, BUCKET_CELLS),
  };
}

/**
 * The event ring's size for the options: `eventRingSize`, or the pool's size clamped to
 * {@link DEFAULT_EVENT_RING_SIZE}..{@link MAX_DEFAULT_EVENT_RING_SIZE}; a power of two.
 *
 * @param opts The table options.
 * @param slots Pool slots.
 * @returns Records.
 * @throws {RangeError} On a bad `eventRingSize`.
 */
export function ringSizeOf(opts: LeaseTableOptions, slots: number): number {
  const n = opts.eventRingSize ??
    Math.min(MAX_DEFAULT_EVENT_RING_SIZE, Math.max(DEFAULT_EVENT_RING_SIZE, slots));
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVENT_RING_SIZE) {
    throw new RangeError(`eventRingSize must be an integer 1..${MAX_EVENT_RING_SIZE}`);
  }
  return ceilPow2(n);
}

/**
 * Checks `eventWaitMs`.
 *
 * @param ms The option (undefined: not set).
 * @throws {RangeError} Unless absent or an integer 1..{@link MAX_EVENT_WAIT_MS}.
 */
export function checkEventWait(ms: number | undefined): void {
  if (ms === undefined) return;
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_EVENT_WAIT_MS) {
    throw new RangeError(`eventWaitMs must be an integer 1..${MAX_EVENT_WAIT_MS}`);
  }
}

/**
 * Checks `reservationSecs`.
 *
 * @param secs The option.
 * @throws {RangeError} Unless an integer 0..2^31-1.
 */
export function checkReservation(secs: number): void {
  if (!Number.isInteger(secs) || secs < 0 || secs > 0x7fffffff) {
    throw new RangeError("reservationSecs must be an integer 0..2147483647");
  }
}
