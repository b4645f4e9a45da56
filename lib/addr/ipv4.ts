/**
 * IPv4 addresses and prefixes as plain numbers.
 *
 * An IPv4 address is a uint32 JS number in host arithmetic (192.0.2.1 is
 * `0xc0000201`). Text forms follow the strict dotted-quad syntax of
 * `inet_pton(AF_INET)` (RFC 4632 §3.1 for the `/len` suffix).
 *
 * @module
 */

/** An IPv4 prefix: `addr` is a uint32 with every host bit zero, `len` is 0..32. */
export interface Ipv4Prefix {
  /** Network address as a uint32; bits past `len` are zero. */
  addr: number;
  /** Prefix length in bits, 0..32. */
  len: number;
}

/**
 * Returns the uint32 netmask of a prefix length.
 *
 * @param len Prefix length, 0..32.
 * @returns The mask with the top `len` bits set, as a uint32.
 */
export function ipv4Mask(len: number): number {
  // `x << 32` is `x << 0` in JS, so /0 needs its own branch.
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Parses a decimal integer of 1..maxDigits digits with no leading zero, or returns -1. */
function parseDecimal(text: string, start: number, end: number, maxDigits: number): number {
  const n = end - start;
  if (n < 1 || n > maxDigits) return -1;
  if (n > 1 && text.charCodeAt(start) === 0x30) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Parses a dotted-quad IPv4 address.
 *
 * Exactly four decimal octets 0..255 separated by dots; leading zeros
 * ("01.2.3.4"), which some resolvers read as octal, are rejected, as are
 * whitespace and the short forms `inet_aton` allows ("127.1").
 *
 * @param text The address text, e.g. "192.0.2.1".
 * @returns The address as a uint32, or `null` when `text` is not a dotted quad.
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(parseIpv4("192.0.2.1"), 0xc0000201);
 * strictEqual(parseIpv4("192.0.2.01"), null); // no leading zeros, as inet_pton
 * ```
 */
export function parseIpv4(text: string): number | null {
  let v = 0;
  let start = 0;
  for (let octet = 0; octet < 4; octet++) {
    let end = text.indexOf(".", start);
    if (octet === 3) {
      if (end !== -1) return null;
      end = text.length;
    } else if (end === -1) {
      return null;
    }
    const o = parseDecimal(text, start, end, 3);
    if (o < 0 || o > 255) return null;
    v = v * 256 + o;
    start = end + 1;
  }
  return v;
}

/**
 * Formats an IPv4 address as a dotted quad.
 *
 * @param v4 The address as a uint32.
 * @returns The dotted-quad text, e.g. "192.0.2.1".
 */
export function formatIpv4(v4: number): string {
  return `${(v4 >>> 24) & 0xff}.${(v4 >>> 16) & 0xff}.${(v4 >>> 8) & 0xff}.${v4 & 0xff}`;
}

/**
 * Formats an IPv4 prefix in CIDR notation (RFC 4632 §3.1).
 *
 * @param p The prefix.
 * @returns Text such as "192.0.2.0/24" (a /32 keeps its "/32").
 */
export function formatIpv4Prefix(p: Ipv4Prefix): string {
  return `${formatIpv4(p.addr)}/${p.len}`;
}

type Ipv4PrefixResult = { prefix: Ipv4Prefix; problem: null } | {
  prefix: null;
  problem: string;
};

function parseIpv4PrefixChecked(text: string): Ipv4PrefixResult {
  const slash = text.indexOf("/");
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const addr = parseIpv4(addrText);
  if (addr === null) return { prefix: null, problem: "not an IPv4 address or prefix" };
  let len = 32;
  if (slash !== -1) {
    len = parseDecimal(text, slash + 1, text.length, 2);
    if (len < 0 || len > 32) {
      return { prefix: null, problem: "prefix length must be an integer from 0 to 32" };
    }
  }
  const network = (addr & ipv4Mask(len)) >>> 0;
  if (network !== addr) {
    return {
      prefix: null,
      problem: `host bits set (did you mean ${formatIpv4(network)}/${len}?)`,
    };
  }
  return { prefix: { addr, len }, problem: null };
}

/**
 * Parses an IPv4 prefix in CIDR notation (RFC 4632 §3.1); a bare address is a /32.
 *
 * @param text Text such as "192.0.2.0/24" or "192.0.2.7".
 * @returns The prefix, or `null` when the text is malformed or has host bits
 *   set (see {@link ipv4PrefixProblem} for the reason).
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseIpv4Prefix("192.0.2.0/24"), { addr: 0xc0000200, len: 24 });
 * ```
 */
export function parseIpv4Prefix(text: string): Ipv4Prefix | null {
  return parseIpv4PrefixChecked(text).prefix;
}

/**
 * Explains why {@link parseIpv4Prefix} rejects a text.
 *
 * @param text The prefix text.
 * @returns A human-readable reason such as "host bits set (did you mean
 *   192.0.2.0/24?)", or `null` when the text is a valid prefix.
 */
export function ipv4PrefixProblem(text: string): string | null {
  return parseIpv4PrefixChecked(text).problem;
}

/**
 * Tells whether an address lies inside a prefix.
 *
 * @param v4 The address as a uint32.
 * @param p The prefix.
 * @returns `true` when the first `p.len` bits of `v4` equal those of `p.addr`.
 */
export function ipv4InPrefix(v4: number, p: Ipv4Prefix): boolean {
  return ((v4 ^ p.addr) & ipv4Mask(p.len)) === 0;
}

/**
 * Counts the addresses in a prefix.
 *
 * @param p The prefix.
 * @returns `2 ** (32 - p.len)` (1 for a /32, 4294967296 for /0).
 */
export function ipv4PrefixSize(p: Ipv4Prefix): number {
  return 2 ** (32 - p.len);
}

/**
 * Tells whether two prefixes share at least one address (for CIDR blocks
 * this means one contains the other).
 *
 * @param a One prefix.
 * @param b The other prefix.
 * @returns `true` when the prefixes overlap.
 */
export function ipv4PrefixesOverlap(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  const len = a.len < b.len ? a.len : b.len;
  return ((a.addr ^ b.addr) & ipv4Mask(len)) === 0;
}
