/**
 * Writer for classic pcap files of bare IP packets (LINKTYPE_RAW).
 *
 * Layout written (draft-ietf-opsawg-pcap §4–§5), all fields little-endian:
 *
 * ```text
 * global header (24 bytes):
 *   magic a1b2c3d4 | version 2.4 | reserved 0 | reserved 0 | snaplen 65535 | linktype 101
 * per packet (16 bytes + data):
 *   ts seconds | ts microseconds | captured length | original length | packet bytes
 * ```
 *
 * @module
 */

import { LINKTYPE_RAW } from "./reader.ts";

/** Snapshot length written in the global header. */
export const PCAP_SNAPLEN = 65535;
/** LINKTYPE_RAW: each record is a bare IPv4 or IPv6 packet. */
export const PCAP_LINKTYPE_RAW: number = LINKTYPE_RAW;

const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
const INITIAL_CAPACITY = 4096;

/** A packet to write: bare IP bytes and a timestamp in seconds + microseconds. */
export interface PcapPacket {
  /** Seconds since the Unix epoch (0 ≤ tsSecs < 2³²). */
  tsSecs: number;
  /** Microseconds within the second (0–999999). */
  tsMicros: number;
  /** The bare IPv4 or IPv6 packet. */
  data: Uint8Array;
}

/**
 * Builds a classic little-endian pcap (v2.4, snaplen 65535, LINKTYPE_RAW) one packet at a
 * time, growing its buffer geometrically so that n packets cost O(total bytes) copying.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ §4 (file header), §5 (records)
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * const packet = new Uint8Array(20).fill(0x45, 0, 1); // any bare IP packet
 * const w = new PcapWriter();
 * w.add(packet, 0, 1);
 * const file = w.bytes(); // e.g. await Deno.writeFile("out.pcap", file)
 * strictEqual(file.length, 24 + 16 + 20); // global header, record header, packet
 * ```
 */
export class PcapWriter {
  #buf: Uint8Array;
  #view: DataView;
  #length = 0;
  #count = 0;

  /**
   * Start a file holding only the global header.
   *
   * @param initialCapacity bytes to allocate up front (grows by doubling when exceeded)
   */
  constructor(initialCapacity: number = INITIAL_CAPACITY) {
    this.#buf = new Uint8Array(Math.max(GLOBAL_HEADER_BYTES, Math.ceil(initialCapacity)));
    this.#view = new DataView(this.#buf.buffer);
    const v = this.#view;
    v.setUint32(0, PCAP_MAGIC_MICROS, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, PCAP_SNAPLEN, true);
    v.setUint32(20, PCAP_LINKTYPE_RAW, true);
    this.#length = GLOBAL_HEADER_BYTES;
  }

  /** Number of packets added so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Append one packet record (captured length = original length = `data.length`).
   *
   * @param data the bare IP packet; its bytes are copied
   * @param tsSecs seconds since the Unix epoch, an integer in [0, 2³²)
   * @param tsMicros microseconds within the second, an integer in [0, 999999]
   * @returns nothing
   * @throws {RangeError} when a timestamp is out of range
   */
  add(data: Uint8Array, tsSecs: number, tsMicros: number): void {
    if (!Number.isInteger(tsSecs) || tsSecs < 0 || tsSecs > 0xffffffff) {
      throw new RangeError(`pcap tsSecs must be an integer in [0, 2^32), got ${tsSecs}`);
    }
    if (!Number.isInteger(tsMicros) || tsMicros < 0 || tsMicros > 999_999) {
      throw new RangeError(`pcap tsMicros must be an integer in [0, 999999], got ${tsMicros}`);
    }
    const need = this.#length + RECORD_HEADER_BYTES + data.length;
    if (need > this.#buf.length) this.#grow(need);
    const v = this.#view;
    const off = this.#length;
    v.setUint32(off, tsSecs, true);
    v.setUint32(off + 4, tsMicros, true);
    v.setUint32(off + 8, data.length, true);
    v.setUint32(off + 12, data.length, true);
    this.#buf.set(data, off + RECORD_HEADER_BYTES);
    this.#length = need;
    this.#count++;
  }

  /**
   * The file so far. The view stays valid and unchanged by later `add` calls (they only
   * write past its end or into a new buffer).
   *
   * @returns a view of the pcap bytes written so far
   */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  #grow(need: number): void {
    let capacity = this.#buf.length * 2;
    while (capacity < need) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

/**
 * Write packets as a classic little-endian pcap (v2.4, snaplen 65535, LINKTYPE_RAW).
 *
 * @param packets bare IP packets with their timestamps, in file order
 * @returns the whole pcap file
 * @throws {RangeError} when a timestamp is out of range
 * @see https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ §4, §5
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * const packet = new Uint8Array(20).fill(0x45, 0, 1); // any bare IP packet
 * const file = writePcap([{ tsSecs: 0, tsMicros: 1, data: packet }]);
 * strictEqual(file.length, 24 + 16 + 20);
 * ```
 */
export function writePcap(packets: readonly PcapPacket[]): Uint8Array {
  let total = GLOBAL_HEADER_BYTES;
  for (const p of packets) total += RECORD_HEADER_BYTES + p.data.length;
  const w = new PcapWriter(total);
  for (const p of packets) w.add(p.data, p.tsSecs, p.tsMicros);
  return w.bytes();
}
