/**
 * TUN offload (`IFF_VNET_HDR`): what to do with a packet that came with a `virtio_net_hdr`
 * (lib/wire/virtio.ts), and the header of what goes back.
 *
 * {@link offloadInput} reads the header at `VNET_IN_OFFSET`, checks it against the packet at
 * `INPUT_OFFSET` and answers one of:
 *
 * - {@link OFFLOAD_PLAIN}: translate as usual (no offload in use, or a partial checksum that
 *   was completed first because the packet cannot keep it: ICMP, IPv6 extension headers,
 *   fragments, a size that needs fragmenting or an ICMP error, hop limit 1);
 * - {@link OFFLOAD_WHOLE}: a TCP or UDP packet with a partial checksum, GSO super-packet or
 *   not, that translates whole: `translate()` adjusts the partial checksum for the new
 *   addresses (`ctx.partial`) and applies DF and MTU to the first segment (`ctx.gsoExtra`);
 *   then {@link finishWhole} writes the header for the translation at `VNET_OUT_OFFSET`:
 *   `gso_type` TCPV6 ↔ TCPV4 (ECN kept) or UDP_L4, `csum_start` and `hdr_len` for the new IP
 *   header, `gso_size` and `csum_offset` unchanged;
 * - {@link OFFLOAD_SEGMENT}: a super-packet that cannot translate whole (one of the reasons
 *   above, or a hairpin): it is kept in the scratch area and cut into segments
 *   (lib/xlat/gso.ts), each translated alone with a complete checksum;
 * - a negative `Drop.BAD_VIRTIO_HEADER` for a header that makes no sense for the packet.
 *
 * Everything else the engine emits (ICMP errors, fragments, segments' translations) goes out
 * with the all-zero header at `VNET_NONE_OFFSET`. Nothing here allocates or throws.
 *
 * @module
 */

