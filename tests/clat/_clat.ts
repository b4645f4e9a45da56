/** CLAT engines for the engine tests: a `[Clat]` configuration and an engine over it. */

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
  /** Translator's own IPv6 address; default: Address4 mapped like a customer. */
  address6?: string;
}

/**
 * A CLAT configuration, read by the real parser (documentation addresses everywhere, so
 * non-global IPv4 is allowed with the Well-Known Prefix).
 * @param v the [Clat] values
 * @param extra more `[Clat]` lines
 * @returns the configuration
 */
export function clatConfig(v: ClatValues = {}, extra: string[] = []): Config {
  const q = JSON.stringify;
  const lines = [
    "[Clat]",
    `CustomerPool = ${q(v.customerPool ?? ["192.0.0.0/29"])}`,
    `Via = ${q(v.via ?? "64:ff9b::/96")}`,
    `Source6 = ${q(v.source6 ?? "2001:db8:1:4646::/64")}`,
    `Address4 = ${q(v.address4 ?? "192.0.0.2")}`,
    ...(v.address6 === undefined ? [] : [`Address6 = ${q(v.address6)}`]),
    ...extra,
    "[Translation]",
    "AllowNonGlobalWithWKP = true",
  ];
  return parseConfig(lines.join("\n") + "\n", { mode: "clat" });
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
