/**
 * The seeded packet fuzzer behind tests/xlat/fuzz_*_test.ts: valid IPv4/IPv6 TCP, UDP, ICMP,
 * ICMP-error and fragment templates built at random, then mutated (bit flips, truncation,
 * length-field changes, random extension-header chains), fed through the engine, and every
 * emitted packet checked for consistent lengths and checksums with tests/_util/packets.ts.
 *
 * @module
 */

import { REASSEMBLY_OFFSET } from "../../lib/xlat/context.ts";
import { Drop, DROP_REASON_COUNT } from "../../lib/xlat/drop.ts";
import { emittedPackets, translatePacket } from "../../lib/xlat/translate.ts";
import type { Engine } from "../../lib/xlat/settings.ts";
import { ipv4HeaderChecksumValid, l4ChecksumValid, toHex } from "../_util/packets.ts";
import { Prng } from "../_util/prng.ts";
import {
  engineFor,
  fixChecksums,
  fragment4,
  fragment6,
  put16,
  put32,
  setIpv4HeaderChecksum,
  T0_MS,
  transportOf,
  u16,
  u32,
} from "./_build.ts";

// ---- addresses the generator draws from --------------------------------------------------

const PREFIX96 = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
const HOSTS6 = [1, 2, 3, 4].map((
  n,
) => [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n]);
const PEERS4 = [0xc6336407, 0xcb007109, 0x08080808, 0xc0000202, 0x0a000001];
const ADDRESS4 = 0xc0000008;
const ADDRESS6 = [...PREFIX96, 192, 0, 0, 8];
const POOL4 = [0xc0000201, 0xc0000202, 0xc0000008, 0xc0000203];

/** Configurations the fuzzer alternates between. */
export const FUZZ_CONFIGS: readonly string[] = [
  `
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["192.0.2.0/30"]
[Translation]
AllowNonGlobalWithWKP = true
ICMPErrorBurst = 1000000
ICMPErrorRate = 1000000
`,
  `
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["192.0.2.0/30"]
MTU = 1280
[Rules]
MapStatic = [{ v4 = "198.51.100.0/24", v6 = "2001:db8:100::/120" }]
[Translation]
AmendUDPChecksumZero = true
MTU4 = 576
Pool6791v4 = ["203.0.113.1"]
ICMPErrorBurst = 1000000
ICMPErrorRate = 1000000
`,
  `
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["192.0.2.0/30"]
MTU = 9000
[Translation]
LowestIPv6MTU = 1500
ICMPErrorBurst = 5
ICMPErrorRate = 10
`,
];

function v6Of(rng: Prng): number[] {
  const r = rng.below(10);
  if (r < 5) return HOSTS6[rng.below(2)]!;
  if (r < 7) return HOSTS6[rng.below(4)]!;
  if (r < 8) return [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, rng.range(1, 255)];
  return Array.from(rng.bytes(16));
}

function embedded(v4: number): number[] {
  return [...PREFIX96, v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff];
}

function peer4(rng: Prng): number {
  return rng.chance(0.9) ? rng.pick(PEERS4) : rng.u32();
}

function pool4(rng: Prng): number {
  return rng.chance(0.9) ? rng.pick(POOL4) : rng.u32();
}

// ---- templates ---------------------------------------------------------------------------

/** Upper-layer bytes: UDP, TCP or ICMP echo with a payload of `n` bytes (checksum 0). */
function upper(rng: Prng, proto: number, n: number, v6: boolean): Uint8Array {
  if (proto === 17) {
    const b = new Uint8Array(8 + n);
    put16(b, 0, rng.range(1, 65535));
    put16(b, 2, rng.range(1, 65535));
    put16(b, 4, 8 + n);
    rng.fill(b, 8);
    return b;
  }
  if (proto === 6) {
    const b = new Uint8Array(20 + n);
    rng.fill(b, 0, 16);
    b[12] = 0x50;
    rng.fill(b, 20);
    return b;
  }
  const b = new Uint8Array(8 + n);
  b[0] = v6 ? rng.pick([128, 129]) : rng.pick([8, 0]);
  rng.fill(b, 4);
  return b;
}

function ipv6(
  rng: Prng,
  src: number[],
  dst: number[],
  nh: number,
  payload: Uint8Array,
): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  put32(p, 0, 0x60000000 | (rng.below(256) << 20) | (rng.chance(0.3) ? rng.below(1 << 20) : 0));
  put16(p, 4, payload.length);
  p[6] = nh;
  p[7] = rng.chance(0.95) ? rng.range(2, 255) : rng.range(0, 1);
  p.set(src, 8);
  p.set(dst, 24);
  p.set(payload, 40);
  return p;
}

