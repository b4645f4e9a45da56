/**
 * Translation of ICMP error messages together with the packet they quote
 * (RFC 7915 §4.2–4.3 and §5.2–5.3), including the RFC 4884 length attribute
 * and extension structure.
 *
 * The quoted ("inner") packet is translated with its own addresses — in the
 * reverse roles of the outer packet — and its transport checksum is adjusted
 * incrementally, because the quote is usually truncated. The inner TTL/hop
 * limit is not decremented. Only one level is translated: an error quoting an
 * ICMP error is dropped.
 *
 * @module
 */

import { embedIpv4, extractIpv4, matchesPrefix, NOT_IPV4 } from "../addr/rfc6052.ts";
import { checksum, sumBytes, sumIpv4 } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as tcp from "../wire/tcp.ts";
import { adjustTransportChecksum } from "../wire/transport.ts";
import * as udp from "../wire/udp.ts";
import {
  DF_THRESHOLD_BYTES,
  HEADER_GROWTH,
  TMP_IDST,
  TMP_ISRC,
  TMP_SRC,
  type XlatContext,
} from "./context.ts";
import { Drop } from "./drop.ts";
import { reserve } from "./emit.ts";
import { adjustIcmpEcho4To6, adjustIcmpEcho6To4 } from "./icmp_echo.ts";
import { MAX_ICMP4_ERROR, MAX_ICMP6_ERROR } from "./icmp_gen.ts";
import {
  plateauBelow,
  V4_TO_V6_POINTER,
  V4_TO_V6_TYPE_CODE,
  V6_TO_V4_POINTER,
  V6_TO_V4_TYPE_CODE,
} from "./icmp_map.ts";

/** RFC 4884 §4.1: the original datagram is padded to at least this many bytes. */
const MIN_ORIGINAL_DATAGRAM = 128;

/**
 * Lays out the translated error body per RFC 4884 §4–5 and Jool's rules:
 * when an extension follows, the original datagram is padded to 128 bytes or
 * cut to a whole number of units; if the result is too big the datagram is
 * shortened down to 128 bytes, and if the extension still does not fit it is
 * removed.
 *
 * @returns `innerLen << 17 | padded << 1 | ext` (all values ≤ 1280), so no
 *   object is allocated per packet
 */
function planBody(innerLen: number, extLen: number, unit: number, maxBody: number): number {
  let ext = extLen > 0;
  let inner = innerLen;
  let padded = inner;
  if (ext) {
    // Short datagrams are zero-padded to 128 bytes; longer ones are cut to
    // a whole number of units (as Jool does) rather than padded.
    padded = inner < MIN_ORIGINAL_DATAGRAM ? MIN_ORIGINAL_DATAGRAM : roundDown(inner, unit);
    inner = Math.min(inner, padded);
    if (padded + extLen > maxBody) {
      const room = roundDown(maxBody - extLen, unit);
      if (room >= MIN_ORIGINAL_DATAGRAM) {
        inner = Math.min(inner, room);
        padded = room;
      } else {
        ext = false;
        inner = innerLen;
      }
    }
  }
  if (!ext) {
    inner = Math.min(inner, maxBody);
    padded = inner;
  }
  return (inner << 17) | (padded << 1) | (ext ? 1 : 0);
}

function roundDown(n: number, unit: number): number {
  return Math.floor(n / unit) * unit;
}

