/**
 * An ICMPv4 error translated to ICMPv6 with the packet it quotes (RFC 7915 §4.2–4.3, RFC 4884):
 * {@link icmp4ErrorTo6} and its steps — the outer message, the quoted IPv4 packet, its
 * addresses, the quoted IPv6 packet written, its transport checksum, the outer ICMPv6 and IPv6
 * headers. Called by `error4To6()` in lib/xlat/four_to_six_rare.ts; the body layout they share
 * with the other direction is in lib/xlat/icmp_error.ts.
 *
 * @module
 */

import { embedIpv4 } from "../addr/rfc6052.ts";
import { checksum, sumBytes, sumIpv4 } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as tcp from "../wire/tcp.ts";
import { adjustTransportChecksum } from "../wire/transport.ts";
import * as udp from "../wire/udp.ts";
import { HEADER_GROWTH, TMP_IDST, TMP_ISRC, TMP_SRC, type XlatContext } from "./context.ts";
import { Drop } from "./drop.ts";
import { reserve } from "./emit.ts";
import { adjustIcmpEcho4To6 } from "./icmp_echo.ts";
import { planBody, quotedLength } from "./icmp_error.ts";
import { MAX_ICMP6_ERROR } from "./icmp_gen.ts";
import { plateauBelow, V4_TO_V6_POINTER, V4_TO_V6_TYPE_CODE } from "./icmp_map.ts";

/**
 * Translates an ICMPv4 error to ICMPv6 (RFC 7915 §4.2, §4.3). The outer IPv6 addresses are
 * already in `TMP_SRC`/`TMP_DST`. The quoted packet is translated with its own addresses, in
 * the reverse roles, its transport checksum adjusted incrementally (the quote is usually cut)
 * and its TTL kept; an error quoting an ICMP error is dropped.
 *
 * @param ctx engine context
 * @param off offset of the outer IPv4 header
 * @param ihl its header length
 * @param total its total length
 * @param hairpinned whether this is the 4→6 leg of a hairpin (TTL kept, embed always)
 * @param tc traffic class of the outer IPv6 header
 * @returns offset of the IPv6 packet built in the output area, or -reason
 */
export function icmp4ErrorTo6(
  ctx: XlatContext,
  off: number,
  ihl: number,
  total: number,
  hairpinned: boolean,
  tc: number,
): number {
  const b = ctx.mem;
  const v = ctx.view;
  const ic = off + ihl;
  const end = off + total;
  const outer = outerError4(ctx, ic, total - ihl);
  if (outer < 0) return outer;
  const mapped = outer & 0xffff;
  // The quoted packet, and an RFC 4884 extension after it.
  const in4 = ic + icmp.HEADER_LEN;
  const lenAttr = icmp.v4HasLength(b[ic]!) ? b[ic + icmp.V4_LENGTH_OFF]! * 4 : 0;
  const origLen = quotedLength(end - in4, lenAttr);
  const extOff = in4 + origLen;
  const ipl = checkQuoted4(ctx, in4, origLen);
  if (ipl < 0) return ipl;
  const r = quotedAddresses4To6(ctx, in4, hairpinned);
  if (r < 0) return r;

  const ifrag = (ipv4.flagsOffset(v, in4) & (ipv4.FLAG_MF | ipv4.OFFSET_MASK)) !== 0;
  const inner6Hdr = ipv6.HEADER_LEN + (ifrag ? ipv6.FRAGMENT_LEN : 0);
  const hasLen6 = icmp.v6HasLength(mapped >> 8);
  const maxBody = MAX_ICMP6_ERROR - ipv6.HEADER_LEN - icmp.HEADER_LEN;
  const plan = planBody(inner6Hdr + ipl, hasLen6 ? end - extOff : 0, 8, maxBody);
  const innerLen = plan >>> 17;
  const padded = (plan >>> 1) & 0xffff;
  const ext = (plan & 1) !== 0;
  const icmpLen6 = icmp.HEADER_LEN + padded + (ext ? end - extOff : 0);
  const out = reserve(ctx, ipv6.HEADER_LEN + icmpLen6);
  if (out < 0) return -Drop.TOO_BIG_FOR_BUFFER;

  // The quoted packet first (the outer headers are written last).
  const ic6 = out + ipv6.HEADER_LEN;
  const i6 = ic6 + icmp.HEADER_LEN;
  writeQuoted6(ctx, in4, i6, innerLen, inner6Hdr);
  if (padded > innerLen) b.fill(0, i6 + innerLen, i6 + padded);
  if (ext) b.copyWithin(i6 + padded, extOff, end);
  if ((ipv4.flagsOffset(v, in4) & ipv4.OFFSET_MASK) === 0) {
    fixQuotedTransport4To6(ctx, in4, i6 + inner6Hdr, innerLen - inner6Hdr);
  }

  // Outer ICMPv6 header, then the outer IPv6 header and the ICMPv6 checksum.
  v.setUint16(ic6, mapped);
  v.setUint16(ic6 + icmp.CHECKSUM_OFF, 0);
  const rest6 = (mapped >> 8) === icmp.V6_PACKET_TOO_BIG
    ? packetTooBigMtu6(ctx, ic, in4, ifrag)
    : outer >>> 16;
  v.setUint32(ic6 + icmp.REST_OFF, rest6 >>> 0);
  if (hasLen6 && ext) v.setUint8(ic6 + icmp.V6_LENGTH_OFF, padded >> 3);
  const ttl = ipv4.ttl(v, off);
  ipv6.writeFixed(v, out, tc, icmpLen6, ipv6.NH_ICMPV6, hairpinned ? ttl : ttl - 1);
  b.copyWithin(out + ipv6.SOURCE_OFF, TMP_SRC, TMP_SRC + 32);
  const pseudo = ipv6.sumAddresses(b, out) + icmpLen6 + ipv6.NH_ICMPV6;
  v.setUint16(ic6 + icmp.CHECKSUM_OFF, checksum(b, ic6, icmpLen6, pseudo));
  return out;
}

