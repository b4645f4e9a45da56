/**
 * The CLAT's address mapper (RFC 6877 §6.3): stateless, both ways, behind the same
 * {@link LeaseLookup} interface the NAT64 engine reads its lease table through.
 *
 * The engine calls the mapper at fixed positions (lib/xlat/six_to_four.ts, four_to_six.ts and their
 * rare steps): the *static* side
 * for the IPv6 packet's destination and the IPv4 packet's source — in a NAT64 its static maps,
 * here the customers — and the *lease* side for the other two — in a NAT64 its leases, here
 * the rest of the IPv4 world, embedded in the PLAT prefix (`Clat.Via`, RFC 6052, every length).
 * With `EngineSettings.clat` set, the static side has no prefix fallback: an IPv4 source outside
 * `Clat.CustomerPool` and an IPv6 destination that is no customer's address are dropped.
 *
 * A customer's IPv6 address (`Clat.Source6`):
 * - **embed** (upstream protomask-clat): its IPv4 address embedded in `Via`, like the world's;
 * - **a prefix of /96 or shorter** (a dedicated /64, RFC 6877 §6.3): the prefix, zeros, and the
 *   IPv4 address in the last 32 bits, e.g. `2001:db8:1:4646::c000:1` for 192.0.0.1;
 * - **a prefix longer than /96** (down to a /128 for one address): the prefix, and in its host
 *   bits the address's index in `CustomerPool` (its prefixes in order, addresses in order).
 *
 * Nothing here allocates or throws once constructed.
 *
 * @module
 */

import { ipv4Mask, type Ipv4Prefix, ipv4PrefixSize } from "../addr/ipv4.ts";
import type { Ipv6Prefix } from "../addr/ipv6.ts";
import { embedIpv4, extractIpv4, matchesPrefix, NOT_IPV4 } from "../addr/rfc6052.ts";
import { isGlobalIpv4 } from "../addr/special.ts";
import type { LeaseLookup } from "../lease/types.ts";

/** What a {@link ClatMapper} maps with. */
export interface ClatMapperOptions {
  /** The customers' IPv4 prefixes (`Clat.CustomerPool`). */
  customerPool: readonly Ipv4Prefix[];
  /** The customers' IPv6 prefix (`Clat.Source6`), or null for `"embed"` (into `via`). */
  source6: Ipv6Prefix | null;
  /**
   * The PLAT prefix (`Clat.Via`): where the IPv4 world is embedded (RFC 6052); null while
   * `Via = "auto"` has discovered nothing, when the world maps to nothing.
   */
  via: Ipv6Prefix | null;
  /** Refuse non-global IPv4 addresses of the world (Well-Known Prefix, RFC 6052 §3.1). */
  refuseNonGlobal: boolean;
}

/**
 * Whether a `Source6` prefix of this length numbers customers by index (longer than /96)
 * rather than carrying their IPv4 address in its last 32 bits.
 * @param len the prefix length
 * @returns true past /96
 */
export function source6ByIndex(len: number): boolean {
  return len > 96;
}

/**
 * How many customer addresses a `Source6` prefix of this length can number (for the
 * configuration's check: `CustomerPool` must fit).
 * @param len the prefix length
 * @returns 2^32 up to /96 (every IPv4 address), else 2^(128 − len)
 */
export function source6Capacity(len: number): number {
  return source6ByIndex(len) ? 2 ** (128 - len) : 2 ** 32;
}

/** The stateless CLAT mapper. */
export class ClatMapper implements LeaseLookup {
  readonly #base: Int32Array;
  readonly #mask: Int32Array;
  /** Addresses before each customer prefix, in pool order (for index numbering). */
  readonly #first: Float64Array;
  readonly #total: number;
  readonly #source6: Uint8Array;
  readonly #source6Len: number;
  readonly #embed: boolean;
  readonly #via: Uint8Array;
  readonly #viaLen: number;
  readonly #hasVia: boolean;
  readonly #refuseNonGlobal: boolean;

  /**
   * Creates the mapper.
   * @param opts the customer pool, `Source6`, `Via` and the RFC 6052 §3.1 rule
   */
  constructor(opts: ClatMapperOptions) {
    const n = opts.customerPool.length;
    this.#base = new Int32Array(n);
    this.#mask = new Int32Array(n);
    this.#first = new Float64Array(n);
    let total = 0;
    opts.customerPool.forEach((p, i) => {
      this.#base[i] = p.addr | 0;
      this.#mask[i] = ipv4Mask(p.len) | 0;
      this.#first[i] = total;
      total += ipv4PrefixSize(p);
    });
    this.#total = total;
    this.#embed = opts.source6 === null;
    this.#source6 = opts.source6 === null ? new Uint8Array(16) : opts.source6.addr;
    this.#source6Len = opts.source6 === null ? 0 : opts.source6.len;
    this.#hasVia = opts.via !== null;
    this.#via = opts.via === null ? new Uint8Array(16) : opts.via.addr;
    this.#viaLen = opts.via === null ? 0 : opts.via.len;
    this.#refuseNonGlobal = opts.refuseNonGlobal;
  }

