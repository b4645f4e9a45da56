import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/config.ts";
import {
  LOOP_BUDGET,
  LOOP_CLOSED,
  LOOP_IDLE,
  LOOP_RELOAD,
  LOOP_STOP,
  PacketLoop,
} from "../../lib/daemon/loop.ts";
import { IoStat, SharedState } from "../../lib/daemon/shared.ts";
import { LeaseTable } from "../../lib/lease/table.ts";
import { XlatContext } from "../../lib/xlat/context.ts";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import { engineSettings, leaseTableOptions } from "../../lib/xlat/settings.ts";
import { toHex } from "../_util/packets.ts";
import { EAGAIN, EBADF } from "../../lib/daemon/errno.ts";
import { FakeTun } from "../_util/fake_tun.ts";
import {
  BASE_TOML,
  engineFor,
  fromHost6,
  run,
  T0_MS,
  u32,
  UDP6_FROM_HOST,
} from "../xlat/_build.ts";

/** A loop over a fake device, with the shared clock at T0_MS and counters in row 0. */
function setUp(toml = BASE_TOML) {
  const cfg = parseConfig(toml);
  const shared = SharedState.create(1);
  shared.setNowMs(T0_MS);
  const table = LeaseTable.create(leaseTableOptions(cfg));
  const ctx = new XlatContext({
    settings: engineSettings(cfg),
    mapper: table,
    counters: shared.counterRow(0),
  });
  const dev = new FakeTun();
  return { shared, table, ctx, dev, loop: new PacketLoop(dev, ctx, shared) };
}

Deno.test("PacketLoop.run() writes exactly what the engine emits for each packet read", () => {
  const { dev, loop, shared } = setUp();
  const pkts = [UDP6_FROM_HOST, fromHost6(UDP6_FROM_HOST, 2), new Uint8Array([0x45, 0])];
  dev.inject(...pkts);
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  const reference = engineFor();
  const expected = pkts.flatMap((p) => run(reference, p).out);
  assert.deepEqual(dev.written.map(toHex), expected.map(toHex));
  const totals = shared.sumCounters();
  assert.equal(totals[Stat.RECEIVED], 3);
  assert.equal(totals[Stat.TRANSLATED_6TO4], 2);
  assert.equal(totals[Drop.TRUNCATED], 1);
  assert.equal(totals[IoStat.WRITTEN], 2);
});

Deno.test("PacketLoop.run() stops after maxPackets reads and goes on where it stopped", () => {
  const { dev, loop } = setUp();
  dev.inject(UDP6_FROM_HOST, UDP6_FROM_HOST, UDP6_FROM_HOST);
  assert.equal(loop.run(2), LOOP_BUDGET);
  assert.equal(dev.written.length, 2);
  assert.equal(loop.run(5), LOOP_IDLE);
  assert.equal(dev.written.length, 3);
});

Deno.test("PacketLoop.run() takes the time from the shared clock for leases", () => {
  const { dev, loop, shared, table } = setUp();
  shared.setNowMs(T0_MS + 42_000);
  dev.inject(UDP6_FROM_HOST);
  loop.run(Infinity);
  const [lease] = table.snapshot(Math.floor(T0_MS / 1000) + 42);
  assert.equal(lease?.lastSeenSecs, Math.floor(T0_MS / 1000) + 42);
});

Deno.test("PacketLoop.run() keeps the packet read when a reload is published and translates it with the new table", () => {
  const { dev, loop, shared, ctx } = setUp();
  dev.inject(UDP6_FROM_HOST);
  shared.bumpGeneration();
  assert.equal(loop.run(Infinity), LOOP_RELOAD);
  assert.equal(dev.written.length, 0);
  // The new configuration maps 2001:db8::1 statically to 192.0.2.3.
  const cfg = parseConfig(
    BASE_TOML.replace("[Rules]", `[Rules]\nMapStatic = [{ v4 = "192.0.2.3", v6 = "2001:db8::1" }]`),
  );
  ctx.settings = engineSettings(cfg);
  ctx.mapper = LeaseTable.create(leaseTableOptions(cfg));
  loop.reloaded(shared.generation);
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  assert.equal(dev.written.length, 1);
  assert.equal(u32(dev.written[0]!, 12), 0xc0000203, "source is the static address");
  assert.equal(shared.sumCounters()[IoStat.RELOADS], 1);
});

Deno.test("PacketLoop.run() returns LOOP_STOP once a stop is requested", () => {
  const { dev, loop, shared } = setUp();
  dev.inject(UDP6_FROM_HOST);
  shared.requestStop();
  assert.equal(loop.run(Infinity), LOOP_STOP);
  assert.equal(dev.written.length, 0);
});

Deno.test("PacketLoop.run() returns LOOP_CLOSED on EBADF and counts other read errors", () => {
  const { dev, loop, shared } = setUp();
  dev.inject(-5 /* EIO */);
  assert.equal(loop.run(Infinity), LOOP_CLOSED);
  dev.inject(-22, /* EINVAL */ -4, /* EINTR */ UDP6_FROM_HOST, -EBADF);
  assert.equal(loop.run(Infinity), LOOP_CLOSED);
  assert.equal(shared.sumCounters()[IoStat.READ_ERRORS], 1);
  assert.equal(dev.written.length, 1);
  dev.close();
  assert.equal(loop.run(Infinity), LOOP_CLOSED);
});

Deno.test("PacketLoop.run() counts refused writes instead of throwing", () => {
  const { dev, loop, shared } = setUp();
  dev.writeError = -EAGAIN;
  dev.inject(UDP6_FROM_HOST, UDP6_FROM_HOST);
  assert.equal(loop.run(Infinity), LOOP_IDLE);
  const totals = shared.sumCounters();
  assert.equal(totals[IoStat.WRITE_ERRORS], 2);
  assert.equal(totals[IoStat.WRITTEN], 0);
});
