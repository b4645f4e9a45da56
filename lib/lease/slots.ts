/**
 * The pool slots of a lease table and everything done to them under its spin lock: the lock
 * itself, slot ⇄ IPv4 address, the IPv6 → slot hash, taking the lowest free slot, occupying
 * and freeing slots (keeping the abuse limits' counts and the event ring in step), reclaiming
 * expired leases, and the two halves of persistence that touch slots (copying live leases as
 * words, putting parsed words back). ./table.ts builds the public API on it.
 *
 * A Worker dying while it holds the lock would stall the others: nothing done under the lock
 * allocates or throws.
 *
 * @module
 */

import { NOT_IPV4 } from "../addr/rfc6052.ts";
import { EV_EXPIRED, EV_RESTORED, EventRing } from "./event_ring.ts";
import { WordHash } from "./hash.ts";
import {
  FREE,
  H_EV_WAIT_MS,
  H_FREE_HINT,
  H_HASH_SIZE,
  H_LEASABLE,
  H_LOCK,
  H_MAGIC,
  H_NEXT_CHECK,
  H_RESERVATION,
  H_RING_SIZE,
  H_SIZE,
  H_SLOTS,
  IN_USE,
  type Layout,
  type LeaseViews,
  MAGIC,
  type PoolRanges,
  RESERVED,
  U32_MAX,
} from "./layout.ts";
import type { LeaseLimits } from "./limits.ts";
import { LEASE_WORDS } from "./persist.ts";
import type { StaticMapTable } from "./static_map.ts";
import { type LeaseDropReason, RESTORE_FUTURE_SLACK_SECS } from "./types.ts";
import { writeWord } from "./words.ts";

/** `restore()` verdicts by code: {@link RESTORE_OK} (null), then the drop reasons. */
export const RESTORE_VERDICTS: readonly (LeaseDropReason | null)[] = [
  null,
  "unparsable",
  "static conflict",
  "outside pool",
  "expired",
  "future-dated",
  "duplicate v4",
  "duplicate v6",
];
/** `restore()` verdict: restored. */
export const RESTORE_OK = 0;
/** `restore()` verdict: unparsable. */
export const RESTORE_UNPARSABLE = 1;
const STATIC_CONFLICT = 2;
const OUTSIDE_POOL = 3;
const EXPIRED = 4;
const FUTURE_DATED = 5;
const DUPLICATE_V4 = 6;
const DUPLICATE_V6 = 7;

/** The slots of one lease table, over views of its buffer (one instance per thread). */
export class LeaseSlots {
  /** The static maps (immutable; every thread builds the same). */
  readonly statics: StaticMapTable;
  /** Pool slots. */
  readonly slots: number;
  /** Idle seconds after which a lease expires. */
  readonly res: number;
  /** Header cells. */
  readonly h: Int32Array;
  /** The same cells, unsigned. */
  readonly hu: Uint32Array;
  /** IPv6 host of each slot (four words). */
  readonly v6: Uint32Array;
  /** Last-seen seconds of each slot. */
  readonly last: Uint32Array;
  /** Slot flags (FREE, IN_USE, RESERVED). */
  readonly flags: Int32Array;
  /** IPv6 host → slot. */
  readonly hash: WordHash;
  /** The event ring. */
  readonly ring: EventRing;
  /** The abuse limits. */
  readonly limits: LeaseLimits;
  readonly #used: Int32Array;
  readonly #rFirst: Uint32Array;
  readonly #rCount: Uint32Array;
  readonly #rBase: Uint32Array;

  /**
   * Views a table's slots.
   *
   * @param v The buffer's views.
   * @param ranges The pool's address ranges.
   * @param res `reservationSecs`.
   * @param statics The static maps.
   * @param limits The abuse limits over the same buffer.
   */
  constructor(
    v: LeaseViews,
    ranges: PoolRanges,
    res: number,
    statics: StaticMapTable,
    limits: LeaseLimits,
  ) {
    this.statics = statics;
    this.slots = ranges.slots;
    this.res = res;
    this.h = v.h;
    this.hu = v.hu;
    this.v6 = v.v6;
    this.last = v.last;
    this.flags = v.flags;
    this.hash = new WordHash(v.hash, v.v6, null, false);
    this.ring = new EventRing(v.h, v.hu, v.ring);
    this.limits = limits;
    this.#used = v.used;
    this.#rFirst = ranges.first;
    this.#rCount = ranges.count;
    this.#rBase = ranges.base;
  }

