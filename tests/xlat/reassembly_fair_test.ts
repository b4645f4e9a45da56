/**
 * Fair reassembly of fragmented ICMP: one host (or two) sending a storm of fragment sets that
 * never complete must not keep every other host's large pings from being reassembled. Each
 * test floods first fragments of fresh datagrams — more than there are slots — interleaved
 * with the fragments of another host's 3000-byte ping, and checks that the ping still comes
 * out translated (reassembled by the test's own helpers, checksums checked by
 * tests/_util/packets.ts, neither of which uses lib/).
 */

import assert from "node:assert/strict";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import type { Engine } from "../../lib/xlat/settings.ts";
import { hex, l4ChecksumValid, toHex } from "../_util/packets.ts";
import {
  engineFor,
  fragment4,
  fragment6,
  PEER4,
  POOL1,
  put16,
  reassemble4,
  reassemble6,
  run,
  u32,
  UDP6_FROM_HOST,
  withData,
} from "./_build.ts";

/** ICMPv6 Echo Request of `n` data bytes from 2001:db8::<host> to 64:ff9b::198.51.100.7. */
function echo6(host: number, n: number, ident: number): Uint8Array {
  // deno-fmt-ignore
  const head = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00003a40                              // payload length (set below), ICMPv6, hop limit 64
    20010db8 00000000 00000000 00000000   // source 2001:db8::<host> (last byte set below)
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    80000000                              // Echo Request (128), code 0, checksum (filled in)
    00000001                              // identifier (set below), sequence 1
  `);
  head[23] = host;
  put16(head, 44, ident);
  return withData(head, { dataBytes: n, byteAt: (k) => (k * 7 + host) & 0xff });
}

/** ICMPv4 Echo Reply of `n` data bytes from 198.51.100.<last> to 192.0.2.1, DF clear. */
function echo4(last: number, n: number, id: number): Uint8Array {
  // deno-fmt-ignore
  const head = hex(`
    45000000   // version 4, IHL 5, TOS 0, total length (set below)
    00000000   // identification (set below), flags 0, offset 0
    40010000   // TTL 64, ICMP, header checksum (filled in)
    c6336400   // source 198.51.100.<last> (set below)
    c0000201   // destination 192.0.2.1
    00000000   // Echo Reply (0), code 0, checksum (filled in)
    43210001   // identifier 0x4321, sequence 1
  `);
  head[15] = last;
  put16(head, 4, id);
  return withData(head, { dataBytes: n, byteAt: (k) => (k * 5 + last) & 0xff });
}

const FLOODER = 0x66; // 2001:db8::66 and 198.51.100.102
const FLOODER2 = 0x67; // 2001:db8::67

/** The first 1232 data bytes of a 3000-byte ping from 2001:db8::<host>: it never completes. */
function flood6(host: number, id: number): Uint8Array {
  return fragment6(echo6(host, 3000, id), [1232], id)[0]!;
}

/** The first 1480 data bytes of a 3000-byte ping from 198.51.100.102: it never completes. */
function flood4(id: number): Uint8Array {
  return fragment4(echo4(FLOODER, 3000, id), [1480])[0]!;
}

/** Sends one flood packet: whatever the engine does with it, nothing comes out. */
function sendFlood(e: Engine, pkt: Uint8Array): void {
  const { r, out } = run(e, pkt);
  assert.ok(r < 0, `flood packet dropped or held (got ${r})`);
  assert.equal(out.length, 0);
}

/**
 * Feeds each of `frags` after `between` flood packets (from `flood(k)`, k counting up), and
 * returns what the last fragment produced; every earlier fragment must be held.
 */
function interleave(
  e: Engine,
  frags: readonly Uint8Array[],
  between: number,
  flood: (k: number) => Uint8Array,
  firstK: number,
): Uint8Array[] {
  let k = firstK;
  for (const [i, f] of frags.entries()) {
    for (let j = 0; j < between; j++) sendFlood(e, flood(k++));
    const { r, out } = run(e, f);
    if (i < frags.length - 1) {
      assert.equal(r, -Drop.REASSEMBLY_HELD, `fragment ${i} held`);
    } else {
      assert.ok(r > 0, `the last fragment completes the datagram (got ${r})`);
      assert.equal(out.length, r);
      return out;
    }
  }
  return [];
}

/** Asserts that IPv4 fragments out of the translator are `ping` (IPv6, from 2001:db8::1). */
function assertPingAs4(outs: Uint8Array[], ping: Uint8Array): void {
  const datagram = reassemble4(outs);
  assert.equal(datagram[9], 1, "ICMP");
  assert.equal(datagram[20], 8, "Echo Request");
  assert.equal(u32(datagram, 12), POOL1, "from the lease of 2001:db8::1");
  assert.equal(u32(datagram, 16), PEER4);
  assert.equal(l4ChecksumValid(datagram), true);
  assert.equal(toHex(datagram.subarray(24)), toHex(ping.subarray(44)), "identifier, data");
}

Deno.test("translate() reassembles a 3000-byte ping from one IPv6 host while another floods more incomplete datagrams than there are slots", () => {
  const e = engineFor(); // 8 slots, 256 KiB, 30 s
  for (let k = 0; k < 20; k++) sendFlood(e, flood6(FLOODER, k));
  const ping = echo6(1, 3000, 0xbeef);
  const outs = interleave(
    e,
    fragment6(ping, [1232, 1232], 0xbeef),
    10,
    (k) => flood6(FLOODER, k),
    20,
  );
  assertPingAs4(outs, ping);
  assert.equal(e.ctx.counters[Stat.REASSEMBLED], 1);
  // 50 flood datagrams and the ping: the flooder holds at most half the slots (4), so every
  // flood datagram after its fourth evicts its own oldest.
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_EVICTED], 50 - 4);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_FULL], 0);
});

Deno.test("translate() reassembles a 3000-byte ping while two IPv6 hosts flood together", () => {
  // Two flooders can fill all 8 slots between them; a new datagram then evicts the oldest one
  // of the host holding the most, never the ping's single slot.
  const e = engineFor();
  const flood = (k: number) => flood6(k % 2 === 0 ? FLOODER : FLOODER2, k);
  for (let k = 0; k < 20; k++) sendFlood(e, flood(k));
  const ping = echo6(1, 3000, 0xcafe);
  const outs = interleave(e, fragment6(ping, [1232, 1232], 0xcafe), 10, flood, 20);
  assertPingAs4(outs, ping);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_FULL], 0);
});

Deno.test("translate() reassembles a 3000-byte ping while one IPv6 host holds nearly 64 KiB in each of its datagrams", () => {
  // Four incomplete 65,408-byte datagrams would hold 259,968 of the 262,144 bytes; a host may
  // hold only half (131,072), so its third evicts its first and its fourth its second.
  const e = engineFor();
  const big = (k: number) => fragment6(echo6(FLOODER, 65400, k), [60000, 4992], k);
  for (let k = 0; k < 4; k++) {
    const [a, b] = big(k);
    assert.equal(run(e, a!).r, -Drop.REASSEMBLY_HELD);
    assert.equal(run(e, b!).r, -Drop.REASSEMBLY_HELD);
  }
  // More 60,000-byte first fragments between the ping's fragments: each evicts the flooder's
  // oldest datagram, never the ping.
  const ping = echo6(1, 3000, 0xf00d);
  const outs = interleave(e, fragment6(ping, [1232, 1232], 0xf00d), 1, (k) => big(k)[0]!, 4);
  assertPingAs4(outs, ping);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_EVICTED], 2 + 3, "two above, one per flood packet");
  assert.equal(e.ctx.reassemblyHeldBytes, 2 * 60000, "the flooder's two newest datagrams");
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_FULL], 0);
});

Deno.test("translate() reassembles a 3000-byte ping from one IPv4 host while another floods more incomplete datagrams than there are slots", () => {
  const e = engineFor();
  assert.equal(u32(run(e, UDP6_FROM_HOST).out[0]!, 12), POOL1, "2001:db8::1 leases 192.0.2.1");
  for (let k = 0; k < 20; k++) sendFlood(e, flood4(k));
  const ping = echo4(7, 3000, 0x7777); // from 198.51.100.7
  const outs = interleave(e, fragment4(ping, [1480, 1480]), 10, flood4, 20);
  const datagram = reassemble6(outs);
  assert.equal(datagram[6], 58, "ICMPv6");
  assert.equal(datagram[40], 129, "Echo Reply");
  assert.equal(toHex(datagram.subarray(24, 40)), toHex(UDP6_FROM_HOST.subarray(8, 24)));
  assert.equal(l4ChecksumValid(datagram), true);
  assert.equal(toHex(datagram.subarray(44)), toHex(ping.subarray(24)), "identifier, data");
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_EVICTED], 50 - 4);
});
