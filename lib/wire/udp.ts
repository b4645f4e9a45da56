/**
 * UDP header layout (RFC 768): field offsets from the start of the header,
 * named once, and the accessors the translator needs.
 *
 * ```text
 *  0      7 8     15 16    23 24    31
 * +--------+--------+--------+--------+
 * |     Source      |   Destination   |
 * |      Port       |      Port       |
 * +--------+--------+--------+--------+
 * |     Length      |    Checksum     |
 * +--------+--------+--------+--------+
 * ```
 *
 * @module
 */

/** Offset of the Source Port. */
export const SOURCE_PORT_OFF = 0;
/** Offset of the Destination Port. */
export const DESTINATION_PORT_OFF = 2;
/** Offset of the Length (header and data, in bytes). */
export const LENGTH_OFF = 4;
/** Offset of the Checksum (0 over IPv4 means "none", RFC 768). */
export const CHECKSUM_OFF = 6;
/** Length of the UDP header. */
export const HEADER_LEN = 8;

/**
 * Length field.
 * @param v packet view
 * @param off header offset
 * @returns the UDP length in bytes
 */
export function length(v: DataView, off: number): number {
  return v.getUint16(off + LENGTH_OFF);
}

/**
 * Checksum.
 * @param v packet view
 * @param off header offset
 * @returns the checksum field (0: none was computed)
 */
export function checksum(v: DataView, off: number): number {
  return v.getUint16(off + CHECKSUM_OFF);
}
