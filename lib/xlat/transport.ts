/**
 * The transport step of a translation, shared by both directions: the header
 * length checks made before any lease is created, and the checksum work of
 * RFC 7915 §4.5 and §5.5 on the first fragment. TCP and UDP checksums get the
 * one pseudo-header fix-up, `adjustTransportChecksum()` in lib/wire/transport.ts;
 * an ICMP Echo changes type and gains or loses the IPv6 pseudo-header here.
 *
 * @module
 */

import { adjust, checksum, sumBytes, sumIpv4 } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as tcp from "../wire/tcp.ts";
import { adjustTransportChecksum } from "../wire/transport.ts";
import * as udp from "../wire/udp.ts";
import { TMP_SRC, type XlatContext } from "./context.ts";

/**
 * Whether a TCP or UDP header is too short to translate: TCP needs its checksum
 * in a fragment and its whole fixed header otherwise, UDP its 8 bytes.
 *
 * @param proto protocol number (anything but 6 and 17 passes)
 * @param l4Len bytes from the transport header to the end of the packet
 * @param isFrag whether the packet is a fragment
 * @returns true when the packet must be dropped as `truncated_transport`
 */
export function transportTooShort(proto: number, l4Len: number, isFrag: boolean): boolean {
  if (proto === ipv4.PROTO_TCP) return l4Len < (isFrag ? tcp.CHECKSUM_END : tcp.HEADER_LEN);
  if (proto === ipv4.PROTO_UDP) return l4Len < udp.HEADER_LEN;
  return false;
}

/**
 * 6→4 transport checksums (RFC 7915 §5.5), first fragment only: TCP and UDP
 * swap the IPv6 addresses for the IPv4 ones in their pseudo-header; an ICMPv6
 * Echo takes its ICMPv4 type and loses the pseudo-header (RFC 7915 §5.2).
 * Every other protocol is copied as an opaque payload.
 *
 * @param ctx engine context (`ctx.partial`: a TUN offload partial checksum)
 * @param off offset of the IPv6 header
 * @param l4Off offset of the transport header
 * @param l4Len its length to the end of the packet
 * @param nh upper-layer Next Header
 * @param src4 IPv4 source
 * @param dst4 IPv4 destination
 * @param mapped the ICMPv4 type/code word of an Echo
 */
export function transport6to4(
  ctx: XlatContext,
  off: number,
  l4Off: number,
  l4Len: number,
  nh: number,
  src4: number,
  dst4: number,
  mapped: number,
): void {
  const v = ctx.view;
  const oldSum = ipv6.sumAddresses(ctx.mem, off);
  if (nh === ipv6.NH_ICMPV6) {
    const word = v.getUint16(l4Off);
    const at = l4Off + icmp.CHECKSUM_OFF;
    const cs = adjust(v.getUint16(at), oldSum + l4Len + ipv6.NH_ICMPV6 + word, mapped);
    v.setUint16(l4Off, mapped);
    v.setUint16(at, cs);
    return;
  }
  adjustTransportChecksum(v, l4Off, nh, oldSum, sumIpv4(src4) + sumIpv4(dst4), ctx.partial);
}

/**
 * 4→6 transport checksums (RFC 7915 §4.5), first fragment only: TCP and UDP
 * swap the IPv4 addresses for the IPv6 ones (already at `TMP_SRC`) in their
 * pseudo-header, and a UDP checksum of 0 is computed when `amendUdp`; an ICMPv4
 * Echo takes its ICMPv6 type and gains the pseudo-header (RFC 7915 §4.2).
 *
 * @param ctx engine context (`ctx.partial`: a TUN offload partial checksum)
 * @param l4Off offset of the transport header
 * @param l4Len its length to the end of the packet
 * @param proto IPv4 protocol
 * @param src IPv4 source
 * @param dst IPv4 destination
 * @param mapped the ICMPv6 type/code word of an Echo
 * @param amendUdp whether to compute a UDP checksum that was 0
 */
export function transport4to6(
  ctx: XlatContext,
  l4Off: number,
  l4Len: number,
  proto: number,
  src: number,
  dst: number,
  mapped: number,
  amendUdp: boolean,
): void {
  const b = ctx.mem;
  const v = ctx.view;
  const newSum = sumBytes(b, TMP_SRC, 32, 0);
  if (proto === ipv4.PROTO_ICMP) {
    const at = l4Off + icmp.CHECKSUM_OFF;
    const cs = adjust(
      v.getUint16(at),
      v.getUint16(l4Off),
      newSum + l4Len + ipv6.NH_ICMPV6 + mapped,
    );
    v.setUint16(l4Off, mapped);
    v.setUint16(at, cs);
  } else if (amendUdp) {
    const at = l4Off + udp.CHECKSUM_OFF;
    v.setUint16(at, 0);
    v.setUint16(at, checksum(b, l4Off, l4Len, newSum + l4Len + ipv4.PROTO_UDP) || 0xffff);
  } else {
    adjustTransportChecksum(v, l4Off, proto, sumIpv4(src) + sumIpv4(dst), newSum, ctx.partial);
  }
}
