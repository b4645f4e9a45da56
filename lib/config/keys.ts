/**
 * The key table: every configuration key once, with its TOML path, the {@link Config} field
 * it fills, its type (which is its validation), its default, whether a reload can change it,
 * and its protomask 1.x JSON key and flag. `parseConfig()` reads by it, `formatConfig()`
 * (`check-config`) writes by it, protomask 1.x JSON (./protomask1.ts) is mapped by it,
 * `restartOnlyChanges()` (lib/daemon/routes.ts) compares by it, and
 * tests/config/readme_test.ts holds the README's reference table to it.
 *
 * Adding a key: add the field to `Config` (./config.ts) with JSDoc, then one `key()` entry
 * here in its section (a `[Clat]` key: one `clatKey()` entry in ./clat_keys.ts); a check
 * across keys goes in `crossCheck()` (./config.ts). What an entry is and the entries both
 * programs share are in ./key_spec.ts, the default values in ./defaults.ts.
 *
 * @module
 */

import { parseIpv4 } from "../addr/ipv4.ts";
import { parseIpv6Prefix } from "../addr/ipv6.ts";
import { embedIpv4 } from "../addr/rfc6052.ts";
import { CLAT_KEYS } from "./clat_keys.ts";
import {
  DEFAULT_ADDRESS4,
  DEFAULT_ICMP_ERROR_BURST,
  DEFAULT_ICMP_ERROR_RATE,
  DEFAULT_LEASE_PREFIX_LENGTH,
  DEFAULT_MTU,
  DEFAULT_NAME,
  DEFAULT_PREFIX,
  DEFAULT_RESERVATION_DURATION_SECS,
  IPV4_MIN_MTU,
  IPV6_MIN_MTU,
  MAX_MTU,
} from "./defaults.ts";
import {
  type ConfigMode,
  constant,
  type FormatOptions,
  key,
  type KeySpec,
  OFFLOAD,
  QUEUES,
  QUEUES_V1,
  type SectionField,
} from "./key_spec.ts";
import type { MetricsListen } from "./listen.ts";
import {
  BOOLEAN,
  fileName,
  integer,
  IPV6_PREFIXES,
  LISTEN,
  POOL_PREFIXES,
  RFC6052_PREFIX,
  SOURCE_IPV4,
  SOURCE_IPV4_LIST,
  SOURCE_IPV6,
  SOURCE_IPV6_LIST,
  STATIC_MAPS,
  TUN_NAME,
} from "./value_types.ts";

export * from "./defaults.ts";
export {
  type ConfigMode,
  type ConfigSoFar,
  type FormatOptions,
  type KeySpec,
  type Protomask1Alias,
  READ_ORDER,
  type SectionField,
  SECTIONS,
  sectionsOf,
  type SectionSpec,
} from "./key_spec.ts";
export { CLAT_KEYS } from "./clat_keys.ts";

const MAX_U32 = 0xffffffff;
const MAX_ICMP_RATE = 1_000_000;
const MAX_NEW_LEASES_PER_SECOND = 1_000_000;

function sameListen(a: MetricsListen | null, b: MetricsListen | null): boolean {
  return a?.hostname === b?.hostname && a?.port === b?.port;
}

