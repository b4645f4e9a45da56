/**
 * The kinds of value a configuration key holds: how each is read and validated (through a
 * {@link Checker}) and how it is written back as TOML text. The key table (./keys.ts) gives
 * each key one of these. Pure: no I/O.
 *
 * @module
 */

import { formatIpv4, formatIpv4Prefix, type Ipv4Prefix } from "../addr/ipv4.ts";
import { formatIpv6, formatIpv6Prefix, type Ipv6Prefix } from "../addr/ipv6.ts";
import type { StaticMap } from "../lease/static_map.ts";
import {
  Checker,
  checkNoDuplicates,
  checkPool,
  checkStaticMaps,
  type Read,
  showV4,
  showV6,
} from "./checker.ts";
import {
  formatListen,
  formatResolver,
  type MetricsListen,
  type ResolverAddress,
} from "./listen.ts";
import { tomlString } from "./toml_text.ts";

/** One kind of configuration value. */
export interface ValueType<T> {
  /** What the value is, in words (for documentation). */
  name: string;
  /** `list` for an array of values (1.x JSON gives each item its own origin), else `scalar`. */
  shape: "scalar" | "list";
  /** The reader that validates a parsed TOML value, reporting to the checker. */
  read: (c: Checker) => Read<T>;
  /** The value as TOML text (the right-hand side of `Key = …`). */
  toml: (v: T) => string;
}

const list = (items: string[]) => `[${items.map(tomlString).join(", ")}]`;

/** A boolean. */
export const BOOLEAN: ValueType<boolean> = {
  name: "boolean",
  shape: "scalar",
  read: (c) => c.boolean,
  toml: (v) => `${v}`,
};

/**
 * An integer in a range.
 * @param min smallest value allowed
 * @param max largest value allowed
 * @returns the value type
 */
export function integer(min: number, max: number): ValueType<number> {
  return {
    name: `integer ${min}–${max}`,
    shape: "scalar",
    read: (c) => c.integer(min, max),
    toml: (v) => `${v}`,
  };
}

/**
 * A file name (a string that is not empty).
 * @param emptyMessage the message for an empty string (what to do instead)
 * @returns the value type
 */
export function fileName(emptyMessage: string): ValueType<string> {
  return {
    name: "file name",
    shape: "scalar",
    read: (c) => c.fileName(emptyMessage),
    toml: tomlString,
  };
}

/** An RFC 6052 prefix (allowed length, not multicast, u-octet zero). */
export const RFC6052_PREFIX: ValueType<Ipv6Prefix> = {
  name: "RFC 6052 prefix",
  shape: "scalar",
  read: (c) => c.rfc6052Prefix,
  toml: (p) => tomlString(formatIpv6Prefix(p)),
};

/** A TUN name template as Linux accepts it. */
export const TUN_NAME: ValueType<string> = {
  name: "TUN name template",
  shape: "scalar",
  read: (c) => c.interfaceName,
  toml: tomlString,
};

/** An IPv4 address that may be a packet's source. */
export const SOURCE_IPV4: ValueType<number> = {
  name: "IPv4 address",
  shape: "scalar",
  read: (c) => c.sourceIpv4,
  toml: (a) => tomlString(formatIpv4(a)),
};

/** An IPv6 address that may be a packet's source. */
export const SOURCE_IPV6: ValueType<Uint8Array> = {
  name: "IPv6 address",
  shape: "scalar",
  read: (c) => c.sourceIpv6,
  toml: (a) => tomlString(formatIpv6(a)),
};

/** A list of IPv4 prefixes whose items are checked together by `check`; valid ones kept. */
function ipv4PrefixList(
  check: (c: Checker, items: [number, Ipv4Prefix][], path: string) => void,
): ValueType<Ipv4Prefix[]> {
  return {
    name: "IPv4 prefixes",
    shape: "list",
    read: (c) => {
      const read = c.indexed(c.ipv4Prefix);
      return (v, path) => {
        const items = read(v, path);
        if (items === undefined) return undefined;
        check(c, items, path);
        return items.map(([, p]) => p);
      };
    },
    toml: (ps) => list(ps.map(formatIpv4Prefix)),
  };
}

