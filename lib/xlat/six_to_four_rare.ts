/**
 * The rare steps of IPv6 → IPv4 (RFC 7915 §5), called by `from6()` in lib/xlat/six_to_four.ts
 * off its common path: the extension-header walk, packets for the translator, policy refusals,
 * a new lease and its refusals (RFC 6146 §3.5), reassembly of fragmented ICMPv6, and ICMPv6
 * errors. They run once per such packet and need not be inlined.
 *
 * @module
 */

import { extractIpv4, matchesPrefix, NOT_IPV4 } from "../addr/rfc6052.ts";
import { isGlobalIpv4 } from "../addr/special.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  MAP_EXHAUSTED,
  MAP_PREFIX_LIMIT,
  MAP_SOURCE_NOT_ALLOWED,
} from "../lease/table.ts";
import type { XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { drop, emit, nextId } from "./emit.ts";
import { echoReply6, sendIcmp6Error } from "./icmp_gen.ts";
import { V6_TO_V4_TYPE_CODE } from "./icmp_map.ts";
import { icmp6ErrorTo4 } from "./icmp_error_6to4.ts";
import { reassemble6 } from "./reassembly.ts";
import { from6, hairpin } from "./six_to_four.ts";
import { FLAG_REASSEMBLED } from "./steps.ts";

/**
 * Sends the policy ICMPv6 error (RFC 7915 §5.4: Communication Administratively Prohibited)
 * unless disabled or the packet is ICMPv6.
 *
 * @param ctx engine context
 * @param reason the {@link Drop} reason
 * @param off offset of the IPv6 header
 * @param pktLen packet length
 * @param nh upper-layer protocol
 * @returns `reason`
 */
export function refuse6(
  ctx: XlatContext,
  reason: number,
  off: number,
  pktLen: number,
  nh: number,
): number {
  if (ctx.settings.sendDropErrors && nh !== ipv6.NH_ICMPV6) {
    sendIcmp6Error(ctx, icmp.V6_DEST_UNREACH, icmp.V6_CODE_ADMIN_PROHIBITED, 0, off, pktLen, -1);
  }
  return reason;
}

/**
 * Refuses a destination that has no static map and cannot be taken from the prefix (RFC 7915
 * §5.1, RFC 6052 §2.2–3.1): outside the prefix, with a nonzero u octet, non-global under the
 * Well-Known Prefix, or any such destination of a CLAT (whose only destinations are its
 * customers). Sends the policy ICMPv6 error.
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param pktLen packet length
 * @param nh upper-layer protocol (no error about an ICMPv6 packet)
 * @returns the {@link Drop} reason
 */
export function refuseDestination6(
  ctx: XlatContext,
  off: number,
  pktLen: number,
  nh: number,
): number {
  const s = ctx.settings;
  const dstOff = off + ipv6.DESTINATION_OFF;
  let reason: number = Drop.NOT_CUSTOMER_DESTINATION;
  if (!s.clat) {
    if (!matchesPrefix(ctx.mem, dstOff, s.prefix, s.prefixLen)) reason = Drop.NOT_IN_PREFIX;
    else if (extractIpv4(ctx.mem, dstOff, s.prefixLen) === NOT_IPV4) reason = Drop.NONZERO_U_OCTET;
    else reason = Drop.NON_GLOBAL_WITH_WKP;
  }
  return refuse6(ctx, reason, off, pktLen, nh);
}

/** Whether a Next Header value is an extension header for RFC 7915 §5.1's Fragment rule. */
function isExtensionHeader(nh: number): boolean {
  return nh === ipv6.NH_HOP_BY_HOP || nh === ipv6.NH_ROUTING || nh === ipv6.NH_FRAGMENT ||
    nh === ipv6.NH_DEST_OPTS || nh === ipv6.NH_AH;
}

/**
 * Walks the extension headers (RFC 7915 §5.1): skips Hop-by-Hop, Destination Options and
 * Routing with Segments Left 0 (else Parameter Problem), remembers the Fragment header in
 * `ctx.fragmentHeaderAt`, and refuses an extension header after it.
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param end end of the packet
 * @param nh the IPv6 header's Next Header (an extension header)
 * @returns `l4Off << 8 | upperLayerProtocol`, or `-reason`
 */
export function extensionHeaders6(ctx: XlatContext, off: number, end: number, nh: number): number {
  const b = ctx.mem;
  let p = off + ipv6.HEADER_LEN;
  let fragOff = -1;
  for (let i = 0;; i++) {
    if (i > 8) return -Drop.BAD_EXTENSION_HEADER;
    if (fragOff >= 0 && isExtensionHeader(nh)) {
      return -refuse6(ctx, Drop.HEADER_AFTER_FRAGMENT, off, end - off, nh);
    }
    if (nh === ipv6.NH_HOP_BY_HOP || nh === ipv6.NH_DEST_OPTS || nh === ipv6.NH_ROUTING) {
      if (nh === ipv6.NH_HOP_BY_HOP && p !== off + ipv6.HEADER_LEN) {
        return -Drop.BAD_EXTENSION_HEADER;
      }
      if (p + ipv6.EXT_MIN_LEN > end) return -Drop.BAD_EXTENSION_HEADER;
      const hlen = ipv6.extLength(b, p);
      if (p + hlen > end) return -Drop.BAD_EXTENSION_HEADER;
      if (nh === ipv6.NH_ROUTING && b[p + ipv6.ROUTING_SEGMENTS_LEFT_OFF] !== 0) {
        const pointer = p + ipv6.ROUTING_SEGMENTS_LEFT_OFF - off;
        sendIcmp6Error(ctx, icmp.V6_PARAM_PROBLEM, 0, pointer, off, end - off, -1);
        return -Drop.SEGMENTS_LEFT;
      }
      nh = b[p + ipv6.EXT_NEXT_HEADER_OFF]!;
      p += hlen;
      continue;
    }
    if (nh === ipv6.NH_FRAGMENT) {
      if (p + ipv6.FRAGMENT_LEN > end) return -Drop.BAD_EXTENSION_HEADER;
      fragOff = p;
      nh = b[p + ipv6.FRAG_NEXT_HEADER_OFF]!;
      p += ipv6.FRAGMENT_LEN;
      continue;
    }
    break;
  }
  if (fragOff >= 0 && ipv6.fragmentOffsetBytes(ctx.view, fragOff) + end - p > 65535) {
    return -Drop.BAD_FRAGMENT;
  }
  ctx.fragmentHeaderAt = fragOff;
  return (p << 8) | nh;
}

/**
 * A packet for the translator's own address: answers an Echo Request (RFC 4443 §4.1), drops
 * the rest.
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param l4Off offset of the upper-layer header
 * @param end end of the packet
 * @param whole whether it is a whole ICMPv6 message
 * @returns as `translate()`
 */
export function toSelf6(
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
 * Hop limit 1 or 0 (RFC 7915 §5.1: the translator is a router): Time Exceeded, and a drop.
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param pktLen packet length
 * @param icmpType ICMPv6 type, or -1 (no error about an error)
 * @returns as `translate()`
 */
export function hopLimitExceeded6(
  ctx: XlatContext,
  off: number,
  pktLen: number,
  icmpType: number,
): number {
  sendIcmp6Error(ctx, icmp.V6_TIME_EXCEEDED, 0, 0, off, pktLen, icmpType);
  return drop(ctx, Drop.HOP_LIMIT_EXCEEDED);
}

/** Whether an IPv6 address is link-local (fe80::/10). */
function isLinkLocal6(b: Uint8Array, off: number): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
}

/**
 * Map the source when it has no lease yet: creates one (RFC 6146 §3.5), unless the source is
 * link-local or inside the prefix (an IPv6 host posing as an IPv4 one), the pool is exhausted
 * (Address Unreachable, RFC 6146 §3.5.1–3.5.3, to queries too), or an abuse limit
 * (lib/lease/limits.ts) refuses it (Communication Administratively Prohibited). The answers are
 * rate limited and never about an ICMPv6 error (`sendIcmp6Error` refuses those).
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param pktLen packet length
 * @param nh upper-layer protocol
 * @param icmpType ICMPv6 type, or -1
 * @returns the new lease's IPv4 address, or `NOT_IPV4` with the reason in `ctx.refusal`
 */
export function newSource6(
  ctx: XlatContext,
  off: number,
  pktLen: number,
  nh: number,
  icmpType: number,
): number {
  const b = ctx.mem;
  const s = ctx.settings;
  const srcOff = off + ipv6.SOURCE_OFF;
  if (isLinkLocal6(b, srcOff) || matchesPrefix(b, srcOff, s.prefix, s.prefixLen)) {
    ctx.refusal = Drop.SOURCE_NOT_TRANSLATABLE;
    return NOT_IPV4;
  }
  const src4 = ctx.mapper.v4For6(b, srcOff, ctx.nowSecs, LEASE_ALLOCATE | LEASE_REFRESH);
  if (src4 < NOT_IPV4) return src4;
  if (src4 === NOT_IPV4) {
    ctx.refusal = refuse6(ctx, Drop.NO_MAPPING, off, pktLen, nh);
    return NOT_IPV4;
  }
  const code = src4 === MAP_EXHAUSTED ? icmp.V6_CODE_ADDR_UNREACH : icmp.V6_CODE_ADMIN_PROHIBITED;
  if (s.sendDropErrors) {
    sendIcmp6Error(ctx, icmp.V6_DEST_UNREACH, code, 0, off, pktLen, icmpType);
  }
  ctx.refusal = src4 === MAP_EXHAUSTED
    ? Drop.POOL_EXHAUSTED
    : src4 === MAP_SOURCE_NOT_ALLOWED
    ? Drop.SOURCE_NOT_ALLOWED
    : src4 === MAP_PREFIX_LIMIT
    ? Drop.PREFIX_LEASE_LIMIT
    : Drop.LEASE_RATE_LIMIT;
  return NOT_IPV4;
}

/**
 * Fragmented ICMPv6 cannot have its checksum fixed piecewise (RFC 7915 §1.2): the fragment is
 * held for reassembly, and a completed datagram is translated whole through `from6()`.
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param fragOff offset of its Fragment header
 * @param l4Off offset of the fragment's payload
 * @param l4Len its length
 * @returns as `translate()`
 */
export function reassemble6To4(
  ctx: XlatContext,
  off: number,
  fragOff: number,
  l4Off: number,
  l4Len: number,
): number {
  const id = ipv6.fragmentId(ctx.view, fragOff);
  const r = reassemble6(ctx, off, fragOff, l4Off, l4Len);
  if (r < 0) return drop(ctx, -r);
  ctx.counters[Stat.REASSEMBLED]!++;
  return from6(ctx, r, ctx.reassembledLen, FLAG_REASSEMBLED, id);
}

/**
 * IPv4 source for an ICMPv6 error (RFC 7915 §5.3, RFC 6791): a static map, the address
 * embedded in the prefix, the sender's existing lease, else the first `Pool6791v4` address or
 * `Address4`. Never creates a lease (RFC 6146 §3.5).
 *
 * @param ctx engine context
 * @param srcOff offset of the IPv6 source
 * @returns the IPv4 address
 */
export function errorSource6(ctx: XlatContext, srcOff: number): number {
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
 * An ICMPv6 error (RFC 7915 §5.2–5.3): translated with the packet it quotes
 * (lib/xlat/icmp_error_6to4.ts); its IPv4 source from {@link errorSource6}.
 *
 * @param ctx engine context
 * @param off offset of the IPv6 header
 * @param l4Off offset of the ICMPv6 header
 * @param end end of the packet
 * @param dst4 IPv4 destination
 * @param fragOff offset of an (atomic) Fragment header, or -1
 * @param tc TOS for the IPv4 header
 * @returns as `translate()`
 */
export function error6To4(
  ctx: XlatContext,
  off: number,
  l4Off: number,
  end: number,
  dst4: number,
  fragOff: number,
  tc: number,
): number {
  if (end - l4Off < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
  const src4 = errorSource6(ctx, off + ipv6.SOURCE_OFF);
  const id4 = fragOff >= 0 ? ipv6.fragmentId(ctx.view, fragOff) & 0xffff : nextId(ctx);
  const r = icmp6ErrorTo4(ctx, off, l4Off, end, src4, dst4, id4, tc);
  if (r < 0) return drop(ctx, -r);
  ctx.counters[Stat.TRANSLATED_6TO4]!++;
  if (ctx.mapper.owns4(dst4)) return hairpin(ctx, r);
  return emit(ctx, r, ipv4.totalLength(ctx.view, r));
}

/**
 * An ICMPv6 query's ICMPv4 type and code (RFC 7915 §5.2): Echo Request and Reply translate;
 * single-hop messages (MLD, ND: types 130–143) and the rest are dropped.
 *
 * @param v packet view
 * @param l4Off offset of the ICMPv6 header
 * @param l4Len ICMPv6 bytes present
 * @param icmpType its type
 * @returns the ICMPv4 `type << 8 | code`, or `-reason`
 */
export function icmpQuery6To4(v: DataView, l4Off: number, l4Len: number, icmpType: number): number {
  if (l4Len < icmp.HEADER_LEN) return -Drop.TRUNCATED_TRANSPORT;
  const mapped = V6_TO_V4_TYPE_CODE[v.getUint16(l4Off)]!;
  if (mapped >= 0) return mapped;
  return icmpType >= 130 && icmpType <= 143 ? -Drop.ICMP_SINGLE_HOP : -Drop.ICMP_UNTRANSLATABLE;
}
