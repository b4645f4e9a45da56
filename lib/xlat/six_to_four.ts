/**
 * IPv6 → IPv4 (RFC 7915 §5): {@link from6} and its steps, in the order a packet meets them —
 * validate, extension headers, map the destination, hop limit, size/DF/Identification and
 * fragmentation, transport checks, map the source, transport checksums, emit. `from6` keeps the
 * packet's state in its locals and runs the common case inline; the steps it calls take and
 * return numbers (lib/xlat/steps.ts says how they report a refusal). The rare branches — an
 * extension-header walk, the RFC 6052 refusals, a new lease and its refusals, Packet Too Big,
 * ICMPv6 errors, reassembly — are functions of their own that V8 need not inline
 * (lib/xlat/six_to_four_rare.ts). Validation, the destination's prefix mapping and emit stay
 * written out in `from6` because as calls they cost more than they name (docs/ARCHITECTURE.md,
 * "Why not every step is a function").
 *
 * @module
 */

import { extractIpv4, matchesPrefix, NOT_IPV4 } from "../addr/rfc6052.ts";
import {
  isGlobalIpv4,
  isInvalidSource6,
  isMulticast6,
  isMulticastOrBroadcast4,
} from "../addr/special.ts";
import { sumIpv4 } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { adjustTransportChecksum } from "../wire/transport.ts";
import * as udp from "../wire/udp.ts";
import { LEASE_REFRESH } from "../lease/table.ts";
import { DF_THRESHOLD_BYTES, type XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { drop, emit, nextId } from "./emit.ts";
import { emitFragments4 } from "./fragment.ts";
import { sendIcmp6Error } from "./icmp_gen.ts";
import { adjustIcmpEcho6To4 } from "./icmp_echo.ts";
import { from4 } from "./four_to_six.ts";
import { checkTransportHeader, FLAG_HAIRPIN, FLAG_REASSEMBLED } from "./steps.ts";
import {
  error6To4,
  extensionHeaders6,
  hopLimitExceeded6,
  icmpQuery6To4,
  newSource6,
  reassemble6To4,
  refuseDestination6,
  toSelf6,
} from "./six_to_four_rare.ts";

/**
 * IPv6 → IPv4 (RFC 7915 §5).
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header in `ctx.mem`
 * @param len bytes available
 * @param flags `FLAG_REASSEMBLED` or 0
 * @param id Fragment Identification of a reassembled datagram (`FLAG_REASSEMBLED`)
 * @returns as `translate()`
 */
export function from6(
  ctx: XlatContext,
  off: number,
  len: number,
  flags: number,
  id: number,
): number {
  const b = ctx.mem, v = ctx.view, s = ctx.settings;
  // Validate: a whole header and payload, no jumbogram, a unicast source, no multicast.
  if (len < ipv6.HEADER_LEN) return drop(ctx, Drop.TRUNCATED);
  let nh = ipv6.nextHeader(v, off);
  const pktLen = ipv6.HEADER_LEN + ipv6.payloadLength(v, off);
  if (pktLen === ipv6.HEADER_LEN && nh === ipv6.NH_HOP_BY_HOP) return drop(ctx, Drop.JUMBOGRAM);
  if (pktLen > len) return drop(ctx, Drop.TRUNCATED);
  if (isInvalidSource6(b, off + ipv6.SOURCE_OFF)) return drop(ctx, Drop.INVALID_SOURCE);
  const dstOff = off + ipv6.DESTINATION_OFF;
  if (isMulticast6(b, dstOff)) return drop(ctx, Drop.MULTICAST_DESTINATION);
  const end = off + pktLen;
  // Extension headers (RFC 7915 §5.1): the common packet has none.
  let l4Off = off + ipv6.HEADER_LEN;
  let fragOff = -1;
  const ext = nh === ipv6.NH_HOP_BY_HOP || nh === ipv6.NH_DEST_OPTS || nh === ipv6.NH_ROUTING;
  if (ext || nh === ipv6.NH_FRAGMENT) {
    const r = extensionHeaders6(ctx, off, end, nh);
    if (r < 0) return drop(ctx, -r);
    l4Off = r >>> 8;
    nh = r & 0xff;
    fragOff = ctx.fragmentHeaderAt;
  }
  const l4Len = end - l4Off;
  const fragWord = fragOff < 0 ? 0 : v.getUint16(fragOff + ipv6.FRAG_OFFSET_OFF) & 0xfff9;
  const isFrag = fragWord !== 0;
  const first = (fragWord & ipv6.FRAG_OFFSET_MASK) === 0;
  let icmpType = -1;
  if (nh === ipv6.NH_ICMPV6) icmpType = first && l4Len > 0 ? b[l4Off]! : 255;
  // Packets for the translator itself (a router answers pings: RFC 4443 §4.1, RFC 1812 §4.3.3.6).
  if (ipv6.addressEqual(b, dstOff, s.address6, 0)) {
    return toSelf6(ctx, off, l4Off, end, nh === ipv6.NH_ICMPV6 && !isFrag);
  }
  // Destination: static (RFC 7757 EAM) first, then the RFC 6052 prefix (a CLAT has no prefix side).
  let dst4 = ctx.mapper.staticV4For6(b, dstOff);
  if (dst4 === NOT_IPV4 && !s.clat && matchesPrefix(b, dstOff, s.prefix, s.prefixLen)) {
    dst4 = extractIpv4(b, dstOff, s.prefixLen);
    if (dst4 !== NOT_IPV4 && s.refuseNonGlobal && !isGlobal4(dst4, s.address4)) dst4 = NOT_IPV4;
  }
  if (dst4 === NOT_IPV4) return drop(ctx, refuseDestination6(ctx, off, pktLen, nh));
  if (isMulticastOrBroadcast4(dst4)) return drop(ctx, Drop.MULTICAST_DESTINATION);
  if (dst4 === s.address4) return toSelf6(ctx, off, l4Off, end, nh === ipv6.NH_ICMPV6 && !isFrag);
  const hl = ipv6.hopLimit(v, off); // RFC 7915 §5.1: the translator is a router
  if (hl <= 1) return hopLimitExceeded6(ctx, off, pktLen, icmpType);
  // Fragmented ICMPv6 cannot have its checksum fixed piecewise (RFC 7915 §1.2).
  if (nh === ipv6.NH_ICMPV6 && isFrag) return reassemble6To4(ctx, off, fragOff, l4Off, l4Len);
  const tc = s.overrideTos >= 0 ? s.overrideTos : ipv6.trafficClass(v, off);
  if (icmpType >= 0 && icmpType < 128) return error6To4(ctx, off, l4Off, end, dst4, fragOff, tc);
  // Size, DF, Identification (RFC 7915 §5.1, §5.1.1); a GSO super-packet's by its 1st segment.
  const total4 = ipv4.HEADER_LEN + l4Len;
  const seg4 = total4 - ctx.gsoExtra;
  const idFlags = fragOff >= 0 || flags !== 0
    ? idFlagsOfFragment(v, fragOff, id)
    : (nextId(ctx) << 16) | (seg4 > DF_THRESHOLD_BYTES ? ipv4.FLAG_DF : 0);
  const fragmentTo = seg4 > s.mtu4
    ? fragmentTo4(ctx, off, pktLen, idFlags, flags, fragOff, icmpType)
    : 0;
  if (fragmentTo < 0) return drop(ctx, -fragmentTo);
  // Transport header checks, before any lease is created for the packet.
  const mapped = first ? checkTransport6(ctx, l4Off, l4Len, nh, isFrag, icmpType) : 0;
  if (mapped < 0) return drop(ctx, -mapped);
  // Source: the host's lease, created on its first translatable packet.
  let src4 = ctx.mapper.v4For6(b, off + ipv6.SOURCE_OFF, ctx.nowSecs, LEASE_REFRESH);
  if (src4 >= NOT_IPV4) src4 = newSource6(ctx, off, pktLen, nh, icmpType);
  if (src4 === NOT_IPV4) return drop(ctx, ctx.refusal);
  const proto = first
    ? translateTransport6(ctx, off, l4Off, l4Len, nh, mapped, src4, dst4)
    : (nh === ipv6.NH_ICMPV6 ? ipv4.PROTO_ICMP : nh);
  const hdr4 = l4Off - ipv4.HEADER_LEN;
  const id4 = idFlags >>> 16;
  ipv4.writeHeader(b, v, hdr4, tc, total4, id4, idFlags & 0xffff, hl - 1, proto, src4, dst4);
  ctx.counters[Stat.TRANSLATED_6TO4]!++;
  if (ctx.mapper.owns4(dst4)) return hairpin(ctx, hdr4);
  if (fragmentTo > 0) return emitFragments4(ctx, hdr4, fragmentTo);
  return emit(ctx, hdr4, total4);
}

/**
 * Whether an IPv4 destination may be reached under the Well-Known Prefix (RFC 6052 §3.1): a
 * global address, or the translator's own.
 *
 * @param dst4 the address
 * @param address4 `Address4`
 * @returns whether it passes
 */
export function isGlobal4(dst4: number, address4: number): boolean {
  return isGlobalIpv4(dst4) || dst4 === address4;
}

/**
 * Identification and flags of the IPv4 packet made from a fragment (RFC 7915 §5.1.1: its
 * Fragment header's) or from a reassembled datagram (its Identification, no flags).
 *
 * @param v packet view
 * @param fragOff offset of the Fragment header, or -1 for a reassembled datagram
 * @param reasmId Identification of the reassembled datagram
 * @returns `id << 16 | flagsAndOffset`
 */
export function idFlagsOfFragment(v: DataView, fragOff: number, reasmId: number): number {
  if (fragOff < 0) return (reasmId & 0xffff) << 16;
  const w = v.getUint16(fragOff + ipv6.FRAG_OFFSET_OFF);
  return ((ipv6.fragmentId(v, fragOff) & 0xffff) << 16) |
    ((w & ipv6.FRAG_MORE) !== 0 ? ipv4.FLAG_MF : 0) | ((w & ipv6.FRAG_OFFSET_MASK) >> 3);
}

/**
 * Fragmentation (RFC 7915 §5.1): a packet over `MTU4` is cut into
 * IPv4 fragments when DF is clear; with DF set, or when it is itself an IPv6 fragment, the
 * sender gets Packet Too Big (for the first fragment) and the packet is dropped.
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param pktLen packet length
 * @param idFlags what {@link idFlagsOfFragment} or the DF rule gave
 * @param flags `FLAG_REASSEMBLED` or 0
 * @param fragOff offset of the Fragment header, or -1
 * @param icmpType ICMPv6 type, or -1
 * @returns the MTU to fragment to, or `-Drop.PACKET_TOO_BIG`
 */
export function fragmentTo4(
  ctx: XlatContext,
  off: number,
  pktLen: number,
  idFlags: number,
  flags: number,
  fragOff: number,
  icmpType: number,
): number {
  const s = ctx.settings;
  if ((idFlags & ipv4.FLAG_DF) !== 0 || (fragOff >= 0 && (flags & FLAG_REASSEMBLED) === 0)) {
    if ((idFlags & ipv4.OFFSET_MASK) === 0) {
      const mtu = Math.max(ipv6.MIN_MTU, s.mtu4 + 20);
      sendIcmp6Error(ctx, icmp.V6_PACKET_TOO_BIG, 0, mtu, off, pktLen, icmpType);
    }
    return -Drop.PACKET_TOO_BIG;
  }
  return s.mtu4;
}

/**
 * Transport checks of a first fragment or whole packet (RFC 7915 §5.1, §5.5): the TCP or UDP
 * header is present, the UDP checksum is not 0 (a partial offload sum may be), and an ICMPv6
 * message has an ICMPv4 counterpart (§5.2).
 *
 * @param ctx engine context
 * @param l4Off offset of the transport header
 * @param l4Len its bytes present
 * @param nh upper-layer protocol
 * @param isFrag whether the packet is a fragment
 * @param icmpType ICMPv6 type, or -1
 * @returns the ICMPv4 type and code (`type << 8 | code`) for ICMPv6, 0 for the rest, or `-reason`
 */
export function checkTransport6(
  ctx: XlatContext,
  l4Off: number,
  l4Len: number,
  nh: number,
  isFrag: boolean,
  icmpType: number,
): number {
  if (nh === ipv6.NH_ICMPV6) return icmpQuery6To4(ctx.view, l4Off, l4Len, icmpType);
  const r = checkTransportHeader(nh, l4Len, isFrag);
  if (r < 0 || nh !== ipv4.PROTO_UDP || ctx.partial) return r;
  return ctx.view.getUint16(l4Off + udp.CHECKSUM_OFF) === 0 ? -Drop.UDP_ZERO_CHECKSUM6 : 0;
}

/**
 * Transport checksums of a first fragment or whole packet (RFC 7915 §5.5): TCP and UDP through
 * `adjustTransportChecksum` for the new pseudo-header's addresses, an ICMPv6 Echo through
 * `adjustIcmpEcho6To4` (new type, no pseudo-header); every other protocol is copied (§5.1).
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param l4Off offset of the transport header
 * @param l4Len transport length
 * @param nh upper-layer protocol
 * @param mapped ICMPv4 type and code, for ICMPv6
 * @param src4 IPv4 source
 * @param dst4 IPv4 destination
 * @returns the IPv4 protocol number
 */
export function translateTransport6(
  ctx: XlatContext,
  off: number,
  l4Off: number,
  l4Len: number,
  nh: number,
  mapped: number,
  src4: number,
  dst4: number,
): number {
  const oldSum = ipv6.sumAddresses(ctx.mem, off);
  if (nh === ipv6.NH_ICMPV6) {
    adjustIcmpEcho6To4(ctx.view, l4Off, l4Len, oldSum, mapped);
    return ipv4.PROTO_ICMP;
  }
  adjustTransportChecksum(ctx.view, l4Off, nh, oldSum, sumIpv4(src4) + sumIpv4(dst4), ctx.partial);
  return nh;
}

/**
 * Sends an IPv4 packet built from IPv6 back through 4→6 (RFC 7757 §4.2 hairpinning).
 *
 * @param ctx engine context
 * @param hdr4 offset of the IPv4 packet
 * @returns as `translate()`
 */
export function hairpin(ctx: XlatContext, hdr4: number): number {
  ctx.counters[Stat.HAIRPINNED]!++;
  return from4(ctx, hdr4, ipv4.totalLength(ctx.view, hdr4), FLAG_HAIRPIN);
}
