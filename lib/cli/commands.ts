/**
 * The subcommands as pure functions: file contents in, output bytes and messages out.
 *
 * `main.ts` reads the files, calls these, writes what they return and exits; the expected
 * failures (an invalid configuration, an unreadable capture) come back as a message rather
 * than an exception, so only `main.ts` prints. Anything else thrown is a bug and propagates.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import {
  type Config,
  ConfigError,
  type ConfigMode,
  type ConfigProblem,
  formatConfig,
  parseConfig,
} from "../config/config.ts";
import {
  assignNoHostAddress,
  type ConfigTree,
  type KeyOrigins,
  readProtomask1Tree,
  validateTree,
} from "../config/protomask1.ts";
import { type KeySpec, protomask1FlagKeys } from "../config/keys.ts";
import { type ConfigOverrides, NO_OVERRIDES } from "./args.ts";
import { type OfflineResult, translateCapture } from "./offline.ts";
import { PcapError } from "../pcap/reader.ts";

/** A subcommand that could not do its work; `message` is what to print (may be several lines). */
export interface CommandFailure {
  /** Discriminant: failed. */
  ok: false;
  /** What went wrong: every configuration problem, or the capture's problem and offset. */
  message: string;
}

/** The formats a daemon configuration can come in. */
export type ConfigFormat = "toml" | "protomask1-json" | "flags";

/** Inputs of {@link loadDaemonConfig}. */
export interface DaemonConfigInput {
  /** The configuration file's text, or null when there is no file (flags only). */
  text: string | null;
  /** The configuration file's name (for the format and messages), or null. */
  path: string | null;
  /** protomask 1.x flags, applied on top of the file. */
  overrides: ConfigOverrides;
  /**
   * The program: `translator` (the default; protomask 1.x's JSON and flags) or `clat`
   * (`protomask clat`; protomask-clat 1.x's JSON and flags).
   */
  mode?: ConfigMode;
}

/** A configuration was loaded. */
export interface DaemonConfigSuccess {
  /** Discriminant: succeeded. */
  ok: true;
  /** The validated configuration. */
  config: Config;
  /** Settings accepted but ignored (protomask 1.x keys and flags this version has no use for). */
  warnings: string[];
  /** Where the settings came from: a TOML file, a protomask 1.x JSON file, or flags alone. */
  format: ConfigFormat;
}

/**
 * Tells a protomask 1.x JSON configuration from a TOML one.
 *
 * @param path the file name, or null
 * @param text the file's text
 * @returns `"protomask1-json"` for a name ending in `.json` or text whose first non-space
 *   character is `{` (a TOML document cannot start with one), else `"toml"`
 */
