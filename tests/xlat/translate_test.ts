/**
 * Behaviour of the RFC 7915 engine on literal packets: header fields in both directions,
 * the DF and Identification rules, fragments, checksums (incl. the UDP 0 → 0xffff rule and
 * wrong checksums staying wrong), unknown protocols, leases, hairpinning, echo to the
 * translator, and reassembly of fragmented ICMP.
 *
 * Expected packets are written from the RFC rules as literals; their checksums are computed
 * by tests/xlat/_build.ts and checked by tests/_util/packets.ts, neither of which uses lib/.
 * The arena is filled with 0xa5 before every call (see `run`), so forgotten fields show.
 */

import assert from "node:assert/strict";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import type { Engine } from "../../lib/xlat/settings.ts";
import { hex, ipv4HeaderChecksumValid, l4ChecksumValid, toHex } from "../_util/packets.ts";
import {
  BASE_TOML,
  engineFor,
  fixChecksums,
  fragment4,
  fragment6,
  fromHost6,
  l4Residue,
  patch,
  POOL1,
  POOL2,
  put16,
  reassemble4,
  reassemble6,
  run,
  setIpv4HeaderChecksum,
  T0_MS,
  u16,
  u32,
  withData,
} from "./_build.ts";

// ---- literal packets -------------------------------------------------------------------------

/** UDP from 2001:db8::1 to 64:ff9b::198.51.100.7, traffic class 0xb8, flow label 0x12345. */
// deno-fmt-ignore
const UDP6 = fixChecksums(hex(`
  6b812345                              // version 6, traffic class 0xb8, flow label 0x12345
  000c1140                              // payload length 12, next header UDP (17), hop limit 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  1f900035                              // UDP source port 8080, destination port 53
  000c0000                              // UDP length 12, checksum (filled in)
  01020304                              // payload
`));

/** UDP6 as RFC 7915 §5.1 says it leaves the translator; identification is filled in per test. */
// deno-fmt-ignore
const UDP6_AS_4 = hex(`
  45b80020   // version 4, IHL 5, TOS 0xb8 (the traffic class), total length 32
  00000000   // identification (unpredictable, RFC 7739: taken from the output), DF 0
  3f110000   // TTL 63 (hop limit - 1), UDP, header checksum (filled in)
  c0000201   // source 192.0.2.1 (the lease)
  c6336407   // destination 198.51.100.7 (from the prefix)
  1f900035   // UDP source port 8080, destination port 53
  000c0000   // UDP length 12, checksum (filled in)
  01020304   // payload
`);

/** TCP SYN from 2001:db8::1 to 64:ff9b::198.51.100.7. */
// deno-fmt-ignore
const TCP6 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  00180640                              // payload length 24, next header TCP (6), hop limit 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  c0000050                              // TCP source port 49152, destination port 80
  11223344                              // sequence number
  00000000                              // acknowledgment number
  5002faf0                              // data offset 5, SYN, window 64240
  00000000                              // checksum (filled in), urgent pointer 0
  deadbeef                              // payload
`));

// deno-fmt-ignore
const TCP6_AS_4 = hex(`
  4500002c   // version 4, IHL 5, TOS 0, total length 44
  00000000   // identification (from the output), DF 0
  3f060000   // TTL 63, TCP, header checksum (filled in)
  c0000201   // source 192.0.2.1
  c6336407   // destination 198.51.100.7
  c0000050   // TCP 49152 -> 80
  11223344   // sequence number
  00000000   // acknowledgment number
  5002faf0   // data offset 5, SYN, window 64240
  00000000   // checksum (filled in), urgent pointer 0
  deadbeef   // payload
`);

/** ICMPv6 Echo Request from 2001:db8::1 to 64:ff9b::198.51.100.7. */
// deno-fmt-ignore
const ECHO6 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  00103a40                              // payload length 16, next header ICMPv6 (58), HL 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  80000000                              // Echo Request (128), code 0, checksum (filled in)
  abcd0001                              // identifier 0xabcd, sequence 1
  61626364                              // data "abcd"
  65666768                              // data "efgh"
`));

// deno-fmt-ignore
const ECHO6_AS_4 = hex(`
  45000024   // version 4, IHL 5, TOS 0, total length 36
  00000000   // identification (from the output), DF 0
  3f010000   // TTL 63, ICMP (1), header checksum (filled in)
  c0000201   // source 192.0.2.1
  c6336407   // destination 198.51.100.7
  08000000   // Echo Request (8), code 0, checksum (filled in)
  abcd0001   // identifier, sequence
  61626364   // data
  65666768   // data
`);

/** UDP from 198.51.100.7 to 192.0.2.1, TOS 0x28. */
// deno-fmt-ignore
const UDP4 = fixChecksums(hex(`
  45280020   // version 4, IHL 5, TOS 0x28, total length 32
  12344000   // identification 0x1234, DF, fragment offset 0
  40110000   // TTL 64, UDP (17), header checksum (filled in)
  c6336407   // source 198.51.100.7
  c0000201   // destination 192.0.2.1
  00351f90   // UDP source port 53, destination port 8080
  000c0000   // UDP length 12, checksum (filled in)
  01020304   // payload
`));

// deno-fmt-ignore
const UDP4_AS_6 = fixChecksums(hex(`
  62800000                              // version 6, traffic class 0x28 (the TOS), flow label 0
  000c113f                              // payload length 12, UDP, hop limit 63 (TTL - 1)
  0064ff9b 00000000 00000000 c6336407   // source 64:ff9b::198.51.100.7
  20010db8 00000000 00000000 00000001   // destination 2001:db8::1 (the lease holder)
  00351f90                              // UDP 53 -> 8080
  000c0000                              // UDP length 12, checksum (filled in)
  01020304                              // payload
`));

