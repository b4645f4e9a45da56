/**
 * TOML configuration text → validated, deep-frozen {@link Config}.
 *
 * The key names are those of upstream protomask 0.1 (`[Interface] Prefix`,
 * `Pool`; `[Rules] MapStatic`, `ReservationDuration`), so its config files
 * load unchanged; the other keys are ours. Every problem is collected and
 * thrown at once as a {@link ConfigError}. Pure: no I/O.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import {
  formatIpv4,
  formatIpv4Prefix,
  ipv4InPrefix,
  type Ipv4Prefix,
  ipv4PrefixesOverlap,
  ipv4PrefixProblem,
  parseIpv4,
  parseIpv4Prefix,
} from "../addr/ipv4.ts";
import {
  formatIpv6,
  formatIpv6Prefix,
  ipv6Equal,
  ipv6InPrefix,
  type Ipv6Prefix,
  ipv6PrefixesOverlap,
  ipv6PrefixProblem,
  parseIpv6,
  parseIpv6Prefix,
} from "../addr/ipv6.ts";
import { embedIpv4, isRfc6052Length, RFC6052_LENGTHS, U_OCTET_INDEX } from "../addr/rfc6052.ts";
import { isInvalidSource4, isInvalidSource6, isMulticast6 } from "../addr/special.ts";
import { ConfigError, type ConfigProblem } from "./config_error.ts";
import { suggestKey } from "./levenshtein.ts";
import { describeType, tomlKey, tomlString } from "./toml_text.ts";
import { DEFAULT_MAX_QUEUES, defaultQueues, MAX_QUEUES } from "./queues.ts";

export { ConfigError, type ConfigProblem, formatConfigProblem } from "./config_error.ts";

// One definition of a static map, shared with the lease table.
import type { StaticMap } from "../lease/static_map.ts";
import { MIN_MTU } from "../wire/ipv6.ts";
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
}

/** The address of the metrics endpoint (`Metrics.Listen`). */
export interface MetricsListen {
  /** An IPv4 or IPv6 address (IPv6 without brackets), as `Deno.serve` takes it. */
  hostname: string;
  /** TCP port, 1–65535. */
  port: number;
}

/**
 * `Metrics.Listen` as text: `host:port`, with an IPv6 host in brackets.
 * @param l the address
 * @returns e.g. `127.0.0.1:9060` or `[::1]:9060` (also the form of `--allow-net`)
 */
export function formatListen(l: MetricsListen): string {
  return l.hostname.includes(":") ? `[${l.hostname}]:${l.port}` : `${l.hostname}:${l.port}`;
}

/**
 * Parses `host:port` (IPv4 address, or IPv6 address in brackets; port 1–65535).
 * @param text the text
 * @returns the address, or a description of what is wrong
 */
export function parseListen(text: string): MetricsListen | string {
  const m = /^(?:\[([^\]]*)\]|([^:\[\]]*)):([0-9]{1,5})$/.exec(text);
  const allowed = 'expected "address:port", e.g. "127.0.0.1:9060" or "[::1]:9060"';
  if (m === null) return allowed;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return "the port must be 1 to 65535";
  if (m[1] !== undefined) {
    const a = parseIpv6(m[1]);
    return a === null ? "not an IPv6 address in the brackets" : { hostname: formatIpv6(a), port };
  }
  const a = parseIpv4(m[2]!);
  if (a === null) return `${allowed} (the address must be an IP address, not a name)`;
  return { hostname: formatIpv4(a), port };
}

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
/** Linux IFNAMSIZ − 1: the longest interface name in bytes. */
export const MAX_IFNAME_BYTES = 15;

const MAX_U32 = 0xffffffff;
const MAX_ICMP_RATE = 1_000_000;

