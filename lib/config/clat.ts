/**
 * What a CLAT configuration (`protomask clat`, RFC 6877) adds to the translator's: its
 * `[Clat]` settings ({@link ClatSection}), the checks across its keys, and the configuration
 * for a discovered PLAT prefix ({@link withDiscoveredVia}). Re-exported by ./config.ts; the
 * `[Clat]` keys themselves are in ./clat_keys.ts.
 *
 * @module
 */

import { formatIpv4, ipv4InPrefix, type Ipv4Prefix, ipv4PrefixSize } from "../addr/ipv4.ts";
import { formatIpv6Prefix, type Ipv6Prefix, ipv6PrefixesOverlap } from "../addr/ipv6.ts";
import { isRfc6052Length, RFC6052_LENGTHS, U_OCTET_INDEX } from "../addr/rfc6052.ts";
import { source6Capacity } from "../clat/mapper.ts";
import type { Checker } from "./checker.ts";
import type { Config } from "./config.ts";
import { deepFreeze } from "./freeze.ts";
import type { ResolverAddress } from "./listen.ts";

/**
 * The `[Clat]` settings that have no counterpart in the translator's sections. The others
 * fill `Config.interface`: `Clat.Name`, `MTU`, `Queues`, `Offload`, `Address4`, `Address6`
 * its fields of the same names, `Clat.Via` its `prefix` (see `via`); its `pool` is empty, and
 * `rules` and `logging` hold their defaults.
 */
export interface ClatSection {
  /** The customers' IPv4 prefixes (`Clat.CustomerPool`), at least one, none overlapping. */
  customerPool: Ipv4Prefix[];
  /**
   * The PLAT prefix in use (`Clat.Via`, also `interface.prefix`); null while `Via = "auto"` has
   * discovered nothing (then the daemon routes no IPv4 into the CLAT, and `interface.prefix`
   * holds the Well-Known Prefix only as a placeholder). {@link withDiscoveredVia} gives the
   * configuration for a discovered prefix; no address of the configuration depends on it.
   */
  via: Ipv6Prefix | null;
  /** `Via = "auto"`: the prefix is discovered (RFC 8781 Router Advertisements, then RFC 7050). */
  viaAuto: boolean;
  /**
   * The customers' IPv6 prefix (`Clat.Source6`, host bits zero, not overlapping `via`), or
   * null for `"embed"` (into `via`). How addresses are formed: lib/clat/mapper.ts.
   */
  source6: Ipv6Prefix | null;
  /** IPv4 destinations routed into the CLAT (`Clat.Routes4`), none repeated. */
  routes4: Ipv4Prefix[];
  /**
   * The IPv4 address assigned to the TUN device so local applications have a source
   * (`Clat.HostAddress`, uint32, inside `customerPool`), or null for none (`""`, a CPE).
   */
  hostAddress: number | null;
  /**
   * The uplink interface (`Clat.Uplink`): where Router Advertisements are taken from and
   * proxy Neighbor Discovery entries go; null for RAs from any interface.
   */
  uplink: string | null;
  /**
   * Add a proxy Neighbor Discovery entry on `uplink` for each customer's `source6` address
   * (`Clat.NeighborProxy`, RFC 6877 §6.3); needs `uplink` and a `source6` prefix.
   */
  neighborProxy: boolean;
  /** The DNS server for RFC 7050 discovery (`Clat.Resolver`), or null for the system's. */
  resolver: ResolverAddress | null;
}

/**
 * The checks across the keys of a CLAT configuration, after every key was read (what
 * `parseConfig()` with `mode: "clat"` lists under "its own checks across keys").
 * @param c the checker the problems are reported to
 * @param cfg the configuration as read, `clat` set
 */
