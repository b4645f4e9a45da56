/**
 * The rare steps of IPv4 → IPv6 (RFC 7915 §4), called by `from4()` in lib/xlat/four_to_six.ts
 * off its common path: packets for the translator, source routes, policy refusals, sources
 * outside the prefix (CLAT, non-global, RFC 6791), reassembly of fragmented ICMP, ICMPv4 errors
 * and Fragmentation Needed. They run once per such packet and need not be inlined.
 *
 * @module
 */

import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { embedIpv4 } from "../addr/rfc6052.ts";
import { isGlobalIpv4 } from "../addr/special.ts";
import { checksum, sumBytes } from "../wire/checksum.ts";
import * as udp from "../wire/udp.ts";
import { TMP_SRC, type XlatContext } from "./context.ts";
import { adjustIcmpEcho4To6 } from "./icmp_echo.ts";
import { V4_TO_V6_TYPE_CODE } from "./icmp_map.ts";
import { Drop, Stat } from "./drop.ts";
import { drop, emit } from "./emit.ts";
import { echoReply4, sendIcmp4Error } from "./icmp_gen.ts";
import { icmp4ErrorTo6 } from "./icmp_error_4to6.ts";
import { reassemble4 } from "./reassembly.ts";
import { from4 } from "./four_to_six.ts";
import { FLAG_HAIRPIN, FLAG_REASSEMBLED } from "./steps.ts";

/**
 * Sends the policy ICMPv4 error (RFC 7915 §4.4: Communication Administratively Prohibited)
 * unless disabled, on the hairpin leg, or about an ICMP packet.
 *
 * @param ctx engine context
 * @param reason the {@link Drop} reason
 * @param off offset of the IPv4 header
 * @param total its total length
 * @param flags `FLAG_HAIRPIN` or 0
 * @returns `reason`
 */
export function refuse4(
  ctx: XlatContext,
  reason: number,
  off: number,
  total: number,
  flags: number,
): number {
  if (
    ctx.settings.sendDropErrors && (flags & FLAG_HAIRPIN) === 0 &&
    ipv4.protocol(ctx.view, off) !== ipv4.PROTO_ICMP
  ) {
    sendIcmp4Error(ctx, icmp.V4_DEST_UNREACH, icmp.V4_CODE_ADMIN_PROHIBITED, 0, off, total);
  }
  return reason;
}

/**
 * A packet for `Address4`: answers an Echo Request (RFC 792, RFC 1812 §4.3.3.6), drops the rest.
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param ihl its header length
 * @param total its total length
 * @param proto its protocol
 * @param isFrag whether it is a fragment
 * @returns as `translate()`
 */
export function toSelf4(
  ctx: XlatContext,
  off: number,
  ihl: number,
  total: number,
  proto: number,
  isFrag: boolean,
): number {
  if (proto === ipv4.PROTO_ICMP && !isFrag && echoReply4(ctx, off, ihl, total) > 0) {
    return ctx.emitted;
  }
  return drop(ctx, Drop.TO_SELF);
}

/**
 * TTL 1 or 0 (RFC 7915 §4.1: the translator is a router): Time Exceeded, and a drop.
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param total its total length
 * @returns as `translate()`
 */
