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
import { ceilPow2, hashWords, readWord, wordMask } from "./words.ts";

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

/** Int32 cells of one per-prefix entry: the masked prefix (4 words) and its lease count. */
const P_CELLS = 5;
/** Int32 cells of the token bucket: tokens left, the second they were counted in. */
export const BUCKET_CELLS = 2;
const B_TOKENS = 0;
const B_SECS = 1;
/** A free per-prefix entry has count 0 (entries are removed when their count drops to 0). */
const P_COUNT = 4;

/**
 * Int32 cells the per-prefix counts need in the table's buffer for a pool of `slots`
 * addresses (0 when `maxLeasesPerPrefix` is off): an open-addressing hash with room for a
 * prefix per lease at load factor ≤ 1/2.
 * @param opts the limits
 * @param slots pool addresses
 * @returns Int32 cells
 */
export function prefixCells(opts: LeaseLimitOptions, slots: number): number {
  if (opts.maxLeasesPerPrefix <= 0) return 0;
  return P_CELLS * ceilPow2(Math.max(16, 2 * slots));
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
  readonly #prefixes: Int32Array;
  readonly #bucket: Int32Array;

  /**
   * Views the limits' state.
   * @param opts the limits (checked by {@link checkLimitOptions})
   * @param prefixes the {@link prefixCells} cells for the per-prefix counts (zeroed when new)
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
    this.#prefixes = prefixes;
    this.#bucket = bucket;
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
    if (this.#max <= 0) return 0;
    const i = this.#find(w0 & this.#m0, w1 & this.#m1, w2 & this.#m2, w3 & this.#m3);
    return i < 0 ? 0 : this.#prefixes[i + P_COUNT]!;
  }

  /**
   * Counts a lease the table created or restored (lock held).
   * @param w0 first word of the IPv6 host
   * @param w1 second word
   * @param w2 third word
   * @param w3 fourth word
   */
  leaseAdded(w0: number, w1: number, w2: number, w3: number): void {
    if (this.#max <= 0) return;
    const p0 = w0 & this.#m0, p1 = w1 & this.#m1, p2 = w2 & this.#m2, p3 = w3 & this.#m3;
    const t = this.#prefixes;
    const mask = t.length / P_CELLS - 1;
    for (let s = hashWords(p0, p1, p2, p3, 0x5eed) & mask;; s = (s + 1) & mask) {
      const i = s * P_CELLS;
      if (t[i + P_COUNT] === 0) {
        t[i] = p0;
        t[i + 1] = p1;
        t[i + 2] = p2;
        t[i + 3] = p3;
        t[i + P_COUNT] = 1;
        return;
      }
      if (t[i] === p0 && t[i + 1] === p1 && t[i + 2] === p2 && t[i + 3] === p3) {
        t[i + P_COUNT] = t[i + P_COUNT]! + 1;
        return;
      }
    }
  }

  /**
   * Uncounts a lease the table freed (expired, dropped, replaced; lock held). An entry whose
   * count reaches 0 is removed by backward-shift deletion, so the hash never fills up with
   * prefixes that hold nothing.
   * @param w0 first word of the IPv6 host
   * @param w1 second word
   * @param w2 third word
   * @param w3 fourth word
   */
  leaseRemoved(w0: number, w1: number, w2: number, w3: number): void {
    if (this.#max <= 0) return;
    const i = this.#find(w0 & this.#m0, w1 & this.#m1, w2 & this.#m2, w3 & this.#m3);
    if (i < 0) return;
    const t = this.#prefixes;
    if (t[i + P_COUNT]! > 1) {
      t[i + P_COUNT] = t[i + P_COUNT]! - 1;
      return;
    }
    const mask = t.length / P_CELLS - 1;
    let hole = i / P_CELLS;
    for (let j = (hole + 1) & mask;; j = (j + 1) & mask) {
      const e = j * P_CELLS;
      if (t[e + P_COUNT] === 0) break;
      const home = hashWords(t[e]!, t[e + 1]!, t[e + 2]!, t[e + 3]!, 0x5eed) & mask;
      const stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        t.copyWithin(hole * P_CELLS, e, e + P_CELLS);
        hole = j;
      }
    }
    t[hole * P_CELLS + P_COUNT] = 0;
  }

  /** Cell index of the entry of a masked prefix, or -1. */
  #find(p0: number, p1: number, p2: number, p3: number): number {
    const t = this.#prefixes;
    const mask = t.length / P_CELLS - 1;
    for (let s = hashWords(p0, p1, p2, p3, 0x5eed) & mask;; s = (s + 1) & mask) {
      const i = s * P_CELLS;
      if (t[i + P_COUNT] === 0) return -1;
      if (t[i] === p0 && t[i + 1] === p1 && t[i + 2] === p2 && t[i + 3] === p3) return i;
    }
  }
}
