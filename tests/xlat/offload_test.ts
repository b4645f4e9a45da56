/**
 * TUN offload in the engine and the packet loop (lib/xlat/offload.ts, lib/xlat/gso.ts,
 * lib/daemon/loop.ts over a fake device with `virtio_net_hdr`s): super-packets and partial
 * checksums translated whole, with the partial checksum compared to the pseudo-header sum
 * Linux itself would store for the translated packet (independent arithmetic from
 * tests/_util/packets.ts); software segmentation compared with the same data sent as separate
 * packets; and malformed headers dropped as `bad_virtio_header`.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/config.ts";
import { LOOP_IDLE, PacketLoop } from "../../lib/daemon/loop.ts";
import { SharedState } from "../../lib/daemon/shared.ts";
import { LeaseTable } from "../../lib/lease/table.ts";
import * as virtio from "../../lib/wire/virtio.ts";
import { INPUT_OFFSET, XlatContext } from "../../lib/xlat/context.ts";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import { gsoPrepare, gsoSegment } from "../../lib/xlat/gso.ts";
import { engineSettings, leaseTableOptions } from "../../lib/xlat/settings.ts";
import {
  addWords,
  fold,
  hex,
  ipv4HeaderChecksumValid,
  l4ChecksumValid,
  toHex,
} from "../_util/packets.ts";
import { FakeTun } from "../_util/fake_tun.ts";
import { BASE_TOML, fixChecksums, PEER4, POOL1, put16, put32, T0_MS, u16, u32 } from "./_build.ts";

const ID_SEED = 0x1234567;

/** A loop over a fake device; `vnetHeader` makes it a TUN with offload. */
function setUp(opts: { toml?: string; vnetHeader?: boolean } = {}) {
  const cfg = parseConfig(opts.toml ?? BASE_TOML);
  const shared = SharedState.create(1);
  shared.setNowMs(T0_MS);
  const table = LeaseTable.create(leaseTableOptions(cfg));
  const ctx = new XlatContext({
    settings: engineSettings(cfg),
    mapper: table,
    counters: shared.counterRow(0),
    idSeed: ID_SEED,
  });
  const dev = new FakeTun("fake0", 1500, { vnetHeader: opts.vnetHeader ?? true });
  return { ctx, dev, loop: new PacketLoop(dev, ctx, shared) };
}

/** A `virtio_net_hdr` as bytes (little-endian fields). */
function vnet(
  flags: number,
  type: number,
  hdrLen: number,
  gsoSize: number,
  start: number,
  offset: number,
): Uint8Array {
  const h = new Uint8Array(10);
  virtio.write(new DataView(h.buffer), 0, flags, type, hdrLen, gsoSize, start, offset);
  return h;
}

