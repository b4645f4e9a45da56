/**
 * Edit distance, used to suggest the intended spelling of an unknown config key.
 *
 * @module
 */

/**
 * Computes the Levenshtein distance (insertions, deletions, substitutions)
 * between two strings, by UTF-16 code unit.
 *
 * @param a One string.
 * @param b The other string.
 * @returns The least number of single-character edits turning `a` into `b`.
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(levenshtein("Prefx", "Prefix"), 1);
 * ```
 */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Picks the allowed key a misspelt key most likely meant.
 *
 * A key equal to an allowed one but for letter case always matches;
 * otherwise the closest key wins when it is at most
 * `max(1, floor(key.length / 3))` edits away (the first on a tie).
 *
 * @param key The unknown key as written.
 * @param allowed The keys valid at that place.
 * @returns The suggested key, or `null` when none is close.
 */
export function suggestKey(key: string, allowed: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const sameCase = allowed.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const k of allowed) {
    const d = levenshtein(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
