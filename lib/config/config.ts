/**
 * TOML configuration text → validated, deep-frozen {@link Config}, and back
 * ({@link formatConfig}, what `check-config` prints).
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
import { formatIpv6, ipv6InPrefix, type Ipv6Prefix } from "../addr/ipv6.ts";
import { Checker, type Table } from "./checker.ts";
import { ConfigError } from "./config_error.ts";
import {
  type ConfigSoFar,
  type FormatOptions,
  keyLine,
  READ_ORDER,
  type SectionField,
  sectionKeys,
  SECTIONS,
} from "./keys.ts";
import type { MetricsListen } from "./listen.ts";

export { ConfigError, type ConfigProblem, formatConfigProblem } from "./config_error.ts";
export { formatListen, type MetricsListen, parseListen } from "./listen.ts";
export { MAX_IFNAME_BYTES } from "./checker.ts";
export {
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
} from "./keys.ts";

// One definition of a static map, shared with the lease table.
import type { StaticMap } from "../lease/static_map.ts";
export type { StaticMap };
import type { NameServer } from "../clat/rfc7050.ts";

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

/** The `[Clat]` settings that have no counterpart in the translator's sections. */
export interface ClatSection {
  /** The customers' IPv4 prefixes (`Clat.CustomerPool`). */
  customerPool: Ipv4Prefix[];
  /**
   * The PLAT prefix in use (`Clat.Via`, also `interface.prefix`); null while `Via = "auto"` has
   * discovered nothing (then the daemon routes no IPv4 into the CLAT).
   */
  via: Ipv6Prefix | null;
  /** `Via = "auto"`: the prefix is discovered (RFC 8781 Router Advertisements, then RFC 7050). */
  viaAuto: boolean;
  /** The IPv4 address assigned to the TUN for local applications (`Clat.HostAddress`), or null. */
  hostAddress: number | null;
  /** The customers' IPv6 prefix (`Clat.Source6`), or null for `"embed"` (into `Via`). */
  source6: Ipv6Prefix | null;
  /** IPv4 destinations routed into the CLAT (`Clat.Routes4`). */
  routes4: Ipv4Prefix[];
  /** The interface facing the IPv6 network (`Clat.Uplink`): RAs and proxy ND; null for any. */
  uplink: string | null;
  /** Proxy Neighbor Discovery on `uplink` for every customer's `Source6` address. */
  neighborProxy: boolean;
  /** The DNS server for RFC 7050 (`Clat.Resolver`), or null for the system's. */
  resolver: NameServer | null;
}

function deepFreeze<T>(v: T): T {
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v)) return v;
  for (const x of Object.values(v)) deepFreeze(x);
  return Object.freeze(v);
}

/** Reads every key of the table, section by section in {@link READ_ORDER}. */
function readKeys(c: Checker, doc: Table): Config {
  c.table(doc, "", SECTIONS.map((s) => s.name));
  const tables = new Map<SectionField, Table | null>();
  for (const s of SECTIONS) {
    const keys = sectionKeys(s.field).map((k) => k.name);
    tables.set(s.field, Object.hasOwn(doc, s.name) ? c.table(doc[s.name], s.name, keys) : null);
  }
  const soFar: ConfigSoFar = {
    interface: {},
    rules: {},
    translation: {},
    logging: {},
    metrics: {},
  };
  for (const section of READ_ORDER) {
    const name = SECTIONS.find((s) => s.field === section)!.name;
    const values = soFar[section] as Record<string, unknown>;
    for (const k of sectionKeys(section)) {
      const v = c.field(tables.get(section)!, name, k.name, k.type.read(c));
      values[k.field] = v ?? k.default(soFar);
    }
  }
  return { ...soFar, clat: null } as Config;
}

/** The checks across keys, after every key was read. */
function crossCheck(c: Checker, cfg: Config): void {
  const { address4, address6, pool } = cfg.interface;
  const { mapStatic } = cfg.rules;
  const translation = cfg.translation;
  const T = "Translation";
  if (
    translation.icmpErrorRatePerSec > 0 && translation.icmpErrorBurst === 0 &&
    !c.failed(`${T}.ICMPErrorRate`) && !c.failed(`${T}.ICMPErrorBurst`)
  ) {
    c.report(`${T}.ICMPErrorBurst`, 0n, "must be at least 1 when ICMPErrorRate is above 0");
  }

  // Between sections.
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
    !c.problems.some((p) => p.path === "Interface" || p.path === "Rules") &&
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
 * @param text TOML text.
 * @param opts `path`: the file name, used in the error message header.
 * @returns The configuration, deep-frozen (typed arrays excepted).
 * @throws {ConfigError} Listing every problem; a TOML syntax error carries line and column.
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(parseConfig('[Interface]\nPool = ["192.0.2.0/24"]').interface.prefix.len, 96);
 * ```
 */
export function parseConfig(text: string, opts: { path?: string } = {}): Config {
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
  const config = readKeys(c, doc);
  crossCheck(c, config);
  if (c.problems.length > 0) throw new ConfigError(c.problems, errorOpts);
  return deepFreeze(config);
}

/**
 * Renders a configuration as TOML text with every key explicit (the
 * effective configuration, defaults filled in). `parseConfig()` of the
 * result gives an equal configuration.
 *
 * @param cfg A configuration from {@link parseConfig}.
 * @param opts `cpus`: this machine's CPU count, to show the default number of queues when
 *   `Interface.Queues` is left out (it then appears as a comment).
 * @returns TOML text ending in a newline.
 */
export function formatConfig(cfg: Config, opts: FormatOptions = {}): string {
  const lines = ["# Effective protomask configuration (defaults filled in)"];
  for (const s of SECTIONS) {
    const values = cfg[s.field] as Record<string, unknown>;
    const body = sectionKeys(s.field)
      .map((k) => keyLine(k, values[k.field], opts))
      .filter((l) => l !== null);
    if (body.length > 0) lines.push("", `[${s.name}]`, ...body);
  }
  return lines.join("\n") + "\n";
}
