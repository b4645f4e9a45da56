/**
 * Test-only packet helpers: hex literals and checksum verification written from the RFCs,
 * independently of `lib/wire`, so that tests never trust lib code to check lib code.
 *
 * - Internet checksum: RFC 1071 (one's complement sum of 16-bit words).
 * - IPv4 header checksum: RFC 791 §3.1.
 * - TCP/UDP pseudo-header: RFC 9293 §3.1, RFC 768; IPv6 pseudo-header: RFC 8200 §8.1.
 * - ICMPv4 (no pseudo-header): RFC 792; ICMPv6 (pseudo-header): RFC 4443 §2.3.
 *
 * @module
 */

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;

const V6_HOP_BY_HOP = 0;
const V6_ROUTING = 43;
const V6_FRAGMENT = 44;
const V6_AH = 51;
const V6_DEST_OPTS = 60;
/** Extension headers with the generic (Hdr Ext Len + 1) × 8 length (RFC 8200 §4, RFC 7045). */
const V6_GENERIC_EXT = [V6_HOP_BY_HOP, V6_ROUTING, V6_DEST_OPTS, 135, 139, 140, 253, 254];

/**
 * Bytes from a hex string; whitespace and `//` comments (to end of line) are ignored.
 *
 * @param s hex digits, e.g. "4500 0020 // version, IHL, TOS, total length"
 * @returns the bytes
 * @throws {Error} on a non-hex character or an odd number of digits
 */
