/**
 * One behaviour test per drop reason of lib/xlat/drop.ts: a literal packet, the exact return
 * value of `translatePacket`, the counter, and — where the translator answers with an ICMP
 * error — that error checked field by field (type, code, source Address4/Address6, TTL 64,
 * quoted bytes, checksums via tests/_util/packets.ts, which does not use lib/).
 *
 * Checksums of the literals are filled in by tests/xlat/_build.ts (also independent of lib/);
 * the literals carry 0000 in those fields.
 */

import assert from "node:assert/strict";
import { INPUT_OFFSET, VNET_IN_OFFSET } from "../../lib/xlat/context.ts";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import { offloadInput } from "../../lib/xlat/offload.ts";
import { emittedPackets, translatePacket } from "../../lib/xlat/translate.ts";
import { hex, ipv4HeaderChecksumValid, l4ChecksumValid, toHex } from "../_util/packets.ts";
import {
  ADDRESS4,
  ADDRESS6,
  BASE_TOML,
  engineFor,
  fixChecksums,
  fragment4,
  fragment6,
  fromHost6,
  patch,
  PEER4,
  POOL1,
  put16,
  run,
  setIpv4HeaderChecksum,
  T0_MS,
  u16,
  u32,
  withData,
} from "./_build.ts";
import type { Engine } from "../../lib/xlat/settings.ts";
import { clatEngine } from "../clat/_clat.ts";

// ---- literal packets -------------------------------------------------------------------------

/** UDP from 2001:db8::1 to 64:ff9b::198.51.100.7. */
// deno-fmt-ignore
const UDP6 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  000c1140                              // payload length 12, next header UDP (17), hop limit 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  1f900035                              // UDP source port 8080, destination port 53
  000c0000                              // UDP length 12, checksum (filled in)
  01020304                              // payload
`));

/** UDP from 198.51.100.7 to the pool address 192.0.2.1 (the reply direction of UDP6). */
// deno-fmt-ignore
const UDP4 = fixChecksums(hex(`
  45000020   // version 4, IHL 5, TOS 0, total length 32
  12340000   // identification 0x1234, flags 0, fragment offset 0
  40110000   // TTL 64, protocol UDP (17), header checksum (filled in)
  c6336407   // source 198.51.100.7
  c0000201   // destination 192.0.2.1
  00351f90   // UDP source port 53, destination port 8080
  000c0000   // UDP length 12, checksum (filled in)
  01020304   // payload
`));

/** Makes 2001:db8::1 hold the lease 192.0.2.1, so that IPv4 packets to it are mapped. */
function lease(e: Engine): void {
  const { r, out } = run(e, UDP6);
  assert.equal(r, 1, "the lease-creating packet is translated");
  assert.equal(u32(out[0]!, 12), POOL1);
}

// ---- checks of the translator's own ICMP errors ------------------------------------------

const MAX_QUOTE6 = 1280 - 48; // RFC 4443 §2.4(c)
const MAX_QUOTE4 = 576 - 28; // RFC 1812 §4.3.2.3

function assertIcmp6Error(
  err: Uint8Array,
  offending: Uint8Array,
  want: { type: number; code: number; rest: number },
): void {
  assert.equal(u32(err, 0), 0x60000000, "version 6, traffic class 0, flow label 0");
  assert.equal(u16(err, 4) + 40, err.length, "payload length");
  assert.equal(err[6], 58, "next header ICMPv6");
  assert.equal(err[7], 64, "hop limit 64");
  assert.equal(toHex(err.subarray(8, 24)), toHex(ADDRESS6), "source is Address6");
  assert.equal(toHex(err.subarray(24, 40)), toHex(offending.subarray(8, 24)), "to the sender");
  assert.equal(err[40], want.type, "ICMPv6 type");
  assert.equal(err[41], want.code, "ICMPv6 code");
  assert.equal(u32(err, 44), want.rest, "ICMPv6 bytes 4-7 (pointer / MTU / unused)");
  const q = Math.min(offending.length, MAX_QUOTE6);
  assert.equal(toHex(err.subarray(48)), toHex(offending.subarray(0, q)), "quoted packet");
  assert.equal(l4ChecksumValid(err), true, "ICMPv6 checksum");
}

function assertIcmp4Error(
  err: Uint8Array,
  offending: Uint8Array,
  want: { type: number; code: number; rest: number },
): void {
  assert.equal(err[0], 0x45, "version 4, IHL 5");
  assert.equal(err[1], 0, "TOS 0");
  assert.equal(u16(err, 2), err.length, "total length");
  assert.equal(u16(err, 6), 0, "DF clear, not a fragment");
  assert.equal(err[8], 64, "TTL 64");
  assert.equal(err[9], 1, "protocol ICMP");
  assert.equal(u32(err, 12), ADDRESS4, "source is Address4");
  assert.equal(u32(err, 16), u32(offending, 12), "to the sender");
  assert.equal(ipv4HeaderChecksumValid(err), true, "header checksum");
  assert.equal(err[20], want.type, "ICMP type");
  assert.equal(err[21], want.code, "ICMP code");
  assert.equal(u32(err, 24), want.rest, "ICMP bytes 4-7");
  const q = Math.min(u16(offending, 2), MAX_QUOTE4);
  assert.equal(toHex(err.subarray(28)), toHex(offending.subarray(0, q)), "quoted packet");
  assert.equal(l4ChecksumValid(err), true, "ICMP checksum");
}

/** Reasons a test below has triggered; the last test checks that none is missing. */
const covered = new Set<number>();

/** Asserts a silent drop: return value -reason, counter 1, nothing emitted. */
function assertSilentDrop(e: Engine, pkt: Uint8Array, reason: number): void {
  const before = e.ctx.counters[reason]!;
  const { r, out } = run(e, pkt);
  assert.equal(r, -reason, `return value for ${reason}`);
  assert.equal(out.length, 0, "nothing emitted");
  assert.equal(e.ctx.counters[reason]! - before, 1, "counted once");
  covered.add(reason);
}

/** Asserts a drop answered with one ICMP error: return value 1, counter 1; returns the error. */
function dropWithError(e: Engine, pkt: Uint8Array, reason: number): Uint8Array {
  const before = e.ctx.counters[reason]!;
  const sent = e.ctx.counters[Stat.ICMP_ERRORS_SENT]!;
  const { r, out } = run(e, pkt);
  assert.equal(r, 1, "one packet (the error) emitted");
  assert.equal(out.length, 1);
  assert.equal(e.ctx.counters[reason]! - before, 1, "reason counted once");
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SENT]! - sent, 1, "icmp_errors_sent counted");
  covered.add(reason);
  return out[0]!;
}

// ---- header validation -----------------------------------------------------------------------

Deno.test("translate() drops an empty packet and a 20-byte IPv6 header as truncated", () => {
  const e = engineFor();
  assertSilentDrop(e, new Uint8Array(0), Drop.TRUNCATED);
  assertSilentDrop(e, UDP6.subarray(0, 20), Drop.TRUNCATED);
});

Deno.test("translate() drops packets shorter than their length fields as truncated", () => {
  const e = engineFor();
  lease(e);
  // IPv6 payload length 12 but only 8 payload bytes; IPv4 total length 32 but 28 bytes.
  assertSilentDrop(e, UDP6.subarray(0, 48), Drop.TRUNCATED);
  assertSilentDrop(e, UDP4.subarray(0, 28), Drop.TRUNCATED);
  assertSilentDrop(e, UDP4.subarray(0, 19), Drop.TRUNCATED);
});

Deno.test("translate() drops a packet of IP version 5 as bad_version", () => {
  const e = engineFor();
  assertSilentDrop(e, patch(UDP4, 0, 0x55), Drop.BAD_VERSION);
});

Deno.test("translate() drops IPv4 packet with IHL < 5 as bad_ihl", () => {
  const e = engineFor();
  lease(e);
  assertSilentDrop(e, setIpv4HeaderChecksum(patch(UDP4, 0, 0x44)), Drop.BAD_IHL);
});

Deno.test("translate() drops IPv4 packet whose total length is below its IHL as bad_ihl", () => {
  const e = engineFor();
  lease(e);
  const pkt = patch(UDP4, 2, 0x00, 0x10); // total length 16 < 20
  assertSilentDrop(e, setIpv4HeaderChecksum(pkt), Drop.BAD_IHL);
});

Deno.test("translate() drops IPv4 packet with a wrong header checksum as bad_header_checksum", () => {
  const e = engineFor();
  lease(e);
  const pkt = UDP4.slice();
  pkt[11] = pkt[11]! ^ 0x01;
  assertSilentDrop(e, pkt, Drop.BAD_HEADER_CHECKSUM);
});

Deno.test("translate() drops IPv6 with Hop-by-Hop after another header as bad_extension_header", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const pkt = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    001c3c40                              // payload length 28, next Destination Options (60), HL 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    00000104                              // Dest Opts: next Hop-by-Hop (0), len 0, PadN(4)
    00000000                              //   padding
    11000104                              // Hop-by-Hop: next UDP, len 0, PadN(4)
    00000000                              //   padding
    1f900035                              // UDP 8080 -> 53
    000c0000                              // UDP length 12, checksum (filled in)
    01020304                              // payload
  `));
  assertSilentDrop(e, pkt, Drop.BAD_EXTENSION_HEADER);
});

