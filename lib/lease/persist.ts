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
 * @module
 */

import type { LeaseRecord } from "./types.ts";

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
