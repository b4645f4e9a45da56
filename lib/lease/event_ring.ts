/**
 * The lease table's event ring: a record of every lease created, expired or restored and of
 * refused allocations, written by whichever thread holds the table's lock and drained by the
 * main thread (the audit log). It lives in the table's SharedArrayBuffer: the records in their
 * own section, the cursors and counters in the table's header (./layout.ts, `H_EV_*`).
 *
 * A record is {@link EV_CELLS} Int32 cells:
 *
 * ```
 * EV_KIND   1 created, 2 expired, 3 refused, 4 restored
 * EV_COUNT  a lease event: the pool slot; a refusal: how many refusals of that host in a row
 *           (no other event between them, none drained) the record stands for
 * EV_AT     seconds of the call that recorded it (the first one, for refusals)
 * EV_V6     4 cells: the IPv6 host, big-endian words
 * EV_WHY    a lease event: the IPv4 address; a refusal: why (the v4For6 result - NOT_IPV4)
 * ```
 *
 * Two modes. By default (offline mode, tests) a full ring overwrites its oldest record and
 * counts it lost. With `eventWaitMs` (the daemon's lossless audit log) it never overwrites a
 * lease event: the table's allocating path asks {@link EventRing.roomBeyond} first and, when
 * there is none, waits with {@link EventRing.awaitDrain} (the lock released). Refusals are
 * recorded only while the ring is less than half full, so they never push lease events out.
 *
 * Draining copies the records' cells under the lock into an array allocated before it, and
 * makes the {@link LeaseEvent} objects after the lock is released.
 *
 * @module
 */

import {
  EV_CELLS,
  H_EV_LOST,
  H_EV_READ,
  H_EV_SIGNAL,
  H_EV_STALLED,
  H_EV_WAIT_MS,
  H_EV_WAIT_REFUSALS,
  H_EV_WAITS,
  H_EV_WRITE,
  H_REFUSALS_UNRECORDED,
  H_RING_SIZE,
} from "./layout.ts";
import type { LeaseEvent, LeaseEventKind, LeaseRefusal } from "./types.ts";
import { writeWord } from "./words.ts";

export { EV_CELLS } from "./layout.ts";

/** Record cell: the event kind (`EV_CREATED` ...). */
export const EV_KIND = 0;
/** Record cell: the pool slot (lease events) or the refusal count (refusals). */
export const EV_COUNT = 1;
/** Record cell: `nowSecs` of the call that recorded it. */
export const EV_AT = 2;
/** Record cells `EV_V6 .. EV_V6 + 3`: the IPv6 host's words. */
export const EV_V6 = 3;
/** Record cell: the IPv4 address (lease events) or why (refusals: result − NOT_IPV4). */
export const EV_WHY = 7;

/** Event kind: a lease was created. */
export const EV_CREATED = 1;
/** Event kind: a lease expired (or was replaced, or dropped by a restore). */
export const EV_EXPIRED = 2;
/** Event kind: a new lease was refused. */
export const EV_REFUSED = 3;
/** Event kind: a lease was restored from the lease file. */
export const EV_RESTORED = 4;

const EVENT_KINDS: readonly LeaseEventKind[] = [
  "created",
  "created",
  "expired",
  "refused",
  "restored",
];

/** Refusal names by the `v4For6` result minus `NOT_IPV4` (the code kept in `EV_WHY`). */
const REFUSALS: readonly (LeaseRefusal | undefined)[] = [
  undefined,
  "pool exhausted",
  "source not allowed",
  "prefix lease limit",
  "lease rate limit",
];

/** The event ring of one lease table, over views of its buffer (one instance per thread). */
export class EventRing {
  readonly #h: Int32Array;
  readonly #hu: Uint32Array;
  readonly #ring: Int32Array;

  /**
   * Views a table's ring.
   *
   * @param h The table's header cells.
   * @param hu The same cells, unsigned.
   * @param ring The record cells (`EV_CELLS` × the header's ring size).
   */
  constructor(h: Int32Array, hu: Uint32Array, ring: Int32Array) {
    this.#h = h;
    this.#hu = hu;
    this.#ring = ring;
  }

