/**
 * IPv6 → IPv4 (RFC 7915 §5), as named steps run in order by {@link from6}:
 * validate (and walk the extension headers), map the destination, hop limit,
 * reassemble a fragmented ICMPv6 datagram, size and fragmentation, transport
 * checks, map the source (the lease), transport checksums
 * (lib/xlat/transport.ts), emit. ICMPv6 errors leave after the hop limit for
 * lib/xlat/icmp_error.ts. A step returns `CONTINUE` or the value `translate()`
 * returns; what else it finds goes into `ctx.pkt` (lib/xlat/packet.ts).
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
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as udp from "../wire/udp.ts";
import { LEASE_REFRESH } from "../lease/table.ts";
import { DF_THRESHOLD_BYTES, HEADER_GROWTH, type XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { drop, emit, nextId } from "./emit.ts";
import { emitFragments4 } from "./fragment.ts";
import { from4 } from "./four_to_six.ts";
import { echoReply6, sendIcmp6Error } from "./icmp_gen.ts";
import { icmp6ErrorTo4 } from "./icmp_error.ts";
import { V6_TO_V4_TYPE_CODE } from "./icmp_map.ts";
import { CONTINUE, FLAG_HAIRPIN, FLAG_REASSEMBLED } from "./packet.ts";
import { policy6 } from "./policy.ts";
import { reassemble6 } from "./reassembly.ts";
import { mapSource6 } from "./source6.ts";
import { transport6to4, transportTooShort } from "./transport.ts";

/**
 * IPv6 → IPv4 (RFC 7915 §5).
 * @param ctx engine context
 * @param off offset of the IPv6 header in `ctx.mem`
 * @param len bytes available
 * @param flags FLAG_REASSEMBLED or 0
 * @param reasmId Fragment Identification of a reassembled datagram
 * @returns as `translate()`
 */
export function from6(
  ctx: XlatContext,
  off: number,
  len: number,
  flags: number,
  reasmId: number,
): number {
  const p = ctx.pkt;
  let r = validate6(ctx, off, len);
  if (r !== CONTINUE) return r;
  const b = ctx.mem;
  const s = ctx.settings;
  const end = p.end;
  const pktLen = end - off;
  const l4Off = p.l4Off;
  const l4Len = end - l4Off;
  const nh = p.proto;
  const fragOff = p.fragOff;
  const fragId = p.fragId;
  const isFrag = p.fragOffsetBytes !== 0 || p.more !== 0;
  const first = p.fragOffsetBytes === 0;
  let icmpType = -1;
  if (nh === ipv6.NH_ICMPV6) icmpType = first && l4Len > 0 ? b[l4Off]! : 255;

  // Packets for the translator itself (a router answers pings: RFC 4443 §4.1, RFC 1812 §4.3.3.6).
  if (ipv6.addressEqual(b, off + ipv6.DESTINATION_OFF, s.address6, 0)) {
    return toSelf6(ctx, off, l4Off, end, nh === ipv6.NH_ICMPV6 && !isFrag);
  }
  r = mapDestination6(ctx, off, pktLen, nh);
  if (r !== CONTINUE) return r;
  const dst4 = p.dst4;
  if (isMulticastOrBroadcast4(dst4)) return drop(ctx, Drop.MULTICAST_DESTINATION);
  if (dst4 === s.address4) return toSelf6(ctx, off, l4Off, end, nh === ipv6.NH_ICMPV6 && !isFrag);

  // Hop limit (RFC 7915 §5.1: the translator is a router).
  const hl = ipv6.hopLimit(ctx.view, off);
  if (hl <= 1) {
    sendIcmp6Error(ctx, icmp.V6_TIME_EXCEEDED, 0, 0, off, pktLen, icmpType);
    return drop(ctx, Drop.HOP_LIMIT_EXCEEDED);
  }

  // Fragmented ICMPv6 cannot have its checksum fixed piecewise (RFC 7915
  // §1.2): reassemble it, then translate the whole datagram.
  if (nh === ipv6.NH_ICMPV6 && isFrag) {
    r = reassemble6(ctx, off, fragOff, l4Off, l4Len);
    if (r < 0) return drop(ctx, -r);
    ctx.counters[Stat.REASSEMBLED]!++;
    return from6(ctx, r, ctx.reassembledLen, FLAG_REASSEMBLED, fragId);
  }

  const tc = s.overrideTos >= 0 ? s.overrideTos : ipv6.trafficClass(ctx.view, off);
  if (icmpType >= 0 && icmpType < 128) return error6(ctx, off, l4Off, end, dst4, tc);
  r = size6(ctx, off, pktLen, l4Len, flags, reasmId, icmpType);
  if (r !== CONTINUE) return r;
  if (first) {
    // Transport header checks, before any lease is created for the packet.
    r = checkTransport6(ctx, l4Off, l4Len, nh, isFrag, icmpType);
    if (r !== CONTINUE) return r;
  }
  r = mapSource6(ctx, off, pktLen, nh, icmpType);
  if (r !== CONTINUE) return r;
  const src4 = p.src4;
  // Every protocol but ICMPv6 is copied (RFC 7915 §5.1), 1 (ICMPv4 built by an
  // IPv6 sender) included: an opaque payload, no checksum work.
  if (first) transport6to4(ctx, off, l4Off, l4Len, nh, src4, dst4, p.mapped);
  const proto = nh === ipv6.NH_ICMPV6 ? ipv4.PROTO_ICMP : nh;
  return emit6to4(ctx, l4Off, l4Len, tc, hl - 1, proto, src4, dst4);
}

