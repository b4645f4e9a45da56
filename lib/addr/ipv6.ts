/**
 * IPv6 addresses and prefixes as 16-byte arrays in network order.
 *
 * Parsing accepts every text form of RFC 4291 §2.2 (including "::" and a
 * dotted-quad tail); formatting produces the RFC 5952 §4 canonical form.
 * Hot-path helpers take `(buf, off)` pairs and never allocate.
 *
 * @module
 */

/** An IPv6 prefix: `addr` is 16 bytes with every bit past `len` zero, `len` is 0..128. */
export interface Ipv6Prefix {
  /** Network address, 16 bytes in network order; bits past `len` are zero. */
  addr: Uint8Array;
  /** Prefix length in bits, 0..128. */
  len: number;
}

/** Length of an IPv6 address in bytes. */
export const IPV6_ADDR_BYTES = 16;

/** Longest text form: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255". */
const MAX_TEXT_LENGTH = 45;

/** Parses 1..4 hex digits into a 16-bit group, or returns -1. */
function parseGroup(text: string): number {
  if (text.length < 1 || text.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Parses a dotted quad (RFC 4291 §2.2 form 3 tail) into two groups; false if invalid. */
function parseDottedQuadGroups(text: string, words: number[]): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return false;
    const o = Number(part);
    if (o > 255) return false;
    octets.push(o);
  }
  words.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
  return true;
}

/**
 * Parses one side of a "::" (or the whole address) into 16-bit groups.
 * `allowV4Tail` permits a dotted quad as the last group.
 */
function parseGroups(text: string, allowV4Tail: boolean): number[] | null {
  const words: number[] = [];
  if (text === "") return words;
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (allowV4Tail && i === parts.length - 1 && part.includes(".")) {
      if (!parseDottedQuadGroups(part, words)) return null;
      continue;
    }
    const g = parseGroup(part);
    if (g < 0) return null;
    words.push(g);
  }
  return words;
}

