/**
 * The one pseudo-header fix-up of a TCP or UDP checksum (RFC 7915 §4.5, §5.5;
 * RFC 1624): a translation replaces the pseudo-header's addresses and keeps its
 * length and protocol, so the stored checksum is adjusted for the address words
 * alone. Used by both directions of the translation and by the packets ICMP
 * errors quote (see docs/ARCHITECTURE.md, "Checksums").
 *
 * @module
 */

import { adjust } from "./checksum.ts";
import { PROTO_TCP, PROTO_UDP } from "./ipv4.ts";
import * as tcp from "./tcp.ts";
import * as udp from "./udp.ts";
import { adjustPartial } from "./virtio.ts";

/**
 * Adjusts the TCP or UDP checksum at `l4Off` after the pseudo-header's address
 * words summing to `oldSum` were replaced by words summing to `newSum`; other
 * protocols are left alone. A UDP checksum of 0 (none, RFC 768) stays 0, and an
 * adjusted UDP checksum of 0 is stored as 0xffff. With `partial` the field holds
 * a TUN offload's partial sum (`lib/wire/virtio.ts`), adjusted as a sum.
 *
 * The caller checks that the header holds the checksum field
 * ({@link tcp.CHECKSUM_END} or {@link udp.HEADER_LEN} bytes).
 *
 * @param v packet view
 * @param l4Off offset of the transport header
 * @param proto protocol number (6 or 17; anything else is a no-op)
 * @param oldSum unfolded sum of the address words removed
 * @param newSum unfolded sum of the address words that replace them
 * @param partial whether the field is a partial (offload) sum
 */
export function adjustTransportChecksum(
  v: DataView,
  l4Off: number,
  proto: number,
  oldSum: number,
  newSum: number,
  partial: boolean,
): void {
  // Written to stay small in bytecode, so V8 inlines it into the per-packet translators.
  const isUdp = proto === PROTO_UDP;
  if (!isUdp && proto !== PROTO_TCP) return;
  const at = l4Off + (isUdp ? udp.CHECKSUM_OFF : tcp.CHECKSUM_OFF);
  const cs = v.getUint16(at);
  if (partial) v.setUint16(at, adjustPartial(cs, oldSum, newSum));
  else if (cs !== 0 || !isUdp) v.setUint16(at, adjust(cs, oldSum, newSum) || (isUdp ? 0xffff : 0));
}