const NONE = vnet(0, 0, 0, 0, 0, 0);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function data(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

/** IPv6 header from 2001:db8::1 to 64:ff9b::198.51.100.7. */
// deno-fmt-ignore
const IP6 = hex(`
  60000000 00000640                       // version 6; payload length, next header, hop limit (set below)
  20010db8 00000000 00000000 00000001     // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407     // destination 64:ff9b::198.51.100.7
`);

/** IPv4 header from 198.51.100.7 to the pool address 192.0.2.1. */
// deno-fmt-ignore
const IP4 = hex(`
  45000000 43210000 40000000              // total length, ID 0x4321, TTL 64 (set below)
  c6336407 c0000201                       // 198.51.100.7 → 192.0.2.1
`);

/** TCP header 8080 → 80, seq 0x01020304, ack 0x0a0b0c0d, data offset 5, window 0xffff. */
// deno-fmt-ignore
const TCP = hex(`
  1f900050 01020304 0a0b0c0d 5018ffff 00000000   // flags ACK|PSH (set below)
`);

/** UDP header 8080 → 53. */
const UDP = hex(`1f900035 00000000`);

/** The folded pseudo-header sum Linux stores as a partial checksum, for `pkt` as it is. */
function linuxPartial(pkt: Uint8Array): number {
  const four = pkt[0]! >> 4 === 4;
  const l4 = four ? (pkt[0]! & 0xf) * 4 : 40;
  const proto = four ? pkt[9]! : pkt[6]!;
  const addrs = four ? addWords(pkt, 12, 20, 0) : addWords(pkt, 8, 40, 0);
  return fold(addrs + (pkt.length - l4) + proto);
}

/**
 * A TCP or UDP packet over IPv6 or IPv4 with `payload`, its lengths set and its transport
 * checksum either complete or partial (as Linux hands over a NEEDS_CSUM packet).
 */
function packet(
  opts: { v: 4 | 6; proto: 6 | 17; payload: Uint8Array; partial: boolean; tcpFlags?: number },
): Uint8Array {
  const ip = (opts.v === 6 ? IP6 : IP4).slice();
  const l4 = (opts.proto === 6 ? TCP : UDP).slice();
  if (opts.proto === 6 && opts.tcpFlags !== undefined) l4[13] = opts.tcpFlags;
  const pkt = concat(ip, l4, opts.payload);
  if (opts.v === 6) {
    put16(pkt, 4, pkt.length - 40);
    pkt[6] = opts.proto;
  } else {
    put16(pkt, 2, pkt.length);
    pkt[9] = opts.proto;
  }
  const l4Off = ip.length;
  if (opts.proto === 17) put16(pkt, l4Off + 4, pkt.length - l4Off);
  fixChecksums(pkt);
  if (opts.partial) put16(pkt, l4Off + (opts.proto === 6 ? 16 : 6), linuxPartial(pkt));
  return pkt;
}

/** Completes the partial checksum of an output packet (independently of lib/). */
function completed(pkt: Uint8Array, start: number, offset: number): Uint8Array {
  const out = pkt.slice();
  const cs = 0xffff - fold(addWords(out, start, out.length, 0));
  put16(out, start + offset, cs === 0 ? 0xffff : cs);
  return out;
}

/** Gives 2001:db8::1 its lease (192.0.2.1) with an ordinary UDP packet. */
function lease(dev: FakeTun, loop: PacketLoop): void {
  dev.inject(concat(NONE, packet({ v: 6, proto: 17, payload: data(4), partial: false })));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(u32(dev.written[0]!, 12), POOL1);
  dev.written.length = 0;
  dev.writtenHeaders.length = 0;
}

Deno.test("a TCP/IPv6 super-packet (TSO6) is translated whole into a TCP/IPv4 one (TSO4)", () => {
  const { ctx, dev, loop } = setUp();
  const payload = data(3500);
  const pkt = packet({ v: 6, proto: 6, payload, partial: true });
  dev.inject(concat(vnet(1, virtio.GSO_TCPV6, 60, 1000, 40, 16), pkt));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(dev.written.length, 1);
  const out = dev.written[0]!;
  // NEEDS_CSUM, TCPV4, hdr_len 40, gso_size 1000, csum_start 20, csum_offset 16.
  assert.equal(toHex(dev.writtenHeaders[0]!), "0101" + "2800" + "e803" + "1400" + "1000");
  assert.equal(out.length, 20 + 20 + 3500);
  assert.equal(u16(out, 2), out.length, "total length of the super-packet");
  assert.equal(u16(out, 6), 0, "DF clear: each 1040-byte segment is under 1260 (RFC 7915 §5.1)");
  assert.equal(out[8], 63);
  assert.equal(out[9], 6);
  assert.equal(u32(out, 12), POOL1);
  assert.equal(u32(out, 16), PEER4);
  assert.ok(ipv4HeaderChecksumValid(out));
  // The partial checksum is what Linux stores for this TCP/IPv4 super-packet.
  assert.equal(u16(out, 36), linuxPartial(out));
  assert.equal(toHex(out.subarray(20, 36)), toHex(pkt.subarray(40, 56)), "ports, seq, ack, flags");
  assert.equal(toHex(out.subarray(40)), toHex(payload));
  assert.equal(l4ChecksumValid(completed(out, 20, 16)), true);
  assert.equal(ctx.counters[Stat.GSO_TRANSLATED], 1);
  assert.equal(ctx.counters[Stat.GSO_SEGMENTED], 0);
});

Deno.test("a TCP/IPv4 super-packet with ECN (TSO4|ECN) is translated whole into TSO6|ECN", () => {
  const { ctx, dev, loop } = setUp();
  lease(dev, loop);
  const payload = data(5000, 3);
  const pkt = packet({ v: 4, proto: 6, payload, partial: true, tcpFlags: 0x98 }); // CWR|ACK|PSH
  put16(pkt, 6, 0x4000); // DF
  put16(pkt, 10, 0);
  fixIpv4Header(pkt);
  dev.inject(concat(vnet(1, virtio.GSO_TCPV4 | virtio.GSO_ECN, 40, 1440, 20, 16), pkt));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(dev.written.length, 1);
  const out = dev.written[0]!;
  assert.equal(toHex(dev.writtenHeaders[0]!), "0184" + "3c00" + "a005" + "2800" + "1000");
  assert.equal(out.length, 40 + 20 + 5000);
  assert.equal(u16(out, 4), 20 + 5000);
  assert.equal(out[6], 6);
  assert.equal(out[7], 63);
  assert.equal(u16(out, 40 + 16), linuxPartial(out));
  assert.equal(out[40 + 13], 0x98, "flags untouched: the kernel's GSO applies CWR/PSH rules");
  assert.equal(toHex(out.subarray(60)), toHex(payload));
  assert.equal(l4ChecksumValid(completed(out, 40, 16)), true);
  assert.equal(ctx.counters[Stat.GSO_TRANSLATED], 1);
});

Deno.test("UDP super-packets (USO) keep GSO UDP_L4 both ways with the partial checksum adjusted", () => {
  const { ctx, dev, loop } = setUp();
  lease(dev, loop);
  const six = packet({ v: 6, proto: 17, payload: data(8000, 5), partial: true });
  const four = packet({ v: 4, proto: 17, payload: data(8000, 6), partial: true });
  dev.inject(
    concat(vnet(1, virtio.GSO_UDP_L4, 48, 1000, 40, 6), six),
    concat(vnet(1, virtio.GSO_UDP_L4, 28, 1000, 20, 6), four),
  );
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(dev.written.length, 2);
  const [o4, o6] = dev.written as [Uint8Array, Uint8Array];
  assert.equal(toHex(dev.writtenHeaders[0]!), "0105" + "1c00" + "e803" + "1400" + "0600");
  assert.equal(toHex(dev.writtenHeaders[1]!), "0105" + "3000" + "e803" + "2800" + "0600");
  assert.equal(u16(o4, 26), linuxPartial(o4));
  assert.equal(u16(o6, 46), linuxPartial(o6));
  assert.equal(u16(o4, 24), 8008, "UDP length of the super-packet, as Linux leaves it");
  assert.equal(l4ChecksumValid(completed(o4, 20, 6)), true);
  assert.equal(l4ChecksumValid(completed(o6, 40, 6)), true);
  assert.equal(ctx.counters[Stat.GSO_TRANSLATED], 2);
});

Deno.test("an ordinary packet with a partial checksum is translated with it (partial_translated)", () => {
  const { ctx, dev, loop } = setUp();
  const pkt = packet({ v: 6, proto: 6, payload: data(100), partial: true });
  dev.inject(concat(vnet(1, 0, 0, 0, 40, 16), pkt));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  const out = dev.written[0]!;
  assert.equal(toHex(dev.writtenHeaders[0]!), "0100" + "2800" + "0000" + "1400" + "1000");
  assert.equal(u16(out, 36), linuxPartial(out));
  assert.equal(ctx.counters[Stat.PARTIAL_TRANSLATED], 1);
  assert.equal(ctx.counters[Stat.CHECKSUM_COMPLETED], 0);
});

Deno.test("with offload, ordinary packets still go out with an all-zero virtio_net_hdr", () => {
  const { dev, loop } = setUp();
  const pkt = packet({ v: 6, proto: 17, payload: data(10), partial: false });
  dev.inject(concat(NONE, pkt));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  const plain = setUp({ vnetHeader: false });
  plain.dev.inject(pkt);
  assert.equal(plain.loop.run(Infinity), LOOP_IDLE);
  assert.equal(toHex(dev.writtenHeaders[0]!), toHex(NONE));
  assert.equal(toHex(dev.written[0]!), toHex(plain.dev.written[0]!));
});

Deno.test("a partial checksum that cannot be kept (extension header) is completed first", () => {
  const { ctx, dev, loop } = setUp();
  const base = packet({ v: 6, proto: 17, payload: data(20), partial: false });
  // Insert an 8-byte Destination Options header (PadN) before UDP.
  const pkt = concat(base.subarray(0, 40), hex("11000104 00000000"), base.subarray(40));
  pkt[6] = 60;
  put16(pkt, 4, pkt.length - 40);
  fixChecksums(pkt);
  const want = pkt.slice();
  const l4Len = pkt.length - 48;
  put16(pkt, 48 + 6, fold(addWords(pkt, 8, 40, 0) + l4Len + 17));
  dev.inject(concat(vnet(1, 0, 0, 0, 48, 6), pkt));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(ctx.counters[Stat.CHECKSUM_COMPLETED], 1);
  assert.equal(toHex(dev.writtenHeaders[0]!), toHex(NONE));
  const plain = setUp({ vnetHeader: false });
  plain.dev.inject(want);
  assert.equal(plain.loop.run(Infinity), LOOP_IDLE);
  assert.equal(toHex(dev.written[0]!), toHex(plain.dev.written[0]!));
  assert.equal(l4ChecksumValid(dev.written[0]!), true);
});

/** Sets the IPv4 header checksum of `pkt` independently of lib/. */
function fixIpv4Header(pkt: Uint8Array): void {
  put16(pkt, 10, 0);
  put16(pkt, 10, 0xffff - fold(addWords(pkt, 0, (pkt[0]! & 0xf) * 4, 0)));
}

/**
 * The segments Linux's GSO makes of a super-packet, built by the test: headers copied,
 * lengths, IPv4 ID + i, TCP sequence + offset, FIN/PSH on the last only, CWR on the first
 * only, complete checksums.
 */
function segmentsOf(pkt: Uint8Array, l4Off: number, proto: number, size: number): Uint8Array[] {
  const hdr = l4Off + (proto === 6 ? (pkt[l4Off + 12]! >> 4) * 4 : 8);
  const out: Uint8Array[] = [];
  const payload = pkt.length - hdr;
  const n = Math.ceil(payload / size);
  for (let i = 0; i < n; i++) {
    const part = pkt.subarray(hdr + i * size, hdr + Math.min(payload, (i + 1) * size));
    const seg = concat(pkt.subarray(0, hdr), part);
    if (seg[0]! >> 4 === 4) {
      put16(seg, 2, seg.length);
      put16(seg, 4, (u16(pkt, 4) + i) & 0xffff);
    } else {
      put16(seg, 4, seg.length - 40);
    }
    if (proto === 6) {
      put32(seg, l4Off + 4, (u32(pkt, l4Off + 4) + i * size) >>> 0);
      if (i < n - 1) seg[l4Off + 13]! &= ~0x09;
      if (i > 0) seg[l4Off + 13]! &= ~0x80;
    } else {
      put16(seg, l4Off + 4, seg.length - l4Off);
    }
    out.push(fixChecksums(seg));
  }
  return out;
}

Deno.test("gsoSegment() cuts TCP/IPv4 and UDP/IPv6 super-packets as Linux's GSO does", () => {
  const { ctx } = setUp();
  const cases = [
    { pkt: packet({ v: 4, proto: 6, payload: data(4000), partial: true, tcpFlags: 0x99 }), l4: 20 },
    { pkt: packet({ v: 6, proto: 17, payload: data(2500), partial: true }), l4: 40 },
  ];
  for (const { pkt, l4 } of cases) {
    const proto = pkt[0]! >> 4 === 4 ? pkt[9]! : pkt[6]!;
    const want = segmentsOf(pkt, l4, proto, 1400);
    ctx.mem.set(pkt, INPUT_OFFSET);
    const n = gsoPrepare(ctx, pkt.length, l4, l4 + (proto === 6 ? 20 : 8), proto, 1400);
    assert.equal(n, want.length);
    for (let i = 0; i < n; i++) {
      const len = gsoSegment(ctx, i);
      const got = ctx.mem.slice(INPUT_OFFSET, INPUT_OFFSET + len);
      assert.equal(toHex(got), toHex(want[i]!), `segment ${i}`);
      assert.equal(l4ChecksumValid(got), true);
    }
  }
  // The TCP flags: CWR only on the first, FIN and PSH only on the last.
  const flags = segmentsOf(cases[0]!.pkt, 20, 6, 1400).map((s) => s[33]);
  assert.deepEqual(flags, [0x90, 0x10, 0x19]);
});

Deno.test("a super-packet whose segments exceed MTU4 is segmented: the same as its segments sent alone", () => {
  const toml = BASE_TOML + "MTU4 = 1400\n";
  const { ctx, dev, loop } = setUp({ toml });
  const pkt = packet({ v: 6, proto: 6, payload: data(3500), partial: true, tcpFlags: 0x19 });
  dev.inject(concat(vnet(1, virtio.GSO_TCPV6, 60, 1440, 40, 16), pkt));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  const plain = setUp({ toml, vnetHeader: false });
  plain.dev.inject(...segmentsOf(pkt, 40, 6, 1440));
  assert.equal(plain.loop.run(Infinity), LOOP_IDLE);
  // Two 1500-byte segments get Packet Too Big (MTU 1420), the 680-byte last one is translated.
  assert.equal(dev.written.length, 3);
  assert.deepEqual(dev.written.map(toHex), plain.dev.written.map(toHex));
  assert.deepEqual(dev.writtenHeaders.map(toHex), [toHex(NONE), toHex(NONE), toHex(NONE)]);
  assert.equal(dev.written[0]![40], 2, "ICMPv6 Packet Too Big");
  assert.equal(u32(dev.written[0]!, 44), 1420);
  assert.equal(ctx.counters[Stat.GSO_SEGMENTED], 1);
  assert.equal(ctx.counters[Drop.PACKET_TOO_BIG], 2);
  assert.equal(ctx.counters[Stat.GSO_TRANSLATED], 0);
});

Deno.test("a super-packet at hop limit 1 is segmented: one Time Exceeded per segment", () => {
  const { ctx, dev, loop } = setUp();
  const pkt = packet({ v: 6, proto: 6, payload: data(3000), partial: true });
  pkt[7] = 1;
  dev.inject(concat(vnet(1, virtio.GSO_TCPV6, 60, 1000, 40, 16), pkt));
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(ctx.counters[Stat.GSO_SEGMENTED], 1);
  assert.equal(ctx.counters[Drop.HOP_LIMIT_EXCEEDED], 3);
  assert.equal(dev.written.length, 3);
  for (const e of dev.written) {
    assert.equal(e[40], 3, "ICMPv6 Time Exceeded");
    assert.equal(u16(e, 48 + 4), 20 + 1000, "quotes a 1000-byte segment, not the super-packet");
  }
});

Deno.test("malformed virtio_net_hdrs are dropped as bad_virtio_header", () => {
  const { ctx, dev, loop } = setUp();
  const tcp6 = packet({ v: 6, proto: 6, payload: data(3000), partial: true });
  const bad: [string, Uint8Array][] = [
    ["an unknown flag", vnet(0x10, 0, 0, 0, 0, 0)],
    ["GSO type UDP (UFO, never enabled)", vnet(1, virtio.GSO_UDP, 60, 1000, 40, 16)],
    ["an unknown GSO type", vnet(1, 9, 60, 1000, 40, 16)],
    ["ECN without GSO", vnet(1, virtio.GSO_ECN, 0, 0, 40, 16)],
    ["GSO without NEEDS_CSUM", vnet(0, virtio.GSO_TCPV6, 60, 1000, 40, 16)],
    ["gso_size 0", vnet(1, virtio.GSO_TCPV6, 60, 0, 40, 16)],
    ["hdr_len past the packet", vnet(1, virtio.GSO_TCPV6, 4000, 1000, 40, 16)],
    ["csum_start past the packet", vnet(1, 0, 0, 0, 3100, 16)],
    ["TCPV4 on an IPv6 packet", vnet(1, virtio.GSO_TCPV4, 60, 1000, 40, 16)],
    ["a UDP checksum offset for TCP", vnet(1, virtio.GSO_TCPV6, 60, 1000, 40, 6)],
  ];
  const trailing = concat(vnet(1, virtio.GSO_TCPV6, 60, 1000, 40, 16), tcp6, data(3));
  bad.push(["bytes after the super-packet", trailing.subarray(0, 10)]);
  for (const [what, h] of bad) {
    dev.inject(what === "bytes after the super-packet" ? trailing : concat(h, tcp6));
  }
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(dev.written.length, 0);
  assert.equal(ctx.counters[Drop.BAD_VIRTIO_HEADER], bad.length);
  assert.equal(ctx.counters[Stat.RECEIVED], bad.length);
});
