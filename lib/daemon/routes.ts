/**
 * What the daemon routes into its TUN device for a configuration, and what a reload changes.
 * Pure: `ffi/netlink.ts` applies the result.
 *
 * The translator's own addresses (`Address4`, `Address6`) are routed into the device as /32
 * and /128 rather than assigned to the kernel: a packet the translator originates from them
 * (Time Exceeded, Fragmentation Needed, an echo reply) would otherwise arrive from the TUN with
 * a local source address and the kernel would drop it as a martian. The translator is a node
 * behind the TUN, as in TAYGA.
 *
 * @module
 */

import { formatIpv4Prefix, type Ipv4Prefix, ipv4PrefixesOverlap } from "../addr/ipv4.ts";
import { formatIpv6Prefix, ipv6InPrefix, type Ipv6Prefix } from "../addr/ipv6.ts";
import type { Config } from "../config/config.ts";
import { restartOnlyKeys } from "../config/keys.ts";
import { clatRoutes } from "../clat/routes.ts";

/** The routes into the TUN device, in the order they are added. */
export interface TunRoutes {
  /** IPv4 destinations: every `Pool` prefix, every static map's IPv4 side, `Address4`/32. */
  routes4: Ipv4Prefix[];
  /** IPv6 destinations: `Prefix`, and `Address6`/128 when it is outside `Prefix`. */
  routes6: Ipv6Prefix[];
}

/**
 * The routes a configuration needs (a CLAT's: lib/clat/routes.ts).
 *
 * @param cfg validated configuration
 * @returns routes without duplicates; a static map inside a pool prefix adds no route
 */
export function routesFor(cfg: Config): TunRoutes {
  if (cfg.clat !== null) return clatRoutes(cfg);
  const routes4: Ipv4Prefix[] = [];
  const add4 = (p: Ipv4Prefix) => {
    if (!routes4.some((r) => r.len <= p.len && ipv4PrefixesOverlap(r, p))) routes4.push(p);
  };
  for (const p of cfg.interface.pool) add4(p);
  for (const m of cfg.rules.mapStatic) add4(m.v4);
  add4({ addr: cfg.interface.address4, len: 32 });
  const routes6: Ipv6Prefix[] = [cfg.interface.prefix];
  if (!ipv6InPrefix(cfg.interface.address6, 0, cfg.interface.prefix)) {
    routes6.push({ addr: cfg.interface.address6, len: 128 });
  }
  return { routes4, routes6 };
}

/** The difference between two route sets, by prefix text. */
export interface RouteChanges {
  /** IPv4 routes to add. */
  add4: Ipv4Prefix[];
  /** IPv4 routes to remove. */
  remove4: Ipv4Prefix[];
  /** IPv6 routes to add. */
  add6: Ipv6Prefix[];
  /** IPv6 routes to remove. */
  remove6: Ipv6Prefix[];
}

/**
 * What changes between the routes of two configurations (a SIGHUP reload).
 *
 * @param before routes in place
 * @param after routes wanted
 * @returns routes to add and to remove; unchanged routes are in neither list
 */
export function routeChanges(before: TunRoutes, after: TunRoutes): RouteChanges {
  const has4 = (list: Ipv4Prefix[], p: Ipv4Prefix) =>
    list.some((q) => formatIpv4Prefix(q) === formatIpv4Prefix(p));
  const has6 = (list: Ipv6Prefix[], p: Ipv6Prefix) =>
    list.some((q) => formatIpv6Prefix(q) === formatIpv6Prefix(p));
  return {
    add4: after.routes4.filter((p) => !has4(before.routes4, p)),
    remove4: before.routes4.filter((p) => !has4(after.routes4, p)),
    add6: after.routes6.filter((p) => !has6(before.routes6, p)),
    remove6: before.routes6.filter((p) => !has6(after.routes6, p)),
  };
}

/**
 * Settings a reload cannot change on a running device (they need a restart): the keys marked
 * `restartOnly` in the key table (lib/config/keys.ts), in its order, those of the program
 * (translator or CLAT) the new configuration is for.
 *
 * @param before the running configuration
 * @param after the new configuration
 * @returns the key paths that changed, e.g. `["Interface.Name"]`
 */
export function restartOnlyChanges(before: Config, after: Config): string[] {
  const out: string[] = [];
  for (const k of restartOnlyKeys(after.clat === null ? "translator" : "clat")) {
    const a = (before[k.section] as Record<string, unknown>)[k.field];
    const b = (after[k.section] as Record<string, unknown>)[k.field];
    if (k.same === undefined ? a !== b : !k.same(a, b)) out.push(k.path);
  }
  return out;
}
