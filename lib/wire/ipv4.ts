/**
 * IPv4 header accessors (RFC 791 §3.1). Functions take the packet's
 * `DataView` and the header offset; they do not validate (see
 * `from4()` in `lib/xlat/four_to_six.ts`, which validates once per packet).
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @module
 */

import { checksum, fold } from "./checksum.ts";

/** Length of an IPv4 header without options, in bytes. */
export const HEADER_LEN = 20;
/** Offset of the Type of Service octet. */
export const TOS_OFF = 1;
/** Offset of the Total Length. */
export const TOTAL_LENGTH_OFF = 2;
/** Offset of the Identification. */
export const IDENTIFICATION_OFF = 4;
/** Offset of the flags/fragment offset word. */
export const FLAGS_OFFSET_OFF = 6;
/** Offset of the Time to Live. */
export const TTL_OFF = 8;
/** Offset of the Protocol. */
export const PROTOCOL_OFF = 9;
/** Offset of the Header Checksum. */
export const CHECKSUM_OFF = 10;
/** Offset of the Source Address. */
export const SOURCE_OFF = 12;
/** Offset of the Destination Address. */
export const DESTINATION_OFF = 16;
/** The Don't Fragment flag within the flags/offset word. */
export const FLAG_DF = 0x4000;
/** The More Fragments flag within the flags/offset word. */
export const FLAG_MF = 0x2000;
/** Mask of the fragment offset (in 8-byte units) within the flags/offset word. */
export const OFFSET_MASK = 0x1fff;

/** Protocol numbers used by the translator (IANA). */
export const PROTO_ICMP = 1;
/** IGMP (RFC 2236). */
export const PROTO_IGMP = 2;
/** TCP (RFC 9293). */
export const PROTO_TCP = 6;
/** UDP (RFC 768). */
export const PROTO_UDP = 17;

/** Option types that matter to RFC 7915 §4.1. */
export const OPT_END = 0;
/** No-operation option. */
export const OPT_NOP = 1;
/** Offset of an option's length octet from the option's type octet (RFC 791 §3.1). */
export const OPT_LENGTH_OFF = 1;
/** Offset of a source route option's pointer octet from its type octet (RFC 791 §3.1). */
export const OPT_POINTER_OFF = 2;
/** Loose Source and Record Route. */
export const OPT_LSRR = 131;
/** Strict Source and Record Route. */
export const OPT_SSRR = 137;

/**
 * Version (4 bits).
 * @param v packet view
 * @param off header offset
 * @returns the version field
 */
export function version(v: DataView, off: number): number {
  return v.getUint8(off) >> 4;
}

/**
 * Header length in bytes (IHL × 4).
 * @param v packet view
 * @param off header offset
 * @returns header length in bytes
 */
export function headerLength(v: DataView, off: number): number {
  return (v.getUint8(off) & 0x0f) << 2;
}

/**
 * Type of Service octet (DSCP and ECN).
 * @param v packet view
 * @param off header offset
 * @returns the TOS byte
 */
export function tos(v: DataView, off: number): number {
  return v.getUint8(off + TOS_OFF);
}

/**
 * Total Length in bytes.
 * @param v packet view
 * @param off header offset
 * @returns the total length field
 */
export function totalLength(v: DataView, off: number): number {
  return v.getUint16(off + TOTAL_LENGTH_OFF);
}

/**
 * Identification.
 * @param v packet view
 * @param off header offset
 * @returns the identification field
 */
export function identification(v: DataView, off: number): number {
  return v.getUint16(off + IDENTIFICATION_OFF);
}

/**
 * Flags and fragment offset word (use {@link FLAG_DF}, {@link FLAG_MF}, {@link OFFSET_MASK}).
 * @param v packet view
 * @param off header offset
 * @returns the 16-bit flags/offset word
 */
export function flagsOffset(v: DataView, off: number): number {
  return v.getUint16(off + FLAGS_OFFSET_OFF);
}

/**
 * Time to Live.
 * @param v packet view
 * @param off header offset
 * @returns the TTL
 */