Deno.test("translate() drops IPv6 whose extension header overruns the payload as bad_extension_header", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const pkt = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00083c40                              // payload length 8, next Destination Options, HL 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    11010104                              // Dest Opts: next UDP, len 1 (16 bytes), PadN(4)
    00000000                              //   (the other 8 bytes are missing)
  `);
  assertSilentDrop(e, pkt, Drop.BAD_EXTENSION_HEADER);
});

Deno.test("translate() drops an IPv6 jumbogram as jumbogram", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const pkt = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00000040                              // payload length 0 (jumbo), next Hop-by-Hop, HL 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    1100c204                              // Hop-by-Hop: next UDP, len 0, Jumbo Payload option
    00000014                              //   jumbo payload length 20 (RFC 2675)
    1f900035                              // UDP 8080 -> 53
    000c0000                              // UDP length 12, checksum (not checked)
    01020304                              // payload
  `);
  assertSilentDrop(e, pkt, Drop.JUMBOGRAM);
});

// ---- addresses -------------------------------------------------------------------------------

Deno.test("translate() drops IPv6 from the loopback address as invalid_source", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const src = hex(`00000000 00000000 00000000 00000001`); // ::1
  const pkt = UDP6.slice();
  pkt.set(src, 8);
  assertSilentDrop(e, fixChecksums(pkt), Drop.INVALID_SOURCE);
});

Deno.test("translate() drops IPv4 from 127.0.0.1 as invalid_source", () => {
  const e = engineFor();
  lease(e);
  const pkt = UDP4.slice();
  pkt.set([127, 0, 0, 1], 12);
  assertSilentDrop(e, fixChecksums(pkt), Drop.INVALID_SOURCE);
});

Deno.test("translate() drops multicast destinations on both sides as multicast_destination", () => {
  const e = engineFor();
  lease(e);
  // deno-fmt-ignore
  const ff0e = hex(`ff0e0000 00000000 00000000 00000001`); // ff0e::1
  const to6 = UDP6.slice();
  to6.set(ff0e, 24);
  assertSilentDrop(e, fixChecksums(to6), Drop.MULTICAST_DESTINATION);
  // An IPv4 multicast group embedded in the prefix: 64:ff9b::224.0.0.251.
  assertSilentDrop(e, fixChecksums(patch(UDP6, 36, 224, 0, 0, 251)), Drop.MULTICAST_DESTINATION);
  assertSilentDrop(e, fixChecksums(patch(UDP4, 16, 224, 0, 0, 251)), Drop.MULTICAST_DESTINATION);
  assertSilentDrop(
    e,
    fixChecksums(patch(UDP4, 16, 255, 255, 255, 255)),
    Drop.MULTICAST_DESTINATION,
  );
});

Deno.test("translate() answers IPv6 outside the prefix with ICMPv6 1/1 as not_in_prefix", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const pkt = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    000c1140                              // payload length 12, next header UDP, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    20010db8 ffff0000 00000000 00000007   // destination 2001:db8:ffff::7 (not 64:ff9b::/96)
    1f900035                              // UDP 8080 -> 53
    000c0000                              // UDP length 12, checksum (filled in)
    01020304                              // payload
  `));
  const err = dropWithError(e, pkt, Drop.NOT_IN_PREFIX);
  assertIcmp6Error(err, pkt, { type: 1, code: 1, rest: 0 });
});

Deno.test("translate() answers a non-zero u-octet with ICMPv6 1/1 as nonzero_u_octet", () => {
  const e = engineFor(`
[Interface]
Prefix = "2001:db8:64::/64"
Pool = ["192.0.2.0/30"]
Address4 = "192.0.0.8"
Address6 = "64:ff9b::c000:8"
`);
  // deno-fmt-ignore
  const pkt = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    000c1140                              // payload length 12, next header UDP, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    20010db8 00640000 01c63364 07000000   // 2001:db8:64::/64, u-octet 0x01, 198.51.100.7
    1f900035                              // UDP 8080 -> 53
    000c0000                              // UDP length 12, checksum (filled in)
    01020304                              // payload
  `));
  const err = dropWithError(e, pkt, Drop.NONZERO_U_OCTET);
  assertIcmp6Error(err, pkt, { type: 1, code: 1, rest: 0 });
  // With a zero u-octet the same packet is translated to 198.51.100.7.
  const ok = fixChecksums(patch(pkt, 32, 0x00));
  const { r, out } = run(e, ok);
  assert.equal(r, 1);
  assert.equal(u32(out[0]!, 16), PEER4);
});

