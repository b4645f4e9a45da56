/**
 * Command-line arguments → a parsed command or a usage error, and the usage text.
 *
 * Pure: argv comes in as an array and nothing is printed, so every case is tested without
 * permissions; `main.ts` prints and exits. The global options are those of upstream
 * protomask (`-v/--verbose`, `-h/--help`, `-V/--version`); without a command the daemon runs
 * (`protomask [OPTIONS] <CONFIG>`), and protomask 1.x's flags (`-c/--config`,
 * `-i/--interface`, `--pool-prefix`, `--translation-prefix`, `--reservation-timeout`, as in
 * its `src/args/protomask.rs`) are accepted so its users can switch without rewriting.
 *
 * `protomask clat [OPTIONS] <CONFIG>` runs the CLAT (the customer side of 464XLAT, RFC 6877)
 * and `protomask clat check-config <FILE>` checks its configuration; they take
 * protomask-clat 1.x's flags (`-c/--config`, `-i/--interface`, `--customer-prefix`, `--via`,
 * `--prometheus`, `--num-queues`, as in its `src/args/protomask_clat.rs`).
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The program name used in the usage text and messages. */
export const PROGRAM_NAME = "protomask";

/** The subcommands this version has. */
export const SUBCOMMANDS = ["translate", "check-config", "clat"] as const;

/** Exit status for a usage error, a file that cannot be read or an invalid config or capture. */
export const EXIT_USAGE = 2;

/** The full help text (`--help`), ending in a newline. */
export const USAGE = `protomask, a NAT64 translator (RFC 7915 / RFC 6052) with 1:1 address leases

Usage:
  protomask [OPTIONS] <CONFIG>
  protomask [OPTIONS] [<CONFIG>] --pool-prefix <PREFIX>... [1.x OPTIONS]
  protomask [OPTIONS] translate --config <FILE> --in <IN.pcap> --out <OUT.pcap>
  protomask [OPTIONS] check-config <FILE> [1.x OPTIONS]
  protomask [OPTIONS] clat [CLAT OPTIONS] <CONFIG>
  protomask [OPTIONS] clat check-config <FILE> [CLAT OPTIONS]

Without a command, protomask runs the translator: it creates the TUN device,
routes the prefix, the pool and its own addresses into it (it assigns no
address to the device), and translates packets until stopped. CONFIG
is a TOML file, or a protomask 1.x JSON file (a name ending in .json, or text
starting with '{'). A CONFIG named like a command needs a path: ./translate.

Commands:
  translate         Run every packet of a capture through the translator, as
                    the daemon would, and write the packets it emits to
                    OUT.pcap (pcap, LINKTYPE_RAW; only the file header when
                    nothing was emitted). Prints packets in/out and drops by
                    reason to stderr.
  check-config      Validate a configuration file and print the effective
                    configuration (every default filled in, 1.x options
                    applied) to stdout.
  clat              Run the CLAT, the customer side of 464XLAT (RFC 6877), in
                    place of protomask-clat 1.x: IPv4 applications and
                    customers get IPv4 through a NAT64 over IPv6. Its own
                    configuration ([Clat]) and options: protomask clat --help

Options:
  -v, --verbose     Log debug messages to stderr
  -h, --help        Print this help and exit
  -V, --version     Print the version and exit

protomask 1.x options (daemon and check-config; each wins over the file):
  -c, --config <FILE>           The configuration file, same as <CONFIG>
  -i, --interface <NAME>        TUN name or template with %d (Interface.Name)
      --pool-prefix <PREFIX>    An IPv4 pool prefix; repeat for more; replaces
                                Interface.Pool; needed without a CONFIG
      --translation-prefix <PREFIX>
                                RFC 6052 prefix (Interface.Prefix)
      --reservation-timeout <SECS>
                                Idle seconds before a dynamic lease ends
                                (Rules.ReservationDuration)
      --num-queues <N>          TUN queues, one packet thread each
                                (Interface.Queues)
      --prometheus <ADDR>       Prometheus /metrics endpoint, e.g.
                                127.0.0.1:9060 (Metrics.Listen)

Options of translate (each required, once):
  -c, --config <FILE>
                    The configuration (TOML or 1.x JSON, as for check-config)
  --in <FILE>       Input capture: pcap or pcapng with raw IP, Ethernet,
                    Linux cooked (SLL, SLL2) or BSD loopback link types;
                    packets other than IPv4/IPv6 are skipped
  --out <FILE>      Output pcap; created or replaced only when translate
                    succeeds

Signals (daemon):
  SIGTERM, SIGINT   Stop, save the leases, remove the routes and the TUN, exit 0
  SIGHUP            Reload CONFIG; an invalid one is logged and the old one kept
  SIGUSR2           Log the counters (drops by reason, packets, errors)

Exit status: 0 on success, and after SIGTERM/SIGINT; 2 on a usage error, a file
that cannot be read or written, an invalid configuration or an unreadable
capture; 1 when the daemon cannot set up the TUN device, its routes or its
lease file (Rules.StateFile), or fails while running.
`;