function ipv4(rng: Prng, src: number, dst: number, proto: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  p[1] = rng.below(256);
  put16(p, 2, p.length);
  put16(p, 4, rng.below(65536));
  put16(p, 6, rng.chance(0.5) ? 0x4000 : 0);
  p[8] = rng.chance(0.95) ? rng.range(2, 255) : rng.range(0, 1);
  p[9] = proto;
  put32(p, 12, src);
  put32(p, 16, dst);
  p.set(payload, 20);
  return setIpv4HeaderChecksum(p);
}

function payloadLen(rng: Prng): number {
  const r = rng.below(100);
  if (r < 70) return rng.below(64);
  if (r < 95) return rng.below(600);
  return rng.range(1200, 3000);
}

const PROTOS = [17, 6, 58];

function valid6(rng: Prng): Uint8Array {
  const nh = rng.pick(PROTOS);
  const dst = rng.chance(0.9) ? embedded(peer4(rng)) : v6Of(rng);
  const pkt = ipv6(rng, v6Of(rng), dst, nh, upper(rng, nh, payloadLen(rng), true));
  return fixChecksums(pkt);
}

function valid4(rng: Prng): Uint8Array {
  const proto = rng.pick([17, 6, 1]);
  return fixChecksums(
    ipv4(rng, peer4(rng), pool4(rng), proto, upper(rng, proto, payloadLen(rng), false)),
  );
}

/** An ICMPv6 error from an IPv6 host about a packet a peer sent it. */
function error6(rng: Prng): Uint8Array {
  const host = v6Of(rng);
  const peer = embedded(peer4(rng));
  const inner = valid6Inner(rng, peer, host);
  const cut = rng.chance(0.5) ? inner.length : rng.below(inner.length + 1);
  const [type, code] = rng.pick([[1, 4], [1, 0], [1, 3], [2, 0], [3, 0], [3, 1], [4, 0], [4, 1]]);
  const body = new Uint8Array(8 + cut);
  body[0] = type!;
  body[1] = code!;
  if (type === 2) put32(body, 4, rng.range(1280, 9000));
  if (type === 4) put32(body, 4, rng.below(48));
  if ((type === 1 || type === 3) && rng.chance(0.2)) body[4] = rng.below(32);
  body.set(inner.subarray(0, cut), 8);
  return fixChecksums(ipv6(rng, host, peer, 58, body));
}

function valid6Inner(rng: Prng, src: number[], dst: number[]): Uint8Array {
  const nh = rng.pick(PROTOS);
  return fixChecksums(ipv6(rng, src, dst, nh, upper(rng, nh, rng.below(64), true)));
}

/** An ICMPv4 error from an IPv4 router or host about a packet one of our hosts sent. */
function error4(rng: Prng): Uint8Array {
  const proto = rng.pick([17, 6, 1]);
  const inner = fixChecksums(
    ipv4(rng, pool4(rng), peer4(rng), proto, upper(rng, proto, rng.below(64), false)),
  );
  const cut = rng.chance(0.5) ? inner.length : rng.below(inner.length + 1);
  const [type, code] = rng.pick([[3, 3], [3, 1], [3, 4], [3, 13], [11, 0], [12, 0], [3, 2]]);
  const body = new Uint8Array(8 + cut);
  body[0] = type!;
  body[1] = code!;
  if (type === 3 && code === 4) put16(body, 6, rng.chance(0.2) ? 0 : rng.range(68, 1500));
  if (type === 12) body[4] = rng.below(24);
  if ((type === 3 || type === 11) && rng.chance(0.2)) body[5] = rng.below(40);
  body.set(inner.subarray(0, cut), 8);
  return fixChecksums(ipv4(rng, peer4(rng), pool4(rng), 1, body));
}

/** The generator's fragment stream state: remaining fragments of a datagram, fed in order. */
interface FragState {
  queue: Uint8Array[];
}

