/**
 * The pool slots of a lease table and everything done to them under its spin lock: the lock
 * itself, slot ⇄ IPv4 address, the IPv6 → slot hash, taking the lowest free slot, occupying
 * and freeing slots (keeping the abuse limits' counts and the event ring in step), reclaiming
 * expired leases, and the allocating path with the lossless ring's back-pressure (it releases
 * the lock to wait for a drain). ./snapshot.ts copies leases in and out through it;
 * ./table.ts builds the public API on it.
 *
 * A Worker dying while it holds the lock would stall the others: nothing done under the lock
 * allocates or throws.
 *
 * @module
 */

import { NOT_IPV4 } from "../addr/rfc6052.ts";
import { EV_CREATED, EV_EXPIRED, EV_REFUSED, EventRing } from "./event_ring.ts";
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
import { type LeaseLimits, LIMIT_OK } from "./limits.ts";
import type { StaticMapTable } from "./static_map.ts";
import { LEASE_REFRESH, MAP_EXHAUSTED } from "./types.ts";

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
    this.limits.clear();
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
   * Marks a slot used in the bitmap (lock held; a restored lease takes its old slot).
   *
   * @param slot The slot.
   */
  markUsed(slot: number): void {
    const wi = slot >>> 5;
    this.#used[wi] = this.#used[wi]! | (1 << (slot & 31));
  }

  /**
   * The allocating slow path of `LeaseTable.v4For6` (the lock not held). In lossless mode, when the event ring has no room
   * for the lease's record (and for the expiry of the host's own expired lease), it waits for
   * the main thread to drain — at most `eventWaitMs` in 1 ms steps, the lock released — and
   * refuses the lease after that; until the next drain, further allocations that find no room
   * are refused without waiting (a stalled main thread costs a Worker one wait, not one per
   * new host).
   *
   * @param w0 IPv6 host, word 0.
   * @param w1 Word 1.
   * @param w2 Word 2.
   * @param w3 Word 3.
   * @param now Seconds (uint32).
   * @param flags `LEASE_REFRESH` to refresh a lease another thread has just created.
   * @returns As `LeaseTable.v4For6`.
   */
  allocate(w0: number, w1: number, w2: number, w3: number, now: number, flags: number): number {
    const ring = this.ring;
    const lossless = ring.waitMs > 0;
    for (let waited = 0;; waited++) {
      this.lock();
      // Another thread may have created the lease since the lock-free lookup.
      const slot = this.hash.find(w0, w1, w2, w3);
      if (slot >= 0) {
        const last = this.last[slot]!;
        if (now - last <= this.res) {
          if ((flags & LEASE_REFRESH) !== 0 && now > last) Atomics.store(this.last, slot, now);
          this.unlock();
          return this.v4OfSlot(slot);
        }
      }
      const need = slot >= 0 ? 2 : 1; // the host's expired lease, then its new one
      const room = lossless ? ring.roomBeyond(0) : need;
      if (room >= need) return this.#allocateLocked(slot, w0, w1, w2, w3, now);
      // Lossless mode and no room: unless the pool is exhausted anyway, wait for a drain.
      if (slot < 0 && this.h[H_SIZE]! >= this.h[H_LEASABLE]! && now < this.hu[H_NEXT_CHECK]!) {
        // No record unless below half; EV_WHY: why (MAP_EXHAUSTED - NOT_IPV4).
        ring.emit(EV_REFUSED, 1, 1, now, w0, w1, w2, w3);
        this.unlock();
        return MAP_EXHAUSTED;
      }
      const read = ring.readCursor;
      this.unlock();
      if (!ring.awaitDrain(waited, read)) return MAP_EXHAUSTED;
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
    if (expired >= 0) this.free(expired, now);
    if (now >= this.hu[H_NEXT_CHECK]!) this.reclaim(now, this.ring.roomBeyond(1));
    // The abuse limits (./limits.ts), only here: on the way to a new lease.
    const limit = this.limits.check(w0, w1, w2, w3, now);
    if (limit !== LIMIT_OK) {
      this.ring.emit(EV_REFUSED, 1, limit, now, w0, w1, w2, w3);
      this.unlock();
      return NOT_IPV4 + limit;
    }
    const fresh = this.takeFree();
    if (fresh < 0) {
      // EV_COUNT: refusals in the record; EV_WHY: why (MAP_EXHAUSTED - NOT_IPV4).
      this.ring.emit(EV_REFUSED, 1, 1, now, w0, w1, w2, w3);
      this.unlock();
      return MAP_EXHAUSTED;
    }
    this.occupy(fresh, w0, w1, w2, w3, now);
    this.limits.created(now);
    const v4 = this.v4OfSlot(fresh);
    this.ring.emit(EV_CREATED, fresh, v4, now, w0, w1, w2, w3);
    this.unlock();
    return v4;
  }
}
