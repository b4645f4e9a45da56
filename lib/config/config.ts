/**
 * TOML configuration text → validated, deep-frozen {@link Config}, and back
 * ({@link formatConfig}, what `check-config` prints), for the NAT64 translator and for the
 * CLAT (`protomask clat`: sections `[Clat]`, `[Translation]`, `[Metrics]`).
 *
 * The key names are those of upstream protomask 0.1 (`[Interface] Prefix`,
 * `Pool`; `[Rules] MapStatic`, `ReservationDuration`), so its config files
 * load unchanged; the other keys are ours. Every key, its type, default and aliases are in
 * one table, ./keys.ts; this file walks it and adds the checks across keys. Every problem is
 * collected and thrown at once as a {@link ConfigError}. Pure: no I/O.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { formatIpv4, ipv4InPrefix, type Ipv4Prefix } from "../addr/ipv4.ts";
import { formatIpv6, ipv6InPrefix, type Ipv6Prefix, parseIpv6Prefix } from "../addr/ipv6.ts";
import { Checker, type Table } from "./checker.ts";
import { type ClatSection, crossCheckClat } from "./clat.ts";
import { deepFreeze } from "./freeze.ts";
import { ConfigError } from "./config_error.ts";
import {
  type ConfigMode,
  type ConfigSoFar,
  DEFAULT_PREFIX,
  type FormatOptions,
  keyLine,
  READ_ORDER,
  sectionsOf,
  tableKeys,
} from "./keys.ts";
import type { MetricsListen } from "./listen.ts";

export { ConfigError, type ConfigProblem, formatConfigProblem } from "./config_error.ts";
export {
  formatListen,
  formatResolver,
  type MetricsListen,
  parseListen,
  parseResolver,
  type ResolverAddress,
} from "./listen.ts";
export type { ConfigMode } from "./keys.ts";
export { type ClatSection, withDiscoveredVia } from "./clat.ts";
export { MAX_IFNAME_BYTES } from "./checker.ts";
export {
  DEFAULT_ADDRESS4,
  DEFAULT_CLAT_ADDRESS4,
  DEFAULT_CLAT_NAME,
  DEFAULT_CUSTOMER_POOL,
  DEFAULT_HOST_ADDRESS,
  DEFAULT_ICMP_ERROR_BURST,
  DEFAULT_ICMP_ERROR_RATE,
  DEFAULT_LEASE_PREFIX_LENGTH,
  DEFAULT_MTU,
  DEFAULT_NAME,
  DEFAULT_PREFIX,
  DEFAULT_RESERVATION_DURATION_SECS,
  DEFAULT_ROUTES4,
  IPV4_MIN_MTU,
  IPV6_MIN_MTU,
  MAX_MTU,
} from "./keys.ts";

// One definition of a static map, shared with the lease table.
import type { StaticMap } from "../lease/static_map.ts";
export type { StaticMap };

/** The validated configuration. Every object in it is frozen. */
export interface Config {
  /** `[Interface]`: the TUN device, the prefix and the pool. */
  readonly interface: {
    /** RFC 6052 prefix (`Interface.Prefix`). */
    prefix: Ipv6Prefix;
    /** IPv4 prefixes leased to IPv6 hosts (`Interface.Pool`). */
    pool: Ipv4Prefix[];
    /** TUN name template (`Interface.Name`). */
    name: string;
    /** TUN MTU in bytes (`Interface.MTU`). */
    mtu: number;
    /** Translator's own IPv4 address, uint32 (`Interface.Address4`). */
    address4: number;
    /** Translator's own IPv6 address, 16 bytes (`Interface.Address6`). */
    address6: Uint8Array;
    /**
     * TUN queues, one packet Worker each (`Interface.Queues`), or null for the default: one
     * per CPU, at most 8, which the daemon resolves with `effectiveQueues()` (./queues.ts).
     */
    queues: number | null;
    /**
     * TUN offloads (`Interface.Offload`): checksum, TSO and USO super-packets through
     * `IFF_VNET_HDR`; null for the default, on where the kernel supports it.
     */
    offload: boolean | null;
  };
  /** `[Rules]`: static maps and leases. */
  readonly rules: {
    /** Static maps (`Rules.MapStatic`). */
    mapStatic: StaticMap[];
    /** Idle time before a dynamic lease ends (`Rules.ReservationDuration`). */
    reservationDurationSecs: number;
    /** Lease persistence file, or `null` when off (`Rules.StateFile`). */
    stateFile: string | null;
    /** IPv6 prefixes that may get a dynamic lease, or null for all (`Rules.AllowedSources`). */
    allowedSources: Ipv6Prefix[] | null;
    /** Most dynamic leases per `leasePrefixLength` prefix, or null for no limit. */
    maxLeasesPerPrefix: number | null;
    /** Prefix length `maxLeasesPerPrefix` counts by (`Rules.LeasePrefixLength`). */
    leasePrefixLength: number;
    /** New dynamic leases per second (a token bucket), or null for no limit. */
    maxNewLeasesPerSecond: number | null;
  };
  /** `[Metrics]`: the Prometheus endpoint. */
  readonly metrics: {
    /** Where `/metrics` and `/healthz` listen (`Metrics.Listen`), or null when off. */
    listen: MetricsListen | null;
  };
  /** `[Translation]`: RFC 7915 knobs. */
  readonly translation: {
    /** RFC 7915 `lowest-ipv6-mtu` (`Translation.LowestIPv6MTU`). */
    lowestIpv6Mtu: number;
    /** Compute zero IPv4 UDP checksums (`Translation.AmendUDPChecksumZero`). */
    amendUdpChecksumZero: boolean;
    /** RFC 6791 IPv4 addresses (`Translation.Pool6791v4`). */
    pool6791v4: number[];
    /** RFC 6791 IPv6 addresses (`Translation.Pool6791v6`). */
    pool6791v6: Uint8Array[];
    /** Translate non-global IPv4 with the WKP (`Translation.AllowNonGlobalWithWKP`). */
    allowNonGlobalWithWkp: boolean;
    /** Answer policy drops with ICMP errors (`Translation.SendDropErrors`). */
    sendDropErrors: boolean;
    /** Next-hop MTU toward IPv4 (`Translation.MTU4`). */
    mtu4: number;
    /** Next-hop MTU toward IPv6 (`Translation.MTU6`). */
    mtu6: number;
    /** Originated ICMP errors per second (`Translation.ICMPErrorRate`). */
    icmpErrorRatePerSec: number;
    /** Token bucket depth (`Translation.ICMPErrorBurst`). */
    icmpErrorBurst: number;
    /** 4→6: traffic class 0 instead of the TOS (`Translation.ZeroizeTrafficClass`, RFC 7915 §4.1). */
    zeroizeTrafficClass: boolean;
    /** 6→4: this TOS instead of the traffic class, or null to copy (`Translation.TOS`, RFC 7915 §5.1). */
    tos: number | null;
  };
  /** `[Logging]`: where the daemon writes besides stderr. */
  readonly logging: {
    /** The lease audit log (JSON lines), or `null` when off (`Logging.MappingLog`). */
    mappingLog: string | null;
  };
  /**
   * `[Clat]`: the customer side of 464XLAT (`main.ts clat`, RFC 6877), or null for the NAT64
   * translator. A CLAT configuration fills `interface` from `[Clat]` too (its name, MTU and
   * addresses; `prefix` is `Via`) and has no pool, static maps or leases.
   */
  readonly clat: ClatSection | null;
}