export function ttl(v: DataView, off: number): number {
  return v.getUint8(off + TTL_OFF);
}

/**
 * Protocol number of the payload.
 * @param v packet view
 * @param off header offset
 * @returns the protocol field
 */
export function protocol(v: DataView, off: number): number {
  return v.getUint8(off + PROTOCOL_OFF);
}

/**
 * Source address.
 * @param v packet view
 * @param off header offset
 * @returns the source as an int32 (`>>> 0` for the uint32), as addresses travel on the
 *   per-packet path: an int32 never becomes a heap number when passed to a call
 */
export function source(v: DataView, off: number): number {
  return v.getInt32(off + SOURCE_OFF);
}

/**
 * Destination address.
 * @param v packet view
 * @param off header offset
 * @returns the destination as an int32 (`>>> 0` for the uint32)
 */
export function destination(v: DataView, off: number): number {
  return v.getInt32(off + DESTINATION_OFF);
}

/** Fields of an option-less IPv4 header to write with {@link writeHeader}. */
export interface Ipv4Fields {
  /** Type of Service. */
  tos: number;
  /** Total Length in bytes. */
  totalLength: number;
  /** Identification. */
  identification: number;
  /** Flags and fragment offset word. */
  flagsOffset: number;
  /** Time to Live. */
  ttl: number;
  /** Protocol. */
  protocol: number;
  /** Source address (uint32). */
  source: number;
  /** Destination address (uint32). */
  destination: number;
}

/**
 * Writes a 20-byte IPv4 header (IHL 5) with a correct header checksum.
 * Arguments are positional because this runs per packet.
 *
 * @param b packet bytes
 * @param v view over the same buffer
 * @param off where the header starts
 * @param tosByte Type of Service
 * @param total Total Length
 * @param id Identification
 * @param flagsOff flags/fragment offset word
 * @param ttlValue Time to Live
 * @param proto Protocol
 * @param src source address (uint32)
 * @param dst destination address (uint32)
 */
export function writeHeader(
  b: Uint8Array,
  v: DataView,
  off: number,
  tosByte: number,
  total: number,
  id: number,
  flagsOff: number,
  ttlValue: number,
  proto: number,
  src: number,
  dst: number,
): void {
  v.setUint16(off, 0x4500 | tosByte);
  v.setUint16(off + TOTAL_LENGTH_OFF, total);
  v.setUint16(off + IDENTIFICATION_OFF, id);
  v.setUint16(off + FLAGS_OFFSET_OFF, flagsOff);
  v.setUint8(off + TTL_OFF, ttlValue);
  v.setUint8(off + PROTOCOL_OFF, proto);
  v.setUint16(off + CHECKSUM_OFF, 0);
  v.setUint32(off + SOURCE_OFF, src);
  v.setUint32(off + DESTINATION_OFF, dst);
  v.setUint16(off + CHECKSUM_OFF, checksum(b, off, HEADER_LEN, 0));
}

/**
 * Recomputes the header checksum in place over `headerLength` bytes.
 * @param b packet bytes
 * @param v view over the same buffer
 * @param off header offset
 */
export function fixHeaderChecksum(b: Uint8Array, v: DataView, off: number): void {
  v.setUint16(off + CHECKSUM_OFF, 0);
  v.setUint16(off + CHECKSUM_OFF, checksum(b, off, headerLength(v, off), 0));
}

/**
 * Whether the IPv4 header at `off` has a correct checksum (RFC 791): its 16-bit words,
 * checksum included, sum to 0xffff. Written as a word loop over the view so that V8 inlines it
 * into the per-packet translation at a fraction of `checksum()`'s bytecode.
 *
 * @param v packet view
 * @param off offset of the header
 * @param ihl its length in bytes (a multiple of 4)
 * @returns whether the checksum holds
 */
export function headerChecksumValid(v: DataView, off: number, ihl: number): boolean {
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += v.getUint16(off + i);
  return fold(sum) === 0xffff;
}
