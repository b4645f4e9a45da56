/**
 * IPv4 → IPv6 (RFC 7915 §4), as named steps run in order by {@link from4}:
 * validate the header, admit (destination, source, the translator's own
 * address, source routes, TTL), map the addresses, reassemble a fragmented
 * ICMP datagram, transport checks, size and fragmentation, transport checksums
 * (lib/xlat/transport.ts), emit. ICMPv4 errors leave after the address mapping
 * for lib/xlat/icmp_error.ts. A step returns `CONTINUE` or the value
 * `translate()` returns; what else it finds goes into `ctx.pkt`
 * (lib/xlat/packet.ts).
 *
 * @module
 */

import { embedIpv4 } from "../addr/rfc6052.ts";
import { isGlobalIpv4, isInvalidSource4, isMulticastOrBroadcast4 } from "../addr/special.ts";
import { checksum } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as udp from "../wire/udp.ts";
import { LEASE_REFRESH } from "../lease/table.ts";
import { HEADER_GROWTH, TMP_DST, TMP_SRC, type XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { drop, emit } from "./emit.ts";
import { emitFragments6 } from "./fragment.ts";
import { echoReply4, sendIcmp4Error } from "./icmp_gen.ts";
import { icmp4ErrorTo6 } from "./icmp_error.ts";
import { V4_TO_V6_TYPE_CODE } from "./icmp_map.ts";
import { CONTINUE, FLAG_HAIRPIN, FLAG_REASSEMBLED } from "./packet.ts";
import { policy4 } from "./policy.ts";
import { reassemble4 } from "./reassembly.ts";
import { transport4to6, transportTooShort } from "./transport.ts";

/**
 * IPv4 → IPv6 (RFC 7915 §4).
 * @param ctx engine context
 * @param off offset of the IPv4 header in `ctx.mem` (at least 48 bytes of headroom)
 * @param len bytes available
 * @param flags FLAG_HAIRPIN, FLAG_REASSEMBLED or 0
 * @returns as `translate()`
 */
export function from4(ctx: XlatContext, off: number, len: number, flags: number): number {
  const p = ctx.pkt;
  const hairpinned = (flags & FLAG_HAIRPIN) !== 0;
  let r = validate4(ctx, off, len, hairpinned);
  if (r !== CONTINUE) return r;
  const b = ctx.mem;
  const v = ctx.view;
  const total = p.end - off;
  const l4Off = p.l4Off;
  const l4Len = total - (l4Off - off);
  const proto = p.proto;
  const offsetBytes = p.fragOffsetBytes;
  const isFrag = p.more !== 0 || offsetBytes !== 0;
  const first = offsetBytes === 0;
  let icmpType = -1;
  if (proto === ipv4.PROTO_ICMP) icmpType = first && l4Len > 0 ? b[l4Off]! : 255;
  const isError = icmpType >= 0 && icmp.isV4Error(icmpType);
  r = admit4(ctx, off, total, isFrag, isError, hairpinned);
  if (r !== CONTINUE) return r;
  r = mapAddresses4(ctx, off, total, flags, isError);
  if (r !== CONTINUE) return r;

  const tos = ctx.settings.zeroizeTrafficClass ? 0 : ipv4.tos(v, off);
  if (proto === ipv4.PROTO_ICMP) {
    if (isFrag) {
      r = reassemble4(ctx, off, l4Off - off, total);
      if (r < 0) return drop(ctx, -r);
      ctx.counters[Stat.REASSEMBLED]!++;
      return from4(ctx, r, ctx.reassembledLen, FLAG_REASSEMBLED | (flags & FLAG_HAIRPIN));
    }
    if (l4Len < icmp.HEADER_LEN) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    if (isError) {
      r = icmp4ErrorTo6(ctx, off, l4Off - off, total, hairpinned, tos);
      if (r < 0) return drop(ctx, -r);
      ctx.counters[Stat.TRANSLATED_4TO6]!++;
      return emit(ctx, r, ipv6.HEADER_LEN + ipv6.payloadLength(v, r));
    }
  }
  if (first) {
    r = checkTransport4(ctx, off, total, l4Len, flags, isFrag);
    if (r !== CONTINUE) return r;
  }
  r = size4(ctx, off, total, l4Len, isFrag);
  if (r !== CONTINUE) return r;
  if (first) {
    const src = ipv4.source(v, off);
    const dst = ipv4.destination(v, off);
    transport4to6(ctx, l4Off, l4Len, proto, src, dst, p.mapped, p.amendUdp);
  }
  const ttl = ipv4.ttl(v, off);
  return emit4to6(ctx, l4Off, l4Len, tos, hairpinned ? ttl : ttl - 1, proto, isFrag);
}

/**
 * Step "validate": length, IHL, Total Length and (unless hairpinned, when this
 * translator wrote it) the header checksum. Sets `end`, `l4Off`, `proto`,
 * `fragOffsetBytes`, `more`, `fragId`.
 */
function validate4(ctx: XlatContext, off: number, len: number, hairpinned: boolean): number {
  const v = ctx.view;
  const p = ctx.pkt;
  if (len < ipv4.HEADER_LEN) return drop(ctx, Drop.TRUNCATED);
  const ihl = ipv4.headerLength(v, off);
  if (ihl < ipv4.HEADER_LEN) return drop(ctx, Drop.BAD_IHL);
  const total = ipv4.totalLength(v, off);
  if (total < ihl) return drop(ctx, Drop.BAD_IHL);
  if (total > len) return drop(ctx, Drop.TRUNCATED);
  if (!hairpinned && checksum(ctx.mem, off, ihl, 0) !== 0) {
    return drop(ctx, Drop.BAD_HEADER_CHECKSUM);
  }
  const fo = ipv4.flagsOffset(v, off);
  p.end = off + total;
  p.l4Off = off + ihl;
  p.proto = ipv4.protocol(v, off);
  p.fragOffsetBytes = (fo & ipv4.OFFSET_MASK) << 3;
  p.more = (fo & ipv4.FLAG_MF) !== 0 ? 1 : 0;
  p.fragId = ipv4.identification(v, off);
  return CONTINUE;
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
    if (p + ipv4.OPT_LENGTH_OFF >= end) return false;
    const l = b[p + ipv4.OPT_LENGTH_OFF]!;
    if (l < 2 || p + l > end) return false;
    const pointer = b[p + ipv4.OPT_POINTER_OFF]!;
    if ((t === ipv4.OPT_LSRR || t === ipv4.OPT_SSRR) && l >= 3 && pointer <= l) return true;
    p += l;
  }
  return false;
}