/** The help text of `protomask clat` (`protomask clat --help`), ending in a newline. */
export const CLAT_USAGE =
  `protomask clat, the customer side of 464XLAT (RFC 6877): IPv4 through a NAT64

Usage:
  protomask clat [OPTIONS] <CONFIG>
  protomask clat [OPTIONS] [<CONFIG>] [1.x OPTIONS]
  protomask clat [OPTIONS] check-config <FILE> [1.x OPTIONS]

protomask clat runs the CLAT: it creates the TUN device, assigns it
Clat.HostAddress, routes Clat.Routes4 (every IPv4 destination by default) into
it and translates statelessly: an IPv4 packet from a customer
(Clat.CustomerPool) leaves as IPv6 toward the PLAT prefix (Clat.Via, or
discovered with "auto"), from the customer's IPv6 address (Clat.Source6).
CONFIG is a TOML file with the sections [Clat], [Translation] and [Metrics], or
a protomask-clat 1.x JSON file (a name ending in .json, or text starting with
'{'). A CONFIG named check-config needs a path: ./check-config.

Commands:
  check-config      Validate a CLAT configuration file and print the effective
                    configuration (every default filled in, 1.x options
                    applied) to stdout.

Options:
  -v, --verbose     Log debug messages to stderr
  -h, --help        Print this help and exit
  -V, --version     Print the version and exit

protomask-clat 1.x options (each wins over the file):
  -c, --config <FILE>           The configuration file, same as <CONFIG>
  -i, --interface <NAME>        TUN name or template with %d (Clat.Name)
      --customer-prefix <PREFIX>
                                A customer IPv4 prefix; repeat for more;
                                replaces Clat.CustomerPool
      --via <PREFIX>            The PLAT's RFC 6052 prefix, or auto (Clat.Via)
      --num-queues <N>          TUN queues, one packet thread each
                                (Clat.Queues)
      --prometheus <ADDR>       Prometheus /metrics endpoint, e.g.
                                127.0.0.1:9060 (Metrics.Listen)

Signals: as the translator's (protomask --help); SIGHUP reloads CONFIG.

Exit status: 0 on success, and after SIGTERM/SIGINT; 2 on a usage error, a file
that cannot be read or an invalid configuration; 1 when the CLAT cannot set up
its TUN device or routes, or fails while running.
`;

/** `--help`: print {@link USAGE} (or {@link CLAT_USAGE}) to stdout. */
export interface HelpCommand {
  /** Discriminant. */
  kind: "help";
  /** `clat` for `protomask clat --help`: print {@link CLAT_USAGE}. */
  topic?: "clat";
}

/** `--version`: print the version to stdout. */
export interface VersionCommand {
  /** Discriminant. */
  kind: "version";
}

/** `translate`: offline translation of a capture file. */
export interface TranslateCommand {
  /** Discriminant. */
  kind: "translate";
  /** `-v`: log at debug level. */
  verbose: boolean;
  /** Path of the configuration file. */
  configPath: string;
  /** Path of the input capture. */
  inPath: string;
  /** Path of the output pcap. */
  outPath: string;
}

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

