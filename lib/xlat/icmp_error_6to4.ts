/**
 * An ICMPv6 error translated to ICMPv4 with the packet it quotes (RFC 7915 §5.2–5.3, RFC 4884):
 * {@link icmp6ErrorTo4} and its steps — the outer message, the quoted IPv6 packet's extension
 * headers, its addresses, the quoted IPv4 packet written, its transport checksum, the outer
 * ICMPv4 and IPv4 headers. Called by `error6To4()` in lib/xlat/six_to_four_rare.ts; the body
 * layout they share with the other direction is in lib/xlat/icmp_error.ts.
 *
 * @module
 */

import { extractIpv4, matchesPrefix, NOT_IPV4 } from "../addr/rfc6052.ts";
import { checksum, sumIpv4 } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as tcp from "../wire/tcp.ts";
import { adjustTransportChecksum } from "../wire/transport.ts";
import * as udp from "../wire/udp.ts";
import { DF_THRESHOLD_BYTES, HEADER_GROWTH, type XlatContext } from "./context.ts";
import { Drop } from "./drop.ts";
import { reserve } from "./emit.ts";
import { adjustIcmpEcho6To4 } from "./icmp_echo.ts";
import { planBody, quotedLength } from "./icmp_error.ts";
import { MAX_ICMP4_ERROR } from "./icmp_gen.ts";
import { V6_TO_V4_POINTER, V6_TO_V4_TYPE_CODE } from "./icmp_map.ts";

/**
 * Translates an ICMPv6 error to ICMPv4 (RFC 7915 §5.2, §5.3). The quoted packet is translated
 * with its own addresses, in the reverse roles, its transport checksum adjusted incrementally
 * (the quote is usually cut) and its hop limit kept; an error quoting an ICMP error is dropped.
 *
 * @param ctx engine context
 * @param off offset of the outer IPv6 header
 * @param ic offset of the ICMPv6 header
 * @param end end of the packet
 * @param src4 outer IPv4 source (already mapped, RFC 6791 applied)
 * @param dst4 outer IPv4 destination
 * @param id4 outer IPv4 Identification (from an atomic Fragment header, else generated)
 * @param tos TOS of the outer IPv4 header
 * @returns offset of the IPv4 packet built in the output area, or -reason
 */
export function icmp6ErrorTo4(
  ctx: XlatContext,
  off: number,
  ic: number,
  end: number,
  src4: number,
  dst4: number,
  id4: number,
  tos: number,
): number {
  const b = ctx.mem;
  const v = ctx.view;
  const outer = outerError6(ctx, off, ic, end);
  if (outer < 0) return outer;
  const mapped = outer & 0xffff;
  const in6 = ic + icmp.HEADER_LEN;
  const lenAttr = icmp.v6HasLength(b[ic]!) ? b[ic + icmp.V6_LENGTH_OFF]! * 8 : 0;
  const origLen = quotedLength(end - in6, lenAttr);
  const extOff = in6 + origLen;
  if (origLen < ipv6.HEADER_LEN || b[in6]! >> 4 !== 6) return -Drop.ICMP_BAD_INNER;
  const iplen = ipv6.payloadLength(v, in6);
  const qend = in6 + Math.min(origLen, ipv6.HEADER_LEN + iplen);
  const walked = quotedHeaders6(ctx, in6, qend);
  if (walked < 0) return walked;
  const p = walked >>> 8;
  const inh = walked & 0xff;
  const ifragOff = ctx.fragmentHeaderAt;
  const upperLen = iplen - (p - in6 - ipv6.HEADER_LEN);
  if (upperLen < 0) return -Drop.ICMP_BAD_INNER;
  const ipl = qend - p;
  const ifirst = ifragOff < 0 || ipv6.fragmentOffsetBytes(v, ifragOff) === 0;
  if (inh === ipv6.NH_ICMPV6 && ifirst && ipl > 0) {
    const it = b[p]!;
    if (it !== icmp.V6_ECHO_REQUEST && it !== icmp.V6_ECHO_REPLY) return -Drop.ICMP_ERROR_IN_ERROR;
  }
  // Quoted addresses, roles reversed: the source is the IPv4 peer, the destination our IPv6
  // host (its lease; never a new one).
  const isrc4 = quotedSource6To4(ctx, in6 + ipv6.SOURCE_OFF);
  if (isrc4 === NOT_IPV4) return -Drop.ICMP_INNER_UNMAPPED;
  const idst4 = ctx.mapper.v4For6(b, in6 + ipv6.DESTINATION_OFF, ctx.nowSecs, 0);
  if (idst4 >= NOT_IPV4) return -Drop.ICMP_INNER_UNMAPPED;

  const hasLen4 = icmp.v4HasLength(mapped >> 8);
  const maxBody = MAX_ICMP4_ERROR - ipv4.HEADER_LEN - icmp.HEADER_LEN;
  const plan = planBody(ipv4.HEADER_LEN + ipl, hasLen4 ? end - extOff : 0, 4, maxBody);
  const innerLen = plan >>> 17;
  const padded = (plan >>> 1) & 0xffff;
  const ext = (plan & 1) !== 0;
  const icmpLen4 = icmp.HEADER_LEN + padded + (ext ? end - extOff : 0);
  const total4 = ipv4.HEADER_LEN + icmpLen4;
  const out = reserve(ctx, total4);
  if (out < 0) return -Drop.TOO_BIG_FOR_BUFFER;

  const ic4 = out + ipv4.HEADER_LEN;
  const i4 = ic4 + icmp.HEADER_LEN;
  const copyLen = innerLen - ipv4.HEADER_LEN;
  b.copyWithin(i4 + ipv4.HEADER_LEN, p, p + Math.max(0, copyLen));
  writeQuoted4(ctx, in6, i4, ipv4.HEADER_LEN + upperLen, inh, ifragOff, isrc4, idst4);
  if (padded > innerLen) b.fill(0, i4 + innerLen, i4 + padded);
  if (ext) b.copyWithin(i4 + padded, extOff, end);
  if (ifirst) {
    fixQuotedTransport6To4(ctx, in6, i4 + ipv4.HEADER_LEN, copyLen, inh, upperLen, isrc4, idst4);
  }

  v.setUint16(ic4, mapped);
  v.setUint16(ic4 + icmp.CHECKSUM_OFF, 0);
  const rest4 = b[ic] === icmp.V6_PACKET_TOO_BIG
    ? packetTooBigMtu4(ctx, ic, ifragOff >= 0)
    : (outer >>> 16) << 24;
  v.setUint32(ic4 + icmp.REST_OFF, rest4 >>> 0);
  if (hasLen4 && ext) v.setUint8(ic4 + icmp.V4_LENGTH_OFF, padded >> 2);
  v.setUint16(ic4 + icmp.CHECKSUM_OFF, checksum(b, ic4, icmpLen4, 0));
  const hop = ipv6.hopLimit(v, off) - 1;
  ipv4.writeHeader(b, v, out, tos, total4, id4, 0, hop, ipv4.PROTO_ICMP, src4, dst4);
  return out;
}

