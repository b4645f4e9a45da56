/**
 * The key table: every configuration key once, with its TOML path, the {@link Config} field
 * it fills, its type (which is its validation), its default, whether a reload can change it,
 * and its protomask 1.x JSON key and flag. `parseConfig()` reads by it, `formatConfig()`
 * (`check-config`) writes by it, protomask 1.x JSON (./protomask1.ts) is mapped by it,
 * `restartOnlyChanges()` (lib/daemon/routes.ts) compares by it, and
 * tests/config/readme_test.ts holds the README's reference table to it.
 *
 * Adding a key: add the field to `Config` (./config.ts) with JSDoc, then one `key()` entry
 * here in its section; a check across keys goes in `crossCheck()` (./config.ts).
 *
 * @module
 */

import { ipv4InPrefix, parseIpv4, parseIpv4Prefix } from "../addr/ipv4.ts";
import { parseIpv6Prefix } from "../addr/ipv6.ts";
import { embedIpv4 } from "../addr/rfc6052.ts";
import { ClatMapper } from "../clat/mapper.ts";
import { MIN_MTU } from "../wire/ipv6.ts";
import type { Config } from "./config.ts";
import { DEFAULT_MAX_QUEUES, defaultQueues, MAX_QUEUES } from "./queues.ts";
import type { MetricsListen } from "./listen.ts";
import {
  BOOLEAN,
  CLAT_VIA,
  fileName,
  HOST_ADDRESS,
  integer,
  IPV6_PREFIXES,
  LINK_NAME,
  LISTEN,
  POOL_PREFIXES,
  RESOLVER,
  RFC6052_PREFIX,
  ROUTES4,
  SOURCE6,
  SOURCE_IPV4,
  SOURCE_IPV4_LIST,
  SOURCE_IPV6,
  SOURCE_IPV6_LIST,
  STATIC_MAPS,
  TUN_NAME,
  type ValueType,
} from "./value_types.ts";

/** The RFC 6052 §2.1 Well-Known Prefix, the default `Interface.Prefix`. */
export const DEFAULT_PREFIX = "64:ff9b::/96";
/** RFC 7600 §4 IPv4 dummy address, the default `Interface.Address4`. */
export const DEFAULT_ADDRESS4 = "192.0.0.8";
/** Default TUN name template (the kernel replaces `%d` with a number). */
export const DEFAULT_NAME = "nat64i%d";
/** Default TUN MTU in bytes. */
export const DEFAULT_MTU = 1500;
/** Default idle time of a dynamic lease in seconds (protomask 0.1's default). */
export const DEFAULT_RESERVATION_DURATION_SECS = 7200;
/** Smallest IPv6 link MTU (RFC 8200 §5). */
export const IPV6_MIN_MTU: number = MIN_MTU;
/** Smallest IPv4 MTU (RFC 791). */
export const IPV4_MIN_MTU = 68;
/** Largest MTU without jumbograms. */
export const MAX_MTU = 65535;
/** Default rate of ICMP errors the translator originates, per second. */
export const DEFAULT_ICMP_ERROR_RATE = 100;
/** Default token-bucket size of ICMP errors the translator originates. */
export const DEFAULT_ICMP_ERROR_BURST = 50;
/** Default `Rules.LeasePrefixLength`: a /64, one IPv6 subnet (one host, often). */
export const DEFAULT_LEASE_PREFIX_LENGTH = 64;
/** Default `Clat.Name`, upstream protomask-clat's `-i` default. */
export const DEFAULT_CLAT_NAME = "clat%d";
/** Default `Clat.CustomerPool`: the RFC 7335 IPv4 Service Continuity Prefix, 192.0.0.0/29. */
export const DEFAULT_CUSTOMER_POOL: readonly string[] = ["192.0.0.0/29"];
/** Default `Clat.Routes4`: every IPv4 destination goes through the CLAT. */
export const DEFAULT_ROUTES4: readonly string[] = ["0.0.0.0/0"];
/** Default `Clat.Address4`, the CLAT's own IPv4 address (clatd's `tayga-v4-addr`). */
export const DEFAULT_CLAT_ADDRESS4 = "192.0.0.2";
/** Default `Clat.HostAddress`, assigned to the TUN for local applications (clatd's `clat-v4-addr`). */
export const DEFAULT_HOST_ADDRESS = "192.0.0.1";

