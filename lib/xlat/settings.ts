/**
 * Resolves a validated {@link Config} into the numbers and bytes the engine
 * reads per packet, and builds a ready engine (context + lease table).
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { LeaseTable, type LeaseTableOptions } from "../lease/table.ts";
import { type ContextOptions, type EngineSettings, XlatContext } from "./context.ts";

const WKP = [0x00, 0x64, 0xff, 0x9b];

/**
 * Whether a prefix is the Well-Known Prefix 64:ff9b::/96 (RFC 6052 §2.1).
 * @param prefix 16 bytes
 * @param len prefix length
 * @returns true for 64:ff9b::/96
 */
export function isWellKnownPrefix(prefix: Uint8Array, len: number): boolean {
  if (len !== 96) return false;
  for (let i = 0; i < 12; i++) if (prefix[i] !== (i < 4 ? WKP[i] : 0)) return false;
  return true;
}

/**
 * Engine settings from a config (RFC 6052 §3.1: non-global IPv4 addresses
 * are refused with the Well-Known Prefix unless `AllowNonGlobalWithWKP`).
 *
 * @param cfg validated configuration
 * @returns settings for {@link XlatContext}
 */
export function engineSettings(cfg: Config): EngineSettings {
  const t = cfg.translation;
  const p = cfg.interface.prefix;
  const pool6 = new Uint8Array(t.pool6791v6.length * 16);
  t.pool6791v6.forEach((a, i) => pool6.set(a, i * 16));
  return {
    prefix: p.addr,
    prefixLen: p.len,
    refuseNonGlobal: isWellKnownPrefix(p.addr, p.len) && !t.allowNonGlobalWithWkp,
    address4: cfg.interface.address4 | 0,
    address6: cfg.interface.address6,
    mtu4: t.mtu4,
    mtu6: t.mtu6,
    lowestIpv6Mtu: t.lowestIpv6Mtu,
    amendUdpChecksumZero: t.amendUdpChecksumZero,
    sendDropErrors: t.sendDropErrors,
    pool6791v4: Int32Array.from(t.pool6791v4),
    pool6791v6: pool6,
    icmpErrorRatePerSec: t.icmpErrorRatePerSec,
    icmpErrorBurst: t.icmpErrorBurst,
    zeroizeTrafficClass: t.zeroizeTrafficClass,
    overrideTos: t.tos ?? -1,
    clat: cfg.clat !== null,
  };
}

/**
 * The lease table options of a configuration (also what `LeaseTable.attach` needs in a Worker).
 *
 * @param cfg validated configuration
 * @returns its pool, static maps, reservation time and abuse limits
 */
export function leaseTableOptions(cfg: Config): LeaseTableOptions {
  return {
    pool: cfg.interface.pool,
    staticMaps: cfg.rules.mapStatic,
    reservationSecs: cfg.rules.reservationDurationSecs,
    limits: {
      allowedSources: cfg.rules.allowedSources,
      maxLeasesPerPrefix: cfg.rules.maxLeasesPerPrefix ?? 0,
      leasePrefixLength: cfg.rules.leasePrefixLength,
      maxNewLeasesPerSecond: cfg.rules.maxNewLeasesPerSecond ?? 0,
    },
  };
}

/** An engine: its context and the lease table it maps addresses with. */
export interface Engine {
  /** The engine context (arena, counters, clock). */
  ctx: XlatContext;
  /** The lease table. */
  table: LeaseTable;
}

/**
 * Creates a lease table and an engine context for a config.
 *
 * @param cfg validated configuration
 * @param opts optional context sizing (reassembly slots, ID seed)
 * @returns the engine
 */
export function createEngine(
  cfg: Config,
  opts: Omit<ContextOptions, "settings" | "mapper"> = {},
): Engine {
  const table = LeaseTable.create(leaseTableOptions(cfg));
  const ctx = new XlatContext({ ...opts, settings: engineSettings(cfg), mapper: table });
  return { ctx, table };
}