const WKP_DEFAULT_TOML = `
[Interface]
Pool = ["192.0.2.0/30"]
`;

Deno.test("translate() refuses 64:ff9b::198.51.100.7 by default with ICMPv6 1/1 as non_global_with_wkp", () => {
  const e = engineFor(WKP_DEFAULT_TOML);
  const err = dropWithError(e, UDP6, Drop.NON_GLOBAL_WITH_WKP);
  assertIcmp6Error(err, UDP6, { type: 1, code: 1, rest: 0 });
  // AllowNonGlobalWithWKP = true translates it (BASE_TOML).
  assert.equal(run(engineFor(BASE_TOML), UDP6).r, 1);
});

Deno.test("translate() refuses IPv4 from a non-global source by default with ICMPv4 3/13 as non_global_with_wkp", () => {
  const e = engineFor(WKP_DEFAULT_TOML);
  // A lease via a global destination, 8.8.8.8, which the Well-Known Prefix may stand for.
  const global6 = fixChecksums(patch(UDP6, 36, 8, 8, 8, 8));
  assert.equal(run(e, global6).r, 1);
  const err = dropWithError(e, UDP4, Drop.NON_GLOBAL_WITH_WKP);
  assertIcmp4Error(err, UDP4, { type: 3, code: 13, rest: 0 });
});

Deno.test("translate() answers IPv4 to an unleased pool address with ICMPv4 3/13 as no_mapping", () => {
  const e = engineFor();
  const err = dropWithError(e, UDP4, Drop.NO_MAPPING);
  assertIcmp4Error(err, UDP4, { type: 3, code: 13, rest: 0 });
});

Deno.test("translate() answers a third IPv6 host of a two-address pool with ICMPv6 1/3 as pool_exhausted", () => {
  const e = engineFor();
  assert.equal(run(e, UDP6).r, 1);
  assert.equal(run(e, fromHost6(UDP6, 2)).r, 1);
  const third = fromHost6(UDP6, 3);
  const err = dropWithError(e, third, Drop.POOL_EXHAUSTED);
  assertIcmp6Error(err, third, { type: 1, code: 3, rest: 0 });
});

/** Echo Request from 2001:db8::3, a host without a lease, to 64:ff9b::198.51.100.7. */
// deno-fmt-ignore
const ECHO6_FROM_3 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  000c3a40                              // payload length 12, next header ICMPv6, hop limit 64
  20010db8 00000000 00000000 00000003   // source 2001:db8::3
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  80000000                              // Echo Request (128), code 0, checksum (filled in)
  0a0b0001                              // identifier 0x0a0b, sequence 1
  70696e67                              // data "ping"
