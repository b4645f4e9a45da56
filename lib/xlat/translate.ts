/**
 * The RFC 7915 translation engine: one packet in, zero or more packets out.
 *
 * `translate(ctx, len)` reads the packet at `INPUT_OFFSET` of `ctx.mem`,
 * writes what must be sent (the translation, its fragments, or an ICMP error
 * the translator originates) and records each as an (offset, length) pair in
 * `ctx.emitOffset`/`ctx.emitLength`. Ordinary TCP/UDP traffic is translated
 * in place: the new header is written over the old one and the payload never
 * moves. Nothing here allocates, throws, reads a clock or touches I/O.
 *
 * @module
 */

import { embedIpv4, extractIpv4, matchesPrefix, NOT_IPV4 } from "../addr/rfc6052.ts";
import {
  isGlobalIpv4,
  isInvalidSource4,
  isInvalidSource6,
  isMulticast6,
  isMulticastOrBroadcast4,
} from "../addr/special.ts";
import { adjust, checksum, sumBytes, sumIpv4 } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { adjustTransportChecksum } from "../wire/transport.ts";
import * as udp from "../wire/udp.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  MAP_EXHAUSTED,
  MAP_PREFIX_LIMIT,
  MAP_SOURCE_NOT_ALLOWED,
} from "../lease/table.ts";
import {
  DF_THRESHOLD_BYTES,
  INPUT_CAPACITY,
  INPUT_OFFSET,
  OUTPUT_OFFSET,
  TMP_DST,
  TMP_SRC,
  type XlatContext,
} from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { drop, emit, nextId } from "./emit.ts";
import { emitFragments4, emitFragments6 } from "./fragment.ts";
import { echoReply4, echoReply6, sendIcmp4Error, sendIcmp6Error } from "./icmp_gen.ts";
import { icmp4ErrorTo6, icmp6ErrorTo4 } from "./icmp_error.ts";
import { V4_TO_V6_TYPE_CODE, V6_TO_V4_TYPE_CODE } from "./icmp_map.ts";
import { reassemble4, reassemble6 } from "./reassembly.ts";

/** `from4`/`from6` flag: the 4→6 leg of an internal hairpin (RFC 7757 §4.2). */
const FLAG_HAIRPIN = 1;
/** `from4`/`from6` flag: the packet was reassembled from fragments. */
const FLAG_REASSEMBLED = 2;

/**
 * Translates the packet of `len` bytes at `INPUT_OFFSET` in `ctx.mem`.
 *
 * @param ctx engine context; set its clock first with `ctx.setClock`
 * @param len length of the packet
 * @returns the number of packets emitted (see `ctx.emitOffset`), or a
 *   negative {@link Drop} reason when nothing was emitted. A drop that also
 *   sends an ICMP error returns 1; its reason is still counted.
 */
export function translate(ctx: XlatContext, len: number): number {
  ctx.emitted = 0;
  ctx.outUsed = OUTPUT_OFFSET;
  ctx.counters[Stat.RECEIVED]!++;
  if (len < 1 || len > INPUT_CAPACITY) return drop(ctx, Drop.TRUNCATED);
  const version = ctx.mem[INPUT_OFFSET]! >> 4;
  if (version === 4) return from4(ctx, INPUT_OFFSET, len, 0);
  if (version === 6) return from6(ctx, INPUT_OFFSET, len, 0, 0);
  return drop(ctx, Drop.BAD_VERSION);
}

/**
 * Copies `bytes` to the input area and translates them: a convenience for
 * tests and the offline mode (the daemon reads straight into the arena).
 *
 * @param ctx engine context
 * @param bytes the packet
 * @returns as {@link translate}
 */
export function translatePacket(ctx: XlatContext, bytes: Uint8Array): number {
  if (bytes.length > INPUT_CAPACITY) {
    ctx.emitted = 0;
    return drop(ctx, Drop.TOO_BIG_FOR_BUFFER);
  }
  ctx.mem.set(bytes, INPUT_OFFSET);
  return translate(ctx, bytes.length);
}

