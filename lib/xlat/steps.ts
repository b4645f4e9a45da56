/**
 * What both directions of the translation share (lib/xlat/six_to_four.ts and
 * lib/xlat/four_to_six.ts): the flags a translator passes to itself, and the transport
 * header check.
 *
 * How a step reports. Each direction is one orchestrating function that keeps the packet's
 * state in its own locals and calls named steps; a step takes and returns numbers, so nothing
 * is allocated and V8 can inline the small ones. A step that may refuse the packet returns
 * `-reason` (a {@link Drop} value, negated) when its result is otherwise never negative, and
 * the orchestrator ends with `drop(ctx, reason)`; a step that returns an IPv4 address (an
 * int32, negative for half the space) returns `NOT_IPV4` instead and leaves the reason in
 * `ctx.refusal`. A step that answers a refused packet with an ICMP error sends it itself
 * before returning, so `drop()` reports the packet it emitted.
 *
 * @module
 */

import * as ipv4 from "../wire/ipv4.ts";
import * as tcp from "../wire/tcp.ts";
import * as udp from "../wire/udp.ts";
import { Drop } from "./drop.ts";

/** `from4`/`from6` flag: the 4→6 leg of an internal hairpin (RFC 7757 §4.2). */
export const FLAG_HAIRPIN = 1;
/** `from4`/`from6` flag: the packet was reassembled from fragments. */
export const FLAG_REASSEMBLED = 2;

/**
 * Whether a first fragment or whole packet holds the TCP or UDP header fields translation
 * touches: all 8 bytes of UDP; 20 bytes of TCP, or 18 (through the checksum) in a fragment.
 *
 * @param proto IPv4 protocol / IPv6 Next Header (6 or 17; anything else passes)
 * @param l4Len transport bytes present
 * @param isFrag whether the packet is a fragment
 * @returns 0, or `-Drop.TRUNCATED_TRANSPORT`
 */
export function checkTransportHeader(proto: number, l4Len: number, isFrag: boolean): number {
  // One comparison, so the function stays small enough for V8 to inline into its callers.
  const need = proto === ipv4.PROTO_UDP
    ? udp.HEADER_LEN
    : proto === ipv4.PROTO_TCP
    ? (isFrag ? tcp.CHECKSUM_END : tcp.HEADER_LEN)
    : 0;
  return l4Len < need ? -Drop.TRUNCATED_TRANSPORT : 0;
}