/**
 * Translates an ICMPv4 error to ICMPv6 (RFC 7915 §4.2, §4.3). The outer IPv6
 * addresses are already in `TMP_SRC`/`TMP_DST`.
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
  const s = ctx.settings;
  const ic = off + ihl;
  const end = off + total;
  const icmpLen = total - ihl;
  if (checksum(b, ic, icmpLen, 0) !== 0) return -Drop.ICMP_BAD_CHECKSUM;
  const type = b[ic]!;
  const code = b[ic + icmp.CODE_OFF]!;
  const mapped = V4_TO_V6_TYPE_CODE[type * 256 + code]!;
  if (mapped < 0) return -Drop.ICMP_UNTRANSLATABLE;
  const type6 = mapped >> 8;
  let rest6 = 0;
  if (type === icmp.V4_PARAM_PROBLEM) {
    rest6 = V4_TO_V6_POINTER[b[ic + icmp.V4_POINTER_OFF]!]!;
    if (rest6 < 0) return -Drop.ICMP_UNTRANSLATABLE;
  } else if (type === icmp.V4_DEST_UNREACH && code === icmp.V4_CODE_PROTO_UNREACH) {
    rest6 = ipv6.NEXT_HEADER_OFF; // pointer to the IPv6 Next Header field
  }

  // The quoted packet, and an RFC 4884 extension after it.
  const in4 = ic + icmp.HEADER_LEN;
  let origLen = end - in4;
  let extOff = end;
  const lenAttr = icmp.v4HasLength(type) ? b[ic + icmp.V4_LENGTH_OFF]! : 0;
  if (lenAttr !== 0 && lenAttr * 4 <= origLen) {
    origLen = lenAttr * 4;
    extOff = in4 + origLen;
  }
  const extLen = end - extOff;
  if (origLen < ipv4.HEADER_LEN || b[in4]! >> 4 !== 4) return -Drop.ICMP_BAD_INNER;
  const iihl = ipv4.headerLength(v, in4);
  const itotal = ipv4.totalLength(v, in4);
  if (iihl < ipv4.HEADER_LEN || iihl > origLen || itotal < iihl) return -Drop.ICMP_BAD_INNER;
  const iproto = ipv4.protocol(v, in4);
  const ifo = ipv4.flagsOffset(v, in4);
  const ifrag = (ifo & (ipv4.FLAG_MF | ipv4.OFFSET_MASK)) !== 0;
  const ifirst = (ifo & ipv4.OFFSET_MASK) === 0;
  const isrc = ipv4.source(v, in4);
  const idst = ipv4.destination(v, in4);
  // Payload bytes present: zero padding after the quoted packet is dropped.
  const ipl = Math.min(origLen, itotal) - iihl;
  if (iproto === ipv4.PROTO_ICMP && ifirst && ipl > 0) {
    const it = b[in4 + iihl]!;
    if (it !== icmp.V4_ECHO_REQUEST && it !== icmp.V4_ECHO_REPLY) return -Drop.ICMP_ERROR_IN_ERROR;
  }

  // Inner addresses, roles reversed: the source is our IPv6 host, the
  // destination the IPv4 peer.
  if (ctx.mapper.v6For4(isrc, b, TMP_ISRC, ctx.nowSecs, 0) === 0) {
    return -Drop.ICMP_INNER_UNMAPPED;
  }
  if (hairpinned || ctx.mapper.staticV6For4(idst, b, TMP_IDST) === 0) {
    if (s.clat) return -Drop.ICMP_INNER_UNMAPPED;
    embedIpv4(s.prefix, s.prefixLen, idst, b, TMP_IDST);
  }

  const ifragHdr = ifrag ? ipv6.FRAGMENT_LEN : 0;
  const inner6Hdr = ipv6.HEADER_LEN + ifragHdr;
  const hasLen6 = icmp.v6HasLength(type6);
  const plan = planBody(
    inner6Hdr + ipl,
    hasLen6 ? extLen : 0,
    8,
    MAX_ICMP6_ERROR - ipv6.HEADER_LEN - icmp.HEADER_LEN,
  );
  const innerLen = plan >>> 17;
  const padded = (plan >>> 1) & 0xffff;
  const ext = (plan & 1) !== 0;
  const bodyLen = padded + (ext ? extLen : 0);
  const icmpLen6 = icmp.HEADER_LEN + bodyLen;
  const out = reserve(ctx, ipv6.HEADER_LEN + icmpLen6);
  if (out < 0) return -Drop.TOO_BIG_FOR_BUFFER;

  // Inner IPv6 header and payload first (the outer header is written last).
  const ic6 = out + ipv6.HEADER_LEN;
  const i6 = ic6 + icmp.HEADER_LEN;
  const copyLen = innerLen - inner6Hdr;
  b.copyWithin(i6 + inner6Hdr, in4 + iihl, in4 + iihl + Math.max(0, copyLen));
  const inh = iproto === ipv4.PROTO_ICMP ? ipv6.NH_ICMPV6 : iproto;
  ipv6.writeFixed(
    v,
    i6,
    ipv4.tos(v, in4),
    ifragHdr + itotal - iihl,
    ifrag ? ipv6.NH_FRAGMENT : inh,
    ipv4.ttl(v, in4),
  );
  b.copyWithin(i6 + ipv6.SOURCE_OFF, TMP_ISRC, TMP_ISRC + 32);
  if (ifrag) {
    ipv6.writeFragment(
      v,
      i6 + ipv6.HEADER_LEN,
      inh,
      ifo & ipv4.OFFSET_MASK,
      (ifo & ipv4.FLAG_MF) !== 0 ? 1 : 0,
      ipv4.identification(v, in4),
    );
  }
  if (padded > innerLen) b.fill(0, i6 + innerLen, i6 + padded);
  if (ext) b.copyWithin(i6 + padded, extOff, end);

  // Inner transport checksum, adjusted for the new pseudo-header.
  if (ifirst) {
    const ip = i6 + inner6Hdr;
    const oldSum = sumIpv4(isrc) + sumIpv4(idst);
    const newSum = sumBytes(b, TMP_ISRC, 32, 0);
    if (
      (iproto === ipv4.PROTO_TCP && copyLen >= tcp.CHECKSUM_END) ||
      (iproto === ipv4.PROTO_UDP && copyLen >= udp.HEADER_LEN)
    ) {
      adjustTransportChecksum(v, ip, iproto, oldSum, newSum, false);
    } else if (iproto === ipv4.PROTO_ICMP && copyLen >= icmp.REST_OFF) {
      const newWord = V4_TO_V6_TYPE_CODE[v.getUint16(ip)]!;
      if (newWord >= 0) adjustIcmpEcho4To6(v, ip, itotal - iihl, newSum, newWord);
    }
  }

  // Outer ICMPv6 header.
  v.setUint16(ic6, mapped);
  v.setUint16(ic6 + icmp.CHECKSUM_OFF, 0);
  if (type6 === icmp.V6_PACKET_TOO_BIG) {
    let mtu4 = v.getUint16(ic + icmp.V4_NEXT_MTU_OFF);
    if (mtu4 === 0) mtu4 = plateauBelow(itotal);
    const grow = ifrag ? HEADER_GROWTH + ipv6.FRAGMENT_LEN : HEADER_GROWTH;
    rest6 = Math.max(ipv6.MIN_MTU, Math.min(mtu4 + grow, s.mtu6, s.mtu4 + grow));
  }
  v.setUint32(ic6 + icmp.REST_OFF, rest6 >>> 0);
  if (hasLen6 && ext) v.setUint8(ic6 + icmp.V6_LENGTH_OFF, padded >> 3);

  // Outer IPv6 header.
  const ttl = ipv4.ttl(v, off);
  ipv6.writeFixed(
    v,
    out,
    tc,
    icmpLen6,
    ipv6.NH_ICMPV6,
    hairpinned ? ttl : ttl - 1,
  );
  b.copyWithin(out + ipv6.SOURCE_OFF, TMP_SRC, TMP_SRC + 32);
  const pseudo = ipv6.sumAddresses(b, out) + icmpLen6 + ipv6.NH_ICMPV6;
  v.setUint16(ic6 + icmp.CHECKSUM_OFF, checksum(b, ic6, icmpLen6, pseudo));
  return out;
}

/**
 * Translates an ICMPv6 error to ICMPv4 (RFC 7915 §5.2, §5.3).
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
  const s = ctx.settings;
  const icmpLen = end - ic;
  const pseudo = ipv6.sumAddresses(b, off) + icmpLen + ipv6.NH_ICMPV6;
  if (checksum(b, ic, icmpLen, pseudo) !== 0) return -Drop.ICMP_BAD_CHECKSUM;
  const type = b[ic]!;
  const code = b[ic + icmp.CODE_OFF]!;
  const mapped = V6_TO_V4_TYPE_CODE[type * 256 + code]!;
  if (mapped < 0) return -Drop.ICMP_UNTRANSLATABLE;
  const type4 = mapped >> 8;
  let rest4 = 0;
  if (type === icmp.V6_PARAM_PROBLEM && code === 0) {
    const ptr = v.getUint32(ic + icmp.V6_MTU_POINTER_OFF);
    const p4 = ptr < 256 ? V6_TO_V4_POINTER[ptr]! : -1;
    if (p4 < 0) return -Drop.ICMP_UNTRANSLATABLE;
    rest4 = p4 << 24;
  }

  const in6 = ic + icmp.HEADER_LEN;
  let origLen = end - in6;
  let extOff = end;
  const lenAttr = icmp.v6HasLength(type) ? b[ic + icmp.V6_LENGTH_OFF]! : 0;
  if (lenAttr !== 0 && lenAttr * 8 <= origLen) {
    origLen = lenAttr * 8;
    extOff = in6 + origLen;
  }
  const extLen = end - extOff;
  if (origLen < ipv6.HEADER_LEN || b[in6]! >> 4 !== 6) return -Drop.ICMP_BAD_INNER;
  const iplen = ipv6.payloadLength(v, in6);
  const qend = in6 + Math.min(origLen, ipv6.HEADER_LEN + iplen);

  // Walk the quoted packet's extension headers within the quote.
  let inh = ipv6.nextHeader(v, in6);
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
  const upperLen = iplen - (p - in6 - ipv6.HEADER_LEN);
  if (upperLen < 0) return -Drop.ICMP_BAD_INNER;
  const ipl = qend - p;
  let ifirst = true;
  let ifragWord = 0;
  let iid = 0;
  if (ifragOff >= 0) {
    const offsetBytes = ipv6.fragmentOffsetBytes(v, ifragOff);
    ifirst = offsetBytes === 0;
    ifragWord = (ipv6.fragmentMore(v, ifragOff) !== 0 ? ipv4.FLAG_MF : 0) | (offsetBytes >> 3);
    iid = ipv6.fragmentId(v, ifragOff) & 0xffff;
  }
  if (inh === ipv6.NH_ICMPV6 && ifirst && ipl > 0) {
    const it = b[p]!;
    if (it !== icmp.V6_ECHO_REQUEST && it !== icmp.V6_ECHO_REPLY) return -Drop.ICMP_ERROR_IN_ERROR;
  }

  // Inner addresses, roles reversed: source is the IPv4 peer (in the
  // prefix), destination our IPv6 host (its lease; never a new one).
  const isrcOff = in6 + ipv6.SOURCE_OFF;
  let isrc4 = ctx.mapper.staticV4For6(b, isrcOff);
  if (isrc4 === NOT_IPV4) {
    if (s.clat || !matchesPrefix(b, isrcOff, s.prefix, s.prefixLen)) {
      return -Drop.ICMP_INNER_UNMAPPED;
    }
    isrc4 = extractIpv4(b, isrcOff, s.prefixLen);
    if (isrc4 === NOT_IPV4) return -Drop.ICMP_INNER_UNMAPPED;
  }
  const idst4 = ctx.mapper.v4For6(b, in6 + ipv6.DESTINATION_OFF, ctx.nowSecs, 0);
  if (idst4 >= NOT_IPV4) return -Drop.ICMP_INNER_UNMAPPED;

  const hasLen4 = icmp.v4HasLength(type4);
  const plan = planBody(
    ipv4.HEADER_LEN + ipl,
    hasLen4 ? extLen : 0,
    4,
    MAX_ICMP4_ERROR - ipv4.HEADER_LEN - icmp.HEADER_LEN,
  );
  const innerLen = plan >>> 17;
  const padded = (plan >>> 1) & 0xffff;
  const ext = (plan & 1) !== 0;
  const bodyLen = padded + (ext ? extLen : 0);
  const icmpLen4 = icmp.HEADER_LEN + bodyLen;
  const total4 = ipv4.HEADER_LEN + icmpLen4;
  const out = reserve(ctx, total4);
  if (out < 0) return -Drop.TOO_BIG_FOR_BUFFER;

  const ic4 = out + ipv4.HEADER_LEN;
  const i4 = ic4 + icmp.HEADER_LEN;
  const copyLen = innerLen - ipv4.HEADER_LEN;
  b.copyWithin(i4 + ipv4.HEADER_LEN, p, p + Math.max(0, copyLen));
  const itotal4 = ipv4.HEADER_LEN + upperLen;
  const iflags = ifragOff >= 0 ? ifragWord : (itotal4 > DF_THRESHOLD_BYTES ? ipv4.FLAG_DF : 0);
  ipv4.writeHeader(
    b,
    v,
    i4,
    ipv6.trafficClass(v, in6),
    itotal4,
    iid,
    iflags,
    ipv6.hopLimit(v, in6),
    inh === ipv6.NH_ICMPV6 ? ipv4.PROTO_ICMP : inh,
    isrc4,
    idst4,
  );
  if (padded > innerLen) b.fill(0, i4 + innerLen, i4 + padded);
  if (ext) b.copyWithin(i4 + padded, extOff, end);

  if (ifirst) {
    const ip = i4 + ipv4.HEADER_LEN;
    const oldSum = ipv6.sumAddresses(b, in6);
    const newSum = sumIpv4(isrc4) + sumIpv4(idst4);
    if (
      (inh === ipv4.PROTO_TCP && copyLen >= tcp.CHECKSUM_END) ||
      (inh === ipv4.PROTO_UDP && copyLen >= udp.HEADER_LEN)
    ) {
      adjustTransportChecksum(v, ip, inh, oldSum, newSum, false);
    } else if (inh === ipv6.NH_ICMPV6 && copyLen >= icmp.REST_OFF) {
      const newWord = V6_TO_V4_TYPE_CODE[v.getUint16(ip)]!;
      if (newWord >= 0) adjustIcmpEcho6To4(v, ip, upperLen, oldSum, newWord);
    }
  }

  v.setUint16(ic4, mapped);
  v.setUint16(ic4 + icmp.CHECKSUM_OFF, 0);
  if (type === icmp.V6_PACKET_TOO_BIG) {
    const shrink = ifragOff >= 0 ? HEADER_GROWTH + ipv6.FRAGMENT_LEN : HEADER_GROWTH;
    const mtu = Math.min(
      v.getUint32(ic + icmp.V6_MTU_POINTER_OFF) - shrink,
      s.mtu4,
      s.mtu6 - shrink,
    );
    rest4 = Math.max(0, Math.min(0xffff, mtu));
  }
  v.setUint32(ic4 + icmp.REST_OFF, rest4 >>> 0);
  if (hasLen4 && ext) v.setUint8(ic4 + icmp.V4_LENGTH_OFF, padded >> 2);
  v.setUint16(ic4 + icmp.CHECKSUM_OFF, checksum(b, ic4, icmpLen4, 0));

  ipv4.writeHeader(
    b,
    v,
    out,
    tos,
    total4,
    id4,
    0,
    ipv6.hopLimit(v, off) - 1,
    ipv4.PROTO_ICMP,
    src4,
    dst4,
  );
  return out;
}