/** Whether a Next Header value is an extension header for RFC 7915 §5.1's Fragment rule. */
function isExtensionHeader(nh: number): boolean {
  return nh === ipv6.NH_HOP_BY_HOP || nh === ipv6.NH_ROUTING || nh === ipv6.NH_FRAGMENT ||
    nh === ipv6.NH_DEST_OPTS || nh === ipv6.NH_AH;
}

/** A packet for our own address: answer an Echo Request (RFC 4443 §4.1), drop the rest. */
function toSelf6(
  ctx: XlatContext,
  off: number,
  l4Off: number,
  end: number,
  whole: boolean,
): number {
  if (whole && echoReply6(ctx, off, l4Off, end) > 0) return ctx.emitted;
  return drop(ctx, Drop.TO_SELF);
}

/**
 * Step "validate": lengths, jumbogram, source and destination (RFC 7915 §5.1),
 * then the extension headers: Hop-by-Hop, Destination Options and Routing with
 * Segments Left 0 skipped, the Fragment header remembered.
 * Sets `end`, `l4Off`, `proto`, `fragOff`, `fragOffsetBytes`, `more`, `fragId`.
 */
function validate6(ctx: XlatContext, off: number, len: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const p = ctx.pkt;
  if (len < ipv6.HEADER_LEN) return drop(ctx, Drop.TRUNCATED);
  const plen = ipv6.payloadLength(v, off);
  let nh = ipv6.nextHeader(v, off);
  if (plen === 0 && nh === ipv6.NH_HOP_BY_HOP) return drop(ctx, Drop.JUMBOGRAM);
  const pktLen = ipv6.HEADER_LEN + plen;
  if (pktLen > len) return drop(ctx, Drop.TRUNCATED);
  const end = off + pktLen;
  if (isInvalidSource6(b, off + ipv6.SOURCE_OFF)) return drop(ctx, Drop.INVALID_SOURCE);
  if (isMulticast6(b, off + ipv6.DESTINATION_OFF)) return drop(ctx, Drop.MULTICAST_DESTINATION);
  let at = off + ipv6.HEADER_LEN;
  let fragOff = -1;
  for (let i = 0;; i++) {
    if (i > 8) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
    if (fragOff >= 0 && isExtensionHeader(nh)) {
      const code = icmp.V6_CODE_ADMIN_PROHIBITED;
      return policy6(ctx, Drop.HEADER_AFTER_FRAGMENT, code, off, pktLen, nh);
    }
    if (nh === ipv6.NH_HOP_BY_HOP || nh === ipv6.NH_DEST_OPTS || nh === ipv6.NH_ROUTING) {
      if (nh === ipv6.NH_HOP_BY_HOP && at !== off + ipv6.HEADER_LEN) {
        return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      }
      if (at + ipv6.EXT_MIN_LEN > end) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      const hlen = ipv6.extLength(b, at);
      if (at + hlen > end) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      const segmentsLeft = at + ipv6.ROUTING_SEGMENTS_LEFT_OFF;
      if (nh === ipv6.NH_ROUTING && b[segmentsLeft] !== 0) {
        sendIcmp6Error(ctx, icmp.V6_PARAM_PROBLEM, 0, segmentsLeft - off, off, pktLen, -1);
        return drop(ctx, Drop.SEGMENTS_LEFT);
      }
      nh = b[at + ipv6.EXT_NEXT_HEADER_OFF]!;
      at += hlen;
      continue;
    }
    if (nh === ipv6.NH_FRAGMENT) {
      if (at + ipv6.FRAGMENT_LEN > end) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      fragOff = at;
      nh = b[at + ipv6.FRAG_NEXT_HEADER_OFF]!;
      at += ipv6.FRAGMENT_LEN;
      continue;
    }
    break;
  }
  p.end = end;
  p.l4Off = at;
  p.proto = nh;
  p.fragOff = fragOff;
  p.fragOffsetBytes = 0;
  p.more = 0;
  p.fragId = 0;
  if (fragOff >= 0) {
    p.fragOffsetBytes = ipv6.fragmentOffsetBytes(v, fragOff);
    p.more = ipv6.fragmentMore(v, fragOff);
    p.fragId = ipv6.fragmentId(v, fragOff) | 0;
    if (p.fragOffsetBytes + end - at > 65535) return drop(ctx, Drop.BAD_FRAGMENT);
  }
  return CONTINUE;
}

