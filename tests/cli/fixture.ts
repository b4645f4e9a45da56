/**
 * A small capture for the CLI tests: three IPv6 UDP packets from 2001:db8:1::2, port 1000 → 53,
 * payload "hi!!", and a config under which one is translated and two are dropped for
 * different reasons (one of them answered with an ICMPv6 error). UDP checksums were computed by hand over the RFC 8200 §8.1
 * pseudo-header (and are checked with tests/_util in the tests).
 *
 * @module
 */

import { hex } from "../_util/packets.ts";
import { writePcap } from "../../lib/pcap/writer.ts";

/**
 * Network-specific prefix (not the Well-Known Prefix, so documentation IPv4 addresses are
 * allowed, RFC 6052 §3.1); no Destination Unreachable for packets that cannot be translated.
 */
export const CONFIG_TEXT = `[Interface]
Prefix = "2001:db8:64::/96"
Pool = ["192.0.2.0/24"]

[Translation]
SendDropErrors = false
`;

/** To 198.51.100.1 embedded in the prefix, Hop Limit 64: translated (RFC 7915 §5.1). */
// deno-fmt-ignore
export const TO_PREFIX = hex(`
  6000 0000  // version 6, traffic class 0, flow label 0
  000c 1140  // payload length 12, next header UDP (17), hop limit 64
  2001 0db8 0001 0000 0000 0000 0000 0002  // source 2001:db8:1::2
  2001 0db8 0064 0000 0000 0000 c633 6401  // destination 2001:db8:64::198.51.100.1
  03e8 0035  // UDP source port 1000, destination port 53
  000c ec20  // UDP length 12, checksum
  6869 2121  // "hi!!"
`);

/**
 * Same as {@link TO_PREFIX} with Hop Limit 1: it would reach zero when forwarded, so it is
 * dropped and answered with an ICMPv6 Time Exceeded, as a router does (RFC 7915 §5.1,
 * RFC 4443 §3.3); `SendDropErrors = false` does not turn that off. The UDP checksum stays
 * the same: the pseudo-header does not include the Hop Limit (RFC 8200 §8.1).
 */
export const HOP_LIMIT_1: Uint8Array = withHopLimit(TO_PREFIX, 1);

/**
 * To 2001:db8:99::1, outside the prefix and not mapped: dropped as not_in_prefix, silently
 * (`SendDropErrors = false`).
 */
// deno-fmt-ignore
export const OUTSIDE_PREFIX = hex(`
  6000 0000  // version 6, traffic class 0, flow label 0
  000c 1140  // payload length 12, next header UDP (17), hop limit 64
  2001 0db8 0001 0000 0000 0000 0000 0002  // source 2001:db8:1::2
  2001 0db8 0099 0000 0000 0000 0000 0001  // destination 2001:db8:99::1
  03e8 0035  // UDP source port 1000, destination port 53
  000c 1620  // UDP length 12, checksum
  6869 2121  // "hi!!"
`);

/** The three packets in the order the CLI tests capture them. */
export const THREE_PACKETS: readonly Uint8Array[] = [TO_PREFIX, HOP_LIMIT_1, OUTSIDE_PREFIX];

/**
 * The summary `translate` must print for {@link captureOf}(...{@link THREE_PACKETS}): out are
 * the translated IPv4 packet and the Time Exceeded.
 */
export const THREE_PACKET_SUMMARY =
  "translate: 3 packets in, 2 out; dropped: hop_limit_exceeded 1, not_in_prefix 1";

/**
 * A pcap of packets one second apart.
 *
 * @param packets bare IPv6 packets
 * @returns the pcap file bytes
 */
export function captureOf(...packets: Uint8Array[]): Uint8Array {
  return writePcap(packets.map((data, i) => ({ tsSecs: 1_700_000_000 + i, tsMicros: 0, data })));
}

/**
 * A copy of an IPv6 packet with another Hop Limit (RFC 8200 §3).
 *
 * @param pkt an IPv6 packet
 * @param hopLimit the new Hop Limit
 * @returns the copy
 */
function withHopLimit(pkt: Uint8Array, hopLimit: number): Uint8Array {
  const copy = pkt.slice();
  copy[7] = hopLimit;
  return copy;
}
