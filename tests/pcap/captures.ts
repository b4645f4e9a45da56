/**
 * Hand-built capture files for the pcap reader tests, written byte by byte from the pcap and
 * pcapng specifications (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng) and checked once
 * with tshark 4.0 (Debian bookworm), which decodes every packet below as described.
 *
 * The IP packets inside are Jool's siit-7915-aat1 input (IPv4/UDP) and expected output
 * (IPv6/UDP) from the shared conformance corpus (GPL-2.0, Jool's test data).
 *
 * @module
 */

import { hex } from "../_util/packets.ts";

/** IPv4/UDP 198.51.100.2:2000 -> 192.0.2.33:4000, 4 bytes of payload (Jool aat1 input). */
// deno-fmt-ignore
export const V4 = hex(`
  45000020 00004000 40114e76 c6336402 c0000221
  07d00fa0 000cfa0a 00010203
`);

/** IPv6/UDP, the translation of {@link V4} (Jool aat1 expected output). */
// deno-fmt-ignore
export const V6 = hex(`
  60000000 000c113f
  20010db8 01c63364 00020000 00000000
  20010db8 01c00002 00210000 00000000
  07d00fa0 000c53e1 00010203
`);

/** Concatenate byte strings. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Classic pcap, little-endian, microseconds, RAW; records at offsets 24 and 72. */
// deno-fmt-ignore
export const PCAP_LE_MICROS = cat(
  hex(`d4c3b2a1 0200 0400 00000000 00000000 ffff0000 65000000 // magic, v2.4, snaplen, RAW`),
  hex(`00f15365 40e20100 20000000 20000000 // 1700000000 s, 123456 us, caplen 32, len 32`),
  V4,
  hex(`01000000 3f420f00 34000000 34000000 // 1 s, 999999 us, caplen 52, len 52`),
  V6,
);

/** Classic pcap, big-endian, microseconds, RAW, snaplen 20: the packet is cut to 20 bytes. */
// deno-fmt-ignore
export const PCAP_BE_TRUNCATED = cat(
  hex(`a1b2c3d4 0002 0004 00000000 00000000 00000014 00000065 // snaplen 20, RAW`),
  hex(`00000002 00000003 00000014 00000020 // 2 s, 3 us, caplen 20, len 32`),
  V4.subarray(0, 20),
);

/** Classic pcap, little-endian, nanoseconds (a1b23c4d), RAW. */
// deno-fmt-ignore
export const PCAP_LE_NANOS = cat(
  hex(`4d3cb2a1 0200 0400 00000000 00000000 ffff0000 65000000`),
  hex(`00f15365 b168de3a 20000000 20000000 // 1700000000 s, 987654321 ns`),
  V4,
);

/** Classic pcap, big-endian, nanoseconds, LINKTYPE_IPV6 (229). */
// deno-fmt-ignore
export const PCAP_BE_NANOS = cat(
  hex(`a1b23c4d 0002 0004 00000000 00000000 0000ffff 000000e5 // IPV6`),
  hex(`6553f100 3ade68b1 00000034 00000034 // 1700000000 s, 987654321 ns`),
  V6,
);

/** Classic pcap, LINUX_SLL (113): an IPv6 packet, then an ARP packet (skipped). */
// deno-fmt-ignore
export const PCAP_SLL = cat(
  hex(`d4c3b2a1 0200 0400 00000000 00000000 ffff0000 71000000 // LINUX_SLL`),
  hex(`05000000 06000000 44000000 44000000 // 5 s, 6 us, caplen 68`),
  hex(`0000 0001 0006 0200 00000001 0000 86dd // to us, ARPHRD_ETHER, addr, IPv6`),
  V6,
  hex(`05000000 07000000 14000000 14000000 // caplen 20`),
  hex(`0004 0001 0006 0200 00000001 0000 0806 // outgoing, ARP`),
  hex(`00010800`),
);

/** Classic pcap, NULL (0): families 2 (LE), 30 (LE, Darwin AF_INET6), 2 (BE host), 7 (skipped). */
// deno-fmt-ignore
export const PCAP_NULL = cat(
  hex(`d4c3b2a1 0200 0400 00000000 00000000 ffff0000 00000000 // NULL`),
  hex(`00000000 00000000 24000000 24000000`), hex(`02000000`), V4,
  hex(`00000000 01000000 38000000 38000000`), hex(`1e000000`), V6,
  hex(`00000000 02000000 24000000 24000000`), hex(`00000002`), V4,
  hex(`00000000 03000000 08000000 08000000`), hex(`07000000 00000000`),
);

