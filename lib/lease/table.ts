/**
 * The NAT64 lease table: which IPv4 address stands for which IPv6 host.
 *
 * Two sources of mappings, consulted in this order:
 *
 * 1. **Static maps** (`StaticMapTable`): address pairs and RFC 7757 EAM
 *    prefix pairs. They never expire and their IPv4 addresses are never
 *    leased to anyone else.
 * 2. **Dynamic pool**: IPv4 prefixes in configuration order. Every address of
 *    a prefix is a pool address, except the network and broadcast addresses
 *    of prefixes shorter than /31 (RFC 3021 lets /31 and /32 use both).
 *    Each new IPv6 source gets the first free pool address (first come,
 *    first served); traffic in either direction refreshes the lease; a lease
 *    idle for more than `reservationSecs` seconds is expired and behaves as
 *    absent at once, even before `sweep()` reclaims it.
 *
 * The dynamic state lives in ONE SharedArrayBuffer so packet Workers share it
 * without messages (docs/DESIGN.md; byte offsets in docs/ARCHITECTURE.md):
 *
 * ```
 * header   Int32 x 16   lock, magic, sizes, live count, free hint, next
 *                       possible expiry, event ring cursors
 * v6       Uint32 x 4n  IPv6 address of each pool slot (big-endian words)
 * lastSeen Uint32 x n   seconds; refreshed with one Atomics.store
 * flags    Int32 x n    FREE, IN_USE, RESERVED (covered by a static map)
 * used     Int32 x n/32 bitmap of non-free slots: lowest free slot in O(1)-ish
 * hash     Int32 x 2^k  open addressing (linear probing, backward-shift
 *                       deletion) from IPv6 to slot, load factor <= 1/2
 * events   Int32 x 8r   ring of {kind, slot (a refusal: its count), atSecs, v6 words x 4,
 *                       v4 (a refusal: why, MAP_* - NOT_IPV4)}
 * prefixes Int32 x 5p   per-prefix lease counts of MaxLeasesPerPrefix (./limits.ts), or none
 * bucket   Int32 x 2    token bucket of MaxNewLeasesPerSecond
 * ```
 *
 * The event ring has two modes. By default (the offline mode, tests) a full ring overwrites its
 * oldest record and counts it lost. With `eventWaitMs` (the daemon, for its lossless audit log)
 * it never overwrites a lease event: an allocation that finds no room releases the lock and
 * waits (`Atomics.wait`, at most `eventWaitMs` in all) for the main thread to drain, and is
 * refused when there is still no room — no lease exists without its record. Expiries free only
 * as many leases as the ring has room for; the rest stay (they already behave as absent) until
 * the next sweep or allocation.
 *
 * Lookups are plain reads; creating, freeing, sweeping, snapshotting and
 * draining events take a spin lock (`Atomics.compareExchange` on the header's
 * first cell). A lookup racing a deletion may miss an entry for an instant;
 * an allocating lookup repeats the search under the lock, so a host never gets
 * two leases. A Worker dying while it holds the lock would stall the others:
 * the critical sections contain no code that can throw.
 *
 * Time is always passed in (`nowSecs`, whole seconds; fractions are dropped).
 * The offline mode passes packet timestamps and never sweeps, which is why
 * every lookup checks expiry itself and allocation reclaims expired leases.
 *
 * @module
 */

import { formatIpv4, type Ipv4Prefix, parseIpv4 } from "../addr/ipv4.ts";
import { formatIpv6, parseIpv6 } from "../addr/ipv6.ts";
import { NOT_IPV4 } from "../addr/rfc6052.ts";
import {
  BUCKET_CELLS,
  checkLimitOptions,
  type LeaseLimitOptions,
  LeaseLimits,
  LIMIT_OK,
  NO_LEASE_LIMITS,
  prefixCells,
} from "./limits.ts";
import { type StaticMap, StaticMapTable } from "./static_map.ts";
import { ceilPow2, hashWords, readWord, wordMask, writeWord } from "./words.ts";

export type { StaticMap } from "./static_map.ts";
export type { LeaseLimitOptions } from "./limits.ts";

/** Flag for `v4For6`/`v6For4`: refresh the lease's last-seen time. */
export const LEASE_REFRESH = 1;
/** Flag for `v4For6`: create a lease when the IPv6 source has none. */
export const LEASE_ALLOCATE = 2;
/** Returned by `v4For6`/`staticV4For6`: no mapping. */
export const MAP_NONE: number = NOT_IPV4;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: no mapping and the pool is exhausted. */
export const MAP_EXHAUSTED: number = NOT_IPV4 + 1;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: a new lease refused, source not allowed. */
export const MAP_SOURCE_NOT_ALLOWED: number = NOT_IPV4 + 2;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: a new lease refused, its prefix is at its limit. */
export const MAP_PREFIX_LIMIT: number = NOT_IPV4 + 3;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: a new lease refused by the rate limit. */
export const MAP_RATE_LIMIT: number = NOT_IPV4 + 4;
/** Largest pool accepted (a /10): the table needs about 40 bytes per address. */
export const MAX_POOL_ADDRESSES = 1 << 22;
/**
 * Smallest event ring (records) when `eventRingSize` is not given; a larger pool gets a ring
 * with room for an event per pool address (up to {@link MAX_DEFAULT_EVENT_RING_SIZE}), so
 * even every lease being created, or expiring in one sweep, at once fits in it.
 */
export const DEFAULT_EVENT_RING_SIZE = 1024;
/** Largest event ring (records, 2 MiB) chosen when `eventRingSize` is not given. */
export const MAX_DEFAULT_EVENT_RING_SIZE = 65536;
/** Longest bounded wait for event-ring room accepted as `eventWaitMs`. */
export const MAX_EVENT_WAIT_MS = 10_000;
/** Largest event ring accepted (records). */
export const MAX_EVENT_RING_SIZE = 1 << 20;
/** How far in the future a restored lease's last-seen time may lie (clock skew). */
export const RESTORE_FUTURE_SLACK_SECS = 60;

