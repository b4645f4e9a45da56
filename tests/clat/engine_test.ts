/**
 * The engine in CLAT mode (RFC 6877 §6.3) on literal packets: customer traffic through the
 * CLAT and then through the NAT64 engine as the PLAT (464XLAT in one process), and back;
 * ICMP errors with their inner packets; what the CLAT refuses; every `Source6` form and a
 * `Via` other than /96. Checksums are verified with tests/_util/packets.ts (independent of lib/).
 */

import assert from "node:assert/strict";
import { ClatMapper } from "../../lib/clat/mapper.ts";
import { parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6, parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { NOT_IPV4 } from "../../lib/addr/rfc6052.ts";
import type { XlatContext } from "../../lib/xlat/context.ts";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import { emittedPackets, translatePacket } from "../../lib/xlat/translate.ts";
import { hex, ipv4HeaderChecksumValid, l4ChecksumValid } from "../_util/packets.ts";
import {
  engineFor,
  fixChecksums,
  fragment6,
  patch,
  put16,
  reassemble4,
  reassemble6,
  u16,
  u32,
  withData,
} from "../xlat/_build.ts";
import { clatConfig, clatEngine } from "./_clat.ts";

/** UDP from the customer 192.0.0.1 to 198.51.100.7 (port 5000 > 53). */
// deno-fmt-ignore
const UDP4 = fixChecksums(hex(`
  45000020 12344000 40110000   // IPv4, total 32, id 0x1234, DF, TTL 64, UDP
  c0000001 c6336407            // 192.0.0.1 > 198.51.100.7
  13880035 000c0000 01020304   // UDP 5000 > 53, length 12, checksum (filled in), payload
`));

/** Echo Request from the customer 192.0.0.1 to 198.51.100.7. */
// deno-fmt-ignore
const PING4 = fixChecksums(hex(`
  45000024 00010000 40010000   // IPv4, total 36, TTL 64, ICMP
  c0000001 c6336407            // 192.0.0.1 > 198.51.100.7
  08000000 abcd0001            // Echo Request, id 0xabcd, seq 1
  61626364 65666768            // payload
`));

const CUSTOMER6 = "2001:db8:1:4646::c000:1";
const WORLD6 = "64:ff9b::c633:6407";

function one(ctx: XlatContext, pkt: Uint8Array): Uint8Array {
  const r = translatePacket(ctx, pkt);
  assert.equal(r, 1, `one packet out (got ${r})`);
  return emittedPackets(ctx)[0]!;
}

function src6(p: Uint8Array): string {
  return formatIpv6(p, 8);
}

function dst6(p: Uint8Array): string {
  return formatIpv6(p, 24);
}

Deno.test("clat engine: customer UDP goes out from its Source6 address to the world in Via, and the PLAT's reply comes back", () => {
  const clat = clatEngine();
  const plat = engineFor().ctx;
  const out6 = one(clat, UDP4);
  assert.equal(out6[0]! >> 4, 6);
  assert.equal(src6(out6), CUSTOMER6);
  assert.equal(dst6(out6), WORLD6);
  assert.equal(out6[7], 63, "hop limit = TTL − 1");
  assert.equal(l4ChecksumValid(out6), true);
  // Through the PLAT (the NAT64 engine): a pool address to the server.
  const at4 = one(plat, out6);
  assert.equal(u32(at4, 12), 0xc0000201);
  assert.equal(u32(at4, 16), 0xc6336407);
  assert.equal(ipv4HeaderChecksumValid(at4) && l4ChecksumValid(at4), true);
  // The server's reply, back through both.
  const reply4 = fixChecksums(hex(`
    45000020 00004000 40110000 c6336407 c0000201 00351388 000c0000 05060708`));
  const back6 = one(plat, reply4);
  assert.equal(dst6(back6), CUSTOMER6);
  const back4 = one(clat, back6);
  assert.equal(u32(back4, 12), 0xc6336407);
  assert.equal(u32(back4, 16), 0xc0000001);
  assert.equal(back4[8], 62, "TTL after two translators");
  assert.equal(ipv4HeaderChecksumValid(back4) && l4ChecksumValid(back4), true);
  assert.deepEqual([...back4.subarray(28)], [5, 6, 7, 8]);
  assert.equal(clat.counters[Stat.TRANSLATED_4TO6], 1);
  assert.equal(clat.counters[Stat.TRANSLATED_6TO4], 1);
});

Deno.test("clat engine: an Echo Request becomes ICMPv6 128 and its reply ICMPv4 0, checksums valid", () => {
  const clat = clatEngine();
  const out6 = one(clat, PING4);
  assert.equal(out6[40], 128);
  assert.equal(l4ChecksumValid(out6), true);
  // deno-fmt-ignore
  const reply6 = fixChecksums(hex(`
    60000000 00103a40
    0064ff9b 00000000 00000000 c6336407
    20010db8 00014646 00000000 c0000001
    81000000 abcd0001 61626364 65666768`));
  const back4 = one(clat, reply6);
  assert.equal(back4[20], 0, "Echo Reply");
  assert.equal(ipv4HeaderChecksumValid(back4) && l4ChecksumValid(back4), true);
});

Deno.test("clat engine: Time Exceeded from an IPv6 router reaches the customer from Address4, quoting its own packet", () => {
  const clat = clatEngine();
  const out6 = one(clat, UDP4);
  // deno-fmt-ignore
  const err6 = hex(`
    60000000 00003a40
    20010db8 ffff0000 00000000 00000001
    20010db8 00014646 00000000 c0000001
    03000000 00000000`);
  const full = new Uint8Array(err6.length + out6.length);
  full.set(err6);
  full.set(out6, err6.length);
  full[4] = 0;
  full[5] = 8 + out6.length;
  const err4 = one(clat, fixChecksums(full));
  assert.equal(err4[20], 11, "ICMPv4 Time Exceeded");
  assert.equal(u32(err4, 12), 0xc0000002, "from Address4 (RFC 6791: the router has no IPv4)");
  assert.equal(u32(err4, 16), 0xc0000001);
  assert.equal(u32(err4, 28 + 12), 0xc0000001, "inner source: the customer");
  assert.equal(u32(err4, 28 + 16), 0xc6336407, "inner destination: the world");
  assert.equal(ipv4HeaderChecksumValid(err4) && l4ChecksumValid(err4), true);
});

Deno.test("clat engine: not_customer_source — an IPv4 source outside CustomerPool is refused", () => {
  const clat = clatEngine();
  const pkt = fixChecksums(hex(`
    45000020 12344000 40110000 0a000005 c6336407 13880035 000c0000 01020304`));
  assert.equal(translatePacket(clat, pkt), 1, "answered with Destination Unreachable");
  assert.equal(clat.counters[Drop.NOT_CUSTOMER_SOURCE], 1);
  const err = emittedPackets(clat)[0]!;
  assert.deepEqual([err[20], err[21]], [3, 13], "ICMPv4 3/13 (RFC 7915 §4.4 policy)");
});

Deno.test("clat engine: Fragmentation Needed from a LAN router outside CustomerPool reaches the world from Address6 (RFC 6791), and through the PLAT", () => {
  const clat = clatEngine();
  const plat = engineFor().ctx;
  // The customer's first packet gives it a lease at the PLAT (the quoted reply needs one).
  one(plat, one(clat, UDP4));
  // A 1500-byte reply from the world, DF set, quoted by a router 10.99.0.2 on the customer's
  // side whose next link has MTU 1400.
  // deno-fmt-ignore
  const err4 = fixChecksums(hex(`
    45000038 00000000 40010000 0a630002 c6336407   // 10.99.0.2 > 198.51.100.7, 56 bytes
    03040000 00000578                              // Fragmentation Needed, MTU 1400
    450005dc 00004000 3f110000 c6336407 c0000001   // quoted: 1500 bytes, DF, to the customer
    00351388 05c81234                              // UDP 53 > 5000 (the first 8 bytes)
  `));
  const ptb = one(clat, err4);
  assert.equal(clat.counters[Drop.NOT_CUSTOMER_SOURCE], 0);
  assert.deepEqual([ptb[40], ptb[41]], [2, 0], "ICMPv6 Packet Too Big");
  assert.equal(u32(ptb, 44), 1420, "MTU 1400 + 20 (RFC 7915 §4.2)");
  assert.equal(src6(ptb), "2001:db8:1:4646::c000:2", "from Address6 (RFC 6791 for IPv6)");
  assert.equal(dst6(ptb), WORLD6);
  assert.equal(formatIpv6(ptb, 48 + 8), WORLD6, "inner source: the world");
  assert.equal(formatIpv6(ptb, 48 + 24), CUSTOMER6, "inner destination: the customer");
  assert.equal(l4ChecksumValid(ptb), true);
  // The PLAT turns it into Fragmentation Needed for the server, quoting its own reply.
  const back4 = one(plat, ptb);
  assert.deepEqual([back4[20], back4[21]], [3, 4]);
  assert.equal(u16(back4, 26), 1400, "1420 − 20 (RFC 7915 §5.2)");
  assert.equal(u32(back4, 16), 0xc6336407, "to the server");
  assert.equal(u32(back4, 28 + 12), 0xc6336407, "inner source: the server");
  assert.equal(u32(back4, 28 + 16), 0xc0000201, "inner destination: the customer's pool address");
  assert.equal(ipv4HeaderChecksumValid(back4), true);
  // Only errors pass: the same router's own datagram is still refused.
  const plain = fixChecksums(hex(`
    45000020 12344000 40110000 0a630002 c6336407 13880035 000c0000 01020304`));
  translatePacket(clat, plain);
  assert.equal(clat.counters[Drop.NOT_CUSTOMER_SOURCE], 1);
});

Deno.test("clat engine: not_customer_destination — IPv6 to an address that maps to no customer is refused", () => {
  for (const dst of ["2001:db8:1:4646::c000:99", "2001:db8:1:4646:1::c000:1", WORLD6]) {
    const clat = clatEngine();
    const pkt = fixChecksums(hex(`
      60000000 000c1140 0064ff9b 00000000 00000000 c6336407
      ${[...parseIpv6(dst)!].map((x) => x.toString(16).padStart(2, "0")).join("")}
      00351388 000c0000 01020304`));
    translatePacket(clat, pkt);
    assert.equal(clat.counters[Drop.NOT_CUSTOMER_DESTINATION], 1, dst);
    assert.equal(clat.counters[Stat.TRANSLATED_6TO4], 0, dst);
  }
});

Deno.test("clat engine: Source6 embed and a /64 Via place the customer by RFC 6052 (u-octet skipped)", () => {
  const clat = clatEngine(clatConfig({ via: "2001:db8:64::/64", source6: "embed" }));
  const out6 = one(clat, UDP4);
  assert.equal(src6(out6), "2001:db8:64:0:c0:0:100:0");
  assert.equal(dst6(out6), "2001:db8:64:0:c6:3364:700:0");
  assert.equal(l4ChecksumValid(out6), true);
  const back = new Uint8Array(out6);
  back.set(out6.subarray(24, 40), 8);
  back.set(out6.subarray(8, 24), 24);
  const back4 = one(clat, back);
  assert.equal(u32(back4, 16), 0xc0000001);
  assert.equal(u32(back4, 12), 0xc6336407);
});

Deno.test("clat mapper: a Source6 longer than /96 numbers the customers by their index in the pool", () => {
  const m = new ClatMapper({
    customerPool: ["192.0.0.0/30", "198.18.7.0/31"].map((p) => parseIpv4Prefix(p)!),
    source6: parseIpv6Prefix("2001:db8::100/125")!,
    via: parseIpv6Prefix("64:ff9b::/96")!,
    refuseNonGlobal: false,
  });
  const out = new Uint8Array(16);
  assert.equal(m.staticV6For4(0xc6120701 | 0, out, 0), 1);
  assert.equal(formatIpv6(out), "2001:db8::105", "fifth address of the pool");
  assert.equal(m.staticV4For6(out, 0), 0xc6120701 | 0);
  assert.equal(m.staticV6For4(0xc0000003 | 0, out, 0), 1);
  assert.equal(formatIpv6(out), "2001:db8::103");
  assert.equal(m.staticV4For6(parseIpv6("2001:db8::106")!, 0), NOT_IPV4, "past the pool");
  assert.equal(m.staticV6For4(0xc6120702 | 0, out, 0), 0, "outside the pool");
  const one128 = new ClatMapper({
    customerPool: [parseIpv4Prefix("192.0.0.1/32")!],
    source6: parseIpv6Prefix("2001:db8::4646/128")!,
    via: parseIpv6Prefix("64:ff9b::/96")!,
    refuseNonGlobal: false,
  });
  assert.equal(one128.staticV6For4(0xc0000001 | 0, out, 0), 1);
  assert.equal(formatIpv6(out), "2001:db8::4646");
  assert.equal(one128.staticV4For6(out, 0), 0xc0000001 | 0);
});

Deno.test("clat mapper: with the Well-Known Prefix a non-global world address is refused (RFC 6052 §3.1)", () => {
  const m = new ClatMapper({
    customerPool: [parseIpv4Prefix("192.0.0.0/29")!],
    source6: null,
    via: parseIpv6Prefix("64:ff9b::/96")!,
    refuseNonGlobal: true,
  });
  const out = new Uint8Array(16);
  assert.equal(m.v6For4(0x0a000001, out, 0, 0, 0), 0, "10.0.0.1");
  assert.equal(m.v6For4(0x08080808, out, 0, 0, 0), 1, "8.8.8.8");
  assert.equal(formatIpv6(out), "64:ff9b::808:808");
  assert.equal(m.v4For6(parseIpv6("64:ff9b::a00:1")!, 0, 0, 0), NOT_IPV4);
  assert.equal(m.v4For6(out, 0, 0, 0), 0x08080808);
  assert.equal(m.owns4(0xc0000001 | 0), false);
});

// ---- the rest of RFC 7915 in CLAT mode: hop limits, path MTU, fragments ----------------------

/** UDP from the customer with `dataBytes` of data; `df` sets Don't Fragment. */
function bigUdp4(dataBytes: number, df: boolean): Uint8Array {
  const pkt = withData(UDP4, { dataBytes, byteAt: (k) => (k * 13) & 0xff });
  if (!df) {
    pkt[6] = 0;
    return fixChecksums(pkt);
  }
  return pkt;
}

Deno.test("clat engine: a customer packet with TTL 1 is answered with Time Exceeded from Address4", () => {
  const clat = clatEngine();
  const pkt = fixChecksums(patch(UDP4, 8, 1));
  assert.equal(translatePacket(clat, pkt), 1);
  assert.equal(clat.counters[Drop.HOP_LIMIT_EXCEEDED], 1);
  const err = emittedPackets(clat)[0]!;
  assert.deepEqual([err[20], err[21]], [11, 0]);
  assert.equal(u32(err, 12), 0xc0000002);
  assert.equal(u32(err, 16), 0xc0000001);
  assert.equal(ipv4HeaderChecksumValid(err) && l4ChecksumValid(err), true);
});

Deno.test("clat engine: DF set and too big for MTU6 — Fragmentation Needed with the IPv4 MTU (MTU6 − 20)", () => {
  const clat = clatEngine();
  const pkt = bigUdp4(1500 - 28, true);
  assert.equal(translatePacket(clat, pkt), 1);
  assert.equal(clat.counters[Drop.PACKET_TOO_BIG], 1);
  const err = emittedPackets(clat)[0]!;
  assert.deepEqual([err[20], err[21]], [3, 4]);
  assert.equal(u16(err, 26), 1480, "next-hop MTU: 1500-byte IPv6 link, 20 bytes of growth");
  assert.equal(ipv4HeaderChecksumValid(err) && l4ChecksumValid(err), true);
});

Deno.test("clat engine: DF clear — fragments of at most 1280 bytes (lowest-ipv6-mtu) that reassemble to a valid datagram", () => {
  const clat = clatEngine();
  const pkt = bigUdp4(1500 - 28, false);
  const n = translatePacket(clat, pkt);
  assert.ok(n >= 2, `fragments: ${n}`);
  const frags = emittedPackets(clat);
  for (const f of frags) {
    assert.ok(f.length <= 1280, `${f.length} bytes`);
    assert.equal(f[6], 44, "Fragment header");
  }
  const whole = reassemble6(frags);
  assert.equal(src6(whole), CUSTOMER6);
  assert.equal(l4ChecksumValid(whole), true);
  assert.equal(u16(whole, 4), 1480);
});

Deno.test("clat engine: Packet Too Big from an IPv6 router reaches the customer as Fragmentation Needed 1260", () => {
  const clat = clatEngine();
  const out6 = one(clat, bigUdp4(1400, true));
  // deno-fmt-ignore
  const head = hex(`
    60000000 00003a40
    20010db8 ffff0000 00000000 00000001
    20010db8 00014646 00000000 c0000001
    02000000 00000500`); // Packet Too Big, MTU 1280
  const quote = out6.subarray(0, 1280 - 48);
  const ptb = new Uint8Array(head.length + quote.length);
  ptb.set(head);
  ptb.set(quote, head.length);
  put16(ptb, 4, 8 + quote.length);
  const err4 = one(clat, fixChecksums(ptb));
  assert.deepEqual([err4[20], err4[21]], [3, 4]);
  assert.equal(u16(err4, 26), 1260, "1280 − 20 (RFC 7915 §5.2)");
  assert.equal(u32(err4, 16), 0xc0000001);
  assert.equal(u32(err4, 28 + 12), 0xc0000001, "quoting the customer's own datagram");
  assert.equal(ipv4HeaderChecksumValid(err4), true);
});

Deno.test("clat engine: IPv6 fragments from the world reach the customer as IPv4 fragments with the same identification", () => {
  const clat = clatEngine();
  // deno-fmt-ignore
  const head6 = hex(`
    60000000 00001140
    0064ff9b 00000000 00000000 c6336407
    20010db8 00014646 00000000 c0000001
    00351388 00000000`);
  const whole6 = withData(head6, { dataBytes: 2000, byteAt: (k) => k & 0xff });
  const frags4: Uint8Array[] = [];
  for (const f of fragment6(whole6, [1232], 0x12345678)) {
    const r = translatePacket(clat, f);
    assert.equal(r, 1);
    frags4.push(emittedPackets(clat)[0]!);
  }
  for (const f of frags4) {
    assert.equal(u16(f, 4), 0x5678, "Identification: the low 16 bits (RFC 7915 §5.1.1)");
    assert.equal(ipv4HeaderChecksumValid(f), true);
  }
  const whole4 = reassemble4(frags4);
  assert.equal(u32(whole4, 16), 0xc0000001);
  assert.equal(l4ChecksumValid(whole4), true);
});
