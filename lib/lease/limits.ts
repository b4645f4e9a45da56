/**
 * Abuse limits on NEW dynamic leases (`[Rules]` `AllowedSources`, `MaxLeasesPerPrefix` with
 * `LeasePrefixLength`, `MaxNewLeasesPerSecond`). Without them any IPv6 source can take pool
 * addresses: one /64 took 3,500 addresses of a /20 in half a second.
 *
 * The limits are consulted only where the lease table creates a lease (its allocating slow
 * path); a packet of a host that already holds a lease, or of a static map, never reaches
 * them. The per-prefix counts and the token bucket live in the lease table's
 * SharedArrayBuffer, so every packet Worker (`Interface.Queues`) sees the same numbers, and the
 * table keeps the counts in step with every lease it creates, restores, expires or drops. All
 * mutating methods run under the table's lock; none allocates or throws. Pure: the clock is
 * passed in (whole seconds, as the table's).
 *
 * @module
 */

import type { Ipv6Prefix } from "../addr/ipv6.ts";
import { WordHash } from "./hash.ts";
import { ceilPow2, readWord, wordMask } from "./words.ts";

/** The abuse limits of a lease table. */
export interface LeaseLimitOptions {
  /** IPv6 prefixes that may get a dynamic lease; null: every source may. */
  allowedSources: readonly Ipv6Prefix[] | null;
  /** Most dynamic leases per `leasePrefixLength` prefix; 0: no limit. */
  maxLeasesPerPrefix: number;
  /** Length of the prefixes `maxLeasesPerPrefix` counts by (1..128). */
  leasePrefixLength: number;
  /** New dynamic leases per second, all sources together (a token bucket); 0: no limit. */
  maxNewLeasesPerSecond: number;
}

/** No limits: what a table without `limits` options gets. */
export const NO_LEASE_LIMITS: LeaseLimitOptions = Object.freeze({
  allowedSources: null,
  maxLeasesPerPrefix: 0,
  leasePrefixLength: 64,
  maxNewLeasesPerSecond: 0,
});

/** `check` result: the new lease may be created. */
export const LIMIT_OK = 0;
/** `check` result: the source is outside `allowedSources`. */
export const LIMIT_SOURCE_NOT_ALLOWED = 2;
/** `check` result: the source's prefix holds `maxLeasesPerPrefix` leases. */
export const LIMIT_PREFIX = 3;
/** `check` result: no token left in this second. */
export const LIMIT_RATE = 4;

/** Int32 cells of the token bucket: tokens left, the second they were counted in. */
export const BUCKET_CELLS = 2;
const B_TOKENS = 0;
const B_SECS = 1;

/**
 * Int32 cells the per-prefix counts need in the table's buffer for a pool of `slots`
 * addresses (0 when `maxLeasesPerPrefix` is off). With `H` hash cells (a power of two, at least
 * twice the pool) and `E = H / 2` entries, room for a prefix per lease at load factor ≤ 1/2:
 * the cells of lib/lease/hash.ts's {@link WordHash} (`H`), the entries' masked prefixes (`4E`
 * words), their lease counts (`E`), a stack of free entry numbers (`E`), then the number of
 * entries ever used and the stack's depth.
 * @param opts the limits
 * @param slots pool addresses
 * @returns Int32 cells
 */
export function prefixCells(opts: LeaseLimitOptions, slots: number): number {
  if (opts.maxLeasesPerPrefix <= 0) return 0;
  return 4 * ceilPow2(Math.max(16, 2 * slots)) + 2;
}

/**
 * Checks the limit options, as `LeaseTable.create` does.
 * @param opts the limits
 * @throws {RangeError} naming the bad option
 */
export function checkLimitOptions(opts: LeaseLimitOptions): void {
  const int = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (!int(opts.maxLeasesPerPrefix, 0, 0x7fffffff)) {
    throw new RangeError("maxLeasesPerPrefix must be an integer 0..2147483647");
  }
  if (!int(opts.leasePrefixLength, 1, 128)) {
    throw new RangeError("leasePrefixLength must be an integer 1..128");
  }
  if (!int(opts.maxNewLeasesPerSecond, 0, 0x7fffffff)) {
    throw new RangeError("maxNewLeasesPerSecond must be an integer 0..2147483647");
  }
  for (const p of opts.allowedSources ?? []) {
    if (!(p.addr instanceof Uint8Array) || p.addr.length !== 16 || !int(p.len, 0, 128)) {
      throw new RangeError("allowedSources must hold IPv6 prefixes");
    }
  }
}