/** IPv4 prefixes that must not overlap (the pool); the valid ones are kept. */
export const POOL_PREFIXES: ValueType<Ipv4Prefix[]> = ipv4PrefixList(checkPool);

/** Static maps `{ v4, v6 }`, none repeated or overlapping; the valid ones are kept. */
export const STATIC_MAPS: ValueType<StaticMap[]> = {
  name: "static maps",
  shape: "list",
  read: (c) => {
    const read = c.indexed(c.staticMap);
    return (v, path) => {
      const items = read(v, path);
      if (items === undefined) return undefined;
      checkStaticMaps(c, items, v);
      return items.map(([, m]) => m);
    };
  },
  toml: (maps) => {
    if (maps.length === 0) return "[]";
    const lines = maps.map((m) =>
      `  { v4 = ${tomlString(showV4(m.v4))}, v6 = ${tomlString(showV6(m.v6))} },`
    );
    return ["[", ...lines, "]"].join("\n");
  },
};

/** IPv6 prefixes. */
export const IPV6_PREFIXES: ValueType<Ipv6Prefix[]> = {
  name: "IPv6 prefixes",
  shape: "list",
  read: (c) => c.array(c.ipv6Prefix),
  toml: (ps) => list(ps.map(formatIpv6Prefix)),
};

/** IPv4 addresses that may be a packet's source. */
export const SOURCE_IPV4_LIST: ValueType<number[]> = {
  name: "IPv4 addresses",
  shape: "list",
  read: (c) => c.array(c.sourceIpv4),
  toml: (as) => list(as.map(formatIpv4)),
};

/** IPv6 addresses that may be a packet's source. */
export const SOURCE_IPV6_LIST: ValueType<Uint8Array[]> = {
  name: "IPv6 addresses",
  shape: "list",
  read: (c) => c.array(c.sourceIpv6),
  toml: (as) => list(as.map((a) => formatIpv6(a))),
};

/** `host:port` of the metrics endpoint. */
export const LISTEN: ValueType<MetricsListen> = {
  name: "address:port",
  shape: "scalar",
  read: (c) => c.listen,
  toml: (l) => tomlString(formatListen(l)),
};

/** `Clat.Via`: "auto" (null: discovered, RFC 8781 then RFC 7050) or an RFC 6052 prefix. */
export const CLAT_VIA: ValueType<Ipv6Prefix | null> = {
  name: 'RFC 6052 prefix or "auto"',
  shape: "scalar",
  read: (c) => c.clatVia,
  toml: (p) => tomlString(p === null ? "auto" : formatIpv6Prefix(p)),
};

/** `Clat.Source6`: "embed" (null: into `Via`) or an IPv6 prefix. */
export const SOURCE6: ValueType<Ipv6Prefix | null> = {
  name: 'IPv6 prefix or "embed"',
  shape: "scalar",
  read: (c) => c.source6,
  toml: (p) => tomlString(p === null ? "embed" : formatIpv6Prefix(p)),
};

/** IPv4 prefixes to route, none repeated (`Clat.Routes4`); the valid ones are kept. */
export const ROUTES4: ValueType<Ipv4Prefix[]> = ipv4PrefixList(checkNoDuplicates);

/** An IPv4 address that may be a source, or "" (null) for none (`Clat.HostAddress`). */
export const HOST_ADDRESS: ValueType<number | null> = {
  name: 'IPv4 address or ""',
  shape: "scalar",
  read: (c) => c.hostAddress,
  toml: (a) => tomlString(a === null ? "" : formatIpv4(a)),
};

/** The name of a network interface (`Clat.Uplink`). */
export const LINK_NAME: ValueType<string> = {
  name: "interface name",
  shape: "scalar",
  read: (c) => c.linkName,
  toml: tomlString,
};

/** A DNS server's address and port (`Clat.Resolver`). */
export const RESOLVER: ValueType<ResolverAddress> = {
  name: "address[:port]",
  shape: "scalar",
  read: (c) => c.resolver,
  toml: (r) => tomlString(formatResolver(r)),
};
