/**
 * Bounded reassembly of fragmented ICMP/ICMPv6 datagrams.
 *
 * RFC 7915 §1.2 leaves fragmented ICMP untranslated because its checksum
 * cannot be fixed fragment by fragment (ICMPv6 covers a pseudo-header,
 * ICMPv4 does not). protomask reassembles such datagrams so that large pings
 * work, within fixed limits, each counted when hit: `ctx.reassemblySlots`
 * datagrams at once, each at most 65,535 bytes (the slots are preallocated in
 * the arena), `reassemblyMaxBytes` of fragments held over all slots, and
 * `reassemblyTimeoutMs` per datagram. Overlapping fragments discard the
 * datagram (RFC 5722). A datagram that never completes produces nothing.
 *
 * The limits are shared fairly, so that one host sending fragment sets that
 * never complete cannot stop everyone else's large pings until they time out.
 * A source (its whole IPv4 or IPv6 address) may hold at most half the slots
 * and half the bytes: a new datagram, or a fragment, that would take it over
 * its share discards that source's own oldest incomplete datagram instead.
 * When the slots or bytes are used up by several sources, the oldest datagram
 * of the source holding the most slots (or bytes) is discarded, never the
 * datagram the fragment belongs to. Every such discard is counted as
 * `REASSEMBLY_EVICTED`. A flood from many addresses (spoofed IPv4 sources,
 * an IPv6 host rotating addresses) is therefore no worse than oldest-first
 * eviction: a datagram still completes when its fragments arrive before that
 * many newer datagrams are started. `REASSEMBLY_FULL` remains only for a
 * datagram larger than a source's share of the bytes (it cannot happen with
 * the default 256 KiB budget, whose half exceeds any datagram).
 *
 * @module
 */

import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { REASSEMBLY_OFFSET, REASSEMBLY_SLOT_BYTES, type XlatContext } from "./context.ts";
import { Drop } from "./drop.ts";

/** Headroom before the rebuilt header, so the translation can grow in place. */
const SLOT_HEADROOM = 128;
/** Largest payload of a reassembled datagram. */
const MAX_PAYLOAD = 65535 - ipv6.HEADER_LEN;

/** Frees a slot and returns its bytes to the budget. */
function freeSlot(ctx: XlatContext, slot: number): void {
  ctx.slotFamily[slot] = 0;
  ctx.reassemblyHeldBytes -= ctx.slotReceived[slot]!;
  ctx.slotReceived[slot] = 0;
}

/** Frees a slot holding an incomplete datagram to make room for another (counted). */
function evict(ctx: XlatContext, slot: number): void {
  freeSlot(ctx, slot);
  ctx.counters[Drop.REASSEMBLY_EVICTED]!++;
}

/** A source's share of the slots: half, at least one. */
function slotShare(ctx: XlatContext): number {
  return ctx.reassemblySlots > 1 ? ctx.reassemblySlots >> 1 : 1;
}

/**
 * Whether key row `row` (a slot, or the staging row after the last slot) has
 * the same source address as slot `slot`, whose family is `family`.
 */
function sameSource(ctx: XlatContext, family: number, row: number, slot: number): boolean {
  if (ctx.slotFamily[slot] !== family) return false;
  const k = ctx.slotKey;
  const words = family === 4 ? 1 : 4;
  for (let j = 0; j < words; j++) if (k[row * 10 + j] !== k[slot * 10 + j]) return false;
  return true;
}

/** How many slots the source of key row `row` holds. */
function slotsOf(ctx: XlatContext, family: number, row: number): number {
  let n = 0;
  for (let i = 0; i < ctx.reassemblySlots; i++) if (sameSource(ctx, family, row, i)) n++;
  return n;
}

/** How many fragment bytes the source of key row `row` holds. */
function bytesOf(ctx: XlatContext, family: number, row: number): number {
  let n = 0;
  for (let i = 0; i < ctx.reassemblySlots; i++) {
    if (sameSource(ctx, family, row, i)) n += ctx.slotReceived[i]!;
  }
  return n;
}

