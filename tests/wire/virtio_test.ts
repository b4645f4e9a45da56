import assert from "node:assert/strict";
import * as virtio from "../../lib/wire/virtio.ts";
import { addWords, fold, hex, l4ChecksumValid, toHex } from "../_util/packets.ts";
import { fixChecksums } from "../xlat/_build.ts";
import { Prng } from "../_util/prng.ts";

// A header as tun hands out a TCP/IPv6 super-packet (read with IFF_VNET_HDR on x86_64):
// NEEDS_CSUM, GSO TCPV6, hdr_len 86 (skb_headlen, a hint), gso_size 1428, csum_start 40,
// csum_offset 16; the multi-byte fields little-endian.
// deno-fmt-ignore
const TSO6 = hex(`
  01 04        // flags NEEDS_CSUM, gso_type TCPV6
  5600         // hdr_len 86
  9405         // gso_size 1428
  2800         // csum_start 40
  1000         // csum_offset 16
`);

Deno.test("virtio_net_hdr accessors read the little-endian fields at their offsets", () => {
  const v = new DataView(TSO6.buffer);
  assert.equal(virtio.HEADER_LEN, 10);
  assert.equal(virtio.flags(v, 0), virtio.F_NEEDS_CSUM);
  assert.equal(virtio.gsoType(v, 0), virtio.GSO_TCPV6);
  assert.equal(virtio.hdrLen(v, 0), 86);
  assert.equal(virtio.gsoSize(v, 0), 1428);
  assert.equal(virtio.csumStart(v, 0), 40);
  assert.equal(virtio.csumOffset(v, 0), 16);
});

Deno.test("virtio.write() produces the bytes tun expects, at any offset", () => {
  const buf = new Uint8Array(16).fill(0xa5);
  const v = new DataView(buf.buffer);
  virtio.write(v, 3, virtio.F_NEEDS_CSUM, virtio.GSO_TCPV4 | virtio.GSO_ECN, 40, 1428, 20, 16);
  assert.equal(toHex(buf), "a5a5a5" + "0181" + "2800" + "9405" + "1400" + "1000" + "a5a5a5");
});

/** The folded pseudo-header sum Linux stores as a partial checksum (independent arithmetic). */
function linuxPartial(pkt: Uint8Array, l4Len: number, proto: number): number {
  const addrs = pkt[0]! >> 4 === 4 ? addWords(pkt, 12, 20, 0) : addWords(pkt, 8, 40, 0);
  return fold(addrs + l4Len + proto);
}

/** Equal as ones'-complement numbers (0 and 0xffff are both zero). */
function same(a: number, b: number): boolean {
  return a === b || (a % 0xffff) === (b % 0xffff);
}

Deno.test("adjustPartial() turns an IPv6 partial checksum into the IPv4 one for random addresses", () => {
  const rng = new Prng(7);
  for (let i = 0; i < 2000; i++) {
    const p6 = new Uint8Array(40);
    const p4 = new Uint8Array(20);
    for (let j = 8; j < 40; j++) p6[j] = rng.below(256);
    for (let j = 12; j < 20; j++) p4[j] = rng.below(256);
    p6[0] = 0x60;
    p4[0] = 0x45;
    const l4Len = 20 + rng.below(65000);
    const proto = rng.below(2) === 0 ? 6 : 17;
    const before = linuxPartial(p6, l4Len, proto);
    const got = virtio.adjustPartial(before, addWords(p6, 8, 40, 0), addWords(p4, 12, 20, 0));
    assert.ok(same(got, linuxPartial(p4, l4Len, proto)), `case ${i}`);
    // And back.
    const back = virtio.adjustPartial(got, addWords(p4, 12, 20, 0), addWords(p6, 8, 40, 0));
    assert.ok(same(back, before), `case ${i} back`);
  }
});

/** UDP/IPv4 from 192.0.2.1:8080 to 198.51.100.7:53 with 5 bytes of data. */
// deno-fmt-ignore
const UDP4 = fixChecksums(hex(`
  45000021 12340000 40110000   // IPv4, total length 33, UDP
  c0000201 c6336407            // 192.0.2.1 → 198.51.100.7
  1f900035 000d0000            // ports 8080 → 53, length 13, checksum (filled in)
  0102030405
`));

Deno.test("completeChecksum() completes a partial checksum into the one fixChecksums() computes", () => {
  const want = UDP4.slice();
  const pkt = UDP4.slice();
  const v = new DataView(pkt.buffer);
  v.setUint16(26, linuxPartial(pkt, 13, 17)); // what the kernel hands over with NEEDS_CSUM
  assert.equal(l4ChecksumValid(pkt), false);
  virtio.completeChecksum(pkt, v, 20, 33, 26);
  assert.equal(toHex(pkt), toHex(want));
  assert.equal(l4ChecksumValid(pkt), true);
});