const TOP_KEYS = ["Interface", "Rules", "Translation", "Logging", "Metrics"] as const;
const INTERFACE_KEYS = [
  "Prefix",
  "Pool",
  "Name",
  "MTU",
  "Address4",
  "Address6",
  "Queues",
  "Offload",
] as const;
const RULES_KEYS = [
  "MapStatic",
  "ReservationDuration",
  "StateFile",
  "AllowedSources",
  "MaxLeasesPerPrefix",
  "LeasePrefixLength",
  "MaxNewLeasesPerSecond",
] as const;
const LOGGING_KEYS = ["MappingLog"] as const;
const METRICS_KEYS = ["Listen"] as const;
/** Default `Rules.LeasePrefixLength`: a /64, one IPv6 subnet (one host, often). */
export const DEFAULT_LEASE_PREFIX_LENGTH = 64;
const MAX_NEW_LEASES_PER_SECOND = 1_000_000;
const TRANSLATION_KEYS = [
  "LowestIPv6MTU",
  "AmendUDPChecksumZero",
  "Pool6791v4",
  "Pool6791v6",
  "AllowNonGlobalWithWKP",
  "SendDropErrors",
  "MTU4",
  "MTU6",
  "ICMPErrorRate",
  "ICMPErrorBurst",
  "ZeroizeTrafficClass",
  "TOS",
] as const;
const STATIC_MAP_KEYS = ["v4", "v6"] as const;

type Table = Record<string, unknown>;
type Read<T> = (value: unknown, path: string) => T | undefined;

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function childPath(parent: string, key: string): string {
  return parent === "" ? tomlKey(key) : `${parent}.${tomlKey(key)}`;
}

/** Shows a prefix as a bare address when it holds one address. */
function showV4(p: Ipv4Prefix): string {
  return p.len === 32 ? formatIpv4(p.addr) : formatIpv4Prefix(p);
}

function showV6(p: Ipv6Prefix): string {
  return p.len === 128 ? formatIpv6(p.addr) : formatIpv6Prefix(p);
}

/** Collects problems while reading the parsed TOML tree. */
class Checker {
  readonly problems: ConfigProblem[] = [];

  report(path: string, value: unknown, message: string): void {
    this.problems.push({ path, value, message });
  }

