/**
 * Engine throughput: packets per second through `translate()` for common
 * packet shapes, reported against a baseline measured in the same run (a
 * plain copy of the packet into the arena, which every translation also
 * does). Run with `deno task bench`; read the "x slower than" column, not
 * the absolute times, on a shared machine.
 */

import { parseConfig } from "../../lib/config/config.ts";
import { INPUT_OFFSET } from "../../lib/xlat/context.ts";
import { createEngine } from "../../lib/xlat/settings.ts";
import { translate } from "../../lib/xlat/translate.ts";
import { hex } from "../_util/packets.ts";
import { put32, withData } from "../xlat/_build.ts";

const cfg = parseConfig(`
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["198.51.100.0/24"]
[Translation]
AllowNonGlobalWithWKP = true
`);
const { ctx } = createEngine(cfg);
ctx.setClock(1_000_000);

/** IPv6 UDP from 2001:db8::2 port 5000 to 64:ff9b::203.0.113.9 port 53; lengths set below. */
// deno-fmt-ignore
const UDP6_HEAD = hex(`
  60000000                              // version 6, traffic class 0, flow label 0
  00001140                              // payload length (set below), UDP, hop limit 64
  20010db8 00000000 00000000 00000002   // source 2001:db8::2
  0064ff9b 00000000 00000000 cb007109   // destination 64:ff9b::203.0.113.9
  13880035                              // UDP source port 5000, destination port 53
  00000000                              // UDP length (set below), checksum (filled in)
`);

/** The IPv4 reply (DF set, as path-MTU-discovering senders set it); destination set below. */
// deno-fmt-ignore
const UDP4_HEAD = hex(`
  45000000   // version 4, IHL 5, TOS 0, total length (set below)
  00004000   // identification 0, DF
  40110000   // TTL 64, UDP, header checksum (filled in)
  cb007109   // source 203.0.113.9
  00000000   // destination (the leased pool address)
  00351388   // UDP source port 53, destination port 5000
  00000000   // UDP length (set below), checksum (filled in)
`);

/** An IPv6 UDP packet from 2001:db8::2 to 64:ff9b::203.0.113.9 with `payload` bytes. */
function udp6(payload: number): Uint8Array {
  return withData(UDP6_HEAD, { dataBytes: payload, byteAt: (k) => k & 0xff });
}

/** The IPv4 reply (DF set): 203.0.113.9 → the leased pool address. */
function udp4(payload: number, dst: number): Uint8Array {
  const head = UDP4_HEAD.slice();
  put32(head, 16, dst);
  return withData(head, { dataBytes: payload, byteAt: (k) => k & 0xff });
}

// Create the lease the IPv4 replies go to.
const first = udp6(18);
ctx.mem.set(first, INPUT_OFFSET);
translate(ctx, first.length);
const leased = ctx.view.getUint32(ctx.emitOffset[0]! + 12);

for (const [name, payload] of [["64 B", 18], ["1400 B", 1352]] as const) {
  const p6 = udp6(payload);
  const p4 = udp4(payload + 20, leased);
  Deno.bench({
    name: `copy only (${name})`,
    group: name,
    baseline: true,
    fn: () => {
      ctx.mem.set(p6, INPUT_OFFSET);
    },
  });
  Deno.bench({
    name: `6→4 UDP (${name})`,
    group: name,
    fn: () => {
      ctx.mem.set(p6, INPUT_OFFSET);
      if (translate(ctx, p6.length) !== 1) throw new Error("not translated");
    },
  });
  Deno.bench({
    name: `4→6 UDP (${name})`,
    group: name,
    fn: () => {
      ctx.mem.set(p4, INPUT_OFFSET);
      if (translate(ctx, p4.length) !== 1) throw new Error("not translated");
    },
  });
}
