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

const cfg = parseConfig(`
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["198.51.100.0/24"]
[Translation]
AllowNonGlobalWithWKP = true
`);
const { ctx } = createEngine(cfg);
ctx.setClock(1_000_000);

function sum(b: Uint8Array, off: number, len: number, init: number): number {
  let s = init;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | (b[off + i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** An IPv6 UDP packet from 2001:db8::2 to 64:ff9b::203.0.113.9 with `payload` bytes. */
function udp6(payload: number): Uint8Array {
  const len = 48 + payload;
  const p = new Uint8Array(len);
  const v = new DataView(p.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, 8 + payload);
  p[6] = 17;
  p[7] = 64;
  p.set([0x20, 0x01, 0x0d, 0xb8], 8);
  p[23] = 2;
  p.set([0x00, 0x64, 0xff, 0x9b], 24);
  p.set([203, 0, 113, 9], 36);
  v.setUint16(40, 5000);
  v.setUint16(42, 53);
  v.setUint16(44, 8 + payload);
  for (let i = 0; i < payload; i++) p[48 + i] = i & 0xff;
  const pseudo = sum(p, 8, 32, 8 + payload + 17);
  v.setUint16(46, ~sum(p, 40, 8 + payload, pseudo) & 0xffff || 0xffff);
  return p;
}

/** The IPv4 reply (DF set): 203.0.113.9 → the leased pool address. */
function udp4(payload: number, dst: number): Uint8Array {
  const len = 28 + payload;
  const p = new Uint8Array(len);
  const v = new DataView(p.buffer);
  v.setUint32(0, 0x45000000 | len);
  v.setUint16(6, 0x4000); // DF, as path-MTU-discovering senders set it
  v.setUint32(8, 0x40110000);
  v.setUint32(12, 0xcb007109);
  v.setUint32(16, dst);
  v.setUint16(10, ~sum(p, 0, 20, 0) & 0xffff);
  v.setUint16(20, 53);
  v.setUint16(22, 5000);
  v.setUint16(24, 8 + payload);
  for (let i = 0; i < payload; i++) p[28 + i] = i & 0xff;
  const pseudo = sum(p, 12, 8, 8 + payload + 17);
  v.setUint16(26, ~sum(p, 20, 8 + payload, pseudo) & 0xffff || 0xffff);
  return p;
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
