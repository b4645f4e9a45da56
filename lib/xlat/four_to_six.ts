/**
 * IPv4 → IPv6 (RFC 7915 §4): {@link from4} and its steps, in the order a packet meets them —
 * validate, checks that end in an ICMPv4 answer (own address, source route, TTL), map the
 * destination and the source, ICMP (reassembly, errors), transport checks, size and
 * fragmentation, transport checksums, emit. `from4` keeps the packet's state in its locals and
 * runs the common case inline; the steps it calls take and return numbers (lib/xlat/steps.ts
 * says how they report a refusal), and the rare branches live in lib/xlat/four_to_six_rare.ts.
 * Validation and emit stay written out in `from4` (docs/ARCHITECTURE.md, "Why not every step is
 * a function").
 *
 * @module
 */

import { embedIpv4 } from "../addr/rfc6052.ts";
import { isInvalidSource4, isMulticastOrBroadcast4 } from "../addr/special.ts";
import { sumIpv4 } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { adjustTransportChecksum } from "../wire/transport.ts";
import * as udp from "../wire/udp.ts";
import { LEASE_REFRESH } from "../lease/table.ts";
import { TMP_DST, TMP_SRC, type XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { drop, emit } from "./emit.ts";
import { emitFragments6 } from "./fragment.ts";
import { checkTransportHeader, FLAG_HAIRPIN } from "./steps.ts";
import {
  AMEND_UDP,
  error4To6,
  fragmentationNeeded4,
  icmpQuery4To6,
  reassemble4To6,
  rebuildChecksum4To6,
  refuse4,
  sourceOutsidePrefix4,
  sourceRouted4,
  sourceRouteFailed4,
  timeExceeded4,
  toSelf4,
  udpChecksumZero4,
} from "./four_to_six_rare.ts";

/**
 * IPv4 → IPv6 (RFC 7915 §4).
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header in `ctx.mem` (at least 48 bytes of headroom)
 * @param len bytes available
 * @param flags `FLAG_HAIRPIN`, `FLAG_REASSEMBLED` or 0
 * @returns as `translate()`
 */
export function from4(ctx: XlatContext, off: number, len: number, flags: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const s = ctx.settings;
  const hairpinned = (flags & FLAG_HAIRPIN) !== 0;
  // Validate (RFC 791; the hairpin leg's header is the translator's own, not rechecked).
  if (len < ipv4.HEADER_LEN) return drop(ctx, Drop.TRUNCATED);
  const ihl = ipv4.headerLength(v, off);
  const total = ipv4.totalLength(v, off);
  if (ihl < ipv4.HEADER_LEN || total < ihl) return drop(ctx, Drop.BAD_IHL);
  if (total > len) return drop(ctx, Drop.TRUNCATED);
  if (!hairpinned && !ipv4.headerChecksumValid(v, off, ihl)) {
    return drop(ctx, Drop.BAD_HEADER_CHECKSUM);
  }
  const src = ipv4.source(v, off);
  const dst = ipv4.destination(v, off);
  const ttl = ipv4.ttl(v, off);
  const proto = ipv4.protocol(v, off);
  const fo = ipv4.flagsOffset(v, off);
  const offsetBytes = (fo & ipv4.OFFSET_MASK) << 3;
  const isFrag = (fo & ipv4.FLAG_MF) !== 0 || offsetBytes !== 0;
  const first = offsetBytes === 0;
  const l4Off = off + ihl;
  const l4Len = total - ihl;
  let icmpType = -1;
  if (proto === ipv4.PROTO_ICMP) icmpType = first && l4Len > 0 ? b[l4Off]! : 255;
  const isError = icmpType >= 0 && icmp.isV4Error(icmpType);
  if (isMulticastOrBroadcast4(dst)) return drop(ctx, Drop.MULTICAST_DESTINATION);
  // RFC 7915 §4.1: an ICMPv4 error from an odd source is still translated.
  if (isInvalidSource4(src) && !isError) return drop(ctx, Drop.INVALID_SOURCE);
  if (dst === s.address4) return toSelf4(ctx, off, ihl, total, proto, isFrag);
  if (ihl > ipv4.HEADER_LEN && sourceRouted4(b, off, ihl)) return sourceRouteFailed4(ctx, off);
  if (!hairpinned && ttl <= 1) return timeExceeded4(ctx, off, total);
  if (proto === ipv4.PROTO_IGMP) return drop(ctx, Drop.IGMP);
  if (offsetBytes + l4Len > 65535) return drop(ctx, Drop.BAD_FRAGMENT);
  // Destination: static map or live lease (RFC 7915 §4.1 with RFC 6146 state).
  if (ctx.mapper.v6For4(dst, b, TMP_DST, ctx.nowSecs, LEASE_REFRESH) === 0) {
    return drop(ctx, refuse4(ctx, Drop.NO_MAPPING, off, total, flags));
  }
  // Source: static (RFC 7757 EAM) first, else embedded in the prefix; the hairpin leg always
  // embeds (RFC 7757 §4.2.1). A CLAT's sources are its customers alone.
  if (hairpinned || ctx.mapper.staticV6For4(src, b, TMP_SRC) === 0) {
    if (s.clat || (s.refuseNonGlobal && !hairpinned)) {
      const r = sourceOutsidePrefix4(ctx, off, total, flags, src, isError);
      if (r !== 0) return drop(ctx, r);
    } else embedIpv4(s.prefix, s.prefixLen, src, b, TMP_SRC);
  }
  const tos = s.zeroizeTrafficClass ? 0 : ipv4.tos(v, off);
  if (proto === ipv4.PROTO_ICMP) {
    if (isFrag) return reassemble4To6(ctx, off, ihl, total, flags);
    if (l4Len < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    if (isError) return error4To6(ctx, off, ihl, total, hairpinned, tos);
  }
  const chk = first ? checkTransport4(ctx, off, total, flags, l4Off, l4Len, proto, isFrag) : 0;
  if (chk < 0) return drop(ctx, -chk);
  // Size and fragmentation (RFC 7915 §4, §4.1); a GSO super-packet's by its first segment.
  const fragHdr = isFrag ? ipv6.FRAGMENT_LEN : 0;
  const total6 = ipv6.HEADER_LEN + fragHdr + l4Len;
  const seg6 = total6 - ctx.gsoExtra;
  let fragmentTo = 0;
  if ((fo & ipv4.FLAG_DF) !== 0) {
    if (seg6 > s.mtu6) return fragmentationNeeded4(ctx, off, total);
  } else if (seg6 > s.lowestIpv6Mtu || seg6 > s.mtu6) {
    fragmentTo = Math.min(s.lowestIpv6Mtu, s.mtu6);
  }
  if (first) translateTransport4(ctx, l4Off, l4Len, proto, chk, src, dst);
  const nh6 = proto === ipv4.PROTO_ICMP ? ipv6.NH_ICMPV6 : proto;
  const hdr6 = l4Off - ipv6.HEADER_LEN - fragHdr;
  const hop = hairpinned ? ttl : ttl - 1;
  const mf = (fo & ipv4.FLAG_MF) !== 0 ? 1 : 0;
  const id = ipv4.identification(v, off); // read before the IPv6 header overwrites it
  ipv6.writeFixed(v, hdr6, tos, fragHdr + l4Len, isFrag ? ipv6.NH_FRAGMENT : nh6, hop);
  b.copyWithin(hdr6 + ipv6.SOURCE_OFF, TMP_SRC, TMP_SRC + 32);
  if (isFrag) ipv6.writeFragment(v, hdr6 + ipv6.HEADER_LEN, nh6, offsetBytes >> 3, mf, id);
  ctx.counters[Stat.TRANSLATED_4TO6]!++;
  if (fragmentTo > 0) {
    return emitFragments6(ctx, hdr6, l4Off, l4Len, nh6, offsetBytes, mf, id, fragmentTo);
  }
  return emit(ctx, hdr6, total6);
}

/**
 * Transport checks of a first fragment or whole packet (RFC 7915 §4.1, §4.5): the TCP or UDP
 * header is present; a UDP checksum of 0 is computed when `AmendUDPChecksumZero` allows and the
 * packet is whole with a true UDP length, else refused; an ICMPv4 query has an ICMPv6
 * counterpart (§4.2).
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param total its total length
 * @param flags `FLAG_HAIRPIN` or 0 (no policy error on the hairpin leg)
 * @param l4Off offset of the transport header
 * @param l4Len transport length
 * @param proto IPv4 protocol
 * @param isFrag whether the packet is a fragment
 * @returns the ICMPv6 `type << 8 | code` for ICMP, `AMEND_UDP` for a UDP checksum to compute,
 *   0 for the rest, or `-reason`
 */
export function checkTransport4(
  ctx: XlatContext,
  off: number,
  total: number,
  flags: number,
  l4Off: number,
  l4Len: number,
  proto: number,
  isFrag: boolean,
): number {
  if (proto === ipv4.PROTO_ICMP) return icmpQuery4To6(ctx.view, l4Off);
  const r = checkTransportHeader(proto, l4Len, isFrag);
  if (r < 0 || proto !== ipv4.PROTO_UDP || ctx.partial) return r;
  if (ctx.view.getUint16(l4Off + udp.CHECKSUM_OFF) !== 0) return r;
  return udpChecksumZero4(ctx, off, total, flags, l4Off, l4Len, isFrag);
}

/**
 * Transport checksums of a first fragment or whole packet (RFC 7915 §4.5): TCP and UDP through
 * `adjustTransportChecksum` for the new pseudo-header's addresses (at `TMP_SRC`), a UDP checksum
 * of 0 computed whole, an ICMP Echo through `adjustIcmpEcho4To6` (new type, pseudo-header
 * added); every other protocol is copied (§4.1).
 *
 * @param ctx engine context
 * @param l4Off offset of the transport header
 * @param l4Len transport length
 * @param proto IPv4 protocol
 * @param chk what {@link checkTransport4} returned
 * @param src IPv4 source
 * @param dst IPv4 destination
 */
export function translateTransport4(
  ctx: XlatContext,
  l4Off: number,
  l4Len: number,
  proto: number,
  chk: number,
  src: number,
  dst: number,
): void {
  if (proto === ipv4.PROTO_ICMP || chk === AMEND_UDP) {
    return rebuildChecksum4To6(ctx, l4Off, l4Len, chk);
  }
  const newSum = ipv6.sumAddresses(ctx.mem, TMP_SRC - ipv6.SOURCE_OFF);
  adjustTransportChecksum(ctx.view, l4Off, proto, sumIpv4(src) + sumIpv4(dst), newSum, ctx.partial);
}