/** Options shared by `LeaseTable.create` and `LeaseTable.attach`. */
export interface LeaseTableOptions {
  /** Dynamic pool prefixes in configuration order (must not overlap). */
  pool: readonly Ipv4Prefix[];
  /** Static maps (RFC 7757 EAM entries and address pairs). */
  staticMaps: readonly StaticMap[];
  /** Idle seconds after which a dynamic lease expires (integer, 0..2^31-1). */
  reservationSecs: number;
  /**
   * Event ring capacity in records, rounded up to a power of two (default: the pool's size,
   * at least {@link DEFAULT_EVENT_RING_SIZE}, at most {@link MAX_DEFAULT_EVENT_RING_SIZE}).
   */
  eventRingSize?: number;
  /**
   * Lossless mode: when set (1..10,000 ms), a full ring is never overwritten; an allocation
   * waits for room at most this long in all and is refused after it. Left out: the oldest
   * record is overwritten and counted in `eventsLost`. Stored in the buffer: `attach` takes
   * the creator's mode whatever its own options say.
   */
  eventWaitMs?: number;
  /** Abuse limits on new dynamic leases (default: none); see ./limits.ts. */
  limits?: LeaseLimitOptions;
}

/** A dynamic lease as persisted: text addresses and last-seen seconds. */
export interface LeaseRecord {
  /** Pool address, dotted quad. */
  v4: string;
  /** IPv6 host, RFC 5952 text. */
  v6: string;
  /** Last traffic, seconds on the caller's clock. */
  lastSeenSecs: number;
}

/** What happened to a lease. */
export type LeaseEventKind = "created" | "expired" | "refused" | "restored";

/** Why a new lease was refused. */
export type LeaseRefusal =
  | "pool exhausted"
  | "source not allowed"
  | "prefix lease limit"
  | "lease rate limit";

/** Refusal names by the `v4For6` result minus `NOT_IPV4` (the code kept in the event ring). */
const REFUSALS: readonly (LeaseRefusal | undefined)[] = [
  undefined,
  "pool exhausted",
  "source not allowed",
  "prefix lease limit",
  "lease rate limit",
];

/** One entry drained from the event ring. */
export interface LeaseEvent {
  /** What happened. */
  kind: LeaseEventKind;
  /** The pool address (uint32); -1 for "refused". */
  v4: number;
  /** The IPv6 host (16 bytes, a fresh copy). */
  v6: Uint8Array;
  /** `nowSecs` of the call that recorded the event (the first one, for refusals). */
  atSecs: number;
  /**
   * How many times it happened: 1, except for "refused", where refusals of one host in a row
   * (no other event between them, none drained) share a record.
   */
  count: number;
  /** Why a "refused" event was refused (absent: "pool exhausted"); null for the other kinds. */
  refusal?: LeaseRefusal | null;
}

/** Why `restore()` refused a record. */
export type LeaseDropReason =
  | "unparsable"
  | "static conflict"
  | "outside pool"
  | "expired"
  | "future-dated"
  | "duplicate v4"
  | "duplicate v6";

/** Result of `restore()`. */
export interface RestoreResult {
  /** Number of leases now in the table. */
  restored: number;
  /** Records not restored, in input order, with the reason. */
  dropped: { record: LeaseRecord; reason: LeaseDropReason }[];
}

/** Result of `reconfigure()`: the new table plus what carried over. */
export interface ReconfigureResult extends RestoreResult {
  /** The new table (a new SharedArrayBuffer). */
  table: LeaseTable;
}

/**
 * The hot-path part of the table, as the translation engine sees it.
 * Implemented by `LeaseTable`; tests may supply fakes.
 */
export interface LeaseLookup {
  /** See `LeaseTable.v4For6`. */
  v4For6(buf: Uint8Array, off: number, nowSecs: number, flags: number): number;
  /** See `LeaseTable.v6For4`. */
  v6For4(v4: number, out: Uint8Array, outOff: number, nowSecs: number, flags: number): number;
  /** See `LeaseTable.staticV4For6`. */
  staticV4For6(buf: Uint8Array, off: number): number;
  /** See `LeaseTable.staticV6For4`. */
  staticV6For4(v4: number, out: Uint8Array, outOff: number): number;
  /** See `LeaseTable.owns4`. */
  owns4(v4: number): boolean;
}

// Header cells (Int32 indices).
const H_LOCK = 0;
const H_MAGIC = 1;
const H_SLOTS = 2;
const H_HASH_SIZE = 3;
const H_RING_SIZE = 4;
const H_RESERVATION = 5;
const H_SIZE = 6;
const H_FREE_HINT = 7;
/** uint32: no lease can be expired while `now` is below this (min lastSeen + res + 1). */
const H_NEXT_CHECK = 8;
const H_EV_WRITE = 9;
const H_EV_READ = 10;
const H_EV_LOST = 11;
const H_LEASABLE = 12;
/** Bumped (and notified) each time the ring fills to half its size: see `waitForEvents`. */
const H_EV_SIGNAL = 13;
/** Refusals not recorded because the ring was at least half full. */
const H_REFUSALS_UNRECORDED = 14;
/** Lossless mode: the most milliseconds an allocation waits for ring room (0: overwrite). */
const H_EV_WAIT_MS = 15;
/** Allocations that found the ring full and waited for the main thread to drain. */
const H_EV_WAITS = 16;
/** Allocations refused because the ring stayed full for `eventWaitMs`. */
const H_EV_WAIT_REFUSALS = 17;
/**
 * 1 after a wait for room timed out, until the next drain: later allocations are refused at
 * once instead of each waiting again, so a stalled main thread costs a Worker one wait.
 */
const H_EV_STALLED = 18;
const HEADER_CELLS = 20;
const MAGIC = 0x4c454153; // "LEAS"

// Slot flags.
const FREE = 0;
const IN_USE = 1;
const RESERVED = 2;

/** Hash slot holding no entry. */
const EMPTY = -1;

// Event record: 8 Int32 cells.
const EV_CELLS = 8;
const EV_CREATED = 1;
const EV_EXPIRED = 2;
const EV_REFUSED = 3;
const EV_RESTORED = 4;
const EVENT_KINDS: readonly LeaseEventKind[] = [
  "created",
  "created",
  "expired",
  "refused",
  "restored",
];

