/**
 * Reader for classic pcap and pcapng capture files, yielding bare IP packets.
 *
 * Classic pcap (libpcap savefile, draft-ietf-opsawg-pcap §4–§5):
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Magic Number (a1b2c3d4 µs / a1b23c4d ns)               |
 * +-------------------------------+-------------------------------+
 * |         Major Version         |         Minor Version         |
 * +-------------------------------+-------------------------------+
 * |                           Reserved1                           |
 * |                           Reserved2                           |
 * |                            SnapLen                            |
 * | FCS |f|0 0 0 0 0 0 0 0 0 0 0 0|         LinkType              |
 * +---------------------------------------------------------------+
 * then per packet: Timestamp (s), Timestamp (µs|ns), Captured Length,
 * Original Length, Packet Data (Captured Length bytes)
 * ```
 *
 * pcapng (draft-ietf-opsawg-pcapng §3–§4): a sequence of blocks
 *
 * ```text
 * +---------------------------------------------------------------+
 * |                          Block Type                           |
 * |                      Block Total Length                       |
 * /                          Block Body                           /
 * |                      Block Total Length                       |
 * +---------------------------------------------------------------+
 * ```
 *
 * of which the Section Header (0x0A0D0D0A), Interface Description (1),
 * Enhanced Packet (6) and Simple Packet (3) blocks are read; others are skipped.
 *
 * Not a hot path: it allocates freely and throws {@link PcapError} on malformed input.
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

const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const PCAP_MAGIC_NANOS = 0xa1b23c4d;
const PCAP_GLOBAL_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_OPT_END = 0;
const PCAPNG_OPT_IF_TSRESOL = 9;
const PCAPNG_OPT_IF_TSOFFSET = 14;

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

/** One pcapng interface: its link type, snapshot length and timestamp units per second. */
interface Interface {
  linkType: number;
  snapLen: number;
  unitsPerSec: bigint;
  offsetSecs: bigint;
}

/** Where the IP packet starts after the link header (its length), or null to skip the frame. */
type Unwrapped = { start: number } | null;

/**
 * Read a classic pcap or pcapng file into its IP packets.
 *
 * Link types RAW (101), IPV4 (228), IPV6 (229), EN10MB (1, VLAN tags stripped), LINUX_SLL
 * (113), LINUX_SLL2 (276), NULL (0) and LOOP (108) are understood; frames that carry
 * something other than IPv4/IPv6 are left out and counted in `skipped`.
 *
 * @param bytes the whole file
 * @returns the link type and the packets with normalised (µs) timestamps
 * @throws {PcapError} when the file is truncated, has an unknown magic or link type, or a
 *   block/record length is inconsistent
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ and draft-ietf-opsawg-pcapng
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { writePcap } from "./writer.ts";
 *
 * const file = writePcap([{ tsSecs: 1, tsMicros: 0, data: new Uint8Array(20).fill(0x45, 0, 1) }]);
 * const capture = readCapture(file); // e.g. readCapture(await Deno.readFile("in.pcap"))
 * strictEqual(capture.packets.length, 1);
 * for (const p of capture.packets) strictEqual(p.data.length, 20);
 * ```
 */