/** TCP SYN-ACK from 198.51.100.7 to 192.0.2.1. */
// deno-fmt-ignore
const TCP4 = fixChecksums(hex(`
  45000028   // version 4, IHL 5, TOS 0, total length 40
  00004000   // identification 0, DF
  39060000   // TTL 57, TCP, header checksum (filled in)
  c6336407   // source 198.51.100.7
  c0000201   // destination 192.0.2.1
  0050c000   // TCP 80 -> 49152
  55667788   // sequence number
  11223345   // acknowledgment number
  5012ffff   // data offset 5, SYN+ACK, window 65535
  00000000   // checksum (filled in), urgent pointer
`));

// deno-fmt-ignore
const TCP4_AS_6 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  00140638                              // payload length 20, TCP, hop limit 56
  0064ff9b 00000000 00000000 c6336407   // source 64:ff9b::198.51.100.7
  20010db8 00000000 00000000 00000001   // destination 2001:db8::1
  0050c000                              // TCP 80 -> 49152
  55667788                              // sequence number
  11223345                              // acknowledgment number
  5012ffff                              // data offset 5, SYN+ACK, window 65535
  00000000                              // checksum (filled in), urgent pointer
`));

/** ICMPv4 Echo Reply from 198.51.100.7 to 192.0.2.1. */
// deno-fmt-ignore
const ECHO4 = fixChecksums(hex(`
  45000024   // version 4, IHL 5, TOS 0, total length 36
  77770000   // identification 0x7777, flags 0
  40010000   // TTL 64, ICMP, header checksum (filled in)
  c6336407   // source 198.51.100.7
  c0000201   // destination 192.0.2.1
  00000000   // Echo Reply (0), code 0, checksum (filled in)
  abcd0001   // identifier, sequence
  61626364   // data
  65666768   // data
`));

// deno-fmt-ignore
const ECHO4_AS_6 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  00103a3f                              // payload length 16, ICMPv6, hop limit 63
  0064ff9b 00000000 00000000 c6336407   // source 64:ff9b::198.51.100.7
  20010db8 00000000 00000000 00000001   // destination 2001:db8::1
  81000000                              // Echo Reply (129), code 0, checksum (filled in)
  abcd0001                              // identifier, sequence
  61626364                              // data
  65666768                              // data
`));

// ---- helpers ---------------------------------------------------------------------------------

/** Runs one packet and returns the single packet it produced. */
function one(e: Engine, pkt: Uint8Array): Uint8Array {
  const { r, out } = run(e, pkt);
  assert.equal(r, 1, `one packet out (got ${r})`);
  assert.equal(out.length, 1);
  return out[0]!;
}

/**
 * Chooses the first two payload bytes of a UDP datagram so that its translated form sums to
 * 0xffff, i.e. its checksum computes to 0 (RFC 768: transmitted as all ones), translates it and
 * asserts that the output carries 0xffff, a valid checksum.
 * @param e the engine
 * @param input the UDP datagram before translation (IHL 5 / no extension headers)
 * @param translated `input` as it leaves the translator (its UDP checksum field is ignored)
 */
function assertComputedZeroSentAsOnes(
  e: Engine,
  input: Uint8Array,
  translated: Uint8Array,
): void {
  const v = translated[0]! >> 4;
  const udpOut = v === 4 ? 20 : 40;
  const udpIn = v === 4 ? 40 : 20;
  const expected = translated.slice();
  put16(expected, udpOut + 6, 0);
  put16(expected, udpOut + 8, 0);
  const knob = 0xffff - l4Residue(expected);
  put16(expected, udpOut + 8, knob);
  assert.equal(l4Residue(expected), 0xffff, `the IPv${v} checksum computes to 0`);
  const pkt = fixChecksums(patch(input, udpIn + 8, knob >> 8, knob & 0xff));
  const got = one(e, pkt);
  assert.equal(u16(got, udpOut + 6), 0xffff);
  assert.equal(l4ChecksumValid(got), true);
}

/**
 * For each `[name, good, at]`: spoils the checksum at offset `at` of the valid packet `good`,
 * translates it, and asserts that the output's checksum is wrong by the same amount.
 */
function assertWrongChecksumStaysWrong(
  e: Engine,
  cases: readonly (readonly [name: string, good: Uint8Array, at: number])[],
): void {
  for (const [name, good, at] of cases) {
    const bad = good.slice();
    put16(bad, at, (u16(bad, at) + 0x0101) % 0xffff);
    const got = one(e, bad);
    assert.equal(l4ChecksumValid(got), false, `${name}: still invalid`);
    assert.equal(l4Residue(got), l4Residue(bad), `${name}: by the same amount`);
  }
}

/** An expected IPv4 packet with the output's identification copied in and checksums set. */
function expect4(template: Uint8Array, got: Uint8Array): Uint8Array {
  return fixChecksums(patch(template, 4, got[4]!, got[5]!));
}

/** An engine in which 2001:db8::1 holds 192.0.2.1. */
function leasedEngine(toml = BASE_TOML): Engine {
  const e = engineFor(toml);
  assert.equal(u32(one(e, UDP6), 12), POOL1);
  return e;
}

/** A UDP datagram of `total` bytes from 2001:db8::1 to 198.51.100.7. */
function udp6Of(total: number): Uint8Array {
  return withData(UDP6, { dataBytes: total - 48, byteAt: (k) => ((48 + k) * 13) & 0xff });
}

/** A UDP datagram of `total` bytes from 198.51.100.7 to 192.0.2.1 (DF clear). */
function udp4Of(total: number): Uint8Array {
  const dfClear = patch(UDP4, 6, 0, 0);
  return withData(dfClear, { dataBytes: total - 28, byteAt: (k) => ((28 + k) * 11) & 0xff });
}

/** ICMPv6 Echo Request of `n` data bytes from 2001:db8::1 to 198.51.100.7. */
function echo6Of(n: number): Uint8Array {
  return withData(ECHO6, { dataBytes: n, byteAt: (k) => (k * 7 + 3) & 0xff });
}

/** ICMPv4 Echo Reply of `n` data bytes from 198.51.100.7 to 192.0.2.1 (DF clear). */
function echo4Of(n: number): Uint8Array {
  return withData(ECHO4, { dataBytes: n, byteAt: (k) => (k * 5 + 1) & 0xff });
}