  /**
   * Fills a fresh buffer: empty hash, static-covered slots reserved, header written (the magic
   * last).
   *
   * @param lay The buffer's layout.
   * @param eventWaitMs The ring's lossless mode (0: overwrite).
   */
  initialise(lay: Layout, eventWaitMs: number): void {
    const h = this.h;
    const used = this.#used;
    h[H_EV_WAIT_MS] = eventWaitMs;
    this.hash.clear();
    // Bits past the last slot are permanently "used".
    const tail = lay.slots & 31;
    if (tail !== 0) used[lay.words - 1] = ~((1 << tail) - 1);
    let reserved = 0;
    for (let slot = 0; slot < lay.slots; slot++) {
      if (this.statics.covers4(this.v4OfSlot(slot))) {
        this.flags[slot] = RESERVED;
        used[slot >>> 5] = used[slot >>> 5]! | (1 << (slot & 31));
        reserved++;
      }
    }
    h[H_SLOTS] = lay.slots;
    h[H_HASH_SIZE] = lay.hashSize;
    h[H_RING_SIZE] = lay.ringSize;
    h[H_RESERVATION] = this.res;
    h[H_SIZE] = 0;
    h[H_FREE_HINT] = 0;
    this.hu[H_NEXT_CHECK] = U32_MAX;
    h[H_LEASABLE] = lay.slots - reserved;
    Atomics.store(h, H_MAGIC, MAGIC);
  }

  /**
   * Whether an existing buffer was made with these sizes (for `attach`).
   *
   * @param lay The layout these options give.
   * @returns true when it matches.
   */
  matches(lay: Layout): boolean {
    const h = this.h;
    return h[H_MAGIC] === MAGIC && h[H_SLOTS] === lay.slots && h[H_HASH_SIZE] === lay.hashSize &&
      h[H_RING_SIZE] === lay.ringSize && h[H_RESERVATION] === this.res;
  }

  /** Takes the spin lock: critical sections are short and never block. */
  lock(): void {
    while (Atomics.compareExchange(this.h, H_LOCK, 0, 1) !== 0) {
      // Spin.
    }
  }

  /** Releases the spin lock. */
  unlock(): void {
    Atomics.store(this.h, H_LOCK, 0);
  }