export function hex(s: string): Uint8Array {
  const digits = s.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, "");
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    throw new Error(`hex(): non-hex character in ${JSON.stringify(digits)}`);
  }
  if (digits.length % 2 !== 0) {
    throw new Error(`hex(): odd number of hex digits (${digits.length})`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Lower-case hex of bytes, no separators (handy in assertion messages and comparisons).
 *
 * @param u8 the bytes
 * @returns two hex digits per byte
 */
export function toHex(u8: Uint8Array): string {
  let s = "";
  for (const b of u8) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Adds the 16-bit big-endian words of `b[start, end)` to `acc`, an odd tail padded with a zero
 * byte (RFC 1071 §4.1). The sum is not folded: pass it to {@link fold}.
 *
 * @param b the bytes
 * @param start first byte
 * @param end one past the last byte
 * @param acc the sum so far
 * @returns `acc` plus the words
 */
export function addWords(b: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += b[i]! * 256 + b[i + 1]!;
  if (i < end) acc += b[i]! * 256;
  return acc;
}

/**
 * Folds a sum of 16-bit words into 16 bits with end-around carry (RFC 1071 §4.1); the
 * checksum is `0xffff` minus the result.
 *
 * @param acc a sum from {@link addWords}
 * @returns the folded sum, 0 .. 0xffff
 */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc % 65536) + Math.floor(acc / 65536);
  return acc;
}

function word(b: Uint8Array, off: number): number {
  return b[off]! * 256 + b[off + 1]!;
}

/**
 * Whether an IPv4 packet's header checksum is correct (RFC 791 §3.1).
 *
 * @param pkt bytes starting at the IPv4 header
 * @returns true when the one's complement sum of the header is 0xffff; false when it is not,
 *   or the bytes are not a complete IPv4 header
 */
export function ipv4HeaderChecksumValid(pkt: Uint8Array): boolean {
  if (pkt.length < 20 || pkt[0]! >> 4 !== 4) return false;
  const headerBytes = (pkt[0]! & 0x0f) * 4;
  if (headerBytes < 20 || headerBytes > pkt.length) return false;
  return fold(addWords(pkt, 0, headerBytes, 0)) === 0xffff;
}

/**
 * Whether the TCP, UDP, ICMP or ICMPv6 checksum of an IPv4/IPv6 packet is correct, computed
 * from scratch including the pseudo-header; IPv6 extension headers are walked (and a Routing
 * header with segments left supplies the final destination, RFC 8200 §8.1).
 *
 * @param pkt bytes starting at the IPv4 or IPv6 header (bytes past the IP length are ignored)
 * @returns true if valid; false if wrong, or the packet is malformed/truncated, or an IPv6
 *   UDP checksum is zero; null when it cannot be checked: a fragment (the checksum covers the
 *   reassembled datagram), an IPv4 UDP datagram without checksum (0), an IPv6 jumbogram, ESP,
 *   no next header, or another protocol
 */
export function l4ChecksumValid(pkt: Uint8Array): boolean | null {
  if (pkt.length < 1) return false;
  const version = pkt[0]! >> 4;
  if (version === 4) return ipv4L4(pkt);
  if (version === 6) return ipv6L4(pkt);
  return false;
}

function ipv4L4(pkt: Uint8Array): boolean | null {
  if (pkt.length < 20) return false;
  const headerBytes = (pkt[0]! & 0x0f) * 4;
  const end = word(pkt, 2);
  if (headerBytes < 20 || end < headerBytes || end > pkt.length) return false;
  const flagsFragment = word(pkt, 6);
  if ((flagsFragment & 0x2000) !== 0 || (flagsFragment & 0x1fff) !== 0) return null;
  const proto = pkt[9]!;
  if (proto === PROTO_ICMP) {
    if (end - headerBytes < 4) return false;
    return fold(addWords(pkt, headerBytes, end, 0)) === 0xffff;
  }
  if (proto !== PROTO_TCP && proto !== PROTO_UDP) return null;
  // Pseudo-header: source, destination, zero + protocol, TCP/UDP length.
  const pseudo = addWords(pkt, 12, 20, 0) + proto;
  return transportValid(pkt, headerBytes, end, proto, pseudo, false);
}

function ipv6L4(pkt: Uint8Array): boolean | null {
  if (pkt.length < 40) return false;
  const payloadLength = word(pkt, 4);
  if (payloadLength === 0) return null; // jumbogram (RFC 2675) or empty: not checked here
  const end = 40 + payloadLength;
  if (end > pkt.length) return false;
  let next = pkt[6]!;
  let off = 40;
  let dst = 24;
  for (;;) {
    if (next === V6_FRAGMENT) {
      if (end - off < 8) return false;
      const offsetFlags = word(pkt, off + 2);
      if ((offsetFlags & 0xfff8) !== 0 || (offsetFlags & 1) !== 0) return null;
      next = pkt[off]!;
      off += 8;
    } else if (next === V6_AH || V6_GENERIC_EXT.includes(next)) {
      if (end - off < 8) return false;
      const len = next === V6_AH ? (pkt[off + 1]! + 2) * 4 : (pkt[off + 1]! + 1) * 8;
      if (end - off < len) return false;
      if (next === V6_ROUTING && pkt[off + 3]! > 0) {
        const routingType = pkt[off + 2]!;
        const addresses = pkt[off + 1]! / 2;
        if ((routingType === 0 || routingType === 2) && addresses >= 1) {
          dst = off + 8 + (addresses - 1) * 16; // last address (RFC 8200 §8.1, RFC 6275 §6.4)
        } else if (routingType === 4 && addresses >= 1) {
          dst = off + 8; // Segment List[0] is the final destination (RFC 8754 §2)
        } else {
          return null;
        }
      }
      next = pkt[off]!;
      off += len;
    } else {
      break;
    }
  }
  if (next !== PROTO_TCP && next !== PROTO_UDP && next !== PROTO_ICMPV6) return null;
  // Pseudo-header: source, final destination, 32-bit upper-layer length, zeros + next header.
  const pseudo = addWords(pkt, 8, 24, 0) + addWords(pkt, dst, dst + 16, 0) + next;
  return transportValid(pkt, off, end, next, pseudo, true);
}

/** Check TCP/UDP/ICMPv6 at [l4, end) given the pseudo-header sum without its length. */
function transportValid(
  pkt: Uint8Array,
  l4: number,
  end: number,
  proto: number,
  pseudoWithoutLength: number,
  ipv6: boolean,
): boolean | null {
  let length = end - l4;
  if (proto === PROTO_TCP) {
    if (length < 20) return false;
  } else if (proto === PROTO_UDP) {
    if (length < 8) return false;
    const udpLength = word(pkt, l4 + 4);
    if (udpLength < 8 || udpLength > length) return false;
    if (word(pkt, l4 + 6) === 0) return ipv6 ? false : null;
    length = udpLength;
  } else if (length < 4) {
    return false;
  }
  const pseudo = pseudoWithoutLength + Math.floor(length / 65536) + (length % 65536);
  return fold(addWords(pkt, l4, l4 + length, pseudo)) === 0xffff;
}