// ---- 6→4 -------------------------------------------------------------------------------------

Deno.test("translate() turns IPv6 UDP into IPv4: TOS from traffic class, TTL - 1, lease source, checksum adjusted", () => {
  const e = engineFor();
  const got = one(e, UDP6);
  assert.equal(toHex(got), toHex(expect4(UDP6_AS_4, got)));
  assert.equal(e.ctx.counters[Stat.TRANSLATED_6TO4], 1);
});

Deno.test("translate() turns IPv6 TCP into IPv4 with the TCP checksum adjusted", () => {
  const e = engineFor();
  const got = one(e, TCP6);
  assert.equal(toHex(got), toHex(expect4(TCP6_AS_4, got)));
});

Deno.test("translate() turns ICMPv6 Echo Request into ICMPv4 Echo Request without the pseudo-header", () => {
  const e = engineFor();
  const got = one(e, ECHO6);
  assert.equal(toHex(got), toHex(expect4(ECHO6_AS_4, got)));
});

Deno.test("translate() gives IPv4 packets from IPv6 fresh identifications", () => {
  const e = engineFor();
  const ids = new Set<number>();
  for (let i = 0; i < 20; i++) ids.add(u16(one(e, UDP6), 4));
  assert.ok(ids.size >= 19, `identifications repeat: ${[...ids]}`);
});

Deno.test("translate() sets DF only when the IPv4 packet is over 1260 bytes (IPv6 1280 → DF 0, 1281 → DF 1)", () => {
  const e = engineFor();
  const small = one(e, udp6Of(1280));
  assert.equal(u16(small, 2), 1260);
  assert.equal(u16(small, 6), 0x0000, "1260 bytes: DF clear");
  const big = one(e, udp6Of(1281));
  assert.equal(u16(big, 2), 1261);
  assert.equal(u16(big, 6), 0x4000, "1261 bytes: DF set");
  for (const p of [small, big]) {
    assert.equal(ipv4HeaderChecksumValid(p), true);
    assert.equal(l4ChecksumValid(p), true);
  }
});

Deno.test("translate() takes the IPv4 identification from the low 16 bits of a Fragment header", () => {
  const e = engineFor();
  const whole = udp6Of(300);
  const [first, second] = fragment6(whole, [152], 0xdeadbeef);
  const a = one(e, first!);
  assert.equal(u16(a, 4), 0xbeef, "identification");
  assert.equal(u16(a, 6), 0x2000, "MF, offset 0, DF clear");
  assert.equal(u16(a, 2), 20 + 152);
  const b = one(e, second!);
  assert.equal(u16(b, 4), 0xbeef);
  assert.equal(u16(b, 6), 152 / 8, "offset 19 (152 bytes), MF clear");
  // Atomic fragment (offset 0, M 0): same identification rule, no MF.
  const [atomic] = fragment6(whole, [1000], 0x0102f00d);
  const c = one(e, atomic!);
  assert.equal(u16(c, 4), 0xf00d);
  assert.equal(u16(c, 6), 0);
  assert.equal(l4ChecksumValid(c), true);
});

Deno.test("translate() leaves the payload of a non-first IPv6 fragment untouched and the reassembled UDP valid", () => {
  const e = engineFor();
  const whole = udp6Of(1000);
  const frags = fragment6(whole, [400, 400], 0x1234);
  const outs = frags.map((f) => one(e, f));
  // Non-first fragments: bytes after the IP header are identical.
  for (const i of [1, 2]) {
    assert.equal(toHex(outs[i]!.subarray(20)), toHex(frags[i]!.subarray(48)), `fragment ${i}`);
    assert.equal(outs[i]![8], 63, "TTL decremented once");
    assert.equal(ipv4HeaderChecksumValid(outs[i]!), true);
  }
  const datagram = reassemble4(outs);
  assert.equal(l4ChecksumValid(datagram), true);
  assert.equal(toHex(datagram.subarray(28)), toHex(whole.subarray(48)), "payload");
});

Deno.test("translate() sends a computed IPv4 UDP checksum of 0 as 0xffff", () => {
  assertComputedZeroSentAsOnes(engineFor(), UDP6, UDP6_AS_4);
});

Deno.test("translate() keeps a wrong IPv6 UDP/TCP/ICMP checksum wrong by the same amount", () => {
  assertWrongChecksumStaysWrong(engineFor(), [
    ["UDP", UDP6, 46],
    ["TCP", TCP6, 56],
    ["ICMP", ECHO6, 42],
  ]);
});

Deno.test("translate() copies an unknown IPv6 protocol (SCTP) with its payload unchanged", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const sctp = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00108440                              // payload length 16, next header SCTP (132), HL 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    0b590b59                              // SCTP ports 2905 -> 2905
    00000000                              // verification tag
    1a2b3c4d                              // CRC32c (no pseudo-header: nothing to adjust)
    0e000004                              // ABORT chunk
  `);
  const got = one(e, sctp);
  assert.equal(got[9], 132, "protocol");
  assert.equal(u16(got, 2), 36);
  assert.equal(toHex(got.subarray(20)), toHex(sctp.subarray(40)));
  assert.equal(ipv4HeaderChecksumValid(got), true);
});

Deno.test("translate() never forwards Neighbor Discovery or MLD", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const ns = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00203aff                              // payload length 32, ICMPv6, hop limit 255
    fe800000 00000000 00000000 00000001   // source fe80::1
    ff020000 00000000 00000001 ffc63364   // destination ff02::1:ffc6:3364 (solicited-node)
    87000000                              // Neighbor Solicitation (135), checksum
    00000000                              // reserved
    0064ff9b 00000000 00000000 c6336407   // target 64:ff9b::198.51.100.7
    01010011 22334455                     // option: source link-layer address
  `));
  // deno-fmt-ignore
  const mld = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00183a01                              // payload length 24, ICMPv6, hop limit 1
    fe800000 00000000 00000000 00000001   // source fe80::1
    ff020000 00000000 00000000 00000001   // destination ff02::1
    82000000                              // MLD Query (130), checksum
    03e80000                              // maximum response delay, reserved
    00000000 00000000 00000000 00000000   // general query
  `));
  // deno-fmt-ignore
  const unicastRa = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00103aff                              // payload length 16, ICMPv6, hop limit 255
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    86000000                              // Router Advertisement (134), checksum
    40000708                              // cur hop limit 64, flags, router lifetime
    00000000                              // reachable time
    00000000                              // retrans timer
  `));
  for (const p of [ns, mld, unicastRa]) {
    const { r, out } = run(e, p);
    assert.ok(r < 0, `dropped (${r})`);
    assert.equal(out.length, 0);
  }
  assert.equal(e.ctx.counters[Drop.MULTICAST_DESTINATION], 2);
  assert.equal(e.ctx.counters[Drop.ICMP_SINGLE_HOP], 1);
});