  /**
   * IPv4 address of a pool slot. Allocation-free (hot path).
   *
   * @param slot A slot.
   * @returns The address as an int32.
   */
  v4OfSlot(slot: number): number {
    const base = this.#rBase;
    let r = base.length - 1;
    while (r > 0 && base[r]! > slot) r--;
    return (this.#rFirst[r]! + (slot - base[r]!)) | 0;
  }

  /**
   * Pool slot of an IPv4 address. Allocation-free (hot path).
   *
   * @param v4 The address (int32 or uint32).
   * @returns The slot, or −1 when it is not a pool address.
   */
  slotOf4(v4: number): number {
    const first = this.#rFirst;
    for (let r = 0; r < first.length; r++) {
      const d = (v4 - first[r]!) >>> 0;
      if (d < this.#rCount[r]!) return this.#rBase[r]! + d;
    }
    return -1;
  }

  /**
   * Lowest free slot, marked used (lock held).
   *
   * @returns The slot, or −1 when none is free.
   */
  takeFree(): number {
    const used = this.#used;
    const h = this.h;
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

  /**
   * Writes a lease into a slot already marked used (lock held).
   *
   * @param slot The slot.
   * @param w0 IPv6 host, word 0.
   * @param w1 Word 1.
   * @param w2 Word 2.
   * @param w3 Word 3.
   * @param last Last-seen seconds.
   */
  occupy(slot: number, w0: number, w1: number, w2: number, w3: number, last: number): void {
    const b = 4 * slot;
    this.v6[b] = w0;
    this.v6[b + 1] = w1;
    this.v6[b + 2] = w2;
    this.v6[b + 3] = w3;
    Atomics.store(this.last, slot, last);
    Atomics.store(this.flags, slot, IN_USE);
    this.hash.insert(slot);
    Atomics.add(this.h, H_SIZE, 1);
    this.limits.leaseAdded(w0, w1, w2, w3);
    const t = Math.min(last + this.res + 1, U32_MAX);
    if (t < this.hu[H_NEXT_CHECK]!) this.hu[H_NEXT_CHECK] = t;
  }

  /**
   * Frees a leased slot and records "expired" (lock held).
   *
   * @param slot The slot.
   * @param now Seconds.
   */
  free(slot: number, now: number): void {
    this.hash.remove(slot);
    Atomics.store(this.flags, slot, FREE);
    const wi = slot >>> 5;
    this.#used[wi] = this.#used[wi]! & ~(1 << (slot & 31));
    if (wi < this.h[H_FREE_HINT]!) this.h[H_FREE_HINT] = wi;
    Atomics.sub(this.h, H_SIZE, 1);
    const v6 = this.v6;
    const b = 4 * slot;
    const w0 = v6[b]!, w1 = v6[b + 1]!, w2 = v6[b + 2]!, w3 = v6[b + 3]!;
    this.limits.leaseRemoved(w0, w1, w2, w3);
    this.ring.emit(EV_EXPIRED, slot, this.v4OfSlot(slot), now, w0, w1, w2, w3);
  }

  /**
   * Frees expired leases, at most `max`, and recomputes the next possible expiry (`now`, when
   * `max` left some expired leases in place). Lock held.
   *
   * @param now Seconds.
   * @param max Most leases to free (the ring's room in lossless mode).
   * @returns Leases freed.
   */
  reclaim(now: number, max: number): number {
    let freed = 0;
    let next = U32_MAX;
    const res = this.res;
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.flags[slot] !== IN_USE) continue;
      const last = this.last[slot]!;
      if (now - last > res) {
        if (freed >= max) {
          next = now;
          break;
        }
        this.free(slot, now);
        freed++;
      } else if (last + res + 1 < next) {
        next = last + res + 1;
      }
    }
    this.hu[H_NEXT_CHECK] = next;
    return freed;
  }

  /**
   * Copies every live lease as {@link LEASE_WORDS} words, in pool order (lock held).
   *
   * @param now Seconds (expired leases are left out).
   * @param into Room for the words; needs room for every lease held (`H_SIZE`).
   * @returns Leases copied, or −1 when `into` is too small (nothing copied).
   */
  copyLive(now: number, into: Float64Array): number {
    if (this.h[H_SIZE]! * LEASE_WORDS > into.length) return -1;
    let n = 0;
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.flags[slot] !== IN_USE) continue;
      const last = this.last[slot]!;
      if (now - last > this.res) continue;
      const o = n * LEASE_WORDS;
      into[o] = this.v4OfSlot(slot) >>> 0;
      into[o + 1] = last;
      for (let k = 0; k < 4; k++) into[o + 2 + k] = this.v6[4 * slot + k]!;
      n++;
    }
    return n;
  }

  /**
   * Judges a parsed record against the configuration, without the lock: static maps, pool,
   * expiry, future dating.
   *
   * @param words The record as words (./persist.ts `wordsOfRecord`).
   * @param at Where in `words`.
   * @param now Seconds.
   * @param scratch 16 bytes to spell the IPv6 host in.
   * @returns {@link RESTORE_OK} or the reason's code.
   */
  judge(words: Float64Array, at: number, now: number, scratch: Uint8Array): number {
    const v4 = words[at]!;
    for (let k = 0; k < 4; k++) writeWord(scratch, 4 * k, words[at + 2 + k]!);
    if (this.statics.covers4(v4) || this.statics.v4For6(scratch, 0) !== NOT_IPV4) {
      return STATIC_CONFLICT;
    }
    if (this.slotOf4(v4) < 0) return OUTSIDE_POOL;
    const last = words[at + 1]!;
    if (last > now + RESTORE_FUTURE_SLACK_SECS) return FUTURE_DATED;
    if (now - last > this.res) return EXPIRED;
    return RESTORE_OK;
  }

  /**
   * Puts a judged record back at its address unless its host or address has a live lease
   * (an expired one is freed first). Lock held.
   *
   * @param words The record as words.
   * @param at Where in `words`.
   * @param now Seconds.
   * @returns {@link RESTORE_OK} or the reason's code.
   */
  restoreWords(words: Float64Array, at: number, now: number): number {
    const v4 = words[at]!;
    const last = words[at + 1]!;
    const w0 = words[at + 2]!, w1 = words[at + 3]!, w2 = words[at + 4]!, w3 = words[at + 5]!;
    const slot = this.slotOf4(v4);
    const held = this.hash.find(w0, w1, w2, w3, 0);
    if (held >= 0) {
      if (now - this.last[held]! <= this.res) return DUPLICATE_V6;
      this.free(held, now);
    }
    if (this.flags[slot] === IN_USE) {
      if (now - this.last[slot]! <= this.res) return DUPLICATE_V4;
      this.free(slot, now);
    }
    const wi = slot >>> 5;
    this.#used[wi] = this.#used[wi]! | (1 << (slot & 31));
    this.occupy(slot, w0, w1, w2, w3, last);
    this.ring.emit(EV_RESTORED, slot, v4, now, w0, w1, w2, w3);
    return RESTORE_OK;
  }
}