export function detectConfigFormat(path: string | null, text: string): "toml" | "protomask1-json" {
  if (path !== null && /\.json$/i.test(path)) return "protomask1-json";
  return /^\uFEFF?\s*\{/.test(text) ? "protomask1-json" : "toml";
}

/** A flag's value in the overrides: null when not given (`--pool-prefix`: none given). */
function flagValue(o: ConfigOverrides, k: KeySpec): string | string[] | null {
  const v = o[k.v1!.option as keyof ConfigOverrides];
  return v === undefined || (Array.isArray(v) && v.length === 0) ? null : v;
}

function hasOverrides(o: ConfigOverrides, mode: ConfigMode): boolean {
  return protomask1FlagKeys(mode).some((k) => flagValue(o, k) !== null);
}

/** The tables of a tree the flags write into, created when absent; null when not a table. */
function section(tree: ConfigTree, name: string): ConfigTree | null {
  const t = tree[name];
  if (t === undefined) return (tree[name] = {}) as ConfigTree;
  if (typeof t !== "object" || t === null || Array.isArray(t) || t instanceof Date) return null;
  return t as ConfigTree;
}

/**
 * Writes the protomask 1.x flags into a TOML-shaped tree (flags win), recording each as the
 * origin of its key so messages name the flag; an integer flag (`--reservation-timeout`,
 * `--num-queues`) that is not a whole number is a problem of its own. The flags, their keys
 * and their order come from the key table (lib/config/keys.ts), those of the program `mode`;
 * a list flag (`--pool-prefix`, `--customer-prefix`) replaces the whole list.
 */
function applyOverrides(
  tree: ConfigTree,
  origins: KeyOrigins,
  o: ConfigOverrides,
  mode: ConfigMode,
): { problems: ConfigProblem[]; warnings: string[] } {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  for (const k of protomask1FlagKeys(mode)) {
    const v = flagValue(o, k);
    const sectionName = k.table;
    const name = k.name;
    const t = v === null ? null : section(tree, sectionName);
    if (v === null || t === null) continue;
    const label = k.v1!.flag!;
    if (Array.isArray(v)) {
      t[name] = [...v];
      for (const key of [...origins.keys()]) {
        if (key.startsWith(`${k.path}[`)) origins.delete(key);
      }
      origins.set(k.path, { label, raw: undefined, flag: true });
      v.forEach((p, i) => origins.set(`${k.path}[${i}]`, { label, raw: p, flag: true }));
    } else if (k.v1!.unit === undefined) {
      t[name] = v;
      origins.set(k.path, { label, raw: v, flag: true });
    } else if (/^[0-9]+$/.test(v)) {
      t[name] = BigInt(v);
      origins.set(k.path, { label, raw: v, flag: true });
    } else {
      problems.push({
        path: `${label} '${v}'`,
        value: undefined,
        message: `expected a whole number of ${k.v1!.unit}`,
      });
    }
  }
  return { problems, warnings };
}

/** The header of the error message: the file, the command line or both. */
function sourceName(path: string | null, flags: boolean): string {
  if (path === null) return "command line";
  return flags ? `${path} and command line` : path;
}

/**
 * Loads the daemon's configuration from a file (TOML or protomask 1.x JSON), protomask 1.x
 * flags, or both; flags win over the file (`--pool-prefix` replaces the whole pool). With
 * `mode: "clat"` the same for the CLAT: a CLAT TOML file, protomask-clat 1.x JSON and flags
 * (`--customer-prefix` replaces the whole `Clat.CustomerPool`).
 *
 * The format is a protomask 1.x JSON config when the name ends in `.json` or the text starts
 * with `{`, else TOML; with no file the flags alone form the config (defaults for the rest).
 * Every problem comes back in one message, each named as the user wrote it: a TOML key path
 * (`Interface.Pool[0]`), a JSON key path (`static_map[1].ipv4`) or a flag and its value
 * (`--pool-prefix '10.0.0.0/33'`). Validation is `parseConfig()`'s in every case, so equal
 * settings give equal configurations whichever way they were written.
 *
 * @param input the file's text and name (both null for flags only) and the flags
 * @returns the config, the warnings (ignored 1.x keys and flags) and the format, or every
 *   problem under a header naming the file and/or "command line"
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { NO_OVERRIDES } from "./args.ts";
 *
 * const overrides = { ...NO_OVERRIDES, poolPrefixes: ["192.0.2.0/24"] };
 * strictEqual(loadDaemonConfig({ text: null, path: null, overrides }).ok, true);
 * ```
 */
export function loadDaemonConfig(input: DaemonConfigInput): DaemonConfigSuccess | CommandFailure {
  const mode = input.mode ?? "translator";
  const flags = hasOverrides(input.overrides, mode);
  const parseOpts = input.path === null ? { mode } : { path: input.path, mode };
  const file = sourceName(input.path, flags);
  const format: ConfigFormat = input.text === null
    ? "flags"
    : detectConfigFormat(input.path, input.text);
  try {
    if (format === "toml" && !flags) {
      const config = parseConfig(input.text!, parseOpts);
      return { ok: true, config, warnings: [], format };
    }
    let tree: ConfigTree = {};
    let origins: KeyOrigins = new Map();
    const problems: ConfigProblem[] = [];
    const warnings: string[] = [];
    if (format === "protomask1-json") {
      const read = readProtomask1Tree(input.text!, mode);
      ({ tree, origins } = read);
      problems.push(...read.problems);
      warnings.push(...read.warnings);
    } else if (format === "toml") {
      try {
        tree = parse(input.text!, { integersAsBigInt: true }) as ConfigTree;
      } catch (e) {
        if (!(e instanceof TomlError)) throw e;
        parseConfig(input.text!, parseOpts); // throws the syntax error with line and column
        throw e;
      }
    } else if (mode === "translator") {
      origins.set("Interface.Pool", { label: "--pool-prefix", raw: undefined, flag: true });
    } else {
      origins.set("Clat.CustomerPool", { label: "--customer-prefix", raw: undefined, flag: true });
      const sections = new Map<string, ConfigTree>();
      assignNoHostAddress(sections);
      tree = Object.fromEntries(sections);
    }
    const applied = applyOverrides(tree, origins, input.overrides, mode);
    problems.push(...applied.problems);
    warnings.push(...applied.warnings);
    const config = validateTree({ tree, origins, problems, file, mode });
    return { ok: true, config, warnings, format };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, message: e.message };
    throw e;
  }
}