// ---- 4→6 -------------------------------------------------------------------------------------

Deno.test("translate() turns IPv4 UDP into IPv6: traffic class from TOS, flow label 0, hop limit TTL - 1", () => {
  const e = leasedEngine();
  assert.equal(toHex(one(e, UDP4)), toHex(UDP4_AS_6));
  assert.equal(e.ctx.counters[Stat.TRANSLATED_4TO6], 1);
});

Deno.test("translate() turns IPv4 TCP into IPv6 with the TCP checksum adjusted", () => {
  const e = leasedEngine();
  assert.equal(toHex(one(e, TCP4)), toHex(TCP4_AS_6));
});

Deno.test("translate() turns ICMPv4 Echo Reply into ICMPv6 Echo Reply with the pseudo-header", () => {
  const e = leasedEngine();
  assert.equal(toHex(one(e, ECHO4)), toHex(ECHO4_AS_6));
});

Deno.test("translate() adds a Fragment header to IPv4 fragments and leaves later payload untouched", () => {
  const e = leasedEngine();
  const whole = udp4Of(600);
  const frags = fragment4(whole, [200, 200]);
  const outs = frags.map((f) => one(e, f));
  for (const [i, o] of outs.entries()) {
    const fo = u16(frags[i]!, 6);
    assert.equal(o[6], 44, "next header Fragment");
    assert.equal(u16(o, 4), 8 + u16(frags[i]!, 2) - 20, "payload length");
    assert.equal(o[7], 63, "hop limit");
    assert.equal(o[40], 17, "Fragment: next header UDP");
    assert.equal(o[41], 0, "reserved");
    assert.equal(u16(o, 42), ((fo & 0x1fff) << 3) | ((fo & 0x2000) !== 0 ? 1 : 0), "offset, M");
    assert.equal(u32(o, 44), 0x1234, "identification");
  }
  for (const i of [1, 2]) {
    assert.equal(toHex(outs[i]!.subarray(48)), toHex(frags[i]!.subarray(20)), `fragment ${i}`);
  }
  const datagram = reassemble6(outs);
  assert.equal(l4ChecksumValid(datagram), true);
  assert.equal(toHex(datagram.subarray(48)), toHex(whole.subarray(28)));
});

Deno.test("translate() sends a computed IPv6 UDP checksum of 0 as 0xffff", () => {
  assertComputedZeroSentAsOnes(leasedEngine(), UDP4, UDP4_AS_6);
});

Deno.test("translate() computes a zero IPv4 UDP checksum with AmendUDPChecksumZero, 0 as 0xffff", () => {
  const e = leasedEngine(BASE_TOML + "AmendUDPChecksumZero = true\n");
  const noSum = setIpv4HeaderChecksum(patch(UDP4, 26, 0, 0));
  const got = one(e, noSum);
  assert.equal(toHex(got), toHex(UDP4_AS_6));
  // The payload chosen so that the computed checksum is 0.
  const as6 = UDP4_AS_6.slice();
  put16(as6, 46, 0);
  put16(as6, 48, 0);
  const knob = 0xffff - l4Residue(as6);
  const in4 = setIpv4HeaderChecksum(patch(UDP4, 26, 0, 0, knob >> 8, knob & 0xff));
  const got0 = one(e, in4);
  assert.equal(u16(got0, 46), 0xffff);
  assert.equal(l4ChecksumValid(got0), true);
});

Deno.test("translate() keeps a wrong IPv4 UDP/TCP/ICMP checksum wrong by the same amount", () => {
  assertWrongChecksumStaysWrong(leasedEngine(), [
    ["UDP", UDP4, 26],
    ["TCP", TCP4, 36],
    ["ICMP", ECHO4, 22],
  ]);
});

Deno.test("translate() copies an unknown IPv4 protocol (DCCP) with its payload unchanged", () => {
  const e = leasedEngine();
  // deno-fmt-ignore
  const dccp = setIpv4HeaderChecksum(hex(`
    45000024   // version 4, IHL 5, TOS 0, total length 36
    00014000   // identification 1, DF
    40210000   // TTL 64, DCCP (33), header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    13881389   // DCCP ports 5000 -> 5001
    02001234   // data offset, CCVal/CsCov, checksum (left alone: RFC 7915 §4.5 makes DCCP optional)
    0a000000   // type Request, sequence number
    00000001   // service code
  `));
  const got = one(e, dccp);
  assert.equal(got[6], 33, "next header");
  assert.equal(u16(got, 4), 16);
  assert.equal(toHex(got.subarray(40)), toHex(dccp.subarray(20)));
});

// ---- leases, hairpin, the translator's own addresses -------------------------------------