export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < 4) {
    throw new PcapError(`file of ${bytes.length} bytes is too short for a magic number`, 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBe = view.getUint32(0, false);
  if (magicBe === PCAPNG_SHB) return readPcapng(bytes, view);
  for (const littleEndian of [true, false]) {
    const magic = view.getUint32(0, littleEndian);
    if (magic === PCAP_MAGIC_MICROS || magic === PCAP_MAGIC_NANOS) {
      return readClassic(bytes, view, littleEndian, magic === PCAP_MAGIC_NANOS);
    }
  }
  throw new PcapError(`unknown magic number 0x${hex32(magicBe)}`, 0);
}

function readClassic(
  bytes: Uint8Array,
  view: DataView,
  le: boolean,
  nanos: boolean,
): Capture {
  if (bytes.length < PCAP_GLOBAL_HEADER_BYTES) {
    throw new PcapError(
      `pcap global header truncated: ${bytes.length} of ${PCAP_GLOBAL_HEADER_BYTES} bytes`,
      0,
    );
  }
  const linkType = view.getUint32(20, le) & 0xffff;
  checkLinkType(linkType, 20);
  const capture: Capture = { linkType, packets: [], skipped: 0 };
  let off = PCAP_GLOBAL_HEADER_BYTES;
  while (off < bytes.length) {
    if (bytes.length - off < PCAP_RECORD_HEADER_BYTES) {
      throw new PcapError(
        `record header truncated: ${bytes.length - off} of ${PCAP_RECORD_HEADER_BYTES} bytes`,
        off,
      );
    }
    const tsSecs = view.getUint32(off, le);
    const tsFrac = view.getUint32(off + 4, le);
    const capLen = view.getUint32(off + 8, le);
    const origLen = view.getUint32(off + 12, le);
    const dataOff = off + PCAP_RECORD_HEADER_BYTES;
    if (capLen > bytes.length - dataOff) {
      throw new PcapError(
        `record data truncated: captured length ${capLen} but ${
          bytes.length - dataOff
        } bytes remain`,
        off,
      );
    }
    const tsMicros = nanos ? Math.floor(tsFrac / 1000) : tsFrac;
    addFrame(capture, bytes, linkType, dataOff, capLen, origLen, tsSecs, tsMicros);
    off = dataOff + capLen;
  }
  return capture;
}

function readPcapng(bytes: Uint8Array, view: DataView): Capture {
  const capture: Capture = { linkType: -1, packets: [], skipped: 0 };
  let interfaces: Interface[] = [];
  let le = true;
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 12) {
      throw new PcapError(`block header truncated: ${bytes.length - off} of 12 bytes`, off);
    }
    if (view.getUint32(off, false) === PCAPNG_SHB) {
      if (bytes.length - off < 28) {
        throw new PcapError(`section header block truncated: ${bytes.length - off} bytes`, off);
      }
      const bom = view.getUint32(off + 8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (bom === swap32(PCAPNG_BYTE_ORDER_MAGIC)) le = false;
      else throw new PcapError(`bad byte-order magic 0x${hex32(bom)}`, off + 8);
      interfaces = [];
    }
    const type = view.getUint32(off, le);
    const total = view.getUint32(off + 4, le);
    if (total < 12 || total % 4 !== 0) {
      throw new PcapError(`block total length ${total} is not a multiple of 4 of at least 12`, off);
    }
    if (total > bytes.length - off) {
      throw new PcapError(
        `block truncated: total length ${total} but ${bytes.length - off} bytes remain`,
        off,
      );
    }
    const trailer = view.getUint32(off + total - 4, le);
    if (trailer !== total) {
      throw new PcapError(
        `block trailing length ${trailer} does not match leading length ${total}`,
        off + total - 4,
      );
    }
    const body = off + 8;
    const bodyLen = total - 12;
    switch (type) {
      case PCAPNG_IDB: {
        if (bodyLen < 8) throw new PcapError(`interface block body of ${bodyLen} bytes`, off);
        const linkType = view.getUint16(body, le);
        checkLinkType(linkType, body);
        if (capture.linkType === -1) capture.linkType = linkType;
        const iface: Interface = {
          linkType,
          snapLen: view.getUint32(body + 4, le),
          unitsPerSec: 1_000_000n,
          offsetSecs: 0n,
        };
        readInterfaceOptions(view, le, body + 8, body + bodyLen, iface);
        interfaces.push(iface);
        break;
      }
      case PCAPNG_EPB: {
        if (bodyLen < 20) throw new PcapError(`enhanced packet block body of ${bodyLen}`, off);
        const ifIndex = view.getUint32(body, le);
        const iface = interfaces[ifIndex];
        if (iface === undefined) {
          throw new PcapError(`packet refers to undeclared interface ${ifIndex}`, body);
        }
        const ts = (BigInt(view.getUint32(body + 4, le)) << 32n) |
          BigInt(view.getUint32(body + 8, le));
        const capLen = view.getUint32(body + 12, le);
        const origLen = view.getUint32(body + 16, le);
        if (capLen > bodyLen - 20) {
          throw new PcapError(
            `captured length ${capLen} exceeds the block's ${bodyLen - 20} data bytes`,
            body + 12,
          );
        }
        const secs = ts / iface.unitsPerSec;
        const micros = (ts % iface.unitsPerSec) * 1_000_000n / iface.unitsPerSec;
        addFrame(
          capture,
          bytes,
          iface.linkType,
          body + 20,
          capLen,
          origLen,
          Number(secs + iface.offsetSecs),
          Number(micros),
        );
        break;
      }
      case PCAPNG_SPB: {
        if (bodyLen < 4) throw new PcapError(`simple packet block body of ${bodyLen}`, off);
        const iface = interfaces[0];
        if (iface === undefined) {
          throw new PcapError("simple packet block before any interface block", off);
        }
        const origLen = view.getUint32(body, le);
        let capLen = Math.min(origLen, bodyLen - 4);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        addFrame(capture, bytes, iface.linkType, body + 4, capLen, origLen, 0, 0);
        break;
      }
      default:
        break; // SHB (handled above), statistics, name resolution, custom, ...: not needed.
    }
    off += total;
  }
  return capture;
}

/** Read if_tsresol and if_tsoffset from an interface block's options into `iface`. */
function readInterfaceOptions(
  view: DataView,
  le: boolean,
  start: number,
  end: number,
  iface: Interface,
): void {
  let off = start;
  while (end - off >= 4) {
    const code = view.getUint16(off, le);
    const len = view.getUint16(off + 2, le);
    const value = off + 4;
    if (len > end - value) {
      throw new PcapError(`option ${code} of ${len} bytes overruns its block`, off);
    }
    if (code === PCAPNG_OPT_END) return;
    if (code === PCAPNG_OPT_IF_TSRESOL && len >= 1) {
      const r = view.getUint8(value);
      const exp = BigInt(r & 0x7f);
      iface.unitsPerSec = (r & 0x80) !== 0 ? 2n ** exp : 10n ** exp;
      if (iface.unitsPerSec === 0n) iface.unitsPerSec = 1n;
    } else if (code === PCAPNG_OPT_IF_TSOFFSET && len >= 8) {
      iface.offsetSecs = view.getBigInt64(value, le);
    }
    off = value + ((len + 3) & ~3);
  }
}

function checkLinkType(linkType: number, offset: number): void {
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

/** Strip the link header of one frame and append its IP packet, or count it as skipped. */
function addFrame(
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

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, "0");
}
