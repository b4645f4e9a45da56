/**
 * The per-protocol and per-ICMP-type packet counts behind upstream protomask's
 * `protomask_packets{protocol,status}` and `protomask_icmp_packets_recv{protocol,icmp_type,
 * icmp_code}`. The packet loop calls {@link classifyReceived} before the engine translates
 * the packet in place (its headers are gone after) and {@link countOutcome} after: a few byte
 * reads and plain typed-array increments at small integer indices, nothing allocated, nothing
 * thrown. The series are rendered from these cells on scrape only (./metrics.ts).
 *
 * @module
 */

import { Stat } from "../xlat/drop.ts";
import { ICMP_CODE_BUCKETS, ICMP_RECV_BASE, PACKETS_BASE } from "./shared.ts";

/** Index of a protocol in `PACKET_PROTOCOLS` (shared.ts). */
const P_IPV4 = 0;
const P_IPV6 = 1;
const P_ICMP = 2;
const P_ICMPV6 = 3;
const P_TCP = 4;
const P_UDP = 5;

/** A transport protocol's index in `PACKET_PROTOCOLS`, or 0 for one not counted apart. */
function transportClass(proto: number, icmpProto: number, icmpClass: number): number {
  if (proto === 6) return P_TCP;
  if (proto === 17) return P_UDP;
  return proto === icmpProto ? icmpClass : 0;
}

/**
 * Counts a received ICMP/ICMPv6 packet by type and code, and classifies the packet for
 * {@link countOutcome}. Reads only the fixed headers (an IPv6 packet whose first Next Header
 * is an extension header counts as IPv6 only; an IPv4 fragment other than the first counts
 * as IPv4 and its protocol, but not by ICMP type).
 *
 * @param mem the arena holding the packet
 * @param off offset of the packet
 * @param len its length
 * @param counters the Worker's counter row
 * @returns the class: IP version index | transport index << 3
 */
export function classifyReceived(
  mem: Uint8Array,
  off: number,
  len: number,
  counters: Float64Array,
): number {
  if (len < 20) return P_IPV4 | (0 << 3);
  const version = mem[off]! >> 4;
  if (version === 4) {
    const proto = mem[off + 9]!;
    const ihl = (mem[off]! & 15) << 2;
    const t = transportClass(proto, 1, P_ICMP);
    const firstFragment = ((mem[off + 6]! & 0x1f) | mem[off + 7]!) === 0;
    if (t === P_ICMP && firstFragment && ihl >= 20 && len >= ihl + 2) {
      countIcmp(counters, 0, mem[off + ihl]!, mem[off + ihl + 1]!);
    }
    return P_IPV4 | (t << 3);
  }
  if (version === 6 && len >= 40) {
    const t = transportClass(mem[off + 6]!, 58, P_ICMPV6);
    if (t === P_ICMPV6 && len >= 42) countIcmp(counters, 1, mem[off + 40]!, mem[off + 41]!);
    return P_IPV6 | (t << 3);
  }
  return version === 6 ? P_IPV6 : P_IPV4;
}

function countIcmp(counters: Float64Array, family: number, type: number, code: number): void {
  const bucket = code < ICMP_CODE_BUCKETS - 1 ? code : ICMP_CODE_BUCKETS - 1;
  counters[ICMP_RECV_BASE + (family * 256 + type) * ICMP_CODE_BUCKETS + bucket]!++;
}

/**
 * The translations counted so far (read before the engine runs, compare after).
 * @param counters the Worker's counter row
 * @returns packets translated either way
 */
export function translatedSoFar(counters: Float64Array): number {
  return counters[Stat.TRANSLATED_6TO4]! + counters[Stat.TRANSLATED_4TO6]!;
}

/**
 * Counts a packet under its IP version and transport, as translated when the engine's
 * translation counters moved, else as dropped (a drop reason, an answer from the translator
 * itself, or a fragment held for reassembly).
 *
 * @param counters the Worker's counter row
 * @param cls the class from {@link classifyReceived}
 * @param before {@link translatedSoFar} before the engine ran
 */
export function countOutcome(counters: Float64Array, cls: number, before: number): void {
  const status = translatedSoFar(counters) !== before ? 0 : 1;
  counters[PACKETS_BASE + (cls & 7) * 2 + status]!++;
  const t = cls >> 3;
  if (t !== 0) counters[PACKETS_BASE + t * 2 + status]!++;
}
