/**
 * The validators of the configuration: a {@link Checker} collects every problem while the
 * parsed TOML tree is read, with one reader per kind of value (integer in a range, address,
 * prefix, RFC 6052 prefix, TUN name, static map). Pool and static-map overlap checks too.
 * Pure: no I/O.
 *
 * @module
 */

import {
  formatIpv4,
  formatIpv4Prefix,
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
  type Ipv6Prefix,
  ipv6PrefixesOverlap,
  ipv6PrefixProblem,
  parseIpv6,
  parseIpv6Prefix,
} from "../addr/ipv6.ts";
import { isRfc6052Length, RFC6052_LENGTHS, U_OCTET_INDEX } from "../addr/rfc6052.ts";
import { isInvalidSource4, isInvalidSource6, isMulticast6 } from "../addr/special.ts";
import type { StaticMap } from "../lease/static_map.ts";
import type { ConfigProblem } from "./config_error.ts";
import { suggestKey } from "./levenshtein.ts";
import { type MetricsListen, parseListen, parseResolver, type ResolverAddress } from "./listen.ts";
import { describeType, tomlKey } from "./toml_text.ts";

/** Linux IFNAMSIZ − 1: the longest interface name in bytes. */
export const MAX_IFNAME_BYTES = 15;

const STATIC_MAP_KEYS = ["v4", "v6"] as const;

/** A TOML table as parsed. */
export type Table = Record<string, unknown>;
/** Reads one value at `path`: the value, or `undefined` when it is invalid (then reported). */
export type Read<T> = (value: unknown, path: string) => T | undefined;

/** True for a TOML table (not an array or a date). */
export function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The path of `key` inside `parent`, as messages spell it. */
export function childPath(parent: string, key: string): string {
  return parent === "" ? tomlKey(key) : `${parent}.${tomlKey(key)}`;
}

/** Shows a prefix as a bare address when it holds one address. */
export function showV4(p: Ipv4Prefix): string {
  return p.len === 32 ? formatIpv4(p.addr) : formatIpv4Prefix(p);
}

/** Shows a prefix as a bare address when it holds one address. */
export function showV6(p: Ipv6Prefix): string {
  return p.len === 128 ? formatIpv6(p.addr) : formatIpv6Prefix(p);
}

/** Collects problems while reading the parsed TOML tree. */
export class Checker {
  /** Every problem so far, in the order found. */
  readonly problems: ConfigProblem[] = [];

  /** Records a problem at `path` (`value` undefined when the key itself is wrong). */
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

  /** A string. */
  string: Read<string> = (v, path) => {
    if (typeof v === "string") return v;
    this.report(path, v, `expected a string, got ${describeType(v)}`);
    return undefined;
  };

  /** A boolean. */
  boolean: Read<boolean> = (v, path) => {
    if (typeof v === "boolean") return v;
    this.report(path, v, `expected a boolean (true or false), got ${describeType(v)}`);
    return undefined;
  };

  /** An integer from `min` to `max`, as a number. */
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