/** What {@link parseConfig} is asked for besides the text. */
export interface ParseOptions {
  /** The file name, used in the error message header. */
  path?: string;
  /** Which program the configuration is for: `translator` (the default) or `clat`. */
  mode?: ConfigMode;
}

/** Why a section of the other program is refused, by its TOML name. */
const REFUSED_SECTION: Record<string, string> = {
  Interface: "the CLAT's TUN device and addresses are set in [Clat]",
  Rules: "a CLAT has no pool, static maps or leases",
  Logging: "a CLAT keeps no lease audit log",
  Clat: "it configures the CLAT: run `protomask clat` with this file",
};

/** Reads every key of the program's sections, section by section in {@link READ_ORDER}. */
function readKeys(c: Checker, doc: Table, mode: ConfigMode): Config {
  const own = sectionsOf(mode).map((s) => s.name);
  const program = mode === "clat" ? "a CLAT configuration" : "a translator configuration";
  const root: Table = {};
  for (const [name, v] of Object.entries(doc)) {
    if (own.includes(name) || !Object.hasOwn(REFUSED_SECTION, name)) {
      Object.defineProperty(root, name, { value: v, enumerable: true });
    } else {
      c.report(
        name,
        undefined,
        `not a section of ${program}: ${REFUSED_SECTION[name]} (its sections: ${own.join(", ")})`,
      );
    }
  }
  c.table(root, "", own);
  const tables = new Map<string, Table | null>();
  for (const name of own) {
    const keys = tableKeys(name).map((k) => k.name);
    tables.set(name, Object.hasOwn(root, name) ? c.table(root[name], name, keys) : null);
  }
  const soFar: ConfigSoFar = {
    interface: {},
    rules: {},
    translation: {},
    logging: {},
    metrics: {},
    clat: {},
  };
  for (const name of READ_ORDER) {
    // A CLAT configuration holds the translator's defaults for the rules and logging.
    const defaultsOnly = mode === "clat" && (name === "Rules" || name === "Logging");
    if (!own.includes(name) && !defaultsOnly) continue;
    for (const k of tableKeys(name)) {
      const values = soFar[k.section] as Record<string, unknown>;
      const v = c.field(tables.get(name) ?? null, name, k.name, k.type.read(c));
      values[k.field] = v === undefined ? k.default(soFar) : v;
    }
  }
  if (mode === "translator") return { ...soFar, clat: null } as Config;
  const via = soFar.clat.via!;
  soFar.clat.viaAuto = via === null;
  soFar.interface.prefix = via ?? parseIpv6Prefix(DEFAULT_PREFIX)!;
  soFar.interface.pool = [];
  return soFar as Config;
}