  /** True when a problem was reported at `path` or below it. */
  failed(path: string): boolean {
    return this.problems.some((p) =>
      p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`)
    );
  }

  /** Checks that `value` is a table and that it has only `keys`. */
  table(value: unknown, path: string, keys: readonly string[]): Table | null {
    if (!isTable(value)) {
      this.report(path, value, `expected a table, got ${describeType(value)}`);
      return null;
    }
    for (const key of Object.keys(value)) {
      if (keys.includes(key)) continue;
      const near = suggestKey(key, keys);
      this.report(
        childPath(path, key),
        undefined,
        near === null
          ? `unknown key (allowed: ${keys.join(", ")})`
          : `unknown key (did you mean "${near}"?)`,
      );
    }
    return value;
  }

  /** Reads an optional key; `undefined` when absent or invalid (then reported). */
  field<T>(t: Table | null, parent: string, key: string, read: Read<T>): T | undefined {
    if (t === null || !Object.hasOwn(t, key)) return undefined;
    return read(t[key], childPath(parent, key));
  }

  string: Read<string> = (v, path) => {
    if (typeof v === "string") return v;
    this.report(path, v, `expected a string, got ${describeType(v)}`);
    return undefined;
  };

  boolean: Read<boolean> = (v, path) => {
    if (typeof v === "boolean") return v;
    this.report(path, v, `expected a boolean (true or false), got ${describeType(v)}`);
    return undefined;
  };

  integer(min: number, max: number): Read<number> {
    return (v, path) => {
      if (typeof v !== "bigint") {
        this.report(path, v, `expected an integer from ${min} to ${max}, got ${describeType(v)}`);
        return undefined;
      }
      if (v < BigInt(min) || v > BigInt(max)) {
        this.report(path, v, `must be an integer from ${min} to ${max}`);
        return undefined;
      }
      return Number(v);
    };
  }

  /** Reads an array, keeping each valid item with its index (for cross-checks). */
  indexed<T>(item: Read<T>): Read<[number, T][]> {
    return (v, path) => {
      if (!Array.isArray(v)) {
        this.report(path, v, `expected an array, got ${describeType(v)}`);
        return undefined;
      }
      const out: [number, T][] = [];
      v.forEach((x, i) => {
        const r = item(x, `${path}[${i}]`);
        if (r !== undefined) out.push([i, r]);
      });
      return out;
    };
  }

  /** Reads an array; `undefined` when it or any item is invalid. */
  array<T>(item: Read<T>): Read<T[]> {
    const read = this.indexed(item);
    return (v, path) => {
      const items = read(v, path);
      if (items === undefined || items.length !== (v as unknown[]).length) return undefined;
      return items.map(([, x]) => x);
    };
  }

  ipv4: Read<number> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const a = parseIpv4(s);
    if (a === null) this.report(path, v, "not an IPv4 address");
    return a ?? undefined;
  };

  ipv6: Read<Uint8Array> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const a = parseIpv6(s);
    if (a === null) this.report(path, v, "not an IPv6 address");
    return a ?? undefined;
  };

  /** An IPv4 address that may be a packet's source (RFC 1812 §5.3.7). */
  sourceIpv4: Read<number> = (v, path) => {
    const a = this.ipv4(v, path);
    if (a === undefined || !isInvalidSource4(a)) return a;
    this.report(path, v, "cannot be a source address");
    return undefined;
  };

  /** An IPv6 address that may be a packet's source (RFC 4291 §2.5.2, §2.5.3, §2.7). */
  sourceIpv6: Read<Uint8Array> = (v, path) => {
    const a = this.ipv6(v, path);
    if (a === undefined || !isInvalidSource6(a, 0)) return a;
    this.report(path, v, "cannot be a source address");
    return undefined;
  };

  ipv4Prefix: Read<Ipv4Prefix> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const p = parseIpv4Prefix(s);
    if (p === null) this.report(path, v, ipv4PrefixProblem(s)!);
    return p ?? undefined;
  };

  ipv6Prefix: Read<Ipv6Prefix> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const p = parseIpv6Prefix(s);
    if (p === null) this.report(path, v, ipv6PrefixProblem(s)!);
    return p ?? undefined;
  };

  /** An RFC 6052 prefix: allowed length and zero u-octet (RFC 6052 §2.2). */
  rfc6052Prefix: Read<Ipv6Prefix> = (v, path) => {
    const p = this.ipv6Prefix(v, path);
    if (p === undefined) return undefined;
    if (!isRfc6052Length(p.len)) {
      this.report(
        path,
        v,
        `prefix length must be one of ${RFC6052_LENGTHS.join(", ")} (RFC 6052 §2.2)`,
      );
      return undefined;
    }
    if (isMulticast6(p.addr, 0)) {
      this.report(path, v, "must not be a multicast prefix (ff00::/8)");
      return undefined;
    }
    if (p.addr[U_OCTET_INDEX] !== 0) {
      this.report(path, v, "bits 64-71 (the RFC 6052 §2.2 u-octet) must be zero");
      return undefined;
    }
    return p;
  };

  /** A TUN name template as Linux accepts it (dev_valid_name, dev_alloc_name). */
  interfaceName: Read<string> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    let problem: string | null = null;
    const bytes = new TextEncoder().encode(s).length;
    if (s === "" || bytes > MAX_IFNAME_BYTES) {
      problem = `must be 1 to ${MAX_IFNAME_BYTES} bytes long`;
    } else if (!/^[\x21-\x7e]+$/.test(s) || /[/:]/.test(s)) {
      problem = "must be printable ASCII without spaces, '/' or ':'";
    } else if (s === "." || s === "..") {
      problem = 'must not be "." or ".."';
    } else if (/%(?!d)/.test(s) || (s.match(/%/g)?.length ?? 0) > 1) {
      problem = "may hold at most one '%d' and no other '%'";
    }
    if (problem === null) return s;
    this.report(path, v, problem);
    return undefined;
  };

  staticMap: Read<StaticMap> = (v, path) => {
    if (!isTable(v)) {
      this.report(path, v, `expected a table { v4 = "…", v6 = "…" }, got ${describeType(v)}`);
      return undefined;
    }
    const t = this.table(v, path, STATIC_MAP_KEYS);
    for (const key of STATIC_MAP_KEYS) {
      if (!Object.hasOwn(v, key)) this.report(childPath(path, key), undefined, "missing key");
    }
    const v4 = this.field(t, path, "v4", this.ipv4Prefix);
    const v6 = this.field(t, path, "v6", this.ipv6Prefix);
    if (v4 === undefined || v6 === undefined) return undefined;
    if (128 - v6.len < 32 - v4.len) {
      this.report(
        path,
        v,
        `the IPv6 side has ${128 - v6.len} host bits, fewer than the ${32 - v4.len} ` +
          "of the IPv4 side (RFC 7757)",
      );
      return undefined;
    }
    return { v4, v6 };
  };
}

function checkPool(c: Checker, pool: [number, Ipv4Prefix][]): void {
  for (let a = 0; a < pool.length; a++) {
    const [i, p] = pool[a]!;
    const earlier = pool.slice(0, a).find(([, o]) => ipv4PrefixesOverlap(p, o));
    if (earlier !== undefined) {
      c.report(
        `Interface.Pool[${i}]`,
        formatIpv4Prefix(p),
        `overlaps Interface.Pool[${earlier[0]}] (${formatIpv4Prefix(earlier[1])})`,
      );
    }
  }
}

function checkStaticMaps(c: Checker, maps: [number, StaticMap][], raw: unknown): void {
  for (let a = 0; a < maps.length; a++) {
    const [i, m] = maps[a]!;
    const path = `Rules.MapStatic[${i}]`;
    const earlier = maps.slice(0, a);
    const dup = earlier.find(([, o]) =>
      m.v4.len === o.v4.len && m.v4.addr === o.v4.addr &&
      m.v6.len === o.v6.len && ipv6Equal(m.v6.addr, 0, o.v6.addr, 0)
    );
    if (dup !== undefined) {
      c.report(path, (raw as unknown[])[i], `duplicate of Rules.MapStatic[${dup[0]}]`);
      continue;
    }
    const over4 = earlier.find(([, o]) => ipv4PrefixesOverlap(m.v4, o.v4));
    if (over4 !== undefined) {
      const [j, o] = over4;
      c.report(`${path}.v4`, showV4(m.v4), `overlaps Rules.MapStatic[${j}].v4 (${showV4(o.v4)})`);
    }
    const over6 = earlier.find(([, o]) => ipv6PrefixesOverlap(m.v6, o.v6));
    if (over6 !== undefined) {
      const [j, o] = over6;
      c.report(`${path}.v6`, showV6(m.v6), `overlaps Rules.MapStatic[${j}].v6 (${showV6(o.v6)})`);
    }
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v)) return v;
  for (const x of Object.values(v)) deepFreeze(x);
  return Object.freeze(v);
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
  c.table(doc, "", TOP_KEYS);
  const sect = (key: string, keys: readonly string[]) =>
    Object.hasOwn(doc, key) ? c.table(doc[key], key, keys) : null;
  const it = sect("Interface", INTERFACE_KEYS);
  const rt = sect("Rules", RULES_KEYS);
  const tt = sect("Translation", TRANSLATION_KEYS);
  const lt = sect("Logging", LOGGING_KEYS);
  const mt = sect("Metrics", METRICS_KEYS);

  // [Interface]
  const prefix = c.field(it, "Interface", "Prefix", c.rfc6052Prefix) ??
    parseIpv6Prefix(DEFAULT_PREFIX)!;
  const poolItems = c.field(it, "Interface", "Pool", c.indexed(c.ipv4Prefix)) ?? [];
  checkPool(c, poolItems);
  const pool = poolItems.map(([, p]) => p);
  const name = c.field(it, "Interface", "Name", c.interfaceName) ?? DEFAULT_NAME;
  const mtu = c.field(it, "Interface", "MTU", c.integer(IPV6_MIN_MTU, MAX_MTU)) ?? DEFAULT_MTU;
  const address4 = c.field(it, "Interface", "Address4", c.sourceIpv4) ??
    parseIpv4(DEFAULT_ADDRESS4)!;
  let address6 = c.field(it, "Interface", "Address6", c.sourceIpv6);
  if (address6 === undefined) {
    address6 = new Uint8Array(16);
    embedIpv4(prefix.addr, prefix.len, address4, address6, 0);
  }
  const queues = c.field(it, "Interface", "Queues", c.integer(1, MAX_QUEUES)) ?? null;
  const offload = c.field(it, "Interface", "Offload", c.boolean) ?? null;

  // [Rules]
  const mapItems = c.field(rt, "Rules", "MapStatic", c.indexed(c.staticMap)) ?? [];
  checkStaticMaps(c, mapItems, rt?.MapStatic);
  const mapStatic = mapItems.map(([, m]) => m);
  const reservationDurationSecs =
    c.field(rt, "Rules", "ReservationDuration", c.integer(1, MAX_U32)) ??
      DEFAULT_RESERVATION_DURATION_SECS;
  const stateFile = c.field(rt, "Rules", "StateFile", (v, path) => {
    const s = c.string(v, path);
    if (s === "") c.report(path, v, "must not be empty (leave the key out to keep no state)");
    return s === "" ? undefined : s;
  }) ?? null;
  const allowedSources = c.field(rt, "Rules", "AllowedSources", c.array(c.ipv6Prefix)) ?? null;
  const maxLeasesPerPrefix = c.field(rt, "Rules", "MaxLeasesPerPrefix", c.integer(1, 0x7fffffff)) ??
    null;
  const leasePrefixLength = c.field(rt, "Rules", "LeasePrefixLength", c.integer(1, 128)) ??
    DEFAULT_LEASE_PREFIX_LENGTH;
  const maxNewLeasesPerSecond = c.field(
    rt,
    "Rules",
    "MaxNewLeasesPerSecond",
    c.integer(1, MAX_NEW_LEASES_PER_SECOND),
  ) ?? null;

  // [Metrics]
  const listen = c.field(mt, "Metrics", "Listen", (v, path) => {
    const s = c.string(v, path);
    if (s === undefined) return undefined;
    const l = parseListen(s);
    if (typeof l === "string") c.report(path, v, l);
    return typeof l === "string" ? undefined : l;
  }) ?? null;

  // [Logging]
  const mappingLog = c.field(lt, "Logging", "MappingLog", (v, path) => {
    const s = c.string(v, path);
    if (s === "") c.report(path, v, "must not be empty (leave the key out for no audit log)");
    return s === "" ? undefined : s;
  }) ?? null;

  // [Translation]
  const T = "Translation";
  const translation = {
    lowestIpv6Mtu: c.field(tt, T, "LowestIPv6MTU", c.integer(IPV6_MIN_MTU, MAX_MTU)) ??
      IPV6_MIN_MTU,
    amendUdpChecksumZero: c.field(tt, T, "AmendUDPChecksumZero", c.boolean) ?? false,
    pool6791v4: c.field(tt, T, "Pool6791v4", c.array(c.sourceIpv4)) ?? [],
    pool6791v6: c.field(tt, T, "Pool6791v6", c.array(c.sourceIpv6)) ?? [],
    allowNonGlobalWithWkp: c.field(tt, T, "AllowNonGlobalWithWKP", c.boolean) ?? false,
    sendDropErrors: c.field(tt, T, "SendDropErrors", c.boolean) ?? true,
    mtu4: c.field(tt, T, "MTU4", c.integer(IPV4_MIN_MTU, MAX_MTU)) ?? mtu,
    mtu6: c.field(tt, T, "MTU6", c.integer(IPV6_MIN_MTU, MAX_MTU)) ?? mtu,
    icmpErrorRatePerSec: c.field(tt, T, "ICMPErrorRate", c.integer(0, MAX_ICMP_RATE)) ??
      DEFAULT_ICMP_ERROR_RATE,
    icmpErrorBurst: c.field(tt, T, "ICMPErrorBurst", c.integer(0, MAX_ICMP_RATE)) ??
      DEFAULT_ICMP_ERROR_BURST,
    zeroizeTrafficClass: c.field(tt, T, "ZeroizeTrafficClass", c.boolean) ?? false,
    tos: c.field(tt, T, "TOS", c.integer(0, 255)) ?? null,
  };
  if (
    translation.icmpErrorRatePerSec > 0 && translation.icmpErrorBurst === 0 &&
    !c.failed(`${T}.ICMPErrorRate`) && !c.failed(`${T}.ICMPErrorBurst`)
  ) {
    c.report(`${T}.ICMPErrorBurst`, 0n, "must be at least 1 when ICMPErrorRate is above 0");
  }

  // Cross-checks between sections.
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

  if (c.problems.length > 0) throw new ConfigError(c.problems, errorOpts);
  return deepFreeze({
    interface: { prefix, pool, name, mtu, address4, address6, queues, offload },
    rules: {
      mapStatic,
      reservationDurationSecs,
      stateFile,
      allowedSources,
      maxLeasesPerPrefix,
      leasePrefixLength,
      maxNewLeasesPerSecond,
    },
    translation,
    logging: { mappingLog },
    metrics: { listen },
  });
}

/**
 * The `Queues` line of {@link formatConfig}: the key when it is set; when it is left out, a
 * comment, since the default depends on the machine (the key stays out so the text parses
 * back to the same configuration).
 */
function queuesLine(queues: number | null, cpus: number | undefined): string {
  if (queues !== null) return `Queues = ${queues}`;
  const rule = `one per CPU, at most ${DEFAULT_MAX_QUEUES}`;
  return cpus === undefined
    ? `# Queues: the default, ${rule}`
    : `# Queues = ${defaultQueues(cpus)} here: the default, ${rule}`;
}

/**
 * The `Offload` line of {@link formatConfig}: the key when it is set, else a comment naming
 * the default (the key stays out so the text parses back to the same configuration).
 */
function offloadLine(offload: boolean | null): string {
  if (offload !== null) return `Offload = ${offload}`;
  return "# Offload: the default, on where the kernel supports it";
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
export function formatConfig(cfg: Config, opts: { cpus?: number } = {}): string {
  const i = cfg.interface;
  const r = cfg.rules;
  const t = cfg.translation;
  const list = (items: string[]) => `[${items.map(tomlString).join(", ")}]`;
  const lines = [
    "# Effective protomask configuration (defaults filled in)",
    "",
    "[Interface]",
    `Prefix = ${tomlString(formatIpv6Prefix(i.prefix))}`,
    `Pool = ${list(i.pool.map(formatIpv4Prefix))}`,
    `Name = ${tomlString(i.name)}`,
    `MTU = ${i.mtu}`,
    `Address4 = ${tomlString(formatIpv4(i.address4))}`,
    `Address6 = ${tomlString(formatIpv6(i.address6))}`,
    queuesLine(i.queues, opts.cpus),
    offloadLine(i.offload),
    "",
    "[Rules]",
  ];
  if (r.mapStatic.length === 0) {
    lines.push("MapStatic = []");
  } else {
    lines.push("MapStatic = [");
    for (const m of r.mapStatic) {
      lines.push(`  { v4 = ${tomlString(showV4(m.v4))}, v6 = ${tomlString(showV6(m.v6))} },`);
    }
    lines.push("]");
  }
  lines.push(`ReservationDuration = ${r.reservationDurationSecs}`);
  if (r.stateFile !== null) lines.push(`StateFile = ${tomlString(r.stateFile)}`);
  if (r.allowedSources !== null) {
    lines.push(`AllowedSources = ${list(r.allowedSources.map(formatIpv6Prefix))}`);
  }
  if (r.maxLeasesPerPrefix !== null) lines.push(`MaxLeasesPerPrefix = ${r.maxLeasesPerPrefix}`);
  lines.push(`LeasePrefixLength = ${r.leasePrefixLength}`);
  if (r.maxNewLeasesPerSecond !== null) {
    lines.push(`MaxNewLeasesPerSecond = ${r.maxNewLeasesPerSecond}`);
  }
  lines.push(
    "",
    "[Translation]",
    `LowestIPv6MTU = ${t.lowestIpv6Mtu}`,
    `AmendUDPChecksumZero = ${t.amendUdpChecksumZero}`,
    `Pool6791v4 = ${list(t.pool6791v4.map(formatIpv4))}`,
    `Pool6791v6 = ${list(t.pool6791v6.map((a) => formatIpv6(a)))}`,
    `AllowNonGlobalWithWKP = ${t.allowNonGlobalWithWkp}`,
    `SendDropErrors = ${t.sendDropErrors}`,
    `MTU4 = ${t.mtu4}`,
    `MTU6 = ${t.mtu6}`,
    `ICMPErrorRate = ${t.icmpErrorRatePerSec}`,
    `ICMPErrorBurst = ${t.icmpErrorBurst}`,
    `ZeroizeTrafficClass = ${t.zeroizeTrafficClass}`,
  );
  if (t.tos !== null) lines.push(`TOS = ${t.tos}`);
  if (cfg.logging.mappingLog !== null) {
    lines.push("", "[Logging]", `MappingLog = ${tomlString(cfg.logging.mappingLog)}`);
  }
  lines.push("", "[Metrics]");
  lines.push(
    cfg.metrics.listen === null
      ? "# Listen: off (the default)"
      : `Listen = ${tomlString(formatListen(cfg.metrics.listen))}`,
  );
  return lines.join("\n") + "\n";
}
