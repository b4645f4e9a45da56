/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Sums are kept as plain numbers holding an unfolded 32-bit-or-wider running
 * total of 16-bit big-endian words; `fold` reduces them to 16 bits. Nothing
 * here allocates, so every function may be called per packet.
 *
 * @module
 */

/**
 * Adds the 16-bit big-endian words of `buf[off .. off+len)` to `initial`.
 * An odd trailing byte is padded with zero, as RFC 1071 §4.1 does.
 *
 * @param buf bytes to sum
 * @param off first byte
 * @param len number of bytes
 * @param initial running sum to continue (0 to start)
 * @returns the unfolded sum (fold it with {@link fold})
 */
export function sumBytes(buf: Uint8Array, off: number, len: number, initial: number): number {
  let sum = initial;
  const end = off + (len & ~1);
  let i = off;
  for (; i < end; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    if (sum > 0x3fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  // An odd final byte; the total stays below 2^31 so callers may add to it.
  if (len & 1) sum += buf[i]! << 8;
  return sum;
}

/**
 * Folds a running sum to 16 bits with end-around carry (RFC 1071).
 *
 * @param sum an unfolded sum (sums built from {@link sumBytes} plus a few
 *   words stay below 2^32 and take the fast path)
 * @returns the one's-complement sum in 0..0xffff
 */
export function fold(sum: number): number {
  // Sums of 2^32 or more are folded apart, so this stays small enough for V8 to inline into
  // every caller on the packet path (its inlining budget is counted in bytecode bytes).
  let s = sum > 0xffffffff ? foldWide(sum) : sum;
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/** Folds a sum of 2^32 or more below 2^32 (never on the packet path). */
function foldWide(sum: number): number {
  let s = sum;
  while (s > 0xffffffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/**
 * The Internet checksum of a byte range: the complement of its folded sum.
 *
 * @param buf bytes
 * @param off first byte
 * @param len number of bytes
 * @param initial sum of a pseudo-header, or 0
 * @returns the 16-bit checksum to store in the packet
 */
export function checksum(buf: Uint8Array, off: number, len: number, initial: number): number {
  return ~fold(sumBytes(buf, off, len, initial)) & 0xffff;
}

/**
 * Updates a stored checksum after covered data changed (RFC 1624 eqn. 3):
 * `HC' = ~(~HC + ~m + m')`, where `m` is the folded sum of the old words and
 * `m'` that of the new ones. A wrong checksum stays wrong by the same amount.
 *
 * @param stored the checksum currently in the packet
 * @param oldSum sum of the words that were removed
 * @param newSum sum of the words that replace them
 * @returns the updated 16-bit checksum
 */
export function adjust(stored: number, oldSum: number, newSum: number): number {
  const s = (~stored & 0xffff) + (~fold(oldSum) & 0xffff) + fold(newSum);
  return ~fold(s) & 0xffff;
}

/**
 * Sum of an IPv4 address as two 16-bit words.
 *
 * @param v4 the address as a uint32
 * @returns its unfolded word sum
 */
export function sumIpv4(v4: number): number {
  return (v4 >>> 16) + (v4 & 0xffff);
}