/**
 * Step "admit" (RFC 7915 §4.1): multicast and broadcast destinations, odd
 * sources (an ICMPv4 error from one is still translated), packets for the
 * translator itself (an Echo Request is answered), unexpired source routes, TTL
 * (the translator is a router; the hairpin leg does not count), IGMP, and
 * fragments that would end past 65535 bytes.
 */
function admit4(
  ctx: XlatContext,
  off: number,
  total: number,
  isFrag: boolean,
  isError: boolean,
  hairpinned: boolean,
): number {
  const v = ctx.view;
  const p = ctx.pkt;
  const proto = p.proto;
  const ihl = p.l4Off - off;
  if (isMulticastOrBroadcast4(ipv4.destination(v, off))) {
    return drop(ctx, Drop.MULTICAST_DESTINATION);
  }
  if (isInvalidSource4(ipv4.source(v, off)) && !isError) return drop(ctx, Drop.INVALID_SOURCE);
  if (ipv4.destination(v, off) === ctx.settings.address4) {
    if (proto === ipv4.PROTO_ICMP && !isFrag && echoReply4(ctx, off, ihl, total) > 0) {
      return ctx.emitted;
    }
    return drop(ctx, Drop.TO_SELF);
  }
  if (ihl > ipv4.HEADER_LEN && hasUnexpiredSourceRoute(ctx.mem, off + ipv4.HEADER_LEN, p.l4Off)) {
    sendIcmp4Error(ctx, icmp.V4_DEST_UNREACH, icmp.V4_CODE_SOURCE_ROUTE_FAILED, 0, off, total);
    return drop(ctx, Drop.SOURCE_ROUTE);
  }
  if (!hairpinned && ipv4.ttl(v, off) <= 1) {
    sendIcmp4Error(ctx, icmp.V4_TIME_EXCEEDED, 0, 0, off, total);
    return drop(ctx, Drop.HOP_LIMIT_EXCEEDED);
  }
  if (proto === ipv4.PROTO_IGMP) return drop(ctx, Drop.IGMP);
  if (p.fragOffsetBytes + p.end - p.l4Off > 65535) return drop(ctx, Drop.BAD_FRAGMENT);
  return CONTINUE;
}

