/**
 * Software segmentation of a GSO super-packet (TUN offload), for the packets that cannot be
 * translated whole: the super-packet waits in the scratch area and each segment is cut from it
 * into the input area, where the engine translates it like any packet read from the device.
 *
 * A segment is what Linux's own GSO (`inet_gso_segment`, `ipv6_gso_segment`,
 * `tcp_gso_segment`, `__udp_gso_segment`) would have sent: the headers copied, at most
 * `gso_size` bytes of payload, the IPv4 Total Length, Identification (+1 per segment) and
 * header checksum or the IPv6 Payload Length rewritten, TCP sequence numbers advanced by the
 * payload before it, FIN and PSH on the last segment only, CWR on the first only, the UDP
 * length per segment, and a complete transport checksum (the super-packet's was partial).
 *
 * @module
 */

import { checksum, sumIpv4 } from "../wire/checksum.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as tcp from "../wire/tcp.ts";
import * as udp from "../wire/udp.ts";
import { INPUT_OFFSET, SCRATCH_OFFSET, type XlatContext } from "./context.ts";

/**
 * Keeps the super-packet at `INPUT_OFFSET` in the scratch area and records its shape, so that
 * {@link gsoSegment} can cut it.
 *
 * @param ctx engine context
 * @param len length of the super-packet
 * @param l4Off offset of its transport header from its first byte (`csum_start`)
 * @param headerLen bytes of all headers (IP, extension, transport)
 * @param proto transport protocol, 6 or 17
 * @param segmentBytes payload bytes per segment (`gso_size`, above 0)
 * @returns the number of segments
 */
export function gsoPrepare(
  ctx: XlatContext,
  len: number,
  l4Off: number,
  headerLen: number,
  proto: number,
  segmentBytes: number,
): number {
  ctx.mem.copyWithin(SCRATCH_OFFSET, INPUT_OFFSET, INPUT_OFFSET + len);
  ctx.gsoLen = len;
  ctx.gsoL4Off = l4Off;
  ctx.gsoHeaderLen = headerLen;
  ctx.gsoProto = proto;
  ctx.gsoSize = segmentBytes;
  const payload = len - headerLen;
  const n = payload <= 0 ? 1 : Math.ceil(payload / segmentBytes);
  ctx.gsoSegments = n;
  return n;
}

/**
 * Builds segment `i` of the super-packet kept by {@link gsoPrepare} at `INPUT_OFFSET`.
 *
 * @param ctx engine context
 * @param i segment index, 0 to `ctx.gsoSegments - 1`
 * @returns the segment's length
 */
export function gsoSegment(ctx: XlatContext, i: number): number {
  const b = ctx.mem;
  const v = ctx.view;
  const src = SCRATCH_OFFSET;
  const hdr = ctx.gsoHeaderLen;
  const size = ctx.gsoSize;
  const payload = ctx.gsoLen - hdr;
  const from = i * size;
  const n = payload - from < size ? (payload - from > 0 ? payload - from : 0) : size;
  const last = i === ctx.gsoSegments - 1;
  const p = INPUT_OFFSET;
  b.copyWithin(p, src, src + hdr);
  b.copyWithin(p + hdr, src + hdr + from, src + hdr + from + n);
  const segLen = hdr + n;
  const l4 = p + ctx.gsoL4Off;
  const l4Len = segLen - ctx.gsoL4Off;
  let pseudo: number;
  if (b[p]! >> 4 === 4) {
    v.setUint16(p + ipv4.TOTAL_LENGTH_OFF, segLen);
    v.setUint16(p + ipv4.IDENTIFICATION_OFF, (ipv4.identification(v, src) + i) & 0xffff);
    ipv4.fixHeaderChecksum(b, v, p);
    pseudo = sumIpv4(ipv4.source(v, p)) + sumIpv4(ipv4.destination(v, p));
  } else {
    v.setUint16(p + ipv6.PAYLOAD_LENGTH_OFF, segLen - ipv6.HEADER_LEN);
    pseudo = ipv6.sumAddresses(b, p);
  }
  pseudo += l4Len + ctx.gsoProto;
  if (ctx.gsoProto === ipv4.PROTO_TCP) {
    v.setUint32(l4 + tcp.SEQUENCE_OFF, (tcp.sequence(v, src + ctx.gsoL4Off) + from) >>> 0);
    let fl = b[l4 + tcp.FLAGS_OFF]!;
    if (!last) fl &= ~(tcp.FLAG_FIN | tcp.FLAG_PSH);
    if (i > 0) fl &= ~tcp.FLAG_CWR;
    b[l4 + tcp.FLAGS_OFF] = fl;
    v.setUint16(l4 + tcp.CHECKSUM_OFF, 0);
    v.setUint16(l4 + tcp.CHECKSUM_OFF, checksum(b, l4, l4Len, pseudo));
  } else {
    v.setUint16(l4 + udp.LENGTH_OFF, l4Len);
    v.setUint16(l4 + udp.CHECKSUM_OFF, 0);
    v.setUint16(l4 + udp.CHECKSUM_OFF, checksum(b, l4, l4Len, pseudo) || 0xffff);
  }
  return segLen;
}
