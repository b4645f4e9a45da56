/**
 * TCP header layout (RFC 9293 §3.1): field offsets from the start of the
 * header, named once, and the accessors the translator needs. Like the other
 * `lib/wire` modules, functions take the packet's `DataView` (or bytes) and the
 * header's offset and do not validate.
 *
 * ```text
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @module
 */

/** Offset of the Source Port. */
export const SOURCE_PORT_OFF = 0;
/** Offset of the Destination Port. */
export const DESTINATION_PORT_OFF = 2;
/** Offset of the Sequence Number. */
export const SEQUENCE_OFF = 4;
/** Offset of the Acknowledgment Number. */
export const ACK_OFF = 8;
/** Offset of the byte whose high nibble is the Data Offset (header length in 32-bit words). */
export const DATA_OFFSET_OFF = 12;
/** Offset of the control bits byte (CWR … FIN). */
export const FLAGS_OFF = 13;
/** Offset of the Window. */
export const WINDOW_OFF = 14;
/** Offset of the Checksum. */
export const CHECKSUM_OFF = 16;
/** Offset of the Urgent Pointer. */
export const URGENT_OFF = 18;
/** Length of a TCP header without options. */
export const HEADER_LEN = 20;
/**
 * Bytes up to and including the Checksum: all a non-first fragment's neighbour
 * (or a quoted packet) must hold for the checksum to be adjusted (RFC 7915 §4.5, §5.5).
 */
export const CHECKSUM_END: number = CHECKSUM_OFF + 2;

/** The FIN control bit in the {@link FLAGS_OFF} byte. */
export const FLAG_FIN = 0x01;
/** The PSH control bit in the {@link FLAGS_OFF} byte. */
export const FLAG_PSH = 0x08;
/** The CWR control bit in the {@link FLAGS_OFF} byte. */
export const FLAG_CWR = 0x80;

/**
 * Header length in bytes (Data Offset × 4).
 * @param b packet bytes
 * @param off header offset
 * @returns the TCP header length, options included
 */
export function headerLength(b: Uint8Array, off: number): number {
  return (b[off + DATA_OFFSET_OFF]! >> 4) << 2;
}

/**
 * Sequence Number.
 * @param v packet view
 * @param off header offset
 * @returns the sequence number as a uint32
 */
export function sequence(v: DataView, off: number): number {
  return v.getUint32(off + SEQUENCE_OFF);
}

/**
 * Checksum.
 * @param v packet view
 * @param off header offset
 * @returns the checksum field
 */
export function checksum(v: DataView, off: number): number {
  return v.getUint16(off + CHECKSUM_OFF);
}
