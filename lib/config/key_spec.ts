/**
 * What the key table (./keys.ts) is made of: the sections and the programs that have them,
 * the shape of one key ({@link KeySpec}), the builders of its entries (`key()`, `clatKey()`),
 * and the entries both programs share (`Queues`, `Offload`). Re-exported by ./keys.ts.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { DEFAULT_MAX_QUEUES, defaultQueues, MAX_QUEUES } from "./queues.ts";
import { BOOLEAN, integer, type ValueType } from "./value_types.ts";

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
  /** The flag's field in `ConfigOverrides` (lib/cli/flags.ts), e.g. `reservationTimeout`. */
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

/** A key's entry as written in the table: what `key()` and `clatKey()` complete. */
export type Spec<T> = Omit<KeySpec<T>, "section" | "table" | "modes" | "name" | "path" | "field">;

/**
 * One entry of the table, typed against the `Config` field it fills, in that field's section.
 * @param section the section's field in `Config` (and so its TOML section)
 * @param name the TOML key
 * @param field the field in `Config[section]`
 * @param spec the rest of the entry
 * @returns the entry
 */
export function key<S extends SectionField, F extends keyof NonNullable<Config[S]> & string>(
  section: S,
  name: string,
  field: F,
  spec: Spec<NonNullable<Config[S]>[F]>,
): KeySpec {
  return inTable(SECTIONS.find((s) => s.field === section)!, section, name, field, spec);
}

/**
 * One `[Clat]` entry: it fills `clat`, or `interface` for the device and own addresses.
 * @param section the `Config` field it fills
 * @param name the TOML key
 * @param field the field in `Config[section]`
 * @param spec the rest of the entry
 * @returns the entry
 */
export function clatKey<
  S extends "interface" | "clat",
  F extends keyof NonNullable<Config[S]> & string,
>(
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

/**
 * A default that does not depend on the keys read before it.
 * @param v makes the value (a new one each time: a default is frozen with its configuration)
 * @returns the key's `default`
 */
export function constant<T>(v: () => T): (soFar: ConfigSoFar) => T {
  return (_: ConfigSoFar) => v();
}

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

/** `Queues`, in `[Interface]` and `[Clat]` alike (their 1.x alias differs only in its order). */
export const QUEUES: Spec<number | null> = {
  type: integer(1, MAX_QUEUES),
  default: constant(() => null),
  defaultDoc: `one per CPU, at most ${DEFAULT_MAX_QUEUES}`,
  // Left out, a comment: the default depends on the machine (and the text parses back).
  line: queuesLine,
  // The queues are the device's fds and their Workers, opened once.
  restartOnly: true,
};

/** The 1.x alias of `Queues` in both programs, but for its position. */
export const QUEUES_V1: Omit<Protomask1Alias, "order"> = {
  json: "queues",
  nullIsUnset: true,
  flag: "--num-queues",
  option: "numQueues",
  unit: "queues",
};

/** `Offload`, in `[Interface]` and `[Clat]` alike. */
export const OFFLOAD: Spec<boolean | null> = {
  type: BOOLEAN,
  default: constant(() => null),
  defaultDoc: "on where the kernel supports it",
  line: offloadLine,
  // A flag of the device's fds (IFF_VNET_HDR), set when they are opened.
  restartOnly: true,
};