/** The checks across keys, after every key was read. */
function crossCheck(c: Checker, cfg: Config): void {
  if (cfg.clat !== null) {
    crossCheckClat(c, cfg);
    crossCheckTranslation(c, cfg);
    return;
  }
  crossCheckTranslation(c, cfg);
  crossCheckTranslator(c, cfg);
}

/** The checks within `[Translation]`. */
function crossCheckTranslation(c: Checker, cfg: Config): void {
  const translation = cfg.translation;
  const T = "Translation";
  if (
    translation.icmpErrorRatePerSec > 0 && translation.icmpErrorBurst === 0 &&
    !c.failed(`${T}.ICMPErrorRate`) && !c.failed(`${T}.ICMPErrorBurst`)
  ) {
    c.report(`${T}.ICMPErrorBurst`, 0n, "must be at least 1 when ICMPErrorRate is above 0");
  }
}

/** The translator's checks between sections. */
function crossCheckTranslator(c: Checker, cfg: Config): void {
  const { address4, address6, pool } = cfg.interface;
  const { mapStatic } = cfg.rules;
  if (!c.failed("Interface.Address4")) {
    const inPool = pool.findIndex((p) => ipv4InPrefix(address4, p));
    const inMap = mapStatic.findIndex((m) => ipv4InPrefix(address4, m.v4));
    if (inPool !== -1) {
      c.report(
        "Interface.Address4",
        formatIpv4(address4),
        `must not be inside Interface.Pool[${inPool}] (it would be leased to a host too)`,
      );
    } else if (inMap !== -1) {
      c.report(
        "Interface.Address4",
        formatIpv4(address4),
        `must not be inside Rules.MapStatic[${inMap}].v4 (it belongs to a mapped host)`,
      );
    }
  }
  if (!c.failed("Interface.Address6")) {
    const inMap = mapStatic.findIndex((m) => ipv6InPrefix(address6, 0, m.v6));
    if (inMap !== -1) {
      c.report(
        "Interface.Address6",
        formatIpv6(address6),
        `must not be inside Rules.MapStatic[${inMap}].v6 (it belongs to a mapped host)`,
      );
    }
  }
  if (
    pool.length === 0 && mapStatic.length === 0 &&
    !c.problems.some((p) => p.path === "Interface" || p.path === "Rules" || p.path === "Clat") &&
    !c.failed("Interface.Pool") && !c.failed("Rules.MapStatic")
  ) {
    c.report(
      "Interface.Pool",
      [],
      "nothing to translate for: add Interface.Pool or Rules.MapStatic",
    );
  }
}