/** The oldest slot of the source of key row `row`, other than `keep`; -1 when none. */
function oldestOf(ctx: XlatContext, family: number, row: number, keep: number): number {
  let best = -1;
  for (let i = 0; i < ctx.reassemblySlots; i++) {
    if (i === keep || !sameSource(ctx, family, row, i)) continue;
    if (best < 0 || ctx.slotStartMs[i]! < ctx.slotStartMs[best]!) best = i;
  }
  return best;
}

/**
 * The slot to evict when everything is in use: the oldest datagram, other
 * than `keep`, of the source holding the most slots (`byBytes` false) or
 * bytes (true); ties go to the oldest datagram. -1 when only `keep` is held.
 */
function heaviestOldest(ctx: XlatContext, keep: number, byBytes: boolean): number {
  let best = -1;
  let bestWeight = -1;
  for (let i = 0; i < ctx.reassemblySlots; i++) {
    const family = ctx.slotFamily[i]!;
    if (i === keep || family === 0) continue;
    const w = byBytes ? bytesOf(ctx, family, i) : slotsOf(ctx, family, i);
    if (w > bestWeight || (w === bestWeight && ctx.slotStartMs[i]! < ctx.slotStartMs[best]!)) {
      best = i;
      bestWeight = w;
    }
  }
  return best;
}

function slotBase(slot: number): number {
  return REASSEMBLY_OFFSET + slot * REASSEMBLY_SLOT_BYTES + SLOT_HEADROOM;
}

/**
 * Frees every slot older than the timeout.
 * @param ctx engine context
 * @returns how many partial datagrams were discarded (counted as REASSEMBLY_TIMEOUT)
 */
export function expireReassembly(ctx: XlatContext): number {
  let n = 0;
  for (let i = 0; i < ctx.reassemblySlots; i++) {
    if (ctx.slotFamily[i] !== 0 && ctx.nowMs - ctx.slotStartMs[i]! > ctx.reassemblyTimeoutMs) {
      freeSlot(ctx, i);
      ctx.counters[Drop.REASSEMBLY_TIMEOUT]!++;
      n++;
    }
  }
  return n;
}

function findSlot(ctx: XlatContext, family: number, keyLen: number): number {
  const k = ctx.slotKey;
  let free = -1;
  for (let i = 0; i < ctx.reassemblySlots; i++) {
    if (ctx.slotFamily[i] === family) {
      let same = true;
      const base = i * 10;
      for (let j = 0; j < keyLen; j++) {
        if (k[base + j] !== k[ctx.reassemblySlots * 10 + j]) {
          same = false;
          break;
        }
      }
      if (same) return i;
    } else if (ctx.slotFamily[i] === 0 && free < 0) {
      free = i;
    }
  }
  // A new datagram. Its source may hold half the slots: at its share it
  // gives up its own oldest; otherwise it takes a free slot, or the oldest
  // of the source holding the most.
  const stage = ctx.reassemblySlots;
  if (slotsOf(ctx, family, stage) >= slotShare(ctx)) free = oldestOf(ctx, family, stage, -1);
  if (free < 0) free = heaviestOldest(ctx, -1, false);
  if (free < 0) return -1;
  if (ctx.slotFamily[free] !== 0) evict(ctx, free);
  ctx.slotFamily[free] = family;
  ctx.slotStartMs[free] = ctx.nowMs;
  ctx.slotReceived[free] = 0;
  ctx.slotTotal[free] = -1;
  ctx.slotHeaderLen[free] = 0;
  ctx.slotBlocks.fill(0, free * 1024, free * 1024 + 1024);
  for (let j = 0; j < keyLen; j++) ctx.slotKey[free * 10 + j] = k[ctx.reassemblySlots * 10 + j]!;
  return free;
}

