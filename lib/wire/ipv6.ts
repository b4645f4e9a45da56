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

/** Length of the fixed IPv6 header. */
export const HEADER_LEN = 40;
/** The IPv6 minimum link MTU (RFC 8200 §5). */
export const MIN_MTU = 1280;
/** Length of a Fragment extension header. */
export const FRAGMENT_LEN = 8;
/** Offset of the Payload Length. */
export const PAYLOAD_LENGTH_OFF = 4;
/** Offset of the Next Header. */
export const NEXT_HEADER_OFF = 6;
/** Offset of the Hop Limit. */
export const HOP_LIMIT_OFF = 7;
/** Offset of the source address in the header. */
export const SOURCE_OFF = 8;
/** Offset of the destination address in the header. */
export const DESTINATION_OFF = 24;

/** Extension headers (RFC 8200 §4.3–4.6): offset of Next Header. */
export const EXT_NEXT_HEADER_OFF = 0;
/** Extension headers: offset of Hdr Ext Len (length in 8-byte units, not counting the first 8). */
export const EXT_LENGTH_OFF = 1;
/** The smallest extension header (Hop-by-Hop, Destination Options, Routing), in bytes. */
export const EXT_MIN_LEN = 8;
/** Routing header (RFC 8200 §4.4): offset of Segments Left. */
export const ROUTING_SEGMENTS_LEFT_OFF = 3;
/** Fragment header: offset of Next Header. */
export const FRAG_NEXT_HEADER_OFF = 0;
/** Fragment header: offset of the word holding Fragment Offset (13 bits, ×8 bytes) and M. */
export const FRAG_OFFSET_OFF = 2;
/** Fragment header: offset of the 32-bit Identification. */
export const FRAG_ID_OFF = 4;
/** Mask of the Fragment Offset, in bytes, within the {@link FRAG_OFFSET_OFF} word. */
export const FRAG_OFFSET_MASK = 0xfff8;
/** The M (more fragments) flag within the {@link FRAG_OFFSET_OFF} word. */
export const FRAG_MORE = 1;

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
  return v.getUint16(off + PAYLOAD_LENGTH_OFF);
}

/**
 * Next Header of the fixed header.
 * @param v packet view
 * @param off header offset
 * @returns the next header field
 */
export function nextHeader(v: DataView, off: number): number {
  return v.getUint8(off + NEXT_HEADER_OFF);
}

/**
 * Hop Limit.
 * @param v packet view
 * @param off header offset
 * @returns the hop limit
 */
export function hopLimit(v: DataView, off: number): number {
  return v.getUint8(off + HOP_LIMIT_OFF);
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
  v.setUint16(off + PAYLOAD_LENGTH_OFF, payloadLen);
  v.setUint8(off + NEXT_HEADER_OFF, nh);
  v.setUint8(off + HOP_LIMIT_OFF, hl);
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
  v.setUint8(off + FRAG_NEXT_HEADER_OFF, nh);
  v.setUint8(off + FRAG_NEXT_HEADER_OFF + 1, 0);
  v.setUint16(off + FRAG_OFFSET_OFF, (offsetUnits << 3) | more);
  v.setUint32(off + FRAG_ID_OFF, id >>> 0);
}

/**
 * Length of a Hop-by-Hop, Destination Options or Routing header (RFC 8200 §4.3).
 * @param b packet bytes
 * @param off where the extension header starts
 * @returns its length in bytes, the first 8 included
 */
export function extLength(b: Uint8Array, off: number): number {
  return (b[off + EXT_LENGTH_OFF]! + 1) << 3;
}

/**
 * Fragment Offset of a Fragment header, in bytes.
 * @param v packet view
 * @param off where the Fragment header starts
 * @returns the offset of the fragment's data in the original payload, in bytes
 */
export function fragmentOffsetBytes(v: DataView, off: number): number {
  return v.getUint16(off + FRAG_OFFSET_OFF) & FRAG_OFFSET_MASK;
}

/**
 * The M flag of a Fragment header.
 * @param v packet view
 * @param off where the Fragment header starts
 * @returns 1 when more fragments follow, else 0
 */
export function fragmentMore(v: DataView, off: number): number {
  return v.getUint16(off + FRAG_OFFSET_OFF) & FRAG_MORE;
}

/**
 * Identification of a Fragment header.
 * @param v packet view
 * @param off where the Fragment header starts
 * @returns the 32-bit identification as a uint32
 */
export function fragmentId(v: DataView, off: number): number {
  return v.getUint32(off + FRAG_ID_OFF);
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
  // Its own short loop rather than sumBytes(): 16 words stay far below 2^31, and the smaller
  // bytecode leaves the per-packet translators more of V8's inlining budget.
  let sum = 0;
  for (let i = off + SOURCE_OFF; i < off + DESTINATION_OFF + 16; i += 2) {
    sum += (b[i]! << 8) | b[i + 1]!;
  }
  return sum;
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