/**
 * The packets emitted by the last call, copied out (tests and offline mode).
 * @param ctx engine context
 * @returns one new array per emitted packet
 */
export function emittedPackets(ctx: XlatContext): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < ctx.emitted; i++) {
    const off = ctx.emitOffset[i]!;
    out.push(ctx.mem.slice(off, off + ctx.emitLength[i]!));
  }
  return out;
}

/** Sends a policy ICMPv6 error (RFC 7915 §5.4) unless disabled or the packet is ICMPv6. */
function policy6(
  ctx: XlatContext,
  reason: number,
  code: number,
  off: number,
  len: number,
  nh: number,
): number {
  if (ctx.settings.sendDropErrors && nh !== ipv6.NH_ICMPV6) {
    sendIcmp6Error(ctx, icmp.V6_DEST_UNREACH, code, 0, off, len, -1);
  }
  return drop(ctx, reason);
}

/** Sends a policy ICMPv4 error (RFC 7915 §4.4) unless disabled or the packet is ICMP. */
function policy4(
  ctx: XlatContext,
  reason: number,
  code: number,
  off: number,
  len: number,
  flags: number,
): number {
  const v = ctx.view;
  if (
    ctx.settings.sendDropErrors && (flags & FLAG_HAIRPIN) === 0 &&
    ipv4.protocol(v, off) !== ipv4.PROTO_ICMP
  ) {
    sendIcmp4Error(ctx, icmp.V4_DEST_UNREACH, code, 0, off, len);
  }
  return drop(ctx, reason);
}

/** Whether a Next Header value is an extension header for RFC 7915 §5.1's Fragment rule. */
function isExtensionHeader(nh: number): boolean {
  return nh === ipv6.NH_HOP_BY_HOP || nh === ipv6.NH_ROUTING || nh === ipv6.NH_FRAGMENT ||
    nh === ipv6.NH_DEST_OPTS || nh === ipv6.NH_AH;
}

/** Whether an IPv6 address is link-local (fe80::/10). */
function isLinkLocal6(b: Uint8Array, off: number): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
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

/**
 * IPv6 → IPv4 (RFC 7915 §5).
 * @param ctx engine context
 * @param off offset of the IPv6 header in `ctx.mem`
 * @param len bytes available
 * @param flags FLAG_REASSEMBLED or 0
 * @param reasmId Fragment Identification of a reassembled datagram
 */