/**
 * The limits of one lease table, over regions of its SharedArrayBuffer. Make one per thread
 * (views only; the state is shared).
 */
export class LeaseLimits {
  readonly #allowed: Uint32Array | null;
  readonly #max: number;
  readonly #m0: number;
  readonly #m1: number;
  readonly #m2: number;
  readonly #m3: number;
  readonly #rate: number;
  readonly #bucket: Int32Array;
  /** Masked prefix → entry (lib/lease/hash.ts); null when `maxLeasesPerPrefix` is off. */
  readonly #hash: WordHash | null = null;
  readonly #keys: Uint32Array = new Uint32Array(0);
  readonly #counts: Int32Array = new Int32Array(0);
  readonly #free: Int32Array = new Int32Array(0);
  /** Cell 0: entries ever used; cell 1: depth of the free stack. */
  readonly #tops: Int32Array = new Int32Array(2);

  /**
   * Views the limits' state.
   * @param opts the limits (checked by {@link checkLimitOptions})
   * @param prefixes the {@link prefixCells} cells for the per-prefix counts (set up by
   *   {@link clear} when new)
   * @param bucket the {@link BUCKET_CELLS} cells of the token bucket
   */
  constructor(opts: LeaseLimitOptions, prefixes: Int32Array, bucket: Int32Array) {
    const allowed = opts.allowedSources;
    if (allowed === null) {
      this.#allowed = null;
    } else {
      // Per prefix: 4 masked words, then the 4 masks.
      this.#allowed = new Uint32Array(8 * allowed.length);
      allowed.forEach((p, i) => {
        for (let k = 0; k < 4; k++) {
          const m = wordMask(p.len, k) >>> 0;
          this.#allowed![8 * i + k] = (readWord(p.addr, 4 * k) & m) >>> 0;
          this.#allowed![8 * i + 4 + k] = m;
        }
      });
    }
    this.#max = opts.maxLeasesPerPrefix;
    const len = opts.leasePrefixLength;
    this.#m0 = wordMask(len, 0) | 0;
    this.#m1 = wordMask(len, 1) | 0;
    this.#m2 = wordMask(len, 2) | 0;
    this.#m3 = wordMask(len, 3) | 0;
    this.#rate = opts.maxNewLeasesPerSecond;
    this.#bucket = bucket;
    if (this.#max > 0) {
      const h = (prefixes.length - 2) / 4;
      const e = h / 2;
      const cells = prefixes.subarray(0, h);
      this.#keys = new Uint32Array(prefixes.buffer, prefixes.byteOffset + 4 * h, 4 * e);
      this.#counts = prefixes.subarray(3 * h, 3 * h + e);
      this.#free = prefixes.subarray(3 * h + e, 4 * h);
      this.#tops = prefixes.subarray(4 * h, 4 * h + 2);
      this.#hash = new WordHash(cells, this.#keys, null, false);
    }
  }