/** `check-config` succeeded. */
export interface CheckConfigSuccess extends DaemonConfigSuccess {
  /** The effective configuration as TOML text, for stdout (ends in a newline). */
  text: string;
}

/**
 * Validates configuration text (`check-config`): TOML or protomask 1.x JSON, with the
 * protomask 1.x flags applied, as {@link loadDaemonConfig} loads it for the daemon.
 *
 * @param text the file's text
 * @param path the file name, for the format and the header line of the error message
 * @param overrides protomask 1.x flags to apply (none by default)
 * @param cpus this machine's CPU count, to show the default `Queues` (see `formatConfig()`)
 * @param mode the program: `translator` (the default) or `clat` (`protomask clat check-config`)
 * @returns the config, its effective TOML text, the warnings and the format, or every
 *   problem found
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(checkConfig('[Interface]\nPool = ["192.0.2.0/24"]\n', "a.toml").ok, true);
 * ```
 */
export function checkConfig(
  text: string,
  path: string,
  overrides: ConfigOverrides = NO_OVERRIDES,
  cpus?: number,
  mode: ConfigMode = "translator",
): CheckConfigSuccess | CommandFailure {
  const r = loadDaemonConfig({ text, path, overrides, mode });
  return r.ok ? { ...r, text: formatConfig(r.config, cpus === undefined ? {} : { cpus }) } : r;
}

/** Inputs of {@link translateFile}. */
export interface TranslateInput {
  /** The validated configuration (from {@link checkConfig}). */
  config: Config;
  /** The input capture's bytes (pcap or pcapng). */
  capture: Uint8Array;
  /** The input capture's file name (for messages). */
  capturePath: string;
}

/** `translate` succeeded. */
export interface TranslateSuccess {
  /** Discriminant: succeeded. */
  ok: true;
  /** The counts and the output pcap (header only when nothing was emitted). */
  result: OfflineResult;
  /** One line for stderr: packets in and out, drops by reason (no newline). */
  summary: string;
}

/**
 * Translates a capture offline (`translate`, `clat translate`): runs every packet through the
 * engine as the daemon would (lib/cli/offline.ts).
 *
 * @param input the configuration and the capture bytes with the capture's file name
 * @returns the output pcap and a summary line, or the capture's problem prefixed with its
 *   file name, or why a CLAT configuration cannot run offline (`Via = "auto"`)
 */
export function translateFile(input: TranslateInput): TranslateSuccess | CommandFailure {
  if (input.config.clat !== null && input.config.clat.via === null) {
    return {
      ok: false,
      message: 'clat translate needs Clat.Via to be a prefix: "auto" is discovered on a live ' +
        "network (give --via <PREFIX>)",
    };
  }
  let result: OfflineResult;
  try {
    result = translateCapture(input.config, input.capture);
  } catch (e) {
    if (e instanceof PcapError) return { ok: false, message: `${input.capturePath}: ${e.message}` };
    throw e;
  }
  return { ok: true, result, summary: formatTranslateSummary(result) };
}

/**
 * The one-line summary `translate` prints to stderr.
 *
 * @param r the counts of an offline run
 * @returns e.g. `translate: 12 packets in, 10 out; dropped: hop_limit_exceeded 1, no_mapping 1`
 *   (`dropped: none` when no counter of a drop reason is set), drop reasons in counter order;
 *   records that were not IP packets are mentioned after the input count
 */
export function formatTranslateSummary(r: OfflineResult): string {
  const drops = Object.entries(r.drops).map(([name, n]) => `${name} ${n}`);
  const skipped = r.skipped > 0 ? ` (${r.skipped} non-IP records skipped)` : "";
  return `translate: ${r.packetsIn} packet${r.packetsIn === 1 ? "" : "s"} in${skipped}, ` +
    `${r.packetsOut} out; dropped: ${drops.length === 0 ? "none" : drops.join(", ")}`;
}