/**
 * The outer ICMPv6 message: its checksum must hold, its type and code have an ICMPv4
 * counterpart (RFC 7915 §5.2), and an erroneous-header Parameter Problem's pointer one too
 * (Figure 6).
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param ic offset of the ICMPv6 header
 * @param end end of the packet
 * @returns `icmpv4Pointer << 16 | icmpv4TypeCode`, or `-reason`
 */
export function outerError6(ctx: XlatContext, off: number, ic: number, end: number): number {
  const b = ctx.mem;
  const icmpLen = end - ic;
  const pseudo = ipv6.sumAddresses(b, off) + icmpLen + ipv6.NH_ICMPV6;
  if (checksum(b, ic, icmpLen, pseudo) !== 0) return -Drop.ICMP_BAD_CHECKSUM;
  const type = b[ic]!;
  const code = b[ic + icmp.CODE_OFF]!;
  const mapped = V6_TO_V4_TYPE_CODE[type * 256 + code]!;
  if (mapped < 0) return -Drop.ICMP_UNTRANSLATABLE;
  if (type !== icmp.V6_PARAM_PROBLEM || code !== 0) return mapped;
  const ptr = ctx.view.getUint32(ic + icmp.V6_MTU_POINTER_OFF);
  const p4 = ptr < 256 ? V6_TO_V4_POINTER[ptr]! : -1;
  return p4 < 0 ? -Drop.ICMP_UNTRANSLATABLE : (p4 << 16) | mapped;
}

/**
 * Walks the quoted packet's extension headers within the quote; the first Fragment header's
 * offset is left in `ctx.fragmentHeaderAt` (-1 for none).
 *
 * @param ctx engine context
 * @param in6 offset of the quoted IPv6 packet
 * @param qend end of what is quoted of it
 * @returns `upperLayerOffset << 8 | upperLayerProtocol`, or `-Drop.ICMP_BAD_INNER`
 */
export function quotedHeaders6(ctx: XlatContext, in6: number, qend: number): number {
  const b = ctx.mem;
  let inh = ipv6.nextHeader(ctx.view, in6);
  let p = in6 + ipv6.HEADER_LEN;
  let ifragOff = -1;
  for (let i = 0;; i++) {
    if (i > 8) return -Drop.ICMP_BAD_INNER;
    if (inh === ipv6.NH_HOP_BY_HOP || inh === ipv6.NH_DEST_OPTS || inh === ipv6.NH_ROUTING) {
      if (p + ipv6.EXT_MIN_LEN > qend) return -Drop.ICMP_BAD_INNER;
      const hlen = ipv6.extLength(b, p);
      if (p + hlen > qend) return -Drop.ICMP_BAD_INNER;
      inh = b[p]!;
      p += hlen;
      continue;
    }
    if (inh === ipv6.NH_FRAGMENT && ifragOff < 0) {
      if (p + ipv6.FRAGMENT_LEN > qend) return -Drop.ICMP_BAD_INNER;
      ifragOff = p;
      inh = b[p]!;
      p += ipv6.FRAGMENT_LEN;
      continue;
    }
    break;
  }
  ctx.fragmentHeaderAt = ifragOff;
  return (p << 8) | inh;
}

