/**
 * ICMP errors the translator originates itself (RFC 7915 §4.4, §5.4;
 * RFC 1812 §4.3.2; RFC 4443 §2.4): Time Exceeded, Fragmentation Needed,
 * Packet Too Big, Parameter Problem and Destination Unreachable.
 *
 * Source `Address4`/`Address6`, TTL/hop limit 64, TOS/traffic class 0,
 * flow label 0, DF clear; the offending packet is quoted up to 576 (IPv4)
 * or 1280 (IPv6) bytes in all. Errors pass a token bucket.
 *
 * @module
 */

import {
  isInvalidSource4,
  isInvalidSource6,
  isMulticast6,
  isMulticastOrBroadcast4,
} from "../addr/special.ts";
import { checksum } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import type { XlatContext } from "./context.ts";
import { Stat } from "./drop.ts";
import { emit, nextId, reserve } from "./emit.ts";

/** Largest ICMPv4 error the translator sends (RFC 1812 §4.3.2.3). */
export const MAX_ICMP4_ERROR = 576;
/** Largest ICMPv6 error the translator sends (RFC 4443 §2.4(c)). */
export const MAX_ICMP6_ERROR = 1280;
/** TTL / hop limit of originated errors. */
export const ERROR_HOP_LIMIT = 64;

/**
 * Takes a token from the error rate limiter (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).
 * @param ctx engine context
 * @returns true when an error may be sent now
 */
function takeToken(ctx: XlatContext): boolean {
  const s = ctx.settings;
  if (s.icmpErrorRatePerSec <= 0) return false;
  const elapsed = ctx.nowMs - ctx.tokensAtMs;
  if (elapsed > 0) {
    ctx.tokens = Math.min(s.icmpErrorBurst, ctx.tokens + (elapsed * s.icmpErrorRatePerSec) / 1000);
    ctx.tokensAtMs = ctx.nowMs;
  } else if (elapsed < 0) {
    ctx.tokensAtMs = ctx.nowMs; // clock went backwards (offline captures): restart the bucket
  }
  if (ctx.tokens < 1) return false;
  ctx.tokens -= 1;
  return true;
}

/**
 * Sends an ICMPv4 error about the IPv4 packet at `pktOff` back to its source.
 * Nothing is sent for a non-unicast source or destination, a non-first
 * fragment or an ICMP error (RFC 1812 §4.3.2.7), or when rate-limited.
 *
 * @param ctx engine context
 * @param type ICMPv4 type
 * @param code ICMPv4 code
 * @param rest bytes 4–7 of the ICMP header (MTU, pointer or 0)
 * @param pktOff offset of the offending IPv4 packet in `ctx.mem`
 * @param pktLen its length
 * @returns 1 when an error was emitted, else 0
 */
export function sendIcmp4Error(
  ctx: XlatContext,
  type: number,
  code: number,
  rest: number,
  pktOff: number,
  pktLen: number,
): number {
  const b = ctx.mem;
  const v = ctx.view;
  const src = ipv4.source(v, pktOff);
  if (isInvalidSource4(src) || isMulticastOrBroadcast4(src)) return 0;
  if (isMulticastOrBroadcast4(ipv4.destination(v, pktOff))) return 0;
  if ((ipv4.flagsOffset(v, pktOff) & ipv4.OFFSET_MASK) !== 0) return 0;
  const ihl = ipv4.headerLength(v, pktOff);
  if (ipv4.protocol(v, pktOff) === ipv4.PROTO_ICMP) {
    if (pktLen <= ihl || icmp.isV4Error(b[pktOff + ihl]!)) return 0;
  }
  if (!takeToken(ctx)) {
    ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED]!++;
    return 0;
  }
  const quote = Math.min(pktLen, MAX_ICMP4_ERROR - ipv4.HEADER_LEN - icmp.HEADER_LEN);
  const total = ipv4.HEADER_LEN + icmp.HEADER_LEN + quote;
  const out = reserve(ctx, total);
  if (out < 0) return 0;
  ipv4.writeHeader(
    b,
    v,
    out,
    0,
    total,
    nextId(ctx),
    0,
    ERROR_HOP_LIMIT,
    ipv4.PROTO_ICMP,
    ctx.settings.address4,
    src,
  );
  const i = out + ipv4.HEADER_LEN;
  v.setUint8(i, type);
  v.setUint8(i + icmp.CODE_OFF, code);
  v.setUint16(i + icmp.CHECKSUM_OFF, 0);
  v.setUint32(i + icmp.REST_OFF, rest >>> 0);
  b.copyWithin(i + icmp.HEADER_LEN, pktOff, pktOff + quote);
  v.setUint16(i + icmp.CHECKSUM_OFF, checksum(b, i, icmp.HEADER_LEN + quote, 0));
  ctx.counters[Stat.ICMP_ERRORS_SENT]!++;
  return emit(ctx, out, total);
}

/**
 * Sends an ICMPv6 error about the IPv6 packet at `pktOff` back to its source.
 * Nothing is sent for an unspecified, loopback or multicast source, a
 * multicast destination (except Packet Too Big), an ICMPv6 error, or when
 * rate-limited (RFC 4443 §2.4(e), (f)).
 *
 * @param ctx engine context
 * @param type ICMPv6 type
 * @param code ICMPv6 code
 * @param rest bytes 4–7 of the ICMPv6 header (MTU, pointer or 0)
 * @param pktOff offset of the offending IPv6 packet in `ctx.mem`
 * @param pktLen its length
 * @param icmpType ICMPv6 type of the offending packet, or -1 when it is not ICMPv6
 * @returns 1 when an error was emitted, else 0
 */
