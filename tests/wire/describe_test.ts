import assert from "node:assert/strict";
import { describePacket } from "../../lib/wire/describe.ts";
import { hex } from "../_util/packets.ts";

Deno.test("describePacket() names addresses, hop limit, ports and ICMP echo ids", () => {
  // deno-fmt-ignore
  const udp6 = hex(`
    60000000 0008 11 3f                         // v6, plen 8, UDP, hlim 63
    20010db8 00010000 00000000 00000002         // src 2001:db8:1::2
    20010db8 00640000 00000000 c6336402         // dst 2001:db8:64::198.51.100.2
    a6be 0035 0008 0000                         // UDP 42686 > 53
  `);
  assert.equal(
    describePacket(udp6),
    "IPv6 2001:db8:1::2 > 2001:db8:64::c633:6402 hlim 63 len 48: UDP 42686 > 53",
  );
  // deno-fmt-ignore
  const echo4 = hex(`
    45000054 0000 4000 3e01 0000                // v4, len 84, DF, ttl 62, ICMP
    c0000202 c6336402                           // 192.0.2.2 > 198.51.100.2
    0800 0000 50a4 0001                         // echo request id 20644 seq 1
  `);
  assert.equal(
    describePacket(echo4),
    "IPv4 192.0.2.2 > 198.51.100.2 ttl 62 len 84 DF: ICMP echo request id 20644 seq 1",
  );
});

Deno.test("describePacket() never throws on garbage", () => {
  for (let n = 0; n < 64; n++) {
    const b = new Uint8Array(n).fill(0x4f - (n & 0x20));
    assert.equal(typeof describePacket(b), "string");
    b[0] = 0x60;
    assert.equal(typeof describePacket(b), "string");
  }
});
