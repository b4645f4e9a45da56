/**
 * Recording emitted packets, counting drops, allocating output space and
 * generating IPv4 Identification values. Shared by every part of the engine.
 *
 * @module
 */

import { MAX_EMIT, OUTPUT_CAPACITY, OUTPUT_OFFSET, type XlatContext } from "./context.ts";
import { Drop } from "./drop.ts";

/**
 * Records a packet to emit.
 * @param ctx engine context
 * @param off offset of the packet in `ctx.mem`
 * @param len its length
 * @returns 1 when recorded, 0 when the emit table is full (counted)
 */
export function emit(ctx: XlatContext, off: number, len: number): number {
  const n = ctx.emitted;
  if (n >= MAX_EMIT) {
    ctx.counters[Drop.TOO_BIG_FOR_BUFFER]!++;
    return 0;
  }
  ctx.emitOffset[n] = off;
  ctx.emitLength[n] = len;
  ctx.emitted = n + 1;
  return 1;
}

/**
 * Counts a drop and returns the value `translate` reports for it.
 * @param ctx engine context
 * @param reason a {@link Drop} value
 * @returns `-reason` when nothing was emitted, else the number emitted
 */
export function drop(ctx: XlatContext, reason: number): number {
  ctx.counters[reason]!++;
  return ctx.emitted > 0 ? ctx.emitted : -reason;
}

/**
 * Reserves `len` bytes in the output area.
 * @param ctx engine context
 * @param len bytes needed
 * @returns offset in `ctx.mem`, or -1 when the output area is full
 */
export function reserve(ctx: XlatContext, len: number): number {
  const off = ctx.outUsed;
  if (off + len > OUTPUT_OFFSET + OUTPUT_CAPACITY) return -1;
  ctx.outUsed = off + ((len + 7) & ~7);
  return off;
}

/**
 * Next IPv4 Identification for a packet that had no Fragment header
 * (RFC 7915 §5.1; unpredictable as RFC 7739 advises: xorshift32).
 * @param ctx engine context
 * @returns a 16-bit identification
 */
export function nextId(ctx: XlatContext): number {
  let x = ctx.idState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  // Kept as an int32: a uint32 of 2^31 or more would be stored as a new heap number.
  x |= 0;
  ctx.idState = x;
  return x & 0xffff;
}