/** `check-config`: validate a configuration and print the effective one. */
export interface CheckConfigCommand {
  /** Discriminant. */
  kind: "check-config";
  /** `-v`: log at debug level. */
  verbose: boolean;
  /** Path of the configuration file (TOML or protomask 1.x JSON). */
  configPath: string;
  /** protomask 1.x flags to apply on top of the file. */
  overrides: ConfigOverrides;
}

/** `protomask [OPTIONS] <CONFIG>`: run the translator on a TUN device. */
export interface RunCommand {
  /** Discriminant. */
  kind: "run";
  /** `-v`: log at debug level. */
  verbose: boolean;
  /** The configuration file (positional or `-c/--config`), or null for flags only. */
  configPath: string | null;
  /** protomask 1.x flags to apply on top of the file (or alone). */
  overrides: ConfigOverrides;
}

/** `protomask clat [OPTIONS] <CONFIG>`: run the CLAT on a TUN device. */
export interface ClatCommand {
  /** Discriminant. */
  kind: "clat";
  /** `-v`: log at debug level. */
  verbose: boolean;
  /** The configuration file (positional or `-c/--config`), or null for flags only. */
  configPath: string | null;
  /** protomask-clat 1.x flags to apply on top of the file (or alone). */
  overrides: ConfigOverrides;
}

/** `protomask clat check-config <FILE>`: validate a CLAT configuration, print the effective one. */
export interface ClatCheckConfigCommand {
  /** Discriminant. */
  kind: "clat-check-config";
  /** `-v`: log at debug level. */
  verbose: boolean;
  /** Path of the configuration file (TOML or protomask-clat 1.x JSON). */
  configPath: string;
  /** protomask-clat 1.x flags to apply on top of the file. */
  overrides: ConfigOverrides;
}

/** A command line that was understood. */
export type Command =
  | HelpCommand
  | VersionCommand
  | TranslateCommand
  | CheckConfigCommand
  | RunCommand
  | ClatCommand
  | ClatCheckConfigCommand;

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

const OPTIONS = {
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
const OVERRIDE_FLAGS = [
  ["interface", "--interface"],
  ["pool-prefix", "--pool-prefix"],
  ["translation-prefix", "--translation-prefix"],
  ["reservation-timeout", "--reservation-timeout"],
  ["prometheus", "--prometheus"],
  ["num-queues", "--num-queues"],
] as const;

/** protomask-clat 1.x's flags that the translator does not have. */
const CLAT_ONLY_FLAGS = [["customer-prefix", "--customer-prefix"], ["via", "--via"]] as const;

/** The translator's flags that `protomask clat` refuses, and why. */
const NOT_CLAT_FLAGS = [
  ["pool-prefix", "--pool-prefix", "its customers are --customer-prefix"],
  ["translation-prefix", "--translation-prefix", "the PLAT prefix is --via"],
  ["reservation-timeout", "--reservation-timeout", "a CLAT keeps no leases"],
  ["in", "--in", "the offline translate mode is the translator's"],
  ["out", "--out", "the offline translate mode is the translator's"],
] as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[]
    : boolean;
};

function usageError(message: string, showUsage = false): UsageError {
  return { kind: "usage-error", message, showUsage };
}

function clatUsageError(message: string, showUsage = false): UsageError {
  return { kind: "usage-error", message, showUsage, topic: "clat" };
}

/**
 * Parses the command line (without the program name).
 *
 * `-h` wins over everything else that parses, then `-V`; options may come before or after
 * the command. A first positional equal to `translate` or `check-config` is that command
 * (unless it follows `--`); any other positional is the daemon's `<CONFIG>`, so
 * `translate.toml` is a file. The daemon takes its configuration from `<CONFIG>` or
 * `-c/--config` (both → they must agree) and/or the protomask 1.x flags; with neither a file
 * nor `--pool-prefix` there is nothing to run. Each single-valued flag may be given once.
 *
 * A first positional `clat` is the CLAT: `clat <CONFIG>` or `clat check-config <FILE>`, with
 * protomask-clat 1.x's flags (`--customer-prefix`, `--via`, …) instead of the translator's;
 * with neither a file nor a 1.x flag there is nothing to run. `clat -h` is the CLAT's help.
 *
 * @param argv the arguments, e.g. `Deno.args`
 * @returns the command, or a usage error naming what is wrong
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(parseCliArgs(["check-config", "a.toml"]).kind, "check-config");
 * const run = parseCliArgs(["--pool-prefix", "192.0.2.0/24"]);
 * strictEqual(run.kind === "run" && run.configPath, null); // the daemon, from flags only
 * ```
 */
