/**
 * The 6→4 step "map the source" (lib/xlat/six_to_four.ts): the IPv6 host's
 * lease (lib/lease), and the answer when none can be made.
 *
 * @module
 */

import { matchesPrefix, NOT_IPV4 } from "../addr/rfc6052.ts";
import * as icmp from "../wire/icmp.ts";
import * as ipv6 from "../wire/ipv6.ts";
import {
  LEASE_ALLOCATE,
  LEASE_REFRESH,
  MAP_EXHAUSTED,
  MAP_PREFIX_LIMIT,
  MAP_SOURCE_NOT_ALLOWED,
} from "../lease/table.ts";
import type { XlatContext } from "./context.ts";
import { Drop } from "./drop.ts";
import { drop } from "./emit.ts";
import { sendIcmp6Error } from "./icmp_gen.ts";
import { CONTINUE } from "./packet.ts";
import { policy6 } from "./policy.ts";

/** Whether an IPv6 address is link-local (fe80::/10). */
function isLinkLocal6(b: Uint8Array, off: number): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
}

/**
 * Step "map the source": the host's lease, created on its first translatable
 * packet (RFC 6146 §3.5); link-local sources and sources inside the prefix (an
 * IPv6 host posing as an IPv4 one) never get one. Sets `ctx.pkt.src4`.
 * @param ctx engine context
 * @param off offset of the IPv6 packet
 * @param pktLen its length
 * @param nh its upper-layer Next Header
 * @param icmpType its ICMPv6 type, or -1
 * @returns `CONTINUE`, or as `drop()` (after the ICMPv6 error the refusal calls for)
 */
export function mapSource6(
  ctx: XlatContext,
  off: number,
  pktLen: number,
  nh: number,
  icmpType: number,
): number {
  const b = ctx.mem;
  const s = ctx.settings;
  const srcOff = off + ipv6.SOURCE_OFF;
  let src4 = ctx.mapper.v4For6(b, srcOff, ctx.nowSecs, LEASE_REFRESH);
  if (src4 >= NOT_IPV4) {
    if (isLinkLocal6(b, srcOff) || matchesPrefix(b, srcOff, s.prefix, s.prefixLen)) {
      return drop(ctx, Drop.SOURCE_NOT_TRANSLATABLE);
    }
    src4 = ctx.mapper.v4For6(b, srcOff, ctx.nowSecs, LEASE_ALLOCATE | LEASE_REFRESH);
    if (src4 >= NOT_IPV4) return leaseRefused(ctx, src4, off, pktLen, nh, icmpType);
  }
  ctx.pkt.src4 = src4;
  return CONTINUE;
}

/**
 * The answer when no lease could be made: RFC 6146 §3.5.1–3.5.3's Address
 * Unreachable for an exhausted pool (to TCP, UDP and ICMP queries alike:
 * policy6's ICMP exemption is RFC 7915 §5.4's, not this), Communication
 * Administratively Prohibited when an abuse limit (lib/lease/limits.ts) refused
 * it, each rate limited and never about an ICMPv6 error (sendIcmp6Error refuses
 * those; errors never get here, they take no lease).
 */
function leaseRefused(
  ctx: XlatContext,
  result: number,
  off: number,
  pktLen: number,
  nh: number,
  icmpType: number,
): number {
  const send = ctx.settings.sendDropErrors;
  const unreach = icmp.V6_DEST_UNREACH;
  if (result === MAP_EXHAUSTED) {
    if (send) sendIcmp6Error(ctx, unreach, icmp.V6_CODE_ADDR_UNREACH, 0, off, pktLen, icmpType);
    return drop(ctx, Drop.POOL_EXHAUSTED);
  }
  if (result > NOT_IPV4) {
    if (send) {
      sendIcmp6Error(ctx, unreach, icmp.V6_CODE_ADMIN_PROHIBITED, 0, off, pktLen, icmpType);
    }
    return drop(
      ctx,
      result === MAP_SOURCE_NOT_ALLOWED
        ? Drop.SOURCE_NOT_ALLOWED
        : result === MAP_PREFIX_LIMIT
        ? Drop.PREFIX_LEASE_LIMIT
        : Drop.LEASE_RATE_LIMIT,
    );
  }
  return policy6(ctx, Drop.NO_MAPPING, icmp.V6_CODE_ADMIN_PROHIBITED, off, pktLen, nh);
}
