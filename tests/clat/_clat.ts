/**
 * CLAT engines for the engine tests: a configuration built from a translator one (its
 * `[Translation]` section) with the `[Clat]` values filled in, and an engine over it.
 */

import { parseIpv4, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { clatMapper } from "../../lib/clat/settings.ts";
import { type Config, parseConfig } from "../../lib/config/config.ts";
import { XlatContext } from "../../lib/xlat/context.ts";
import { engineSettings } from "../../lib/xlat/settings.ts";
import { T0_MS } from "../xlat/_build.ts";

/** The [Clat] values a test varies. */
export interface ClatValues {
  /** Customer prefixes; default ["192.0.0.0/29"]. */
  customerPool?: string[];
  /** PLAT prefix; default "64:ff9b::/96". */
  via?: string;
  /** Customers' IPv6 prefix, or "embed" (the default here: "2001:db8:1:4646::/64"). */
  source6?: string;
  /** Translator's own IPv4 address; default "192.0.0.2". */
  address4?: string;
  /** Translator's own IPv6 address; default 2001:db8:1:4646::c000:2. */
  address6?: string;
}

/**
 * A CLAT configuration (documentation addresses everywhere, so non-global IPv4 is allowed
 * with the Well-Known Prefix).
 * @param v the [Clat] values
 * @returns the configuration
 */
export function clatConfig(v: ClatValues = {}): Config {
  const base = parseConfig(
    '[Interface]\nPool = ["192.0.2.0/30"]\n[Translation]\nAllowNonGlobalWithWKP = true\n',
  );
  const source6 = v.source6 ?? "2001:db8:1:4646::/64";
  return {
    ...base,
    interface: {
      ...base.interface,
      prefix: parseIpv6Prefix(v.via ?? "64:ff9b::/96")!,
      pool: [],
      address4: parseIpv4(v.address4 ?? "192.0.0.2")!,
      address6: parseIpv6(v.address6 ?? "2001:db8:1:4646::c000:2")!,
    },
    clat: {
      customerPool: (v.customerPool ?? ["192.0.0.0/29"]).map((p) => parseIpv4Prefix(p)!),
      via: parseIpv6Prefix(v.via ?? "64:ff9b::/96")!,
      viaAuto: false,
      hostAddress: parseIpv4("192.0.0.1")!,
      source6: source6 === "embed" ? null : parseIpv6Prefix(source6)!,
      routes4: [parseIpv4Prefix("0.0.0.0/0")!],
      uplink: null,
      neighborProxy: false,
      resolver: null,
    },
  } as Config;
}

/**
 * An engine context for a CLAT configuration, its clock at `T0_MS`.
 * @param cfg the configuration
 * @returns the context
 */
export function clatEngine(cfg: Config = clatConfig()): XlatContext {
  const ctx = new XlatContext({ settings: engineSettings(cfg), mapper: clatMapper(cfg) });
  ctx.setClock(T0_MS);
  return ctx;
}