export function timeExceeded4(ctx: XlatContext, off: number, total: number): number {
  sendIcmp4Error(ctx, icmp.V4_TIME_EXCEEDED, 0, 0, off, total);
  return drop(ctx, Drop.HOP_LIMIT_EXCEEDED);
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
 * Whether the options of the IPv4 header at `off` hold an unexpired source route (RFC 7915
 * §4.1); other options are left behind by the translation.
 *
 * @param b packet bytes
 * @param off offset of the IPv4 header
 * @param ihl its header length (over 20)
 * @returns whether to answer Source Route Failed
 */
export function sourceRouted4(b: Uint8Array, off: number, ihl: number): boolean {
  return hasUnexpiredSourceRoute(b, off + ipv4.HEADER_LEN, off + ihl);
}

/**
 * Source Route Failed (RFC 7915 §4.1) for a packet with an unexpired source route, and a drop.
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @returns as `translate()`
 */
export function sourceRouteFailed4(ctx: XlatContext, off: number): number {
  const total = ipv4.totalLength(ctx.view, off);
  sendIcmp4Error(ctx, icmp.V4_DEST_UNREACH, icmp.V4_CODE_SOURCE_ROUTE_FAILED, 0, off, total);
  return drop(ctx, Drop.SOURCE_ROUTE);
}

/**
 * Map a source with no static mapping when the prefix may not carry every address: a CLAT's
 * sources are its customers alone; under the Well-Known Prefix a non-global source is refused
 * (RFC 6052 §3.1); a global source is embedded in the prefix into `TMP_SRC`. In both cases an
 * ICMPv4 error is still translated, from an RFC 6791 address (`Pool6791v6`, else `Address6`):
 * a router between the CLAT and its customers (a LAN hop with a smaller MTU) must be able to
 * send Fragmentation Needed to the world, or path-MTU discovery breaks (RFC 7915 §4.2, the
 * IPv6 mirror of RFC 6791).
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param total its total length
 * @param flags `FLAG_HAIRPIN` or 0
 * @param src the IPv4 source
 * @param isError whether the packet is an ICMPv4 error
 * @returns 0 with the source at `TMP_SRC`, or the {@link Drop} reason
 */
export function sourceOutsidePrefix4(
  ctx: XlatContext,
  off: number,
  total: number,
  flags: number,
  src: number,
  isError: boolean,
): number {
  const s = ctx.settings;
  const b = ctx.mem;
  if (!s.clat && isGlobalIpv4(src)) {
    embedIpv4(s.prefix, s.prefixLen, src, b, TMP_SRC);
    return 0;
  }
  if (!isError) {
    return refuse4(
      ctx,
      s.clat ? Drop.NOT_CUSTOMER_SOURCE : Drop.NON_GLOBAL_WITH_WKP,
      off,
      total,
      flags,
    );
  }
  // RFC 6791 for IPv6: an error from a router we cannot represent.
  if (s.pool6791v6.length === 0) b.set(s.address6, TMP_SRC);
  else for (let i = 0; i < 16; i++) b[TMP_SRC + i] = s.pool6791v6[i]!;
  return 0;
}

/**
 * Fragmented ICMP cannot have its checksum fixed piecewise (RFC 7915 §1.2): the fragment is
 * held for reassembly, and a completed datagram is translated whole through `from4()`.
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param ihl its header length
 * @param total its total length
 * @param flags `FLAG_HAIRPIN` or 0
 * @returns as `translate()`
 */
export function reassemble4To6(
  ctx: XlatContext,
  off: number,
  ihl: number,
  total: number,
  flags: number,
): number {
  const r = reassemble4(ctx, off, ihl, total);
  if (r < 0) return drop(ctx, -r);
  ctx.counters[Stat.REASSEMBLED]!++;
  return from4(ctx, r, ctx.reassembledLen, FLAG_REASSEMBLED | (flags & FLAG_HAIRPIN));
}

/**
 * An ICMPv4 error (RFC 7915 §4.2–4.3): translated with the packet it quotes
 * (lib/xlat/icmp_error_4to6.ts); its outer addresses are already at `TMP_SRC`/`TMP_DST`.
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param ihl its header length
 * @param total its total length
 * @param hairpinned whether this is the 4→6 leg of a hairpin
 * @param tos traffic class for the IPv6 header
 * @returns as `translate()`
 */
export function error4To6(
  ctx: XlatContext,
  off: number,
  ihl: number,
  total: number,
  hairpinned: boolean,
  tos: number,
): number {
  const r = icmp4ErrorTo6(ctx, off, ihl, total, hairpinned, tos);
  if (r < 0) return drop(ctx, -r);
  ctx.counters[Stat.TRANSLATED_4TO6]!++;
  return emit(ctx, r, ipv6.HEADER_LEN + ipv6.payloadLength(ctx.view, r));
}

/**
 * A packet with DF set too big for `MTU6`: Fragmentation Needed with the IPv4 MTU that fits
 * (`MTU6` − 20, RFC 7915 §4.1), and a drop.
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param total its total length
 * @returns as `translate()`
 */
export function fragmentationNeeded4(ctx: XlatContext, off: number, total: number): number {
  const mtu = ctx.settings.mtu6 - ipv6.HEADER_LEN + ipv4.HEADER_LEN;
  sendIcmp4Error(ctx, icmp.V4_DEST_UNREACH, icmp.V4_CODE_FRAG_NEEDED, mtu, off, total);
  return drop(ctx, Drop.PACKET_TOO_BIG);
}

/** `checkTransport4()` result bit: compute a UDP checksum of 0 (RFC 7915 §4.5). */
export const AMEND_UDP = 0x10000;

/**
 * An ICMPv4 query's ICMPv6 type and code (RFC 7915 §4.2): Echo Request and Reply translate,
 * the rest is dropped.
 *
 * @param v packet view
 * @param l4Off offset of the ICMPv4 header
 * @returns the ICMPv6 `type << 8 | code`, or `-Drop.ICMP_UNTRANSLATABLE`
 */
export function icmpQuery4To6(v: DataView, l4Off: number): number {
  const mapped = V4_TO_V6_TYPE_CODE[v.getUint16(l4Off)]!;
  return mapped < 0 ? -Drop.ICMP_UNTRANSLATABLE : mapped;
}

/**
 * A UDP checksum of 0 (RFC 7915 §4.5): computed when `AmendUDPChecksumZero` allows and the
 * packet is whole with a UDP length that describes it (the checksum covers that field, RFC
 * 768), else refused with the policy error.
 *
 * @param ctx engine context
 * @param off offset of the IPv4 header
 * @param total its total length
 * @param flags `FLAG_HAIRPIN` or 0
 * @param l4Off offset of the UDP header
 * @param l4Len UDP length present
 * @param isFrag whether the packet is a fragment
 * @returns {@link AMEND_UDP}, or `-reason`
 */
export function udpChecksumZero4(
  ctx: XlatContext,
  off: number,
  total: number,
  flags: number,
  l4Off: number,
  l4Len: number,
  isFrag: boolean,
): number {
  if (isFrag || !ctx.settings.amendUdpChecksumZero) {
    return -refuse4(ctx, Drop.UDP_ZERO_CHECKSUM, off, total, flags);
  }
  if (ctx.view.getUint16(l4Off + udp.LENGTH_OFF) !== l4Len) return -Drop.TRUNCATED_TRANSPORT;
  return AMEND_UDP;
}

/**
 * The checksums not adjusted for addresses alone (RFC 7915 §4.5): an ICMP Echo's through
 * `adjustIcmpEcho4To6` (new type, pseudo-header added), and a UDP checksum of 0 computed whole.
 *
 * @param ctx engine context
 * @param l4Off offset of the transport header
 * @param l4Len transport length
 * @param chk the ICMPv6 type and code, or {@link AMEND_UDP}
 */
export function rebuildChecksum4To6(
  ctx: XlatContext,
  l4Off: number,
  l4Len: number,
  chk: number,
): void {
  const newSum = sumBytes(ctx.mem, TMP_SRC, 32, 0);
  if (chk !== AMEND_UDP) return adjustIcmpEcho4To6(ctx.view, l4Off, l4Len, newSum, chk);
  const cs = checksum(ctx.mem, l4Off, l4Len, newSum + l4Len + ipv4.PROTO_UDP);
  ctx.view.setUint16(l4Off + udp.CHECKSUM_OFF, cs || 0xffff);
}
