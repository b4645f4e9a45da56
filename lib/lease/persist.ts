/**
 * The lease file: dynamic leases as JSON, so a restart keeps every host's
 * IPv4 address. Pure text in, text out; the atomic write lives in the daemon.
 *
 * ```json
 * {
 *   "format": "protomask-leases",
 *   "version": 1,
 *   "savedAtSecs": 1700000000,
 *   "leases": [{ "v4": "192.0.2.1", "v6": "2001:db8::1", "lastSeenSecs": 1699999990 }]
 * }
 * ```
 *
 * Decoding checks only the shape; `LeaseTable.restore()` judges each record
 * (addresses, pool, expiry) against the configuration in force.
 *
 * Between the table and the text sit lease WORDS: `LeaseTable.snapshot()` copies each live
 * lease's {@link LEASE_WORDS} numbers under the table's lock into an array it allocated
 * before, and {@link recordsOfWords} formats them as records after the lock is released (text
 * is never made while other threads wait for the lock). `restore()` goes the other way with
 * {@link wordsOfRecord}, outside the lock too.
 *
 * @module
 */

import { formatIpv4, parseIpv4 } from "../addr/ipv4.ts";
import { formatIpv6, parseIpv6 } from "../addr/ipv6.ts";
import type { LeaseRecord } from "./types.ts";
import { readWord, writeWord } from "./words.ts";

/** Value of the file's "format" field. */
export const LEASE_FILE_FORMAT = "protomask-leases";
/** The file version this code writes and reads. */
export const LEASE_FILE_VERSION = 1;

/** Result of {@link decodeLeaseFile}. */
export interface DecodedLeaseFile {
  /** Well-formed records (possibly fewer than the file holds; see `problem`). */
  records: LeaseRecord[];
  /** When the file was written, or `null` when unknown. */
  savedAtSecs: number | null;
  /** What was wrong with the text, or `null` when it was entirely well-formed. */
  problem: string | null;
}

/**
 * Encodes leases as the lease file text.
 *
 * @param records Leases, as from `LeaseTable.snapshot()`; only the three
 *   record fields are written.
 * @param nowSecs Time of saving, seconds (stored as `savedAtSecs`).
 * @returns JSON text ending in a newline.
 */
export function encodeLeaseFile(records: readonly LeaseRecord[], nowSecs: number): string {
  const leases = records.map((r) => ({ v4: r.v4, v6: r.v6, lastSeenSecs: r.lastSeenSecs }));
  const doc = {
    format: LEASE_FILE_FORMAT,
    version: LEASE_FILE_VERSION,
    savedAtSecs: nowSecs,
    leases,
  };
  return JSON.stringify(doc, null, 1) + "\n";
}

function isRecord(x: unknown): x is LeaseRecord {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const r = x as Record<string, unknown>;
  return typeof r.v4 === "string" && typeof r.v6 === "string" &&
    typeof r.lastSeenSecs === "number" && Number.isFinite(r.lastSeenSecs) && r.lastSeenSecs >= 0;
}

function failed(problem: string): DecodedLeaseFile {
  return { records: [], savedAtSecs: null, problem };
}

/**
 * Decodes lease file text. Never throws: garbage yields no records and a
 * problem string; malformed entries are skipped and counted in `problem`.
 *
 * @param text The file contents.
 * @returns The well-formed records, the save time and any problem.
 */
export function decodeLeaseFile(text: string): DecodedLeaseFile {
  if (typeof text !== "string") return failed("not text");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return failed(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return failed("not a JSON object");
  }
  const d = doc as Record<string, unknown>;
  if (d.format !== LEASE_FILE_FORMAT) return failed(`"format" is not "${LEASE_FILE_FORMAT}"`);
  if (d.version !== LEASE_FILE_VERSION) {
    return failed(
      `unsupported "version" ${JSON.stringify(d.version)} (expected ${LEASE_FILE_VERSION})`,
    );
  }
  if (!Array.isArray(d.leases)) return failed(`"leases" is not an array`);
  const savedAtSecs = typeof d.savedAtSecs === "number" && Number.isFinite(d.savedAtSecs)
    ? d.savedAtSecs
    : null;
  const records: LeaseRecord[] = [];
  let skipped = 0;
  for (const entry of d.leases) {
    if (isRecord(entry)) {
      records.push({ v4: entry.v4, v6: entry.v6, lastSeenSecs: entry.lastSeenSecs });
    } else skipped++;
  }
  const problems: string[] = [];
  if (savedAtSecs === null) problems.push(`"savedAtSecs" is not a number`);
  if (skipped > 0) {
    problems.push(`${skipped} malformed lease entr${skipped === 1 ? "y" : "ies"} skipped`);
  }
  return { records, savedAtSecs, problem: problems.length === 0 ? null : problems.join("; ") };
}

/**
 * Numbers per lease in a word snapshot: the IPv4 address, last-seen seconds, then the IPv6
 * host's four big-endian words.
 */
export const LEASE_WORDS = 6;

/**
 * Formats leases copied as words (see {@link LEASE_WORDS}) as records.
 *
 * @param words The copied words.
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
 * Parses a record into words (see {@link LEASE_WORDS}; last-seen rounded down), or tells it
 * is unparsable. Judges nothing else: `LeaseTable.restore()` does.
 *
 * @param record A record, possibly not even an object.
 * @param into Receives the words.
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
