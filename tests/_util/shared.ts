/**
 * Helpers for tests that read the team's shared corpus (`shared/` beside the repository:
 * /work/shared on a developer machine, a read-only copy beside the clone in CI).
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