`));

/** An engine whose two pool addresses are leased to 2001:db8::1 and 2001:db8::2. */
function fullPool(toml = BASE_TOML): Engine {
  const e = engineFor(toml);
  assert.equal(run(e, UDP6).r, 1);
  assert.equal(run(e, fromHost6(UDP6, 2)).r, 1);
  assert.equal(e.table.size, 2);
  return e;
}

Deno.test("translate() answers an Echo Request that finds the pool full with ICMPv6 1/3 as pool_exhausted", () => {
  // RFC 6146 §3.5.3: an ICMP query that cannot get an IPv4 address SHOULD be answered with
  // Destination Unreachable code 3, as TCP (§3.5.2) and UDP (§3.5.1) are; the exemption of ICMP
  // packets in RFC 7915 §5.4 is about the translator's own policy errors.
  const e = fullPool();
  const err = dropWithError(e, ECHO6_FROM_3, Drop.POOL_EXHAUSTED);
  assertIcmp6Error(err, ECHO6_FROM_3, { type: 1, code: 3, rest: 0 });
  assert.equal(e.table.size, 2, "no lease");
});

Deno.test("translate() sends nothing about an ICMPv6 error from a host without a lease when the pool is full", () => {
  // RFC 4443 §2.4(e): no error about an error; RFC 6146 §3.5: an error never takes a lease.
  const e = fullPool();
  const sent = e.ctx.counters[Stat.ICMP_ERRORS_SENT]!;
  // From 2001:db8::3 about a packet to 2001:db8::3: nothing maps, nothing is sent.
  const unmapped = fixChecksums(patch(patch(PORT_UNREACH6, 23, 0x03), 87, 0x03));
  assertSilentDrop(e, unmapped, Drop.ICMP_INNER_UNMAPPED);
  // From 2001:db8::3 about a packet to 2001:db8::1: translated from Address4, and that is all.
  const { r, out } = run(e, fromHost6(PORT_UNREACH6, 3));
  assert.equal(r, 1);
  assert.equal(out.length, 1);
  assert.equal(out[0]![0]! >> 4, 4, "the translation, not an ICMPv6 error");
  assert.equal(u32(out[0]!, 12), ADDRESS4);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SENT], sent);
  assert.equal(e.ctx.counters[Drop.POOL_EXHAUSTED], 0);
  assert.equal(e.table.size, 2, "no lease");
});

Deno.test("translate() rate-limits the Address Unreachable answers to Echo Requests", () => {
  const e = fullPool(BASE_TOML + "ICMPErrorRate = 1\nICMPErrorBurst = 1\n");
  assert.equal(run(e, ECHO6_FROM_3).r, 1, "the bucket's one token");
  const again = run(e, fromHost6(ECHO6_FROM_3, 4));
  assert.equal(again.r, -Drop.POOL_EXHAUSTED, "no token left: silent");
  assert.equal(again.out.length, 0);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SENT], 1);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED], 1);
  e.ctx.setClock(T0_MS + 1000);
  assert.equal(run(e, fromHost6(ECHO6_FROM_3, 5)).r, 1, "a second later, one more");
  assert.equal(e.ctx.counters[Drop.POOL_EXHAUSTED], 3);
});

/** {@link BASE_TOML} with extra `[Rules]` keys (the abuse limits). */
function rulesToml(rules: string): string {
  return BASE_TOML.replace("ReservationDuration = 300", `ReservationDuration = 300\n${rules}`);
}

Deno.test("translate() answers a source outside AllowedSources with ICMPv6 1/1 as source_not_allowed", () => {
  const e = engineFor(rulesToml('AllowedSources = ["2001:db8::2/128"]'));
  const err = dropWithError(e, UDP6, Drop.SOURCE_NOT_ALLOWED);
  assertIcmp6Error(err, UDP6, { type: 1, code: 1, rest: 0 });
  assert.equal(e.table.size, 0, "no lease");
  assert.equal(run(e, fromHost6(UDP6, 2)).r, 1, "the allowed host is translated");
  // A query is answered too (as a full pool answers it), an ICMPv6 error never.
  const echo = fromHost6(ECHO6_FROM_3, 1);
  assertIcmp6Error(dropWithError(e, echo, Drop.SOURCE_NOT_ALLOWED), echo, {
    type: 1,
    code: 1,
    rest: 0,
  });
});

Deno.test("translate() answers the host over MaxLeasesPerPrefix with ICMPv6 1/1 as prefix_lease_limit", () => {
  const e = engineFor(rulesToml("MaxLeasesPerPrefix = 1\nLeasePrefixLength = 64"));
  assert.equal(run(e, UDP6).r, 1);
  const second = fromHost6(UDP6, 2);
  const err = dropWithError(e, second, Drop.PREFIX_LEASE_LIMIT);
  assertIcmp6Error(err, second, { type: 1, code: 1, rest: 0 });
  assert.equal(e.table.size, 1);
  assert.equal(run(e, UDP6).r, 1, "the first host keeps its lease");
});

Deno.test("translate() answers the new host over MaxNewLeasesPerSecond with ICMPv6 1/1 as lease_rate_limit", () => {
  const e = engineFor(rulesToml("MaxNewLeasesPerSecond = 1"));
  assert.equal(run(e, UDP6).r, 1);
  const second = fromHost6(UDP6, 2);
  const err = dropWithError(e, second, Drop.LEASE_RATE_LIMIT);
  assertIcmp6Error(err, second, { type: 1, code: 1, rest: 0 });
  e.ctx.setClock(T0_MS + 1000);
  assert.equal(run(e, second).r, 1, "a second later it gets its lease");
});

Deno.test("translate() rate-limits the answers to refused sources with ICMPErrorRate", () => {
  const e = engineFor(
    rulesToml("AllowedSources = []") + "ICMPErrorRate = 1\nICMPErrorBurst = 1\n",
  );
  assert.equal(run(e, UDP6).out.length, 1, "the bucket's one token");
  const again = run(e, fromHost6(UDP6, 2));
  assert.equal(again.r, -Drop.SOURCE_NOT_ALLOWED);
  assert.equal(again.out.length, 0);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED], 1);
  assert.equal(e.ctx.counters[Drop.SOURCE_NOT_ALLOWED], 2);
});

Deno.test("translate() drops IPv6 from a link-local source as source_not_translatable", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const ll = hex(`fe800000 00000000 00000000 00000001`); // fe80::1
  const pkt = UDP6.slice();
  pkt.set(ll, 8);
  assertSilentDrop(e, fixChecksums(pkt), Drop.SOURCE_NOT_TRANSLATABLE);
});

Deno.test("translate() drops IPv6 from an unmapped address inside the prefix as source_not_translatable", () => {
  const e = engineFor();
  const pkt = UDP6.slice();
  pkt.set(pkt.subarray(24, 40), 8); // source 64:ff9b::198.51.100.7 too
  pkt.set([203, 0, 113, 9], 36); // destination 64:ff9b::203.0.113.9
  assertSilentDrop(e, fixChecksums(pkt), Drop.SOURCE_NOT_TRANSLATABLE);
});

Deno.test("translate() drops UDP to Address6 and Address4 as to_self", () => {
  const e = engineFor();
  lease(e);
  const to6 = UDP6.slice();
  to6.set(ADDRESS6, 24);
  assertSilentDrop(e, fixChecksums(to6), Drop.TO_SELF);
  assertSilentDrop(e, fixChecksums(patch(UDP4, 16, 192, 0, 0, 8)), Drop.TO_SELF);
});

// ---- hop limit, MTU, routing -----------------------------------------------------------------

Deno.test("translate() answers IPv6 with hop limit 1 with ICMPv6 3/0 as hop_limit_exceeded", () => {
  const e = engineFor();
  const pkt = fixChecksums(patch(UDP6, 7, 1));
  const err = dropWithError(e, pkt, Drop.HOP_LIMIT_EXCEEDED);
  assertIcmp6Error(err, pkt, { type: 3, code: 0, rest: 0 });
});

Deno.test("translate() answers IPv4 with TTL 1 with ICMPv4 11/0 as hop_limit_exceeded", () => {
  const e = engineFor();
  lease(e);
  const pkt = fixChecksums(patch(UDP4, 8, 1));
  const err = dropWithError(e, pkt, Drop.HOP_LIMIT_EXCEEDED);
  assertIcmp4Error(err, pkt, { type: 11, code: 0, rest: 0 });
});

/** A UDP datagram of `total` bytes from 2001:db8::1 to 198.51.100.7 (hop limit 64). */
function bigUdp6(total: number): Uint8Array {
  return withData(UDP6, { dataBytes: total - 48, byteAt: (k) => (48 + k) & 0xff });
}

/** A UDP datagram of `total` bytes from 198.51.100.7 to 192.0.2.1 with DF set. */
function bigUdp4Df(total: number): Uint8Array {
  const df = patch(UDP4, 6, 0x40, 0);
  return withData(df, { dataBytes: total - 28, byteAt: (k) => (28 + k) & 0xff });
}

Deno.test("translate() answers IPv6 over MTU4 with ICMPv6 Packet Too Big as packet_too_big", () => {
  const e = engineFor(BASE_TOML + "MTU4 = 1300\n");
  const pkt = bigUdp6(1400); // becomes 1380 bytes of IPv4 with DF > 1300
  const err = dropWithError(e, pkt, Drop.PACKET_TOO_BIG);
  // RFC 7915 §5.1: the IPv6 MTU is the IPv4 one plus the 20 bytes the header grows by.
  assertIcmp6Error(err, pkt, { type: 2, code: 0, rest: 1320 });
});

Deno.test("translate() answers IPv4 with DF over MTU6 with ICMPv4 3/4 as packet_too_big", () => {
  const e = engineFor();
  lease(e);
  const pkt = bigUdp4Df(1500); // becomes 1520 bytes of IPv6 > 1500
  const err = dropWithError(e, pkt, Drop.PACKET_TOO_BIG);
  assertIcmp4Error(err, pkt, { type: 3, code: 4, rest: 1480 });
});

Deno.test("translate() answers a Routing header with segments left 1 with ICMPv6 4/0 as segments_left", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const pkt = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00242b40                              // payload length 36, next Routing (43), hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    11020201                              // Routing: next UDP, len 2, type 2, segments left 1
    00000000                              //   reserved
    0064ff9b 00000000 00000000 c6336407   //   home address (RFC 6275 §6.4)
    1f900035                              // UDP 8080 -> 53
    000c0000                              // UDP length 12, checksum (filled in)
    01020304                              // payload
  `));
  const err = dropWithError(e, pkt, Drop.SEGMENTS_LEFT);
  // RFC 7915 §5.1: Parameter Problem, code 0, pointing at the Segments Left field.
  assertIcmp6Error(err, pkt, { type: 4, code: 0, rest: 43 });
});