export function parseCliArgs(argv: readonly string[]): Command | UsageError {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return usageError(describeParseError(e));
  }
  const { positionals, tokens } = parsed;
  const values = parsed.values as Values;

  // A positional after `--` is a file name even when it reads like a command.
  const terminator = tokens.find((t) => t.kind === "option-terminator");
  const positionalTokens = tokens.filter((t) => t.kind === "positional");
  const literal = (i: number) =>
    terminator !== undefined && positionalTokens[i] !== undefined &&
    positionalTokens[i]!.index > terminator.index;
  const [sub, ...rest] = positionals;
  const command = literal(0) ? undefined : sub;

  if (values.help) return command === "clat" ? { kind: "help", topic: "clat" } : { kind: "help" };
  if (values.version) return { kind: "version" };
  const verbose = values.verbose ?? false;

  if (command === "clat") {
    const sub2 = literal(1) ? undefined : rest[0];
    return parseClat(rest, sub2, values, verbose);
  }
  for (const [key, flag] of CLAT_ONLY_FLAGS) {
    const where = command === "translate" || command === "check-config" ? command : "the daemon";
    if (values[key] !== undefined) return usageError(`${where} does not take ${flag} (clat does)`);
  }

  if (command === "translate") {
    if (rest.length > 0) {
      return usageError(`unexpected argument '${rest[0]}' (translate takes --config, --in, --out)`);
    }
    for (const [key, flag] of OVERRIDE_FLAGS) {
      if (values[key] !== undefined) return usageError(`translate does not take ${flag}`);
    }
    const configPath = single("--config", values.config);
    if (typeof configPath !== "string") return configPath;
    const inPath = single("--in", values.in);
    if (typeof inPath !== "string") return inPath;
    const outPath = single("--out", values.out);
    if (typeof outPath !== "string") return outPath;
    return { kind: "translate", verbose, configPath, inPath, outPath };
  }

  const where = command === "check-config" ? "check-config" : "the daemon";
  for (const [name, v] of [["--in", values.in], ["--out", values.out]] as const) {
    if (v !== undefined) return usageError(`${where} does not take ${name} (translate does)`);
  }
  const overrides = readOverrides(values);
  if ("kind" in overrides) return overrides;

  if (command === "check-config") {
    if (rest.length > 1) return usageError(`check-config takes one <FILE>, got ${rest.length}`);
    const configPath = configFile(rest[0], values.config);
    if (configPath !== null && typeof configPath !== "string") return configPath;
    if (configPath === null) return usageError("check-config needs a configuration <FILE>");
    return { kind: "check-config", verbose, configPath, overrides };
  }

  if (positionals.length > 1) {
    return usageError(
      `unexpected argument '${positionals[1]}' (the daemon takes one <CONFIG>; ` +
        `the commands are ${SUBCOMMANDS.join(", ")})`,
    );
  }
  const configPath = configFile(positionals[0], values.config);
  if (configPath !== null && typeof configPath !== "string") return configPath;
  if (configPath === null && overrides.poolPrefixes.length === 0) {
    return usageError(
      "nothing to run: give a configuration file (<CONFIG> or -c/--config) or at least " +
        "one --pool-prefix",
      true,
    );
  }
  return { kind: "run", verbose, configPath, overrides };
}