/**
 * Step "map the destination": static (RFC 7757 EAM) first, then the RFC 6052
 * prefix, refusing non-global addresses behind the Well-Known Prefix
 * (RFC 6052 §3.1). Sets `dst4`.
 */
function mapDestination6(ctx: XlatContext, off: number, pktLen: number, nh: number): number {
  const b = ctx.mem;
  const s = ctx.settings;
  const dstOff = off + ipv6.DESTINATION_OFF;
  const code = icmp.V6_CODE_ADMIN_PROHIBITED;
  let dst4 = ctx.mapper.staticV4For6(b, dstOff);
  if (dst4 === NOT_IPV4) {
    if (!matchesPrefix(b, dstOff, s.prefix, s.prefixLen)) {
      return policy6(ctx, Drop.NOT_IN_PREFIX, code, off, pktLen, nh);
    }
    dst4 = extractIpv4(b, dstOff, s.prefixLen);
    if (dst4 === NOT_IPV4) return policy6(ctx, Drop.NONZERO_U_OCTET, code, off, pktLen, nh);
    if (s.refuseNonGlobal && !isGlobalIpv4(dst4) && dst4 !== s.address4) {
      return policy6(ctx, Drop.NON_GLOBAL_WITH_WKP, code, off, pktLen, nh);
    }
  }
  ctx.pkt.dst4 = dst4;
  return CONTINUE;
}

/**
 * IPv4 source for an ICMPv6 error (RFC 7915 §5.3, RFC 6791): a static map,
 * the address embedded in the prefix, the sender's existing lease, else the
 * first `Pool6791v4` address or `Address4`. Never creates a lease (RFC 6146 §3.5).
 */
function errorSource6(ctx: XlatContext, srcOff: number): number {
  const b = ctx.mem;
  const s = ctx.settings;
  let r = ctx.mapper.staticV4For6(b, srcOff);
  if (r !== NOT_IPV4) return r;
  if (matchesPrefix(b, srcOff, s.prefix, s.prefixLen)) {
    r = extractIpv4(b, srcOff, s.prefixLen);
    if (r !== NOT_IPV4 && !(s.refuseNonGlobal && !isGlobalIpv4(r))) return r;
  }
  r = ctx.mapper.v4For6(b, srcOff, ctx.nowSecs, LEASE_REFRESH);
  if (r < NOT_IPV4) return r;
  return s.pool6791v4.length === 0 ? s.address4 : s.pool6791v4[0]!;
}