Deno.test("translate() leases pool addresses first come, first served and maps replies back", () => {
  const e = engineFor();
  const fromH2 = fromHost6(UDP6, 2);
  assert.equal(u32(one(e, fromH2), 12), POOL1, "2001:db8::2 came first");
  assert.equal(u32(one(e, UDP6), 12), POOL2, "2001:db8::1 second");
  assert.equal(u32(one(e, fromH2), 12), POOL1, "the lease is kept");
  const toPool1 = one(e, UDP4);
  assert.equal(toHex(toPool1.subarray(24, 40)), toHex(fromH2.subarray(8, 24)));
  const toPool2 = one(e, fixChecksums(patch(UDP4, 19, 0x02)));
  assert.equal(toHex(toPool2.subarray(24, 40)), toHex(UDP6.subarray(8, 24)));
});

Deno.test("translate() leases no pool address for packets it drops as untranslatable", () => {
  const e = engineFor(); // two pool addresses
  // deno-fmt-ignore
  const icmp200 = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00083a40                              // payload length 8, ICMPv6, hop limit 64
    20010db8 00000000 00000000 00000005   // source 2001:db8::5
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    c8000000                              // ICMPv6 type 200, code 0, checksum (filled in)
    00000000                              // body
  `));
  const udpNoSum = patch(fromHost6(UDP6, 6), 46, 0, 0); // 2001:db8::6, UDP checksum 0
  const udpShort = patch(fromHost6(UDP6, 7), 4, 0, 4).subarray(0, 44); // 2001:db8::7, 4-byte UDP
  // RFC 6146 §3.5.1: state is created for packets that are translated; these are not, so
  // both pool addresses stay free for hosts whose traffic is.
  const cases = [
    [icmp200, Drop.ICMP_UNTRANSLATABLE],
    [udpNoSum, Drop.UDP_ZERO_CHECKSUM6],
    [udpShort, Drop.TRUNCATED_TRANSPORT],
  ] as const;
  for (const [pkt, reason] of cases) {
    assert.equal(run(e, pkt).r, -reason);
    assert.equal(e.table.size, 0, `no lease created by a packet dropped as ${reason}`);
  }
  assert.equal(u32(one(e, UDP6), 12), POOL1);
  assert.equal(u32(one(e, fromHost6(UDP6, 2)), 12), POOL2);
});

Deno.test("translate() drops IPv4 to a lease that expired as no_mapping, and keeps a refreshed one", () => {
  const e = engineFor(); // ReservationDuration = 300
  one(e, UDP6); // 2001:db8::1 → 192.0.2.1 at T0
  one(e, fromHost6(UDP6, 2)); // 2001:db8::2 → 192.0.2.2 at T0
  e.ctx.setClock(T0_MS + 200_000);
  one(e, fromHost6(UDP6, 2)); // refreshes 192.0.2.2
  e.ctx.setClock(T0_MS + 301_000);
  const { r, out } = run(e, UDP4);
  assert.equal(r, 1, "only the ICMP error");
  assert.equal(out[0]![0], 0x45);
  assert.equal(out[0]![20], 3, "Destination Unreachable");
  assert.equal(out[0]![21], 13, "administratively prohibited");
  assert.equal(e.ctx.counters[Drop.NO_MAPPING], 1);
  const alive = one(e, fixChecksums(patch(UDP4, 19, 0x02)));
  assert.equal(toHex(alive.subarray(24, 40)), toHex(fromHost6(UDP6, 2).subarray(8, 24)));
});

Deno.test("translate() hairpins IPv6 to another host's pool address back to IPv6", () => {
  const e = engineFor();
  one(e, UDP6); // 2001:db8::1 → 192.0.2.1
  one(e, fromHost6(UDP6, 2)); // 2001:db8::2 → 192.0.2.2
  // deno-fmt-ignore
  const toPool2 = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    000c1140                              // payload length 12, UDP, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c0000202   // destination 64:ff9b::192.0.2.2
    1f901f91                              // UDP 8080 -> 8081
    000c0000                              // UDP length 12, checksum (filled in)
    cafebabe                              // payload
  `));
  // deno-fmt-ignore
  const want = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    000c113f                              // payload length 12, UDP, hop limit 63 (once)
    0064ff9b 00000000 00000000 c0000201   // source 64:ff9b::192.0.2.1 (RFC 7757 §4.2)
    20010db8 00000000 00000000 00000002   // destination 2001:db8::2
    1f901f91                              // UDP 8080 -> 8081
    000c0000                              // UDP length 12, checksum (filled in)
    cafebabe                              // payload
  `));
  assert.equal(toHex(one(e, toPool2)), toHex(want));
  assert.equal(e.ctx.counters[Stat.HAIRPINNED], 1);
});

Deno.test("translate() answers an Echo Request to Address6 from Address6", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const ping = fixChecksums(hex(`
    60a00000                              // version 6, traffic class 0x0a, flow label 0
    000c3a40                              // payload length 12, ICMPv6, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c0000008   // destination Address6 64:ff9b::192.0.0.8
    80000000                              // Echo Request, checksum (filled in)
    12340007                              // identifier 0x1234, sequence 7
    70696e67                              // data "ping"
  `));
  // deno-fmt-ignore
  const want = fixChecksums(hex(`
    60a00000                              // version 6, traffic class 0x0a, flow label 0
    000c3a40                              // payload length 12, ICMPv6, hop limit 64
    0064ff9b 00000000 00000000 c0000008   // source Address6
    20010db8 00000000 00000000 00000001   // destination 2001:db8::1
    81000000                              // Echo Reply, checksum (filled in)
    12340007                              // identifier, sequence
    70696e67                              // data
  `));
  assert.equal(toHex(one(e, ping)), toHex(want));
  assert.equal(e.ctx.counters[Stat.ECHO_REPLIES], 1);
});

/** Echo Request from 2001:db8::1 to 64:ff9b::192.0.0.8, the prefix form of Address4. */
// deno-fmt-ignore
const PING_ADDRESS4_VIA_PREFIX = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  000c3a40                              // payload length 12, ICMPv6, hop limit 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c0000008   // destination 64:ff9b::192.0.0.8 (Address4)
  80000000                              // Echo Request, checksum (filled in)
  12340008                              // identifier 0x1234, sequence 8
  70696e67                              // data "ping"
`));

