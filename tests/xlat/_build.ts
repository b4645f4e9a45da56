/**
 * Test-side helpers for the engine tests: an engine from TOML text, a runner that pre-fills the
 * arena with 0xa5, and packet surgery written from the RFCs without `lib/wire` — checksum
 * filling (RFC 1071, RFC 791 §3.1, RFC 768, RFC 9293 §3.1, RFC 8200 §8.1, RFC 4443 §2.3),
 * fragmenting and reassembling (RFC 791 §3.2, RFC 8200 §4.5) — so that what the tests feed in
 * and what they check never depends on the code under test.
 *
 * @module
 */

import { parseConfig } from "../../lib/config/config.ts";
import { REASSEMBLY_OFFSET } from "../../lib/xlat/context.ts";
import { createEngine, type Engine } from "../../lib/xlat/settings.ts";
import { emittedPackets, translatePacket } from "../../lib/xlat/translate.ts";
import { addWords, fold, hex } from "../_util/packets.ts";

/** The clock all engines start at (ms); any value far from 0 works. */
export const T0_MS = 1_700_000_000_000;

/**
 * The configuration most tests use: the Well-Known Prefix, a /30 pool (two leasable addresses,
 * 192.0.2.1 and 192.0.2.2), Address4 192.0.0.8 and Address6 64:ff9b::c000:8 (the default), and
 * AllowNonGlobalWithWKP because every address here comes from a documentation range.
 */
export const BASE_TOML = `
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["192.0.2.0/30"]
Address4 = "192.0.0.8"
MTU = 1500
[Rules]
ReservationDuration = 300
[Translation]
AllowNonGlobalWithWKP = true
`;

// ---- addresses of BASE_TOML and the literal packets ----------------------------------------

/** Address6 of {@link BASE_TOML}: 64:ff9b::192.0.0.8 (the default, RFC 6052 §2.1 WKP). */
// deno-fmt-ignore
export const ADDRESS6 = hex(`0064ff9b 00000000 00000000 c0000008`); // 64:ff9b::192.0.0.8
/** Address4 of {@link BASE_TOML}: 192.0.0.8. */
export const ADDRESS4 = 0xc0000008;
/** The first pool address handed out as a lease: 192.0.2.1. */
export const POOL1 = 0xc0000201;
/** The second pool address handed out as a lease: 192.0.2.2. */
export const POOL2 = 0xc0000202;
/** The IPv4 peer the literal packets talk to: 198.51.100.7 (64:ff9b::c633:6407 from IPv6). */
export const PEER4 = 0xc6336407;

