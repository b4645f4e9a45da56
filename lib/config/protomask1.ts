/**
 * protomask 1.x JSON configuration → the same validated, frozen {@link Config} that
 * {@link parseConfig} returns, with messages that name the JSON keys the user wrote.
 *
 * protomask 1.x (`src/args/protomask.rs`, struct `Config`) reads a JSON object with the keys
 * `prefix` (RFC 6052 prefix, default `64:ff9b::/96`), `pool` (IPv4 prefixes), `static_map`,
 * `reservation_timeout` (seconds, default 7200), `prometheus_bind_addr` and `queues` (TUN
 * queues, `Interface.Queues` here; `prometheus_bind_addr` is `Metrics.Listen`). Its
 * `static_map` is declared as a list of `(Ipv4Addr, Ipv6Addr)` pairs — a JSON array
 * `["192.0.2.1", "2001:db8::1"]` — while its example `config/protomask.json` writes objects
 * `{"ipv4": "192.0.2.1", "ipv6": "2001:db8::1"}`; both shapes are accepted here. Any other
 * key is an error with a suggestion, as in the TOML path.
 *
 * protomask-clat 1.x (`src/args/protomask_clat.rs`) reads `customer_pool` (IPv4 prefixes,
 * `Clat.CustomerPool`), `prometheus_bind_addr` (`Metrics.Listen`), `via` (RFC 6052 prefix,
 * `Clat.Via`) and `queues` (`Clat.Queues`); every function here takes the program
 * (`mode: "clat"`) and reads that program's keys, from the same key table.
 *
 * The JSON is turned into the equivalent TOML-shaped tree (`[Interface] Prefix, Pool`;
 * `[Rules] MapStatic, ReservationDuration`, `queues` as `[Interface] Queues`) and validated by
 * `parseConfig()` itself, so both
 * formats accept and reject exactly the same values; each problem is then renamed back to
 * the JSON key (`static_map[1].ipv4`). The same machinery ({@link KeyOrigins},
 * {@link validateTree}) lets command-line flags name themselves in messages. Pure: no I/O.
 *
 * @module
 */

import { stringify } from "smol-toml";
import { type Config, ConfigError, type ConfigProblem, parseConfig } from "./config.ts";
import { readJson } from "./json_text.ts";
import { type ConfigMode, protomask1JsonKeys, sectionsOf, type SectionSpec } from "./keys.ts";
import { suggestKey } from "./levenshtein.ts";

/**
 * The keys of one 1.x program's JSON configuration, in upstream's order (from the key table).
 * @param mode `translator` for protomask, `clat` for protomask-clat
 * @returns the JSON keys
 */
export function protomask1Keys(mode: ConfigMode): string[] {
  return protomask1JsonKeys(mode).map((k) => k.v1!.json!);
}

/** The keys of a protomask 1.x JSON configuration, in upstream's order (from the key table). */
export const PROTOMASK1_KEYS: readonly string[] = protomask1Keys("translator");

/** The keys of one `static_map` entry in its object form. */
export const PROTOMASK1_STATIC_MAP_KEYS = ["ipv4", "ipv6"] as const;

/** A TOML-shaped configuration tree, as `parseConfig()` would read it from TOML text. */
export type ConfigTree = Record<string, unknown>;

/** Where one key path of a {@link ConfigTree} came from, for messages. */
export interface KeyOrigin {
  /** What the user wrote: a JSON key path (`static_map[1].ipv4`) or a flag (`--pool-prefix`). */
  label: string;
  /** The value as the user gave it (JSON value or flag text). */
  raw: unknown;
  /** A command-line flag: shown as `--flag 'value'` rather than `key = value`. */
  flag: boolean;
  /** Replaces the validator's message (for shapes the TOML message would describe wrongly). */
  message?: string;
}

/**
 * Origins by TOML key path, exactly as `parseConfig()` spells paths in its problems
 * (`Interface.Pool[0]`, `Rules.MapStatic[2].v4`). Paths without an entry keep their name.
 */
export type KeyOrigins = Map<string, KeyOrigin>;

