/**
 * Static address mappings: single pairs (/32 <-> /128) and RFC 7757
 * Explicit Address Mapping (EAM) prefix pairs, looked up by longest prefix
 * match in both directions.
 *
 * RFC 7757 §3.2, for an entry (IPv4 prefix P4/len4, IPv6 prefix P6/len6)
 * with `128 - len6 >= 32 - len4`:
 *
 * ```
 * IPv6 -> IPv4:  P4 | the (32 - len4) bits of the IPv6 address that
 *                     start at bit len6
 * IPv4 -> IPv6:  P6 with the (32 - len4) suffix bits of the IPv4 address
 *                copied in from bit len6; every later bit is zero
 * ```
 *
 * Example (RFC 7757 §3.2): 192.0.2.0/24 <-> 2001:db8:1c0:2::/72 maps
 * 192.0.2.33 <-> 2001:db8:1c0:2:21::.
 *
 * The table is built once from the configuration into private typed arrays
 * (one copy per thread; it never changes) with one open-addressing hash per
 * direction keyed by (masked address, prefix length): the lease table's
 * {@link WordHash} (./hash.ts), an IPv4 prefix as the key (address, 0, 0, 0). A lookup tries each
 * configured prefix length, longest first, so single-address maps cost one
 * probe. Lookups never allocate and never throw.
 *
 * @module
 */

import { NOT_IPV4 } from "../addr/rfc6052.ts";
import type { Ipv4Prefix } from "../addr/ipv4.ts";
import type { Ipv6Prefix } from "../addr/ipv6.ts";
import { WordHash } from "./hash.ts";
import { ceilPow2, readWord, wordMask, writeWord } from "./words.ts";

/** One static mapping: an address pair (/32 <-> /128) or an RFC 7757 EAM prefix pair. */
export interface StaticMap {
  /** IPv4 side (host bits zero). */
  v4: Ipv4Prefix;
  /** IPv6 side (host bits zero); `128 - v6.len >= 32 - v4.len`. */
  v6: Ipv6Prefix;
}

/** Returned by the lookups when no entry matches. */
const NONE = -1;

/**
 * Extracts `n` (0..32) bits starting at bit `pos` of a 128-bit value held in
 * `w` (four big-endian words), right-aligned.
 */
function extractBits(w: Uint32Array, pos: number, n: number): number {
  if (n === 0) return 0;
  const i = pos >>> 5;
  const s = pos & 31;
  const hi = w[i]!;
  const v = s === 0 ? hi : ((hi << s) | (i < 3 ? w[i + 1]! >>> (32 - s) : 0)) >>> 0;
  return (v >>> (32 - n)) | 0;
}

/** Checks one prefix pair and explains what is wrong, or returns null. */
function staticMapProblem(m: StaticMap): string | null {
  const { v4, v6 } = m;
  if (!Number.isInteger(v4.len) || v4.len < 0 || v4.len > 32) return "v4.len must be 0..32";
  if (!Number.isInteger(v4.addr) || v4.addr < 0 || v4.addr > 0xffffffff) {
    return "v4.addr must be a uint32";
  }
  if (((v4.addr & ~wordMask(v4.len, 0)) >>> 0) !== 0) return "v4 has host bits set";
  if (!Number.isInteger(v6.len) || v6.len < 0 || v6.len > 128) return "v6.len must be 0..128";
  if (!(v6.addr instanceof Uint8Array) || v6.addr.length !== 16) return "v6.addr must be 16 bytes";
  for (let k = 0; k < 4; k++) {
    if (((readWord(v6.addr, 4 * k) & ~wordMask(v6.len, k)) >>> 0) !== 0) {
      return "v6 has host bits set";
    }
  }
  if (128 - v6.len < 32 - v4.len) {
    return `IPv6 suffix (${128 - v6.len} bits) is shorter than the IPv4 suffix (${
      32 - v4.len
    } bits) (RFC 7757 §3.2)`;
  }
  return null;
}

/** Distinct values of `lens`, longest first. */
function distinctDescending(lens: Uint8Array): Int32Array {
  const seen = new Set<number>();
  for (const l of lens) seen.add(l);
  return Int32Array.from([...seen].sort((a, b) => b - a));
}

/**
 * The static mapping table (RFC 7757 EAMT plus single-address pairs).
 *
 * Immutable after construction; every lookup is allocation-free.
 */
export class StaticMapTable {
  /** Number of entries. */
  readonly count: number;
  /** IPv4 prefixes as int32s (like every address on the per-packet path). */
  #a4: Int32Array;
  #l4: Uint8Array;
  #a6: Uint32Array;
  #l6: Uint8Array;
  #lens4: Int32Array;
  #lens6: Int32Array;
  /** IPv4 prefixes keyed (address as uint32, 0, 0, 0) and tagged with their length. */
  #h4: WordHash;
  /** IPv6 prefixes keyed by their words and tagged with their length. */
  #h6: WordHash;
  /** Scratch for the address being looked up (per instance, never shared). */
  #w = new Uint32Array(4);
  /** Scratch for the masked address. */
  #m = new Uint32Array(4);

