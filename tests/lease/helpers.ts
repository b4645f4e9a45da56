/**
 * Test helpers for the lease table: text addresses in, numbers and bytes out.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatIpv4, parseIpv4, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6, parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { type LeaseTableOptions, MAP_NONE, type StaticMap } from "../../lib/lease/table.ts";
import { Prng } from "../_util/prng.ts";

/**
 * Parses an IPv4 address or fails the test.
 *
 * @param text Dotted quad.
 * @returns The uint32.
 */
export function ip4(text: string): number {
  const a = parseIpv4(text);
  assert.ok(a !== null, `bad test address ${text}`);
  return a;
}

/**
 * Parses an IPv6 address or fails the test.
 *
 * @param text IPv6 text.
 * @returns 16 bytes.
 */
export function ip6(text: string): Uint8Array {
  const a = parseIpv6(text);
  assert.ok(a !== null, `bad test address ${text}`);
  return a;
}

/**
 * Builds table options from text prefixes.
 *
 * @param pool IPv4 pool prefixes.
 * @param statics [IPv4 prefix, IPv6 prefix] pairs.
 * @param reservationSecs Idle seconds before expiry.
 * @param eventRingSize Optional ring size.
 * @returns The options.
 */
export function options(
  pool: string[],
  statics: [string, string][],
  reservationSecs: number,
  eventRingSize?: number,
): LeaseTableOptions {
  const staticMaps: StaticMap[] = statics.map(([a, b]) => {
    const v4 = parseIpv4Prefix(a);
    const v6 = parseIpv6Prefix(b);
    assert.ok(v4 && v6, `bad test prefix ${a} / ${b}`);
    return { v4, v6 };
  });
  return {
    pool: pool.map((p) => {
      const prefix = parseIpv4Prefix(p);
      assert.ok(prefix, `bad test prefix ${p}`);
      return prefix;
    }),
    staticMaps,
    reservationSecs,
    ...(eventRingSize === undefined ? {} : { eventRingSize }),
  };
}

/** The slice of `LeaseTable` these helpers drive. */
interface Mapper {
  v4For6(buf: Uint8Array, off: number, nowSecs: number, flags: number): number;
  v6For4(v4: number, out: Uint8Array, outOff: number, nowSecs: number, flags: number): number;
}

/**
 * Runs `v4For6` for an IPv6 text (placed at an odd offset in a bigger buffer).
 *
 * @param t The table.
 * @param v6 IPv6 text.
 * @param now Clock.
 * @param flags LEASE_* flags.
 * @returns Dotted quad, or the MAP_* code.
 */
export function to4(t: Mapper, v6: string, now: number, flags: number): string | number {
  const buf = new Uint8Array(48).fill(0xa5);
  buf.set(ip6(v6), 9);
  const r = t.v4For6(buf, 9, now, flags);
  return r >= MAP_NONE ? r : formatIpv4(r);
}

/**
 * Runs `v6For4` for an IPv4 text into a 0xa5-filled buffer.
 *
 * @param t The table.
 * @param v4 Dotted quad.
 * @param now Clock.
 * @param flags LEASE_* flags.
 * @returns IPv6 text, or null when there is no mapping (buffer checked untouched).
 */
export function to6(t: Mapper, v4: string, now: number, flags: number): string | null {
  const out = new Uint8Array(40).fill(0xa5);
  const r = t.v6For4(ip4(v4), out, 13, now, flags);
  for (let i = 0; i < out.length; i++) {
    if (r === 0 || i < 13 || i >= 29) assert.equal(out[i], 0xa5, `byte ${i} touched`);
  }
  return r === 0 ? null : formatIpv6(out, 13);
}

/**
 * The 16 bytes of host number `i` in 2001:db8:1::/64 (spread over all words).
 *
 * @param i Host number, 0..2^32-1.
 * @returns Canonical IPv6 text.
 */
export function host(i: number): string {
  return formatIpv6(hostBytes(i));
}

/**
 * Host number `i` as bytes (see {@link host}).
 *
 * @param i Host number.
 * @returns 16 bytes.
 */
export function hostBytes(i: number): Uint8Array {
  const b = ip6("2001:db8:1::");
  const dv = new DataView(b.buffer);
  dv.setUint32(8, Math.imul(i, 0x2545f491) >>> 0);
  dv.setUint32(12, i >>> 0);
  return b;
}

/**
 * A seeded PRNG (mulberry32, from tests/_util/prng.ts) for reproducible random tests.
 *
 * @param seed Any integer.
 * @returns A function returning floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.u32() / 4294967296;
}