function from6(ctx: XlatContext, off: number, len: number, flags: number, reasmId: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const s = ctx.settings;
  if (len < ipv6.HEADER_LEN) return drop(ctx, Drop.TRUNCATED);
  const plen = ipv6.payloadLength(v, off);
  let nh = ipv6.nextHeader(v, off);
  if (plen === 0 && nh === ipv6.NH_HOP_BY_HOP) return drop(ctx, Drop.JUMBOGRAM);
  if (ipv6.HEADER_LEN + plen > len) return drop(ctx, Drop.TRUNCATED);
  const end = off + ipv6.HEADER_LEN + plen;
  const pktLen = ipv6.HEADER_LEN + plen;
  const srcOff = off + ipv6.SOURCE_OFF;
  const dstOff = off + ipv6.DESTINATION_OFF;
  if (isInvalidSource6(b, srcOff)) return drop(ctx, Drop.INVALID_SOURCE);
  if (isMulticast6(b, dstOff)) return drop(ctx, Drop.MULTICAST_DESTINATION);

  // Extension headers (RFC 7915 §5.1): skip HBH, Destination Options and
  // Routing with Segments Left 0; remember the Fragment header.
  let p = off + ipv6.HEADER_LEN;
  let fragOff = -1;
  for (let i = 0;; i++) {
    if (i > 8) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
    if (fragOff >= 0 && isExtensionHeader(nh)) {
      return policy6(
        ctx,
        Drop.HEADER_AFTER_FRAGMENT,
        icmp.V6_CODE_ADMIN_PROHIBITED,
        off,
        pktLen,
        nh,
      );
    }
    if (nh === ipv6.NH_HOP_BY_HOP || nh === ipv6.NH_DEST_OPTS || nh === ipv6.NH_ROUTING) {
      if (nh === ipv6.NH_HOP_BY_HOP && p !== off + ipv6.HEADER_LEN) {
        return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      }
      if (p + 8 > end) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      const hlen = (b[p + 1]! + 1) << 3;
      if (p + hlen > end) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      if (nh === ipv6.NH_ROUTING && b[p + 3] !== 0) {
        sendIcmp6Error(ctx, icmp.V6_PARAM_PROBLEM, 0, p + 3 - off, off, pktLen, -1);
        return drop(ctx, Drop.SEGMENTS_LEFT);
      }
      nh = b[p]!;
      p += hlen;
      continue;
    }
    if (nh === ipv6.NH_FRAGMENT) {
      if (p + ipv6.FRAGMENT_LEN > end) return drop(ctx, Drop.BAD_EXTENSION_HEADER);
      fragOff = p;
      nh = b[p]!;
      p += ipv6.FRAGMENT_LEN;
      continue;
    }
    break;
  }
  const l4Off = p;
  const l4Len = end - p;
  let fragOffsetBytes = 0;
  let more = 0;
  let fragId = 0;
  if (fragOff >= 0) {
    const w = v.getUint16(fragOff + 2);
    fragOffsetBytes = w & 0xfff8;
    more = w & 1;
    fragId = v.getUint32(fragOff + 4);
    if (fragOffsetBytes + l4Len > 65535) return drop(ctx, Drop.BAD_FRAGMENT);
  }
  const isFrag = fragOffsetBytes !== 0 || more !== 0;
  const first = fragOffsetBytes === 0;
  let icmpType = -1;
  if (nh === ipv6.NH_ICMPV6) icmpType = first && l4Len > 0 ? b[l4Off]! : 255;
  const isError = icmpType >= 0 && icmpType < 128;

  // Packets for the translator itself (a router answers pings: RFC 4443 §4.1, RFC 1812 §4.3.3.6).
  if (ipv6.addressEqual(b, dstOff, s.address6, 0)) {
    return toSelf6(ctx, off, l4Off, end, nh === ipv6.NH_ICMPV6 && !isFrag);
  }

  // Destination: static (RFC 7757 EAM) first, then the RFC 6052 prefix; a CLAT's static side
  // (its customers) is the only one.
  let dst4 = ctx.mapper.staticV4For6(b, dstOff);
  if (dst4 === NOT_IPV4) {
    if (s.clat) {
      return policy6(
        ctx,
        Drop.NOT_CUSTOMER_DESTINATION,
        icmp.V6_CODE_ADMIN_PROHIBITED,
        off,
        pktLen,
        nh,
      );
    }
    if (!matchesPrefix(b, dstOff, s.prefix, s.prefixLen)) {
      return policy6(ctx, Drop.NOT_IN_PREFIX, icmp.V6_CODE_ADMIN_PROHIBITED, off, pktLen, nh);
    }
    dst4 = extractIpv4(b, dstOff, s.prefixLen);
    if (dst4 === NOT_IPV4) {
      return policy6(ctx, Drop.NONZERO_U_OCTET, icmp.V6_CODE_ADMIN_PROHIBITED, off, pktLen, nh);
    }
    if (s.refuseNonGlobal && !isGlobalIpv4(dst4) && dst4 !== s.address4) {
      return policy6(ctx, Drop.NON_GLOBAL_WITH_WKP, icmp.V6_CODE_ADMIN_PROHIBITED, off, pktLen, nh);
    }
  }
  if (isMulticastOrBroadcast4(dst4)) return drop(ctx, Drop.MULTICAST_DESTINATION);
  if (dst4 === s.address4) {
    return toSelf6(ctx, off, l4Off, end, nh === ipv6.NH_ICMPV6 && !isFrag);
  }

  // Hop limit (RFC 7915 §5.1: the translator is a router).
  const hl = ipv6.hopLimit(v, off);
  if (hl <= 1) {
    sendIcmp6Error(ctx, icmp.V6_TIME_EXCEEDED, 0, 0, off, pktLen, icmpType);
    return drop(ctx, Drop.HOP_LIMIT_EXCEEDED);
  }

  // Fragmented ICMPv6 cannot have its checksum fixed piecewise (RFC 7915
  // §1.2): reassemble it, then translate the whole datagram.
  if (nh === ipv6.NH_ICMPV6 && isFrag) {
    const r = reassemble6(ctx, off, fragOff, l4Off, l4Len);
    if (r < 0) return drop(ctx, -r);
    ctx.counters[Stat.REASSEMBLED]!++;
    return from6(ctx, r, ctx.reassembledLen, FLAG_REASSEMBLED, fragId);
  }

  const tc = s.overrideTos >= 0 ? s.overrideTos : ipv6.trafficClass(v, off);
  if (isError) {
    // Errors never create a lease (RFC 6146 §3.5); see errorSource6.
    if (l4Len < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    const src4 = errorSource6(ctx, srcOff);
    const id4 = fragOff >= 0 ? fragId & 0xffff : nextId(ctx);
    const r = icmp6ErrorTo4(ctx, off, l4Off, end, src4, dst4, id4, tc);
    if (r < 0) return drop(ctx, -r);
    ctx.counters[Stat.TRANSLATED_6TO4]!++;
    if (ctx.mapper.owns4(dst4)) return hairpin(ctx, r);
    return emit(ctx, r, ipv4.totalLength(v, r));
  }
  // Size, DF and Identification (RFC 7915 §5.1, §5.1.1); for a GSO super-packet translated
  // whole (TUN offload) size means its first segment's.
  const total4 = ipv4.HEADER_LEN + l4Len;
  const seg4 = total4 - ctx.gsoExtra;
  let id: number;
  let flagsOff: number;
  let df = false;
  if (fragOff >= 0) {
    id = fragId & 0xffff;
    flagsOff = (more !== 0 ? ipv4.FLAG_MF : 0) | (fragOffsetBytes >> 3);
  } else if ((flags & FLAG_REASSEMBLED) !== 0) {
    id = reasmId & 0xffff;
    flagsOff = 0;
  } else {
    df = seg4 > DF_THRESHOLD_BYTES;
    id = nextId(ctx);
    flagsOff = df ? ipv4.FLAG_DF : 0;
  }
  let fragmentTo = 0;
  if (seg4 > s.mtu4) {
    if (df || (fragOff >= 0 && (flags & FLAG_REASSEMBLED) === 0)) {
      if (first) {
        const mtu = Math.max(ipv6.MIN_MTU, s.mtu4 + 20);
        sendIcmp6Error(ctx, icmp.V6_PACKET_TOO_BIG, 0, mtu, off, pktLen, icmpType);
      }
      return drop(ctx, Drop.PACKET_TOO_BIG);
    }
    fragmentTo = s.mtu4;
  }

  // Transport header checks, before any lease is created for the packet.
  let mapped = 0;
  if (first) {
    if (nh === ipv4.PROTO_TCP) {
      if (l4Len < (isFrag ? 18 : 20)) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    } else if (nh === ipv4.PROTO_UDP) {
      if (l4Len < 8) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
      // A partial checksum (TUN offload) is a pseudo-header sum, not a checksum of 0.
      if (v.getUint16(l4Off + 6) === 0 && !ctx.partial) return drop(ctx, Drop.UDP_ZERO_CHECKSUM6);
    } else if (nh === ipv6.NH_ICMPV6) {
      if (l4Len < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
      mapped = V6_TO_V4_TYPE_CODE[v.getUint16(l4Off)]!;
      if (mapped < 0) {
        return drop(
          ctx,
          icmpType >= 130 && icmpType <= 143 ? Drop.ICMP_SINGLE_HOP : Drop.ICMP_UNTRANSLATABLE,
        );
      }
    }
  }

  // Source: the host's lease, created on its first translatable packet.
  let src4 = ctx.mapper.v4For6(b, srcOff, ctx.nowSecs, LEASE_REFRESH);
  if (src4 >= NOT_IPV4) {
    // Link-local sources and sources inside the prefix (an IPv6 host posing
    // as an IPv4 one) never get a lease.
    if (isLinkLocal6(b, srcOff) || matchesPrefix(b, srcOff, s.prefix, s.prefixLen)) {
      return drop(ctx, Drop.SOURCE_NOT_TRANSLATABLE);
    }
    src4 = ctx.mapper.v4For6(b, srcOff, ctx.nowSecs, LEASE_ALLOCATE | LEASE_REFRESH);
    if (src4 === MAP_EXHAUSTED) {
      // RFC 6146 §3.5.1–3.5.3: Address Unreachable for TCP, UDP and ICMP
      // queries alike (policy6's ICMP exemption is RFC 7915 §5.4's, not
      // this). ICMPv6 errors never get here (they take no lease), and
      // sendIcmp6Error refuses them anyway and applies the rate limit.
      if (s.sendDropErrors) {
        sendIcmp6Error(
          ctx,
          icmp.V6_DEST_UNREACH,
          icmp.V6_CODE_ADDR_UNREACH,
          0,
          off,
          pktLen,
          icmpType,
        );
      }
      return drop(ctx, Drop.POOL_EXHAUSTED);
    }
    if (src4 > NOT_IPV4) {
      // An abuse limit refused the new lease (lib/lease/limits.ts): Communication
      // Administratively Prohibited, to queries too (as the pool-exhausted answer above), rate
      // limited and never about an ICMPv6 error (sendIcmp6Error refuses those).
      if (s.sendDropErrors) {
        sendIcmp6Error(
          ctx,
          icmp.V6_DEST_UNREACH,
          icmp.V6_CODE_ADMIN_PROHIBITED,
          0,
          off,
          pktLen,
          icmpType,
        );
      }
      return drop(
        ctx,
        src4 === MAP_SOURCE_NOT_ALLOWED
          ? Drop.SOURCE_NOT_ALLOWED
          : src4 === MAP_PREFIX_LIMIT
          ? Drop.PREFIX_LEASE_LIMIT
          : Drop.LEASE_RATE_LIMIT,
      );
    }
    if (src4 >= NOT_IPV4) {
      return policy6(ctx, Drop.NO_MAPPING, icmp.V6_CODE_ADMIN_PROHIBITED, off, pktLen, nh);
    }
  }

  // Transport checksums (RFC 7915 §5.5), only where the header is present.
  // Every protocol but ICMPv6 is copied (§5.1), 1 (ICMPv4 built by an IPv6
  // sender) included: an opaque payload, no checksum work.
  let proto = nh;
  if (first) {
    const oldSum = ipv6.sumAddresses(b, off);
    const newSum = sumIpv4(src4) + sumIpv4(dst4);
    if (nh === ipv4.PROTO_TCP || nh === ipv4.PROTO_UDP) {
      // A UDP checksum of 0 was dropped above unless it is a partial sum.
      adjustTransportChecksum(v, l4Off, nh, oldSum, newSum, ctx.partial);
    } else if (nh === ipv6.NH_ICMPV6) {
      // Echo: new type, and the checksum loses the IPv6 pseudo-header.
      const word = v.getUint16(l4Off);
      const cs = adjust(v.getUint16(l4Off + 2), oldSum + l4Len + ipv6.NH_ICMPV6 + word, mapped);
      v.setUint16(l4Off, mapped);
      v.setUint16(l4Off + 2, cs);
      proto = ipv4.PROTO_ICMP;
    }
  } else if (nh === ipv6.NH_ICMPV6) {
    proto = ipv4.PROTO_ICMP;
  }

  const hdr4 = l4Off - ipv4.HEADER_LEN;
  ipv4.writeHeader(b, v, hdr4, tc, total4, id, flagsOff, hl - 1, proto, src4, dst4);
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

/** Whether IPv4 options hold an unexpired source route (RFC 7915 §4.1). */
function hasUnexpiredSourceRoute(b: Uint8Array, start: number, end: number): boolean {
  let p = start;
  while (p < end) {
    const t = b[p]!;
    if (t === ipv4.OPT_END) return false;
    if (t === ipv4.OPT_NOP) {
      p++;
      continue;
    }
    if (p + 1 >= end) return false;
    const l = b[p + 1]!;
    if (l < 2 || p + l > end) return false;
    if ((t === ipv4.OPT_LSRR || t === ipv4.OPT_SSRR) && l >= 3 && b[p + 2]! <= l) return true;
    p += l;
  }
  return false;
}

/**
 * IPv4 → IPv6 (RFC 7915 §4).
 * @param ctx engine context
 * @param off offset of the IPv4 header in `ctx.mem` (at least 48 bytes of headroom)
 * @param len bytes available
 * @param flags FLAG_HAIRPIN, FLAG_REASSEMBLED or 0
 */
function from4(ctx: XlatContext, off: number, len: number, flags: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const s = ctx.settings;
  const hairpinned = (flags & FLAG_HAIRPIN) !== 0;
  if (len < ipv4.HEADER_LEN) return drop(ctx, Drop.TRUNCATED);
  const ihl = ipv4.headerLength(v, off);
  if (ihl < ipv4.HEADER_LEN) return drop(ctx, Drop.BAD_IHL);
  const total = ipv4.totalLength(v, off);
  if (total < ihl) return drop(ctx, Drop.BAD_IHL);
  if (total > len) return drop(ctx, Drop.TRUNCATED);
  if (!hairpinned && checksum(b, off, ihl, 0) !== 0) return drop(ctx, Drop.BAD_HEADER_CHECKSUM);
  const src = ipv4.source(v, off);
  const dst = ipv4.destination(v, off);
  const tos = s.zeroizeTrafficClass ? 0 : ipv4.tos(v, off);
  const ttl = ipv4.ttl(v, off);
  const proto = ipv4.protocol(v, off);
  const id = ipv4.identification(v, off);
  const fo = ipv4.flagsOffset(v, off);
  const mf = (fo & ipv4.FLAG_MF) !== 0;
  const offsetBytes = (fo & ipv4.OFFSET_MASK) << 3;
  const df = (fo & ipv4.FLAG_DF) !== 0;
  const isFrag = mf || offsetBytes !== 0;
  const first = offsetBytes === 0;
  const l4Off = off + ihl;
  const l4Len = total - ihl;
  let icmpType = -1;
  if (proto === ipv4.PROTO_ICMP) icmpType = first && l4Len > 0 ? b[l4Off]! : 255;
  const isError = icmpType >= 0 && icmp.isV4Error(icmpType);

  if (isMulticastOrBroadcast4(dst)) return drop(ctx, Drop.MULTICAST_DESTINATION);
  // RFC 7915 §4.1: an ICMPv4 error from an odd source is still translated.
  if (isInvalidSource4(src) && !isError) return drop(ctx, Drop.INVALID_SOURCE);
  if (dst === s.address4) {
    if (proto === ipv4.PROTO_ICMP && !isFrag && echoReply4(ctx, off, ihl, total) > 0) {
      return ctx.emitted;
    }
    return drop(ctx, Drop.TO_SELF);
  }
  if (ihl > ipv4.HEADER_LEN && hasUnexpiredSourceRoute(b, off + ipv4.HEADER_LEN, l4Off)) {
    sendIcmp4Error(ctx, icmp.V4_DEST_UNREACH, icmp.V4_CODE_SOURCE_ROUTE_FAILED, 0, off, total);
    return drop(ctx, Drop.SOURCE_ROUTE);
  }
  if (!hairpinned && ttl <= 1) {
    sendIcmp4Error(ctx, icmp.V4_TIME_EXCEEDED, 0, 0, off, total);
    return drop(ctx, Drop.HOP_LIMIT_EXCEEDED);
  }
  if (proto === ipv4.PROTO_IGMP) return drop(ctx, Drop.IGMP);
  if (offsetBytes + l4Len > 65535) return drop(ctx, Drop.BAD_FRAGMENT);

  // Destination: static map or live lease (RFC 7915 §4.1 with RFC 6146 state).
  if (ctx.mapper.v6For4(dst, b, TMP_DST, ctx.nowSecs, LEASE_REFRESH) === 0) {
    return policy4(ctx, Drop.NO_MAPPING, icmp.V4_CODE_ADMIN_PROHIBITED, off, total, flags);
  }
  // Source: static (RFC 7757 EAM) first, else embedded in the prefix; the
  // hairpin leg always embeds (RFC 7757 §4.2.1). A CLAT's sources are its customers alone.
  if (hairpinned || ctx.mapper.staticV6For4(src, b, TMP_SRC) === 0) {
    if (s.clat) {
      return policy4(
        ctx,
        Drop.NOT_CUSTOMER_SOURCE,
        icmp.V4_CODE_ADMIN_PROHIBITED,
        off,
        total,
        flags,
      );
    }
    if (s.refuseNonGlobal && !hairpinned && !isGlobalIpv4(src)) {
      if (!isError) {
        return policy4(
          ctx,
          Drop.NON_GLOBAL_WITH_WKP,
          icmp.V4_CODE_ADMIN_PROHIBITED,
          off,
          total,
          flags,
        );
      }
      // RFC 6791 for IPv6: an error from a router we cannot represent.
      if (s.pool6791v6.length === 0) b.set(s.address6, TMP_SRC);
      else for (let i = 0; i < 16; i++) b[TMP_SRC + i] = s.pool6791v6[i]!;
    } else {
      embedIpv4(s.prefix, s.prefixLen, src, b, TMP_SRC);
    }
  }

  if (proto === ipv4.PROTO_ICMP) {
    if (isFrag) {
      const r = reassemble4(ctx, off, ihl, total);
      if (r < 0) return drop(ctx, -r);
      ctx.counters[Stat.REASSEMBLED]!++;
      return from4(ctx, r, ctx.reassembledLen, FLAG_REASSEMBLED | (flags & FLAG_HAIRPIN));
    }
    if (l4Len < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    if (isError) {
      const r = icmp4ErrorTo6(ctx, off, ihl, total, hairpinned, tos);
      if (r < 0) return drop(ctx, -r);
      ctx.counters[Stat.TRANSLATED_4TO6]!++;
      return emit(ctx, r, ipv6.HEADER_LEN + ipv6.payloadLength(v, r));
    }
  }

  let amendUdp = false;
  if (first && proto === ipv4.PROTO_UDP) {
    if (l4Len < 8) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    if (v.getUint16(l4Off + 6) === 0 && !ctx.partial) {
      // RFC 7915 §4.5: compute it when allowed and possible, else drop.
      if (isFrag || !s.amendUdpChecksumZero) {
        return policy4(
          ctx,
          Drop.UDP_ZERO_CHECKSUM,
          icmp.V4_CODE_ADMIN_PROHIBITED,
          off,
          total,
          flags,
        );
      }
      // The checksum covers the UDP length field's bytes (RFC 768), so the
      // field must describe the packet before it can be computed.
      if (v.getUint16(l4Off + 4) !== l4Len) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
      amendUdp = true;
    }
  } else if (first && proto === ipv4.PROTO_TCP) {
    if (l4Len < (isFrag ? 18 : 20)) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
  }
  let mapped = 0;
  if (first && proto === ipv4.PROTO_ICMP) {
    mapped = V4_TO_V6_TYPE_CODE[v.getUint16(l4Off)]!;
    if (mapped < 0) return drop(ctx, Drop.ICMP_UNTRANSLATABLE);
  }

  // Size and fragmentation (RFC 7915 §4, §4.1).
  const fragHdr = isFrag ? ipv6.FRAGMENT_LEN : 0;
  const total6 = ipv6.HEADER_LEN + fragHdr + l4Len;
  const seg6 = total6 - ctx.gsoExtra; // the first segment's size (TUN offload GSO), else total6
  let fragmentTo = 0;
  if (df && seg6 > s.mtu6) {
    sendIcmp4Error(
      ctx,
      icmp.V4_DEST_UNREACH,
      icmp.V4_CODE_FRAG_NEEDED,
      s.mtu6 - ipv6.HEADER_LEN + ipv4.HEADER_LEN,
      off,
      total,
    );
    return drop(ctx, Drop.PACKET_TOO_BIG);
  }
  if (!df) {
    const limit = Math.min(s.lowestIpv6Mtu, s.mtu6);
    if (seg6 > limit) fragmentTo = limit;
  }

  // Transport checksums (RFC 7915 §4.5), first fragment only.
  if (first) {
    const oldSum = sumIpv4(src) + sumIpv4(dst);
    const newSum = sumBytes(b, TMP_SRC, 32, 0);
    if (amendUdp) {
      // RFC 7915 §4.5: computed whole (the stored 0 is the field's own value in the sum).
      const cs = checksum(b, l4Off, l4Len, newSum + l4Len + ipv4.PROTO_UDP);
      v.setUint16(l4Off + udp.CHECKSUM_OFF, cs || 0xffff);
    } else if (proto === ipv4.PROTO_TCP || proto === ipv4.PROTO_UDP) {
      adjustTransportChecksum(v, l4Off, proto, oldSum, newSum, ctx.partial);
    } else if (proto === ipv4.PROTO_ICMP) {
      // Echo: new type, and the checksum gains the IPv6 pseudo-header.
      const cs = adjust(
        v.getUint16(l4Off + 2),
        v.getUint16(l4Off),
        newSum + l4Len + ipv6.NH_ICMPV6 + mapped,
      );
      v.setUint16(l4Off, mapped);
      v.setUint16(l4Off + 2, cs);
    }
  }

  // Every protocol but ICMPv4 is copied (RFC 7915 §4.1), 58 included. ICMPv6
  // built by an IPv4 sender arrives with hop limit ≤ 254 and a source that is
  // not link-local, which ND and redirects (RFC 4861 §6.1, §7.1, §8.1) and MLD
  // (RFC 3810 §5.1.14, §5.2.13) discard, so it passes as an opaque payload.
  const nh6 = proto === ipv4.PROTO_ICMP ? ipv6.NH_ICMPV6 : proto;
  const hdr6 = l4Off - ipv6.HEADER_LEN - fragHdr;
  ipv6.writeFixed(
    v,
    hdr6,
    tos,
    fragHdr + l4Len,
    isFrag ? ipv6.NH_FRAGMENT : nh6,
    hairpinned ? ttl : ttl - 1,
  );
  b.copyWithin(hdr6 + ipv6.SOURCE_OFF, TMP_SRC, TMP_SRC + 32);
  if (isFrag) {
    ipv6.writeFragment(v, hdr6 + ipv6.HEADER_LEN, nh6, offsetBytes >> 3, mf ? 1 : 0, id);
  }
  ctx.counters[Stat.TRANSLATED_4TO6]!++;
  if (fragmentTo > 0) {
    return emitFragments6(ctx, hdr6, l4Off, l4Len, nh6, offsetBytes, mf ? 1 : 0, id, fragmentTo);
  }
  return emit(ctx, hdr6, total6);
}
