/**
 * A packet Worker: wraps the TUN fd the main thread opened, attaches the shared lease table
 * and runs the packet loop with blocking reads (docs/DESIGN.md). It awaits messages only between
 * loop runs — at start and when the generation changes — so nothing crosses threads per packet.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { attachTun } from "../ffi/tun.ts";
import { LOOP_RELOAD, PacketLoop } from "../lib/daemon/loop.ts";
import type { FromWorker, ToWorker, WorkerInit } from "../lib/daemon/messages.ts";
import { SharedState } from "../lib/daemon/shared.ts";
import { warmUp } from "../lib/daemon/warmup.ts";
import { clatMapper } from "../lib/clat/settings.ts";
import type { Config } from "../lib/config/config.ts";
import { LeaseTable, type LeaseTableOptions } from "../lib/lease/table.ts";
import type { AddressMapper } from "../lib/xlat/context.ts";
import { XlatContext } from "../lib/xlat/context.ts";
import { engineSettings } from "../lib/xlat/settings.ts";

const inbox: ToWorker[] = [];
let wake: (() => void) | null = null;
self.onmessage = (e: MessageEvent<ToWorker>) => {
  inbox.push(e.data);
  wake?.();
};

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

async function nextMessage(): Promise<ToWorker> {
  while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  wake = null;
  return inbox.shift()!;
}

/** The shared lease table (the translator), or the stateless customer mapper (a CLAT). */
function mapperFor(
  config: Config,
  table: SharedArrayBuffer,
  options: LeaseTableOptions,
): AddressMapper {
  return config.clat !== null ? clatMapper(config) : LeaseTable.attach(table, options);
}

/** A CLAT's first customer address (the warm-up's other end), or undefined for a translator. */
function firstCustomer(config: Config): number | undefined {
  const p = config.clat?.customerPool[0];
  return p === undefined ? undefined : p.len < 32 ? p.addr + 1 : p.addr;
}

async function run(init: WorkerInit): Promise<string> {
  const shared = SharedState.attach(init.shared);
  const ctx = new XlatContext({
    settings: engineSettings(init.config),
    mapper: mapperFor(init.config, init.table, init.tableOptions),
    counters: shared.counterRow(init.index),
    idSeed: init.idSeed,
  });
  const device = attachTun(init.fd, init.name, init.mtuBytes, init.vnetHeader);
  const loop = new PacketLoop(device, ctx, shared);
  loop.generation = init.generation;
  // Compile the engine before the first real packet (lib/daemon/warmup.ts): ~50 ms here.
  warmUp(ctx, undefined, init.vnetHeader, firstCustomer(init.config));
  post({ kind: "ready", index: init.index });
  // The main thread owns the fd and closes it; this Worker never does (a second close could
  // hit an fd number reused in between).
  for (;;) {
    const code = loop.run(Infinity);
    if (code !== LOOP_RELOAD) return shared.stopping ? "stop" : "closed";
    // Wait for the configuration of the newest generation (posted before the bump).
    while (loop.generation !== shared.generation && !shared.stopping) {
      const msg = await nextMessage();
      if (msg.kind !== "reload" || msg.generation <= loop.generation) continue;
      ctx.settings = engineSettings(msg.config);
      ctx.mapper = mapperFor(msg.config, msg.table, msg.tableOptions);
      // A CLAT's first Via (discovered after start) or a new one: its round trips change.
      if (msg.config.clat !== null) {
        warmUp(ctx, undefined, init.vnetHeader, firstCustomer(msg.config));
      }
      loop.reloaded(msg.generation);
      post({ kind: "reloaded", index: init.index, generation: msg.generation });
    }
    if (shared.stopping) return "stop";
  }
}

const first = await nextMessage();
if (first.kind !== "init") {
  post({ kind: "ended", index: -1, reason: `expected init, got ${first.kind}` });
} else {
  let reason: string;
  try {
    reason = await run(first);
  } catch (e) {
    reason = e instanceof Error ? e.message : String(e);
  }
  post({ kind: "ended", index: first.index, reason });
}
self.close();