  /**
   * Appends a record (lock held), overwriting the oldest when full — except in lossless mode,
   * where a record that finds no room is only counted lost (callers make room first). Moves
   * the event signal when the ring reaches half full. A refusal is added to the newest record
   * when that is a refusal of the same host for the same reason, and dropped (counted in
   * `refusalsUnrecorded`) when the ring is half full.
   *
   * @param kind `EV_CREATED` ...
   * @param slot `EV_COUNT`: the slot, or 1 for a refusal.
   * @param v4 `EV_WHY`: the IPv4 address, or why for a refusal.
   * @param now Seconds.
   * @param w0 IPv6 host, word 0.
   * @param w1 Word 1.
   * @param w2 Word 2.
   * @param w3 Word 3.
   */
  emit(
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
          ring[p + EV_KIND] === EV_REFUSED && ring[p + EV_V6] === w0 &&
          ring[p + EV_V6 + 1] === w1 && ring[p + EV_V6 + 2] === w2 &&
          ring[p + EV_V6 + 3] === w3 && ring[p + EV_WHY] === v4
        ) {
          ring[p + EV_COUNT] = (ring[p + EV_COUNT]! + 1) | 0;
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
    ring[b + EV_KIND] = kind;
    ring[b + EV_COUNT] = slot;
    ring[b + EV_AT] = now;
    ring[b + EV_V6] = w0;
    ring[b + EV_V6 + 1] = w1;
    ring[b + EV_V6 + 2] = w2;
    ring[b + EV_V6 + 3] = w3;
    ring[b + EV_WHY] = v4;
    h[H_EV_WRITE] = (w + 1) | 0;
    if ((((w + 1) | 0) - r) >>> 0 === half) this.wake();
  }

  /**
   * Records the ring has room for beyond `keep` (lock held): unlimited when it may overwrite.
   *
   * @param keep Records to leave room for.
   * @returns Records, 0 or more, or `Infinity` outside lossless mode.
   */
  roomBeyond(keep: number): number {
    const h = this.#h;
    if (h[H_EV_WAIT_MS]! === 0) return Infinity;
    const room = h[H_RING_SIZE]! - ((h[H_EV_WRITE]! - h[H_EV_READ]!) >>> 0) - keep;
    return room > 0 ? room : 0;
  }

  /** Lossless mode: the most milliseconds an allocation waits for room (0: overwrite mode). */
  get waitMs(): number {
    return this.#h[H_EV_WAIT_MS]!;
  }

  /** The read cursor (lock held), to wait on with {@link EventRing.awaitDrain}. */
  get readCursor(): number {
    return this.#h[H_EV_READ]!;
  }

  /**
   * Lossless mode, the lock released: wakes the main thread and waits up to 1 ms for it to
   * move the read cursor — unless `waited` reached `eventWaitMs`, or an earlier wait already
   * timed out with no drain since (then the allocation is refused at once and counted).
   *
   * @param waited Milliseconds this allocation has waited so far.
   * @param read The read cursor seen under the lock.
   * @returns false when the allocation must be refused.
   */
  awaitDrain(waited: number, read: number): boolean {
    const h = this.#h;
    if (waited >= h[H_EV_WAIT_MS]! || Atomics.load(h, H_EV_STALLED) === 1) {
      Atomics.store(h, H_EV_STALLED, 1);
      Atomics.add(h, H_EV_WAIT_REFUSALS, 1);
      return false;
    }
    if (waited === 0) Atomics.add(h, H_EV_WAITS, 1);
    // Wake the main thread (it drains on the signal), then wait for it to move the cursor.
    this.wake();
    Atomics.wait(h, H_EV_READ, read, 1);
    return true;
  }

  /**
   * Records waiting to be drained, read without the lock (it may grow before the lock is
   * taken; it never exceeds the ring size).
   *
   * @returns Records.
   */
  pending(): number {
    const h = this.#h;
    return (Atomics.load(h, H_EV_WRITE) - Atomics.load(h, H_EV_READ)) >>> 0;
  }

