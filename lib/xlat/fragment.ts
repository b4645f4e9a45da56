/**
 * Fragmentation of translated packets (RFC 7915 §4 for IPv4 → IPv6 with
 * `lowest-ipv6-mtu`; RFC 791 §3.2 for IPv4 output larger than the IPv4
 * next-hop MTU when DF is clear).
 *
 * @module
 */

import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { MAX_EMIT, OUTPUT_CAPACITY, OUTPUT_OFFSET, type XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { emit, reserve } from "./emit.ts";

/**
 * Whether `pieces` fragments of at most `maxBytes` each fit the emit table and
 * the output area; a datagram that does not fit is not sent at all, since a
 * receiver can never reassemble part of one.
 */
function fits(ctx: XlatContext, pieces: number, maxBytes: number): boolean {
  return ctx.emitted + pieces <= MAX_EMIT &&
    ctx.outUsed + pieces * ((maxBytes + 7) & ~7) <= OUTPUT_OFFSET + OUTPUT_CAPACITY;
}

/**
 * Emits an IPv6 packet as fragments no larger than `maxBytes`.
 *
 * The packet at `hdrOff` is a 40-byte IPv6 header (its addresses, traffic
 * class and hop limit are copied), followed at `dataOff` by `dataLen` bytes
 * of fragmentable payload whose first byte sits at `baseOffsetBytes` of the
 * original datagram.
 *
 * @param ctx engine context
 * @param hdrOff offset of the IPv6 header to copy
 * @param dataOff offset of the payload
 * @param dataLen payload length
 * @param nh Next Header of the payload (goes in the Fragment header)
 * @param baseOffsetBytes offset of the payload within the datagram (multiple of 8)
 * @param lastMore M flag for the last piece (1 when the input was itself a non-last fragment)
 * @param id Fragment Identification
 * @param maxBytes largest fragment, headers included
 * @returns packets emitted, or -reason
 */
export function emitFragments6(
  ctx: XlatContext,
  hdrOff: number,
  dataOff: number,
  dataLen: number,
  nh: number,
  baseOffsetBytes: number,
  lastMore: number,
  id: number,
  maxBytes: number,
): number {
  const b = ctx.mem;
  const v = ctx.view;
  const chunk = (maxBytes - ipv6.HEADER_LEN - ipv6.FRAGMENT_LEN) & ~7;
  if (chunk <= 0 || !fits(ctx, Math.ceil(dataLen / chunk), maxBytes)) {
    ctx.counters[Drop.TOO_BIG_FOR_BUFFER]!++;
    return -Drop.TOO_BIG_FOR_BUFFER;
  }
  const hl = ipv6.hopLimit(v, hdrOff);
  const tc = ipv6.trafficClass(v, hdrOff);
  let done = 0;
  while (done < dataLen) {
    const n = Math.min(chunk, dataLen - done);
    const last = done + n >= dataLen;
    const size = ipv6.HEADER_LEN + ipv6.FRAGMENT_LEN + n;
    const out = reserve(ctx, size);
    if (out < 0) {
      ctx.counters[Drop.TOO_BIG_FOR_BUFFER]!++;
      return ctx.emitted > 0 ? ctx.emitted : -Drop.TOO_BIG_FOR_BUFFER;
    }
    ipv6.writeFixed(v, out, tc, ipv6.FRAGMENT_LEN + n, ipv6.NH_FRAGMENT, hl);
    b.copyWithin(out + ipv6.SOURCE_OFF, hdrOff + ipv6.SOURCE_OFF, hdrOff + ipv6.HEADER_LEN);
    ipv6.writeFragment(
      v,
      out + ipv6.HEADER_LEN,
      nh,
      (baseOffsetBytes + done) >> 3,
      last ? lastMore : 1,
      id,
    );
    b.copyWithin(out + ipv6.HEADER_LEN + ipv6.FRAGMENT_LEN, dataOff + done, dataOff + done + n);
    if (emit(ctx, out, size) === 0) return ctx.emitted;
    ctx.counters[Stat.FRAGMENTS_CREATED]!++;
    done += n;
  }
  return ctx.emitted;
}

/**
 * Emits an IPv4 packet (20-byte header at `hdrOff`, payload right after it)
 * as fragments no larger than `maxBytes` (RFC 791 §3.2). The header's
 * identification, TOS, TTL, protocol and addresses are copied; its offset
 * and MF describe where this packet sits in the original datagram.
 *
 * @param ctx engine context
 * @param hdrOff offset of the IPv4 header (IHL 5)
 * @param maxBytes largest fragment, header included
 * @returns packets emitted, or -reason
 */
export function emitFragments4(ctx: XlatContext, hdrOff: number, maxBytes: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const chunk = (maxBytes - ipv4.HEADER_LEN) & ~7;
  const total = ipv4.totalLength(v, hdrOff);
  const dataLen = total - ipv4.HEADER_LEN;
  if (chunk <= 0 || !fits(ctx, Math.ceil(dataLen / chunk), maxBytes)) {
    ctx.counters[Drop.TOO_BIG_FOR_BUFFER]!++;
    return -Drop.TOO_BIG_FOR_BUFFER;
  }
  const fo = ipv4.flagsOffset(v, hdrOff);
  const base = (fo & ipv4.OFFSET_MASK) << 3;
  const lastMore = fo & ipv4.FLAG_MF;
  let done = 0;
  while (done < dataLen) {
    const n = Math.min(chunk, dataLen - done);
    const last = done + n >= dataLen;
    const size = ipv4.HEADER_LEN + n;
    const out = reserve(ctx, size);
    if (out < 0) {
      ctx.counters[Drop.TOO_BIG_FOR_BUFFER]!++;
      return ctx.emitted > 0 ? ctx.emitted : -Drop.TOO_BIG_FOR_BUFFER;
    }
    const flags = (last ? lastMore : ipv4.FLAG_MF) | ((base + done) >> 3);
    ipv4.writeHeader(
      b,
      v,
      out,
      ipv4.tos(v, hdrOff),
      size,
      ipv4.identification(v, hdrOff),
      flags,
      ipv4.ttl(v, hdrOff),
      ipv4.protocol(v, hdrOff),
      ipv4.source(v, hdrOff),
      ipv4.destination(v, hdrOff),
    );
    b.copyWithin(
      out + ipv4.HEADER_LEN,
      hdrOff + ipv4.HEADER_LEN + done,
      hdrOff + ipv4.HEADER_LEN + done + n,
    );
    if (emit(ctx, out, size) === 0) return ctx.emitted;
    ctx.counters[Stat.FRAGMENTS_CREATED]!++;
    done += n;
  }
  return ctx.emitted;
}
