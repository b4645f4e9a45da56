/**
 * Warming the engine up before the first real packet. V8 runs a function in its interpreter
 * until it has been called a few thousand times, and only then compiles it with TurboFan. At a
 * gateway's low packet rates — an interactive ping, the first packets of a connection — the
 * engine would run interpreted for a while, and a ping sharing the translator's CPU would wait
 * for it (`deno task bench:e2e` measures that round trip beside TAYGA's).
 *
 * {@link warmUp} translates synthetic round trips (UDP, TCP and ICMP Echo, IPv6 → IPv4 and the
 * reply back) through the Worker's own context, so the feedback V8 collects is the real one
 * (same context, settings and counter objects), with a throwaway lease table of the same class
 * standing in for the shared one. Afterwards the context is exactly as it was: the real table
 * back, the counters restored, no reassembly state. Nothing here runs per packet.
 *
 * @module
 */

import { embedIpv4 } from "../addr/rfc6052.ts";
import { LeaseTable } from "../lease/table.ts";
import { adjust, checksum } from "../wire/checksum.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { INPUT_OFFSET, VNET_IN_OFFSET, type XlatContext } from "../xlat/context.ts";
import { translate } from "../xlat/translate.ts";
import { classifyReceived, countOutcome, translatedSoFar } from "./breakdown.ts";
import { OFFLOAD_PLAIN, offloadInput } from "../xlat/offload.ts";
import * as virtio from "../wire/virtio.ts";

/** Round trips per packet kind; enough for TurboFan to compile the engine's functions. */
export const WARMUP_ROUNDS = 20_000;

/**
 * With TUN offload every packet comes with a `virtio_net_hdr`, which the loop hands to
 * `offloadInput` first: an all-zero header (no GSO, no partial checksum), as the kernel sends
 * for most packets.
 */
function plainOffload(ctx: XlatContext, len: number): boolean {
  ctx.mem.fill(0, VNET_IN_OFFSET, VNET_IN_OFFSET + virtio.HEADER_LEN);
  return offloadInput(ctx, len) === OFFLOAD_PLAIN;
}

/** The synthetic IPv6 host (a documentation address, never sent anywhere). */
const HOST6 = [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/** The synthetic IPv4 peer: 1.0.0.1, global (so a Well-Known Prefix accepts it). */
const PEER4 = 0x01000001;
/** The throwaway pool: 100.64.0.0/30 (its .1 and .2 are leasable). */
const WARM_POOL = { addr: 0x64400000, len: 30 };

/**
 * The two ends of the synthetic IPv6 packets (32 bytes: source, destination). A translator's:
 * HOST6 to the peer embedded in the prefix. A CLAT's (RFC 6877): the peer embedded in `Via` to
 * the customer `customer4`'s IPv6 address, through the Worker's own (stateless) mapper; null when
 * the CLAT has no `Via` yet or `customer4` is no customer.
 */
function ends6(ctx: XlatContext, customer4: number | undefined): Uint8Array | null {
  const s = ctx.settings;
  const ends = new Uint8Array(32);
  if (!s.clat) {
    ends.set(HOST6, 0);
    embedIpv4(s.prefix, s.prefixLen, PEER4, ends, 16);
    return ends;
  }
  if (customer4 === undefined) return null;
  if (ctx.mapper.v6For4(PEER4, ends, 0, 0, 0) === 0) return null;
  return ctx.mapper.staticV6For4(customer4 | 0, ends, 16) === 0 ? null : ends;
}

/** Builds one IPv6 packet between `ends` (source, destination), checksummed. */
function packet6(ends: Uint8Array, nh: number, l4: number[]): Uint8Array {
  const p = new Uint8Array(ipv6.HEADER_LEN + l4.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, l4.length);
  p[6] = nh;
  p[7] = 64;
  p.set(ends, ipv6.SOURCE_OFF);
  p.set(l4, ipv6.HEADER_LEN);
  const csumAt = ipv6.HEADER_LEN + (nh === ipv4.PROTO_TCP ? 16 : nh === ipv4.PROTO_UDP ? 6 : 2);
  // Pseudo-header: both addresses, the upper-layer length and the next header.
  const pseudo = ipv6.sumAddresses(p, 0) + l4.length + nh;
  const cs = checksum(p, ipv6.HEADER_LEN, l4.length, pseudo);
  v.setUint16(csumAt, cs === 0 && nh === ipv4.PROTO_UDP ? 0xffff : cs);
  return p;
}

/**
 * Turns the IPv4 packet the engine emitted for a warm-up packet into its reply, in place at
 * `off`: addresses and ports swapped (the checksums stay valid, a ones'-complement sum does not
 * depend on the order of its words), an Echo Request made an Echo Reply.
 */
function makeReply4(ctx: XlatContext, off: number): void {
  const b = ctx.mem;
  const v = ctx.view;
  const src = v.getUint32(off + 12);
  v.setUint32(off + 12, v.getUint32(off + 16));
  v.setUint32(off + 16, src);
  const l4 = off + ipv4.headerLength(v, off);
  const proto = ipv4.protocol(v, off);
  if (proto === ipv4.PROTO_ICMP) {
    const word = v.getUint16(l4);
    v.setUint16(l4, word & 0x00ff); // type 8 → 0, code kept
    v.setUint16(l4 + 2, adjust(v.getUint16(l4 + 2), word, word & 0x00ff));
  } else {
    const sport = v.getUint16(l4);
    v.setUint16(l4, v.getUint16(l4 + 2));
    v.setUint16(l4 + 2, sport);
  }
  b[off + 8] = 64; // a fresh TTL, as a real reply would have
  v.setUint16(off + 10, 0);
  v.setUint16(off + 10, checksum(b, off, ipv4.headerLength(v, off), 0));
}

/**
 * Feeds the packet classifier of the loop (lib/daemon/breakdown.ts) the shapes the round trips
 * do not have — another protocol, an extension header, a later fragment, a short packet — so
 * its first such real packet does not deoptimise the compiled loop. Counts into the context's
 * row, which the caller restores.
 */
function warmClassifier(ctx: XlatContext, rounds: number): void {
  const b = ctx.mem;
  const o = INPUT_OFFSET;
  const shapes: [number[], number][] = [
    [[0x45, 0, 0, 40, 0, 0, 0, 0, 64, 47], 40], // IPv4 GRE
    [[0x45, 0, 0, 40, 0, 0, 0x20, 0x10, 64, 1], 40], // IPv4 ICMP, not the first fragment
    [[0x60, 0, 0, 0, 0, 8, 0, 64], 48], // IPv6 Hop-by-Hop first
    [[0x60, 0, 0, 0, 0, 8, 17, 64], 30], // IPv6 too short for its header
    [[0x45], 10], // truncated
  ];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < shapes.length; k++) {
      const [bytes, len] = shapes[k]!;
      for (let i = 0; i < bytes.length; i++) b[o + i] = bytes[i]!;
      const cls = classifyReceived(b, o, len, ctx.counters);
      countOutcome(ctx.counters, cls, translatedSoFar(ctx.counters));
    }
  }
}