  /**
   * Copies the oldest records into `into` and removes them from the ring (lock held). Copies
   * cells only: nothing is allocated while the lock is held.
   *
   * @param into Room for `into.length / EV_CELLS` records.
   * @returns Records copied.
   */
  take(into: Int32Array): number {
    const h = this.#h;
    const ring = this.#ring;
    const mask = h[H_RING_SIZE]! - 1;
    const max = (into.length / EV_CELLS) | 0;
    let r = h[H_EV_READ]!;
    const w = h[H_EV_WRITE]!;
    let n = 0;
    for (; r !== w && n < max; n++, r = (r + 1) | 0) {
      const b = (r & mask) * EV_CELLS;
      const o = n * EV_CELLS;
      for (let c = 0; c < EV_CELLS; c++) into[o + c] = ring[b + c]!;
    }
    Atomics.store(h, H_EV_READ, r);
    return n;
  }

  /**
   * After a drain that took records, the lock released: wakes an allocation waiting for room
   * (lossless mode) and lets allocations wait again.
   */
  drained(): void {
    Atomics.store(this.#h, H_EV_STALLED, 0);
    Atomics.notify(this.#h, H_EV_READ);
  }

  /** Moves the event signal and wakes its waiters. */
  wake(): void {
    Atomics.add(this.#h, H_EV_SIGNAL, 1);
    Atomics.notify(this.#h, H_EV_SIGNAL);
  }

  /** See `LeaseTable.eventSignal`. */
  get signal(): number {
    return Atomics.load(this.#h, H_EV_SIGNAL);
  }

  /**
   * See `LeaseTable.waitForEvents`.
   *
   * @param seen The signal read before the last drain.
   */
  async waitForSignal(seen: number): Promise<void> {
    const r = Atomics.waitAsync(this.#h, H_EV_SIGNAL, seen);
    if (r.async) await r.value;
  }

  /** Records the ring holds. */
  get size(): number {
    return this.#h[H_RING_SIZE]!;
  }

  /** Records that fit now before anything would be overwritten. */
  get room(): number {
    return this.size - this.pending();
  }

  /** Events overwritten before anyone drained them. */
  get lost(): number {
    return Atomics.load(this.#hu, H_EV_LOST);
  }

  /** Lossless mode: allocations that waited for room. */
  get waits(): number {
    return Atomics.load(this.#hu, H_EV_WAITS);
  }

  /** Lossless mode: allocations refused because the ring stayed full. */
  get waitRefusals(): number {
    return Atomics.load(this.#hu, H_EV_WAIT_REFUSALS);
  }

  /** Refusals not recorded because the ring was at least half full. */
  get refusalsUnrecorded(): number {
    return Atomics.load(this.#hu, H_REFUSALS_UNRECORDED);
  }
}

/**
 * Makes events from records copied by {@link EventRing.take} (no lock needed).
 *
 * @param cells The copied cells.
 * @param n Records in them.
 * @returns The events, oldest first; each `v6` a fresh 16-byte array.
 */
export function decodeEvents(cells: Int32Array, n: number): LeaseEvent[] {
  const out: LeaseEvent[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * EV_CELLS;
    const v6 = new Uint8Array(16);
    for (let k = 0; k < 4; k++) writeWord(v6, 4 * k, cells[b + EV_V6 + k]!);
    const kind = cells[b + EV_KIND]!;
    const refused = kind === EV_REFUSED;
    out.push({
      kind: EVENT_KINDS[kind]!,
      v4: refused ? -1 : cells[b + EV_WHY]! >>> 0,
      v6,
      atSecs: cells[b + EV_AT]! >>> 0,
      count: refused ? cells[b + EV_COUNT]! : 1,
      refusal: refused ? REFUSALS[cells[b + EV_WHY]!] ?? "pool exhausted" : null,
    });
  }
  return out;
}