/**
 * The outer ICMPv4 message: its checksum must hold, its type and code have an ICMPv6
 * counterpart (RFC 7915 §4.2), and a Parameter Problem's pointer one too (Figure 3); Protocol
 * Unreachable points at the IPv6 Next Header.
 *
 * @param ctx engine context
 * @param ic offset of the ICMPv4 header
 * @param icmpLen ICMPv4 length
 * @returns `pointer << 16 | icmpv6TypeCode`, or `-reason`
 */
export function outerError4(ctx: XlatContext, ic: number, icmpLen: number): number {
  const b = ctx.mem;
  if (checksum(b, ic, icmpLen, 0) !== 0) return -Drop.ICMP_BAD_CHECKSUM;
  const type = b[ic]!;
  const code = b[ic + icmp.CODE_OFF]!;
  const mapped = V4_TO_V6_TYPE_CODE[type * 256 + code]!;
  if (mapped < 0) return -Drop.ICMP_UNTRANSLATABLE;
  let pointer = 0;
  if (type === icmp.V4_PARAM_PROBLEM) {
    pointer = V4_TO_V6_POINTER[b[ic + icmp.V4_POINTER_OFF]!]!;
    if (pointer < 0) return -Drop.ICMP_UNTRANSLATABLE;
  } else if (type === icmp.V4_DEST_UNREACH && code === icmp.V4_CODE_PROTO_UNREACH) {
    pointer = ipv6.NEXT_HEADER_OFF;
  }
  return (pointer << 16) | mapped;
}

/**
 * The quoted IPv4 packet: a whole IPv4 header within the quote, and not an ICMP error itself
 * (only one level is translated).
 *
 * @param ctx engine context
 * @param in4 offset of the quoted packet
 * @param origLen bytes quoted
 * @returns the quoted payload bytes present (padding after the packet left out), or `-reason`
 */
export function checkQuoted4(ctx: XlatContext, in4: number, origLen: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  if (origLen < ipv4.HEADER_LEN || b[in4]! >> 4 !== 4) return -Drop.ICMP_BAD_INNER;
  const iihl = ipv4.headerLength(v, in4);
  const itotal = ipv4.totalLength(v, in4);
  if (iihl < ipv4.HEADER_LEN || iihl > origLen || itotal < iihl) return -Drop.ICMP_BAD_INNER;
  const ipl = Math.min(origLen, itotal) - iihl;
  const first = (ipv4.flagsOffset(v, in4) & ipv4.OFFSET_MASK) === 0;
  if (ipv4.protocol(v, in4) === ipv4.PROTO_ICMP && first && ipl > 0) {
    const it = b[in4 + iihl]!;
    if (it !== icmp.V4_ECHO_REQUEST && it !== icmp.V4_ECHO_REPLY) return -Drop.ICMP_ERROR_IN_ERROR;
  }
  return ipl;
}

/**
 * The quoted packet's addresses, roles reversed: its source is our IPv6 host (an existing
 * lease or static map, never a new lease) into `TMP_ISRC`, its destination the IPv4 peer
 * (static, else embedded in the prefix; a CLAT has no prefix side) into `TMP_IDST`.
 *
 * @param ctx engine context
 * @param in4 offset of the quoted packet
 * @param hairpinned whether this is the 4→6 leg of a hairpin (embed always)
 * @returns 0, or `-Drop.ICMP_INNER_UNMAPPED`
 */
export function quotedAddresses4To6(ctx: XlatContext, in4: number, hairpinned: boolean): number {
  const b = ctx.mem;
  const s = ctx.settings;
  const idst = ipv4.destination(ctx.view, in4);
  if (ctx.mapper.v6For4(ipv4.source(ctx.view, in4), b, TMP_ISRC, ctx.nowSecs, 0) === 0) {
    return -Drop.ICMP_INNER_UNMAPPED;
  }
  if (hairpinned || ctx.mapper.staticV6For4(idst, b, TMP_IDST) === 0) {
    if (s.clat) return -Drop.ICMP_INNER_UNMAPPED;
    embedIpv4(s.prefix, s.prefixLen, idst, b, TMP_IDST);
  }
  return 0;
}