/** The translator's keys (`[Interface]` … `[Metrics]`), by section, keys in `check-config` order. */
const TRANSLATOR_KEYS: readonly KeySpec[] = [
  key("interface", "Prefix", "prefix", {
    type: RFC6052_PREFIX,
    default: constant(() => parseIpv6Prefix(DEFAULT_PREFIX)!),
    v1: { order: 0, json: "prefix", flag: "--translation-prefix", option: "translationPrefix" },
  }),
  key("interface", "Pool", "pool", {
    type: POOL_PREFIXES,
    default: constant(() => []),
    v1: { order: 1, json: "pool", flag: "--pool-prefix", option: "poolPrefixes" },
  }),
  key("interface", "Name", "name", {
    type: TUN_NAME,
    default: constant(() => DEFAULT_NAME),
    restartOnly: true,
    v1: { order: 6, flag: "--interface", option: "interface" },
  }),
  key("interface", "MTU", "mtu", {
    type: integer(IPV6_MIN_MTU, MAX_MTU),
    default: constant(() => DEFAULT_MTU),
  }),
  key("interface", "Address4", "address4", {
    type: SOURCE_IPV4,
    default: constant(() => parseIpv4(DEFAULT_ADDRESS4)!),
  }),
  key("interface", "Address6", "address6", {
    type: SOURCE_IPV6,
    default: (soFar) => {
      const { prefix, address4 } = soFar.interface;
      const a = new Uint8Array(16);
      embedIpv4(prefix!.addr, prefix!.len, address4!, a, 0);
      return a;
    },
    defaultDoc: "`Address4` embedded in `Prefix` (`64:ff9b::c000:8`)",
  }),
  key("interface", "Queues", "queues", { ...QUEUES, v1: { ...QUEUES_V1, order: 5 } }),
  key("interface", "Offload", "offload", OFFLOAD),
  key("rules", "MapStatic", "mapStatic", {
    type: STATIC_MAPS,
    default: constant(() => []),
    v1: { order: 2, json: "static_map" },
  }),
  key("rules", "ReservationDuration", "reservationDurationSecs", {
    type: integer(1, MAX_U32),
    default: constant(() => DEFAULT_RESERVATION_DURATION_SECS),
    v1: {
      order: 3,
      json: "reservation_timeout",
      flag: "--reservation-timeout",
      option: "reservationTimeout",
      unit: "seconds",
    },
  }),
  key("rules", "StateFile", "stateFile", {
    type: fileName("must not be empty (leave the key out to keep no state)"),
    default: constant(() => null),
    defaultDoc: "none",
    restartOnly: true,
  }),
  key("rules", "AllowedSources", "allowedSources", {
    type: IPV6_PREFIXES,
    default: constant(() => null),
    defaultDoc: "all",
  }),
  key("rules", "MaxLeasesPerPrefix", "maxLeasesPerPrefix", {
    type: integer(1, 0x7fffffff),
    default: constant(() => null),
    defaultDoc: "none",
  }),
  key("rules", "LeasePrefixLength", "leasePrefixLength", {
    type: integer(1, 128),
    default: constant(() => DEFAULT_LEASE_PREFIX_LENGTH),
  }),
  key("rules", "MaxNewLeasesPerSecond", "maxNewLeasesPerSecond", {
    type: integer(1, MAX_NEW_LEASES_PER_SECOND),
    default: constant(() => null),
    defaultDoc: "none",
  }),
  key("translation", "LowestIPv6MTU", "lowestIpv6Mtu", {
    type: integer(IPV6_MIN_MTU, MAX_MTU),
    default: constant(() => IPV6_MIN_MTU),
  }),
  key("translation", "AmendUDPChecksumZero", "amendUdpChecksumZero", {
    type: BOOLEAN,
    default: constant(() => false),
  }),
  key("translation", "Pool6791v4", "pool6791v4", {
    type: SOURCE_IPV4_LIST,
    default: constant(() => []),
  }),
  key("translation", "Pool6791v6", "pool6791v6", {
    type: SOURCE_IPV6_LIST,
    default: constant(() => []),
  }),
  key("translation", "AllowNonGlobalWithWKP", "allowNonGlobalWithWkp", {
    type: BOOLEAN,
    default: constant(() => false),
  }),
  key("translation", "SendDropErrors", "sendDropErrors", {
    type: BOOLEAN,
    default: constant(() => true),
  }),
  key("translation", "MTU4", "mtu4", {
    type: integer(IPV4_MIN_MTU, MAX_MTU),
    default: (soFar) => soFar.interface.mtu!,
    defaultDoc: "`Interface.MTU`",
  }),
  key("translation", "MTU6", "mtu6", {
    type: integer(IPV6_MIN_MTU, MAX_MTU),
    default: (soFar) => soFar.interface.mtu!,
    defaultDoc: "`Interface.MTU`",
  }),
  key("translation", "ICMPErrorRate", "icmpErrorRatePerSec", {
    type: integer(0, MAX_ICMP_RATE),
    default: constant(() => DEFAULT_ICMP_ERROR_RATE),
  }),
  key("translation", "ICMPErrorBurst", "icmpErrorBurst", {
    type: integer(0, MAX_ICMP_RATE),
    default: constant(() => DEFAULT_ICMP_ERROR_BURST),
  }),
  key("translation", "ZeroizeTrafficClass", "zeroizeTrafficClass", {
    type: BOOLEAN,
    default: constant(() => false),
  }),
  key("translation", "TOS", "tos", {
    type: integer(0, 255),
    default: constant(() => null),
    defaultDoc: "none (copy)",
  }),
  key("logging", "MappingLog", "mappingLog", {
    type: fileName("must not be empty (leave the key out for no audit log)"),
    default: constant(() => null),
    defaultDoc: "none",
    restartOnly: true,
  }),
  key("metrics", "Listen", "listen", {
    type: LISTEN,
    default: constant(() => null),
    defaultDoc: "none (off)",
    line: (l) => l === null ? "# Listen: off (the default)" : `Listen = ${LISTEN.toml(l)}`,
    // The metrics endpoint is bound once, at start.
    restartOnly: true,
    same: sameListen,
    v1: {
      order: 4,
      json: "prometheus_bind_addr",
      nullIsUnset: true,
      flag: "--prometheus",
      option: "prometheus",
    },
  }),
];