/** A protomask 1.x JSON text, read into a tree but not validated yet. */
export interface Protomask1Tree {
  /** The TOML-shaped tree (only `Interface` and `Rules` keys that the JSON set). */
  tree: ConfigTree;
  /** Where each key of the tree came from. */
  origins: KeyOrigins;
  /** Problems found while reading the JSON (syntax, unknown keys, entry shapes). */
  problems: ConfigProblem[];
  /** Keys accepted but ignored, one sentence each. */
  warnings: string[];
}

/** A validated protomask 1.x configuration. */
export interface Protomask1Result {
  /** The configuration, as `parseConfig()` would return it for the equivalent TOML. */
  config: Config;
  /** Keys that were accepted but have no effect here, one sentence each. */
  warnings: string[];
}

/** Stand-in for JSON `null`, which TOML cannot hold: a boolean, reported as "null". */
const NULL_STAND_IN = false;

/** `static_map` has shapes of its own (objects or pairs), read by `readStaticMap()`. */
const STATIC_MAP_PATH = "Rules.MapStatic";

const STATIC_MAP_SHAPE = 'expected {"ipv4": "<IPv4>", "ipv6": "<IPv6>"} or ["<IPv4>", "<IPv6>"]';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Names a JSON value's type for messages ("a string", "null", "an object"). */
export function describeJsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a number";
  if (typeof v === "string") return "a string";
  return `a ${typeof v}`;
}

/**
 * A JSON value as a TOML tree value: `null` becomes a stand-in the validator rejects (its
 * message is reworded by {@link validateTree}); integers beyond 2^53 are clamped so the TOML
 * stays valid (the message shows the value as written).
 */
function toTreeValue(v: unknown): unknown {
  if (v === null) return NULL_STAND_IN;
  if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)) {
    return Math.sign(v) * Number.MAX_SAFE_INTEGER;
  }
  if (Array.isArray(v)) return v.map(toTreeValue);
  if (isObject(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toTreeValue(x)]));
  }
  return v;
}

function unknownKey(label: string, key: string, allowed: readonly string[]): ConfigProblem {
  const near = suggestKey(key, allowed);
  let message = near === null
    ? `unknown key (allowed: ${allowed.join(", ")})`
    : `unknown key (did you mean "${near}"?)`;
  if (key === "interface") {
    message = "unknown key (protomask 1.x sets the TUN name with -i/--interface, not in JSON)";
  }
  return { path: label, value: undefined, message };
}

/** A top-level key of the other 1.x program's JSON: which program reads it. */
function otherProgramKey(key: string, mode: ConfigMode): ConfigProblem | null {
  const other: ConfigMode = mode === "clat" ? "translator" : "clat";
  if (!protomask1Keys(other).includes(key) || protomask1Keys(mode).includes(key)) return null;
  const message = mode === "clat"
    ? "unknown key (protomask 1.x's translator has it, protomask-clat does not" +
      `${key === "pool" ? "; the customers are customer_pool" : ""})`
    : "unknown key (a protomask-clat 1.x key: run `protomask clat` with this file)";
  return { path: key, value: undefined, message };
}

function readStaticMap(
  raw: unknown,
  origins: KeyOrigins,
  problems: ConfigProblem[],
): unknown {
  const out: unknown[] = [];
  if (!Array.isArray(raw)) return toTreeValue(raw);
  raw.forEach((entry, i) => {
    const label = `static_map[${i}]`;
    const path = `${STATIC_MAP_PATH}[${i}]`;
    if (isObject(entry)) {
      origins.set(path, { label, raw: entry, flag: false });
      const item: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(entry)) {
        if (key === "ipv4" || key === "ipv6") {
          const side = key === "ipv4" ? "v4" : "v6";
          item[side] = toTreeValue(v);
        } else {
          problems.push(unknownKey(`${label}.${key}`, key, PROTOMASK1_STATIC_MAP_KEYS));
        }
      }
      for (const [key, side] of [["ipv4", "v4"], ["ipv6", "v6"]] as const) {
        origins.set(`${path}.${side}`, {
          label: `${label}.${key}`,
          raw: entry[key],
          flag: false,
        });
      }
      out.push(item);
    } else if (Array.isArray(entry) && entry.length === 2) {
      origins.set(path, { label, raw: entry, flag: false });
      origins.set(`${path}.v4`, { label: `${label}[0]`, raw: entry[0], flag: false });
      origins.set(`${path}.v6`, { label: `${label}[1]`, raw: entry[1], flag: false });
      out.push({ v4: toTreeValue(entry[0]), v6: toTreeValue(entry[1]) });
    } else {
      const got = Array.isArray(entry)
        ? `an array of ${entry.length} item${entry.length === 1 ? "" : "s"}`
        : describeJsonType(entry);
      origins.set(path, {
        label,
        raw: entry,
        flag: false,
        message: `${STATIC_MAP_SHAPE}, got ${got}`,
      });
      out.push(toTreeValue(entry));
    }
  });
  return out;
}