const U32_MAX = 0xffffffff;

/** Pool address ranges derived from the options (identical in every thread). */
interface PoolRanges {
  first: Uint32Array;
  count: Uint32Array;
  base: Uint32Array;
  slots: number;
}

/** Section sizes and byte offsets inside the SharedArrayBuffer. */
interface Layout {
  slots: number;
  hashSize: number;
  ringSize: number;
  words: number;
  v6At: number;
  lastAt: number;
  flagsAt: number;
  usedAt: number;
  hashAt: number;
  ringAt: number;
  prefixAt: number;
  prefixCells: number;
  bucketAt: number;
  bytes: number;
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

function poolRanges(pool: readonly Ipv4Prefix[]): PoolRanges {
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

function layoutFor(slots: number, ringSize: number, limits: LeaseLimitOptions): Layout {
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

function ringSizeOf(opts: LeaseTableOptions, slots: number): number {
  const n = opts.eventRingSize ??
    Math.min(MAX_DEFAULT_EVENT_RING_SIZE, Math.max(DEFAULT_EVENT_RING_SIZE, slots));
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVENT_RING_SIZE) {
    throw new RangeError(`eventRingSize must be an integer 1..${MAX_EVENT_RING_SIZE}`);
  }
  return ceilPow2(n);
}

function checkEventWait(ms: number | undefined): void {
  if (ms === undefined) return;
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_EVENT_WAIT_MS) {
    throw new RangeError(`eventWaitMs must be an integer 1..${MAX_EVENT_WAIT_MS}`);
  }
}

function checkReservation(secs: number): void {
  if (!Number.isInteger(secs) || secs < 0 || secs > 0x7fffffff) {
    throw new RangeError("reservationSecs must be an integer 0..2147483647");
  }
}

/**
 * The lease table (static maps + dynamic pool) over one SharedArrayBuffer.
 *
 * Make one with {@link LeaseTable.create}; a Worker joins it with
 * {@link LeaseTable.attach}. The hot-path methods (`v4For6`, `v6For4`,
 * `staticV4For6`, `staticV6For4`, `owns4`) never allocate and never throw.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { formatIpv4 } from "../addr/ipv4.ts";
 * import { parseIpv6 } from "../addr/ipv6.ts";
 *
 * const t = LeaseTable.create({
 *   pool: [{ addr: 0xc0000200, len: 24 }], // 192.0.2.0/24
 *   staticMaps: [],
 *   reservationSecs: 7200,
 * });
 * const host = parseIpv6("2001:db8::1")!; // or an IPv6 header's source: (packet, 8)
 * const nowSecs = 1_700_000_000;
 * const v4 = t.v4For6(host, 0, nowSecs, LEASE_ALLOCATE | LEASE_REFRESH);
 * strictEqual(formatIpv4(v4 >>> 0), "192.0.2.1"); // the first pool address, network skipped
 * ```
 */
export class LeaseTable implements LeaseLookup {
  #sab: SharedArrayBuffer;
  #static: StaticMapTable;
  #rFirst: Uint32Array;
  #rCount: Uint32Array;
  #rBase: Uint32Array;
  #slots: number;
  #res: number;
  #h: Int32Array;
  #hu: Uint32Array;
  #v6: Uint32Array;
  #last: Uint32Array;
  #flags: Int32Array;
  #used: Int32Array;
  #hash: Int32Array;
  #ring: Int32Array;
  #limits: LeaseLimits;

  private constructor(sab: SharedArrayBuffer, opts: LeaseTableOptions, fresh: boolean) {
    checkReservation(opts.reservationSecs);
    checkEventWait(opts.eventWaitMs);
    const st = new StaticMapTable(opts.staticMaps);
    const ranges = poolRanges(opts.pool);
    const ringSize = ringSizeOf(opts, ranges.slots);
    const limits = opts.limits ?? NO_LEASE_LIMITS;
    checkLimitOptions(limits);
    const lay = layoutFor(ranges.slots, ringSize, limits);
    if (sab.byteLength !== lay.bytes) {
      throw new RangeError(`buffer is ${sab.byteLength} bytes; these options need ${lay.bytes}`);
    }
    this.#sab = sab;
    this.#static = st;
    this.#rFirst = ranges.first;
    this.#rCount = ranges.count;
    this.#rBase = ranges.base;
    this.#slots = ranges.slots;
    this.#res = opts.reservationSecs;
    this.#h = new Int32Array(sab, 0, HEADER_CELLS);
    this.#hu = new Uint32Array(sab, 0, HEADER_CELLS);
    this.#v6 = new Uint32Array(sab, lay.v6At, 4 * lay.slots);
    this.#last = new Uint32Array(sab, lay.lastAt, lay.slots);
    this.#flags = new Int32Array(sab, lay.flagsAt, lay.slots);
    this.#used = new Int32Array(sab, lay.usedAt, lay.words);
    this.#hash = new Int32Array(sab, lay.hashAt, lay.hashSize);
    this.#ring = new Int32Array(sab, lay.ringAt, EV_CELLS * lay.ringSize);
    this.#limits = new LeaseLimits(
      limits,
      new Int32Array(sab, lay.prefixAt, lay.prefixCells),
      new Int32Array(sab, lay.bucketAt, BUCKET_CELLS),
    );
    const h = this.#h;
    if (fresh) {
      h[H_EV_WAIT_MS] = opts.eventWaitMs ?? 0;
      this.#initialise(lay);
    } else if (
      h[H_MAGIC] !== MAGIC || h[H_SLOTS] !== lay.slots || h[H_HASH_SIZE] !== lay.hashSize ||
      h[H_RING_SIZE] !== lay.ringSize || h[H_RESERVATION] !== opts.reservationSecs
    ) {
      throw new RangeError("buffer was not created by LeaseTable.create with these options");
    }
  }