function fragments(rng: Prng, st: FragState): Uint8Array {
  if (st.queue.length === 0) {
    const six = rng.chance(0.5);
    const whole = six ? valid6(rng) : valid4(rng);
    const dataLen = six ? whole.length - 40 : whole.length - 20;
    const sizes: number[] = [];
    let left = dataLen;
    while (left > 0) {
      const n = rng.chance(0.1) ? rng.range(1, 40) : 8 * rng.range(1, 200);
      sizes.push(n);
      left -= n;
    }
    if (!six) {
      put16(whole, 6, 0);
      setIpv4HeaderChecksum(whole);
    }
    const frags = six ? fragment6(whole, sizes, rng.u32()) : fragment4(whole, sizes);
    // Shuffle sometimes, drop or duplicate one sometimes.
    if (rng.chance(0.3)) frags.reverse();
    if (rng.chance(0.1)) frags.splice(rng.below(frags.length), 1);
    if (rng.chance(0.1) && frags.length > 0) frags.push(frags[rng.below(frags.length)]!);
    st.queue = frags.length > 0 ? frags : [whole];
  }
  return st.queue.shift()!;
}

const EXT = [0, 43, 44, 60, 51, 50, 59, 135, 139, 253];

/** Inserts 1-4 random extension headers after the IPv6 fixed header. */
function extChain(rng: Prng, pkt: Uint8Array): Uint8Array {
  if (pkt.length < 40 || pkt[0]! >> 4 !== 6) return pkt;
  const headers: Uint8Array[] = [];
  const count = rng.range(1, 4);
  const types: number[] = [];
  for (let i = 0; i < count; i++) types.push(rng.pick(EXT));
  let next = pkt[6]!;
  for (let i = count - 1; i >= 0; i--) {
    const t = types[i]!;
    let h: Uint8Array;
    if (t === 44) {
      h = new Uint8Array(8);
      put16(h, 2, rng.chance(0.7) ? 0 : rng.below(65536));
      put32(h, 4, rng.u32());
    } else if (t === 51) {
      const words = rng.range(1, 4);
      h = rng.bytes((words + 2) * 4);
      h[1] = words;
    } else {
      const len = rng.below(3);
      h = new Uint8Array((len + 1) * 8);
      h[1] = len;
      if (t === 43) {
        h[2] = rng.pick([0, 2, 4, 253]);
        h[3] = rng.chance(0.8) ? 0 : rng.range(1, 3);
      } else {
        h[2] = 1; // PadN filling the rest
        h[3] = h.length - 4;
      }
    }
    h[0] = next;
    next = t;
    headers.unshift(h);
  }
  const extLen = headers.reduce((a, h) => a + h.length, 0);
  const out = new Uint8Array(pkt.length + extLen);
  out.set(pkt.subarray(0, 40));
  out[6] = next;
  put16(out, 4, u16(pkt, 4) + extLen);
  let p = 40;
  for (const h of headers) {
    out.set(h, p);
    p += h.length;
  }
  out.set(pkt.subarray(40), p);
  return out;
}

// ---- mutations ---------------------------------------------------------------------------

function mutate(rng: Prng, pkt: Uint8Array): Uint8Array {
  let p = pkt;
  const rounds = rng.range(1, 3);
  for (let k = 0; k < rounds; k++) {
    switch (rng.below(8)) {
      case 0: { // bit flips
        if (p.length === 0) break;
        p = p.slice();
        const flips = rng.range(1, 6);
        for (let i = 0; i < flips; i++) {
          const at = rng.below(p.length);
          p[at] = p[at]! ^ (1 << rng.below(8));
        }
        break;
      }
      case 1: // truncation
        p = p.slice(0, rng.below(p.length + 1));
        break;
      case 2: { // trailing garbage
        const q = new Uint8Array(p.length + rng.range(1, 40));
        q.set(p);
        rng.fill(q, p.length);
        p = q;
        break;
      }
      case 3: { // a length field of the IP header
        if (p.length < 8) break;
        p = p.slice();
        if (p[0]! >> 4 === 4) {
          if (rng.chance(0.5)) {
            put16(p, 2, rng.chance(0.5) ? rng.below(65536) : u16(p, 2) + rng.range(-9, 9));
          } else p[0] = 0x40 | rng.below(16);
        } else {
          put16(p, 4, rng.chance(0.5) ? rng.below(65536) : u16(p, 4) + rng.range(-9, 9));
        }
        break;
      }
      case 4: { // a length field of the transport header (UDP length / TCP data offset)
        if (p.length < 60) break;
        p = p.slice();
        const at = p[0]! >> 4 === 4 ? (p[0]! & 0xf) * 4 : 40;
        if (at + 14 <= p.length) {
          if (rng.chance(0.5)) put16(p, at + 4, rng.below(65536));
          else p[at + 12] = rng.below(256);
        }
        break;
      }
      case 5:
        p = extChain(rng, p);
        break;
      case 6: { // random bytes over a random range
        if (p.length === 0) break;
        p = p.slice();
        const at = rng.below(p.length);
        rng.fill(p, at, Math.min(p.length - at, rng.range(1, 16)));
        break;
      }
      default: { // interesting values at a random header byte
        if (p.length === 0) break;
        p = p.slice();
        const at = rng.below(Math.min(p.length, 64));
        p[at] = rng.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff, 4, 6, 0x45, 0x60, 44, 58]);
        break;
      }
    }
  }
  // Often repair the checksums so that the mutation reaches past the first validity checks.
  if (rng.chance(0.6)) {
    try {
      if (p.length >= 20 && p[0]! >> 4 === 4) setIpv4HeaderChecksum(p);
      if (rng.chance(0.7)) fixChecksums(p);
    } catch {
      // a packet the repair helper cannot walk: fuzz it as it is
    }
  }
  return p;
}

