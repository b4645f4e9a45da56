/**
 * The offline `translate` mode: every packet of a capture goes through the
 * engine in order, as if read from the TUN, and every packet the translator
 * emits is written to a RAW pcap, in order. Packet timestamps drive the
 * clock, so lease expiry and rate limits behave as they would have live.
 * A CLAT configuration (`clat translate`) runs the engine over the CLAT's
 * stateless mapper, as the daemon's packet Workers do.
 *
 * @module
 */

import { clatMapper } from "../clat/settings.ts";
import type { Config } from "../config/config.ts";
import { readCapture } from "../pcap/reader.ts";
import { PcapWriter } from "../pcap/writer.ts";
import { COUNTER_COUNT, counterName, DROP_REASON_COUNT } from "../xlat/drop.ts";
import { XlatContext } from "../xlat/context.ts";
import { createEngine, engineSettings } from "../xlat/settings.ts";
import { translatePacket } from "../xlat/translate.ts";

/** What an offline run produced. */
export interface OfflineResult {
  /** The output capture (pcap, LINKTYPE_RAW); header only when nothing was emitted. */
  pcap: Uint8Array;
  /** Packets read. */
  packetsIn: number;
  /** Packets written. */
  packetsOut: number;
  /** Input records that were not IPv4 or IPv6 (ARP, other link protocols). */
  skipped: number;
  /** Non-zero drop counters by reason name. */
  drops: Record<string, number>;
  /** Non-zero other counters by name. */
  stats: Record<string, number>;
}

/**
 * Translates a capture offline.
 *
 * @param cfg validated configuration: the translator's, or a CLAT's with `Clat.Via` a prefix
 * @param capture bytes of a pcap or pcapng file (RAW, IPv4, IPv6, Ethernet or SLL link types)
 * @returns the output capture and the counters
 * @throws PcapError when the capture cannot be read
 */
export function translateCapture(cfg: Config, capture: Uint8Array): OfflineResult {
  const input = readCapture(capture);
  const ctx = cfg.clat === null
    ? createEngine(cfg).ctx
    : new XlatContext({ settings: engineSettings(cfg), mapper: clatMapper(cfg) });
  const writer = new PcapWriter();
  for (const pkt of input.packets) {
    ctx.setClock(pkt.tsSecs * 1000 + Math.floor(pkt.tsMicros / 1000));
    const n = translatePacket(ctx, pkt.data);
    for (let i = 0; i < n; i++) {
      const off = ctx.emitOffset[i]!;
      writer.add(ctx.mem.subarray(off, off + ctx.emitLength[i]!), pkt.tsSecs, pkt.tsMicros);
    }
  }
  const drops: Record<string, number> = {};
  const stats: Record<string, number> = {};
  for (let i = 1; i < COUNTER_COUNT; i++) {
    const c = ctx.counters[i]!;
    if (c === 0) continue;
    if (i < DROP_REASON_COUNT) drops[counterName(i)] = c;
    else stats[counterName(i)] = c;
  }
  return {
    pcap: writer.bytes(),
    packetsIn: input.packets.length,
    packetsOut: writer.count,
    skipped: input.skipped,
    drops,
    stats,
  };
}
