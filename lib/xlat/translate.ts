/**
 * The RFC 7915 translation engine: one packet in, zero or more packets out. This module is
 * the entry point and dispatches on the IP version to `from6()` (lib/xlat/six_to_four.ts) or
 * `from4()` (lib/xlat/four_to_six.ts).
 *
 * `translate(ctx, len)` reads the packet at `INPUT_OFFSET` of `ctx.mem`,
 * writes what must be sent (the translation, its fragments, or an ICMP error
 * the translator originates) and records each as an (offset, length) pair in
 * `ctx.emitOffset`/`ctx.emitLength`. Ordinary TCP/UDP traffic is translated
 * in place: the new header is written over the old one and the payload never
 * moves. Nothing here allocates, throws, reads a clock or touches I/O.
 *
 * @module
 */

import { INPUT_CAPACITY, INPUT_OFFSET, OUTPUT_OFFSET, type XlatContext } from "./context.ts";
import { Drop, Stat } from "./drop.ts";
import { drop } from "./emit.ts";
import { from4 } from "./four_to_six.ts";
import { from6 } from "./six_to_four.ts";

/**
 * Translates the packet of `len` bytes at `INPUT_OFFSET` in `ctx.mem`.
 *
 * @param ctx engine context; set its clock first with `ctx.setClock`
 * @param len length of the packet
 * @returns the number of packets emitted (see `ctx.emitOffset`), or a
 *   negative {@link Drop} reason when nothing was emitted. A drop that also
 *   sends an ICMP error returns 1; its reason is still counted.
 */
export function translate(ctx: XlatContext, len: number): number {
  ctx.emitted = 0;
  ctx.outUsed = OUTPUT_OFFSET;
  ctx.counters[Stat.RECEIVED]!++;
  if (len < 1 || len > INPUT_CAPACITY) return drop(ctx, Drop.TRUNCATED);
  const version = ctx.mem[INPUT_OFFSET]! >> 4;
  if (version === 4) return from4(ctx, INPUT_OFFSET, len, 0);
  if (version === 6) return from6(ctx, INPUT_OFFSET, len, 0, 0);
  return drop(ctx, Drop.BAD_VERSION);
}

/**
 * Copies `bytes` to the input area and translates them: a convenience for
 * tests and the offline mode (the daemon reads straight into the arena).
 *
 * @param ctx engine context
 * @param bytes the packet
 * @returns as {@link translate}
 */
export function translatePacket(ctx: XlatContext, bytes: Uint8Array): number {
  if (bytes.length > INPUT_CAPACITY) {
    ctx.emitted = 0;
    return drop(ctx, Drop.TOO_BIG_FOR_BUFFER);
  }
  ctx.mem.set(bytes, INPUT_OFFSET);
  return translate(ctx, bytes.length);
}

/**
 * The packets emitted by the last call, copied out (tests and offline mode).
 * @param ctx engine context
 * @returns one new array per emitted packet
 */
export function emittedPackets(ctx: XlatContext): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < ctx.emitted; i++) {
    const off = ctx.emitOffset[i]!;
    out.push(ctx.mem.slice(off, off + ctx.emitLength[i]!));
  }
  return out;
}
