import assert from "node:assert/strict";
import { hex, ipv4HeaderChecksumValid, l4ChecksumValid, toHex } from "./packets.ts";
import { sharedAvailableOrWarn, sharedPath } from "./shared.ts";

// Literal packets from Jool's graybox test data (GPL-2.0; the corpus beside the clone,
// ../shared/conformance/jool, absent in a user's clone), whose checksums Jool's suite treats as
// correct.

// deno-fmt-ignore
const JOOL_AAT1_IN_V4_UDP = hex(`
  45000020 00004000    // IPv4, IHL 5, total 32; id 0, DF
  40114e76             // TTL 64, UDP, header checksum
  c6336402 c0000221    // 198.51.100.2 -> 192.0.2.33
  07d00fa0 000cfa0a    // UDP 2000 -> 4000, length 12, checksum
  00010203             // payload
`);

// deno-fmt-ignore
const JOOL_AAT1_OUT_V6_UDP = hex(`
  60000000 000c113f                      // IPv6, payload 12, UDP, hop limit 63
  20010db8 01c63364 00020000 00000000    // source
  20010db8 01c00002 00210000 00000000    // destination
  07d00fa0 000c53e1 00010203             // UDP 2000 -> 4000, length 12, checksum, payload
`);

// IPv6 with Hop-by-Hop, Destination Options and a Routing header (segments left 0), then UDP.
// deno-fmt-ignore
const JOOL_ABT2_IN_V6_EXT_UDP = hex(`
  60000000 00440040                      // IPv6, payload 68, next Hop-by-Hop (0)
  20010db8 01c00002 00210000 00000000    // source
  20010db8 01c63364 00020000 00000000    // destination
  3c000102 00000000                      // Hop-by-Hop: next Dest Opts (60), PadN
  2b000000 01020000                      // Dest Opts: next Routing (43)
  11040000 00000000                      // Routing: next UDP, len 4, type 0, segments left 0
  20010db8 01c00002 00210000 00000000
  20010db8 01c00002 00010000 00000000
  07d00fa0 000c53e1 00010203             // UDP
`);

// deno-fmt-ignore
const JOOL_HAT1_IN_V4_ICMP = hex(`
  4500003c 00004000 4001f99e             // IPv4, total 60, DF, TTL 64, ICMP
  7f000001 c0000221                      // 127.0.0.1 -> 192.0.2.33
  0303e971 00000000                      // ICMP port unreachable, checksum
  45000020 00004000 3f114f76             // inner IPv4
  c0000221 c6336402
  07d00fa0 000cfa0a 00010203             // inner UDP
`);

// deno-fmt-ignore
const JOOL_HAT1_OUT_V6_ICMP6 = hex(`
  60000000 003c3a3f                      // IPv6, payload 60, ICMPv6, hop limit 63
  20010db8 017f0000 00010000 00000000    // source
  20010db8 01c00002 00210000 00000000    // destination
  01042e82 00000000                      // ICMPv6 dest unreachable / port, checksum
  60000000 000c113f                      // inner IPv6
  20010db8 01c00002 00210000 00000000
  20010db8 01c63364 00020000 00000000
  07d00fa0 000c53e1 00010203             // inner UDP
`);

// Built with scapy 2.5.0 (Debian python3-scapy), which computes checksums itself: a Routing
// header with segments left 2, so the pseudo-header uses its last address (RFC 8200 §8.1).
// deno-fmt-ignore
const SCAPY_V6_ROUTING_SEGLEFT2_UDP = hex(`
  60000000 00342b40                      // IPv6, payload 52, next Routing (43)
  20010db8 00000000 00000000 00000001    // 2001:db8::1
  20010db8 00000000 00000000 00000002    // 2001:db8::2 (next hop, not final)
  11040002 00000000                      // Routing: next UDP, len 4, type 0, segments left 2
  20010db8 00000000 00000000 00000003
  20010db8 00000000 00000000 00000004    // final destination
  07d00fa0 000c8aeb 00010203             // UDP 2000 -> 4000, checksum over ::1 -> ::4
`);

// scapy 2.5.0: IPv4 TCP SYN with 2 payload bytes; IPv6 TCP SYN with 3 (odd length).
// deno-fmt-ignore
const SCAPY_V4_TCP = hex(`
  4500002a 00014000 40064e96 c0000201 c6336402
  9c400050 00000001 00000000 5002faf0 c3bd0000    // TCP 40000 -> 80, SYN, checksum c3bd
  6869
`);
// deno-fmt-ignore
const SCAPY_V6_TCP = hex(`
  60000000 00170640
  20010db8 00000000 00000000 00000001
  20010db8 00000000 00000000 00000002
  9c400050 00000001 00000000 5002faf0 337f0000    // checksum 337f
  686921
`);

