/**
 * Persistence on the table's side: live leases out (`LeaseTable.snapshot()`) and saved
 * leases back in (`LeaseTable.restore()`), with no text made or parsed under the lock.
 *
 * Between the slots and the text sit lease WORDS, {@link LEASE_WORDS} numbers per lease (the
 * IPv4 address, last-seen seconds, the IPv6 host's four big-endian words) in a Float64Array:
 *
 * - snapshot: an array with room for every lease held is allocated, the live leases are copied
 *   into it under the lock, and {@link recordsOfWords} formats them after the lock is released;
 * - restore: every record is parsed ({@link wordsOfRecord}) and judged against the
 *   configuration (static maps, pool, expiry) without the lock; only the duplicate checks and
 *   the writes take it.
 *
 * The lease file's text is ./persist.ts.
 *
 * @module
 */

import { formatIpv4, parseIpv4 } from "../addr/ipv4.ts";
import { formatIpv6, parseIpv6 } from "../addr/ipv6.ts";
import { NOT_IPV4 } from "../addr/rfc6052.ts";
import { EV_RESTORED } from "./event_ring.ts";
import { H_SIZE, IN_USE } from "./layout.ts";
import type { LeaseSlots } from "./slots.ts";
import {
  type LeaseDropReason,
  type LeaseRecord,
  RESTORE_FUTURE_SLACK_SECS,
  type RestoreResult,
} from "./types.ts";
import { readWord, writeWord } from "./words.ts";

/** Numbers per lease in a word snapshot: IPv4, last-seen seconds, the IPv6 host's 4 words. */
export const LEASE_WORDS = 6;

/** `restore()` verdicts by code (0: restored). */
const VERDICTS: readonly (LeaseDropReason | null)[] = [
  null,
  "unparsable",
  "static conflict",
  "outside pool",
  "expired",
  "future-dated",
  "duplicate v4",
  "duplicate v6",
];
const RESTORED = 0;
const UNPARSABLE = 1;
const STATIC_CONFLICT = 2;
const OUTSIDE_POOL = 3;
const EXPIRED = 4;
const FUTURE_DATED = 5;
const DUPLICATE_V4 = 6;
const DUPLICATE_V6 = 7;

/**
 * Lists the live leases in pool order: words copied under the lock, records made after it.
 *
 * @param s The table's slots.
 * @param now Seconds (uint32; expired leases are left out).
 * @returns One record per live lease.
 */
export function snapshotLeases(s: LeaseSlots, now: number): LeaseRecord[] {
  for (;;) {
    const words = new Float64Array(LEASE_WORDS * Atomics.load(s.h, H_SIZE));
    s.lock();
    const n = copyLive(s, now, words);
    s.unlock();
    if (n >= 0) return recordsOfWords(words, n);
    // Leases were created since the room was measured: measure again.
  }
}

/**
 * Puts saved leases back (see `LeaseTable.restore()` for the rules).
 *
 * @param s The table's slots.
 * @param records The saved leases.
 * @param now Seconds (uint32).
 * @returns How many were restored, and the dropped ones with reasons in input order.
 */
export function restoreLeases(
  s: LeaseSlots,
  records: readonly LeaseRecord[],
  now: number,
): RestoreResult {
  const n = records.length;
  const words = new Float64Array(LEASE_WORDS * n);
  const verdicts = new Uint8Array(n);
  const scratch = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    verdicts[i] = wordsOfRecord(records[i]!, words, LEASE_WORDS * i)
      ? judge(s, words, LEASE_WORDS * i, now, scratch)
      : UNPARSABLE;
  }
  s.lock();
  try {
    for (let i = 0; i < n; i++) {
      if (verdicts[i] === RESTORED) verdicts[i] = restoreWords(s, words, LEASE_WORDS * i, now);
    }
  } finally {
    s.unlock();
  }
  const dropped: RestoreResult["dropped"] = [];
  let restored = 0;
  for (let i = 0; i < n; i++) {
    const reason = VERDICTS[verdicts[i]!]!;
    if (reason === null) restored++;
    else dropped.push({ record: records[i]!, reason });
  }
  return { restored, dropped };
}

/**
 * Formats leases copied as words as records.
 *
 * @param words The copied words ({@link LEASE_WORDS} per lease).
 * @param n Leases in them.
 * @returns One record per lease, in order.
 */