  /** An IPv4 address, as a uint32. */
  ipv4: Read<number> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const a = parseIpv4(s);
    if (a === null) this.report(path, v, "not an IPv4 address");
    return a ?? undefined;
  };

  /** An IPv6 address, 16 bytes. */
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

  /** An IPv4 prefix (a bare address is a /32), host bits zero. */
  ipv4Prefix: Read<Ipv4Prefix> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const p = parseIpv4Prefix(s);
    if (p === null) this.report(path, v, ipv4PrefixProblem(s)!);
    return p ?? undefined;
  };

  /** An IPv6 prefix (a bare address is a /128), host bits zero. */
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
    let problem = nameProblem(s);
    if (problem === null && (/%(?!d)/.test(s) || (s.match(/%/g)?.length ?? 0) > 1)) {
      problem = "may hold at most one '%d' and no other '%'";
    }
    if (problem === null) return s;
    this.report(path, v, problem);
    return undefined;
  };

  /** The name of an existing network interface (no `%d` template). */
  linkName: Read<string> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    let problem = nameProblem(s);
    if (problem === null && s.includes("%")) problem = "must be an interface's name, without '%'";
    if (problem === null) return s;
    this.report(path, v, problem);
    return undefined;
  };

  /**
   * A word that stands for null, or a value read by `read`: `Via = "auto"` or a prefix. A
   * string that is neither the word nor looks like the value (`like`) is reported with `what`.
   */
  wordOr<T>(word: string, like: RegExp, what: string, read: Read<T>): Read<T | null> {
    return (v, path) => {
      if (v === word) return null;
      if (typeof v === "string" && !like.test(v)) {
        const near = suggestKey(v, [word]);
        this.report(path, v, near === null ? what : `${what} (did you mean "${near}"?)`);
        return undefined;
      }
      return read(v, path);
    };
  }

  /** `Clat.Via`: "auto" (null) or an RFC 6052 prefix. */
  clatVia: Read<Ipv6Prefix | null> = this.wordOr(
    "auto",
    /:/,
    'expected "auto" or an RFC 6052 prefix such as "64:ff9b::/96"',
    this.rfc6052Prefix,
  );

  /** `Clat.Source6`: "embed" (null) or an IPv6 prefix that is not multicast. */
  source6: Read<Ipv6Prefix | null> = this.wordOr(
    "embed",
    /:/,
    'expected "embed" or an IPv6 prefix such as "2001:db8:1:4646::/96"',
    (v, path) => {
      const p = this.ipv6Prefix(v, path);
      if (p === undefined || !isMulticast6(p.addr, 0)) return p;
      this.report(path, v, "must not be a multicast prefix (ff00::/8)");
      return undefined;
    },
  );

  /** `Clat.HostAddress`: "" (null: none) or an IPv4 address that may be a source. */
  hostAddress: Read<number | null> = (v, path) => v === "" ? null : this.sourceIpv4(v, path);

  /** A DNS server: `address`, `address:port` or `[IPv6]:port` ({@link parseResolver}). */
  resolver: Read<ResolverAddress> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const r = parseResolver(s);
    if (typeof r === "string") this.report(path, v, r);
    return typeof r === "string" ? undefined : r;
  };

  /** A file name: a string that is not empty; `emptyMessage` says what to do instead. */
  fileName(emptyMessage: string): Read<string> {
    return (v, path) => {
      const s = this.string(v, path);
      if (s === "") this.report(path, v, emptyMessage);
      return s === "" ? undefined : s;
    };
  }

  /** `host:port` of the metrics endpoint ({@link parseListen}). */
  listen: Read<MetricsListen> = (v, path) => {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const l = parseListen(s);
    if (typeof l === "string") this.report(path, v, l);
    return typeof l === "string" ? undefined : l;
  };

  /** A static map `{ v4 = "…", v6 = "…" }` (RFC 7757: the IPv6 side has enough host bits). */
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

/** Why a string is no Linux interface name (dev_valid_name), or null. */
function nameProblem(s: string): string | null {
  const bytes = new TextEncoder().encode(s).length;
  if (s === "" || bytes > MAX_IFNAME_BYTES) return `must be 1 to ${MAX_IFNAME_BYTES} bytes long`;
  if (!/^[\x21-\x7e]+$/.test(s) || /[/:]/.test(s)) {
    return "must be printable ASCII without spaces, '/' or ':'";
  }
  if (s === "." || s === "..") return 'must not be "." or ".."';
  return null;
}

/**
 * Reports pool entries (`Interface.Pool`, `Clat.CustomerPool`) that overlap an earlier one.
 * @param c the checker
 * @param pool the valid entries with their indexes
 * @param path the key's path
 */
export function checkPool(c: Checker, pool: [number, Ipv4Prefix][], path = "Interface.Pool"): void {
  for (let a = 0; a < pool.length; a++) {
    const [i, p] = pool[a]!;
    const earlier = pool.slice(0, a).find(([, o]) => ipv4PrefixesOverlap(p, o));
    if (earlier !== undefined) {
      c.report(
        `${path}[${i}]`,
        formatIpv4Prefix(p),
        `overlaps ${path}[${earlier[0]}] (${formatIpv4Prefix(earlier[1])})`,
      );
    }
  }
}

/**
 * Reports list entries (`Clat.Routes4`) that repeat an earlier one.
 * @param c the checker
 * @param items the valid entries with their indexes
 * @param path the key's path
 */
export function checkNoDuplicates(c: Checker, items: [number, Ipv4Prefix][], path: string): void {
  for (let a = 0; a < items.length; a++) {
    const [i, p] = items[a]!;
    const dup = items.slice(0, a).find(([, o]) => o.addr === p.addr && o.len === p.len);
    if (dup !== undefined) c.report(`${path}[${i}]`, showV4(p), `duplicate of ${path}[${dup[0]}]`);
  }
}

/** Reports `Rules.MapStatic` entries that repeat or overlap an earlier one. */
export function checkStaticMaps(c: Checker, maps: [number, StaticMap][], raw: unknown): void {
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