/**
 * Parses and validates protomask configuration text.
 *
 * Unknown keys, wrong types, bad addresses and prefixes, RFC 6052 §2.2
 * prefix lengths and u-octet, RFC 7757 EAM sizes, overlapping pool
 * entries and static maps, and a config with nothing to translate are all
 * reported together. A static map whose IPv4 side lies in `Interface.Pool`
 * is allowed: those addresses are simply not leased dynamically.
 *
 * With `mode: "clat"` the text is a CLAT configuration (`[Clat]`, `[Translation]`,
 * `[Metrics]`; see {@link ClatSection}), checked the same way, with its own checks across
 * keys: `CustomerPool` not empty and not overlapping; `Source6` not overlapping `Via` and,
 * longer than /96, with room for every customer; `NeighborProxy` only with `Uplink` and a
 * `Source6` prefix; `Address6` given when `Via` is "auto" and its default needs `Via`;
 * `HostAddress` a customer's address other than `Address4`. Each program refuses the
 * other's sections by name.
 *
 * @param text TOML text.
 * @param opts `path`: the file name, used in the error message header; `mode`: the
 *   program, `translator` (the default) or `clat`.
 * @returns The configuration, deep-frozen (typed arrays excepted).
 * @throws {ConfigError} Listing every problem; a TOML syntax error carries line and column.
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(parseConfig('[Interface]\nPool = ["192.0.2.0/24"]').interface.prefix.len, 96);
 * strictEqual(parseConfig('[Clat]\nMTU = 1400', { mode: "clat" }).interface.name, "clat%d");
 * ```
 */
export function parseConfig(text: string, opts: ParseOptions = {}): Config {
  const errorOpts = opts.path === undefined ? {} : { file: opts.path };
  let doc: Table;
  try {
    doc = parse(text, { integersAsBigInt: true }) as Table;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const reason = e.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
    throw new ConfigError([{
      path: "",
      value: undefined,
      message: `TOML syntax error at line ${e.line}, column ${e.column}: ${reason}`,
      line: e.line,
      column: e.column,
    }], errorOpts);
  }

  const c = new Checker();
  const config = readKeys(c, doc, opts.mode ?? "translator");
  crossCheck(c, config);
  if (c.problems.length > 0) throw new ConfigError(c.problems, errorOpts);
  return deepFreeze(config);
}

/**
 * Renders a configuration as TOML text with every key explicit (the
 * effective configuration, defaults filled in). `parseConfig()` of the
 * result gives an equal configuration.
 *
 * A CLAT configuration (`cfg.clat` set) is written as one: its `[Clat]`, `[Translation]`
 * and `[Metrics]`, to be read back with `parseConfig(text, { mode: "clat" })`.
 *
 * @param cfg A configuration from {@link parseConfig}.
 * @param opts `cpus`: this machine's CPU count, to show the default number of queues when
 *   `Interface.Queues` (`Clat.Queues`) is left out (it then appears as a comment).
 * @returns TOML text ending in a newline.
 */
export function formatConfig(cfg: Config, opts: FormatOptions = {}): string {
  const mode = configMode(cfg);
  const lines = [
    mode === "clat"
      ? "# Effective protomask clat configuration (defaults filled in)"
      : "# Effective protomask configuration (defaults filled in)",
  ];
  for (const s of sectionsOf(mode)) {
    const body = tableKeys(s.name)
      .map((k) => keyLine(k, (cfg[k.section] as Record<string, unknown>)[k.field], opts))
      .filter((l) => l !== null);
    if (body.length > 0) lines.push("", `[${s.name}]`, ...body);
  }
  return lines.join("\n") + "\n";
}

/**
 * Which program a configuration is for.
 * @param cfg a configuration from {@link parseConfig}
 * @returns `clat` when it has a `[Clat]` section's settings, else `translator`
 */
export function configMode(cfg: Config): ConfigMode {
  return cfg.clat === null ? "translator" : "clat";
}