Deno.test("translate() answers an extension header after the Fragment header with ICMPv6 1/1 as header_after_fragment", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const pkt = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    001c2c40                              // payload length 28, next Fragment (44), hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    3c000000                              // Fragment: next Dest Opts, offset 0, M 0
    0000abcd                              //   identification 0xabcd
    11000104                              // Dest Opts: next UDP, len 0, PadN(4)
    00000000                              //   padding
    1f900035                              // UDP 8080 -> 53
    000c0000                              // UDP length 12, checksum (filled in)
    01020304                              // payload
  `));
  const err = dropWithError(e, pkt, Drop.HEADER_AFTER_FRAGMENT);
  assertIcmp6Error(err, pkt, { type: 1, code: 1, rest: 0 });
});

/** UDP4 with an IPv4 Loose Source Route option whose pointer is `ptr`. */
function lsrr(ptr: number): Uint8Array {
  // deno-fmt-ignore
  return fixChecksums(hex(`
    47000028   // version 4, IHL 7, TOS 0, total length 40
    12340000   // identification 0x1234, flags 0, fragment offset 0
    40110000   // TTL 64, protocol UDP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    8307${ptr.toString(16).padStart(2, "0")}c0   // LSRR: type 131, length 7, pointer, route[0] 192.
    00020900   //   0.2.9, then End of Options List
    00351f90   // UDP 53 -> 8080
    000c0000   // UDP length 12, checksum (filled in)
    01020304   // payload
  `));
}

Deno.test("translate() answers an unexpired IPv4 source route with ICMPv4 3/5 as source_route", () => {
  const e = engineFor();
  lease(e);
  const pkt = lsrr(4);
  const err = dropWithError(e, pkt, Drop.SOURCE_ROUTE);
  assertIcmp4Error(err, pkt, { type: 3, code: 5, rest: 0 });
  // An expired route (pointer past the option) is translated (RFC 7915 §4.1).
  const { r, out } = run(e, lsrr(8));
  assert.equal(r, 1);
  assert.equal(out[0]![0]! >> 4, 6);
});

// ---- transport -------------------------------------------------------------------------------

Deno.test("translate() answers IPv4 UDP with checksum 0 with ICMPv4 3/13 as udp_zero_checksum", () => {
  const e = engineFor();
  lease(e);
  const pkt = setIpv4HeaderChecksum(patch(UDP4, 26, 0, 0));
  const err = dropWithError(e, pkt, Drop.UDP_ZERO_CHECKSUM);
  assertIcmp4Error(err, pkt, { type: 3, code: 13, rest: 0 });
});

Deno.test("translate() drops an IPv4 UDP fragment with checksum 0 even with AmendUDPChecksumZero", () => {
  const e = engineFor(BASE_TOML + "AmendUDPChecksumZero = true\n");
  lease(e);
  const whole = setIpv4HeaderChecksum(patch(bigUdp4Df(100), 6, 0, 0));
  whole[26] = 0;
  whole[27] = 0;
  const [first] = fragment4(whole, [40]);
  const err = dropWithError(e, first!, Drop.UDP_ZERO_CHECKSUM);
  assertIcmp4Error(err, first!, { type: 3, code: 13, rest: 0 });
});

Deno.test("translate() drops IPv6 UDP with checksum 0 silently as udp_zero_checksum6", () => {
  const e = engineFor();
  assertSilentDrop(e, patch(UDP6, 46, 0, 0), Drop.UDP_ZERO_CHECKSUM6);
});

Deno.test("translate() drops a 4-byte UDP header as truncated_transport", () => {
  const e = engineFor();
  lease(e);
  // deno-fmt-ignore
  const pkt6 = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00041140                              // payload length 4, next header UDP, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    1f900035                              // UDP ports only
  `);
  assertSilentDrop(e, pkt6, Drop.TRUNCATED_TRANSPORT);
  // deno-fmt-ignore
  const pkt4 = setIpv4HeaderChecksum(hex(`
    45000018   // version 4, IHL 5, TOS 0, total length 24
    12340000   // identification, flags, offset
    40110000   // TTL 64, UDP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    00351f90   // UDP ports only
  `));
  assertSilentDrop(e, pkt4, Drop.TRUNCATED_TRANSPORT);
});

// ---- ICMP ------------------------------------------------------------------------------------