/** Classic pcap, LOOP (108): families in network order, 24 (OpenBSD AF_INET6) and 2. */
// deno-fmt-ignore
export const PCAP_LOOP = cat(
  hex(`d4c3b2a1 0200 0400 00000000 00000000 ffff0000 6c000000 // LOOP`),
  hex(`00000000 00000000 38000000 38000000`), hex(`00000018`), V6,
  hex(`00000000 01000000 24000000 24000000`), hex(`00000002`), V4,
);

/**
 * pcapng, little-endian, one Ethernet interface: IPv4 behind an 802.1Q tag padded to 60
 * bytes, IPv6 behind 802.1ad + 802.1Q tags with an EPB comment, an ARP frame (skipped), and
 * an Interface Statistics Block (ignored).
 */
// deno-fmt-ignore
export const PCAPNG_LE_ETHERNET_VLAN = cat(
  hex(`0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000 // SHB`),
  hex(`01000000 14000000 0100 0000 00000000 14000000 // IDB: EN10MB, no snaplen`),
  hex(`06000000 5c000000 00000000 // EPB, 92 bytes, interface 0`),
  hex(`240a0600 40222018 // timestamp 1700000000123456 us`),
  hex(`3c000000 3c000000 // caplen 60, len 60`),
  hex(`020000000002 020000000001 8100 0064 0800 // dst, src, 802.1Q VLAN 100, IPv4`),
  V4,
  hex(`00000000 00000000 0000 // Ethernet padding to 60 bytes`),
  hex(`5c000000`),
  hex(`06000000 78000000 00000000 00000000 05000000 // EPB, 120 bytes, 5 us`),
  hex(`4a000000 4a000000 // caplen 74, len 74`),
  hex(`020000000002 020000000001 88a8 00c8 8100 0064 86dd // 802.1ad S-tag, 802.1Q C-tag`),
  V6,
  hex(`0000 // pad to 32 bits`),
  hex(`0100 0200 68690000 0000 0000 // opt_comment "hi", opt_endofopt`),
  hex(`78000000`),
  hex(`06000000 4c000000 00000000 00000000 06000000 2a000000 2a000000 // EPB, ARP`),
  hex(`ffffffffffff 020000000001 0806 0001 0800 0604 0001 020000000001 c0000201`),
  hex(`000000000000 c0000202 0000 4c000000`),
  hex(`05000000 18000000 00000000 00000000 00000000 18000000 // ISB (skipped)`),
);

/**
 * pcapng: a big-endian section with a LINUX_SLL2 interface at nanosecond resolution
 * (if_tsresol 9) and a RAW interface, an EPB on each and a Simple Packet Block; then a
 * little-endian section whose interface 0 is RAW.
 */
// deno-fmt-ignore
export const PCAPNG_BE_SLL2_TWO_SECTIONS = cat(
  hex(`0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffff ffffffff 0000001c // SHB (BE)`),
  hex(`00000001 00000020 0114 0000 00000000 // IDB 0: LINUX_SLL2`),
  hex(`0009 0001 09000000 0000 0000 00000020 // if_tsresol = 10^-9, opt_endofopt`),
  hex(`00000001 00000014 0065 0000 0000ffff 00000014 // IDB 1: RAW`),
  hex(`00000006 00000054 00000000 17979cfe 710868b1 // EPB if 0: 1700000000.987654321 s`),
  hex(`00000034 00000034 // caplen 52, len 52`),
  hex(`0800 0000 00000002 0001 00 06 020000000001 0000 // SLL2: IPv4, ifindex 2`),
  V4,
  hex(`00000054`),
  hex(`00000006 00000054 00000001 00000000 002dc6c7 // EPB if 1: 3000007 us`),
  hex(`00000034 00000034`),
  V6,
  hex(`00000054`),
  hex(`00000003 00000058 00000048 // SPB (interface 0), len 72`),
  hex(`86dd 0000 00000002 0001 00 06 020000000001 0000 // SLL2: IPv6`),
  V6,
  hex(`00000058`),
  hex(`0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000 // SHB (LE)`),
  hex(`01000000 14000000 6500 0000 ffff0000 14000000 // IDB 0: RAW`),
  hex(`06000000 40000000 00000000 00000000 09000000 20000000 20000000 // EPB, 9 us`),
  V4,
  hex(`40000000`),
);