/** An ICMPv6 error with the packet it quotes (lib/xlat/icmp_error.ts); never creates a lease. */
function error6(
  ctx: XlatContext,
  off: number,
  l4Off: number,
  end: number,
  dst4: number,
  tc: number,
): number {
  const p = ctx.pkt;
  if (end - l4Off < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
  const src4 = errorSource6(ctx, off + ipv6.SOURCE_OFF);
  const id4 = p.fragOff >= 0 ? p.fragId & 0xffff : nextId(ctx);
  const r = icmp6ErrorTo4(ctx, off, l4Off, end, src4, dst4, id4, tc);
  if (r < 0) return drop(ctx, -r);
  ctx.counters[Stat.TRANSLATED_6TO4]!++;
  if (ctx.mapper.owns4(dst4)) return hairpin(ctx, r);
  return emit(ctx, r, ipv4.totalLength(ctx.view, r));
}

/**
 * Step "size and fragmentation" (RFC 7915 §5.1, §5.1.1): DF, Identification,
 * and Packet Too Big or IPv4 fragmentation when the result exceeds `MTU4`. For
 * a GSO super-packet translated whole (TUN offload) size means its first
 * segment's. Sets `id`, `flagsOff`, `fragmentTo`.
 */
function size6(
  ctx: XlatContext,
  off: number,
  pktLen: number,
  l4Len: number,
  flags: number,
  reasmId: number,
  icmpType: number,
): number {
  const p = ctx.pkt;
  const s = ctx.settings;
  const seg4 = ipv4.HEADER_LEN + l4Len - ctx.gsoExtra;
  const fragmented = p.fragOff >= 0;
  let df = false;
  if (fragmented) {
    p.id = p.fragId & 0xffff;
    p.flagsOff = (p.more !== 0 ? ipv4.FLAG_MF : 0) | (p.fragOffsetBytes >> 3);
  } else if ((flags & FLAG_REASSEMBLED) !== 0) {
    p.id = reasmId & 0xffff;
    p.flagsOff = 0;
  } else {
    df = seg4 > DF_THRESHOLD_BYTES;
    p.id = nextId(ctx);
    p.flagsOff = df ? ipv4.FLAG_DF : 0;
  }
  p.fragmentTo = 0;
  if (seg4 > s.mtu4) {
    if (df || (fragmented && (flags & FLAG_REASSEMBLED) === 0)) {
      if (p.fragOffsetBytes === 0) {
        const mtu = Math.max(ipv6.MIN_MTU, s.mtu4 + HEADER_GROWTH);
        sendIcmp6Error(ctx, icmp.V6_PACKET_TOO_BIG, 0, mtu, off, pktLen, icmpType);
      }
      return drop(ctx, Drop.PACKET_TOO_BIG);
    }
    p.fragmentTo = s.mtu4;
  }
  return CONTINUE;
}

/**
 * Step "transport checks" on a first fragment: header lengths, UDP without a
 * checksum (RFC 7915 §5.5 drops it), and ICMPv6 types with no ICMPv4
 * counterpart (RFC 7915 §5.2). Sets `mapped`.
 */
function checkTransport6(
  ctx: XlatContext,
  l4Off: number,
  l4Len: number,
  nh: number,
  isFrag: boolean,
  icmpType: number,
): number {
  const v = ctx.view;
  ctx.pkt.mapped = 0;
  if (transportTooShort(nh, l4Len, isFrag)) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
  if (nh === ipv4.PROTO_UDP) {
    // A partial checksum (TUN offload) is a pseudo-header sum, not a checksum of 0.
    if (udp.checksum(v, l4Off) === 0 && !ctx.partial) return drop(ctx, Drop.UDP_ZERO_CHECKSUM6);
  } else if (nh === ipv6.NH_ICMPV6) {
    if (l4Len < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    const mapped = V6_TO_V4_TYPE_CODE[v.getUint16(l4Off)]!;
    if (mapped < 0) {
      return drop(
        ctx,
        icmpType >= 130 && icmpType <= 143 ? Drop.ICMP_SINGLE_HOP : Drop.ICMP_UNTRANSLATABLE,
      );
    }
    ctx.pkt.mapped = mapped;
  }
  return CONTINUE;
}

/**
 * Step "emit": the IPv4 header written over the end of the IPv6 one, then the
 * packet hairpinned, fragmented or sent as it is.
 */
function emit6to4(
  ctx: XlatContext,
  l4Off: number,
  l4Len: number,
  tc: number,
  ttl: number,
  proto: number,
  src4: number,
  dst4: number,
): number {
  const p = ctx.pkt;
  const hdr4 = l4Off - ipv4.HEADER_LEN;
  const total4 = ipv4.HEADER_LEN + l4Len;
  const fragmentTo = p.fragmentTo;
  ipv4.writeHeader(ctx.mem, ctx.view, hdr4, tc, total4, p.id, p.flagsOff, ttl, proto, src4, dst4);
  ctx.counters[Stat.TRANSLATED_6TO4]!++;
  if (ctx.mapper.owns4(dst4)) return hairpin(ctx, hdr4);
  if (fragmentTo > 0) return emitFragments4(ctx, hdr4, fragmentTo);
  return emit(ctx, hdr4, total4);
}

/** Sends an IPv4 packet built from IPv6 back through 4→6 (RFC 7757 §4.2 hairpinning). */
function hairpin(ctx: XlatContext, hdr4: number): number {
  ctx.counters[Stat.HAIRPINNED]!++;
  return from4(ctx, hdr4, ipv4.totalLength(ctx.view, hdr4), FLAG_HAIRPIN);
}