import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as tcp from "../wire/tcp.ts";
import * as udp from "../wire/udp.ts";
import * as virtio from "../wire/virtio.ts";
import { INPUT_OFFSET, VNET_IN_OFFSET, VNET_OUT_OFFSET, type XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { gsoPrepare } from "./gso.ts";

/** {@link offloadInput}: translate the packet as usual, every output with no offload. */
export const OFFLOAD_PLAIN = 0;
/** {@link offloadInput}: translate the packet whole, then call {@link finishWhole}. */
export const OFFLOAD_WHOLE = 1;
/** {@link offloadInput}: translate `ctx.gsoSegments` segments one by one (`gsoSegment`). */
export const OFFLOAD_SEGMENT = 2;

const KNOWN_FLAGS = virtio.F_NEEDS_CSUM | virtio.F_DATA_VALID;

/** Counts a bad header as a received packet dropped, as `translate()` would. */
function bad(ctx: XlatContext): number {
  ctx.counters[Stat.RECEIVED]!++;
  ctx.counters[Drop.BAD_VIRTIO_HEADER]!++;
  ctx.emitted = 0;
  return -Drop.BAD_VIRTIO_HEADER;
}

/** Completes the partial checksum of a packet that is then translated as usual. */
function complete(ctx: XlatContext, start: number, fieldAt: number, len: number): number {
  virtio.completeChecksum(ctx.mem, ctx.view, INPUT_OFFSET + start, INPUT_OFFSET + len, fieldAt);
  ctx.counters[Stat.CHECKSUM_COMPLETED]!++;
  return OFFLOAD_PLAIN;
}

/**
 * Decides how the packet of `len` bytes at `INPUT_OFFSET`, read with the `virtio_net_hdr` at
 * `VNET_IN_OFFSET`, is translated (see the module text), and prepares it: completes a partial
 * checksum, sets `ctx.partial`/`ctx.gsoExtra`, or keeps a super-packet for segmentation.
 *
 * @param ctx engine context (its settings give the MTUs)
 * @param len packet length, header not counted
 * @returns {@link OFFLOAD_PLAIN}, {@link OFFLOAD_WHOLE}, {@link OFFLOAD_SEGMENT}, or
 *   `-Drop.BAD_VIRTIO_HEADER` (counted, with the packet as received)
 */
export function offloadInput(ctx: XlatContext, len: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const h = VNET_IN_OFFSET;
  ctx.partial = false;
  ctx.gsoExtra = 0;
  const fl = virtio.flags(v, h);
  const type = virtio.gsoType(v, h);
  const base = type & ~virtio.GSO_ECN;
  if ((fl & ~KNOWN_FLAGS) !== 0) return bad(ctx);
  const gso = base !== virtio.GSO_NONE;
  if (!gso && type !== virtio.GSO_NONE) return bad(ctx);
  if (gso && base !== virtio.GSO_TCPV4 && base !== virtio.GSO_TCPV6 && base !== virtio.GSO_UDP_L4) {
    return bad(ctx);
  }
  const needsCsum = (fl & virtio.F_NEEDS_CSUM) !== 0;
  const segBytes = virtio.gsoSize(v, h);
  if (gso && (!needsCsum || segBytes === 0 || virtio.hdrLen(v, h) > len)) return bad(ctx);
  if (!needsCsum) return OFFLOAD_PLAIN;
  const start = virtio.csumStart(v, h);
  const csumOff = virtio.csumOffset(v, h);
  if (start + csumOff + 2 > len) return bad(ctx);
  const fieldAt = INPUT_OFFSET + start + csumOff;
  const p = INPUT_OFFSET;
  if (len < ipv4.HEADER_LEN) return gso ? bad(ctx) : complete(ctx, start, fieldAt, len);
  const version = b[p]! >> 4;

  // Where the transport header is and what it is, as far as a whole translation needs.
  let proto: number;
  let l4Off: number;
  let ipLen: number;
  let routable: boolean; // hop limit above 1, not a fragment
  let df = true;
  if (version === 4) {
    if (gso && base === virtio.GSO_TCPV6) return bad(ctx);
    l4Off = ipv4.headerLength(v, p);
    proto = ipv4.protocol(v, p);
    ipLen = ipv4.totalLength(v, p);
    const fo = ipv4.flagsOffset(v, p);
    df = (fo & ipv4.FLAG_DF) !== 0;
    const frag = (fo & (ipv4.FLAG_MF | ipv4.OFFSET_MASK)) !== 0;
    if (gso && (frag || start !== l4Off)) return bad(ctx);
    routable = !frag && ipv4.ttl(v, p) > 1;
  } else if (version === 6) {
    if (gso && base === virtio.GSO_TCPV4) return bad(ctx);
    if (len < ipv6.HEADER_LEN) return gso ? bad(ctx) : complete(ctx, start, fieldAt, len);
    l4Off = ipv6.HEADER_LEN;
    proto = ipv6.nextHeader(v, p);
    ipLen = ipv6.HEADER_LEN + ipv6.payloadLength(v, p);
    routable = ipv6.hopLimit(v, p) > 1;
    if (gso && start < ipv6.HEADER_LEN) return bad(ctx);
  } else {
    return gso ? bad(ctx) : complete(ctx, start, fieldAt, len);
  }

  // The transport header a GSO type implies, and the first segment's size.
  let isTcp = proto === ipv4.PROTO_TCP;
  let headerLen = 0;
  if (gso) {
    if (ipLen !== len) return bad(ctx); // the kernel sends a super-packet, nothing after it
    isTcp = base !== virtio.GSO_UDP_L4;
    if (csumOff !== (isTcp ? virtio.TCP_CSUM_OFFSET : virtio.UDP_CSUM_OFFSET)) return bad(ctx);
    if (start + (isTcp ? tcp.HEADER_LEN : udp.HEADER_LEN) > len) return bad(ctx);
    const thlen = isTcp ? tcp.headerLength(b, p + start) : udp.HEADER_LEN;
    if (thlen < (isTcp ? tcp.HEADER_LEN : udp.HEADER_LEN)) return bad(ctx);
    headerLen = start + thlen;
    if (headerLen > len) return bad(ctx);
    const payload = len - headerLen;
    if (payload > segBytes) ctx.gsoExtra = payload - segBytes;
  }
  const wholeProto = isTcp ? ipv4.PROTO_TCP : ipv4.PROTO_UDP;
  let whole = routable && start === l4Off && proto === wholeProto && ipLen === len &&
    csumOff === (isTcp ? virtio.TCP_CSUM_OFFSET : virtio.UDP_CSUM_OFFSET) &&
    (proto === ipv4.PROTO_TCP || proto === ipv4.PROTO_UDP);
  if (whole) {
    // The first segment, translated, must go out without fragments or ICMP errors.
    const s = ctx.settings;
    const seg = len - ctx.gsoExtra;
    if (version === 6) {
      const seg4 = seg - ipv6.HEADER_LEN + ipv4.HEADER_LEN;
      whole = seg4 <= s.mtu4;
    } else {
      const seg6 = seg - l4Off + ipv6.HEADER_LEN;
      const limit = df ? s.mtu6 : (s.lowestIpv6Mtu < s.mtu6 ? s.lowestIpv6Mtu : s.mtu6);
      whole = seg6 <= limit;
    }
  }
  if (whole) {
    ctx.partial = true;
    return OFFLOAD_WHOLE;
  }
  ctx.gsoExtra = 0;
  if (!gso) return complete(ctx, start, fieldAt, len);
  gsoPrepare(ctx, len, start, headerLen, isTcp ? ipv4.PROTO_TCP : ipv4.PROTO_UDP, segBytes);
  ctx.counters[Stat.GSO_SEGMENTED]!++;
  return OFFLOAD_SEGMENT;
}

/**
 * After `translate()` of an {@link OFFLOAD_WHOLE} packet: finds the translation among the
 * emitted packets (the one TCP or UDP packet; an ICMP error the engine originated is not it),
 * writes its `virtio_net_hdr` at `VNET_OUT_OFFSET` and counts it.
 *
 * @param ctx engine context, right after `translate()`
 * @returns the index of the translation in `ctx.emitOffset`, or -1 when it was dropped
 */
export function finishWhole(ctx: XlatContext): number {
  const b = ctx.mem;
  const v = ctx.view;
  const h = VNET_IN_OFFSET;
  ctx.partial = false;
  ctx.gsoExtra = 0;
  const type = virtio.gsoType(v, h);
  for (let i = 0; i < ctx.emitted; i++) {
    const off = ctx.emitOffset[i]!;
    const four = b[off]! >> 4 === 4;
    const proto = four ? b[off + ipv4.PROTOCOL_OFF]! : b[off + ipv6.NEXT_HEADER_OFF]!;
    if (proto !== ipv4.PROTO_TCP && proto !== ipv4.PROTO_UDP) continue;
    const l4 = four ? ipv4.HEADER_LEN : ipv6.HEADER_LEN;
    const isTcp = proto === ipv4.PROTO_TCP;
    const thlen = isTcp ? tcp.headerLength(b, off + l4) : udp.HEADER_LEN;
    let outType = virtio.GSO_NONE;
    if (type !== virtio.GSO_NONE) {
      if (!isTcp) outType = virtio.GSO_UDP_L4;
      else outType = (four ? virtio.GSO_TCPV4 : virtio.GSO_TCPV6) | (type & virtio.GSO_ECN);
      ctx.counters[Stat.GSO_TRANSLATED]!++;
    } else {
      ctx.counters[Stat.PARTIAL_TRANSLATED]!++;
    }
    virtio.write(
      v,
      VNET_OUT_OFFSET,
      virtio.F_NEEDS_CSUM,
      outType,
      l4 + thlen,
      outType === virtio.GSO_NONE ? 0 : virtio.gsoSize(v, h),
      l4,
      isTcp ? virtio.TCP_CSUM_OFFSET : virtio.UDP_CSUM_OFFSET,
    );
    return i;
  }
  return -1;
}