Deno.test("translate() drops ICMPv6 type 200 and ICMPv4 Timestamp as icmp_untranslatable", () => {
  const e = engineFor();
  lease(e);
  // deno-fmt-ignore
  const info6 = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00083a40                              // payload length 8, next header ICMPv6 (58), HL 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    c8000000                              // ICMPv6 type 200 (private experimentation), code 0
    00000000                              // body
  `));
  assertSilentDrop(e, info6, Drop.ICMP_UNTRANSLATABLE);
  // deno-fmt-ignore
  const ts4 = fixChecksums(hex(`
    45000028   // version 4, IHL 5, TOS 0, total length 40
    12340000   // identification, flags, offset
    40010000   // TTL 64, ICMP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    0d000000   // Timestamp (13), code 0, checksum (filled in)
    00010001   // identifier, sequence
    00000000   // originate timestamp
    00000000   // receive timestamp
    00000000   // transmit timestamp
  `));
  assertSilentDrop(e, ts4, Drop.ICMP_UNTRANSLATABLE);
});

Deno.test("translate() drops a unicast Neighbor Solicitation and an MLD query as icmp_single_hop", () => {
  const e = engineFor();
  // deno-fmt-ignore
  const ns = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00183aff                              // payload length 24, next header ICMPv6, HL 255
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    87000000                              // Neighbor Solicitation (135), code 0, checksum
    00000000                              // reserved
    0064ff9b 00000000 00000000 c6336407   // target address
  `));
  assertSilentDrop(e, ns, Drop.ICMP_SINGLE_HOP);
  // deno-fmt-ignore
  const mld = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00183a02                              // payload length 24, next header ICMPv6, hop limit 2
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    82000000                              // MLD Query (130), code 0, checksum
    03e80000                              // maximum response delay 1000, reserved
    00000000 00000000 00000000 00000000   // multicast address :: (general query)
  `));
  // (A real query has hop limit 1, which would be answered with Time Exceeded first.)
  assertSilentDrop(e, mld, Drop.ICMP_SINGLE_HOP);
});

/**
 * ICMPv6 Destination Unreachable (port) from 2001:db8::1 to 198.51.100.7, quoting the UDP
 * datagram 198.51.100.7 sent to it.
 */
// deno-fmt-ignore
const PORT_UNREACH6 = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  003c3a40                              // payload length 60, next header ICMPv6, hop limit 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  01040000                              // Destination Unreachable (1), port (4), checksum
  00000000                              // unused
  60000000                              // quoted: version 6
  000c113f                              //   payload length 12, UDP, hop limit 63
  0064ff9b 00000000 00000000 c6336407   //   source 64:ff9b::198.51.100.7
  20010db8 00000000 00000000 00000001   //   destination 2001:db8::1
  00351f90                              //   UDP 53 -> 8080
  000c0000                              //   UDP length 12, checksum (not checked in errors)
  01020304                              //   payload
`));

/** ICMPv4 Port Unreachable from 198.51.100.7 to 192.0.2.1 quoting `inner` (IPv4). */
function portUnreach4(inner: Uint8Array): Uint8Array {
  // deno-fmt-ignore
  const head = hex(`
    45000000   // version 4, IHL 5, TOS 0, total length (filled in)
    43210000   // identification 0x4321, flags 0, offset 0
    40010000   // TTL 64, ICMP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    03030000   // Destination Unreachable (3), port (3), checksum (filled in)
    00000000   // unused
  `);
  const pkt = new Uint8Array(head.length + inner.length);
  pkt.set(head);
  pkt.set(inner, head.length);
  put16(pkt, 2, pkt.length);
  return fixChecksums(pkt);
}

/** The UDP datagram 192.0.2.1 sent to 198.51.100.7 (what an ICMPv4 error would quote). */
// deno-fmt-ignore
const QUOTED_UDP4 = fixChecksums(hex(`
  45000020   // version 4, IHL 5, TOS 0, total length 32
  00010000   // identification 1, flags 0, offset 0
  3f110000   // TTL 63, UDP, header checksum (filled in)
  c0000201   // source 192.0.2.1
  c6336407   // destination 198.51.100.7
  1f900035   // UDP 8080 -> 53
  000c0000   // UDP length 12, checksum (filled in)
  01020304   // payload
`));

Deno.test("translate() drops ICMP errors with a wrong checksum as icmp_bad_checksum", () => {
  const e = engineFor();
  lease(e);
  // Sanity: the correct ones are translated.
  assert.equal(run(e, PORT_UNREACH6).r, 1);
  assert.equal(run(e, portUnreach4(QUOTED_UDP4)).r, 1);
  const bad6 = PORT_UNREACH6.slice();
  bad6[43] = bad6[43]! ^ 0x40;
  assertSilentDrop(e, bad6, Drop.ICMP_BAD_CHECKSUM);
  const bad4 = portUnreach4(QUOTED_UDP4);
  bad4[23] = bad4[23]! ^ 0x40;
  assertSilentDrop(e, bad4, Drop.ICMP_BAD_CHECKSUM);
});

