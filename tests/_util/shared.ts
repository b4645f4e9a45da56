/**
 * Helpers for tests that read the Jool corpus beside the clone (`../shared/conformance/jool`, and
 * Jool's `check.py` in `../shared/conformance`), absent in a user's clone: those tests then skip
 * with a message (see {@link sharedAvailableOrWarn}).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/**
 * Absolute file-system path of a file under `shared/`.
 *
 * @param rel path relative to `shared/`, e.g. "conformance/jool/manifest.json"
 * @returns the absolute path (it may not exist; see {@link sharedAvailable})
 */
export function sharedPath(rel: string): string {
  return fileURLToPath(new URL("../../../shared/" + rel, import.meta.url));
}

/**
 * Whether `shared/` (or a path inside it) exists and can be read.
 *
 * @param rel optional path relative to `shared/` that must exist
 * @returns true when the path is there; false when it is absent or not permitted
 */
export function sharedAvailable(rel = ""): boolean {
  try {
    Deno.statSync(sharedPath(rel));
    return true;
  } catch {
    return false;
  }
}

/**
 * The message a test file prints when it skips tests because `shared/` is absent.
 *
 * @param what the tests being skipped, e.g. "Jool corpus pcap tests"
 * @returns a one-line message naming what is skipped and where `shared/` was looked for
 */
export function skipMessage(what: string): string {
  return `SKIPPED ${what}: shared corpus not found at ${sharedPath("")}`;
}

/**
 * Whether the tests that need a path under `shared/` can run; when they cannot, prints the
 * {@link skipMessage} line once, so that every corpus test file skips the same way. Use the
 * result as the tests' `ignore: !result`.
 *
 * @param rel path relative to `shared/` that the tests read
 * @param what the tests being skipped, e.g. "Jool corpus pcap tests"
 * @returns true when the path is there
 */
export function sharedAvailableOrWarn(rel: string, what: string): boolean {
  const available = sharedAvailable(rel);
  if (!available) console.warn(skipMessage(what));
  return available;
}