/** BASE_TOML with an Address6 that is not the prefix form of Address4. */
const SEPARATE_ADDRESS6 = BASE_TOML.replace(
  'Address4 = "192.0.0.8"',
  'Address4 = "192.0.0.8"\nAddress6 = "2001:db8:64::1"',
);

for (
  const [name, toml] of [
    [
      "translate() answers an Echo Request to the prefix form of Address4 from that address",
      SEPARATE_ADDRESS6,
    ],
    // 192.0.0.8 is non-global (RFC 6890), but it is the translator's own address.
    [
      "translate() answers the prefix form of Address4 even though the WKP refuses non-global addresses",
      SEPARATE_ADDRESS6.replace("AllowNonGlobalWithWKP = true", ""),
    ],
  ] as const
) {
  Deno.test(name, () => {
    // RFC 4443 §2.2(a): a reply to a unicast address comes from that same address.
    const got = one(engineFor(toml), PING_ADDRESS4_VIA_PREFIX);
    const ping = PING_ADDRESS4_VIA_PREFIX;
    assert.equal(got[40], 129, "Echo Reply");
    assert.equal(toHex(got.subarray(8, 24)), toHex(ping.subarray(24, 40)), "source");
    assert.equal(toHex(got.subarray(24, 40)), toHex(ping.subarray(8, 24)), "destination");
    assert.equal(l4ChecksumValid(got), true);
  });
}

Deno.test("translate() answers an Echo Request to Address4 from Address4", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const ping = fixChecksums(hex(`
    45000020   // version 4, IHL 5, TOS 0, total length 32
    abcd0000   // identification, flags
    38010000   // TTL 56, ICMP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000008   // destination Address4 192.0.0.8
    08000000   // Echo Request, checksum (filled in)
    43210001   // identifier 0x4321, sequence 1
    70696e67   // data "ping"
  `));
  const got = one(e, ping);
  // deno-fmt-ignore
  const want = fixChecksums(hex(`
    45000020   // version 4, IHL 5, TOS 0, total length 32
    00000000   // identification (from the output), flags 0
    40010000   // TTL 64, ICMP, header checksum (filled in)
    c0000008   // source Address4
    c6336407   // destination 198.51.100.7
    00000000   // Echo Reply, checksum (filled in)
    43210001   // identifier, sequence
    70696e67   // data
  `));
  assert.equal(toHex(got), toHex(fixChecksums(patch(want, 4, got[4]!, got[5]!))));
});

// ---- fragmented ICMP: reassembly and refragmentation ---------------------------------------

/** Feeds fragments in the given order; returns what the last one produced. */
function feed(e: Engine, frags: readonly Uint8Array[], order: readonly number[]): Uint8Array[] {
  let last: Uint8Array[] = [];
  for (const [n, i] of order.entries()) {
    const { r, out } = run(e, frags[i]!);
    if (n < order.length - 1) {
      assert.equal(r, -Drop.REASSEMBLY_HELD, `fragment ${i} held`);
      assert.equal(out.length, 0);
    } else {
      assert.equal(r, r < 0 ? r : out.length);
      assert.equal(out.length, r < 0 ? 0 : r);
      last = out;
    }
  }
  return last;
}

for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
  Deno.test(`translate() reassembles a 3000-byte ping from IPv6 fragments (order ${order}) into IPv4 fragments ≤ MTU4`, () => {
    const e = engineFor(BASE_TOML + "MTU4 = 1000\n");
    const ping = echo6Of(3000);
    const frags = fragment6(ping, [1232, 1232], 0x00c0ffee);
    const outs = feed(e, frags, order);
    assert.ok(outs.length >= 4, `${outs.length} IPv4 fragments`);
    for (const o of outs) {
      assert.ok(o.length <= 1000, `fragment of ${o.length} bytes`);
      assert.equal(ipv4HeaderChecksumValid(o), true);
      assert.equal(u16(o, 4), 0xffee, "identification from the Fragment header");
      assert.equal(o[8], 63);
    }
    const datagram = reassemble4(outs);
    assert.equal(datagram[9], 1, "ICMP");
    assert.equal(datagram[20], 8, "Echo Request");
    assert.equal(u32(datagram, 12), POOL1);
    assert.equal(l4ChecksumValid(datagram), true);
    assert.equal(
      toHex(datagram.subarray(24)),
      toHex(ping.subarray(44)),
      "identifier, sequence, data",
    );
    assert.equal(e.ctx.counters[Stat.REASSEMBLED], 1);
  });
}

Deno.test("translate() reassembles a 3000-byte ping from IPv4 fragments into IPv6 fragments ≤ min(LowestIPv6MTU, MTU6)", () => {
  const e = leasedEngine(BASE_TOML.replace("MTU = 1500", "MTU = 9000") + "LowestIPv6MTU = 1400\n");
  const ping = echo4Of(3000);
  const frags = fragment4(ping, [1480, 1480]);
  const outs = feed(e, frags, [1, 0, 2]);
  assert.equal(outs.length, 3);
  for (const o of outs) {
    assert.ok(o.length <= 1400, `fragment of ${o.length} bytes`);
    assert.equal(u32(o, 44), 0x7777, "Fragment identification from the IPv4 one");
    assert.equal(o[7], 63);
  }
  const datagram = reassemble6(outs);
  assert.equal(datagram[6], 58);
  assert.equal(datagram[40], 129, "Echo Reply");
  assert.equal(l4ChecksumValid(datagram), true);
  assert.equal(
    toHex(datagram.subarray(44)),
    toHex(ping.subarray(24)),
    "identifier, sequence, data",
  );
});

Deno.test("translate() sends IPv6 fragments no bigger than MTU6 when it is below LowestIPv6MTU", () => {
  const e = leasedEngine(BASE_TOML + "MTU6 = 1280\nLowestIPv6MTU = 1500\n");
  const outs = feed(e, fragment4(echo4Of(3000), [1480, 1480]), [0, 1, 2]);
  for (const o of outs) assert.ok(o.length <= 1280, `fragment of ${o.length} bytes`);
  assert.equal(l4ChecksumValid(reassemble6(outs)), true);
});