/**
 * Step "map the addresses": the destination from a static map or a live lease
 * (RFC 7915 §4.1 with RFC 6146 state) to `TMP_DST`; the source from a static
 * map (RFC 7757 EAM), else embedded in the prefix, to `TMP_SRC` — the hairpin
 * leg always embeds (RFC 7757 §4.2.1), and an error from a non-global router
 * behind the Well-Known Prefix gets the RFC 6791 address.
 */
function mapAddresses4(
  ctx: XlatContext,
  off: number,
  total: number,
  flags: number,
  isError: boolean,
): number {
  const b = ctx.mem;
  const s = ctx.settings;
  const hairpinned = (flags & FLAG_HAIRPIN) !== 0;
  const code = icmp.V4_CODE_ADMIN_PROHIBITED;
  const dst = ipv4.destination(ctx.view, off);
  if (ctx.mapper.v6For4(dst, b, TMP_DST, ctx.nowSecs, LEASE_REFRESH) === 0) {
    return policy4(ctx, Drop.NO_MAPPING, code, off, total, flags);
  }
  const src = ipv4.source(ctx.view, off);
  if (hairpinned || ctx.mapper.staticV6For4(src, b, TMP_SRC) === 0) {
    if (s.refuseNonGlobal && !hairpinned && !isGlobalIpv4(src)) {
      if (!isError) return policy4(ctx, Drop.NON_GLOBAL_WITH_WKP, code, off, total, flags);
      // RFC 6791 for IPv6: an error from a router we cannot represent.
      if (s.pool6791v6.length === 0) b.set(s.address6, TMP_SRC);
      else for (let i = 0; i < 16; i++) b[TMP_SRC + i] = s.pool6791v6[i]!;
    } else {
      embedIpv4(s.prefix, s.prefixLen, src, b, TMP_SRC);
    }
  }
  return CONTINUE;
}

/**
 * Step "transport checks" on a first fragment: header lengths, a UDP checksum
 * of 0 (RFC 7915 §4.5: computed when allowed and possible, else dropped), and
 * ICMPv4 types with no ICMPv6 counterpart (RFC 7915 §4.2). Sets `mapped` and
 * `amendUdp`.
 */
function checkTransport4(
  ctx: XlatContext,
  off: number,
  total: number,
  l4Len: number,
  flags: number,
  isFrag: boolean,
): number {
  const v = ctx.view;
  const p = ctx.pkt;
  const l4Off = p.l4Off;
  const proto = p.proto;
  p.amendUdp = false;
  p.mapped = 0;
  if (transportTooShort(proto, l4Len, isFrag)) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
  if (proto === ipv4.PROTO_UDP && udp.checksum(v, l4Off) === 0 && !ctx.partial) {
    if (isFrag || !ctx.settings.amendUdpChecksumZero) {
      const code = icmp.V4_CODE_ADMIN_PROHIBITED;
      return policy4(ctx, Drop.UDP_ZERO_CHECKSUM, code, off, total, flags);
    }
    // The checksum covers the UDP length field's bytes (RFC 768), so the
    // field must describe the packet before it can be computed.
    if (udp.length(v, l4Off) !== l4Len) return drop(ctx, Drop.TRUNCATED_TRANSPORT);
    p.amendUdp = true;
  } else if (proto === ipv4.PROTO_ICMP) {
    const mapped = V4_TO_V6_TYPE_CODE[v.getUint16(l4Off)]!;
    if (mapped < 0) return drop(ctx, Drop.ICMP_UNTRANSLATABLE);
    p.mapped = mapped;
  }
  return CONTINUE;
}