// ---- checks ------------------------------------------------------------------------------

/** Whether a packet comes from Address4 192.0.0.8 or Address6 64:ff9b::192.0.0.8. */
function fromTranslator(pkt: Uint8Array): boolean {
  if (pkt[0]! >> 4 === 4) return u32(pkt, 12) === ADDRESS4;
  for (let i = 0; i < 16; i++) if (pkt[8 + i] !== ADDRESS6[i]) return false;
  return true;
}

/** Whether an emitted packet is an ICMP error or an ICMP message the translator built itself. */
function icmpErrorType(pkt: Uint8Array): boolean {
  const t = transportOf(pkt);
  if (t.later || t.off >= pkt.length) return false;
  if (t.proto === 1) return [3, 4, 5, 11, 12].includes(pkt[t.off]!);
  if (t.proto === 58) return pkt[t.off]! < 128;
  return false;
}

/** Problems found in one run, with what reproduces them. */
export interface FuzzFailure {
  /** Which packet (0-based) of the run. */
  index: number;
  /** What is wrong. */
  problem: string;
  /** The input, hex. */
  input: string;
}

/** Totals of a fuzz run. */
export interface FuzzStats {
  /** Packets fed. */
  packets: number;
  /** Packets emitted. */
  emitted: number;
  /** Emitted packets whose L4 checksum was required to be valid and was. */
  checksumChecked: number;
  /** Drops per reason. */
  drops: Map<number, number>;
  /** Problems (the test asserts there are none). */
  failures: FuzzFailure[];
}

/** Checks one input's outputs; pushes problems to `fail`. */
function checkOutputs(
  input: Uint8Array,
  r: number,
  outs: Uint8Array[],
  fail: (problem: string) => void,
  stats: FuzzStats,
): void {
  if (r > 0 && outs.length !== r) fail(`returned ${r} but emitted ${outs.length}`);
  if (r <= 0 && outs.length !== 0) fail(`returned ${r} but emitted ${outs.length}`);
  if (r <= 0 && !(-r >= 1 && -r < DROP_REASON_COUNT)) fail(`returned ${r}, not a drop reason`);
  // RFC 7915 §5.1 skips only Hop-by-Hop, Routing, Destination Options and Fragment headers;
  // after any other (AH, Mobility, HIP, experimental …) the translator copies the rest as an
  // opaque protocol, so a TCP/UDP checksum found behind it by the checker is not its business.
  const seen = input.length >= 40 ? transportOf(input) : null;
  const l4Known = seen !== null && [1, 6, 17, 58].includes(seen.proto);
  const inValid = l4Known ? l4ChecksumValid(input) : null;
  // ICMP of the input's own family (ICMPv4 in IPv4, ICMPv6 in IPv6), not e.g. protocol 58
  // inside IPv4, which RFC 7915 §4.1 copies as an opaque protocol.
  const inIcmp = seen !== null &&
    (input[0]! >> 4 === 4 ? seen.proto === 1 : seen.proto === 58);
  const inUdp4ZeroSum = input.length >= 28 && input[0]! >> 4 === 4 && input[9] === 17 &&
    (u16(input, 6) & 0x3fff) === 0 && u16(input, (input[0]! & 0xf) * 4 + 6) === 0;
  for (const o of outs) {
    stats.emitted++;
    if (o.length < 1) {
      fail("empty packet emitted");
      continue;
    }
    const version = o[0]! >> 4;
    if (version === 4) {
      if (o.length < 20 || (o[0]! & 0xf) < 5) fail(`IPv4 output with IHL ${o[0]! & 0xf}`);
      else if (u16(o, 2) !== o.length) fail(`IPv4 total length ${u16(o, 2)} != ${o.length}`);
      else if (!ipv4HeaderChecksumValid(o)) fail("IPv4 header checksum invalid");
    } else if (version === 6) {
      if (o.length < 40) fail(`IPv6 output of ${o.length} bytes`);
      else if (u16(o, 4) + 40 !== o.length) {
        fail(`IPv6 payload length ${u16(o, 4)} + 40 != ${o.length}`);
      }
    } else {
      fail(`output of IP version ${version}`);
      continue;
    }
    const outValid = l4ChecksumValid(o);
    if (outValid === null) continue;
    if (fromTranslator(o) || (inIcmp && icmpErrorType(o))) {
      // What the translator originates, and translated ICMP errors, get a fresh checksum.
      if (!outValid) fail("ICMP message with an invalid checksum");
      else stats.checksumChecked++;
    } else if (inValid === true || (inUdp4ZeroSum && outs.length === 1)) {
      if (!outValid) fail("valid input, invalid L4 checksum out");
      else stats.checksumChecked++;
    } else if (inValid === false) {
      if (outValid) fail("invalid input checksum became valid");
    }
  }
}