const MAX_U32 = 0xffffffff;
const MAX_ICMP_RATE = 1_000_000;
const MAX_NEW_LEASES_PER_SECOND = 1_000_000;

/** A section of the configuration, by its field in {@link Config}. */
export type SectionField = keyof Config;

/**
 * Which program a configuration is for: the NAT64 translator (`protomask`) or the CLAT
 * (`protomask clat`, RFC 6877). Each reads its own TOML sections (see {@link SECTIONS}).
 */
export type ConfigMode = "translator" | "clat";

/** One TOML section (table) of the configuration. */
export interface SectionSpec {
  /** The TOML table name, e.g. `Interface`. */
  name: string;
  /**
   * The `Config` field its keys fill. `[Clat]` fills `clat` and, for the TUN device and the
   * translator's own addresses, `interface` (each key names its own field, {@link KeySpec}).
   */
  field: SectionField;
  /** The programs whose configurations have this section. */
  modes: readonly ConfigMode[];
}

/**
 * The TOML sections, in the order `formatConfig()` writes them and "allowed:" names them
 * (each program lists only its own).
 */
export const SECTIONS: readonly SectionSpec[] = [
  { name: "Clat", field: "clat", modes: ["clat"] },
  { name: "Interface", field: "interface", modes: ["translator"] },
  { name: "Rules", field: "rules", modes: ["translator"] },
  { name: "Translation", field: "translation", modes: ["translator", "clat"] },
  { name: "Logging", field: "logging", modes: ["translator"] },
  { name: "Metrics", field: "metrics", modes: ["translator", "clat"] },
];

/**
 * The sections of one program's configuration, in {@link SECTIONS} order.
 * @param mode the program
 * @returns its sections
 */
export function sectionsOf(mode: ConfigMode): SectionSpec[] {
  return SECTIONS.filter((s) => s.modes.includes(mode));
}

/**
 * The order `parseConfig()` reads the sections in (by TOML name), and so the order of their
 * problems in a message (kept from the first versions: the messages are pinned by tests).
 * `[Clat]` comes first: the defaults of `[Translation]` read its MTU.
 */
export const READ_ORDER: readonly string[] = [
  "Clat",
  "Interface",
  "Rules",
  "Metrics",
  "Logging",
  "Translation",
];

/** A configuration while it is read: the fields of each section read so far. */
export type ConfigSoFar = { [S in SectionField]: Partial<NonNullable<Config[S]>> };

/** What `formatConfig()` was asked for besides the configuration. */
export interface FormatOptions {
  /** This machine's CPU count, to show the default number of queues. */
  cpus?: number;
}

/** A key's protomask 1.x names. */
export interface Protomask1Alias {
  /**
   * Its position among 1.x's settings: upstream's JSON struct order, then `--interface` (no
   * JSON key). JSON keys are listed and flags applied in this order.
   */
  order: number;
  /** Its key in a 1.x JSON file, e.g. `reservation_timeout`. */
  json?: string;
  /** JSON `null` means "left out" (the default) rather than a wrong type. */
  nullIsUnset?: true;
  /** Its 1.x command-line flag, e.g. `--reservation-timeout`. */
  flag?: string;
  /** The flag's field in `ConfigOverrides` (lib/cli/args.ts), e.g. `reservationTimeout`. */
  option?: string;
  /** An integer flag: what its whole number counts ("seconds"), for the message. */
  unit?: string;
}

/** One configuration key. `T` is its field's type in {@link Config}. */
export interface KeySpec<T = unknown> {
  /** The `Config` field of the section its value goes in (`Clat.Name` → `interface`). */
  section: SectionField;
  /** Its TOML section, e.g. `Rules`. */
  table: string;
  /** The programs whose configurations have the key (those of its TOML section). */
  modes: readonly ConfigMode[];
  /** The TOML key, e.g. `ReservationDuration`. */
  name: string;
  /** The TOML path, e.g. `Rules.ReservationDuration`. */
  path: string;
  /** The field in `Config[section]`, e.g. `reservationDurationSecs`. */
  field: string;
  /**
   * Its type: how it is validated and written. A type may read a word as null (`Via = "auto"`,
   * `Source6 = "embed"`, `HostAddress = ""`); only a key left out takes the default.
   */
  type: ValueType<NonNullable<T>> | ValueType<T>;
  /** The value when the key is left out (or invalid), from the keys read before it. */
  default: (soFar: ConfigSoFar) => T;
  /** The README's default cell when it is not the default's TOML text in backquotes. */
  defaultDoc?: string;
  /** The `check-config` line(s); null writes nothing. Default: `Name = value`, null → none. */
  line?: (v: T, opts: FormatOptions) => string | null;
  /** A reload keeps the running value (the key takes a restart). */
  restartOnly?: true;
  /** Equality for `restartOnly` (default `===`). */
  same?: (a: T, b: T) => boolean;
  /** Its protomask 1.x JSON key and flag. */
  v1?: Protomask1Alias;
}