  /**
   * Builds the table.
   *
   * @param maps The static mappings in configuration order.
   * @throws {RangeError} When an entry is malformed (bad lengths, host bits
   *   set, IPv6 suffix shorter than the IPv4 suffix, RFC 7757 §3.2) or when two
   *   entries have the same IPv4 prefix or the same IPv6 prefix (ambiguous).
   */
  constructor(maps: readonly StaticMap[]) {
    const n = maps.length;
    this.count = n;
    this.#a4 = new Int32Array(n);
    this.#l4 = new Uint8Array(n);
    this.#a6 = new Uint32Array(4 * n);
    this.#l6 = new Uint8Array(n);
    for (let e = 0; e < n; e++) {
      const m = maps[e]!;
      const problem = staticMapProblem(m);
      if (problem !== null) throw new RangeError(`staticMaps[${e}]: ${problem}`);
      this.#a4[e] = m.v4.addr;
      this.#l4[e] = m.v4.len;
      for (let k = 0; k < 4; k++) this.#a6[4 * e + k] = readWord(m.v6.addr, 4 * k);
      this.#l6[e] = m.v6.len;
    }
    this.#lens4 = distinctDescending(this.#l4);
    this.#lens6 = distinctDescending(this.#l6);
    const size = ceilPow2(Math.max(8, 2 * n));
    const k4 = new Uint32Array(4 * n);
    for (let e = 0; e < n; e++) k4[4 * e] = this.#a4[e]!;
    this.#h4 = new WordHash(new Int32Array(size), k4, this.#l4, true);
    this.#h6 = new WordHash(new Int32Array(size), this.#a6, this.#l6, false);
    this.#h4.clear();
    this.#h6.clear();
    for (let e = 0; e < n; e++) {
      const twin4 = this.#h4.find1(k4[4 * e]!, this.#l4[e]!);
      if (twin4 !== NONE) {
        throw new RangeError(`staticMaps[${e}]: same IPv4 prefix as staticMaps[${twin4}]`);
      }
      this.#h4.insert(e);
      const b = 4 * e;
      const a6 = this.#a6;
      const twin6 = this.#h6.findTagged(a6[b]!, a6[b + 1]!, a6[b + 2]!, a6[b + 3]!, this.#l6[e]!);
      if (twin6 !== NONE) {
        throw new RangeError(`staticMaps[${e}]: same IPv6 prefix as staticMaps[${twin6}]`);
      }
      this.#h6.insert(e);
    }
  }

  /**
   * Finds the entry whose IPv4 prefix is the longest one containing `v4`.
   * Allocation-free (hot path).
   *
   * @param v4 IPv4 address as a uint32.
   * @returns The entry index (configuration order), or -1.
   */
  match4(v4: number): number {
    const lens = this.#lens4;
    for (let k = 0; k < lens.length; k++) {
      const len = lens[k]!;
      const e = this.#h4.find1((v4 & wordMask(len, 0)) >>> 0, len);
      if (e !== NONE) return e;
    }
    return NONE;
  }

  /**
   * Finds the entry whose IPv6 prefix is the longest one containing the
   * address. Allocation-free (hot path).
   *
   * @param buf Buffer holding the IPv6 address.
   * @param off Offset of its 16 bytes.
   * @returns The entry index (configuration order), or -1.
   */
  match6(buf: Uint8Array, off: number): number {
    const lens = this.#lens6;
    if (lens.length === 0) return NONE;
    const w = this.#w;
    const m = this.#m;
    for (let k = 0; k < 4; k++) w[k] = readWord(buf, off + 4 * k);
    for (let j = 0; j < lens.length; j++) {
      const len = lens[j]!;
      for (let k = 0; k < 4; k++) m[k] = w[k]! & wordMask(len, k);
      const e = this.#h6.findTagged(m[0]!, m[1]!, m[2]!, m[3]!, len);
      if (e !== NONE) return e;
    }
    return NONE;
  }

  /**
   * Tells whether an IPv4 address is covered by some static entry.
   *
   * @param v4 IPv4 address as a uint32.
   * @returns `true` when an entry's IPv4 prefix contains it.
   */
  covers4(v4: number): boolean {
    return this.match4(v4) !== NONE;
  }

  /**
   * Maps an IPv6 address to IPv4 through the longest matching entry
   * (RFC 7757 §3.2). Allocation-free (hot path).
   *
   * @param buf Buffer holding the IPv6 address.
   * @param off Offset of its 16 bytes.
   * @returns The IPv4 address as an int32, or `NOT_IPV4` when no entry matches.
   */
  v4For6(buf: Uint8Array, off: number): number {
    const e = this.match6(buf, off);
    if (e === NONE) return NOT_IPV4;
    const len4 = this.#l4[e]!;
    return this.#a4[e]! | extractBits(this.#w, this.#l6[e]!, 32 - len4);
  }

  /**
   * Maps an IPv4 address to IPv6 through the longest matching entry
   * (RFC 7757 §3.2) and writes the 16 bytes. Allocation-free (hot path).
   *
   * @param v4 IPv4 address as a uint32.
   * @param out Buffer receiving the IPv6 address.
   * @param outOff Offset in `out`.
   * @returns 1 when written, 0 when no entry matches (`out` untouched).
   */
  v6For4(v4: number, out: Uint8Array, outOff: number): number {
    const e = this.match4(v4);
    if (e === NONE) return 0;
    const w = this.#w;
    for (let k = 0; k < 4; k++) w[k] = this.#a6[4 * e + k]!;
    const n = 32 - this.#l4[e]!;
    if (n > 0) {
      const suffix = (v4 << (32 - n)) >>> 0; // suffix bits moved to the top (n = 32: unchanged)
      const pos = this.#l6[e]!;
      const i = pos >>> 5;
      const s = pos & 31;
      w[i] = w[i]! | (suffix >>> s);
      if (s !== 0 && i < 3) w[i + 1] = w[i + 1]! | (suffix << (32 - s));
    }
    for (let k = 0; k < 4; k++) writeWord(out, outOff + 4 * k, w[k]!);
    return 1;
  }
}
