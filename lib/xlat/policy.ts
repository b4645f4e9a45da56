/**
 * Policy drops that may answer with an ICMP error (RFC 7915 §4.4, §5.4): both
 * directions' "Destination Unreachable, administratively prohibited" (or the
 * code given), unless `SendDropErrors` is off, the packet is itself ICMP, or
 * (4→6) it is the hairpin leg.
 *
 * @module
 */

import * as icmp from "../wire/icmp.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import type { XlatContext } from "./context.ts";
import { drop } from "./emit.ts";
import { sendIcmp4Error, sendIcmp6Error } from "./icmp_gen.ts";
import { FLAG_HAIRPIN } from "./packet.ts";

/**
 * Counts a 6→4 policy drop and sends its ICMPv6 error (RFC 7915 §5.4) unless
 * disabled or the packet is ICMPv6.
 * @param ctx engine context
 * @param reason a `Drop` value
 * @param code ICMPv6 Destination Unreachable code
 * @param off offset of the IPv6 packet
 * @param len its length
 * @param nh its upper-layer Next Header
 * @returns as `drop()`
 */
export function policy6(
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

/**
 * Counts a 4→6 policy drop and sends its ICMPv4 error (RFC 7915 §4.4) unless
 * disabled, the packet is ICMP, or it is the hairpin leg.
 * @param ctx engine context
 * @param reason a `Drop` value
 * @param code ICMPv4 Destination Unreachable code
 * @param off offset of the IPv4 packet
 * @param len its length
 * @param flags `from4`'s flags (FLAG_HAIRPIN)
 * @returns as `drop()`
 */
export function policy4(
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