/**
 * Parses an IPv6 address in any RFC 4291 §2.2 text form.
 *
 * Accepts the full form, "::" compression (once, standing for one or more
 * zero groups), upper- or lower-case hex, and a dotted-quad tail such as
 * "64:ff9b::192.0.2.33". Rejects zone indices ("%eth0"), brackets,
 * whitespace and prefix lengths.
 *
 * @param text The address text.
 * @returns A new 16-byte array in network order, or `null` when `text` is not an IPv6 address.
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(
 *   parseIpv6("64:ff9b::192.0.2.33"),
 *   new Uint8Array([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 2, 0x21]),
 * );
 * ```
 */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > MAX_TEXT_LENGTH) return null;
  const dc = text.indexOf("::");
  let words: number[];
  if (dc === -1) {
    const all = parseGroups(text, true);
    if (all === null || all.length !== 8) return null;
    words = all;
  } else {
    if (text.indexOf("::", dc + 1) !== -1) return null;
    const head = parseGroups(text.slice(0, dc), false);
    const tail = parseGroups(text.slice(dc + 2), true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    words = head;
    for (let i = head.length + tail.length; i < 8; i++) words.push(0);
    for (const w of tail) words.push(w);
  }
  const out = new Uint8Array(IPV6_ADDR_BYTES);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >>> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * Formats an IPv6 address in RFC 5952 §4 canonical form.
 *
 * Lower-case hex without leading zeros; the longest run of two or more zero
 * groups becomes "::" (the first such run on a tie); a single zero group
 * stays "0". No dotted-quad tail is produced.
 *
 * @param bytes Buffer holding the address.
 * @param off Offset of the 16 address bytes in `bytes`.
 * @returns The canonical text, e.g. "2001:db8::1".
 */
export function formatIpv6(bytes: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[off + 2 * i]! << 8) | bytes[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: never compress a single zero group
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    words.slice(from, to).map((w) => w.toString(16)).join(":");
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/**
 * Formats an IPv6 prefix as "address/len" with the RFC 5952 address form.
 *
 * @param p The prefix.
 * @returns Text such as "64:ff9b::/96" (a /128 keeps its "/128").
 */
export function formatIpv6Prefix(p: Ipv6Prefix): string {
  return `${formatIpv6(p.addr)}/${p.len}`;
}

type Ipv6PrefixResult = { prefix: Ipv6Prefix; problem: null } | {
  prefix: null;
  problem: string;
};

function parseIpv6PrefixChecked(text: string): Ipv6PrefixResult {
  const slash = text.indexOf("/");
  const addr = parseIpv6(slash === -1 ? text : text.slice(0, slash));
  if (addr === null) return { prefix: null, problem: "not an IPv6 address or prefix" };
  let len = 128;
  if (slash !== -1) {
    const lenText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > 128) {
      return { prefix: null, problem: "prefix length must be an integer from 0 to 128" };
    }
    len = Number(lenText);
  }
  const network = addr.slice();
  clearHostBits(network, len);
  if (!ipv6Equal(network, 0, addr, 0)) {
    return {
      prefix: null,
      problem: `host bits set (did you mean ${formatIpv6(network)}/${len}?)`,
    };
  }
  return { prefix: { addr, len }, problem: null };
}

/** Zeroes every bit of a 16-byte address past `len`. */
function clearHostBits(addr: Uint8Array, len: number): void {
  for (let i = 0; i < IPV6_ADDR_BYTES; i++) {
    const keep = len - 8 * i;
    if (keep >= 8) continue;
    addr[i] = keep <= 0 ? 0 : addr[i]! & (0xff00 >>> keep);
  }
}

/**
 * Parses an IPv6 prefix "address/len" (RFC 4291 §2.3); a bare address is a /128.
 *
 * @param text Text such as "64:ff9b::/96" or "2001:db8::5".
 * @returns The prefix, or `null` when the text is malformed or has host bits
 *   set (see {@link ipv6PrefixProblem} for the reason).
 */
export function parseIpv6Prefix(text: string): Ipv6Prefix | null {
  return parseIpv6PrefixChecked(text).prefix;
}

/**
 * Explains why {@link parseIpv6Prefix} rejects a text.
 *
 * @param text The prefix text.
 * @returns A human-readable reason such as "host bits set (did you mean
 *   2001:db8::/32?)", or `null` when the text is a valid prefix.
 */
export function ipv6PrefixProblem(text: string): string | null {
  return parseIpv6PrefixChecked(text).problem;
}

/**
 * Tells whether the first `len` bits of an address equal those of a prefix
 * address. Allocation-free (hot path).
 *
 * @param buf Buffer holding the address.
 * @param off Offset of the 16 address bytes in `buf`.
 * @param prefix Prefix address (at least `ceil(len / 8)` bytes, from offset 0).
 * @param len Number of leading bits to compare, 0..128.
 * @returns `true` when the bits match (RFC 4291 §2.3 prefix match).
 */
export function ipv6MatchesBits(
  buf: Uint8Array,
  off: number,
  prefix: Uint8Array,
  len: number,
): boolean {
  const full = len >>> 3;
  for (let i = 0; i < full; i++) {
    if (buf[off + i] !== prefix[i]) return false;
  }
  const rem = len & 7;
  if (rem === 0) return true;
  return ((buf[off + full]! ^ prefix[full]!) & (0xff00 >>> rem)) === 0;
}

/**
 * Tells whether an address lies inside a prefix. Allocation-free (hot path).
 *
 * @param buf Buffer holding the address.
 * @param off Offset of the 16 address bytes in `buf`.
 * @param p The prefix.
 * @returns `true` when the first `p.len` bits match `p.addr` (RFC 4291 §2.3).
 */
export function ipv6InPrefix(buf: Uint8Array, off: number, p: Ipv6Prefix): boolean {
  return ipv6MatchesBits(buf, off, p.addr, p.len);
}

/**
 * Compares two IPv6 addresses byte for byte. Allocation-free (hot path).
 *
 * @param a Buffer holding the first address.
 * @param aOff Offset of the first address in `a`.
 * @param b Buffer holding the second address.
 * @param bOff Offset of the second address in `b`.
 * @returns `true` when all 16 bytes are equal.
 */
export function ipv6Equal(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < IPV6_ADDR_BYTES; i++) {
    if (a[aOff + i] !== b[bOff + i]) return false;
  }
  return true;
}

/**
 * Tells whether two prefixes share at least one address (for CIDR blocks
 * this means one contains the other).
 *
 * @param a One prefix.
 * @param b The other prefix.
 * @returns `true` when the prefixes overlap.
 */
export function ipv6PrefixesOverlap(a: Ipv6Prefix, b: Ipv6Prefix): boolean {
  return ipv6MatchesBits(a.addr, 0, b.addr, a.len < b.len ? a.len : b.len);
}