/**
 * Reads protomask 1.x JSON text into a TOML-shaped tree without validating the values.
 *
 * @param text the JSON text
 * @param mode `translator` (the default) for protomask's JSON, `clat` for protomask-clat's
 * @returns the tree, where each key came from, the JSON-level problems (syntax error with
 *   line and column, unknown keys, malformed `static_map` entries) and the warnings
 */
export function readProtomask1Tree(
  text: string,
  mode: ConfigMode = "translator",
): Protomask1Tree {
  const jsonKeys = protomask1JsonKeys(mode);
  const allowed = jsonKeys.map((k) => k.v1!.json!);
  const keyByJson = new Map(jsonKeys.map((k) => [k.v1!.json!, k]));
  const origins: KeyOrigins = new Map();
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const tree: ConfigTree = {};
  const json = readJson(text);
  if (!json.ok) {
    const { line, column, reason } = json.error;
    problems.push({
      path: "",
      value: undefined,
      message: `JSON syntax error at line ${line}, column ${column}: ${reason}`,
      line,
      column,
    });
    return { tree, origins, problems, warnings };
  }
  const doc = json.value;
  if (!isObject(doc)) {
    problems.push({
      path: "",
      value: undefined,
      message: `expected a JSON object such as ${
        mode === "clat" ? '{"customer_pool": ["192.0.0.0/29"]}' : '{"pool": ["192.0.2.0/24"]}'
      }, got ${describeJsonType(doc)}`,
    });
    return { tree, origins, problems, warnings };
  }
  const sections = new Map<string, ConfigTree>();
  // A list key names the whole list in messages ("nothing to translate for: add pool …").
  for (const k of jsonKeys) {
    if (k.type.shape === "list") {
      origins.set(k.path, { label: k.v1!.json!, raw: doc[k.v1!.json!], flag: false });
    }
  }
  for (const [key, v] of Object.entries(doc)) {
    const k = keyByJson.get(key);
    if (k === undefined) {
      problems.push(otherProgramKey(key, mode) ?? unknownKey(key, key, allowed));
      continue;
    }
    // null: left to the default, as when the key is absent.
    if (v === null && k.v1!.nullIsUnset) continue;
    const section = k.table;
    const name = k.name;
    if (!sections.has(section)) sections.set(section, {});
    const t = sections.get(section)!;
    if (k.path === STATIC_MAP_PATH) {
      t[name] = readStaticMap(v, origins, problems);
      continue;
    }
    t[name] = toTreeValue(v);
    if (k.type.shape === "scalar") {
      origins.set(k.path, { label: key, raw: v, flag: false });
    } else if (Array.isArray(v)) {
      v.forEach((p, i) => {
        origins.set(`${k.path}[${i}]`, { label: `${key}[${i}]`, raw: p, flag: false });
      });
    }
  }
  if (mode === "clat") assignNoHostAddress(sections);
  for (const s of sectionsOf(mode) as SectionSpec[]) {
    const t = sections.get(s.name);
    if (t !== undefined && Object.keys(t).length > 0) tree[s.name] = t;
  }
  return { tree, origins, problems, warnings };
}

/**
 * protomask-clat 1.x assigns no address to its TUN device (its customers are on a LAN), so a
 * 1.x configuration (JSON or flags alone) runs with `Clat.HostAddress = ""`, not with the
 * TOML default (192.0.0.1, for local applications).
 * @param sections the tree's sections by TOML name, `Clat` created when absent
 */
export function assignNoHostAddress(sections: Map<string, ConfigTree>): void {
  if (!sections.has("Clat")) sections.set("Clat", {});
  sections.get("Clat")!.HostAddress = "";
}