type Spec<T> = Omit<KeySpec<T>, "section" | "table" | "modes" | "name" | "path" | "field">;

/** One entry of the table, typed against the `Config` field it fills, in that field's section. */
function key<S extends SectionField, F extends keyof NonNullable<Config[S]> & string>(
  section: S,
  name: string,
  field: F,
  spec: Spec<NonNullable<Config[S]>[F]>,
): KeySpec {
  return inTable(SECTIONS.find((s) => s.field === section)!, section, name, field, spec);
}

/** One `[Clat]` entry: it fills `clat`, or `interface` for the device and own addresses. */
function clatKey<S extends "interface" | "clat", F extends keyof NonNullable<Config[S]> & string>(
  section: S,
  name: string,
  field: F,
  spec: Spec<NonNullable<Config[S]>[F]>,
): KeySpec {
  return inTable(SECTIONS.find((s) => s.name === "Clat")!, section, name, field, spec);
}

function inTable(
  t: SectionSpec,
  section: SectionField,
  name: string,
  field: string,
  spec: unknown,
): KeySpec {
  return {
    ...(spec as object),
    section,
    table: t.name,
    modes: t.modes,
    name,
    path: `${t.name}.${name}`,
    field,
  } as KeySpec;
}

const constant = <T>(v: () => T) => (_: ConfigSoFar) => v();

/** `Queues` in `check-config`: left out, a comment (the default depends on the machine). */
function queuesLine(queues: number | null, opts: FormatOptions): string {
  if (queues !== null) return `Queues = ${queues}`;
  const rule = `one per CPU, at most ${DEFAULT_MAX_QUEUES}`;
  return opts.cpus === undefined
    ? `# Queues: the default, ${rule}`
    : `# Queues = ${defaultQueues(opts.cpus)} here: the default, ${rule}`;
}

/** `Offload` in `check-config`: left out, a comment. */
function offloadLine(offload: boolean | null): string {
  return offload === null
    ? "# Offload: the default, on where the kernel supports it"
    : `Offload = ${offload}`;
}

/**
 * The default `Clat.Address6`: `Address4` mapped like a customer's address when it is in
 * `CustomerPool`, else embedded in `Via`; null when that needs `Via` and `Via` is "auto".
 */
function clatAddress6(soFar: ConfigSoFar): Uint8Array | null {
  const { address4 } = soFar.interface;
  const { customerPool, source6, via } = soFar.clat;
  const customer = customerPool!.some((p) => ipv4InPrefix(address4!, p));
  const a = new Uint8Array(16);
  if (customer && source6 !== null) {
    const placeholder = via ?? parseIpv6Prefix(DEFAULT_PREFIX)!;
    new ClatMapper({
      customerPool: customerPool!,
      source6: source6!,
      via: placeholder,
      refuseNonGlobal: false,
    })
      .staticV6For4(address4! | 0, a, 0);
    return a;
  }
  if (via === null) return null;
  embedIpv4(via!.addr, via!.len, address4!, a, 0);
  return a;
}

function sameListen(a: MetricsListen | null, b: MetricsListen | null): boolean {
  return a?.hostname === b?.hostname && a?.port === b?.port;
}

/** `Queues`, in `[Interface]` and `[Clat]` alike (their 1.x alias differs only in its order). */
const QUEUES: Spec<number | null> = {
  type: integer(1, MAX_QUEUES),
  default: constant(() => null),
  defaultDoc: `one per CPU, at most ${DEFAULT_MAX_QUEUES}`,
  // Left out, a comment: the default depends on the machine (and the text parses back).
  line: queuesLine,
  // The queues are the device's fds and their Workers, opened once.
  restartOnly: true,
};