/**
 * Step "size and fragmentation" (RFC 7915 §4, §4.1): with DF set and too big
 * for `MTU6`, Fragmentation Needed; with DF clear, fragments of at most
 * `LowestIpv6Mtu`. For a GSO super-packet translated whole (TUN offload) size
 * means its first segment's. Sets `fragmentTo`.
 */
function size4(
  ctx: XlatContext,
  off: number,
  total: number,
  l4Len: number,
  isFrag: boolean,
): number {
  const s = ctx.settings;
  const p = ctx.pkt;
  const df = (ipv4.flagsOffset(ctx.view, off) & ipv4.FLAG_DF) !== 0;
  const seg6 = ipv6.HEADER_LEN + (isFrag ? ipv6.FRAGMENT_LEN : 0) + l4Len - ctx.gsoExtra;
  p.fragmentTo = 0;
  if (df && seg6 > s.mtu6) {
    const mtu = s.mtu6 - HEADER_GROWTH;
    sendIcmp4Error(ctx, icmp.V4_DEST_UNREACH, icmp.V4_CODE_FRAG_NEEDED, mtu, off, total);
    return drop(ctx, Drop.PACKET_TOO_BIG);
  }
  if (!df) {
    const limit = Math.min(s.lowestIpv6Mtu, s.mtu6);
    if (seg6 > limit) p.fragmentTo = limit;
  }
  return CONTINUE;
}

/**
 * Step "emit": the IPv6 header (and a Fragment header for a fragment) written
 * before the transport header (over the IPv4 one, read by now), then the packet
 * fragmented or sent as it is.
 * Every protocol but ICMPv4 is copied (RFC 7915 §4.1), 58 included: ICMPv6
 * built by an IPv4 sender arrives with hop limit ≤ 254 and a source that is not
 * link-local, which ND and redirects (RFC 4861 §6.1, §7.1, §8.1) and MLD
 * (RFC 3810 §5.1.14, §5.2.13) discard, so it passes as an opaque payload.
 */
function emit4to6(
  ctx: XlatContext,
  l4Off: number,
  l4Len: number,
  tos: number,
  hopLimit: number,
  proto: number,
  isFrag: boolean,
): number {
  const v = ctx.view;
  const p = ctx.pkt;
  const nh6 = proto === ipv4.PROTO_ICMP ? ipv6.NH_ICMPV6 : proto;
  const fragHdr = isFrag ? ipv6.FRAGMENT_LEN : 0;
  const hdr6 = l4Off - ipv6.HEADER_LEN - fragHdr;
  const more = p.more;
  const offsetBytes = p.fragOffsetBytes;
  const fragmentTo = p.fragmentTo;
  const id = p.fragId;
  ipv6.writeFixed(v, hdr6, tos, fragHdr + l4Len, isFrag ? ipv6.NH_FRAGMENT : nh6, hopLimit);
  ctx.mem.copyWithin(hdr6 + ipv6.SOURCE_OFF, TMP_SRC, TMP_SRC + 32);
  if (isFrag) ipv6.writeFragment(v, hdr6 + ipv6.HEADER_LEN, nh6, offsetBytes >> 3, more, id);
  ctx.counters[Stat.TRANSLATED_4TO6]!++;
  if (fragmentTo > 0) {
    return emitFragments6(ctx, hdr6, l4Off, l4Len, nh6, offsetBytes, more, id, fragmentTo);
  }
  return emit(ctx, hdr6, ipv6.HEADER_LEN + fragHdr + l4Len);
}