export function recordsOfWords(words: Float64Array, n: number): LeaseRecord[] {
  const out: LeaseRecord[] = [];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    const b = i * LEASE_WORDS;
    for (let k = 0; k < 4; k++) writeWord(bytes, 4 * k, words[b + 2 + k]!);
    out.push({ v4: formatIpv4(words[b]!), v6: formatIpv6(bytes), lastSeenSecs: words[b + 1]! });
  }
  return out;
}

/**
 * Parses a record into words (last-seen rounded down), or tells it is unparsable. Judges
 * nothing else.
 *
 * @param record A record, possibly not even an object.
 * @param into Receives {@link LEASE_WORDS} words.
 * @param at Where in `into`.
 * @returns true when parsed.
 */
export function wordsOfRecord(record: LeaseRecord, into: Float64Array, at: number): boolean {
  if (typeof record !== "object" || record === null) return false;
  const { v4: v4Text, v6: v6Text, lastSeenSecs } = record as Partial<LeaseRecord>;
  if (
    typeof v4Text !== "string" || typeof v6Text !== "string" ||
    typeof lastSeenSecs !== "number" || !Number.isFinite(lastSeenSecs) || lastSeenSecs < 0
  ) {
    return false;
  }
  const v4 = parseIpv4(v4Text);
  const v6 = parseIpv6(v6Text);
  if (v4 === null || v6 === null) return false;
  into[at] = v4;
  into[at + 1] = Math.floor(lastSeenSecs);
  for (let k = 0; k < 4; k++) into[at + 2 + k] = readWord(v6, 4 * k);
  return true;
}

/** Copies every live lease as words, in pool order (lock held); −1 when `into` is too small. */
function copyLive(s: LeaseSlots, now: number, into: Float64Array): number {
  if (s.h[H_SIZE]! * LEASE_WORDS > into.length) return -1;
  let n = 0;
  for (let slot = 0; slot < s.slots; slot++) {
    if (s.flags[slot] !== IN_USE) continue;
    const last = s.last[slot]!;
    if (now - last > s.res) continue;
    const o = n * LEASE_WORDS;
    into[o] = s.v4OfSlot(slot) >>> 0;
    into[o + 1] = last;
    for (let k = 0; k < 4; k++) into[o + 2 + k] = s.v6[4 * slot + k]!;
    n++;
  }
  return n;
}

/** Judges parsed words against the configuration, without the lock. */
function judge(
  s: LeaseSlots,
  words: Float64Array,
  at: number,
  now: number,
  scratch: Uint8Array,
): number {
  const v4 = words[at]!;
  for (let k = 0; k < 4; k++) writeWord(scratch, 4 * k, words[at + 2 + k]!);
  if (s.statics.covers4(v4) || s.statics.v4For6(scratch, 0) !== NOT_IPV4) return STATIC_CONFLICT;
  if (s.slotOf4(v4) < 0) return OUTSIDE_POOL;
  const last = words[at + 1]!;
  if (last > now + RESTORE_FUTURE_SLACK_SECS) return FUTURE_DATED;
  if (now - last > s.res) return EXPIRED;
  return RESTORED;
}

/**
 * Puts judged words back at their address unless the host or the address has a live lease
 * (an expired one is freed first). Lock held.
 */
function restoreWords(s: LeaseSlots, words: Float64Array, at: number, now: number): number {
  const v4 = words[at]!;
  const w0 = words[at + 2]!, w1 = words[at + 3]!, w2 = words[at + 4]!, w3 = words[at + 5]!;
  const slot = s.slotOf4(v4);
  const held = s.hash.find(w0, w1, w2, w3);
  if (held >= 0) {
    if (now - s.last[held]! <= s.res) return DUPLICATE_V6;
    s.free(held, now);
  }
  if (s.flags[slot] === IN_USE) {
    if (now - s.last[slot]! <= s.res) return DUPLICATE_V4;
    s.free(slot, now);
  }
  s.markUsed(slot);
  s.occupy(slot, w0, w1, w2, w3, words[at + 1]!);
  s.ring.emit(EV_RESTORED, slot, v4, now, w0, w1, w2, w3);
  return RESTORED;
}