/** The 1.x alias of `Queues` in both programs, but for its position. */
const QUEUES_V1: Omit<Protomask1Alias, "order"> = {
  json: "queues",
  nullIsUnset: true,
  flag: "--num-queues",
  option: "numQueues",
  unit: "queues",
};

/** `Offload`, in `[Interface]` and `[Clat]` alike. */
const OFFLOAD: Spec<boolean | null> = {
  type: BOOLEAN,
  default: constant(() => null),
  defaultDoc: "on where the kernel supports it",
  line: offloadLine,
  // A flag of the device's fds (IFF_VNET_HDR), set when they are opened.
  restartOnly: true,
};

/** Every configuration key, by section in {@link SECTIONS} order, keys in `check-config` order. */
export const KEYS: readonly KeySpec[] = [
  clatKey("interface", "Name", "name", {
    type: TUN_NAME,
    default: constant(() => DEFAULT_CLAT_NAME),
    restartOnly: true,
    v1: { order: 7, flag: "--interface", option: "interface" },
  }),
  clatKey("interface", "MTU", "mtu", {
    type: integer(IPV6_MIN_MTU, MAX_MTU),
    default: constant(() => DEFAULT_MTU),
  }),
  clatKey("interface", "Queues", "queues", { ...QUEUES, v1: { ...QUEUES_V1, order: 6 } }),
  clatKey("interface", "Offload", "offload", OFFLOAD),
  clatKey("clat", "CustomerPool", "customerPool", {
    type: POOL_PREFIXES,
    default: constant(() => DEFAULT_CUSTOMER_POOL.map((p) => parseIpv4Prefix(p)!)),
    v1: { order: 1, json: "customer_pool", flag: "--customer-prefix", option: "customerPrefixes" },
  }),
  clatKey("clat", "Via", "via", {
    type: CLAT_VIA,
    default: constant(() => parseIpv6Prefix(DEFAULT_PREFIX)!),
    line: (via) => `Via = ${CLAT_VIA.toml(via)}`,
    v1: { order: 5, json: "via", flag: "--via", option: "via" },
  }),
  clatKey("clat", "Source6", "source6", {
    type: SOURCE6,
    default: constant(() => null),
    line: (source6) => `Source6 = ${SOURCE6.toml(source6)}`,
  }),
  clatKey("clat", "Routes4", "routes4", {
    type: ROUTES4,
    default: constant(() => DEFAULT_ROUTES4.map((p) => parseIpv4Prefix(p)!)),
  }),
  clatKey("interface", "Address4", "address4", {
    type: SOURCE_IPV4,
    default: constant(() => parseIpv4(DEFAULT_CLAT_ADDRESS4)!),
  }),
  clatKey("interface", "Address6", "address6", {
    type: SOURCE_IPV6,
    // Null (then "must be given") when Via is "auto" and the default needs it.
    default: (soFar) => clatAddress6(soFar) as Uint8Array,
    defaultDoc: "`Address4` mapped like a customer's when in `CustomerPool` " +
      "(`64:ff9b::c000:2`), else embedded in `Via`",
  }),
  clatKey("clat", "HostAddress", "hostAddress", {
    type: HOST_ADDRESS,
    default: constant(() => parseIpv4(DEFAULT_HOST_ADDRESS)!),
    line: (a) => `HostAddress = ${HOST_ADDRESS.toml(a)}`,
  }),
  clatKey("clat", "Uplink", "uplink", {
    type: LINK_NAME,
    default: constant(() => null),
    defaultDoc: "none (RAs from any interface)",
    line: (l) =>
      l === null
        ? "# Uplink: unset, Router Advertisements from any interface (the default)"
        : `Uplink = ${LINK_NAME.toml(l)}`,
  }),
  clatKey("clat", "NeighborProxy", "neighborProxy", {
    type: BOOLEAN,
    default: constant(() => false),
  }),
  clatKey("clat", "Resolver", "resolver", {
    type: RESOLVER,
    default: constant(() => null),
    defaultDoc: "the system's (`/etc/resolv.conf`)",
    line: (r) =>
      r === null
        ? "# Resolver: unset, the system's (/etc/resolv.conf) (the default)"
        : `Resolver = ${RESOLVER.toml(r)}`,
  }),
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
