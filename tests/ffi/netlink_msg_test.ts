// Expected messages are the requests iproute2 6.x sends for the same operation, taken from
// `strace -e trace=sendmsg ip …` in a scratch namespace (interface index 2, sequence number
// 0x6b0a2906 = 1795827974 as `ip` chose it); integers are little-endian (x86_64).
import assert from "node:assert/strict";
import {
  encodeAddr,
  encodeRoute,
  encodeSetLink,
  findAck,
  IN6_ADDR_GEN_MODE_NONE,
  RTPROT_PROTOMASK,
} from "../../ffi/netlink_msg.ts";
import { parseIpv6 } from "../../lib/addr/ipv6.ts";
import { hex, toHex } from "../_util/packets.ts";

const SEQ = 0x6b0a2906;

Deno.test("encodeRoute() builds the RTM_NEWROUTE `ip -6 route add 64:ff9b::/96 dev X proto 77` sends", () => {
  assert.equal(RTPROT_PROTOMASK, 0x4d);
  // deno-fmt-ignore
  const want = hex(
    "38000000" + // nlmsg_len 56
    "18000506" + // RTM_NEWROUTE, NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
    "06290a6b" + // nlmsg_seq
    "00000000" + // nlmsg_pid
    "0a600000" + // AF_INET6, dst_len 96, src_len 0, tos 0
    "fe4d0001" + // table main, proto 77, scope universe, RTN_UNICAST
    "00000000" + // rtm_flags
    "14000100" + // RTA_DST, 20 bytes
    "0064ff9b" + "00000000" + "00000000" + "00000000" +
    "08000400" + // RTA_OIF
    "02000000", // ifindex 2
  );
  const got = encodeRoute({ add: true, index: 2, addr: parseIpv6("64:ff9b::")!, len: 96 }, SEQ);
  assert.equal(toHex(got), toHex(want));
});

Deno.test("encodeRoute() builds the RTM_DELROUTE `ip -6 route del 64:ff9b::/96 dev X proto 77` sends", () => {
  // deno-fmt-ignore
  const want = hex(
    "38000000" + "19000500" + "06290a6b" + "00000000" + // RTM_DELROUTE, REQUEST|ACK
    "0a600000" + "fe4d0000" + "00000000" + // ... RTN_UNSPEC
    "14000100" + "0064ff9b" + "00000000" + "00000000" + "00000000" +
    "08000400" + "02000000",
  );
  const got = encodeRoute({ add: false, index: 2, addr: parseIpv6("64:ff9b::")!, len: 96 }, SEQ);
  assert.equal(toHex(got), toHex(want));
});

Deno.test("encodeRoute() builds the IPv4 RTM_NEWROUTE of `ip route add 198.51.100.0/24 dev X proto 77 scope link`", () => {
  // deno-fmt-ignore
  const want = hex(
    "2c000000" + "18000506" + "06290a6b" + "00000000" + // len 44, RTM_NEWROUTE
    "02180000" + // AF_INET, dst_len 24
    "fe4dfd01" + // table main, proto 77, scope link (253), unicast
    "00000000" +
    "08000100" + "c6336400" + // RTA_DST 198.51.100.0
    "08000400" + "02000000", // RTA_OIF 2
  );
  const got = encodeRoute({ add: true, index: 2, addr: 0xc6336400, len: 24 }, SEQ);
  assert.equal(toHex(got), toHex(want));
});

Deno.test("encodeAddr() builds the RTM_NEWADDR of `ip -6 addr add 64:ff9b::c000:8/128 dev X nodad noprefixroute`", () => {
  const a = "0064ff9b" + "00000000" + "00000000" + "c0000008";
  // deno-fmt-ignore
  const want = hex(
    "48000000" + "14000506" + "06290a6b" + "00000000" + // len 72, RTM_NEWADDR, CREATE|EXCL
    "0a800000" + // AF_INET6, prefixlen 128, ifa_flags 0, scope universe
    "02000000" + // ifa_index
    "14000200" + a + // IFA_LOCAL
    "08000800" + "02020000" + // IFA_FLAGS = IFA_F_NODAD | IFA_F_NOPREFIXROUTE
    "14000100" + a, // IFA_ADDRESS
  );
  const got = encodeAddr(
    { add: true, index: 2, addr: parseIpv6("64:ff9b::c000:8")!, len: 128 },
    SEQ,
  );
  assert.equal(toHex(got), toHex(want));
});