/** A copy of `pkt` with `byte` XORed into offset `at`. */
function mutate(pkt: Uint8Array, at: number, byte = 0x01): Uint8Array {
  const copy = pkt.slice();
  copy[at] = copy[at]! ^ byte;
  return copy;
}

Deno.test("hex() ignores whitespace and // comments", () => {
  assert.deepEqual(hex("0a 0B\n  // ff ff\n c0 // tail\n"), new Uint8Array([0x0a, 0x0b, 0xc0]));
  assert.deepEqual(hex(""), new Uint8Array(0));
});

Deno.test("hex() rejects odd digit counts and non-hex characters", () => {
  assert.throws(() => hex("abc"), /odd number/);
  assert.throws(() => hex("zz"), /non-hex/);
  assert.throws(() => hex("0x01"), /non-hex/);
});

Deno.test("toHex() writes two lower-case digits per byte and inverts hex()", () => {
  assert.equal(toHex(new Uint8Array([0, 0x0f, 0xab, 0xff])), "000fabff");
  assert.equal(
    toHex(JOOL_AAT1_IN_V4_UDP),
    "450000200000400040114e76c6336402c000022107d00fa0000cfa0a00010203",
  );
});

Deno.test("ipv4HeaderChecksumValid() accepts Jool's IPv4 headers", () => {
  assert.equal(ipv4HeaderChecksumValid(JOOL_AAT1_IN_V4_UDP), true);
  assert.equal(ipv4HeaderChecksumValid(JOOL_HAT1_IN_V4_ICMP), true);
  assert.equal(ipv4HeaderChecksumValid(JOOL_HAT1_IN_V4_ICMP.subarray(28)), true); // inner
});

Deno.test("ipv4HeaderChecksumValid() rejects a flipped header byte, IPv6 and short input", () => {
  for (let at = 0; at < 20; at++) {
    if (at === 0) continue; // changing the version/IHL byte is rejected for other reasons
    assert.equal(ipv4HeaderChecksumValid(mutate(JOOL_AAT1_IN_V4_UDP, at)), false, `byte ${at}`);
  }
  // A payload byte is not covered by the header checksum.
  assert.equal(ipv4HeaderChecksumValid(mutate(JOOL_AAT1_IN_V4_UDP, 25)), true);
  assert.equal(ipv4HeaderChecksumValid(JOOL_AAT1_OUT_V6_UDP), false);
  assert.equal(ipv4HeaderChecksumValid(JOOL_AAT1_IN_V4_UDP.subarray(0, 19)), false);
});

Deno.test("l4ChecksumValid() accepts UDP, ICMP and ICMPv6 packets from the Jool corpus", () => {
  assert.equal(l4ChecksumValid(JOOL_AAT1_IN_V4_UDP), true);
  assert.equal(l4ChecksumValid(JOOL_AAT1_OUT_V6_UDP), true);
  assert.equal(l4ChecksumValid(JOOL_HAT1_IN_V4_ICMP), true);
  assert.equal(l4ChecksumValid(JOOL_HAT1_OUT_V6_ICMP6), true);
});

Deno.test("l4ChecksumValid() walks Hop-by-Hop, Destination Options and Routing headers", () => {
  assert.equal(l4ChecksumValid(JOOL_ABT2_IN_V6_EXT_UDP), true);
  // A flipped byte inside an extension header is not covered by the UDP checksum...
  assert.equal(l4ChecksumValid(mutate(JOOL_ABT2_IN_V6_EXT_UDP, 45)), true);
  // ...but one in the UDP payload is.
  assert.equal(l4ChecksumValid(mutate(JOOL_ABT2_IN_V6_EXT_UDP, 107)), false);
});

Deno.test("l4ChecksumValid() uses a Routing header's final destination in the pseudo-header", () => {
  assert.equal(l4ChecksumValid(SCAPY_V6_ROUTING_SEGLEFT2_UDP), true);
  // The same packet with segments left 0 must be summed over the IPv6 destination instead.
  assert.equal(l4ChecksumValid(mutate(SCAPY_V6_ROUTING_SEGLEFT2_UDP, 43, 0x02)), false);
});