  /** Index of the customer prefix holding `v4`, or -1. */
  #customerPrefix(v4: number): number {
    const base = this.#base;
    const mask = this.#mask;
    for (let i = 0; i < base.length; i++) if ((v4 & mask[i]!) === base[i]) return i;
    return -1;
  }

  /** Whether the world's IPv4 address may be embedded in `Via` (RFC 6052 §3.1). */
  #worldAllowed(v4: number): boolean {
    return !this.#refuseNonGlobal || isGlobalIpv4(v4 >>> 0);
  }

  /**
   * Lease side, IPv6 → IPv4: the world's address embedded in `Via` (the source of a packet
   * toward a customer, the destination inside an ICMPv6 error). Stateless: `flags` (allocate,
   * refresh) change nothing.
   * @param buf buffer holding the IPv6 address
   * @param off its offset
   * @param _nowSecs unused (no state)
   * @param _flags unused (nothing to allocate)
   * @returns the IPv4 address as an int32, or `NOT_IPV4`
   */
  v4For6(buf: Uint8Array, off: number, _nowSecs: number, _flags: number): number {
    if (!this.#hasVia || !matchesPrefix(buf, off, this.#via, this.#viaLen)) return NOT_IPV4;
    const v4 = extractIpv4(buf, off, this.#viaLen);
    if (v4 === NOT_IPV4 || !this.#worldAllowed(v4)) return NOT_IPV4;
    return v4 | 0;
  }

  /**
   * Lease side, IPv4 → IPv6: the world's address embedded in `Via` (a customer packet's
   * destination, the source inside an ICMPv4 error).
   * @param v4 the IPv4 address
   * @param out where the IPv6 address is written
   * @param outOff its offset
   * @param _nowSecs unused (no state)
   * @param _flags unused
   * @returns 1 when written, 0 for an address the Well-Known Prefix may not carry (or no `Via`)
   */
  v6For4(v4: number, out: Uint8Array, outOff: number, _nowSecs: number, _flags: number): number {
    if (!this.#hasVia || !this.#worldAllowed(v4)) return 0;
    embedIpv4(this.#via, this.#viaLen, v4, out, outOff);
    return 1;
  }

  /**
   * Static side, IPv6 → IPv4: the customer an IPv6 address belongs to (`Source6`).
   * @param buf buffer holding the IPv6 address
   * @param off its offset
   * @returns the customer's IPv4 address as an int32, or `NOT_IPV4`
   */
  staticV4For6(buf: Uint8Array, off: number): number {
    if (this.#embed) {
      if (!this.#hasVia || !matchesPrefix(buf, off, this.#via, this.#viaLen)) return NOT_IPV4;
      const v4 = extractIpv4(buf, off, this.#viaLen);
      if (v4 === NOT_IPV4 || this.#customerPrefix(v4) < 0) return NOT_IPV4;
      return v4 | 0;
    }
    const len = this.#source6Len;
    if (!matchesPrefix(buf, off, this.#source6, len)) return NOT_IPV4;
    if (source6ByIndex(len)) return this.#byIndex(buf, off, len);
    // Between the prefix and the last 32 bits: zeros.
    for (let bit = len; bit < 96; bit++) {
      if ((buf[off + (bit >>> 3)]! & (0x80 >>> (bit & 7))) !== 0) return NOT_IPV4;
    }
    const v4 = (buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) |
      buf[off + 15]!;
    return this.#customerPrefix(v4) < 0 ? NOT_IPV4 : v4;
  }

  /** The customer numbered by the host bits (fewer than 32) of an address in `Source6`. */
  #byIndex(buf: Uint8Array, off: number, len: number): number {
    const low = (buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) |
      buf[off + 15]!;
    const index = (low & ~ipv4Mask(len - 96)) >>> 0;
    if (index >= this.#total) return NOT_IPV4;
    const first = this.#first;
    let i = first.length - 1;
    while (i > 0 && first[i]! > index) i--;
    return (this.#base[i]! + (index - first[i]!)) | 0;
  }

  /**
   * Static side, IPv4 → IPv6: a customer's IPv6 address (`Source6`).
   * @param v4 the IPv4 address
   * @param out where the IPv6 address is written
   * @param outOff its offset
   * @returns 1 when `v4` is a customer (written), else 0
   */
  staticV6For4(v4: number, out: Uint8Array, outOff: number): number {
    const i = this.#customerPrefix(v4);
    if (i < 0) return 0;
    if (this.#embed) {
      if (!this.#hasVia) return 0;
      embedIpv4(this.#via, this.#viaLen, v4, out, outOff);
      return 1;
    }
    const len = this.#source6Len;
    const p = this.#source6;
    for (let k = 0; k < 16; k++) out[outOff + k] = p[k]!;
    const word = source6ByIndex(len)
      ? ((out[outOff + 12]! << 24) | (out[outOff + 13]! << 16) | (out[outOff + 14]! << 8) |
        out[outOff + 15]!) | (this.#first[i]! + ((v4 - this.#base[i]!) >>> 0))
      : v4;
    out[outOff + 12] = word >>> 24;
    out[outOff + 13] = (word >>> 16) & 0xff;
    out[outOff + 14] = (word >>> 8) & 0xff;
    out[outOff + 15] = word & 0xff;
    return 1;
  }

  /**
   * Whether an IPv4 address is the translator's to hand out (hairpinning, RFC 7757 §4.2): a
   * CLAT hands out nothing.
   * @param _v4 the address
   * @returns false
   */
  owns4(_v4: number): boolean {
    return false;
  }
}
