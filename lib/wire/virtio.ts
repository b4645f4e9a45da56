/**
 * `struct virtio_net_hdr` (virtio 1.x §5.1.6, `include/uapi/linux/virtio_net.h`): the 10-byte
 * header a TUN device opened with `IFF_VNET_HDR` puts before every packet it hands out and
 * expects before every packet written to it. Its multi-byte fields are little-endian (the
 * legacy layout Linux's tun uses on little-endian hosts, and the default `TUNSETVNETHDRSZ`
 * of 10 bytes without `num_buffers`).
 *
 * ```text
 *  0               1               2                               4
 * +---------------+---------------+-------------------------------+
 * |     flags     |   gso_type    |        hdr_len (le16)         |
 * +---------------+---------------+-------------------------------+
 * |        gso_size (le16)        |       csum_start (le16)       |
 * +-------------------------------+-------------------------------+
 * |       csum_offset (le16)      |
 * +-------------------------------+
 * ```
 *
 * With `VIRTIO_NET_HDR_F_NEEDS_CSUM` the packet's transport checksum is *partial*: the 16-bit
 * field at `csum_start + csum_offset` holds the folded, **not** complemented sum of the
 * pseudo-header, and whoever sends the packet on sums from `csum_start` to the end and stores
 * the complement. Linux (`__tcp_v4_send_check`, `tcp_v6_send_check`, `udp4_hwcsum`,
 * `udp6_hwcsum_outgoing`) puts the **whole** super-packet's transport length in that
 * pseudo-header, and its software GSO (`tcp_gso_segment`, `__udp_gso_segment`) replaces it with
 * each segment's length. An IPv4 and an IPv6 pseudo-header of the same transport length and
 * protocol differ only in their addresses, so a translation adjusts the partial sum for the
 * addresses alone ({@link adjustPartial}) — right whichever length the sender put in, since the
 * length is not touched (drivers that want the pseudo-header without it, such as igb, remove
 * it themselves).
 *
 * @module
 */

import { adjust, fold, sumBytes } from "./checksum.ts";
import * as tcp from "./tcp.ts";
import * as udp from "./udp.ts";

/** Length of the header (no `num_buffers`), the `TUNSETVNETHDRSZ` default. */
export const HEADER_LEN = 10;
/** Offset of `flags`. */
export const FLAGS_OFF = 0;
/** Offset of `gso_type`. */
export const GSO_TYPE_OFF = 1;
/** Offset of `hdr_len` (le16): bytes of headers, a hint for GSO packets. */
export const HDR_LEN_OFF = 2;
/** Offset of `gso_size` (le16): transport payload bytes per segment. */
export const GSO_SIZE_OFF = 4;
/** Offset of `csum_start` (le16): where checksumming starts, from the packet's first byte. */
export const CSUM_START_OFF = 6;
/** Offset of `csum_offset` (le16): where the checksum field is, from `csum_start`. */
export const CSUM_OFFSET_OFF = 8;

/** `flags`: the transport checksum is partial (see the module text). */
export const F_NEEDS_CSUM = 1;
/** `flags`: the checksum was verified (from the device; informational here). */
export const F_DATA_VALID = 2;

/** `gso_type`: an ordinary packet. */
export const GSO_NONE = 0;
/** `gso_type`: TCP over IPv4, cut into `gso_size` segments (TSO4). */
export const GSO_TCPV4 = 1;
/** `gso_type`: UDP fragmentation offload (UFO; never enabled by protomask). */
export const GSO_UDP = 3;
/** `gso_type`: TCP over IPv6 (TSO6). */
export const GSO_TCPV6 = 4;
/** `gso_type`: UDP segmentation, IPv4 or IPv6 (USO, Linux 6.2+). */
export const GSO_UDP_L4 = 5;
/** `gso_type` bit: TCP with ECN, CWR set on the first segment only. */
export const GSO_ECN = 0x80;

/** `csum_offset` of a TCP checksum. */
export const TCP_CSUM_OFFSET: number = tcp.CHECKSUM_OFF;
/** `csum_offset` of a UDP checksum. */
export const UDP_CSUM_OFFSET: number = udp.CHECKSUM_OFF;

/**
 * `flags`.
 * @param v view over the header's buffer
 * @param off offset of the header
 * @returns the flags byte
 */