  /** Sets up the per-prefix counts of a new table: no prefix counted (before anyone reads). */
  clear(): void {
    if (this.#hash === null) return;
    this.#hash.clear();
    this.#counts.fill(0);
    this.#tops.fill(0);
  }

  /**
   * Whether a source may get a dynamic lease at all (`allowedSources`). Needs no lock.
   * @param w0 first word of the IPv6 source (big-endian)
   * @param w1 second word
   * @param w2 third word
   * @param w3 fourth word
   * @returns true when no list is set or a listed prefix holds the source
   */
  sourceAllowed(w0: number, w1: number, w2: number, w3: number): boolean {
    const a = this.#allowed;
    if (a === null) return true;
    for (let b = 0; b < a.length; b += 8) {
      if (
        ((w0 & a[b + 4]!) >>> 0) === a[b] && ((w1 & a[b + 5]!) >>> 0) === a[b + 1] &&
        ((w2 & a[b + 6]!) >>> 0) === a[b + 2] && ((w3 & a[b + 7]!) >>> 0) === a[b + 3]
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * Decides whether a new lease may be created for a source now (lock held). Consumes
   * nothing: call {@link created} once the lease exists.
   * @param w0 first word of the IPv6 source
   * @param w1 second word
   * @param w2 third word
   * @param w3 fourth word
   * @param nowSecs the current time in whole seconds
   * @returns {@link LIMIT_OK} or the limit that refuses it
   */
  check(w0: number, w1: number, w2: number, w3: number, nowSecs: number): number {
    if (!this.sourceAllowed(w0, w1, w2, w3)) return LIMIT_SOURCE_NOT_ALLOWED;
    if (this.#max > 0 && this.leasesInPrefix(w0, w1, w2, w3) >= this.#max) return LIMIT_PREFIX;
    if (this.#rate > 0 && this.#tokens(nowSecs) <= 0) return LIMIT_RATE;
    return LIMIT_OK;
  }

  /**
   * Takes the token of a lease just created by the allocating path (lock held).
   * @param nowSecs the current time in whole seconds
   */
  created(nowSecs: number): void {
    if (this.#rate > 0 && this.#tokens(nowSecs) > 0) {
      this.#bucket[B_TOKENS] = this.#bucket[B_TOKENS]! - 1;
    }
  }

  /** Tokens left at `now`, refilling the bucket first (rate per second, depth = rate). */
  #tokens(nowSecs: number): number {
    const b = this.#bucket;
    const now = nowSecs | 0;
    const last = b[B_SECS]!;
    if (now !== last) {
      const elapsed = now - last;
      // A clock that went back (or a fresh bucket, second 0) refills fully.
      const refill = elapsed > 0 && last !== 0 ? elapsed * this.#rate : this.#rate;
      b[B_TOKENS] = Math.min(this.#rate, b[B_TOKENS]! + refill);
      b[B_SECS] = now;
    }
    return b[B_TOKENS]!;
  }

  /**
   * Dynamic leases held in a source's `leasePrefixLength` prefix (0 when the limit is off).
   * @param w0 first word of the IPv6 source
   * @param w1 second word
   * @param w2 third word
   * @param w3 fourth word
   * @returns the count
   */
  leasesInPrefix(w0: number, w1: number, w2: number, w3: number): number {
    const e = this.#find(w0, w1, w2, w3);
    return e < 0 ? 0 : this.#counts[e]!;
  }

  /**
   * Counts a lease the table created or restored (lock held).
   * @param w0 first word of the IPv6 host
   * @param w1 second word
   * @param w2 third word
   * @param w3 fourth word
   */
  leaseAdded(w0: number, w1: number, w2: number, w3: number): void {
    const hash = this.#hash;
    if (hash === null) return;
    let e = this.#find(w0, w1, w2, w3);
    if (e >= 0) {
      this.#counts[e] = this.#counts[e]! + 1;
      return;
    }
    // A new prefix: a freed entry, else one never used (there is one entry per pool address).
    const tops = this.#tops;
    if (tops[1]! > 0) e = this.#free[--tops[1]!]!;
    else if (tops[0]! < this.#counts.length) e = tops[0]!++;
    else return;
    const k = this.#keys;
    k[4 * e] = w0 & this.#m0;
    k[4 * e + 1] = w1 & this.#m1;
    k[4 * e + 2] = w2 & this.#m2;
    k[4 * e + 3] = w3 & this.#m3;
    this.#counts[e] = 1;
    hash.insert(e);
  }

  /**
   * Uncounts a lease the table freed (expired, dropped, replaced; lock held). An entry whose
   * count reaches 0 leaves the hash (its backward-shift deletion leaves no tombstones) and its
   * entry number goes back on the free stack.
   * @param w0 first word of the IPv6 host
   * @param w1 second word
   * @param w2 third word
   * @param w3 fourth word
   */
  leaseRemoved(w0: number, w1: number, w2: number, w3: number): void {
    const e = this.#find(w0, w1, w2, w3);
    if (e < 0) return;
    const n = this.#counts[e]! - 1;
    this.#counts[e] = n;
    if (n > 0) return;
    this.#hash!.remove(e);
    const tops = this.#tops;
    this.#free[tops[1]!] = e;
    tops[1] = tops[1]! + 1;
  }

  /** Entry of a source's masked prefix, or -1 (also when the limit is off). */
  #find(w0: number, w1: number, w2: number, w3: number): number {
    const hash = this.#hash;
    if (hash === null) return -1;
    // The hash compares uint32 key words.
    return hash.find(
      (w0 & this.#m0) >>> 0,
      (w1 & this.#m1) >>> 0,
      (w2 & this.#m2) >>> 0,
      (w3 & this.#m3) >>> 0,
    );
  }
}
