/**
 * The packet loop of one Worker: device read → engine → device write, with preallocated
 * buffers only. The device reads straight into the engine's arena at `INPUT_OFFSET` and every
 * packet the engine emits is written from the arena, so a packet is never copied by the loop,
 * nothing is allocated per packet and nothing throws (docs/STYLE.md, "The hot path").
 *
 * With TUN offload (a device with `vnetHeader`) every packet comes and goes with a
 * `virtio_net_hdr`: the loop reads it to `VNET_IN_OFFSET`, lets lib/xlat/offload.ts decide
 * whether the packet translates whole (a GSO super-packet or a partial checksum, written back
 * with the header at `VNET_OUT_OFFSET`) or is cut into segments translated one by one, and
 * writes everything else with the all-zero header at `VNET_NONE_OFFSET`.
 *
 * The loop is synchronous: with a blocking device `run` only returns for a reload, a stop or a
 * closed device, so a Worker calls it and awaits messages only in between.
 *
 * @module
 */

import type { XlatContext } from "../xlat/context.ts";
import {
  INPUT_CAPACITY,
  INPUT_OFFSET,
  VNET_IN_OFFSET,
  VNET_NONE_OFFSET,
  VNET_OUT_OFFSET,
} from "../xlat/context.ts";
import { gsoSegment } from "../xlat/gso.ts";
import { finishWhole, OFFLOAD_SEGMENT, OFFLOAD_WHOLE, offloadInput } from "../xlat/offload.ts";
import { expireReassembly } from "../xlat/reassembly.ts";
import { translate } from "../xlat/translate.ts";
import { classifyReceived, countOutcome, translatedSoFar } from "./breakdown.ts";
import { EAGAIN, EBADF, EFAULT, EINTR, EIO, ENODEV } from "./errno.ts";
import { IoStat, type SharedState } from "./shared.ts";
import type { TunDevice } from "./tun_device.ts";

/** `run` returned because the packet budget was used up (only with a finite budget). */
export const LOOP_BUDGET = 0;
/** `run` returned because the generation changed: apply the new config, then call `run` again. */
export const LOOP_RELOAD = 1;
/** `run` returned because the daemon is stopping. */
export const LOOP_STOP = 2;
/** `run` returned because the device is closed (`EBADF`) or gone. */
export const LOOP_CLOSED = 3;
/** `run` returned because a non-blocking device had nothing to read (`EAGAIN`). */
export const LOOP_IDLE = 4;

/**
 * One Worker's loop state. Create it once; `run` it until it returns {@link LOOP_STOP} or
 * {@link LOOP_CLOSED}.
 */
export class PacketLoop {
  /** The device. */
  readonly device: TunDevice;
  /** The engine context (its counters should be this Worker's shared row). */
  readonly ctx: XlatContext;
  /** The shared control block and clock. */
  readonly shared: SharedState;
  /** The configuration generation this loop runs with. */
  generation: number;
  /** Length of a packet read but not yet translated (kept across a reload), or 0. */
  #pendingLen = 0;
  /** Whether the device carries a `virtio_net_hdr` with every packet (TUN offload). */
  readonly offload: boolean;

  /**
   * Creates the loop; it starts at the shared state's current generation and clock.
   * @param device the packet device
   * @param ctx engine context
   * @param shared control block and clock
   */
  constructor(device: TunDevice, ctx: XlatContext, shared: SharedState) {
    this.device = device;
    this.ctx = ctx;
    this.shared = shared;
    this.generation = shared.generation;
    this.offload = device.vnetHeader === true;
    ctx.mem.fill(0, VNET_NONE_OFFSET, VNET_NONE_OFFSET + 10);
    ctx.setClock(shared.nowMs);
  }

  /**
   * Moves packets until a reload, a stop, a closed device, an empty non-blocking device or
   * `maxPackets` packets. A packet read just before a reload is kept and translated with the
   * new configuration on the next call.
   *
   * @param maxPackets most packets to read in this call (`Infinity` for no limit)
   * @returns one of the `LOOP_*` codes
   */
  run(maxPackets: number): number {
    return this.offload ? this.#runOffload(maxPackets) : this.#runPlain(maxPackets);
  }