Deno.test("translate() drops an ICMP error quoting an ICMP error as icmp_error_in_error", () => {
  const e = engineFor();
  lease(e);
  // deno-fmt-ignore
  const innerError = fixChecksums(hex(`
    4500001c   // quoted: version 4, IHL 5, total length 28
    00010000   //   identification 1
    3f010000   //   TTL 63, ICMP, header checksum (filled in)
    c0000201   //   source 192.0.2.1
    c6336407   //   destination 198.51.100.7
    03030000   //   Destination Unreachable (port), checksum (filled in)
    00000000   //   unused
  `));
  assertSilentDrop(e, portUnreach4(innerError), Drop.ICMP_ERROR_IN_ERROR);
  // deno-fmt-ignore
  const err6 = fixChecksums(hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00383a40                              // payload length 56, next header ICMPv6, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    01040000                              // Destination Unreachable (port), checksum
    00000000                              // unused
    60000000                              // quoted: version 6
    00083a3f                              //   payload length 8, ICMPv6, hop limit 63
    0064ff9b 00000000 00000000 c6336407   //   source 64:ff9b::198.51.100.7
    20010db8 00000000 00000000 00000001   //   destination 2001:db8::1
    03000000                              //   Time Exceeded (3), checksum (not checked)
    00000000                              //   unused
  `));
  assertSilentDrop(e, err6, Drop.ICMP_ERROR_IN_ERROR);
});

Deno.test("translate() drops an ICMP error whose quote is not a packet as icmp_bad_inner", () => {
  const e = engineFor();
  lease(e);
  // 12 bytes cannot hold an IPv4 header.
  assertSilentDrop(e, portUnreach4(QUOTED_UDP4.subarray(0, 12)), Drop.ICMP_BAD_INNER);
  // An ICMPv6 error quoting bytes of version 4.
  const v4Inside = PORT_UNREACH6.slice();
  v4Inside[48] = 0x45;
  assertSilentDrop(e, fixChecksums(v4Inside), Drop.ICMP_BAD_INNER);
});

Deno.test("translate() drops an ICMPv4 error about an unleased pool address as icmp_inner_unmapped", () => {
  const e = engineFor();
  lease(e);
  // The quoted datagram came from 192.0.2.2, which nobody leases.
  const inner = setIpv4HeaderChecksum(patch(QUOTED_UDP4, 15, 0x02));
  assertSilentDrop(e, portUnreach4(inner), Drop.ICMP_INNER_UNMAPPED);
  // An ICMPv6 error whose quoted packet went to a host without a lease (2001:db8::9).
  const err6 = fixChecksums(patch(PORT_UNREACH6, 87, 0x09));
  assertSilentDrop(e, err6, Drop.ICMP_INNER_UNMAPPED);
});

Deno.test("translate() drops IGMP as igmp", () => {
  const e = engineFor();
  lease(e);
  // deno-fmt-ignore
  const igmp = setIpv4HeaderChecksum(hex(`
    4500001c   // version 4, IHL 5, TOS 0, total length 28
    12340000   // identification, flags, offset
    40020000   // TTL 64, IGMP (2), header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1 (unicast report)
    16000000   // IGMPv2 Membership Report, checksum (not checked)
    e00000fb   // group 224.0.0.251
  `));
  assertSilentDrop(e, igmp, Drop.IGMP);
});

// ---- fragments -------------------------------------------------------------------------------

/** ICMPv6 Echo Request from 2001:db8::1 to 198.51.100.7 with `n` payload bytes. */
function echo6(n: number, id = 0x77): Uint8Array {
  // deno-fmt-ignore
  const head = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00003a40                              // payload length (filled in), ICMPv6, hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    80000000                              // Echo Request (128), code 0, checksum (filled in)
    00770001                              // identifier 0x77, sequence 1
  `);
  put16(head, 44, id);
  return withData(head, { dataBytes: n, byteAt: (k) => (k * 7) & 0xff });
}

Deno.test("translate() drops a fragment that ends past 65,535 bytes as bad_fragment", () => {
  const e = engineFor();
  lease(e);
  // deno-fmt-ignore
  const f6 = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00182c40                              // payload length 24, next Fragment (44), hop limit 64
    20010db8 00000000 00000000 00000001   // source 2001:db8::1
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    1100fff8                              // Fragment: next UDP, offset 65528, M 0
    00001111                              //   identification 0x1111
    00000000 00000000 00000000 00000000   // 16 bytes of data: ends at 65544
  `);
  assertSilentDrop(e, f6, Drop.BAD_FRAGMENT);
  // deno-fmt-ignore
  const f4 = setIpv4HeaderChecksum(hex(`
    45000024   // version 4, IHL 5, TOS 0, total length 36
    12341fff   // identification 0x1234, flags 0, fragment offset 8191 (65528 bytes)
    40110000   // TTL 64, UDP, header checksum (filled in)
    c6336407   // source 198.51.100.7
    c0000201   // destination 192.0.2.1
    00000000 00000000 00000000 00000000   // 16 bytes of data: ends at 65544
  `));
  assertSilentDrop(e, f4, Drop.BAD_FRAGMENT);
});

Deno.test("translate() drops a non-last ICMP fragment whose length is not a multiple of 8 as bad_fragment", () => {
  const e = engineFor();
  // Reassembly needs 8-byte blocks (RFC 8200 §4.5); a 1228-byte first fragment cannot be held.
  const [f] = fragment6(echo6(3000), [1228], 0x1112);
  assertSilentDrop(e, f!, Drop.BAD_FRAGMENT);
});

Deno.test("translate() holds the first fragment of an ICMP datagram as reassembly_held", () => {
  const e = engineFor();
  const [first] = fragment6(echo6(3000), [1232], 0x2222);
  assertSilentDrop(e, first!, Drop.REASSEMBLY_HELD);
});

Deno.test("translate() drops a fragment that would take its host over half the reassembly bytes as reassembly_full", () => {
  // A host may hold half of reassemblyMaxBytes (see reassembly_fair_test.ts): 1000 here.
  const e = engineFor(BASE_TOML, { reassemblyMaxBytes: 2000 });
  const [a] = fragment6(echo6(3000), [1232], 0x3333);
  assertSilentDrop(e, a!, Drop.REASSEMBLY_FULL);
  assert.equal(e.ctx.reassemblyHeldBytes, 0);
});

Deno.test("translate() discards an older datagram to start a new one when every slot is busy, counted as reassembly_evicted", () => {
  const e = engineFor(BASE_TOML, { reassemblySlots: 1 });
  const [a] = fragment6(echo6(3000), [1232], 0x3333);
  const b = fragment6(fromHost6(echo6(3000), 2), [1232, 1232], 0x4444);
  assertSilentDrop(e, a!, Drop.REASSEMBLY_HELD);
  // The fragment that evicts reports its own outcome; the eviction has its own counter.
  assertSilentDrop(e, b[0]!, Drop.REASSEMBLY_HELD);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_EVICTED], 1);
  assert.equal(e.ctx.reassemblyHeldBytes, 1232);
  assertSilentDrop(e, b[1]!, Drop.REASSEMBLY_HELD);
  assert.equal(run(e, b[2]!).r > 0, true, "the new datagram completes");
  covered.add(Drop.REASSEMBLY_EVICTED);
});

Deno.test("translate() drops overlapping fragments as reassembly_overlap", () => {
  const e = engineFor();
  const whole = echo6(3000);
  const [a] = fragment6(whole, [1232], 0x5555);
  // A second fragment starting at 1224, 8 bytes inside the first.
  const overlap = fragment6(whole, [1224, 1232], 0x5555)[1]!;
  assertSilentDrop(e, a!, Drop.REASSEMBLY_HELD);
  assertSilentDrop(e, overlap, Drop.REASSEMBLY_OVERLAP);
});

Deno.test("translate() counts a datagram that never completes as reassembly_timeout", () => {
  const e = engineFor();
  const [a] = fragment6(echo6(3000), [1232], 0x6666);
  assertSilentDrop(e, a!, Drop.REASSEMBLY_HELD);
  e.ctx.setClock(T0_MS + 29_000);
  const [b] = fragment6(echo6(3000, 0x78), [1232], 0x6667);
  assertSilentDrop(e, b!, Drop.REASSEMBLY_HELD);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_TIMEOUT], 0, "not yet");
  e.ctx.setClock(T0_MS + 31_000);
  // The timeout is noticed when the next fragment arrives; that call reports its own outcome.
  const [c] = fragment6(echo6(3000, 0x79), [1232], 0x6668);
  assertSilentDrop(e, c!, Drop.REASSEMBLY_HELD);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_TIMEOUT], 1);
  covered.add(Drop.REASSEMBLY_TIMEOUT);
});

Deno.test("translate() drops a packet larger than its input buffer as too_big_for_buffer", () => {
  const e = engineFor();
  const huge = new Uint8Array(65537);
  huge[0] = 0x60;
  assertSilentDrop(e, huge, Drop.TOO_BIG_FOR_BUFFER);
});

// ---- policy errors switched off, and the rate limit ------------------------------------------

Deno.test("translate() drops policy cases silently with SendDropErrors = false", () => {
  const e = engineFor(BASE_TOML + "SendDropErrors = false\n");
  const outside = UDP6.slice();
  outside.set([0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff], 24);
  assertSilentDrop(e, fixChecksums(outside), Drop.NOT_IN_PREFIX);
  assertSilentDrop(e, UDP4, Drop.NO_MAPPING);
  assert.equal(run(e, UDP6).r, 1);
  assert.equal(run(e, fromHost6(UDP6, 2)).r, 1);
  assertSilentDrop(e, fromHost6(UDP6, 3), Drop.POOL_EXHAUSTED);
  assertSilentDrop(e, setIpv4HeaderChecksum(patch(UDP4, 26, 0, 0)), Drop.UDP_ZERO_CHECKSUM);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SENT], 0);
  // Switched off by configuration, not suppressed by the rate limit.
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED], 0);
});

Deno.test("translate() still sends Time Exceeded with SendDropErrors = false (not a policy drop)", () => {
  const e = engineFor(BASE_TOML + "SendDropErrors = false\n");
  const pkt = fixChecksums(patch(UDP6, 7, 1));
  const err = dropWithError(e, pkt, Drop.HOP_LIMIT_EXCEEDED);
  assertIcmp6Error(err, pkt, { type: 3, code: 0, rest: 0 });
});

Deno.test("translate() sends a burst of ICMP errors, then suppresses them until tokens refill", () => {
  const e = engineFor(BASE_TOML + "ICMPErrorRate = 2\nICMPErrorBurst = 3\n");
  const pkt = fixChecksums(patch(UDP6, 7, 1));
  for (let i = 0; i < 3; i++) assert.equal(run(e, pkt).r, 1, `error ${i} of the burst`);
  for (let i = 0; i < 4; i++) assert.equal(run(e, pkt).r, -Drop.HOP_LIMIT_EXCEEDED);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SENT], 3);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED], 4);
  assert.equal(e.ctx.counters[Drop.HOP_LIMIT_EXCEEDED], 7);
  // Half a second at 2 per second buys one token.
  e.ctx.setClock(T0_MS + 500);
  assert.equal(run(e, pkt).r, 1);
  assert.equal(run(e, pkt).r, -Drop.HOP_LIMIT_EXCEEDED);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SENT], 4);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED], 5);
});

Deno.test("translate() sends no ICMP errors at all with ICMPErrorRate = 0", () => {
  const e = engineFor(BASE_TOML + "ICMPErrorRate = 0\n");
  const pkt = fixChecksums(patch(UDP6, 7, 1));
  assert.equal(run(e, pkt).r, -Drop.HOP_LIMIT_EXCEEDED);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SENT], 0);
  assert.equal(e.ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED], 1);
});

// ---- TUN offload ----------------------------------------------------------------------------

Deno.test("bad_virtio_header: a GSO header on a packet it cannot describe (TCPV4 on UDP/IPv6)", () => {
  // More cases in tests/xlat/offload_test.ts; the header comes with the packet from the TUN.
  const e = engineFor();
  const ctx = e.ctx;
  ctx.mem.set(UDP6, INPUT_OFFSET);
  // NEEDS_CSUM, gso_type TCPV4, hdr_len 48, gso_size 4, csum_start 40, csum_offset 6.
  ctx.mem.set(hex("01 01 3000 0400 2800 0600"), VNET_IN_OFFSET);
  assert.equal(offloadInput(ctx, UDP6.length), -Drop.BAD_VIRTIO_HEADER);
  assert.equal(ctx.counters[Drop.BAD_VIRTIO_HEADER], 1);
  assert.equal(ctx.emitted, 0);
  covered.add(Drop.BAD_VIRTIO_HEADER);
});

// ---- CLAT mode (more in tests/clat/engine_test.ts) --------------------------------------------

Deno.test("not_customer_source: a clat drops IPv4 from outside CustomerPool with ICMPv4 3/13", () => {
  const ctx = clatEngine();
  // 10.0.0.5 > 192.0.2.1, UDP; the CLAT's customers are 192.0.0.0/29.
  const pkt = fixChecksums(patch(UDP4, 12, 10, 0, 0, 5));
  assert.equal(translatePacket(ctx, pkt), 1);
  assert.equal(ctx.counters[Drop.NOT_CUSTOMER_SOURCE], 1);
  const err = emittedPackets(ctx)[0]!;
  assert.deepEqual([err[20], err[21]], [3, 13]);
  assert.equal(u32(err, 12), 0xc0000002, "from the CLAT's Address4");
  assert.equal(ipv4HeaderChecksumValid(err) && l4ChecksumValid(err), true);
  covered.add(Drop.NOT_CUSTOMER_SOURCE);
});

Deno.test("not_customer_destination: a clat drops IPv6 to an address of no customer with ICMPv6 1/1", () => {
  const ctx = clatEngine();
  // 2001:db8::1 > 64:ff9b::198.51.100.7 is no customer's address (they are 2001:db8:1:4646::/64).
  assert.equal(translatePacket(ctx, UDP6), 1);
  assert.equal(ctx.counters[Drop.NOT_CUSTOMER_DESTINATION], 1);
  const err = emittedPackets(ctx)[0]!;
  assert.deepEqual([err[40], err[41]], [1, 1]);
  assert.equal(l4ChecksumValid(err), true);
  covered.add(Drop.NOT_CUSTOMER_DESTINATION);
});

// ---- completeness ----------------------------------------------------------------------------

/**
 * Reasons no packet can trigger through `translatePacket` with the real lease table:
 * NO_MAPPING on the 6→4 side needs `v4For6(…, LEASE_ALLOCATE)` to return MAP_NONE, which
 * LeaseTable never does (it allocates or reports MAP_EXHAUSTED) — the 4→6 side is covered.
 */
const UNREACHABLE: number[] = [];

Deno.test("every drop reason in Drop has a test above", () => {
  const missing = Object.entries(Drop)
    .filter(([, v]) => !covered.has(v) && !UNREACHABLE.includes(v))
    .map(([k]) => k);
  assert.deepEqual(missing, []);
});