/**
 * Feeds `count` generated packets through fresh engines (one per config, switching every few
 * thousand packets) and checks everything they emit.
 *
 * @param seed PRNG seed
 * @param count packets to feed
 * @returns totals and any failures
 */
export function fuzz(seed: number, count: number): FuzzStats {
  const rng = new Prng(seed);
  const stats: FuzzStats = {
    packets: 0,
    emitted: 0,
    checksumChecked: 0,
    drops: new Map(),
    failures: [],
  };
  const frag: FragState = { queue: [] };
  let e: Engine = engineFor(FUZZ_CONFIGS[0]!);
  let clock = T0_MS;
  for (let i = 0; i < count; i++) {
    if (i % 5000 === 0) {
      e = engineFor(rng.pick(FUZZ_CONFIGS), {
        reassemblySlots: rng.range(1, 8),
        idSeed: rng.u32(),
      });
      clock = T0_MS;
      frag.queue = [];
    }
    clock += rng.below(50);
    if (rng.chance(0.001)) clock += rng.below(400_000); // past reassembly and lease timeouts
    e.ctx.setClock(clock);

    let pkt: Uint8Array;
    const kind = rng.below(100);
    if (kind < 25) pkt = valid6(rng);
    else if (kind < 45) pkt = valid4(rng);
    else if (kind < 55) pkt = error6(rng);
    else if (kind < 65) pkt = error4(rng);
    else if (kind < 80) pkt = fragments(rng, frag);
    else if (kind < 85) pkt = extChain(rng, fixChecksums(valid6(rng)));
    else if (kind < 99) pkt = rng.bytes(rng.range(0, 120));
    else pkt = rng.bytes(rng.range(0, 70000));
    if (kind >= 85 && kind < 99 && pkt.length > 0) {
      pkt[0] = (rng.chance(0.5) ? 0x40 : 0x60) | (pkt[0]! & 0xf);
    }
    if (rng.chance(0.6)) pkt = mutate(rng, pkt);

    // Now and then pre-fill the arena with 0xa5 (all of it each time would dominate the run).
    if ((i & 255) === 0) e.ctx.mem.fill(0xa5, 0, REASSEMBLY_OFFSET);
    let r: number;
    let outs: Uint8Array[];
    try {
      r = translatePacket(e.ctx, pkt);
      outs = emittedPackets(e.ctx);
    } catch (err) {
      stats.failures.push({ index: i, problem: `threw ${err}`, input: toHex(pkt) });
      if (stats.failures.length > 20) break;
      continue;
    }
    stats.packets++;
    if (r < 0) stats.drops.set(-r, (stats.drops.get(-r) ?? 0) + 1);
    checkOutputs(pkt, r, outs, (problem) => {
      if (stats.failures.length <= 20) {
        stats.failures.push({ index: i, problem, input: toHex(pkt) });
      }
    }, stats);
  }
  return stats;
}

/** Names of the reasons a run hit, with counts (for the test's log line). */
export function dropSummary(stats: FuzzStats): string {
  const names = Object.fromEntries(Object.entries(Drop).map(([k, v]) => [v, k.toLowerCase()]));
  return [...stats.drops.entries()].sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${names[k]}=${n}`).join(" ");
}
