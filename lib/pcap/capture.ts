/**
 * What a capture read by ./reader.ts is ({@link Capture}, {@link PcapError}, the link types)
 * and how one frame becomes an IP packet: its link header stripped (`addFrame()`), whatever
 * the file format. Re-exported by ./reader.ts.
 *
 * @module
 */

/** LINKTYPE_NULL: 4-byte address family in the capturing host's byte order, then the packet. */
export const LINKTYPE_NULL = 0;
/** LINKTYPE_ETHERNET (DLT_EN10MB): 14-byte Ethernet II header, optional 802.1Q/802.1ad tags. */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW: the bare IPv4 or IPv6 packet. */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_LOOP: 4-byte address family in network byte order, then the packet. */
export const LINKTYPE_LOOP = 108;
/** LINKTYPE_LINUX_SLL: 16-byte Linux "cooked" header, protocol at bytes 14–15. */
export const LINKTYPE_LINUX_SLL = 113;
/** LINKTYPE_IPV4: the bare IPv4 packet. */
export const LINKTYPE_IPV4 = 228;
/** LINKTYPE_IPV6: the bare IPv6 packet. */
export const LINKTYPE_IPV6 = 229;
/** LINKTYPE_LINUX_SLL2: 20-byte Linux "cooked" v2 header, protocol at bytes 0–1. */
export const LINKTYPE_LINUX_SLL2 = 276;

/** One packet of a capture, its link-layer header already removed. */
export interface CapturedPacket {
  /** Seconds since the Unix epoch. */
  tsSecs: number;
  /** Microseconds within the second (0–999999), whatever the file's resolution. */
  tsMicros: number;
  /**
   * The bare IPv4 or IPv6 packet (a view into the input bytes). For link types that carry a
   * header, trailing link padding beyond the IP header's own length is cut off.
   */
  data: Uint8Array;
  /**
   * Length of the IP packet on the wire (the file's original length minus the link header,
   * and no more than the IP header's own length); greater than `data.length` when the
   * capture was truncated by the snapshot length.
   */
  origLength: number;
}

/** A whole capture file, read into memory. */
export interface Capture {
  /** Link type of the file (classic pcap) or of the first interface (pcapng); -1 if none. */
  linkType: number;
  /** The IPv4/IPv6 packets, in file order. */
  packets: CapturedPacket[];
  /** Packets left out because they were not IPv4/IPv6 (other ethertype or address family). */
  skipped: number;
}

/** A capture file that cannot be read: the message names the byte offset of the problem. */
export class PcapError extends Error {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;

  /**
   * Create the error; the message gets " at offset N" appended.
   *
   * @param message what is wrong (the offset is appended)
   * @param offset byte offset in the input where the problem was found
   */
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = "PcapError";
    this.offset = offset;
  }
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

/** AF_INET on every system that writes NULL/LOOP captures. */
const AF_INET = 2;
/** AF_INET6 of Linux (10), NetBSD/OpenBSD (24), FreeBSD (28) and Darwin (30). */
const AF_INET6_LINUX = 10;
const AF_INET6_BSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;

/** Where the IP packet starts after the link header (its length), or null to skip the frame. */
type Unwrapped = { start: number } | null;

/**
 * Checks that a link type is one this reader understands.
 * @param linkType the file's or interface's link type
 * @param offset where it was read, for the message
 * @throws {PcapError} for any other link type
 */
export function checkLinkType(linkType: number, offset: number): void {
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_ETHERNET:
    case LINKTYPE_RAW:
    case LINKTYPE_LOOP:
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case LINKTYPE_LINUX_SLL2:
      return;
    default:
      throw new PcapError(`unsupported link type ${linkType}`, offset);
  }
}

/**
 * Strip the link header of one frame and append its IP packet, or count it as skipped.
 * @param capture the capture being read
 * @param bytes the whole file
 * @param linkType the frame's link type
 * @param start where the frame starts in `bytes`
 * @param capLen its captured length
 * @param origLen its length on the wire
 * @param tsSecs its timestamp, seconds
 * @param tsMicros its timestamp, microseconds within the second
 */
export function addFrame(
  capture: Capture,
  bytes: Uint8Array,
  linkType: number,
  start: number,
  capLen: number,
  origLen: number,
  tsSecs: number,
  tsMicros: number,
): void {
  const frame = bytes.subarray(start, start + capLen);
  const found = unwrap(frame, linkType);
  if (found === null) {
    capture.skipped++;
    return;
  }
  let data = frame.subarray(found.start);
  let origLength = Math.max(0, origLen - found.start);
  if (found.start > 0) {
    // Link layers pad short frames (Ethernet to 60 bytes): keep only what the IP header claims.
    const ipLen = ipDeclaredLength(data);
    if (ipLen > 0) {
      if (ipLen < data.length) data = data.subarray(0, ipLen);
      if (ipLen < origLength) origLength = ipLen;
    }
  }
  capture.packets.push({ tsSecs, tsMicros, data, origLength });
}

/** Where the IP packet starts in a frame of this link type, or null if it is not IP. */
function unwrap(frame: Uint8Array, linkType: number): Unwrapped {
  switch (linkType) {
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return { start: 0 };
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (frame.length < 4) return null;
      const be = u32be(frame, 0);
      // NULL is in the capturing host's byte order: a family is small, so a large value means
      // the other order. LOOP is always network order.
      const family = linkType === LINKTYPE_LOOP || be <= 0xffff ? be : swap32(be);
      if (
        family === AF_INET || family === AF_INET6_LINUX || family === AF_INET6_BSD ||
        family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN
      ) {
        return { start: 4 };
      }
      return null;
    }
    case LINKTYPE_ETHERNET: {
      let off = 12;
      if (frame.length < off + 2) return null;
      let etherType = u16be(frame, off);
      while (
        etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ ||
        etherType === ETHERTYPE_QINQ_OLD
      ) {
        off += 4;
        if (frame.length < off + 2) return null;
        etherType = u16be(frame, off);
      }
      return ipEtherType(etherType, off + 2);
    }
    case LINKTYPE_LINUX_SLL:
      return frame.length < 16 ? null : ipEtherType(u16be(frame, 14), 16);
    case LINKTYPE_LINUX_SLL2:
      return frame.length < 20 ? null : ipEtherType(u16be(frame, 0), 20);
    default:
      return null;
  }
}

function ipEtherType(etherType: number, start: number): Unwrapped {
  return etherType === ETHERTYPE_IPV4 || etherType === ETHERTYPE_IPV6 ? { start } : null;
}

/** The total length an IPv4/IPv6 header declares, or 0 when unknown (short, jumbo, not IP). */
function ipDeclaredLength(ip: Uint8Array): number {
  if (ip.length < 1) return 0;
  const version = ip[0]! >> 4;
  if (version === 4 && ip.length >= 4) {
    const total = u16be(ip, 2);
    return total >= 20 ? total : 0; // 0 is what TSO/GSO captures show
  }
  if (version === 6 && ip.length >= 6) {
    const payload = u16be(ip, 4);
    return payload === 0 ? 0 : 40 + payload;
  }
  return 0;
}

function u16be(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

function u32be(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/**
 * Swaps the byte order of a 32-bit word.
 * @param v the word
 * @returns it, bytes reversed, unsigned
 */
export function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * A 32-bit word in hex, for messages.
 * @param v the word
 * @returns eight hex digits
 */
export function hex32(v: number): string {
  return v.toString(16).padStart(8, "0");
}