export function crossCheckClat(c: Checker, cfg: Config): void {
  const clat = cfg.clat!;
  const { address4, address6 } = cfg.interface;
  const { customerPool, via, source6, hostAddress } = clat;
  const C = "Clat";
  if (customerPool.length === 0 && !c.failed(`${C}.CustomerPool`)) {
    c.report(`${C}.CustomerPool`, [], "must hold at least one IPv4 prefix (the customers)");
  }
  const poolOk = !c.failed(`${C}.CustomerPool`);
  if (source6 !== null && !c.failed(`${C}.Source6`)) {
    const text = formatIpv6Prefix(source6);
    const size = customerPool.reduce((n, p) => n + ipv4PrefixSize(p), 0);
    if (via !== null && !c.failed(`${C}.Via`) && ipv6PrefixesOverlap(source6, via)) {
      c.report(
        `${C}.Source6`,
        text,
        `overlaps Clat.Via (${formatIpv6Prefix(via)}): customers and the IPv4 world would share ` +
          "addresses",
      );
    } else if (poolOk && size > source6Capacity(source6.len)) {
      c.report(
        `${C}.Source6`,
        text,
        `has room for ${source6Capacity(source6.len)} customer addresses, fewer than the ` +
          `${size} of Clat.CustomerPool (a prefix longer than /96 numbers them)`,
      );
    }
  }
  if (clat.neighborProxy && !c.failed(`${C}.NeighborProxy`)) {
    const missing = [
      ...(clat.uplink === null ? ["Clat.Uplink (where the entries go)"] : []),
      ...(source6 === null ? ['a Clat.Source6 prefix (with "embed" there is none to proxy)'] : []),
    ];
    if (missing.length > 0) c.report(`${C}.NeighborProxy`, true, `needs ${missing.join(" and ")}`);
  }
  if (address6 === null && !c.failed(`${C}.Address6`)) {
    const why = customerPool.some((p) => ipv4InPrefix(address4, p))
      ? `Address4 (${formatIpv4(address4)}) is a customer's address, and with Source6 = ` +
        '"embed" a customer\'s IPv6 address embeds it in Via'
      : `Address4 (${formatIpv4(address4)}) is outside CustomerPool, and then the default ` +
        "embeds it in Via";
    c.report(`${C}.Address6`, undefined, `must be given when Via is "auto": ${why}`);
  }
  if (hostAddress !== null && !c.failed(`${C}.HostAddress`) && poolOk) {
    if (hostAddress === address4 && !c.failed(`${C}.Address4`)) {
      c.report(
        `${C}.HostAddress`,
        formatIpv4(hostAddress),
        "must differ from Clat.Address4 (the local host's address and the CLAT's own)",
      );
    } else if (!customerPool.some((p) => ipv4InPrefix(hostAddress, p))) {
      c.report(
        `${C}.HostAddress`,
        formatIpv4(hostAddress),
        "must be inside Clat.CustomerPool (what local applications send from it is a " +
          "customer's traffic)",
      );
    }
  }
}

/**
 * The configuration a CLAT with `Via = "auto"` runs with once it has discovered the PLAT's
 * prefix (RFC 8781 PREF64 or RFC 7050): `clat.via` and `interface.prefix` are the prefix,
 * `clat.viaAuto` stays set (so a later change is applied the same way). The prefix is checked
 * as `Clat.Via` would be: an RFC 6052 length, u-octet zero, not multicast, not overlapping
 * `Clat.Source6`.
 *
 * @param cfg a CLAT configuration with `clat.viaAuto` set
 * @param prefix the discovered prefix
 * @returns the configuration (deep-frozen), or why the prefix cannot be used
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { parseIpv6Prefix } from "../addr/ipv6.ts";
 * import { parseConfig } from "./config.ts";
 *
 * const cfg = parseConfig('[Clat]\nVia = "auto"\nAddress6 = "2001:db8::2"', { mode: "clat" });
 * const found = withDiscoveredVia(cfg, parseIpv6Prefix("2001:db8:64::/96")!);
 * strictEqual(typeof found !== "string" && found.interface.prefix.len, 96);
 * ```
 */
export function withDiscoveredVia(cfg: Config, prefix: Ipv6Prefix): Config | string {
  const text = formatIpv6Prefix(prefix);
  if (cfg.clat === null || !cfg.clat.viaAuto) {
    return 'not a CLAT configuration with Via = "auto"';
  }
  if (!isRfc6052Length(prefix.len)) {
    return `${text}: prefix length must be one of ${RFC6052_LENGTHS.join(", ")} (RFC 6052 §2.2)`;
  }
  if (prefix.addr[0] === 0xff) return `${text}: must not be a multicast prefix (ff00::/8)`;
  if (prefix.addr[U_OCTET_INDEX] !== 0) {
    return `${text}: bits 64-71 (the RFC 6052 §2.2 u-octet) must be zero`;
  }
  const source6 = cfg.clat.source6;
  if (source6 !== null && ipv6PrefixesOverlap(source6, prefix)) {
    return `${text}: overlaps Clat.Source6 (${formatIpv6Prefix(source6)})`;
  }
  const via = { addr: prefix.addr.slice(), len: prefix.len };
  return deepFreeze({
    ...cfg,
    interface: { ...cfg.interface, prefix: via },
    clat: { ...cfg.clat, via },
  });
}
