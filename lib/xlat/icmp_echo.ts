/**
 * The ICMP Echo checksum across the two ICMPs (RFC 7915 §4.2, §5.2): the type changes
 * (8/0 ↔ 128/129) and the ICMPv6 checksum covers a pseudo-header the ICMPv4 one does not, so
 * the stored checksum is adjusted for both at once (RFC 1624). Used for translated Echo messages
 * (lib/xlat/six_to_four.ts, lib/xlat/four_to_six.ts) and for the Echo an ICMP error quotes
 * (lib/xlat/icmp_error_4to6.ts, lib/xlat/icmp_error_6to4.ts).
 *
 * @module
 */

import { adjust } from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv6 from "../wire/ipv6.ts";

/**
 * ICMPv6 → ICMPv4: writes the new type and code and takes the IPv6 pseudo-header out of the
 * checksum.
 *
 * @param v packet view
 * @param at offset of the ICMP header
 * @param icmpLen the ICMPv6 message's length (the pseudo-header's, for a quoted message)
 * @param addrSum unfolded sum of the IPv6 pseudo-header's addresses
 * @param typeCode the ICMPv4 `type << 8 | code`
 */
export function adjustIcmpEcho6To4(
  v: DataView,
  at: number,
  icmpLen: number,
  addrSum: number,
  typeCode: number,
): void {
  const word = v.getUint16(at);
  const cs = v.getUint16(at + icmp.CHECKSUM_OFF);
  v.setUint16(at, typeCode);
  v.setUint16(
    at + icmp.CHECKSUM_OFF,
    adjust(cs, addrSum + icmpLen + ipv6.NH_ICMPV6 + word, typeCode),
  );
}

/**
 * ICMPv4 → ICMPv6: writes the new type and code and adds the IPv6 pseudo-header to the checksum.
 *
 * @param v packet view
 * @param at offset of the ICMP header
 * @param icmpLen the message's length (the pseudo-header's, for a quoted message)
 * @param addrSum unfolded sum of the new IPv6 pseudo-header's addresses
 * @param typeCode the ICMPv6 `type << 8 | code`
 */
export function adjustIcmpEcho4To6(
  v: DataView,
  at: number,
  icmpLen: number,
  addrSum: number,
  typeCode: number,
): void {
  const word = v.getUint16(at);
  const cs = v.getUint16(at + icmp.CHECKSUM_OFF);
  v.setUint16(at, typeCode);
  v.setUint16(
    at + icmp.CHECKSUM_OFF,
    adjust(cs, word, addrSum + icmpLen + ipv6.NH_ICMPV6 + typeCode),
  );
}