/** The rest of a `protomask clat` command line (after `clat`). */
function parseClat(
  rest: string[],
  command: string | undefined,
  values: Values,
  verbose: boolean,
): Command | UsageError {
  for (const [key, flag, why] of NOT_CLAT_FLAGS) {
    if (values[key] !== undefined) return clatUsageError(`clat does not take ${flag} (${why})`);
  }
  const overrides = readOverrides(values, "clat");
  if ("kind" in overrides) return { ...overrides, topic: "clat" };
  if (command === "check-config") {
    if (rest.length > 2) {
      return clatUsageError(`clat check-config takes one <FILE>, got ${rest.length - 1}`);
    }
    const configPath = configFile(rest[1], values.config);
    if (configPath !== null && typeof configPath !== "string") {
      return { ...configPath, topic: "clat" };
    }
    if (configPath === null) {
      return clatUsageError("clat check-config needs a configuration <FILE>");
    }
    return { kind: "clat-check-config", verbose, configPath, overrides };
  }
  if (command === "translate") {
    return clatUsageError(
      "clat has no translate command (the offline translate mode is the translator's; a " +
        "CONFIG named translate needs a path: ./translate)",
    );
  }
  if (rest.length > 1) {
    return clatUsageError(
      `unexpected argument '${rest[1]}' (clat takes one <CONFIG>; its command is check-config)`,
    );
  }
  const configPath = configFile(rest[0], values.config);
  if (configPath !== null && typeof configPath !== "string") {
    return { ...configPath, topic: "clat" };
  }
  const flags = values.interface !== undefined || values.prometheus !== undefined ||
    values["num-queues"] !== undefined || values["customer-prefix"] !== undefined ||
    values.via !== undefined;
  if (configPath === null && !flags) {
    return clatUsageError(
      "nothing to run: give a configuration file (<CONFIG> or -c/--config) or protomask-clat " +
        "1.x flags such as --customer-prefix",
      true,
    );
  }
  return { kind: "clat", verbose, configPath, overrides };
}

/** The configuration file from the positional and/or `-c/--config`, or null when neither. */
function configFile(
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

/** The 1.x flags; each but --pool-prefix (--customer-prefix) at most once. */
function readOverrides(
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

function single(name: string, values: string[] | undefined): string | UsageError {
  if (values === undefined || values.length === 0) return usageError(`translate needs ${name}`);
  if (values.length > 1) return usageError(`${name} given ${values.length} times`);
  if (values[0] === "") return usageError(`${name} needs a non-empty file name`);
  return values[0]!;
}

/** node:util's messages, reworded for a user who typed the command. */
function describeParseError(e: TypeError): string {
  const code = (e as TypeError & { code?: string }).code;
  const firstSentence = e.message.split(/\.\s|\n/)[0]!;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const option = /'(-[^']*)'/.exec(e.message)?.[1];
    if (option !== undefined) return `unknown option '${option}'`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const option = /--[a-z][a-z-]*/.exec(e.message)?.[0];
    if (option !== undefined && /argument missing/.test(e.message)) {
      return `${option} needs a value`;
    }
    if (option !== undefined && /does not take an argument/.test(e.message)) {
      return `${option} does not take a value`;
    }
    if (option !== undefined && /ambiguous/.test(e.message)) {
      return `${option} needs a value (write ${option}=-NAME for one that starts with '-')`;
    }
  }
  return firstSentence;
}

/**
 * The text `main.ts` prints to stderr for a usage error.
 *
 * @param err the usage error
 * @returns `protomask: <message>`, then the whole usage text when `showUsage` is set or a
 *   hint to run `--help` (`protomask clat`'s for a `clat` command line); ends in a newline
 */
export function formatUsageError(err: UsageError): string {
  const head = `${PROGRAM_NAME}: ${err.message}\n`;
  const clat = err.topic === "clat";
  if (err.showUsage) return `${head}\n${clat ? CLAT_USAGE : USAGE}`;
  return `${head}Run '${PROGRAM_NAME}${clat ? " clat" : ""} --help' for usage.\n`;
}

/**
 * The `--version` line.
 *
 * @param version the package version (from deno.json)
 * @returns `protomask <version>`, as upstream protomask prints it, without a newline
 */
export function versionLine(version: string): string {
  return `${PROGRAM_NAME} ${version}`;
}