/** A plain UDP packet from 2001:db8::1 to 64:ff9b::198.51.100.7: its first use leases POOL1. */
// deno-fmt-ignore
export const UDP6_FROM_HOST = fixChecksums(hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  000c1140                              // payload length 12, UDP, hop limit 64
  20010db8 00000000 00000000 00000001   // source 2001:db8::1
  0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
  1f900035 000c0000                     // UDP 8080 > 53, length 12, checksum (filled in)
  01020304                              // payload
`));

/**
 * An engine for a config, with its clock set to {@link T0_MS}.
 * @param toml config text
 * @param opts context sizing passed to `createEngine`
 * @returns the engine
 */
export function engineFor(
  toml: string = BASE_TOML,
  opts: Parameters<typeof createEngine>[1] = {},
): Engine {
  const e = createEngine(parseConfig(toml), opts);
  e.ctx.setClock(T0_MS);
  return e;
}

/** What one call of the engine did. */
export interface RunResult {
  /** `translatePacket`'s return value. */
  r: number;
  /** The emitted packets (copies). */
  out: Uint8Array[];
}

/**
 * Translates one packet after filling the arena (all but the reassembly slots, which hold
 * state between calls) with 0xa5, so that a field the engine forgets to write shows.
 * @param e the engine
 * @param pkt the packet
 * @returns return value and emitted packets
 */
export function run(e: Engine, pkt: Uint8Array): RunResult {
  e.ctx.mem.fill(0xa5, 0, REASSEMBLY_OFFSET);
  const r = translatePacket(e.ctx, pkt);
  return { r, out: emittedPackets(e.ctx) };
}

// ---- independent checksum arithmetic (addWords/fold from tests/_util/packets.ts) ----------

/** Reads a big-endian 16-bit word. */
export function u16(b: Uint8Array, off: number): number {
  return b[off]! * 256 + b[off + 1]!;
}

/** Reads a big-endian 32-bit word. */
export function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Writes a big-endian 16-bit word. */
export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

/** Writes a big-endian 32-bit word. */
export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/**
 * Writes the IPv4 header checksum (RFC 791 §3.1) of the header at the start of `pkt`.
 * @param pkt an IPv4 packet
 * @returns `pkt`
 */
export function setIpv4HeaderChecksum(pkt: Uint8Array): Uint8Array {
  const ihl = (pkt[0]! & 0xf) * 4;
  put16(pkt, 10, 0);
  put16(pkt, 10, 0xffff - fold(addWords(pkt, 0, ihl, 0)));
  return pkt;
}

/** Where the upper-layer header of an IPv4 or IPv6 packet starts, and which protocol it is. */
export interface Transport {
  /** Offset of the upper-layer header. */
  off: number;
  /** Protocol / Next Header value. */
  proto: number;
  /** End of the IP payload. */
  end: number;
  /** Whether the packet is a fragment (offset or M/MF set). */
  fragment: boolean;
  /** Whether it is a non-first fragment. */
  later: boolean;
}

/**
 * Finds the upper-layer header, walking IPv6 Hop-by-Hop, Routing, Destination Options and
 * Fragment headers (RFC 8200 §4).
 * @param pkt an IPv4 or IPv6 packet
 * @returns where the transport header is
 */
export function transportOf(pkt: Uint8Array): Transport {
  if (pkt[0]! >> 4 === 4) {
    const fo = u16(pkt, 6);
    return {
      off: (pkt[0]! & 0xf) * 4,
      proto: pkt[9]!,
      end: u16(pkt, 2),
      fragment: (fo & 0x3fff) !== 0,
      later: (fo & 0x1fff) !== 0,
    };
  }
  let nh = pkt[6]!;
  let p = 40;
  let fragment = false;
  let later = false;
  for (;;) {
    if (nh === 0 || nh === 43 || nh === 60) {
      nh = pkt[p]!;
      p += (pkt[p + 1]! + 1) * 8;
    } else if (nh === 44) {
      const w = u16(pkt, p + 2);
      fragment = (w & 0xfff9) !== 0;
      later = (w & 0xfff8) !== 0;
      nh = pkt[p]!;
      p += 8;
    } else {
      break;
    }
  }
  return { off: p, proto: nh, end: 40 + u16(pkt, 4), fragment, later };
}

/**
 * The pseudo-header sum a transport checksum of this packet includes (RFC 768, RFC 9293 §3.1,
 * RFC 8200 §8.1; none for ICMPv4).
 */
function pseudoSum(pkt: Uint8Array, t: Transport): number {
  const len = t.end - t.off;
  if (pkt[0]! >> 4 === 4) return t.proto === 1 ? 0 : addWords(pkt, 12, 20, 0) + t.proto + len;
  return addWords(pkt, 8, 40, 0) + t.proto + len;
}

/** Offset of the checksum field within a transport header, or -1. */
function checksumField(proto: number): number {
  if (proto === 6) return 16;
  if (proto === 17) return 6;
  if (proto === 1 || proto === 58) return 2;
  return -1;
}

/**
 * Computes and writes the TCP, UDP, ICMP or ICMPv6 checksum of a complete (unfragmented)
 * packet; a UDP result of 0 is written as 0xffff (RFC 768).
 * @param pkt an IPv4 or IPv6 packet
 * @returns `pkt`
 */
export function setL4Checksum(pkt: Uint8Array): Uint8Array {
  const t = transportOf(pkt);
  const f = checksumField(t.proto);
  if (f < 0) throw new Error(`setL4Checksum: protocol ${t.proto}`);
  put16(pkt, t.off + f, 0);
  const cs = 0xffff - fold(addWords(pkt, t.off, t.end, pseudoSum(pkt, t)));
  put16(pkt, t.off + f, t.proto === 17 && cs === 0 ? 0xffff : cs);
  return pkt;
}

/**
 * Both checksums of a packet: the L4 one, then (IPv4) the header one.
 * @param pkt an IPv4 or IPv6 packet
 * @returns `pkt`
 */
export function fixChecksums(pkt: Uint8Array): Uint8Array {
  setL4Checksum(pkt);
  if (pkt[0]! >> 4 === 4) setIpv4HeaderChecksum(pkt);
  return pkt;
}

/**
 * The one's complement sum (folded, 0 .. 0xffff) of a packet's transport segment plus its
 * pseudo-header: 0xffff when its checksum verifies. Tests use it to show that a wrong checksum
 * stays wrong by the same amount.
 * @param pkt an unfragmented IPv4 or IPv6 packet
 * @returns the folded sum
 */
export function l4Residue(pkt: Uint8Array): number {
  const t = transportOf(pkt);
  return fold(addWords(pkt, t.off, t.end, pseudoSum(pkt, t)));
}

/**
 * A copy of `pkt` with bytes replaced.
 * @param pkt the original
 * @param off first byte to replace
 * @param bytes new values
 * @returns the copy
 */
export function patch(pkt: Uint8Array, off: number, ...bytes: number[]): Uint8Array {
  const c = pkt.slice();
  c.set(bytes, off);
  return c;
}

/**
 * `pkt` with its IPv6 source replaced by 2001:db8::<last> (checksums refilled).
 * @param pkt an IPv6 packet from 2001:db8::<something below 256>
 * @param last the new last byte of the source address
 * @returns the copy
 */
export function fromHost6(pkt: Uint8Array, last: number): Uint8Array {
  return fixChecksums(patch(pkt, 23, last));
}

/** The data a {@link withData} packet carries. */
export interface DataOptions {
  /** Bytes after the 8-byte UDP / ICMP header. */
  dataBytes: number;
  /** The value of data byte `k` (0-based, counted from the end of the 8-byte header). */
  byteAt: (k: number) => number;
}

/**
 * An IPv4 or IPv6 UDP, ICMP or ICMPv6 packet (IHL 5, no extension headers) with other data:
 * the IP header and the first 8 bytes of the upper-layer header of `pkt` followed by
 * `dataBytes` bytes from `byteAt`, with the IP length (and the UDP length) set and checksums
 * filled in (RFC 791 §3.1, RFC 8200 §3, RFC 768).
 * @param pkt the packet whose headers are copied (its own lengths and checksums are ignored)
 * @param opts the data
 * @returns the new packet
 */
export function withData(pkt: Uint8Array, opts: DataOptions): Uint8Array {
  const v6 = pkt[0]! >> 4 === 6;
  const l4 = v6 ? 40 : 20;
  const out = new Uint8Array(l4 + 8 + opts.dataBytes);
  out.set(pkt.subarray(0, l4 + 8));
  if (v6) put16(out, 4, out.length - 40);
  else put16(out, 2, out.length);
  if (pkt[v6 ? 6 : 9] === 17) put16(out, l4 + 4, out.length - l4);
  for (let k = 0; k < opts.dataBytes; k++) out[l4 + 8 + k] = opts.byteAt(k);
  return fixChecksums(out);
}

// ---- fragmentation done by the test ------------------------------------------------------

/**
 * Splits an IPv6 packet without extension headers into fragments (RFC 8200 §4.5).
 * @param pkt the whole packet (checksums already set)
 * @param sizes payload bytes per fragment (multiples of 8 except the last); the rest goes in
 *   one more fragment
 * @param id Fragment Identification
 * @returns the fragments in offset order
 */
export function fragment6(pkt: Uint8Array, sizes: readonly number[], id: number): Uint8Array[] {
  const nh = pkt[6]!;
  const data = pkt.subarray(40, 40 + u16(pkt, 4));
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i] ?? data.length - at, data.length - at);
    const last = at + n >= data.length;
    const f = new Uint8Array(48 + n);
    f.set(pkt.subarray(0, 40));
    put16(f, 4, 8 + n);
    f[6] = 44;
    f[40] = nh;
    f[41] = 0;
    put16(f, 42, at | (last ? 0 : 1));
    put32(f, 44, id);
    f.set(data.subarray(at, at + n), 48);
    out.push(f);
    at += n;
  }
  return out;
}

/**
 * Splits an IPv4 packet (IHL 5, DF clear) into fragments (RFC 791 §3.2).
 * @param pkt the whole packet (checksums already set)
 * @param sizes payload bytes per fragment (multiples of 8 except the last)
 * @returns the fragments in offset order, header checksums set
 */
export function fragment4(pkt: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const data = pkt.subarray(20, u16(pkt, 2));
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i] ?? data.length - at, data.length - at);
    const last = at + n >= data.length;
    const f = new Uint8Array(20 + n);
    f.set(pkt.subarray(0, 20));
    put16(f, 2, 20 + n);
    put16(f, 6, (last ? 0 : 0x2000) | (at >> 3));
    f.set(data.subarray(at, at + n), 20);
    out.push(setIpv4HeaderChecksum(f));
    at += n;
  }
  return out;
}

/**
 * Reassembles IPv4 fragments of one datagram (any order) and checks that they tile it with no
 * gap or overlap and agree on identification, addresses and protocol.
 * @param frags the fragments
 * @returns the datagram with flags and offset cleared, header checksum set
 */
export function reassemble4(frags: readonly Uint8Array[]): Uint8Array {
  const sorted = [...frags].sort((a, b) => (u16(a, 6) & 0x1fff) - (u16(b, 6) & 0x1fff));
  const head = sorted[0]!;
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [i, f] of sorted.entries()) {
    const ihl = (f[0]! & 0xf) * 4;
    const fo = u16(f, 6);
    if ((fo & 0x1fff) * 8 !== at) throw new Error(`reassemble4: gap/overlap at ${at}`);
    if (u16(f, 4) !== u16(head, 4) || u32(f, 12) !== u32(head, 12) || f[9] !== head[9]) {
      throw new Error("reassemble4: fragments of different datagrams");
    }
    const last = i === sorted.length - 1;
    if (((fo & 0x2000) === 0) !== last) throw new Error("reassemble4: MF wrong");
    if (!last && (u16(f, 2) - ihl) % 8 !== 0) throw new Error("reassemble4: not 8-aligned");
    parts.push(f.subarray(ihl, u16(f, 2)));
    at += u16(f, 2) - ihl;
  }
  const out = new Uint8Array(20 + at);
  out.set(head.subarray(0, 20));
  out[0] = 0x45;
  put16(out, 2, out.length);
  put16(out, 6, 0);
  let p = 20;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return setIpv4HeaderChecksum(out);
}

/**
 * Reassembles IPv6 fragments (fixed header + Fragment header + data) of one datagram.
 * @param frags the fragments, any order
 * @returns the datagram without the Fragment header
 */
export function reassemble6(frags: readonly Uint8Array[]): Uint8Array {
  const off = (f: Uint8Array) => u16(f, 42) & 0xfff8;
  const sorted = [...frags].sort((a, b) => off(a) - off(b));
  const head = sorted[0]!;
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [i, f] of sorted.entries()) {
    if (f[6] !== 44) throw new Error("reassemble6: no Fragment header");
    if (off(f) !== at) throw new Error(`reassemble6: gap/overlap at ${at}`);
    if (u32(f, 44) !== u32(head, 44) || f[40] !== head[40]) {
      throw new Error("reassemble6: fragments of different datagrams");
    }
    const last = i === sorted.length - 1;
    if (((u16(f, 42) & 1) === 0) !== last) throw new Error("reassemble6: M flag wrong");
    const n = u16(f, 4) - 8;
    if (!last && n % 8 !== 0) throw new Error("reassemble6: not 8-aligned");
    parts.push(f.subarray(48, 48 + n));
    at += n;
  }
  const out = new Uint8Array(40 + at);
  out.set(head.subarray(0, 40));
  put16(out, 4, at);
  out[6] = head[40]!;
  let p = 40;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
