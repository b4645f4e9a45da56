/**
 * What a CLAT routes into its TUN device (RFC 6877 §6.3), for every `Via` and `Source6` length,
 * and the configuration a discovered PLAT prefix gives (`Via = "auto"`).
 *
 * - IPv4: `Clat.Routes4` (the default route by default) and `Address4`/32 — none while
 *   `Via = "auto"` has discovered nothing, so that applications get "Network is unreachable" at
 *   once instead of waiting on packets the CLAT could not translate.
 * - IPv6: where the customers' IPv6 addresses are. With a `Source6` prefix, that prefix. With
 *   `"embed"`, each `CustomerPool` prefix embedded in `Via` (RFC 6052 §2.2), whose length counts
 *   the u-octet (bits 64–71, always zero) when the embedded prefix reaches past bit 64: a /29
 *   in a /96 is a /125, in a /64 a /101, in a /32 a /61. And `Address6`/128 unless one of
 *   those holds it.
 *
 * @module
 */

import { type Ipv4Prefix, ipv4PrefixesOverlap } from "../addr/ipv4.ts";
import { ipv6InPrefix, type Ipv6Prefix } from "../addr/ipv6.ts";
import { embedIpv4 } from "../addr/rfc6052.ts";
import { type Config, withDiscoveredVia } from "../config/config.ts";
import { clatMapper } from "./settings.ts";

/** The u-octet's first bit (RFC 6052 §2.2: bits 64–71 are zero). */
const U_OCTET_BIT = 64;

/**
 * An IPv4 prefix embedded in an RFC 6052 prefix: the IPv6 prefix that holds exactly the
 * embedded addresses of its IPv4 addresses.
 * @param via the RFC 6052 prefix (32, 40, 48, 56, 64 or 96 bits)
 * @param p the IPv4 prefix
 * @returns the IPv6 prefix
 */
export function embeddedPrefix(via: Ipv6Prefix, p: Ipv4Prefix): Ipv6Prefix {
  const addr = new Uint8Array(16);
  embedIpv4(via.addr, via.len, p.addr | 0, addr, 0);
  const skipsU = via.len < U_OCTET_BIT + 8 && via.len + p.len > U_OCTET_BIT;
  return { addr, len: via.len + p.len + (skipsU ? 8 : 0) };
}

/**
 * The routes of a CLAT configuration.
 * @param cfg a validated CLAT configuration (`cfg.clat` not null)
 * @returns IPv4 and IPv6 prefixes routed into the TUN, without duplicates
 */
export function clatRoutes(cfg: Config): { routes4: Ipv4Prefix[]; routes6: Ipv6Prefix[] } {
  const clat = cfg.clat!;
  const routes4: Ipv4Prefix[] = [];
  if (clat.via !== null) {
    for (const p of [...clat.routes4, { addr: cfg.interface.address4, len: 32 }]) {
      if (!routes4.some((r) => r.len <= p.len && ipv4PrefixesOverlap(r, p))) routes4.push(p);
    }
  }
  const routes6: Ipv6Prefix[] = [];
  if (clat.source6 !== null) routes6.push(clat.source6);
  else if (clat.via !== null) {
    for (const p of clat.customerPool) routes6.push(embeddedPrefix(clat.via, p));
  }
  if (!routes6.some((r) => ipv6InPrefix(cfg.interface.address6, 0, r))) {
    routes6.push({ addr: cfg.interface.address6, len: 128 });
  }
  return { routes4, routes6 };
}

/**
 * The configuration once `Via = "auto"` has found a PLAT prefix, a new one, or lost it (null):
 * a found prefix is checked and placed by `withDiscoveredVia()` (lib/config/config.ts) as
 * `Clat.Via` and `Interface.Prefix`; a lost one leaves `Clat.Via` null (no IPv4 routes). The
 * reload that applies the result changes the routes and the engine like any other.
 * @param cfg the running CLAT configuration (`Via = "auto"`)
 * @param prefix the discovered prefix, or null when none is valid any more
 * @returns the new configuration (`cfg` itself when nothing changes), or why a discovered
 *   prefix cannot be used (an RA is untrusted input)
 */
export function withPref64(cfg: Config, prefix: Ipv6Prefix | null): Config | string {
  const clat = cfg.clat!;
  if (prefix === null) return clat.via === null ? cfg : { ...cfg, clat: { ...clat, via: null } };
  const same = clat.via !== null && clat.via.len === prefix.len &&
    clat.via.addr.every((b, i) => b === prefix.addr[i]);
  return same ? cfg : withDiscoveredVia(cfg, prefix);
}

/** The most addresses `NeighborProxy` answers for (one proxy entry each). */
export const MAX_PROXY_ADDRESSES = 4096;

/**
 * The IPv6 addresses a CLAT's `NeighborProxy` answers Neighbor Solicitations for on `Uplink`:
 * every customer's `Source6` address, and `Address6` when it is in `Source6` too.
 * @param cfg a validated CLAT configuration with a `Source6` prefix
 * @returns the addresses (16 bytes each), at most {@link MAX_PROXY_ADDRESSES}
 * @throws {RangeError} when `CustomerPool` holds more addresses than that (the configuration
 *   check refuses such a configuration first)
 */
export function proxyAddresses(cfg: Config): Uint8Array[] {
  const clat = cfg.clat!;
  const mapper = clatMapper(cfg);
  const total = clat.customerPool.reduce((n, p) => n + 2 ** (32 - p.len), 0);
  if (total > MAX_PROXY_ADDRESSES) {
    throw new RangeError(`${total} customer addresses; NeighborProxy takes ${MAX_PROXY_ADDRESSES}`);
  }
  const out: Uint8Array[] = [];
  for (const p of clat.customerPool) {
    for (let i = 0; i < 2 ** (32 - p.len); i++) {
      const a = new Uint8Array(16);
      if (mapper.staticV6For4((p.addr + i) | 0, a, 0) === 1) out.push(a);
    }
  }
  if (clat.source6 !== null && ipv6InPrefix(cfg.interface.address6, 0, clat.source6)) {
    const a6 = cfg.interface.address6;
    if (!out.some((a) => a.every((b, i) => b === a6[i]))) out.push(a6);
  }
  return out;
}
