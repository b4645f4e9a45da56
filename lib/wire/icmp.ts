/**
 * ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) constants and the RFC 4884
 * length-attribute positions.
 *
 * ```text
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   rest of header: id/seq, unused+length, MTU or pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      invoking packet ("original datagram", RFC 4884) ...       |
 * ```
 *
 * @module
 */

/** ICMP header length (type, code, checksum, 4 more bytes). */
export const HEADER_LEN = 8;
/** Offset of the Type (the high byte of the type/code word). */
export const TYPE_OFF = 0;
/** Offset of the Code. */
export const CODE_OFF = 1;
/** Offset of the Checksum. */
export const CHECKSUM_OFF = 2;
/** Offset of the 32-bit rest of the header (identifier/sequence, pointer, MTU, unused). */
export const REST_OFF = 4;
/** ICMPv4 Parameter Problem: offset of the Pointer octet (RFC 792). */
export const V4_POINTER_OFF = 4;
/** ICMPv4: offset of the RFC 4884 length attribute (32-bit words of the original datagram). */
export const V4_LENGTH_OFF = 5;
/** ICMPv4 Fragmentation Needed: offset of the Next-Hop MTU (RFC 1191 §4). */
export const V4_NEXT_MTU_OFF = 6;
/** ICMPv6: offset of the RFC 4884 length attribute (64-bit words of the original datagram). */
export const V6_LENGTH_OFF = 4;
/** ICMPv6 Packet Too Big: offset of the 32-bit MTU; Parameter Problem: of the Pointer. */
export const V6_MTU_POINTER_OFF = 4;

/** ICMPv4 Echo Reply. */
export const V4_ECHO_REPLY = 0;
/** ICMPv4 Destination Unreachable. */
export const V4_DEST_UNREACH = 3;
/** ICMPv4 Echo Request. */
export const V4_ECHO_REQUEST = 8;
/** ICMPv4 Time Exceeded. */
export const V4_TIME_EXCEEDED = 11;
/** ICMPv4 Parameter Problem. */
export const V4_PARAM_PROBLEM = 12;

/** Destination Unreachable code: protocol unreachable. */
export const V4_CODE_PROTO_UNREACH = 2;
/** Destination Unreachable code: fragmentation needed and DF set. */
export const V4_CODE_FRAG_NEEDED = 4;
/** Destination Unreachable code: source route failed. */
export const V4_CODE_SOURCE_ROUTE_FAILED = 5;
/** Destination Unreachable code: communication administratively prohibited. */
export const V4_CODE_ADMIN_PROHIBITED = 13;

/** ICMPv6 Destination Unreachable. */
export const V6_DEST_UNREACH = 1;
/** ICMPv6 Packet Too Big. */
export const V6_PACKET_TOO_BIG = 2;
/** ICMPv6 Time Exceeded. */
export const V6_TIME_EXCEEDED = 3;
/** ICMPv6 Parameter Problem. */
export const V6_PARAM_PROBLEM = 4;
/** ICMPv6 Echo Request. */
export const V6_ECHO_REQUEST = 128;
/** ICMPv6 Echo Reply. */
export const V6_ECHO_REPLY = 129;

/** ICMPv6 Destination Unreachable code: administratively prohibited. */
export const V6_CODE_ADMIN_PROHIBITED = 1;
/** ICMPv6 Destination Unreachable code: address unreachable. */
export const V6_CODE_ADDR_UNREACH = 3;

/**
 * True for ICMPv4 error types (RFC 792), whose body quotes a packet.
 * @param type ICMPv4 type
 * @returns whether the message is an error
 */
export function isV4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * True for ICMPv6 error types (RFC 4443 §2.1: types 0–127).
 * @param type ICMPv6 type
 * @returns whether the message is an error
 */
export function isV6Error(type: number): boolean {
  return type < 128;
}

/**
 * True for ICMPv4 types that carry an RFC 4884 length attribute (byte 5).
 * @param type ICMPv4 type
 * @returns whether the type has a length attribute
 */
export function v4HasLength(type: number): boolean {
  return type === 3 || type === 11 || type === 12;
}

/**
 * True for ICMPv6 types that carry an RFC 4884 length attribute (byte 4).
 * @param type ICMPv6 type
 * @returns whether the type has a length attribute
 */
export function v6HasLength(type: number): boolean {
  return type === 1 || type === 3;
}