Deno.test("l4ChecksumValid() accepts TCP over IPv4 and IPv6 (odd length included)", () => {
  assert.equal(l4ChecksumValid(SCAPY_V4_TCP), true);
  assert.equal(l4ChecksumValid(SCAPY_V6_TCP), true);
  assert.equal(l4ChecksumValid(mutate(SCAPY_V6_TCP, SCAPY_V6_TCP.length - 1)), false);
});

Deno.test("l4ChecksumValid() rejects any single flipped byte covered by the checksum", () => {
  const cases: [string, Uint8Array, number[]][] = [
    // [name, packet, offsets covered: pseudo-header addresses + whole L4 segment]
    ["IPv4 UDP", JOOL_AAT1_IN_V4_UDP, [...range(12, 20), ...range(20, 32)]],
    ["IPv6 UDP", JOOL_AAT1_OUT_V6_UDP, [...range(8, 40), ...range(40, 52)]],
    ["ICMPv4", JOOL_HAT1_IN_V4_ICMP, range(20, 60)],
    ["ICMPv6", JOOL_HAT1_OUT_V6_ICMP6, [...range(8, 40), ...range(40, 100)]],
    ["IPv4 TCP", SCAPY_V4_TCP, [...range(12, 20), ...range(20, 42)]],
  ];
  for (const [name, pkt, offsets] of cases) {
    for (const at of offsets) {
      assert.equal(l4ChecksumValid(mutate(pkt, at)), false, `${name}: byte ${at}`);
    }
  }
});

Deno.test("l4ChecksumValid() returns null for fragments, IPv4 UDP without checksum and others", () => {
  // IPv4 with MF set / with a non-zero offset.
  assert.equal(l4ChecksumValid(mutate(JOOL_AAT1_IN_V4_UDP, 6, 0x20)), null);
  assert.equal(l4ChecksumValid(mutate(JOOL_AAT1_IN_V4_UDP, 7, 0x01)), null);
  // IPv4 UDP checksum 0 means "none" (RFC 768); in IPv6 it is invalid (RFC 8200 §8.1).
  const v4NoSum = JOOL_AAT1_IN_V4_UDP.slice();
  v4NoSum.set([0, 0], 26);
  assert.equal(l4ChecksumValid(v4NoSum), null);
  const v6NoSum = JOOL_AAT1_OUT_V6_UDP.slice();
  v6NoSum.set([0, 0], 46);
  assert.equal(l4ChecksumValid(v6NoSum), false);
  // Unknown protocol (IPv6 next header 59, No Next Header).
  const noNext = JOOL_AAT1_OUT_V6_UDP.slice();
  noNext[6] = 59;
  assert.equal(l4ChecksumValid(noNext), null);
});

Deno.test("l4ChecksumValid() rejects truncated packets", () => {
  assert.equal(l4ChecksumValid(JOOL_AAT1_IN_V4_UDP.subarray(0, 31)), false);
  assert.equal(l4ChecksumValid(JOOL_AAT1_OUT_V6_UDP.subarray(0, 51)), false);
  assert.equal(l4ChecksumValid(new Uint8Array(0)), false);
});

const CORPUS = "conformance/jool/cases";
const HAVE_CORPUS = sharedAvailableOrWarn(CORPUS, "Jool corpus checksum tests (tests/_util)");

Deno.test({
  name: "l4ChecksumValid() agrees with the Jool pktgen labels csumok / csumfail",
  ignore: !HAVE_CORPUS,
  fn() {
    const seen = { csumok: 0, csumfail: 0 };
    for (const entry of Deno.readDirSync(sharedPath(CORPUS))) {
      const m =
        /^(?:siit|nat64)-pktgen-.*-(?:udp|tcp|icmp[46](?:info|err))-(csumok|csumfail)-.*\.input\.pcap$/
          .exec(entry.name);
      if (m === null) continue;
      const pkt = firstRawPacket(Deno.readFileSync(sharedPath(`${CORPUS}/${entry.name}`)));
      const result = l4ChecksumValid(pkt);
      if (/-frag[0-9]/.test(entry.name)) {
        assert.equal(result, null, entry.name);
      } else {
        assert.equal(result, m[1] === "csumok", entry.name);
        seen[m[1] as keyof typeof seen]++;
      }
    }
    assert.ok(
      seen.csumok >= 10 && seen.csumfail >= 10,
      `too few labelled packets: ${JSON.stringify(seen)}`,
    );
  },
});

/** The first record of a little-endian classic pcap, parsed here without lib/pcap. */
function firstRawPacket(file: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  assert.equal(view.getUint32(0, true), 0xa1b2c3d4);
  const capLen = view.getUint32(24 + 8, true);
  return file.subarray(40, 40 + capLen);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