/** A value as `formatConfigProblem()` should show it: JSON integers as integers. */
function displayValue(raw: unknown): unknown {
  if (typeof raw === "number" && Number.isSafeInteger(raw)) return BigInt(raw);
  if (Array.isArray(raw)) return raw.map(displayValue);
  if (isObject(raw)) {
    return Object.fromEntries(Object.entries(raw).map(([k, x]) => [k, displayValue(x)]));
  }
  return raw;
}

const TOML_PATH_IN_TEXT = /\b(?:Interface|Rules|Clat)\.[A-Za-z0-9]+(?:\[\d+\])?(?:\.v[46])?/g;

/** Shows an origin inside a message: the JSON key, or `--flag 'value'`. */
function mention(o: KeyOrigin): string {
  return o.flag && o.raw !== undefined ? `${o.label} '${String(o.raw)}'` : o.label;
}

/** Renames one validator problem after where its key came from. */
function relabel(p: ConfigProblem, origins: KeyOrigins): ConfigProblem {
  let message = p.message.replace(TOML_PATH_IN_TEXT, (path) => {
    const o = origins.get(path);
    return o === undefined ? path : mention(o);
  });
  const o = origins.get(p.path);
  if (o === undefined) return { ...p, message };
  if (o.message !== undefined && /^expected a table/.test(p.message)) message = o.message;
  if (!o.flag) {
    message = message.replace(/, got a table$/, ", got an object");
    if (o.raw === null) message = message.replace(/, got a boolean$/, ", got null");
    if (o.raw === undefined && message === "missing key" && /\[[01]\]$/.test(o.label)) {
      message = "missing item";
    }
  }
  if (o.flag) return { path: mention(o), value: undefined, message };
  const value = p.value === undefined || o.raw === undefined ? p.value : displayValue(o.raw);
  return { path: o.label, value, message };
}

/**
 * Validates a TOML-shaped tree with `parseConfig()` and renames every problem after the key
 * or flag it came from.
 *
 * @param input `tree` to validate; `origins` of its keys; `problems` already found (listed
 *   first); `file`, the header of the error message (a file name, "command line", …);
 *   `mode`, the program (`translator` by default)
 * @returns the configuration, exactly as `parseConfig()` returns it for the same values
 * @throws {ConfigError} with every problem, paths and values as the user wrote them
 */
export function validateTree(input: {
  tree: ConfigTree;
  origins: KeyOrigins;
  problems?: readonly ConfigProblem[];
  file?: string;
  mode?: ConfigMode;
}): Config {
  const errorOpts = input.file === undefined ? {} : { file: input.file };
  const earlier = input.problems ?? [];
  let config: Config | null = null;
  let later: ConfigProblem[] = [];
  // A syntax error or a document of the wrong type leaves nothing worth validating.
  if (earlier.some((p) => p.path === "")) throw new ConfigError(earlier, errorOpts);
  try {
    config = parseConfig(stringify(input.tree), { mode: input.mode ?? "translator" });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    later = e.problems.map((p) => relabel(p, input.origins));
  }
  if (earlier.length > 0 || config === null) {
    throw new ConfigError([...earlier, ...later], errorOpts);
  }
  return config;
}

/**
 * Parses and validates a protomask 1.x JSON configuration.
 *
 * Every problem is reported at once, named by its JSON key path (`static_map[1].ipv4`),
 * with the messages of the TOML path; a JSON syntax error carries line and column. A key
 * this version does not use would come back as a warning (none today).
 * Settings that protomask 1.x has no key for take the TOML defaults.
 *
 * @param text the JSON text
 * @param opts `path`: the file name, for the header line of the error message; `mode`:
 *   `clat` for a protomask-clat 1.x file (`translator` by default)
 * @returns the configuration (deep-frozen, as from `parseConfig()`) and the warnings
 * @throws {ConfigError} listing every problem
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(parseProtomask1Json('{"pool": ["192.0.2.0/24"]}').config.interface.prefix.len, 96);
 * ```
 */
export function parseProtomask1Json(
  text: string,
  opts: { path?: string; mode?: ConfigMode } = {},
): Protomask1Result {
  const mode = opts.mode ?? "translator";
  const read = readProtomask1Tree(text, mode);
  const config = validateTree({
    ...read,
    mode,
    ...(opts.path === undefined ? {} : { file: opts.path }),
  });
  return { config, warnings: read.warnings };
}
