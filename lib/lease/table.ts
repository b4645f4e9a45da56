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
 * without messages: ./layout.ts lays it out (docs/ARCHITECTURE.md gives the byte offsets).
 * The parts have their own modules: the IPv6 → slot hash is ./hash.ts (shared with the
 * static maps), the event ring and its lossless back-pressure mode ./event_ring.ts, the abuse
 * limits ./limits.ts, the slots and what is done to them under the lock ./slots.ts, lease
 * words ↔ records ./persist.ts. This file is the public API over them, the per-packet lookups
 * and the allocating path (the lossless ring's back-pressure lives there: it releases the
 * lock to wait).
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

import { NOT_IPV4 } from "../addr/rfc6052.ts";
import { decodeEvents, EV_CELLS } from "./event_ring.ts";
import {
  checkEventWait,
  checkReservation,
  H_LEASABLE,
  H_SIZE,
  IN_USE,
  layoutFor,
  poolRanges,
  ringSizeOf,
  viewsOf,
} from "./layout.ts";
import { checkLimitOptions, LeaseLimits, NO_LEASE_LIMITS } from "./limits.ts";
import { restoreLeases, snapshotLeases } from "./snapshot.ts";
import type { WordHash } from "./hash.ts";
import { LeaseSlots } from "./slots.ts";
import { StaticMapTable } from "./static_map.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  type LeaseEvent,
  type LeaseLookup,
  type LeaseRecord,
  type LeaseTableOptions,
  MAP_NONE,
  type RestoreResult,
} from "./types.ts";
import { readWord, writeWord } from "./words.ts";

export type { StaticMap } from "./static_map.ts";
export type { LeaseLimitOptions } from "./limits.ts";
export {
  DEFAULT_EVENT_RING_SIZE,
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  MAP_EXHAUSTED,
  MAP_NONE,
  MAP_PREFIX_LIMIT,
  MAP_RATE_LIMIT,
  MAP_SOURCE_NOT_ALLOWED,
  MAX_DEFAULT_EVENT_RING_SIZE,
  MAX_EVENT_RING_SIZE,
  MAX_EVENT_WAIT_MS,
  MAX_POOL_ADDRESSES,
  RESTORE_FUTURE_SLACK_SECS,
} from "./types.ts";
export type {
  LeaseDropReason,
  LeaseEvent,
  LeaseEventKind,
  LeaseLookup,
  LeaseRecord,
  LeaseRefusal,
  LeaseTableOptions,
  RestoreResult,
} from "./types.ts";

/** Result of `reconfigure()`: the new table plus what carried over. */
export interface ReconfigureResult extends RestoreResult {
  /** The new table (a new SharedArrayBuffer). */
  table: LeaseTable;
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
  /** The slots, the lock and the ring (./slots.ts). */
  #s: LeaseSlots;
  // The per-packet lookups' state, held directly (one load less per use).
  #static: StaticMapTable;
  #hash: WordHash;
  #res: number;
  #last: Uint32Array;
  #flags: Int32Array;
  #v6: Uint32Array;

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
    const v = viewsOf(sab, lay);
    const s = new LeaseSlots(
      v,
      ranges,
      opts.reservationSecs,
      st,
      new LeaseLimits(limits, v.prefixes, v.bucket),
    );
    this.#sab = sab;
    this.#s = s;
    this.#static = st;
    this.#hash = s.hash;
    this.#res = opts.reservationSecs;
    this.#last = v.last;
    this.#flags = v.flags;
    this.#v6 = v.v6;
    if (fresh) {
      s.initialise(lay, opts.eventWaitMs ?? 0);
    } else if (!s.matches(lay)) {
      throw new RangeError("buffer was not created by LeaseTable.create with these options");
    }
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
    return Atomics.load(this.#s.h, H_SIZE);
  }

  /** Pool addresses that can be leased (static-covered ones excluded). */
  get capacity(): number {
    return this.#s.h[H_LEASABLE]!;
  }

