/**
 * IPv4-embedded IPv6 addresses (RFC 6052 §2.2).
 *
 * ```
 * +--+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
 * |PL| 0-------------32--40--48--56--64--72--80--88--96--104---------|
 * +--+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
 * |32|     prefix    |v4(32)         | u | suffix                    |
 * |40|     prefix        |v4(24)     | u |(8)| suffix                |
 * |48|     prefix            |v4(16) | u | (16)  | suffix            |
 * |56|     prefix                |(8)| u |  v4(24)   | suffix        |
 * |64|     prefix                    | u |   v4(32)      | suffix    |
 * |96|     prefix                                    |    v4(32)     |
 * +--+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
 * ```
 *
 * Bits 64..71 (byte 8, the "u" octet) must be zero for every prefix length
 * (RFC 6052 §2.2); for /96 that byte belongs to the prefix itself. All
 * functions here are allocation-free and never throw (hot path).
 *
 * @module
 */

import { ipv6MatchesBits } from "./ipv6.ts";

/** The prefix lengths RFC 6052 §2.2 allows. */
export const RFC6052_LENGTHS: readonly number[] = Object.freeze([32, 40, 48, 56, 64, 96]);

/** Index of the "u" octet (bits 64..71) inside an IPv6 address (RFC 6052 §2.2). */
export const U_OCTET_INDEX = 8;

/**
 * Tells whether a prefix length is one RFC 6052 §2.2 allows.
 *
 * @param len A prefix length in bits.
 * @returns `true` for 32, 40, 48, 56, 64 and 96.
 */
export function isRfc6052Length(len: number): boolean {
  return len === 32 || len === 40 || len === 48 || len === 56 || len === 64 || len === 96;
}

/**
 * Writes the IPv4-embedded IPv6 address of `v4` under a prefix (RFC 6052 §2.2).
 *
 * All 16 bytes at `out[outOff..]` are written: the prefix bits, the four
 * IPv4 octets at the positions the table above gives, the u-octet as zero
 * and the suffix as zero. `prefixLen` must be one of {@link RFC6052_LENGTHS}
 * (checked once at configuration time, not here).
 *
 * @param prefix Prefix address, 16 bytes with zero host bits (e.g. `Ipv6Prefix.addr`).
 * @param prefixLen Prefix length: 32, 40, 48, 56, 64 or 96.
 * @param v4 The IPv4 address as a uint32.
 * @param out Destination buffer.
 * @param outOff Offset in `out` of the 16 bytes to write.
 * @returns Nothing; the address is written into `out`.
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { formatIpv6, parseIpv6 } from "./ipv6.ts";
 *
 * const wkp = parseIpv6("64:ff9b::")!;
 * const out = new Uint8Array(16);
 * embedIpv4(wkp, 96, 0xc0000221, out, 0); // 192.0.2.33
 * strictEqual(formatIpv6(out), "64:ff9b::c000:221");
 * ```
 */
export function embedIpv4(
  prefix: Uint8Array,
  prefixLen: number,
  v4: number,
  out: Uint8Array,
  outOff: number,
): void {
  let pos = prefixLen >>> 3;
  for (let i = 0; i < pos; i++) out[outOff + i] = prefix[i]!;
  for (let i = pos; i < 16; i++) out[outOff + i] = 0;
  for (let shift = 24; shift >= 0; shift -= 8) {
    if (pos === U_OCTET_INDEX) pos++;
    out[outOff + pos] = (v4 >>> shift) & 0xff;
    pos++;
  }
}

/**
 * Returned instead of an IPv4 address by lookups that find none: 2^32, outside the int32
 * range. Addresses on the per-packet path are int32s (the address's 32 bits read as a
 * signed integer; `>>> 0` gives the usual uint32): V8 keeps every int32 as a small integer
 * when it crosses a call, while a uint32 of 128.0.0.0 or more becomes a heap number, one
 * allocation per call. A constant sentinel allocates nothing either.
 */
export const NOT_IPV4 = 0x1_0000_0000;

/**
 * Reads the IPv4 address embedded in an IPv6 address (RFC 6052 §2.2).
 *
 * The caller has already checked that the address matches the prefix (see
 * {@link matchesPrefix}). For lengths 32..64 a non-zero u-octet (byte 8)
 * makes the address invalid; for /96 byte 8 is part of the prefix. Suffix
 * bits are ignored, as RFC 6052 §2.2 only asks senders to zero them.
 *
 * @param buf Buffer holding the IPv6 address.
 * @param off Offset of the 16 address bytes in `buf`.
 * @param prefixLen Prefix length: 32, 40, 48, 56, 64 or 96.
 * @returns The IPv4 address as an int32 (see {@link NOT_IPV4}), or {@link NOT_IPV4} when the
 *   u-octet is non-zero.
 */
export function extractIpv4(buf: Uint8Array, off: number, prefixLen: number): number {
  if (prefixLen === 96) {
    // The common case (and the Well-Known Prefix): the last four bytes.
    return ((buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) |
      buf[off + 15]!);
  }
  if (buf[off + U_OCTET_INDEX] !== 0) return NOT_IPV4;
  let pos = prefixLen >>> 3;
  let v4 = 0;
  for (let i = 0; i < 4; i++) {
    if (pos === U_OCTET_INDEX) pos++;
    v4 = (v4 << 8) | buf[off + pos]!;
    pos++;
  }
  return v4;
}

/**
 * Tells whether an IPv6 address starts with an RFC 6052 prefix.
 *
 * @param buf Buffer holding the IPv6 address.
 * @param off Offset of the 16 address bytes in `buf`.
 * @param prefix Prefix address, 16 bytes.
 * @param prefixLen Prefix length in bits.
 * @returns `true` when the first `prefixLen` bits match.
 */
export function matchesPrefix(
  buf: Uint8Array,
  off: number,
  prefix: Uint8Array,
  prefixLen: number,
): boolean {
  return ipv6MatchesBits(buf, off, prefix, prefixLen);
}