Deno.test("translate() produces nothing for a ping that never completes and counts it after the timeout", () => {
  const e = engineFor();
  const frags = fragment6(echo6Of(3000), [1232, 1232], 0x51);
  for (const i of [0, 2]) assert.equal(run(e, frags[i]!).r, -Drop.REASSEMBLY_HELD);
  e.ctx.setClock(T0_MS + 31_000);
  // The missing middle arrives too late: its datagram was discarded, so it starts a new one.
  const { r, out } = run(e, frags[1]!);
  assert.equal(r, -Drop.REASSEMBLY_HELD);
  assert.equal(out.length, 0);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_TIMEOUT], 1);
  assert.equal(e.ctx.counters[Stat.REASSEMBLED], 0);
});

Deno.test("translate() discards a datagram with overlapping or duplicate fragments", () => {
  for (const dup of [true, false]) {
    const e = engineFor();
    const ping = echo6Of(3000);
    const frags = fragment6(ping, [1232, 1232], 0x52);
    assert.equal(run(e, frags[0]!).r, -Drop.REASSEMBLY_HELD);
    const bad = dup ? frags[0]! : fragment6(ping, [1224, 1232], 0x52)[1]!;
    assert.equal(run(e, bad).r, -Drop.REASSEMBLY_OVERLAP);
    // What remains cannot complete the discarded datagram.
    assert.equal(run(e, frags[1]!).r, -Drop.REASSEMBLY_HELD);
    assert.equal(run(e, frags[2]!).r, -Drop.REASSEMBLY_HELD);
    assert.equal(e.ctx.counters[Stat.REASSEMBLED], 0);
  }
});

Deno.test("translate() sends nothing, not a partial datagram, when a ping needs more than 128 fragments", () => {
  // MTU4 68 leaves 48 bytes per IPv4 fragment: 8028 bytes would need 168 of them.
  const e = engineFor(BASE_TOML + "MTU4 = 68\n");
  const frags = fragment6(echo6Of(8000), Array(6).fill(1232), 0x53);
  const outs = feed(e, frags, frags.map((_, i) => i));
  assert.equal(outs.length, 0);
  assert.equal(e.ctx.counters[Drop.TOO_BIG_FOR_BUFFER], 1);
  assert.equal(e.ctx.counters[Stat.FRAGMENTS_CREATED], 0);
  // One that fits (3000 bytes: 63 fragments) still goes out whole.
  const small = fragment6(echo6Of(3000), [1232, 1232], 0x54);
  const got = feed(e, small, [0, 1, 2]);
  assert.equal(got.length, 63);
  assert.equal(l4ChecksumValid(reassemble4(got)), true);
});

Deno.test("translate() fragments IPv4 from a small IPv6 packet when MTU4 is smaller (DF clear)", () => {
  const e = engineFor(BASE_TOML + "MTU4 = 576\n");
  const whole = udp6Of(1000);
  const { r, out } = run(e, whole);
  assert.equal(r, 2);
  for (const o of out) {
    assert.ok(o.length <= 576, `fragment of ${o.length} bytes`);
    assert.equal(ipv4HeaderChecksumValid(o), true);
    assert.equal(u16(o, 6) & 0x4000, 0, "DF clear");
  }
  const datagram = reassemble4(out);
  assert.equal(l4ChecksumValid(datagram), true);
  assert.equal(toHex(datagram.subarray(28)), toHex(whole.subarray(48)));
});

Deno.test("translate() refragments IPv4 UDP fragments into IPv6 fragments ≤ LowestIPv6MTU that reassemble", () => {
  const e = leasedEngine();
  const whole = udp4Of(3000);
  const outs = fragment4(whole, [1480, 1480]).flatMap((f) => {
    const { r, out } = run(e, f);
    assert.equal(r, out.length);
    return out;
  });
  assert.ok(outs.length >= 3);
  for (const o of outs) {
    assert.ok(o.length <= 1280, `fragment of ${o.length} bytes`);
    assert.equal(u32(o, 44), 0x1234, "identification");
  }
  const datagram = reassemble6(outs);
  assert.equal(l4ChecksumValid(datagram), true);
  assert.equal(toHex(datagram.subarray(48)), toHex(whole.subarray(28)));
});

Deno.test("translate() drops IPv4 options other than an unexpired source route", () => {
  const e = leasedEngine();
  // deno-fmt-ignore
  const withOptions = fixChecksums(hex(`
    47280028   // version 4, IHL 7, TOS 0x28, total length 40
    12344000   // identification 0x1234, DF
    40110000   // TTL 64, UDP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    01070708   // NOP, Record Route: length 7, pointer 8 (one address recorded)
    c6336401   //   198.51.100.1
    00351f90   // UDP 53 -> 8080
    000c0000   // UDP length 12, checksum (filled in)
    01020304   // payload
  `));
  assert.equal(toHex(one(e, withOptions)), toHex(UDP4_AS_6));
});

// ---- ICMP errors about translated traffic --------------------------------------------------

