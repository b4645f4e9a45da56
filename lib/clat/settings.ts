/**
 * What a CLAT configuration (`Config.clat`, `main.ts clat`) gives the engine: the options of
 * its {@link ClatMapper}. The engine settings themselves come from `engineSettings()`
 * (lib/xlat/settings.ts) as for the translator: a CLAT's `interface.prefix` is `Clat.Via`.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { engineSettings } from "../xlat/settings.ts";
import { ClatMapper, type ClatMapperOptions } from "./mapper.ts";

/**
 * The mapper options of a CLAT configuration (with `Via = "auto"`, what has been discovered).
 *
 * @param cfg a validated CLAT configuration (`cfg.clat` not null)
 * @returns the customer pool, `Source6`, `Via` and the RFC 6052 §3.1 rule
 * @throws {TypeError} for a translator configuration (a programming error)
 */
export function clatMapperOptions(cfg: Config): ClatMapperOptions {
  if (cfg.clat === null) throw new TypeError("not a CLAT configuration");
  return {
    customerPool: cfg.clat.customerPool,
    source6: cfg.clat.source6,
    via: cfg.clat.via,
    refuseNonGlobal: engineSettings(cfg).refuseNonGlobal,
  };
}

/**
 * The mapper of a CLAT configuration.
 * @param cfg a validated CLAT configuration
 * @returns a new {@link ClatMapper}
 */
export function clatMapper(cfg: Config): ClatMapper {
  return new ClatMapper(clatMapperOptions(cfg));
}
