import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/config.ts";
import { warmUp } from "../../lib/daemon/warmup.ts";
import { INPUT_OFFSET } from "../../lib/xlat/context.ts";
import { createEngine } from "../../lib/xlat/settings.ts";
import { translate } from "../../lib/xlat/translate.ts";
import { hex } from "../_util/packets.ts";
import { withData } from "../xlat/_build.ts";
import { clatConfig, clatEngine } from "../clat/_clat.ts";

const CONFIGS = {
  nsp96: `[Interface]\nPrefix = "2001:db8:64::/96"\nPool = ["192.0.2.16/28"]\n`,
  wkp: `[Interface]\nPrefix = "64:ff9b::/96"\nPool = ["198.51.100.0/24"]\n`,
  nsp48: `[Interface]\nPrefix = "2001:db8:100::/48"\nPool = ["192.0.2.0/24"]\n`,
};

/** An IPv6 UDP header from 2001:db8:a::2 to the peer 203.0.113.9 embedded in 2001:db8:64::/96. */
// deno-fmt-ignore
const UDP6_HEAD = hex(`
  60000000 00001140
  20010db8 000a0000 00000000 00000002
  20010db8 00640000 00000000 cb007109
  13880035 00000000
`);
/** The packet with 20 bytes of data, lengths and checksum filled in. */
const UDP6 = withData(UDP6_HEAD, { dataBytes: 20, byteAt: (k) => k });

for (const [name, text] of Object.entries(CONFIGS)) {
  Deno.test(`warmUp() translates round trips both ways and leaves the context as it was (${name})`, () => {
    const { ctx, table } = createEngine(parseConfig(text));
    ctx.setClock(5_000_000);
    const counters = ctx.counters.slice();
    const id = ctx.idState;
    const n = warmUp(ctx, 50);
    assert.equal(n, 50 * 3 * 2, "every synthetic packet and its reply translated");
    assert.equal(ctx.mapper, table, "the real lease table is back");
    assert.deepEqual(ctx.counters, counters, "counters untouched");
    assert.equal(ctx.idState, id, "IPv4 ID sequence untouched");
    assert.equal(table.size, 0, "no lease taken in the real table");
  });
}

Deno.test("warmUp() with offload runs each packet through offloadInput and restores the context", () => {
  const { ctx, table } = createEngine(parseConfig(CONFIGS.nsp96));
  ctx.setClock(5_000_000);
  const counters = ctx.counters.slice();
  assert.equal(warmUp(ctx, 50, true), 50 * 3 * 2);
  assert.deepEqual(ctx.counters, counters, "counters untouched");
  assert.equal(table.size, 0);
  assert.equal(ctx.partial, false, "no partial checksum left pending");
  assert.equal(ctx.gsoExtra, 0);
});

Deno.test("a warmed-up context translates a real packet exactly as a cold one", () => {
  const cfg = parseConfig(CONFIGS.nsp96);
  const cold = createEngine(cfg).ctx;
  const warm = createEngine(cfg).ctx;
  for (const c of [cold, warm]) c.setClock(5_000_000);
  warmUp(warm, 20);
  const out: Uint8Array[] = [];
  for (const c of [cold, warm]) {
    c.mem.set(UDP6, INPUT_OFFSET);
    assert.equal(translate(c, UDP6.length), 1);
    out.push(c.mem.slice(c.emitOffset[0]!, c.emitOffset[0]! + c.emitLength[0]!));
  }
  assert.deepEqual(out[1], out[0]);
});

Deno.test("warmUp() of a clat runs world ↔ customer round trips through its own mapper, or none without Via", () => {
  const ctx = clatEngine(clatConfig({ via: "2001:db8:64::/96" }));
  const mapper = ctx.mapper;
  const counters = ctx.counters.slice();
  assert.equal(warmUp(ctx, 50, false, 0xc0000001), 50 * 3 * 2);
  assert.equal(ctx.mapper, mapper, "the CLAT's mapper is still the one");
  assert.deepEqual(ctx.counters, counters, "counters untouched");
  assert.equal(warmUp(ctx, 50, false, 0x0a000001), 0, "10.0.0.1 is no customer");
  const cfg = clatConfig();
  const waiting = clatEngine({ ...cfg, clat: { ...cfg.clat!, via: null, viaAuto: true } });
  assert.equal(warmUp(waiting, 50, false, 0xc0000001), 0, "Via = auto, nothing found yet");
});