/**
 * The quoted packet's IPv4 source, the peer: its static map, else the address embedded in the
 * prefix (a CLAT has no prefix side).
 *
 * @param ctx engine context
 * @param srcOff offset of the quoted IPv6 source
 * @returns the address, or `NOT_IPV4`
 */
export function quotedSource6To4(ctx: XlatContext, srcOff: number): number {
  const b = ctx.mem;
  const s = ctx.settings;
  const isrc4 = ctx.mapper.staticV4For6(b, srcOff);
  if (isrc4 !== NOT_IPV4) return isrc4;
  if (s.clat || !matchesPrefix(b, srcOff, s.prefix, s.prefixLen)) return NOT_IPV4;
  return extractIpv4(b, srcOff, s.prefixLen);
}

/**
 * Writes the quoted packet's IPv4 header at `i4` (its payload is already after it): lengths
 * from the original header, hop limit kept, the Fragment header's fields, else DF by size
 * (RFC 7915 §5.1).
 *
 * @param ctx engine context
 * @param in6 offset of the quoted IPv6 packet
 * @param i4 where the IPv4 header goes
 * @param itotal4 its total length
 * @param inh upper-layer protocol
 * @param ifragOff offset of its Fragment header, or -1
 * @param isrc4 its IPv4 source
 * @param idst4 its IPv4 destination
 */
export function writeQuoted4(
  ctx: XlatContext,
  in6: number,
  i4: number,
  itotal4: number,
  inh: number,
  ifragOff: number,
  isrc4: number,
  idst4: number,
): void {
  const v = ctx.view;
  let iid = 0;
  let iflags = itotal4 > DF_THRESHOLD_BYTES ? ipv4.FLAG_DF : 0;
  if (ifragOff >= 0) {
    const more = ipv6.fragmentMore(v, ifragOff) !== 0 ? ipv4.FLAG_MF : 0;
    iflags = more | (ipv6.fragmentOffsetBytes(v, ifragOff) >> 3);
    iid = ipv6.fragmentId(v, ifragOff) & 0xffff;
  }
  const tos = ipv6.trafficClass(v, in6);
  const proto = inh === ipv6.NH_ICMPV6 ? ipv4.PROTO_ICMP : inh;
  const hop = ipv6.hopLimit(v, in6);
  ipv4.writeHeader(ctx.mem, v, i4, tos, itotal4, iid, iflags, hop, proto, isrc4, idst4);
}

/**
 * The quoted first fragment's transport checksum, for its new pseudo-header: TCP and UDP
 * through `adjustTransportChecksum` when the quote holds the field (a UDP checksum of 0 left
 * alone), an Echo through `adjustIcmpEcho6To4`.
 *
 * @param ctx engine context
 * @param in6 offset of the quoted IPv6 packet
 * @param at offset of the quoted transport header in the new packet
 * @param copyLen transport bytes quoted
 * @param inh upper-layer protocol
 * @param upperLen its length per the quoted header
 * @param isrc4 the quoted packet's IPv4 source
 * @param idst4 its IPv4 destination
 */
export function fixQuotedTransport6To4(
  ctx: XlatContext,
  in6: number,
  at: number,
  copyLen: number,
  inh: number,
  upperLen: number,
  isrc4: number,
  idst4: number,
): void {
  const v = ctx.view;
  const oldSum = ipv6.sumAddresses(ctx.mem, in6);
  if (
    (inh === ipv4.PROTO_TCP && copyLen >= tcp.CHECKSUM_END) ||
    (inh === ipv4.PROTO_UDP && copyLen >= udp.HEADER_LEN)
  ) {
    adjustTransportChecksum(v, at, inh, oldSum, sumIpv4(isrc4) + sumIpv4(idst4), false);
  } else if (inh === ipv6.NH_ICMPV6 && copyLen >= icmp.REST_OFF) {
    const newWord = V6_TO_V4_TYPE_CODE[v.getUint16(at)]!;
    if (newWord >= 0) adjustIcmpEcho6To4(v, at, upperLen, oldSum, newWord);
  }
}

/**
 * The MTU of a Fragmentation Needed made from Packet Too Big (RFC 7915 §5.2): the reported MTU
 * less the header shrink, within `MTU4` and `MTU6` less the shrink, in 0..65535.
 *
 * @param ctx engine context
 * @param ic offset of the ICMPv6 header
 * @param ifrag whether the quoted packet has a Fragment header
 * @returns the MTU
 */
export function packetTooBigMtu4(ctx: XlatContext, ic: number, ifrag: boolean): number {
  const s = ctx.settings;
  const shrink = ifrag ? HEADER_GROWTH + ipv6.FRAGMENT_LEN : HEADER_GROWTH;
  const reported = ctx.view.getUint32(ic + icmp.V6_MTU_POINTER_OFF);
  return Math.max(0, Math.min(0xffff, Math.min(reported - shrink, s.mtu4, s.mtu6 - shrink)));
}