  /**
   * Dynamic leases counted in the `LeasePrefixLength` prefix of an IPv6 address (the number
   * `MaxLeasesPerPrefix` limits; 0 when that limit is off).
   * @param v6 16 bytes
   * @returns the count
   */
  leasesInPrefix(v6: Uint8Array): number {
    const w0 = readWord(v6, 0), w1 = readWord(v6, 4), w2 = readWord(v6, 8), w3 = readWord(v6, 12);
    this.#s.lock();
    const n = this.#s.limits.leasesInPrefix(w0, w1, w2, w3);
    this.#s.unlock();
    return n;
  }

  /** Events overwritten in the ring before anyone drained them. */
  get eventsLost(): number {
    return this.#s.ring.lost;
  }

  /** Records the event ring holds (see `eventRingSize`). */
  get eventRingSize(): number {
    return this.#s.ring.size;
  }

  /** Records that fit in the event ring now, before anything would be overwritten. */
  get eventRoom(): number {
    return this.#s.ring.room;
  }

  /** Whether the ring never overwrites (the table was created with `eventWaitMs`). */
  get lossless(): boolean {
    return this.#s.ring.waitMs > 0;
  }

  /** Lossless mode: allocations that found the event ring full and waited for room. */
  get eventWaits(): number {
    return this.#s.ring.waits;
  }

  /** Lossless mode: allocations refused because the ring stayed full for `eventWaitMs`. */
  get eventWaitRefusals(): number {
    return this.#s.ring.waitRefusals;
  }

  /**
   * Refusals not recorded in the ring because it was at least half full (they would have
   * pushed out lease events); counted here instead.
   */
  get refusalsUnrecorded(): number {
    return this.#s.ring.refusalsUnrecorded;
  }

  /**
   * A number that changes each time the event ring fills to half its size, and on
   * {@link wakeEventWaiters}. Read it, drain, then {@link waitForEvents} with it.
   */
  get eventSignal(): number {
    return this.#s.ring.signal;
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
    await this.#s.ring.waitForSignal(seen);
  }

  /** Moves {@link eventSignal} and wakes every {@link waitForEvents} (a reload, a stop). */
  wakeEventWaiters(): void {
    this.#s.ring.wake();
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
    const slot = this.#hash.find(w0, w1, w2, w3);
    if (slot >= 0 && this.#flags[slot] === IN_USE) {
      const last = this.#last[slot]!;
      if (now - last <= this.#res) {
        if ((flags & LEASE_REFRESH) !== 0 && now > last) Atomics.store(this.#last, slot, now);
        return this.#s.v4OfSlot(slot);
      }
    }
    if ((flags & LEASE_ALLOCATE) === 0) return MAP_NONE;
    return this.#s.allocate(w0, w1, w2, w3, now, flags);
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
    const slot = this.#s.slotOf4(v4);
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
    return this.#s.slotOf4(v4) >= 0 || this.#static.covers4(v4);
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
    const s = this.#s;
    s.lock();
    const n = s.reclaim(nowSecs >>> 0, s.ring.roomBeyond(0));
    s.unlock();
    return n;
  }

  /**
   * Lists the live dynamic leases (for persistence), in pool order.
   *
   * @param nowSecs Current time in seconds (expired leases are left out).
   * @returns One record per live lease.
   */
  snapshot(nowSecs: number): LeaseRecord[] {
    return snapshotLeases(this.#s, nowSecs >>> 0);
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
    return restoreLeases(this.#s, records, nowSecs >>> 0);
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
    const s = this.#s;
    const ring = s.ring;
    // Room for what is there now, allocated before the lock; records added meanwhile wait
    // for the next drain. Events are made from the copies after the lock is released.
    const cells = new Int32Array(EV_CELLS * Math.max(0, Math.min(Math.ceil(max), ring.pending())));
    s.lock();
    let n = 0;
    try {
      n = ring.take(cells);
    } finally {
      s.unlock();
    }
    // Wakes an allocation waiting for room (lossless mode); allocations may wait again.
    if (n > 0) ring.drained();
    return decodeEvents(cells, n);
  }
}