  /** {@link run} for a device without `virtio_net_hdr`s. */
  #runPlain(maxPackets: number): number {
    const dev = this.device;
    const ctx = this.ctx;
    const mem = ctx.mem;
    const counters = ctx.counters;
    const shared = this.shared;
    let budget = maxPackets;
    for (;;) {
      let n = this.#pendingLen;
      this.#pendingLen = 0;
      if (n === 0) {
        if (budget <= 0) return LOOP_BUDGET;
        budget--;
        n = dev.read(mem, INPUT_OFFSET, INPUT_CAPACITY);
        if (n <= 0) {
          const code = this.#readFailed(n);
          if (code < 0) continue;
          return code;
        }
      }
      if (shared.generation !== this.generation) {
        this.#pendingLen = n;
        return shared.stopping ? LOOP_STOP : LOOP_RELOAD;
      }
      if (shared.nowMs !== ctx.nowMs) this.#tick();
      // Per-protocol and ICMP type counts (lib/daemon/breakdown.ts): read before the engine
      // rewrites the headers in place.
      const cls = classifyReceived(mem, INPUT_OFFSET, n, counters);
      const before = translatedSoFar(counters);
      const emitted = translate(ctx, n);
      countOutcome(counters, cls, before);
      for (let i = 0; i < emitted; i++) {
        const w = dev.write(mem, ctx.emitOffset[i]!, ctx.emitLength[i]!);
        if (w < 0) counters[IoStat.WRITE_ERRORS]!++;
        else counters[IoStat.WRITTEN]!++;
      }
    }
  }

  /** {@link run} for a device with `virtio_net_hdr`s (TUN offload). */
  #runOffload(maxPackets: number): number {
    const dev = this.device;
    const ctx = this.ctx;
    const mem = ctx.mem;
    const counters = ctx.counters;
    const shared = this.shared;
    let budget = maxPackets;
    for (;;) {
      let n = this.#pendingLen;
      this.#pendingLen = 0;
      if (n === 0) {
        if (budget <= 0) return LOOP_BUDGET;
        budget--;
        n = dev.readWithHeader!(mem, VNET_IN_OFFSET, INPUT_OFFSET, INPUT_CAPACITY);
        if (n <= 0) {
          const code = this.#readFailed(n);
          if (code < 0) continue;
          return code;
        }
      }
      if (shared.generation !== this.generation) {
        this.#pendingLen = n;
        return shared.stopping ? LOOP_STOP : LOOP_RELOAD;
      }
      if (shared.nowMs !== ctx.nowMs) this.#tick();
      // As in #runPlain; a GSO super-packet counts once, whether translated whole or cut.
      const cls = classifyReceived(mem, INPUT_OFFSET, n, counters);
      const before = translatedSoFar(counters);
      const mode = offloadInput(ctx, n);
      if (mode < 0) {
        countOutcome(counters, cls, before);
        continue;
      }
      if (mode === OFFLOAD_SEGMENT) {
        const segments = ctx.gsoSegments;
        for (let s = 0; s < segments; s++) {
          const emitted = translate(ctx, gsoSegment(ctx, s));
          this.#writeAll(emitted, -1);
        }
        countOutcome(counters, cls, before);
        continue;
      }
      const emitted = translate(ctx, n);
      countOutcome(counters, cls, before);
      this.#writeAll(emitted, mode === OFFLOAD_WHOLE ? finishWhole(ctx) : -1);
    }
  }

  /**
   * What a read that returned `n <= 0` means: -1 to read again (`EINTR`, nothing, or an error
   * that is counted), else the `LOOP_*` code to return.
   */
  #readFailed(n: number): number {
    if (n === -EINTR || n === 0) return -1;
    if (n === -EAGAIN) return LOOP_IDLE;
    if (n === -EBADF || n === -ENODEV || n === -EIO || n === -EFAULT) return LOOP_CLOSED;
    this.ctx.counters[IoStat.READ_ERRORS]!++;
    return -1;
  }

  /** Moves the engine's clock to the shared one; a new second expires reassembly. */
  #tick(): void {
    const ctx = this.ctx;
    const secs = ctx.nowSecs;
    ctx.setClock(this.shared.nowMs);
    if (ctx.nowSecs !== secs) expireReassembly(ctx);
  }

  /** Writes the `emitted` packets of the last translation; packet `withHeader` gets VNET_OUT. */
  #writeAll(emitted: number, withHeader: number): void {
    const dev = this.device;
    const ctx = this.ctx;
    const mem = ctx.mem;
    const counters = ctx.counters;
    for (let i = 0; i < emitted; i++) {
      const hdr = i === withHeader ? VNET_OUT_OFFSET : VNET_NONE_OFFSET;
      const w = dev.writeWithHeader!(mem, hdr, ctx.emitOffset[i]!, ctx.emitLength[i]!);
      if (w < 0) counters[IoStat.WRITE_ERRORS]!++;
      else counters[IoStat.WRITTEN]!++;
    }
  }

  /**
   * Records that the Worker now runs with the current generation's configuration.
   * @param generation the generation the new configuration belongs to
   */
  reloaded(generation: number): void {
    this.generation = generation;
    this.ctx.counters[IoStat.RELOADS]!++;
  }
}