/**
 * Runs synthetic UDP, TCP and ICMP Echo round trips through `ctx` so V8 compiles the engine
 * before real traffic arrives, then leaves `ctx` as it found it (mapper, counters, clock-free
 * state). Call it once per Worker, before its first packet.
 *
 * @param ctx the Worker's engine context (its settings decide the prefix the packets use)
 * @param rounds round trips per packet kind (default {@link WARMUP_ROUNDS})
 * @param offload the Worker's device has TUN offload: each packet goes through `offloadInput`
 *   with a plain `virtio_net_hdr` first, as in the loop
 * @param customer4 a CLAT's (`ctx.settings.clat`): one customer's IPv4 address, the other end
 *   of its round trips (which start from the IPv6 side and go through its own mapper, which
 *   keeps no state)
 * @returns the number of packets translated both ways (0 means the settings refused them all,
 *   e.g. a prefix the synthetic peer cannot be embedded in, or a CLAT without `Via` yet; warming
 *   up is then skipped)
 */
export function warmUp(
  ctx: XlatContext,
  rounds: number = WARMUP_ROUNDS,
  offload = false,
  customer4?: number,
): number {
  const ends = ends6(ctx, customer4);
  if (ends === null) return 0;
  const mapper = ctx.mapper;
  const saved = ctx.counters.slice();
  const savedId = ctx.idState;
  const savedTokens = ctx.tokens;
  if (!ctx.settings.clat) {
    ctx.mapper = LeaseTable.create({ pool: [WARM_POOL], staticMaps: [], reservationSecs: 3600 });
  }
  const packets = [
    packet6(ends, ipv4.PROTO_UDP, [0x13, 0x88, 0x00, 0x35, 0, 26, 0, 0, ...new Array(18).fill(7)]),
    packet6(ends, ipv4.PROTO_TCP, [
      0x9c,
      0x40,
      0x00,
      0x50,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0x50,
      0x10,
      0xff,
      0xff,
      0,
      0,
      0,
      0,
      ...new Array(32).fill(9),
    ]),
    packet6(ends, ipv6.NH_ICMPV6, [128, 0, 0, 0, 0x12, 0x34, 0, 1, ...new Array(56).fill(5)]),
  ];
  let translated = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < packets.length; k++) {
        const p = packets[k]!;
        ctx.mem.set(p, INPUT_OFFSET);
        // As PacketLoop.run does around the engine (lib/daemon/breakdown.ts).
        let cls = classifyReceived(ctx.mem, INPUT_OFFSET, p.length, ctx.counters);
        let before = translatedSoFar(ctx.counters);
        if (offload && !plainOffload(ctx, p.length)) return translated;
        if (translate(ctx, p.length) !== 1) return translated;
        countOutcome(ctx.counters, cls, before);
        const off = ctx.emitOffset[0]!;
        const len = ctx.emitLength[0]!;
        ctx.mem.copyWithin(INPUT_OFFSET, off, off + len);
        makeReply4(ctx, INPUT_OFFSET);
        cls = classifyReceived(ctx.mem, INPUT_OFFSET, len, ctx.counters);
        before = translatedSoFar(ctx.counters);
        if (offload && !plainOffload(ctx, len)) return translated;
        if (translate(ctx, len) !== 1) return translated;
        countOutcome(ctx.counters, cls, before);
        translated += 2;
      }
    }
    warmClassifier(ctx, rounds);
    return translated;
  } finally {
    ctx.mapper = mapper;
    ctx.counters.set(saved);
    ctx.idState = savedId;
    ctx.tokens = savedTokens;
  }
}
