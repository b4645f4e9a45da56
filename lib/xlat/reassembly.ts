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
  if (free < 0) return -1;
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
  if (ctx.reassemblyHeldBytes + dataLen > ctx.reassemblyMaxBytes) {
    // Over budget: this fragment is lost; the datagram may still complete
    // if it is sent again, or times out.
    return -Drop.REASSEMBLY_FULL;
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
  for (let blk = firstBlock; blk < lastBlock; blk++) {
    const bit = bbase + blk;
    blocks[bit >> 3] = blocks[bit >> 3]! | (1 << (bit & 7));
  }
  const end = offsetBytes + dataLen;
  const total = ctx.slotTotal[slot]!;
  if (!more) {
    if (total >= 0 && total !== end) {
      freeSlot(ctx, slot);
      return -Drop.REASSEMBLY_OVERLAP;
    }
    ctx.slotTotal[slot] = end;
  } else if (total >= 0 && end > total) {
    freeSlot(ctx, slot);
    return -Drop.REASSEMBLY_OVERLAP;
  }
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
  v.setUint16(base + 2, len);
  v.setUint16(base + 6, 0);
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
  ctx.slotKey[kb + 8] = v.getUint32(fragOff + 4);
  ctx.slotKey[kb + 9] = ctx.mem[fragOff]!;
  const slot = findSlot(ctx, 6, 10);
  if (slot < 0) return -Drop.REASSEMBLY_FULL;
  const w = v.getUint16(fragOff + 2);
  const offsetBytes = w & 0xfff8;
  const base = slotBase(slot);
  if (offsetBytes === 0) {
    ctx.mem.copyWithin(base, off, off + ipv6.HEADER_LEN);
    ctx.slotHeaderLen[slot] = ipv6.HEADER_LEN;
  }
  const r = store(ctx, slot, ipv6.HEADER_LEN, dataOff, dataLen, offsetBytes, (w & 1) !== 0);
  if (r < 0) return r;
  if (r === 0) return -Drop.REASSEMBLY_HELD;
  const payload = ctx.slotTotal[slot]!;
  freeSlot(ctx, slot);
  v.setUint16(base + 4, payload);
  v.setUint8(base + 6, ctx.slotKey[slot * 10 + 9]!);
  ctx.reassembledLen = ipv6.HEADER_LEN + payload;
  return base;
}