Deno.test("encodeAddr() builds the IPv4 RTM_NEWADDR and RTM_DELADDR `ip addr add/del 192.0.0.8/32` send", () => {
  // deno-fmt-ignore
  const add = hex(
    "30000000" + "14000506" + "06290a6b" + "00000000" + // len 48
    "02200000" + "02000000" + // AF_INET, /32
    "08000200" + "c0000008" + // IFA_LOCAL
    "08000800" + "00020000" + // IFA_FLAGS = IFA_F_NOPREFIXROUTE (no NODAD for IPv4)
    "08000100" + "c0000008", // IFA_ADDRESS
  );
  // deno-fmt-ignore
  const del = hex(
    "28000000" + "15000500" + "06290a6b" + "00000000" + // len 40, RTM_DELADDR, REQUEST|ACK
    "02200000" + "02000000" +
    "08000200" + "c0000008" +
    "08000100" + "c0000008",
  );
  assert.equal(
    toHex(encodeAddr({ add: true, index: 2, addr: 0xc0000008, len: 32 }, SEQ)),
    toHex(add),
  );
  assert.equal(
    toHex(encodeAddr({ add: false, index: 2, addr: 0xc0000008, len: 32 }, SEQ)),
    toHex(del),
  );
});

Deno.test("encodeSetLink() builds the RTM_NEWLINK of `ip link set X up mtu 1400`", () => {
  // deno-fmt-ignore
  const want = hex(
    "28000000" + "10000500" + "06290a6b" + "00000000" + // len 40, RTM_NEWLINK, REQUEST|ACK
    "00000000" + // AF_UNSPEC, pad, ifi_type 0
    "02000000" + // ifi_index
    "01000000" + // ifi_flags IFF_UP
    "01000000" + // ifi_change IFF_UP
    "08000400" + "78050000", // IFLA_MTU 1400
  );
  assert.equal(toHex(encodeSetLink({ index: 2, up: true, mtuBytes: 1400 }, SEQ)), toHex(want));
});

Deno.test("encodeSetLink() builds the RTM_NEWLINK of `ip link set dev X addrgenmode none`", () => {
  // strace -e trace=sendmsg -e write=all ip link set dev tun7 addrgenmode none (iproute2 6.1,
  // interface index 2), its own sequence number 0x6b13241d kept.
  // deno-fmt-ignore
  const want = hex(
    "30000000" + "10000500" + "1d24136b" + "00000000" + // len 48, RTM_NEWLINK, REQUEST|ACK
    "00000000" + // AF_UNSPEC, pad, ifi_type 0
    "02000000" + // ifi_index
    "00000000" + // ifi_flags
    "00000000" + // ifi_change: up/down untouched
    "10001a00" + // IFLA_AF_SPEC (26), 16 bytes, nested:
    "0c000a00" + //   AF_INET6 (10), 12 bytes, nested:
    "05000800" + //     IFLA_INET6_ADDR_GEN_MODE (8), 5 bytes
    "01000000", //      IN6_ADDR_GEN_MODE_NONE, 3 bytes of padding
  );
  const got = encodeSetLink({ index: 2, addrGenMode6: IN6_ADDR_GEN_MODE_NONE }, 0x6b13241d);
  assert.equal(toHex(got), toHex(want));
});

Deno.test("encodeAddr() rejects an IPv6 address that is not 16 bytes", () => {
  assert.throws(
    () => encodeAddr({ add: true, index: 2, addr: new Uint8Array(4), len: 128 }, SEQ),
    /16 bytes/,
  );
});

// An NLMSG_ERROR is nlmsghdr + int error + the offending request's header.
// deno-fmt-ignore
const EEXIST_REPLY = hex(
  "24000000" + "02000001" + "06290a6b" + "39300000" + // len 36, NLMSG_ERROR, flags 0x100 (capped), pid
  "efffffff" + // error -17 (EEXIST)
  "38000000" + "18000506" + "06290a6b" + "00000000", // the request's header
);

Deno.test("findAck() reports the kernel's errno for the matching sequence number", () => {
  assert.deepEqual(findAck(EEXIST_REPLY, EEXIST_REPLY.length, SEQ), { errno: 17 });
});

Deno.test("findAck() returns errno 0 for an ACK, skipping other messages before it", () => {
  // deno-fmt-ignore
  const buf = hex(
    "14000000" + "03000000" + "01000000" + "00000000" + "00000000" + // NLMSG_DONE, seq 1
    "24000000" + "02000000" + "06290a6b" + "00000000" + "00000000" + // ACK (error 0)
    "38000000" + "18000506" + "06290a6b" + "00000000",
  );
  assert.deepEqual(findAck(buf, buf.length, SEQ), { errno: 0 });
  assert.equal(findAck(buf, buf.length, SEQ + 1), null);
});

Deno.test("findAck() throws on a message length that runs past the received bytes", () => {
  const bad = EEXIST_REPLY.slice();
  bad[0] = 0x40; // claims 64 bytes, 36 received
  assert.throws(() => findAck(bad, bad.length, SEQ), /malformed netlink message/);
});