export function sendIcmp6Error(
  ctx: XlatContext,
  type: number,
  code: number,
  rest: number,
  pktOff: number,
  pktLen: number,
  icmpType: number,
): number {
  const b = ctx.mem;
  const v = ctx.view;
  if (isInvalidSource6(b, pktOff + ipv6.SOURCE_OFF)) return 0;
  if (isMulticast6(b, pktOff + ipv6.DESTINATION_OFF) && type !== icmp.V6_PACKET_TOO_BIG) return 0;
  if (icmpType >= 0 && icmp.isV6Error(icmpType)) return 0;
  if (!takeToken(ctx)) {
    ctx.counters[Stat.ICMP_ERRORS_SUPPRESSED]!++;
    return 0;
  }
  const quote = Math.min(pktLen, MAX_ICMP6_ERROR - ipv6.HEADER_LEN - icmp.HEADER_LEN);
  const icmpLen = icmp.HEADER_LEN + quote;
  const out = reserve(ctx, ipv6.HEADER_LEN + icmpLen);
  if (out < 0) return 0;
  ipv6.writeFixed(v, out, 0, icmpLen, ipv6.NH_ICMPV6, ERROR_HOP_LIMIT);
  b.set(ctx.settings.address6, out + ipv6.SOURCE_OFF);
  b.copyWithin(out + ipv6.DESTINATION_OFF, pktOff + ipv6.SOURCE_OFF, pktOff + ipv6.SOURCE_OFF + 16);
  const i = out + ipv6.HEADER_LEN;
  v.setUint8(i, type);
  v.setUint8(i + icmp.CODE_OFF, code);
  v.setUint16(i + icmp.CHECKSUM_OFF, 0);
  v.setUint32(i + icmp.REST_OFF, rest >>> 0);
  b.copyWithin(i + icmp.HEADER_LEN, pktOff, pktOff + quote);
  const pseudo = ipv6.sumAddresses(b, out) + icmpLen + ipv6.NH_ICMPV6;
  v.setUint16(i + icmp.CHECKSUM_OFF, checksum(b, i, icmpLen, pseudo));
  ctx.counters[Stat.ICMP_ERRORS_SENT]!++;
  return emit(ctx, out, ipv6.HEADER_LEN + icmpLen);
}

/**
 * Answers an Echo Request addressed to the translator's own IPv4 address.
 * @param ctx engine context
 * @param off offset of the IPv4 packet
 * @param ihl its header length
 * @param len its total length
 * @returns 1 when a reply was emitted, else 0
 */
export function echoReply4(ctx: XlatContext, off: number, ihl: number, len: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const icmpLen = len - ihl;
  if (icmpLen < icmp.HEADER_LEN || b[off + ihl] !== icmp.V4_ECHO_REQUEST) return 0;
  if (checksum(b, off + ihl, icmpLen, 0) !== 0) return 0;
  const total = ipv4.HEADER_LEN + icmpLen;
  const out = reserve(ctx, total);
  if (out < 0) return 0;
  ipv4.writeHeader(
    b,
    v,
    out,
    ipv4.tos(v, off),
    total,
    nextId(ctx),
    0,
    ERROR_HOP_LIMIT,
    ipv4.PROTO_ICMP,
    ctx.settings.address4,
    ipv4.source(v, off),
  );
  const i = out + ipv4.HEADER_LEN;
  b.copyWithin(i, off + ihl, off + len);
  v.setUint8(i, icmp.V4_ECHO_REPLY);
  v.setUint16(i + icmp.CHECKSUM_OFF, 0);
  v.setUint16(i + icmp.CHECKSUM_OFF, checksum(b, i, icmpLen, 0));
  ctx.counters[Stat.ECHO_REPLIES]!++;
  return emit(ctx, out, total);
}

/**
 * Answers an Echo Request addressed to one of the translator's own IPv6
 * addresses (Address6, or Address4 inside the prefix), from the address the
 * request was sent to (RFC 4443 §2.2(a)).
 * @param ctx engine context
 * @param off offset of the IPv6 packet
 * @param l4Off offset of its ICMPv6 header
 * @param end end of the packet
 * @returns 1 when a reply was emitted, else 0
 */
export function echoReply6(ctx: XlatContext, off: number, l4Off: number, end: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const icmpLen = end - l4Off;
  if (icmpLen < icmp.HEADER_LEN || b[l4Off] !== icmp.V6_ECHO_REQUEST) return 0;
  const pseudo = ipv6.sumAddresses(b, off) + icmpLen + ipv6.NH_ICMPV6;
  if (checksum(b, l4Off, icmpLen, pseudo) !== 0) return 0;
  const out = reserve(ctx, ipv6.HEADER_LEN + icmpLen);
  if (out < 0) return 0;
  ipv6.writeFixed(v, out, ipv6.trafficClass(v, off), icmpLen, ipv6.NH_ICMPV6, ERROR_HOP_LIMIT);
  b.copyWithin(out + ipv6.SOURCE_OFF, off + ipv6.DESTINATION_OFF, off + ipv6.DESTINATION_OFF + 16);
  b.copyWithin(out + ipv6.DESTINATION_OFF, off + ipv6.SOURCE_OFF, off + ipv6.SOURCE_OFF + 16);
  const i = out + ipv6.HEADER_LEN;
  b.copyWithin(i, l4Off, end);
  v.setUint8(i, icmp.V6_ECHO_REPLY);
  v.setUint16(i + icmp.CHECKSUM_OFF, 0);
  const sum = ipv6.sumAddresses(b, out) + icmpLen + ipv6.NH_ICMPV6;
  v.setUint16(i + icmp.CHECKSUM_OFF, checksum(b, i, icmpLen, sum));
  ctx.counters[Stat.ECHO_REPLIES]!++;
  return emit(ctx, out, ipv6.HEADER_LEN + icmpLen);
}
