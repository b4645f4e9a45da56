/**
 * Seeded round-trip properties: random valid IPv6 TCP/UDP packets translated 6→4 keep their
 * ports, payload and valid checksums; the IPv4 result mirrored (addresses and ports swapped,
 * which leaves every checksum valid) and fed back 4→6 is the mirror of the original packet.
 * The same from the IPv4 side, to the leased pool address, 4→6→4.
 */

import assert from "node:assert/strict";
import type { Engine } from "../../lib/xlat/settings.ts";
import { ipv4HeaderChecksumValid, l4ChecksumValid, toHex } from "../_util/packets.ts";
import { Prng } from "../_util/prng.ts";
import { engineFor, fixChecksums, put16, put32, run, u16, u32 } from "./_build.ts";

const TOML = `
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["192.0.2.0/29"]
[Translation]
AllowNonGlobalWithWKP = true
`;

/** 2001:db8::<n>. */
function host6(n: number): Uint8Array {
  const a = new Uint8Array(16);
  a.set([0x20, 0x01, 0x0d, 0xb8]);
  a[15] = n;
  return a;
}

/** A global-looking unicast IPv4 address (not 0/8, 127/8, multicast, the pool or Address4). */
function peer4(rng: Prng): number {
  for (;;) {
    const a = rng.u32();
    const top = a >>> 24;
    if (top === 0 || top === 127 || top >= 224 || top === 192) continue;
    return a;
  }
}

/** A random TCP or UDP segment of `n` payload bytes with checksum 0. */
function segment(rng: Prng, proto: number, n: number): Uint8Array {
  const head = proto === 6 ? 20 : 8;
  const s = rng.bytes(head + n);
  if (proto === 6) s[12] = 0x50 | (s[12]! & 0x0f);
  else put16(s, 4, 8 + n);
  put16(s, proto === 6 ? 16 : 6, 0);
  return s;
}

function ipv6Packet(src: Uint8Array, dst: Uint8Array, proto: number, seg: Uint8Array, tc: number) {
  const p = new Uint8Array(40 + seg.length);
  put32(p, 0, 0x60000000 | (tc << 20) | 0x00abc);
  put16(p, 4, seg.length);
  p[6] = proto;
  p[7] = 64;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(seg, 40);
  return fixChecksums(p);
}

function ipv4Packet(src: number, dst: number, proto: number, seg: Uint8Array, tos: number) {
  const p = new Uint8Array(20 + seg.length);
  p[0] = 0x45;
  p[1] = tos;
  put16(p, 2, p.length);
  put16(p, 4, 0x1111);
  p[8] = 64;
  p[9] = proto;
  put32(p, 12, src);
  put32(p, 16, dst);
  p.set(seg, 20);
  return fixChecksums(p);
}

/** A copy of a TCP/UDP segment with its checksum field zeroed. */
function withoutChecksum(seg: Uint8Array, proto: number): Uint8Array {
  const c = seg.slice();
  put16(c, proto === 6 ? 16 : 6, 0);
  return c;
}

/** The packet with source/destination addresses and ports swapped: checksums stay valid. */
function mirror(pkt: Uint8Array): Uint8Array {
  const m = pkt.slice();
  const [a, len, l4] = pkt[0]! >> 4 === 4 ? [12, 4, 20] : [8, 16, 40];
  m.set(pkt.subarray(a + len, a + 2 * len), a);
  m.set(pkt.subarray(a, a + len), a + len);
  m.set(pkt.subarray(l4 + 2, l4 + 4), l4);
  m.set(pkt.subarray(l4, l4 + 2), l4 + 2);
  return m;
}

function only(e: Engine, pkt: Uint8Array): Uint8Array {
  const { r, out } = run(e, pkt);
  assert.equal(r, 1, `translated (got ${r}) ${toHex(pkt)}`);
  return out[0]!;
}

Deno.test("translate() keeps ports, payload and valid checksums of random IPv6 TCP/UDP 6→4 and maps the mirrored reply back exactly", () => {
  const rng = new Prng(0x64646464);
  const e = engineFor(TOML);
  const leases = new Map<number, number>();
  for (let i = 0; i < 3000; i++) {
    const proto = rng.pick([6, 17]);
    const hostN = rng.range(1, 6);
    const dst4 = peer4(rng);
    const dst6 = new Uint8Array(16);
    dst6.set([0x00, 0x64, 0xff, 0x9b]);
    put32(dst6, 12, dst4);
    const n = rng.chance(0.1) ? rng.range(1000, 1400) : rng.below(200);
    const tc = rng.below(256);
    const in6 = ipv6Packet(host6(hostN), dst6, proto, segment(rng, proto, n), tc);
    e.ctx.setClock(1_700_000_000_000 + i * 10);

    const v4 = only(e, in6);
    assert.equal(ipv4HeaderChecksumValid(v4), true);
    assert.equal(l4ChecksumValid(v4), true, `#${i}`);
    assert.equal(v4[1], tc, "TOS");
    assert.equal(v4[8], 63, "TTL");
    assert.equal(u32(v4, 16), dst4);
    const src4 = u32(v4, 12);
    if (!leases.has(hostN)) leases.set(hostN, src4);
    assert.equal(src4, leases.get(hostN), "one lease per host");
    assert.equal(
      toHex(withoutChecksum(v4.subarray(20), proto)),
      toHex(withoutChecksum(in6.subarray(40), proto)),
      "ports and payload unchanged",
    );

    const back = only(e, mirror(v4));
    const want = mirror(in6);
    want[1] = want[1]! & 0xf0; // flow label 0 (RFC 7915 §4.1)
    want[2] = 0;
    want[3] = 0;
    want[7] = 62; // hop limit: two translations
    assert.equal(toHex(back), toHex(want), `#${i}`);
  }
  assert.equal(new Set(leases.values()).size, leases.size, "distinct leases");
});

Deno.test("translate() keeps ports, payload and valid checksums of random IPv4 TCP/UDP to leased addresses 4→6 and maps the mirrored reply back exactly", () => {
  const rng = new Prng(0x46464646);
  const e = engineFor(TOML);
  // Lease 192.0.2.1 .. 192.0.2.6 to 2001:db8::1 .. ::6 in that order.
  for (let h = 1; h <= 6; h++) {
    const dst6 = new Uint8Array(16);
    dst6.set([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8]);
    only(e, ipv6Packet(host6(h), dst6, 17, segment(rng, 17, 4), 0));
  }
  for (let i = 0; i < 3000; i++) {
    const proto = rng.pick([6, 17]);
    const h = rng.range(1, 6);
    const src4 = peer4(rng);
    const n = rng.below(1200);
    const tos = rng.below(256);
    const in4 = ipv4Packet(src4, 0xc0000200 + h, proto, segment(rng, proto, n), tos);

    const v6 = only(e, in4);
    assert.equal(l4ChecksumValid(v6), true, `#${i}`);
    assert.equal(u16(v6, 4) + 40, v6.length);
    assert.equal(toHex(v6.subarray(24, 40)), toHex(host6(h)), "the lease holder");
    assert.equal(u32(v6, 20), src4, "source embedded in the prefix");
    assert.equal((u32(v6, 0) >>> 20) & 0xff, tos, "traffic class");

    const back = only(e, mirror(v6));
    const want = mirror(in4);
    want[4] = back[4]!; // identification: fresh (RFC 7915 §5.1.1)
    want[5] = back[5]!;
    want[8] = 62;
    const fixed = fixChecksums(want);
    assert.equal(toHex(back), toHex(fixed), `#${i}`);
  }
});
