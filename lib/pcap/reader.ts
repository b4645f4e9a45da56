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
 * This file reads classic pcap and dispatches; pcapng is read in ./pcapng.ts, frames become
 * IP packets in ./capture.ts.
 *
 * Not a hot path: it allocates freely and throws {@link PcapError} on malformed input.
 *
 * @module
 */

import { addFrame, type Capture, checkLinkType, hex32, PcapError } from "./capture.ts";
import { PCAPNG_SHB, readPcapng } from "./pcapng.ts";

export {
  type Capture,
  type CapturedPacket,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  PcapError,
} from "./capture.ts";

const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const PCAP_MAGIC_NANOS = 0xa1b23c4d;
const PCAP_GLOBAL_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;

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