export function flags(v: DataView, off: number): number {
  return v.getUint8(off + FLAGS_OFF);
}

/**
 * `gso_type`, the ECN bit included.
 * @param v view over the header's buffer
 * @param off offset of the header
 * @returns the GSO type byte
 */
export function gsoType(v: DataView, off: number): number {
  return v.getUint8(off + GSO_TYPE_OFF);
}

/**
 * `hdr_len`.
 * @param v view over the header's buffer
 * @param off offset of the header
 * @returns header bytes
 */
export function hdrLen(v: DataView, off: number): number {
  return v.getUint16(off + HDR_LEN_OFF, true);
}

/**
 * `gso_size`.
 * @param v view over the header's buffer
 * @param off offset of the header
 * @returns transport payload bytes per segment (0 for an ordinary packet)
 */
export function gsoSize(v: DataView, off: number): number {
  return v.getUint16(off + GSO_SIZE_OFF, true);
}

/**
 * `csum_start`.
 * @param v view over the header's buffer
 * @param off offset of the header
 * @returns offset of the first checksummed byte in the packet
 */
export function csumStart(v: DataView, off: number): number {
  return v.getUint16(off + CSUM_START_OFF, true);
}

/**
 * `csum_offset`.
 * @param v view over the header's buffer
 * @param off offset of the header
 * @returns offset of the checksum field from `csum_start`
 */
export function csumOffset(v: DataView, off: number): number {
  return v.getUint16(off + CSUM_OFFSET_OFF, true);
}

/**
 * Writes a whole header.
 *
 * @param v view over the destination buffer
 * @param off offset of the header
 * @param hdrFlags `flags`
 * @param type `gso_type`
 * @param headerBytes `hdr_len`
 * @param segmentBytes `gso_size`
 * @param start `csum_start`
 * @param offset `csum_offset`
 */
export function write(
  v: DataView,
  off: number,
  hdrFlags: number,
  type: number,
  headerBytes: number,
  segmentBytes: number,
  start: number,
  offset: number,
): void {
  v.setUint8(off + FLAGS_OFF, hdrFlags);
  v.setUint8(off + GSO_TYPE_OFF, type);
  v.setUint16(off + HDR_LEN_OFF, headerBytes, true);
  v.setUint16(off + GSO_SIZE_OFF, segmentBytes, true);
  v.setUint16(off + CSUM_START_OFF, start, true);
  v.setUint16(off + CSUM_OFFSET_OFF, offset, true);
}

/**
 * The partial checksum after the pseudo-header words summing to `oldSum` were replaced by
 * words summing to `newSum` (RFC 1624 applied to a sum that is not complemented).
 *
 * @param partial the folded pseudo-header sum in the packet
 * @param oldSum sum of the words removed (e.g. the IPv6 addresses)
 * @param newSum sum of the words that replace them (e.g. the IPv4 addresses)
 * @returns the new folded partial sum to store
 */
export function adjustPartial(partial: number, oldSum: number, newSum: number): number {
  return ~adjust(~partial & 0xffff, oldSum, newSum) & 0xffff;
}

/**
 * The partial checksum Linux stores for a pseudo-header summing to `pseudoSum`
 * (`~csum_tcpudp_magic(…)`): folded, not complemented.
 *
 * @param pseudoSum unfolded sum of the pseudo-header words
 * @returns the 16-bit value for the checksum field
 */
export function partialOf(pseudoSum: number): number {
  return fold(pseudoSum);
}

/**
 * Completes a partial checksum in place, as `skb_checksum_help` does: sums from `start` to
 * `end` (the partial field included) and stores the complement at `fieldAt`; a result of 0 is
 * stored as 0xffff, which means the same in ones'-complement arithmetic and is what UDP
 * needs (RFC 768).
 *
 * @param b packet bytes
 * @param v view over `b`
 * @param start first checksummed byte (`csum_start`)
 * @param end one past the packet's last byte
 * @param fieldAt offset of the checksum field (`csum_start + csum_offset`)
 */
export function completeChecksum(
  b: Uint8Array,
  v: DataView,
  start: number,
  end: number,
  fieldAt: number,
): void {
  const cs = ~fold(sumBytes(b, start, end - start, 0)) & 0xffff;
  v.setUint16(fieldAt, cs === 0 ? 0xffff : cs);
}