/**
 * Writes the quoted packet as IPv6 at `i6`: its payload bytes, then its IPv6 header (lengths
 * from the original header, TTL kept) and a Fragment header when it was a fragment.
 *
 * @param ctx engine context
 * @param in4 offset of the quoted IPv4 packet
 * @param i6 where the IPv6 packet goes
 * @param innerLen bytes of it the error carries
 * @param inner6Hdr its IPv6 header bytes (40, or 48 with a Fragment header)
 */
export function writeQuoted6(
  ctx: XlatContext,
  in4: number,
  i6: number,
  innerLen: number,
  inner6Hdr: number,
): void {
  const v = ctx.view;
  const iihl = ipv4.headerLength(v, in4);
  const iproto = ipv4.protocol(v, in4);
  const ifo = ipv4.flagsOffset(v, in4);
  const ifrag = inner6Hdr > ipv6.HEADER_LEN;
  const copyLen = innerLen - inner6Hdr;
  ctx.mem.copyWithin(i6 + inner6Hdr, in4 + iihl, in4 + iihl + Math.max(0, copyLen));
  const inh = iproto === ipv4.PROTO_ICMP ? ipv6.NH_ICMPV6 : iproto;
  const plen = inner6Hdr - ipv6.HEADER_LEN + ipv4.totalLength(v, in4) - iihl;
  const tos = ipv4.tos(v, in4);
  ipv6.writeFixed(v, i6, tos, plen, ifrag ? ipv6.NH_FRAGMENT : inh, ipv4.ttl(v, in4));
  ctx.mem.copyWithin(i6 + ipv6.SOURCE_OFF, TMP_ISRC, TMP_ISRC + 32);
  if (ifrag) {
    const more = (ifo & ipv4.FLAG_MF) !== 0 ? 1 : 0;
    const id = ipv4.identification(v, in4);
    ipv6.writeFragment(v, i6 + ipv6.HEADER_LEN, inh, ifo & ipv4.OFFSET_MASK, more, id);
  }
}

/**
 * The quoted first fragment's transport checksum, for its new pseudo-header: TCP and UDP
 * through `adjustTransportChecksum` when the quote holds the field, an Echo through
 * `adjustIcmpEcho4To6`.
 *
 * @param ctx engine context
 * @param in4 offset of the quoted IPv4 packet
 * @param at offset of the quoted transport header in the new packet
 * @param copyLen transport bytes quoted
 */
export function fixQuotedTransport4To6(
  ctx: XlatContext,
  in4: number,
  at: number,
  copyLen: number,
): void {
  const v = ctx.view;
  const iproto = ipv4.protocol(v, in4);
  const newSum = sumBytes(ctx.mem, TMP_ISRC, 32, 0);
  if (
    (iproto === ipv4.PROTO_TCP && copyLen >= tcp.CHECKSUM_END) ||
    (iproto === ipv4.PROTO_UDP && copyLen >= udp.HEADER_LEN)
  ) {
    const oldSum = sumIpv4(ipv4.source(v, in4)) + sumIpv4(ipv4.destination(v, in4));
    adjustTransportChecksum(v, at, iproto, oldSum, newSum, false);
  } else if (iproto === ipv4.PROTO_ICMP && copyLen >= icmp.REST_OFF) {
    const newWord = V4_TO_V6_TYPE_CODE[v.getUint16(at)]!;
    const upperLen = ipv4.totalLength(v, in4) - ipv4.headerLength(v, in4);
    if (newWord >= 0) adjustIcmpEcho4To6(v, at, upperLen, newSum, newWord);
  }
}

/**
 * The MTU of a Packet Too Big made from Fragmentation Needed (RFC 7915 §4.2): the reported
 * MTU (or the RFC 1191 plateau below the quoted packet's size when it is 0) plus the header
 * growth, within `MTU6`, `MTU4` plus the growth, and at least 1280.
 *
 * @param ctx engine context
 * @param ic offset of the ICMPv4 header
 * @param in4 offset of the quoted packet
 * @param ifrag whether the quoted packet is a fragment
 * @returns the MTU
 */
export function packetTooBigMtu6(
  ctx: XlatContext,
  ic: number,
  in4: number,
  ifrag: boolean,
): number {
  const s = ctx.settings;
  let mtu4 = ctx.view.getUint16(ic + icmp.V4_NEXT_MTU_OFF);
  if (mtu4 === 0) mtu4 = plateauBelow(ipv4.totalLength(ctx.view, in4));
  const grow = ifrag ? HEADER_GROWTH + ipv6.FRAGMENT_LEN : HEADER_GROWTH;
  return Math.max(ipv6.MIN_MTU, Math.min(mtu4 + grow, s.mtu6, s.mtu4 + grow));
}