/**
 * A fragment that cannot be held even with every other datagram of its source
 * gone: it is lost (the datagram may still complete if it is sent again, or
 * times out), and a datagram that holds nothing yet gives its slot back.
 */
function overBudget(ctx: XlatContext, slot: number): number {
  if (ctx.slotReceived[slot] === 0) freeSlot(ctx, slot);
  return -Drop.REASSEMBLY_FULL;
}

/**
 * Stores one fragment's payload; returns 1 when the datagram is complete,
 * 0 when more is needed, or -reason (slot freed).
 */
function store(
  ctx: XlatContext,
  slot: number,
  hdrLen: number,
  dataOff: number,
  dataLen: number,
  offsetBytes: number,
  more: boolean,
): number {
  if (offsetBytes + dataLen > MAX_PAYLOAD || (more && (dataLen & 7) !== 0)) {
    freeSlot(ctx, slot);
    return -Drop.BAD_FRAGMENT;
  }
  const blocks = ctx.slotBlocks;
  const bbase = slot * 1024 * 8;
  const firstBlock = offsetBytes >> 3;
  const lastBlock = (offsetBytes + dataLen + 7) >> 3;
  for (let blk = firstBlock; blk < lastBlock; blk++) {
    const bit = bbase + blk;
    if ((blocks[bit >> 3]! & (1 << (bit & 7))) !== 0) {
      freeSlot(ctx, slot);
      return -Drop.REASSEMBLY_OVERLAP;
    }
  }
  const end = offsetBytes + dataLen;
  const total = ctx.slotTotal[slot]!;
  if ((!more && total >= 0 && total !== end) || (more && total >= 0 && end > total)) {
    freeSlot(ctx, slot);
    return -Drop.REASSEMBLY_OVERLAP;
  }
  // Bytes: the source's half first (its own older datagrams make room),
  // then the whole budget (the source holding the most makes room).
  const family = ctx.slotFamily[slot]!;
  while (bytesOf(ctx, family, slot) + dataLen > ctx.reassemblyMaxBytes / 2) {
    const victim = oldestOf(ctx, family, slot, slot);
    if (victim < 0) return overBudget(ctx, slot);
    evict(ctx, victim);
  }
  while (ctx.reassemblyHeldBytes + dataLen > ctx.reassemblyMaxBytes) {
    const victim = heaviestOldest(ctx, slot, true);
    if (victim < 0) return overBudget(ctx, slot);
    evict(ctx, victim);
  }
  for (let blk = firstBlock; blk < lastBlock; blk++) {
    const bit = bbase + blk;
    blocks[bit >> 3] = blocks[bit >> 3]! | (1 << (bit & 7));
  }
  if (!more) ctx.slotTotal[slot] = end;
  const base = slotBase(slot);
  ctx.mem.copyWithin(base + hdrLen + offsetBytes, dataOff, dataOff + dataLen);
  ctx.slotReceived[slot] = ctx.slotReceived[slot]! + dataLen;
  ctx.reassemblyHeldBytes += dataLen;
  const t = ctx.slotTotal[slot]!;
  return t >= 0 && ctx.slotReceived[slot] === t && ctx.slotHeaderLen[slot] !== 0 ? 1 : 0;
}

/**
 * Adds an IPv4 fragment. When the datagram completes, it is rebuilt as an
 * unfragmented packet (IHL 5, DF/MF clear) inside its slot.
 *
 * @param ctx engine context
 * @param off IPv4 header of the fragment
 * @param ihl its header length
 * @param total its total length
 * @returns offset of the complete datagram (its length is in `ctx.reassembledLen`),
 *   or -REASSEMBLY_HELD while incomplete, or another -reason
 */