/** Every configuration key, by section in {@link SECTIONS} order, keys in `check-config` order. */
export const KEYS: readonly KeySpec[] = [...CLAT_KEYS, ...TRANSLATOR_KEYS];

/**
 * The keys of one section, in table order.
 * @param section the section's field in `Config`
 * @returns its keys
 */
export function sectionKeys(section: SectionField): KeySpec[] {
  return KEYS.filter((k) => k.section === section);
}

/**
 * The `check-config` line of one key (or lines, or null for none).
 * @param k the key
 * @param value its value in the configuration
 * @param opts what `formatConfig()` was asked for
 * @returns the text, without a trailing newline
 */
export function keyLine(k: KeySpec, value: unknown, opts: FormatOptions): string | null {
  if (k.line !== undefined) return k.line(value, opts);
  return value === null ? null : `${k.name} = ${k.type.toml(value as NonNullable<unknown>)}`;
}

/**
 * The README reference table's default cell for a key.
 * @param k the key
 * @returns e.g. `` `1500` ``, or the key's `defaultDoc`
 */
export function defaultDoc(k: KeySpec): string {
  if (k.defaultDoc !== undefined) return k.defaultDoc;
  const v = k.default({
    interface: {},
    rules: {},
    translation: {},
    logging: {},
    metrics: {},
    clat: {},
  });
  return `\`${k.type.toml(v as NonNullable<unknown>)}\``;
}

/**
 * The keys of one program's configuration, in table order.
 * @param mode the program
 * @returns its keys
 */
export function keysOf(mode: ConfigMode): KeySpec[] {
  return KEYS.filter((k) => k.modes.includes(mode));
}

/**
 * The keys of one TOML section, in table order.
 * @param table the section's TOML name, e.g. `Clat`
 * @returns its keys
 */
export function tableKeys(table: string): KeySpec[] {
  return KEYS.filter((k) => k.table === table);
}

/**
 * The keys that a reload cannot change (they take a restart) in one program's configuration.
 * @param mode the program
 * @returns those keys, in table order
 */
export function restartOnlyKeys(mode: ConfigMode): KeySpec[] {
  return keysOf(mode).filter((k) => k.restartOnly);
}

/** The keys that a reload of the translator cannot change (they take a restart), in table order. */
export const RESTART_ONLY_KEYS: readonly KeySpec[] = restartOnlyKeys("translator");

/**
 * The keys one 1.x program reads from its JSON file, in upstream's order (protomask's
 * `src/args/protomask.rs`, protomask-clat's `src/args/protomask_clat.rs`).
 * @param mode `translator` for `protomask`, `clat` for `protomask-clat`
 * @returns the keys with a `v1.json` alias
 */
export function protomask1JsonKeys(mode: ConfigMode): KeySpec[] {
  return v1Keys(mode).filter((k) => k.v1!.json);
}

/**
 * The keys one 1.x program's flags set, in the order they are applied.
 * @param mode `translator` for `protomask`, `clat` for `protomask-clat`
 * @returns the keys with a `v1.flag` alias
 */
export function protomask1FlagKeys(mode: ConfigMode): KeySpec[] {
  return v1Keys(mode).filter((k) => k.v1!.flag);
}

function v1Keys(mode: ConfigMode): KeySpec[] {
  return keysOf(mode).filter((k) => k.v1 !== undefined).sort((a, b) => a.v1!.order - b.v1!.order);
}

/** The keys protomask 1.x JSON has, in upstream's order. */
export const PROTOMASK1_JSON_KEYS: readonly KeySpec[] = protomask1JsonKeys("translator");

/** The keys protomask 1.x flags set, in the order they are applied. */
export const PROTOMASK1_FLAG_KEYS: readonly KeySpec[] = protomask1FlagKeys("translator");
