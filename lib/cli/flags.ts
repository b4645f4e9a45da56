/**
 * What the translator's and the CLAT's command lines share (./args.ts, ./clat_args.ts): the
 * options `parseArgs()` knows, the protomask 1.x flags read into {@link ConfigOverrides}, the
 * configuration file from `<CONFIG>` and/or `-c/--config`, and {@link UsageError}.
 * Re-exported by ./args.ts.
 *
 * @module
 */

/**
 * The protomask 1.x flags as given on the command line (values unchecked: they are validated
 * with the configuration, see `loadDaemonConfig()` in lib/cli/commands.ts).
 */
export interface ConfigOverrides {
  /** `-i/--interface <NAME>`: the TUN name or template (`Interface.Name`), or null. */
  interface: string | null;
  /** `--pool-prefix <PREFIX>`, in order; replaces `Interface.Pool` when not empty. */
  poolPrefixes: string[];
  /** `--translation-prefix <PREFIX>` (`Interface.Prefix`), or null. */
  translationPrefix: string | null;
  /** `--reservation-timeout <SECS>` (`Rules.ReservationDuration`), or null. */
  reservationTimeout: string | null;
  /** `--prometheus <ADDR>` (`Metrics.Listen`), or null. */
  prometheus: string | null;
  /** `--num-queues <N>` (`Interface.Queues`, `Clat.Queues`), or null. */
  numQueues: string | null;
  /**
   * `--customer-prefix <PREFIX>` (protomask clat), in order; replaces `Clat.CustomerPool` when
   * not empty. Absent from the translator's overrides.
   */
  customerPrefixes?: string[];
  /** `--via <PREFIX>` (protomask clat, `Clat.Via`), or null. Absent from the translator's. */
  via?: string | null;
}

/** No protomask 1.x flag given. */
export const NO_OVERRIDES: Readonly<ConfigOverrides> = Object.freeze({
  interface: null,
  poolPrefixes: Object.freeze([]) as unknown as string[],
  translationPrefix: null,
  reservationTimeout: null,
  prometheus: null,
  numQueues: null,
});

/** A command line that was not understood; `main.ts` prints it and exits with status 2. */
export interface UsageError {
  /** Discriminant. */
  kind: "usage-error";
  /** One line saying what is wrong. */
  message: string;
  /** Whether the whole usage text should follow the message (nothing to run given). */
  showUsage: boolean;
  /** `clat` for a `protomask clat` command line: its usage text and help hint. */
  topic?: "clat";
}

/** The options `parseArgs()` knows: the global ones, the 1.x flags and `translate`'s. */
export const OPTIONS = {
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  config: { type: "string", short: "c", multiple: true },
  interface: { type: "string", short: "i", multiple: true },
  "pool-prefix": { type: "string", multiple: true },
  "translation-prefix": { type: "string", multiple: true },
  "reservation-timeout": { type: "string", multiple: true },
  prometheus: { type: "string", multiple: true },
  "num-queues": { type: "string", multiple: true },
  "customer-prefix": { type: "string", multiple: true },
  via: { type: "string", multiple: true },
  in: { type: "string", multiple: true },
  out: { type: "string", multiple: true },
} as const;

/** The protomask 1.x flags other than `-c/--config` (which translate takes too). */
export const OVERRIDE_FLAGS = [
  ["interface", "--interface"],
  ["pool-prefix", "--pool-prefix"],
  ["translation-prefix", "--translation-prefix"],
  ["reservation-timeout", "--reservation-timeout"],
  ["prometheus", "--prometheus"],
  ["num-queues", "--num-queues"],
] as const;

/** The values `parseArgs()` read, by option. */
export type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[]
    : boolean;
};

/**
 * A usage error of the translator's command line.
 * @param message what is wrong
 * @param showUsage whether the whole usage text follows
 * @returns the error
 */
export function usageError(message: string, showUsage = false): UsageError {
  return { kind: "usage-error", message, showUsage };
}

/**
 * The configuration file from the positional and/or `-c/--config`, or null when neither.
 * @param positional the positional argument, if any
 * @param flag the values of `-c/--config`, if given
 * @returns the path, null, or a usage error (given twice, two different files, empty)
 */
export function configFile(
  positional: string | undefined,
  flag: string[] | undefined,
): string | null | UsageError {
  if (flag !== undefined && flag.length > 1) {
    return usageError(`--config given ${flag.length} times`);
  }
  const fromFlag = flag?.[0];
  if (positional !== undefined && fromFlag !== undefined && positional !== fromFlag) {
    return usageError(
      `two configuration files: '${positional}' and --config '${fromFlag}' (give one)`,
    );
  }
  const path = positional ?? fromFlag;
  if (path === undefined) return null;
  if (path === "") return usageError("the configuration file name must not be empty");
  return path;
}

/**
 * A file option that `translate` needs exactly once (`--config`, `--in`, `--out`).
 * @param command the command that needs it, for the message (`translate`, `clat translate`)
 * @param name the option, e.g. `--in`
 * @param values its values, if given
 * @returns the file name, or a usage error (missing, given twice, empty)
 */
export function singleFile(
  command: string,
  name: string,
  values: string[] | undefined,
): string | UsageError {
  if (values === undefined || values.length === 0) return usageError(`${command} needs ${name}`);
  if (values.length > 1) return usageError(`${name} given ${values.length} times`);
  if (values[0] === "") return usageError(`${name} needs a non-empty file name`);
  return values[0]!;
}

/**
 * The 1.x flags; each but --pool-prefix (--customer-prefix) at most once.
 * @param values what `parseArgs()` read
 * @param mode the program: `clat` reads `--customer-prefix` and `--via` too
 * @returns the overrides, or a usage error naming a flag given twice
 */
export function readOverrides(
  values: Values,
  mode: "translator" | "clat" = "translator",
): ConfigOverrides | UsageError {
  const once = (key: keyof Values & string, flag: string): string | null | UsageError => {
    const v = values[key] as string[] | undefined;
    if (v === undefined) return null;
    if (v.length > 1) return usageError(`${flag} given ${v.length} times`);
    return v[0]!;
  };
  const out: ConfigOverrides = { ...NO_OVERRIDES, poolPrefixes: values["pool-prefix"] ?? [] };
  const singles = [
    ["interface", "--interface", "interface"],
    ["translation-prefix", "--translation-prefix", "translationPrefix"],
    ["reservation-timeout", "--reservation-timeout", "reservationTimeout"],
    ["prometheus", "--prometheus", "prometheus"],
    ["num-queues", "--num-queues", "numQueues"],
  ] as const;
  for (const [key, flag, field] of singles) {
    const v = once(key, flag);
    if (v !== null && typeof v !== "string") return v;
    out[field] = v;
  }
  if (mode === "clat") {
    out.customerPrefixes = values["customer-prefix"] ?? [];
    const via = once("via", "--via");
    if (via !== null && typeof via !== "string") return via;
    out.via = via;
  }
  return out;
}
