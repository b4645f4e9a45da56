/**
 * pcapng (draft-ietf-opsawg-pcapng §3–§4): its Section Header, Interface Description,
 * Enhanced Packet and Simple Packet blocks read into a {@link Capture}; other blocks are
 * skipped. The format is drawn in ./reader.ts, which calls {@link readPcapng}.
 *
 * Not a hot path: it allocates freely and throws {@link PcapError} on malformed input.
 *
 * @module
 */

import { addFrame, type Capture, checkLinkType, hex32, PcapError, swap32 } from "./capture.ts";

/** The pcapng Section Header Block type, also the file's magic number. */
export const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_OPT_END = 0;
const PCAPNG_OPT_IF_TSRESOL = 9;
const PCAPNG_OPT_IF_TSOFFSET = 14;

/** One pcapng interface: its link type, snapshot length and timestamp units per second. */
interface Interface {
  linkType: number;
  snapLen: number;
  unitsPerSec: bigint;
  offsetSecs: bigint;
}

/**
 * Reads a pcapng file (one or more sections) into its IP packets.
 * @param bytes the whole file, starting with a Section Header Block
 * @param view a view of `bytes`
 * @returns the link type of the first interface and the packets
 * @throws {PcapError} when a block is truncated or its lengths disagree
 */
export function readPcapng(bytes: Uint8Array, view: DataView): Capture {
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
    const block: Block = { bytes, view, le, off, body: off + 8, bodyLen: total - 12 };
    switch (type) {
      case PCAPNG_IDB:
        interfaces.push(readInterfaceBlock(block, capture));
        break;
      case PCAPNG_EPB:
        readEnhancedPacket(block, interfaces, capture);
        break;
      case PCAPNG_SPB:
        readSimplePacket(block, interfaces, capture);
        break;
      default:
        break; // SHB (handled above), statistics, name resolution, custom, ...: not needed.
    }
    off += total;
  }
  return capture;
}

/** One block of the file: where it and its body are, and the section's byte order. */
interface Block {
  bytes: Uint8Array;
  view: DataView;
  le: boolean;
  /** Where the block starts. */
  off: number;
  /** Where its body starts (after type and total length). */
  body: number;
  /** The body's length (without the trailing total length). */
  bodyLen: number;
}

/** An Interface Description Block: the interface (the capture's link type if the first). */
function readInterfaceBlock(b: Block, capture: Capture): Interface {
  const { view, le, off, body, bodyLen } = b;
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
  return iface;
}

/** An Enhanced Packet Block: its frame, with the interface's timestamp units. */
function readEnhancedPacket(b: Block, interfaces: Interface[], capture: Capture): void {
  const { bytes, view, le, off, body, bodyLen } = b;
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
}

/** A Simple Packet Block: its frame, on the first interface, without a timestamp. */
function readSimplePacket(b: Block, interfaces: Interface[], capture: Capture): void {
  const { bytes, view, le, off, body, bodyLen } = b;
  if (bodyLen < 4) throw new PcapError(`simple packet block body of ${bodyLen}`, off);
  const iface = interfaces[0];
  if (iface === undefined) {
    throw new PcapError("simple packet block before any interface block", off);
  }
  const origLen = view.getUint32(body, le);
  let capLen = Math.min(origLen, bodyLen - 4);
  if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
  addFrame(capture, bytes, iface.linkType, body + 4, capLen, origLen, 0, 0);
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
