/**
 * NAT64 prefix discovery through DNS (RFC 7050), the pure half: deriving the prefix from the
 * AAAA records a DNS64 synthesizes for `ipv4only.arpa`, and the `Clat.Resolver` text.
 *
 * `ipv4only.arpa` has only A records, 192.0.0.170 and 192.0.0.171 (the well-known IPv4
 * addresses, WKAs; RFC 7050 §2.1, RFC 8880). A DNS64 answers an AAAA query for it with those
 * addresses embedded in its prefix (RFC 6052 §2.2), so the node looks for a WKA at each
 * position RFC 6052 allows (RFC 7050 §3):
 * - at /32, /40, /48, /56 and /64 the u-octet (bits 64..71) must be zero and the WKA's octets
 *   skip it; the suffix after the IPv4 address must be zero;
 * - at /96 the WKA is the last 32 bits.
 *
 * - RFC 6052 asks the DNS64 to zero the suffix after the IPv4 address but a receiver may not
 *   rely on it, so a non-zero suffix does not rule a position out.
 *
 * A prefix that itself contains the octets of a WKA can make one address match at several
 * lengths. The second WKA settles it (RFC 7050 §3): the right prefix is the one under which
 * both 192.0.0.170 and 192.0.0.171 were found. When several prefixes remain (a DNS64 that
 * synthesized only one address), those whose addresses had a zero suffix come first; then the
 * order of the answers, and within one answer the shorter length. The caller uses the first.
 *
 * @module
 */

import { formatIpv6Prefix, type Ipv6Prefix, parseIpv6 } from "../addr/ipv6.ts";
import { extractIpv4, NOT_IPV4, RFC6052_LENGTHS } from "../addr/rfc6052.ts";

/** The name whose AAAA records reveal the NAT64 prefix (RFC 7050 §2). */
export const IPV4ONLY_ARPA = "ipv4only.arpa";
/** The primary well-known IPv4 address, 192.0.0.170. */
export const WKA_PRIMARY = 0xc00000aa;
/** The secondary well-known IPv4 address, 192.0.0.171. */
export const WKA_SECONDARY = 0xc00000ab;

/** A prefix found in the answers, with the WKAs seen under it. */
export interface DerivedPrefix {
  /** The NAT64 prefix (RFC 6052 length; bits past it zero). */
  prefix: Ipv6Prefix;
  /** Whether 192.0.0.170 was found under it. */
  primary: boolean;
  /** Whether 192.0.0.171 was found under it. */
  secondary: boolean;
  /** Whether every address that showed it had zeros after the embedded IPv4 address. */
  zeroSuffix: boolean;
}

/** Whether every bit of `a` from `fromBit` on is zero. */
function zeroFrom(a: Uint8Array, fromBit: number): boolean {
  for (let bit = fromBit; bit < 128; bit++) {
    if ((a[bit >>> 3]! & (0x80 >>> (bit & 7))) !== 0) return false;
  }
  return true;
}

/** The bit just past the embedded IPv4 address for a prefix length (RFC 6052 §2.2). */
function suffixStart(len: number): number {
  return len === 96 ? 128 : len + 40; // the 32 address bits plus the u-octet
}

/**
 * The (prefix, WKA) pairs one IPv6 address holds: a WKA at an RFC 6052 position, with a zero
 * u-octet for lengths below 96.
 *
 * @param addr the 16-byte AAAA address
 * @returns each candidate prefix (shortest first), which WKA it carries and whether the bits
 *   after the IPv4 address are zero
 */
export function wkaCandidates(
  addr: Uint8Array,
): { prefix: Ipv6Prefix; wka: number; zeroSuffix: boolean }[] {
  const out: { prefix: Ipv6Prefix; wka: number; zeroSuffix: boolean }[] = [];
  if (addr.length !== 16) return out;
  for (const len of RFC6052_LENGTHS) {
    const v4 = extractIpv4(addr, 0, len); // NOT_IPV4 when the u-octet is not zero (len < 96)
    if (v4 === NOT_IPV4) continue;
    const u = v4 >>> 0;
    if (u !== WKA_PRIMARY && u !== WKA_SECONDARY) continue;
    const p = new Uint8Array(16);
    for (let bit = 0; bit < len; bit++) {
      const m = 0x80 >>> (bit & 7);
      if ((addr[bit >>> 3]! & m) !== 0) p[bit >>> 3]! |= m;
    }
    out.push({ prefix: { addr: p, len }, wka: u, zeroSuffix: zeroFrom(addr, suffixStart(len)) });
  }
  return out;
}

/**
 * Derives the NAT64 prefix(es) from the AAAA answers for `ipv4only.arpa` (RFC 7050 §3).
 *
 * @param answers the AAAA records, as 16-byte addresses (order as received)
 * @returns the prefixes, each once: when some prefix carries both WKAs only those; zero
 *   suffixes first, then in the order of the answers; empty when no answer holds a WKA (no
 *   DNS64 on the path)
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { formatIpv6Prefix, parseIpv6 } from "../addr/ipv6.ts";
 * const found = derivePrefixes([parseIpv6("64:ff9b::c000:aa")!, parseIpv6("64:ff9b::c000:ab")!]);
 * strictEqual(found.length, 1);
 * strictEqual(formatIpv6Prefix(found[0]!.prefix), "64:ff9b::/96");
 * ```
 */
export function derivePrefixes(answers: readonly Uint8Array[]): DerivedPrefix[] {
  const byText = new Map<string, DerivedPrefix>();
  for (const a of answers) {
    for (const c of wkaCandidates(a)) {
      const key = formatIpv6Prefix(c.prefix);
      let d = byText.get(key);
      if (d === undefined) {
        d = { prefix: c.prefix, primary: false, secondary: false, zeroSuffix: true };
        byText.set(key, d);
      }
      if (!c.zeroSuffix) d.zeroSuffix = false;
      if (c.wka === WKA_PRIMARY) d.primary = true;
      else d.secondary = true;
    }
  }
  const all = [...byText.values()];
  const both = all.filter((d) => d.primary && d.secondary);
  const left = both.length > 0 ? both : all;
  return [...left.filter((d) => d.zeroSuffix), ...left.filter((d) => !d.zeroSuffix)];
}

/**
 * Derives the prefix from AAAA answers given as text, as `Deno.resolveDns` returns them.
 *
 * @param answers AAAA records as text; ones that do not parse are ignored
 * @returns the first prefix {@link derivePrefixes} finds, or null
 */
export function prefixFromAnswers(answers: readonly string[]): Ipv6Prefix | null {
  const addrs = answers.map((t) => parseIpv6(t)).filter((a): a is Uint8Array => a !== null);
  return derivePrefixes(addrs)[0]?.prefix ?? null;
}
