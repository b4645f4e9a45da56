/**
 * Deep freezing, for the configurations ./config.ts and ./clat.ts hand out.
 *
 * @module
 */

/**
 * Freezes an object and every object in it; typed arrays are left as they are (they cannot be
 * frozen).
 * @param v the value
 * @returns the same value, frozen
 */
export function deepFreeze<T>(v: T): T {
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v)) return v;
  for (const x of Object.values(v)) deepFreeze(x);
  return Object.freeze(v);
}
