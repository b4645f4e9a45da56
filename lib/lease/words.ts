/**
 * Small allocation-free helpers shared by the lease tables: IPv6 addresses as
 * four big-endian uint32 words, 32-bit hash mixing and IPv4 netmasks.
 *
 * @module
 */

/**
 * Reads a big-endian uint32 from a byte buffer. Allocation-free (hot path).
 *
 * @param buf Buffer to read.
 * @param off Offset of the first (most significant) byte.
 * @returns The word as a uint32.
 */
export function readWord(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

/**
 * Writes a uint32 to a byte buffer in big-endian order. Allocation-free (hot path).
 *
 * @param buf Buffer to write.
 * @param off Offset of the first (most significant) byte.
 * @param word The value, as a uint32 or int32.
 */
export function writeWord(buf: Uint8Array, off: number, word: number): void {
  buf[off] = word >>> 24;
  buf[off + 1] = (word >>> 16) & 0xff;
  buf[off + 2] = (word >>> 8) & 0xff;
  buf[off + 3] = word & 0xff;
}

/**
 * Finalises a 32-bit hash (the MurmurHash3 `fmix32` avalanche step).
 *
 * @param h Any int32 or uint32.
 * @returns A well-mixed uint32.
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes an IPv6 address given as four words (plus a salt such as a prefix
 * length). Allocation-free (hot path).
 *
 * @param w0 Bits 0..31 of the address.
 * @param w1 Bits 32..63.
 * @param w2 Bits 64..95.
 * @param w3 Bits 96..127.
 * @param salt Extra value mixed in (0 when unused).
 * @returns A uint32 hash.
 */
export function hashWords(w0: number, w1: number, w2: number, w3: number, salt: number): number {
  return mix32(
    Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1 ^ salt, 0x85ebca77) ^
      Math.imul(w2, 0xc2b2ae3d) ^ mix32(w3 + salt),
  );
}

/**
 * Returns the netmask of a prefix length inside one 32-bit word: the IPv4
 * netmask for `word` 0, or the mask of word `word` (0..3) of an IPv6 prefix.
 *
 * @param len Prefix length in bits (0..32 for IPv4, 0..128 for IPv6).
 * @param word Which 32-bit word of the address (0 for IPv4).
 * @returns The mask as a uint32.
 */
export function wordMask(len: number, word: number): number {
  const bits = len - 32 * word;
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * Returns the smallest power of two that is at least `n` (and at least 1).
 *
 * @param n A non-negative integer below 2 ** 31.
 * @returns The power of two.
 */
export function ceilPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