export function reassemble4(ctx: XlatContext, off: number, ihl: number, total: number): number {
  const v = ctx.view;
  expireReassembly(ctx);
  const kb = ctx.reassemblySlots * 10;
  // The lookup key is staged in the spare key row after the last slot.
  ctx.slotKey[kb] = ipv4.source(v, off);
  ctx.slotKey[kb + 1] = ipv4.destination(v, off);
  ctx.slotKey[kb + 2] = ipv4.identification(v, off);
  ctx.slotKey[kb + 3] = ipv4.protocol(v, off);
  const slot = findSlot(ctx, 4, 4);
  if (slot < 0) return -Drop.REASSEMBLY_FULL;
  const fo = ipv4.flagsOffset(v, off);
  const offsetBytes = (fo & ipv4.OFFSET_MASK) << 3;
  const base = slotBase(slot);
  if (offsetBytes === 0) {
    ctx.mem.copyWithin(base, off, off + ipv4.HEADER_LEN);
    ctx.slotHeaderLen[slot] = ipv4.HEADER_LEN;
  }
  const r = store(
    ctx,
    slot,
    ipv4.HEADER_LEN,
    off + ihl,
    total - ihl,
    offsetBytes,
    (fo & ipv4.FLAG_MF) !== 0,
  );
  if (r < 0) return r;
  if (r === 0) return -Drop.REASSEMBLY_HELD;
  const len = ipv4.HEADER_LEN + ctx.slotTotal[slot]!;
  freeSlot(ctx, slot);
  v.setUint8(base, 0x45);
  v.setUint16(base + ipv4.TOTAL_LENGTH_OFF, len);
  v.setUint16(base + ipv4.FLAGS_OFFSET_OFF, 0);
  ipv4.fixHeaderChecksum(ctx.mem, v, base);
  ctx.reassembledLen = len;
  return base;
}

/**
 * Adds an IPv6 fragment. When the datagram completes, it is rebuilt as an
 * IPv6 packet without extension headers inside its slot.
 *
 * @param ctx engine context
 * @param off IPv6 header of the fragment
 * @param fragOff offset of its Fragment header
 * @param dataOff offset of the fragment's payload
 * @param dataLen payload length
 * @returns offset of the complete datagram (its length is in `ctx.reassembledLen`),
 *   or -REASSEMBLY_HELD while incomplete, or another -reason
 */
export function reassemble6(
  ctx: XlatContext,
  off: number,
  fragOff: number,
  dataOff: number,
  dataLen: number,
): number {
  const v = ctx.view;
  expireReassembly(ctx);
  const kb = ctx.reassemblySlots * 10;
  for (let j = 0; j < 8; j++) ctx.slotKey[kb + j] = v.getUint32(off + ipv6.SOURCE_OFF + j * 4);
  ctx.slotKey[kb + 8] = ipv6.fragmentId(v, fragOff);
  ctx.slotKey[kb + 9] = ctx.mem[fragOff + ipv6.FRAG_NEXT_HEADER_OFF]!;
  const slot = findSlot(ctx, 6, 10);
  if (slot < 0) return -Drop.REASSEMBLY_FULL;
  const offsetBytes = ipv6.fragmentOffsetBytes(v, fragOff);
  const base = slotBase(slot);
  if (offsetBytes === 0) {
    ctx.mem.copyWithin(base, off, off + ipv6.HEADER_LEN);
    ctx.slotHeaderLen[slot] = ipv6.HEADER_LEN;
  }
  const r = store(
    ctx,
    slot,
    ipv6.HEADER_LEN,
    dataOff,
    dataLen,
    offsetBytes,
    ipv6.fragmentMore(v, fragOff) !== 0,
  );
  if (r < 0) return r;
  if (r === 0) return -Drop.REASSEMBLY_HELD;
  const payload = ctx.slotTotal[slot]!;
  freeSlot(ctx, slot);
  v.setUint16(base + ipv6.PAYLOAD_LENGTH_OFF, payload);
  v.setUint8(base + ipv6.NEXT_HEADER_OFF, ctx.slotKey[slot * 10 + 9]!);
  ctx.reassembledLen = ipv6.HEADER_LEN + payload;
  return base;
}
