/**
 * IPv6 header and extension header accessors (RFC 8200 §3, §4).
 *
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Source Address (128 bits)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               Destination Address (128 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Fragment header (RFC 8200 §4.5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Identification                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @module
 */

import { sumBytes } from "./checksum.ts";

/** Length of the fixed IPv6 header. */
export const HEADER_LEN = 40;
/** The IPv6 minimum link MTU (RFC 8200 §5). */
export const MIN_MTU = 1280;
/** Length of a Fragment extension header. */
export const FRAGMENT_LEN = 8;
/** Offset of the source address in the header. */
export const SOURCE_OFF = 8;
/** Offset of the destination address in the header. */
export const DESTINATION_OFF = 24;

/** Hop-by-Hop Options header. */
export const NH_HOP_BY_HOP = 0;
/** Routing header. */
export const NH_ROUTING = 43;
/** Fragment header. */
export const NH_FRAGMENT = 44;
/** Encapsulating Security Payload. */
export const NH_ESP = 50;
/** Authentication Header. */
export const NH_AH = 51;
/** ICMPv6. */
export const NH_ICMPV6 = 58;
/** No Next Header. */
export const NH_NONE = 59;
/** Destination Options header. */
export const NH_DEST_OPTS = 60;

/**
 * Traffic Class (8 bits).
 * @param v packet view
 * @param off header offset
 * @returns the traffic class
 */
export function trafficClass(v: DataView, off: number): number {
  return (v.getUint16(off) >> 4) & 0xff;
}

/**
 * Payload Length (bytes after the fixed header).
 * @param v packet view
 * @param off header offset
 * @returns the payload length field
 */
export function payloadLength(v: DataView, off: number): number {
  return v.getUint16(off + 4);
}

/**
 * Next Header of the fixed header.
 * @param v packet view
 * @param off header offset
 * @returns the next header field
 */
export function nextHeader(v: DataView, off: number): number {
  return v.getUint8(off + 6);
}

/**
 * Hop Limit.
 * @param v packet view
 * @param off header offset
 * @returns the hop limit
 */
export function hopLimit(v: DataView, off: number): number {
  return v.getUint8(off + 7);
}

/**
 * Writes the first 8 bytes of an IPv6 header (flow label 0, RFC 7915 §4.1).
 * The addresses are written by the caller.
 *
 * @param v packet view
 * @param off header offset
 * @param tc traffic class
 * @param payloadLen payload length
 * @param nh next header
 * @param hl hop limit
 */
export function writeFixed(
  v: DataView,
  off: number,
  tc: number,
  payloadLen: number,
  nh: number,
  hl: number,
): void {
  v.setUint32(off, 0x60000000 | (tc << 20));
  v.setUint16(off + 4, payloadLen);
  v.setUint8(off + 6, nh);
  v.setUint8(off + 7, hl);
}

/**
 * Writes a Fragment header (RFC 8200 §4.5).
 *
 * @param v packet view
 * @param off where the Fragment header starts
 * @param nh next header carried by the fragment
 * @param offsetUnits fragment offset in 8-byte units
 * @param more the M flag (1 or 0)
 * @param id 32-bit identification
 */
export function writeFragment(
  v: DataView,
  off: number,
  nh: number,
  offsetUnits: number,
  more: number,
  id: number,
): void {
  v.setUint8(off, nh);
  v.setUint8(off + 1, 0);
  v.setUint16(off + 2, (offsetUnits << 3) | more);
  v.setUint32(off + 4, id >>> 0);
}

/**
 * Sum of the source and destination addresses, for pseudo-header checksums
 * (RFC 8200 §8.1).
 *
 * @param b packet bytes
 * @param off header offset
 * @returns unfolded sum of the 32 address bytes
 */
export function sumAddresses(b: Uint8Array, off: number): number {
  return sumBytes(b, off + SOURCE_OFF, 32, 0);
}

/**
 * Compares two 16-byte addresses.
 * @param a first buffer
 * @param aOff offset of the first address
 * @param b second buffer
 * @param bOff offset of the second address
 * @returns true when all 16 bytes match
 */
export function addressEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < 16; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