  /** Fills a fresh buffer: empty hash, static-covered slots reserved. */
  #initialise(lay: Layout): void {
    const h = this.#h;
    this.#hash.fill(EMPTY);
    // Bits past the last slot are permanently "used".
    const tail = lay.slots & 31;
    if (tail !== 0) this.#used[lay.words - 1] = ~((1 << tail) - 1);
    let reserved = 0;
    for (let slot = 0; slot < lay.slots; slot++) {
      if (this.#static.covers4(this.#v4OfSlot(slot))) {
        this.#flags[slot] = RESERVED;
        this.#used[slot >>> 5] = this.#used[slot >>> 5]! | (1 << (slot & 31));
        reserved++;
      }
    }
    h[H_SLOTS] = lay.slots;
    h[H_HASH_SIZE] = lay.hashSize;
    h[H_RING_SIZE] = lay.ringSize;
    h[H_RESERVATION] = this.#res;
    h[H_SIZE] = 0;
    h[H_FREE_HINT] = 0;
    this.#hu[H_NEXT_CHECK] = U32_MAX;
    h[H_LEASABLE] = lay.slots - reserved;
    Atomics.store(h, H_MAGIC, MAGIC);
  }

  /**
   * Creates a table in a new SharedArrayBuffer.
   *
   * @param opts Pool, static maps, reservation time, event ring size.
   * @returns The table.
   * @throws {RangeError} On invalid options: overlapping pool prefixes, a
   *   pool larger than {@link MAX_POOL_ADDRESSES}, a malformed or duplicate
   *   static map (RFC 7757 §3.2), a bad `reservationSecs` or `eventRingSize`.
   */
  static create(opts: LeaseTableOptions): LeaseTable {
    const ranges = poolRanges(opts.pool);
    const limits = opts.limits ?? NO_LEASE_LIMITS;
    checkLimitOptions(limits);
    const lay = layoutFor(ranges.slots, ringSizeOf(opts, ranges.slots), limits);
    return new LeaseTable(new SharedArrayBuffer(lay.bytes), opts, true);
  }

  /**
   * Joins a table made by {@link LeaseTable.create} (e.g. in a Worker that
   * received `table.buffer`). Both views see and change the same leases.
   *
   * @param sab The creator's `buffer`.
   * @param opts Exactly the options the creator used.
   * @returns A view of the same table.
   * @throws {RangeError} When the buffer does not match the options.
   */
  static attach(sab: SharedArrayBuffer, opts: LeaseTableOptions): LeaseTable {
    return new LeaseTable(sab, opts, false);
  }

  /** The SharedArrayBuffer holding the dynamic state (post it to Workers). */
  get buffer(): SharedArrayBuffer {
    return this.#sab;
  }

  /** Dynamic leases held (live, or expired but not yet reclaimed by `sweep` or an allocation). */
  get size(): number {
    return Atomics.load(this.#h, H_SIZE);
  }

  /** Pool addresses that can be leased (static-covered ones excluded). */
  get capacity(): number {
    return this.#h[H_LEASABLE]!;
  }

  /**
   * Dynamic leases counted in the `LeasePrefixLength` prefix of an IPv6 address (the number
   * `MaxLeasesPerPrefix` limits; 0 when that limit is off).
   * @param v6 16 bytes
   * @returns the count
   */
  leasesInPrefix(v6: Uint8Array): number {
    this.#lock();
    const n = this.#limits.leasesInPrefix(
      readWord(v6, 0),
      readWord(v6, 4),
      readWord(v6, 8),
      readWord(v6, 12),
    );
    this.#unlock();
    return n;
  }

  /** Events overwritten in the ring before anyone drained them. */
  get eventsLost(): number {
    return Atomics.load(this.#hu, H_EV_LOST);
  }

  /** Records the event ring holds (see `eventRingSize`). */
  get eventRingSize(): number {
    return this.#h[H_RING_SIZE]!;
  }

  /** Records that fit in the event ring now, before anything would be overwritten. */
  get eventRoom(): number {
    const h = this.#h;
    return h[H_RING_SIZE]! - ((Atomics.load(h, H_EV_WRITE) - Atomics.load(h, H_EV_READ)) >>> 0);
  }

  /** Whether the ring never overwrites (the table was created with `eventWaitMs`). */
  get lossless(): boolean {
    return this.#h[H_EV_WAIT_MS]! > 0;
  }

  /** Lossless mode: allocations that found the event ring full and waited for room. */
  get eventWaits(): number {
    return Atomics.load(this.#hu, H_EV_WAITS);
  }

  /** Lossless mode: allocations refused because the ring stayed full for `eventWaitMs`. */
  get eventWaitRefusals(): number {
    return Atomics.load(this.#hu, H_EV_WAIT_REFUSALS);
  }

  /**
   * Refusals not recorded in the ring because it was at least half full (they would have
   * pushed out lease events); counted here instead.
   */
  get refusalsUnrecorded(): number {
    return Atomics.load(this.#hu, H_REFUSALS_UNRECORDED);
  }

  /**
   * A number that changes each time the event ring fills to half its size, and on
   * {@link wakeEventWaiters}. Read it, drain, then {@link waitForEvents} with it.
   */
  get eventSignal(): number {
    return Atomics.load(this.#h, H_EV_SIGNAL);
  }

  /**
   * Waits (without blocking the thread: `Atomics.waitAsync`) until {@link eventSignal}
   * differs from `seen`: the ring reached half full — a Worker recording events wakes the
   * main thread only then, never per packet — or someone called {@link wakeEventWaiters}.
   *
   * A pending wait does not keep Deno's event loop alive: the caller needs a timer or other
   * work pending (the daemon has its clock tick).
   *
   * @param seen the value of {@link eventSignal} read before the last drain
   * @returns a promise that resolves at once when the signal has already moved
   */
  async waitForEvents(seen: number): Promise<void> {
    const r = Atomics.waitAsync(this.#h, H_EV_SIGNAL, seen);
    if (r.async) await r.value;
  }

  /** Moves {@link eventSignal} and wakes every {@link waitForEvents} (a reload, a stop). */
  wakeEventWaiters(): void {
    Atomics.add(this.#h, H_EV_SIGNAL, 1);
    Atomics.notify(this.#h, H_EV_SIGNAL);
  }

  /** Idle seconds after which a lease expires. */
  get reservationSecs(): number {
    return this.#res;
  }

  // ---- hot path ----------------------------------------------------------

  /**
   * Maps an IPv6 source to its IPv4 address: static maps first (RFC 7757
   * §3.2), then the host's live dynamic lease. Allocation-free, never throws.
   *
   * @param buf Buffer holding the IPv6 address.
   * @param off Offset of its 16 bytes.
   * @param nowSecs Current time in seconds.
   * @param flags `LEASE_REFRESH` to refresh last-seen; `LEASE_ALLOCATE` to
   *   create a lease (first free pool address) when the host has none.
   * @returns The IPv4 address as an int32 (`>>> 0` for the uint32; int32s never allocate on
   *   the way out of a call), `MAP_NONE`, or `MAP_EXHAUSTED` (only
   *   with `LEASE_ALLOCATE`, recorded as a "refused" event).
   */
  v4For6(buf: Uint8Array, off: number, nowSecs: number, flags: number): number {
    const s = this.#static.v4For6(buf, off);
    if (s !== NOT_IPV4) return s;
    const w0 = readWord(buf, off);
    const w1 = readWord(buf, off + 4);
    const w2 = readWord(buf, off + 8);
    const w3 = readWord(buf, off + 12);
    const now = nowSecs >>> 0;
    const slot = this.#find(w0, w1, w2, w3);
    if (slot >= 0 && this.#flags[slot] === IN_USE) {
      const last = this.#last[slot]!;
      if (now - last <= this.#res) {
        if ((flags & LEASE_REFRESH) !== 0 && now > last) Atomics.store(this.#last, slot, now);
        return this.#v4OfSlot(slot);
      }
    }
    if ((flags & LEASE_ALLOCATE) === 0) return MAP_NONE;
    return this.#allocate(w0, w1, w2, w3, now, flags);
  }

  /**
   * Maps an IPv4 destination to IPv6: static maps first (RFC 7757 §3.2),
   * then the live lease of that pool address. Allocation-free, never throws.
   *
   * @param v4 IPv4 address (uint32).
   * @param out Buffer receiving the 16-byte IPv6 address.
   * @param outOff Offset in `out`.
   * @param nowSecs Current time in seconds.
   * @param flags `LEASE_REFRESH` to refresh the lease (other bits ignored).
   * @returns 1 when written; 0 when there is no mapping (not a pool address,
   *   not leased, or expired), leaving `out` untouched.
   */
  v6For4(v4: number, out: Uint8Array, outOff: number, nowSecs: number, flags: number): number {
    if (this.#static.v6For4(v4, out, outOff) === 1) return 1;
    const slot = this.#slotOf4(v4);
    if (slot < 0 || this.#flags[slot] !== IN_USE) return 0;
    const now = nowSecs >>> 0;
    const last = this.#last[slot]!;
    if (now - last > this.#res) return 0;
    if ((flags & LEASE_REFRESH) !== 0 && now > last) Atomics.store(this.#last, slot, now);
    const v6 = this.#v6;
    const b = 4 * slot;
    writeWord(out, outOff, v6[b]!);
    writeWord(out, outOff + 4, v6[b + 1]!);
    writeWord(out, outOff + 8, v6[b + 2]!);
    writeWord(out, outOff + 12, v6[b + 3]!);
    return 1;
  }

  /**
   * Maps IPv6 to IPv4 through the static maps only (RFC 7757 §3.2 EAM
   * lookup, longest prefix match); no lease is consulted or created.
   *
   * @param buf Buffer holding the IPv6 address.
   * @param off Offset of its 16 bytes.
   * @returns The IPv4 address as an int32, or `MAP_NONE`.
   */
  staticV4For6(buf: Uint8Array, off: number): number {
    return this.#static.v4For6(buf, off);
  }

  /**
   * Maps IPv4 to IPv6 through the static maps only (RFC 7757 §3.2).
   *
   * @param v4 IPv4 address (uint32).
   * @param out Buffer receiving the 16-byte IPv6 address.
   * @param outOff Offset in `out`.
   * @returns 1 when written, 0 when no static map covers `v4`.
   */
  staticV6For4(v4: number, out: Uint8Array, outOff: number): number {
    return this.#static.v6For4(v4, out, outOff);
  }

  /**
   * Tells whether an IPv4 address belongs to this translator.
   *
   * @param v4 IPv4 address (uint32).
   * @returns `true` for static-mapped and pool addresses (leased or not);
   *   `false` for everything else, including a pool prefix's skipped network
   *   and broadcast addresses.
   */
  owns4(v4: number): boolean {
    return this.#slotOf4(v4) >= 0 || this.#static.covers4(v4);
  }

  // ---- timer / control path ----------------------------------------------

  /**
   * Frees every expired lease and records an "expired" event for each.
   * Meant for a timer, not per packet (it scans the whole pool). In lossless mode it frees
   * only as many as the event ring has room for: when {@link eventRoom} is 0 afterwards,
   * drain and sweep again.
   *
   * @param nowSecs Current time in seconds.
   * @returns How many leases were freed.
   */
  sweep(nowSecs: number): number {
    this.#lock();
    const n = this.#reclaim(nowSecs >>> 0, this.#roomForExpiries(0));
    this.#unlock();
    return n;
  }

  /**
   * Lists the live dynamic leases (for persistence), in pool order.
   *
   * @param nowSecs Current time in seconds (expired leases are left out).
   * @returns One record per live lease.
   */
  snapshot(nowSecs: number): LeaseRecord[] {
    const now = nowSecs >>> 0;
    const out: LeaseRecord[] = [];
    const bytes = new Uint8Array(16);
    this.#lock();
    try {
      for (let slot = 0; slot < this.#slots; slot++) {
        if (this.#flags[slot] !== IN_USE) continue;
        const last = this.#last[slot]!;
        if (now - last > this.#res) continue;
        for (let k = 0; k < 4; k++) writeWord(bytes, 4 * k, this.#v6[4 * slot + k]!);
        out.push({
          v4: formatIpv4(this.#v4OfSlot(slot)),
          v6: formatIpv6(bytes),
          lastSeenSecs: last,
        });
      }
    } finally {
      this.#unlock();
    }
    return out;
  }

  /**
   * Puts saved leases back (after a restart or a reload), each at its old
   * address, recording a "restored" event for each.
   *
   * A record is dropped when it is unparsable, its IPv4 or IPv6 address is
   * covered by a static map, its IPv4 address is not a pool address, it is
   * expired (`now - lastSeen > reservationSecs`), it is future-dated
   * (`lastSeen > now + RESTORE_FUTURE_SLACK_SECS`), or its IPv4 or IPv6
   * address already has a live lease (earlier records win).
   *
   * @param records Leases as produced by `snapshot()` / `decodeLeaseFile()`.
   * @param nowSecs Current time in seconds.
   * @returns The number restored and the dropped records with reasons.
   */
  restore(records: readonly LeaseRecord[], nowSecs: number): RestoreResult {
    const now = nowSecs >>> 0;
    const dropped: RestoreResult["dropped"] = [];
    let restored = 0;
    this.#lock();
    try {
      for (const record of records) {
        const reason = this.#restoreOne(record, now);
        if (reason === null) restored++;
        else dropped.push({ record, reason });
      }
    } finally {
      this.#unlock();
    }
    return { restored, dropped };
  }

  /**
   * Builds a new table for new options (SIGHUP reload), carrying over every
   * live lease that is still valid under them. This table is left as it was.
   *
   * @param opts The new options.
   * @param nowSecs Current time in seconds.
   * @returns The new table, how many leases carried over, and the dropped ones.
   * @throws {RangeError} When the new options are invalid (see `create`).
   */
  reconfigure(opts: LeaseTableOptions, nowSecs: number): ReconfigureResult {
    const table = LeaseTable.create(opts);
    const { restored, dropped } = table.restore(this.snapshot(nowSecs), nowSecs);
    return { table, restored, dropped };
  }

  /**
   * Takes up to `max` events from the ring, oldest first. A Worker that fills the ring to half
   * its size moves {@link eventSignal}, so the main thread can drain before events are lost;
   * refusals are recorded only while the ring is less than half full (see
   * {@link refusalsUnrecorded}), so they never push lease events out.
   *
   * @param max Most events to return (default: all).
   * @returns The events; each `v6` is a fresh 16-byte array.
   */
  drainEvents(max: number = Infinity): LeaseEvent[] {
    const out: LeaseEvent[] = [];
    const ring = this.#ring;
    const h = this.#h;
    const mask = h[H_RING_SIZE]! - 1;
    this.#lock();
    try {
      let r = h[H_EV_READ]!;
      const w = h[H_EV_WRITE]!;
      while (r !== w && out.length < max) {
        const b = (r & mask) * EV_CELLS;
        const v6 = new Uint8Array(16);
        for (let k = 0; k < 4; k++) writeWord(v6, 4 * k, ring[b + 3 + k]!);
        const refused = ring[b]! === EV_REFUSED;
        out.push({
          kind: EVENT_KINDS[ring[b]!]!,
          v4: refused ? -1 : ring[b + 7]! >>> 0,
          v6,
          atSecs: ring[b + 2]! >>> 0,
          count: refused ? ring[b + 1]! : 1,
          refusal: refused ? REFUSALS[ring[b + 7]!] ?? "pool exhausted" : null,
        });
        r = (r + 1) | 0;
      }
      Atomics.store(h, H_EV_READ, r);
    } finally {
      this.#unlock();
    }
    // Wakes an allocation waiting for room (lossless mode); allocations may wait again.
    if (out.length > 0) {
      Atomics.store(h, H_EV_STALLED, 0);
      Atomics.notify(h, H_EV_READ);
    }
    return out;
  }

  // ---- internals ---------------------------------------------------------

  #lock(): void {
    while (Atomics.compareExchange(this.#h, H_LOCK, 0, 1) !== 0) {
      // Spin: critical sections are short and never block.
    }
  }

  #unlock(): void {
    Atomics.store(this.#h, H_LOCK, 0);
  }

  /** IPv4 address of a pool slot. */
  #v4OfSlot(slot: number): number {
    const base = this.#rBase;
    let r = base.length - 1;
    while (r > 0 && base[r]! > slot) r--;
    return (this.#rFirst[r]! + (slot - base[r]!)) | 0;
  }

  /** Pool slot of an IPv4 address, or -1. */
  #slotOf4(v4: number): number {
    const first = this.#rFirst;
    for (let r = 0; r < first.length; r++) {
      const d = (v4 - first[r]!) >>> 0;
      if (d < this.#rCount[r]!) return this.#rBase[r]! + d;
    }
    return -1;
  }

  /** Slot whose IPv6 is (w0..w3) according to the hash, or -1. */
  #find(w0: number, w1: number, w2: number, w3: number): number {
    const hash = this.#hash;
    const v6 = this.#v6;
    const mask = hash.length - 1;
    for (let i = hashWords(w0, w1, w2, w3, 0) & mask;; i = (i + 1) & mask) {
      const slot = hash[i]!;
      if (slot === EMPTY) return -1;
      const b = 4 * slot;
      if (v6[b] === w0 && v6[b + 1] === w1 && v6[b + 2] === w2 && v6[b + 3] === w3) return slot;
    }
  }

  #home(slot: number): number {
    const v6 = this.#v6;
    const b = 4 * slot;
    return hashWords(v6[b]!, v6[b + 1]!, v6[b + 2]!, v6[b + 3]!, 0) & (this.#hash.length - 1);
  }

  /** Adds a slot (its v6 words already written) to the hash. Lock held. */
  #hashInsert(slot: number): void {
    const hash = this.#hash;
    const mask = hash.length - 1;
    let i = this.#home(slot);
    while (hash[i] !== EMPTY) i = (i + 1) & mask;
    Atomics.store(hash, i, slot);
  }

  /** Removes a slot from the hash by backward-shift deletion. Lock held. */
  #hashRemove(slot: number): void {
    const hash = this.#hash;
    const mask = hash.length - 1;
    let i = this.#home(slot);
    while (hash[i] !== slot) {
      if (hash[i] === EMPTY) return;
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask;; j = (j + 1) & mask) {
      const e = hash[j]!;
      if (e === EMPTY) break;
      const k = this.#home(e);
      // e may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
      if (!stays) {
        Atomics.store(hash, i, e);
        i = j;
      }
    }
    Atomics.store(hash, i, EMPTY);
  }

  /**
   * Appends an event record, overwriting the oldest when full, and moves the event signal
   * when the ring reaches half full. A refusal is added to the newest record when that is a
   * refusal of the same host, and dropped (counted) when the ring is half full. Lock held.
   */
  #emit(
    kind: number,
    slot: number,
    v4: number,
    now: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
  ): void {
    const h = this.#h;
    const ring = this.#ring;
    const size = h[H_RING_SIZE]!;
    const half = size > 1 ? size >>> 1 : 1;
    const w = h[H_EV_WRITE]!;
    let r = h[H_EV_READ]!;
    if (kind === EV_REFUSED) {
      const fill = (w - r) >>> 0;
      if (fill > 0) {
        const p = ((w - 1) & (size - 1)) * EV_CELLS;
        if (
          ring[p] === EV_REFUSED && ring[p + 3] === w0 && ring[p + 4] === w1 &&
          ring[p + 5] === w2 && ring[p + 6] === w3 && ring[p + 7] === v4
        ) {
          ring[p + 1] = (ring[p + 1]! + 1) | 0;
          return;
        }
      }
      if (fill >= half) {
        h[H_REFUSALS_UNRECORDED] = (h[H_REFUSALS_UNRECORDED]! + 1) | 0;
        return;
      }
    }
    if (((w - r) >>> 0) >= size) {
      h[H_EV_LOST] = (h[H_EV_LOST]! + 1) | 0;
      // Lossless mode never overwrites (callers make room first; this is a last resort).
      if (h[H_EV_WAIT_MS]! > 0) return;
      r = (r + 1) | 0;
      h[H_EV_READ] = r;
    }
    const b = (w & (size - 1)) * EV_CELLS;
    ring[b] = kind;
    ring[b + 1] = slot;
    ring[b + 2] = now;
    ring[b + 3] = w0;
    ring[b + 4] = w1;
    ring[b + 5] = w2;
    ring[b + 6] = w3;
    ring[b + 7] = v4;
    h[H_EV_WRITE] = (w + 1) | 0;
    if ((((w + 1) | 0) - r) >>> 0 === half) {
      Atomics.add(h, H_EV_SIGNAL, 1);
      Atomics.notify(h, H_EV_SIGNAL);
    }
  }

  #lowerNextCheck(last: number): void {
    const t = Math.min(last + this.#res + 1, U32_MAX);
    if (t < this.#hu[H_NEXT_CHECK]!) this.#hu[H_NEXT_CHECK] = t;
  }

  /** Lowest free slot, marked used; or -1. Lock held. */
  #takeFree(): number {
    const used = this.#used;
    const h = this.#h;
    for (let wi = h[H_FREE_HINT]!; wi < used.length; wi++) {
      const w = used[wi]!;
      if (w !== -1) {
        const inv = ~w;
        const bit = 31 - Math.clz32(inv & -inv);
        used[wi] = w | (1 << bit);
        h[H_FREE_HINT] = wi;
        return 32 * wi + bit;
      }
    }
    h[H_FREE_HINT] = used.length;
    return -1;
  }

  /** Writes a lease into a slot already marked used. Lock held. */
  #occupy(slot: number, w0: number, w1: number, w2: number, w3: number, last: number): void {
    const b = 4 * slot;
    this.#v6[b] = w0;
    this.#v6[b + 1] = w1;
    this.#v6[b + 2] = w2;
    this.#v6[b + 3] = w3;
    Atomics.store(this.#last, slot, last);
    Atomics.store(this.#flags, slot, IN_USE);
    this.#hashInsert(slot);
    Atomics.add(this.#h, H_SIZE, 1);
    this.#limits.leaseAdded(w0, w1, w2, w3);
    this.#lowerNextCheck(last);
  }

  /** Frees a leased slot and records "expired". Lock held. */
  #free(slot: number, now: number): void {
    this.#hashRemove(slot);
    Atomics.store(this.#flags, slot, FREE);
    const wi = slot >>> 5;
    this.#used[wi] = this.#used[wi]! & ~(1 << (slot & 31));
    if (wi < this.#h[H_FREE_HINT]!) this.#h[H_FREE_HINT] = wi;
    Atomics.sub(this.#h, H_SIZE, 1);
    const v6 = this.#v6;
    const b = 4 * slot;
    this.#limits.leaseRemoved(v6[b]!, v6[b + 1]!, v6[b + 2]!, v6[b + 3]!);
    this.#emit(
      EV_EXPIRED,
      slot,
      this.#v4OfSlot(slot),
      now,
      v6[b]!,
      v6[b + 1]!,
      v6[b + 2]!,
      v6[b + 3]!,
    );
  }

  /**
   * Records the ring has room for beyond `keep`: unlimited when it may overwrite. Lock held.
   */
  #roomForExpiries(keep: number): number {
    const h = this.#h;
    if (h[H_EV_WAIT_MS]! === 0) return Infinity;
    const room = h[H_RING_SIZE]! - ((h[H_EV_WRITE]! - h[H_EV_READ]!) >>> 0) - keep;
    return room > 0 ? room : 0;
  }

  /**
   * Frees expired leases, at most `max`; recomputes the next possible expiry (now, when
   * `max` left some expired leases in place). Lock held.
   */
  #reclaim(now: number, max: number): number {
    let freed = 0;
    let next = U32_MAX;
    const res = this.#res;
    for (let slot = 0; slot < this.#slots; slot++) {
      if (this.#flags[slot] !== IN_USE) continue;
      const last = this.#last[slot]!;
      if (now - last > res) {
        if (freed >= max) {
          next = now;
          break;
        }
        this.#free(slot, now);
        freed++;
      } else if (last + res + 1 < next) {
        next = last + res + 1;
      }
    }
    this.#hu[H_NEXT_CHECK] = next;
    return freed;
  }

  /**
   * The allocating slow path of `v4For6`. In lossless mode, when the event ring has no room
   * for the lease's record (and for the expiry of the host's own expired lease), it waits for
   * the main thread to drain — at most `eventWaitMs` in 1 ms steps, the lock released — and
   * refuses the lease after that; until the next drain, further allocations that find no room
   * are refused without waiting (a stalled main thread costs a Worker one wait, not one per
   * new host).
   */
  #allocate(w0: number, w1: number, w2: number, w3: number, now: number, flags: number): number {
    const h = this.#h;
    const waitMs = h[H_EV_WAIT_MS]!;
    for (let waited = 0;; waited++) {
      this.#lock();
      // Another thread may have created the lease since the lock-free lookup.
      const slot = this.#find(w0, w1, w2, w3);
      let live = false;
      if (slot >= 0) {
        const last = this.#last[slot]!;
        if (now - last <= this.#res) {
          if ((flags & LEASE_REFRESH) !== 0 && now > last) Atomics.store(this.#last, slot, now);
          live = true;
        }
      }
      if (live) {
        this.#unlock();
        return this.#v4OfSlot(slot);
      }
      const need = slot >= 0 ? 2 : 1; // the host's expired lease, then its new one
      const room = waitMs === 0 ? need : this.#roomForExpiries(0);
      if (room >= need) return this.#allocateLocked(slot, w0, w1, w2, w3, now);
      // Lossless mode and no room: unless the pool is exhausted anyway, wait for a drain.
      if (slot < 0 && h[H_SIZE]! >= h[H_LEASABLE]! && now < this.#hu[H_NEXT_CHECK]!) {
        // No record unless below half; v4 cell: why (MAP_EXHAUSTED - NOT_IPV4).
        this.#emit(EV_REFUSED, 1, 1, now, w0, w1, w2, w3);
        this.#unlock();
        return MAP_EXHAUSTED;
      }
      const read = h[H_EV_READ]!;
      this.#unlock();
      if (waited >= waitMs || Atomics.load(h, H_EV_STALLED) === 1) {
        Atomics.store(h, H_EV_STALLED, 1);
        Atomics.add(h, H_EV_WAIT_REFUSALS, 1);
        return MAP_EXHAUSTED;
      }
      if (waited === 0) Atomics.add(h, H_EV_WAITS, 1);
      // Wake the main thread (it drains on the signal), then wait for it to move the cursor.
      Atomics.add(h, H_EV_SIGNAL, 1);
      Atomics.notify(h, H_EV_SIGNAL);
      Atomics.wait(h, H_EV_READ, read, 1);
    }
  }

  /**
   * Creates the lease with the lock held and room in the ring for its record (and for the
   * expiry of `expired`, the host's own expired slot, when not -1); releases the lock.
   */
  #allocateLocked(
    expired: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    now: number,
  ): number {
    if (expired >= 0) this.#free(expired, now);
    if (now >= this.#hu[H_NEXT_CHECK]!) this.#reclaim(now, this.#roomForExpiries(1));
    // The abuse limits (./limits.ts), only here: on the way to a new lease.
    const limit = this.#limits.check(w0, w1, w2, w3, now);
    if (limit !== LIMIT_OK) {
      this.#emit(EV_REFUSED, 1, limit, now, w0, w1, w2, w3);
      this.#unlock();
      return NOT_IPV4 + limit;
    }
    const fresh = this.#takeFree();
    if (fresh < 0) {
      // Slot cell: refusals in the record; v4 cell: why (MAP_EXHAUSTED - NOT_IPV4).
      this.#emit(EV_REFUSED, 1, 1, now, w0, w1, w2, w3);
      this.#unlock();
      return MAP_EXHAUSTED;
    }
    this.#occupy(fresh, w0, w1, w2, w3, now);
    this.#limits.created(now);
    const v4 = this.#v4OfSlot(fresh);
    this.#emit(EV_CREATED, fresh, v4, now, w0, w1, w2, w3);
    this.#unlock();
    return v4;
  }

  /** Restores one record or says why not. Lock held. */
  #restoreOne(record: LeaseRecord, now: number): LeaseDropReason | null {
    if (typeof record !== "object" || record === null) return "unparsable";
    const { v4: v4Text, v6: v6Text, lastSeenSecs } = record as Partial<LeaseRecord>;
    if (
      typeof v4Text !== "string" || typeof v6Text !== "string" ||
      typeof lastSeenSecs !== "number" || !Number.isFinite(lastSeenSecs) || lastSeenSecs < 0
    ) {
      return "unparsable";
    }
    const v4 = parseIpv4(v4Text);
    const v6 = parseIpv6(v6Text);
    if (v4 === null || v6 === null) return "unparsable";
    if (this.#static.covers4(v4) || this.#static.v4For6(v6, 0) !== NOT_IPV4) {
      return "static conflict";
    }
    const slot = this.#slotOf4(v4);
    if (slot < 0) return "outside pool";
    const last = Math.floor(lastSeenSecs);
    if (last > now + RESTORE_FUTURE_SLACK_SECS) return "future-dated";
    if (now - last > this.#res) return "expired";
    const w0 = readWord(v6, 0), w1 = readWord(v6, 4), w2 = readWord(v6, 8), w3 = readWord(v6, 12);
    const held = this.#find(w0, w1, w2, w3);
    if (held >= 0) {
      if (now - this.#last[held]! <= this.#res) return "duplicate v6";
      this.#free(held, now);
    }
    if (this.#flags[slot] === IN_USE) {
      if (now - this.#last[slot]! <= this.#res) return "duplicate v4";
      this.#free(slot, now);
    }
    const wi = slot >>> 5;
    this.#used[wi] = this.#used[wi]! | (1 << (slot & 31));
    this.#occupy(slot, w0, w1, w2, w3, last);
    this.#emit(EV_RESTORED, slot, v4, now, w0, w1, w2, w3);
    return null;
  }
}
