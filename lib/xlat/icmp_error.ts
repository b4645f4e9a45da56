/**
 * What the translation of ICMP errors (RFC 7915 §4.2–4.3, §5.2–5.3) shares between the two
 * directions: the RFC 4884 length attribute of the quoted datagram and the layout of the new
 * message's body (quote, padding, extension). The directions themselves are
 * `icmp4ErrorTo6()` in lib/xlat/icmp_error_4to6.ts and `icmp6ErrorTo4()` in
 * lib/xlat/icmp_error_6to4.ts.
 *
 * @module
 */

/** RFC 4884 §4.1: the original datagram is padded to at least this many bytes. */
const MIN_ORIGINAL_DATAGRAM = 128;

/**
 * Lays out the translated error body per RFC 4884 §4–5 and Jool's rules:
 * when an extension follows, the original datagram is padded to 128 bytes or
 * cut to a whole number of units; if the result is too big the datagram is
 * shortened down to 128 bytes, and if the extension still does not fit it is
 * removed.
 *
 * @param innerLen bytes of the translated quoted datagram available
 * @param extLen bytes of the RFC 4884 extension (0 for none or when the type has no length)
 * @param unit the length attribute's unit (4 for ICMPv4, 8 for ICMPv6)
 * @param maxBody most bytes the body may take
 * @returns `innerLen << 17 | padded << 1 | ext` (all values ≤ 1280), so no
 *   object is allocated per packet
 */
export function planBody(innerLen: number, extLen: number, unit: number, maxBody: number): number {
  let ext = extLen > 0;
  let inner = innerLen;
  let padded = inner;
  if (ext) {
    // Short datagrams are zero-padded to 128 bytes; longer ones are cut to
    // a whole number of units (as Jool does) rather than padded.
    padded = inner < MIN_ORIGINAL_DATAGRAM ? MIN_ORIGINAL_DATAGRAM : roundDown(inner, unit);
    inner = Math.min(inner, padded);
    if (padded + extLen > maxBody) {
      const room = roundDown(maxBody - extLen, unit);
      if (room >= MIN_ORIGINAL_DATAGRAM) {
        inner = Math.min(inner, room);
        padded = room;
      } else {
        ext = false;
        inner = innerLen;
      }
    }
  }
  if (!ext) {
    inner = Math.min(inner, maxBody);
    padded = inner;
  }
  return (inner << 17) | (padded << 1) | (ext ? 1 : 0);
}

/** `n` rounded down to a multiple of `unit`. */
function roundDown(n: number, unit: number): number {
  return Math.floor(n / unit) * unit;
}

/**
 * The length of the original datagram an ICMP error quotes (RFC 4884 §4.1): the length
 * attribute's when it is set and fits the message, else everything after the ICMP header (an
 * extension follows the datagram only in the first case).
 *
 * @param available bytes after the ICMP header
 * @param attrBytes the length attribute in bytes (0 when unset or the type has none)
 * @returns bytes of the original datagram
 */
export function quotedLength(available: number, attrBytes: number): number {
  return attrBytes !== 0 && attrBytes <= available ? attrBytes : available;
}