Deno.test("translate() turns ICMPv4 Port Unreachable about a translated datagram into ICMPv6 quoting it as IPv6", () => {
  const e = engineFor();
  const sent = one(e, UDP6); // what 198.51.100.7 received, as IPv4
  // deno-fmt-ignore
  const head = hex(`
    45000000   // version 4, IHL 5, TOS 0, total length (filled in)
    43210000   // identification, flags
    40010000   // TTL 64, ICMP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    03030000   // Destination Unreachable, port (3), checksum (filled in)
    00000000   // unused
  `);
  const err4 = new Uint8Array(head.length + sent.length);
  err4.set(head);
  err4.set(sent, head.length);
  put16(err4, 2, err4.length);
  fixChecksums(err4);
  // deno-fmt-ignore
  const want = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    003c3a3f                              // payload length 60, ICMPv6, hop limit 63
    0064ff9b 00000000 00000000 c6336407   // source 64:ff9b::198.51.100.7
    20010db8 00000000 00000000 00000001   // destination 2001:db8::1
    01040000                              // Destination Unreachable, port (4), checksum (filled in)
    00000000                              // unused
    6b800000                              // quoted: version 6, traffic class 0xb8, flow label 0
    000c113f                              //   payload length 12, UDP, hop limit 63 (as quoted)
    20010db8 00000000 00000000 00000001   //   source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   //   destination 64:ff9b::198.51.100.7
    1f900035                              //   UDP 8080 -> 53
    000c0000                              //   UDP length 12, checksum (the original's, below)
    01020304                              //   payload
  `));
  put16(want, 48 + 46, u16(UDP6, 46));
  fixChecksums(want); // the outer ICMPv6 checksum covers the inner one just set
  assert.equal(toHex(one(e, err4)), toHex(want));
});

Deno.test("translate() turns ICMPv6 Port Unreachable from a leased host into ICMPv4 quoting the datagram as IPv4", () => {
  const e = engineFor();
  one(e, UDP6); // 2001:db8::1 → 192.0.2.1
  // deno-fmt-ignore
  const err6 = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    003c3a40                              // payload length 60, ICMPv6, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    01040000                              // Destination Unreachable, port (4), checksum (filled in)
    00000000                              // unused
    60000000                              // quoted: version 6, traffic class 0, flow label 0
    000c113f                              //   payload length 12, UDP, hop limit 63
    0064ff9b 00000000 00000000 c6336407   //   source 64:ff9b::198.51.100.7
    20010db8 00000000 00000000 00000001   //   destination 2001:db8::1
    00351f90                              //   UDP 53 -> 8080
    000c8416                              //   UDP length 12, checksum (valid for these addresses)
    01020304                              //   payload
  `));
  assert.equal(l4ChecksumValid(err6.subarray(48)), true, "the quoted datagram is valid");
  const got = one(e, err6);
  // deno-fmt-ignore
  const want = hex(`
    4500003c   // version 4, IHL 5, TOS 0, total length 60
    00000000   // identification (from the output), DF 0
    3f010000   // TTL 63, ICMP, header checksum (filled in)
    c0000201   // source 192.0.2.1 (the host's lease)
    c6336407   // destination 198.51.100.7
    03030000   // Destination Unreachable, port (3), checksum (filled in)
    00000000   // unused
    45000020   // quoted: version 4, IHL 5, TOS 0, total length 32
    00000000   //   identification 0, flags 0
    3f110000   //   TTL 63, UDP, header checksum (filled in)
    c6336407   //   source 198.51.100.7
    c0000201   //   destination 192.0.2.1
    00351f90   //   UDP 53 -> 8080
    000c0000   //   UDP length 12, checksum (filled in)
    01020304   //   payload
  `);
  const inner = setIpv4HeaderChecksum(fixChecksums(want.slice(28)));
  want.set(inner, 28);
  const full = fixChecksums(patch(want, 4, got[4]!, got[5]!));
  assert.equal(toHex(got), toHex(full));
});

Deno.test("translate() copies protocol 1 inside IPv6 and 58 inside IPv4 like any other protocol, payload untouched", () => {
  // RFC 7915 §4.1 and §5.1: only ICMPv4 (1) in IPv4 becomes 58, and only ICMPv6 (58) in IPv6
  // becomes 1; every other protocol number "MUST be copied", and §4.5/§5.5 forward every
  // transport protocol. Protocol 1 in an IPv6 header is not ICMPv6, so nothing about it is
  // translated: the bytes after the header, checksum included, leave as they came.
  const e = leasedEngine();
  // deno-fmt-ignore
  const icmp4In6 = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00080140                              // payload length 8, next header 1 (ICMPv4), HL 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    05001234                              // ICMPv4 Redirect (5), code 0, checksum 0x1234 (as is)
    c0000001                              // gateway 192.0.0.1
  `);
  // deno-fmt-ignore
  const icmp4In6As4 = hex(`
    4500001c   // version 4, IHL 5, TOS 0, total length 28
    00000000   // identification (from the output), DF 0 (28 <= 1260)
    3f010000   // TTL 63, protocol 1 copied, header checksum (filled in)
    c0000201   // source 192.0.2.1 (the lease)
    c6336407   // destination 198.51.100.7
    05001234   // the payload, byte for byte
    c0000001
  `);
  const got4 = one(e, icmp4In6);
  assert.equal(
    toHex(got4),
    toHex(setIpv4HeaderChecksum(patch(icmp4In6As4, 4, got4[4]!, got4[5]!))),
  );
  // deno-fmt-ignore
  const icmp6In4 = setIpv4HeaderChecksum(hex(`
    45000024   // version 4, IHL 5, TOS 0, total length 36
    00000000   // identification 0, flags 0
    403a0000   // TTL 64, protocol 58 (ICMPv6), header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    8700abcd   // ICMPv6 Neighbor Solicitation (135), checksum 0xabcd (as is)
    00000000   // reserved
    00000000   // target (first 8 bytes)
    00000000
  `));
  // deno-fmt-ignore
  const icmp6In4As6 = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00103a3f                              // payload length 16, next header 58 copied, HL 63
    0064ff9b 00000000 00000000 c6336407   // source 64:ff9b::198.51.100.7
    20010db8 00000000 00000000 00000001   // destination 2001:db8::1 (the lease holder)
    8700abcd                              // the payload, byte for byte
    00000000
    00000000
    00000000
  `);
  assert.equal(toHex(one(e, icmp6In4)), toHex(icmp6In4As6));
  assert.equal(e.ctx.counters[Drop.ICMP_UNTRANSLATABLE], 0);
  assert.equal(e.ctx.counters[Stat.TRANSLATED_6TO4], 2, "the lease packet and protocol 1");
  assert.equal(e.ctx.counters[Stat.TRANSLATED_4TO6], 1);
});
