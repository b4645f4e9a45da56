/**
 * One-line, tcpdump-like descriptions of IPv4/IPv6 packets, for the demo,
 * logs and test failure messages. Not for the hot path: it builds strings.
 * It never throws; a packet it cannot parse is described as such.
 *
 * @module
 */

import { formatIpv4 } from "../addr/ipv4.ts";
import { formatIpv6 } from "../addr/ipv6.ts";

const ICMP4_NAMES: Record<number, string> = {
  0: "echo reply",
  3: "unreachable",
  4: "source quench",
  5: "redirect",
  8: "echo request",
  11: "time exceeded",
  12: "parameter problem",
};

const ICMP6_NAMES: Record<number, string> = {
  1: "unreachable",
  2: "packet too big",
  3: "time exceeded",
  4: "parameter problem",
  128: "echo request",
  129: "echo reply",
  133: "router solicitation",
  134: "router advertisement",
  135: "neighbor solicitation",
  136: "neighbor advertisement",
};

function transport(
  v: DataView,
  proto: number,
  off: number,
  end: number,
  first: boolean,
): string {
  if (!first) return `proto ${proto} (fragment)`;
  const have = end - off;
  if ((proto === 6 || proto === 17) && have >= 4) {
    const name = proto === 6 ? "TCP" : "UDP";
    let s = `${name} ${v.getUint16(off)} > ${v.getUint16(off + 2)}`;
    if (proto === 6 && have >= 14) {
      const f = v.getUint8(off + 13);
      const flags = ["F", "S", "R", "P", ".", "U"].filter((_, i) => (f & (1 << i)) !== 0).join("");
      s += ` [${flags}]`;
    }
    return s;
  }
  if ((proto === 1 || proto === 58) && have >= 4) {
    const type = v.getUint8(off);
    const code = v.getUint8(off + 1);
    const names = proto === 1 ? ICMP4_NAMES : ICMP6_NAMES;
    let s = `${proto === 1 ? "ICMP" : "ICMPv6"} ${names[type] ?? `type ${type}`}`;
    if (code !== 0) s += ` code ${code}`;
    if (
      (proto === 1 && (type === 0 || type === 8)) || (proto === 58 && type >= 128 && type <= 129)
    ) {
      if (have >= 8) s += ` id ${v.getUint16(off + 4)} seq ${v.getUint16(off + 6)}`;
    } else if (proto === 58 && type === 2 && have >= 8) {
      s += ` mtu ${v.getUint32(off + 4)}`;
    } else if (proto === 1 && type === 3 && code === 4 && have >= 8) {
      s += ` mtu ${v.getUint16(off + 6)}`;
    }
    return s;
  }
  return `proto ${proto}`;
}

/**
 * Describes a packet in one line, e.g.
 * `IPv6 2001:db8::2 > 64:ff9b::c000:221 hlim 63 len 64: UDP 5000 > 53`.
 *
 * @param pkt the packet bytes (an IPv4 or IPv6 header first)
 * @returns the description
 */
export function describePacket(pkt: Uint8Array): string {
  const v = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  if (pkt.length < 1) return "empty packet";
  const version = pkt[0]! >> 4;
  if (version === 4 && pkt.length >= 20) {
    const ihl = (pkt[0]! & 0x0f) * 4;
    const fo = v.getUint16(6);
    const frag = (fo & 0x3fff) !== 0;
    const flags = `${fo & 0x4000 ? " DF" : ""}${fo & 0x2000 ? " MF" : ""}`;
    const where = frag ? ` frag id ${v.getUint16(4)} off ${(fo & 0x1fff) * 8}` : "";
    return `IPv4 ${formatIpv4(v.getUint32(12))} > ${formatIpv4(v.getUint32(16))} ` +
      `ttl ${pkt[8]} len ${v.getUint16(2)}${flags}${where}: ` +
      transport(v, pkt[9]!, ihl, Math.min(pkt.length, v.getUint16(2)), (fo & 0x1fff) === 0);
  }
  if (version === 6 && pkt.length >= 40) {
    let nh = pkt[6]!;
    let p = 40;
    let where = "";
    let first = true;
    for (let i = 0; i < 8 && (nh === 0 || nh === 43 || nh === 44 || nh === 60); i++) {
      if (p + 8 > pkt.length) break;
      if (nh === 44) {
        const w = v.getUint16(p + 2);
        first = (w & 0xfff8) === 0;
        where = ` frag id ${v.getUint32(p + 4)} off ${w & 0xfff8}${w & 1 ? " M" : ""}`;
        nh = pkt[p]!;
        p += 8;
      } else {
        nh = pkt[p]!;
        p += (pkt[p + 1]! + 1) * 8;
      }
    }
    return `IPv6 ${formatIpv6(pkt, 8)} > ${formatIpv6(pkt, 24)} hlim ${pkt[7]} ` +
      `len ${40 + v.getUint16(4)}${where}: ` + transport(v, nh, p, pkt.length, first);
  }
  return `unparsable packet of ${pkt.length} bytes`;
}
