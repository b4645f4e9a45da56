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
 * `--prometheus`, `--num-queues`, as in its `src/args/protomask_clat.rs`): their parsing is in
 * ./clat_args.ts, what both command lines share (options, 1.x flags) in ./flags.ts.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  CLAT_ONLY_FLAGS,
  CLAT_USAGE,
  type ClatCheckConfigCommand,
  type ClatCommand,
  type ClatTranslateCommand,
  parseClat,
} from "./clat_args.ts";
import {
  configFile,
  type ConfigOverrides,
  OPTIONS,
  OVERRIDE_FLAGS,
  readOverrides,
  singleFile,
  type UsageError,
  usageError,
  type Values,
} from "./flags.ts";

export {
  CLAT_USAGE,
  type ClatCheckConfigCommand,
  type ClatCommand,
  type ClatTranslateCommand,
} from "./clat_args.ts";
export { type ConfigOverrides, NO_OVERRIDES, type UsageError } from "./flags.ts";

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
  protomask [OPTIONS] clat translate --config <FILE> --in <IN> --out <OUT>

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

/** A command line that was understood. */
export type Command =
  | HelpCommand
  | VersionCommand
  | TranslateCommand
  | CheckConfigCommand
  | RunCommand
  | ClatCommand
  | ClatCheckConfigCommand
  | ClatTranslateCommand;

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

  if (command === "translate") return parseTranslate(rest, values, verbose);
  return parseTranslator(command, positionals, rest, values, verbose);
}

/**
 * The rest of a `translate` command line (after `translate`).
 * @param rest the positionals after `translate` (none allowed)
 * @param values what `parseArgs()` read
 * @param verbose `-v` was given
 * @returns the command, or a usage error
 */
function parseTranslate(
  rest: string[],
  values: Values,
  verbose: boolean,
): TranslateCommand | UsageError {
  if (rest.length > 0) {
    return usageError(`unexpected argument '${rest[0]}' (translate takes --config, --in, --out)`);
  }
  for (const [key, flag] of OVERRIDE_FLAGS) {
    if (values[key] !== undefined) return usageError(`translate does not take ${flag}`);
  }
  const configPath = singleFile("translate", "--config", values.config);
  if (typeof configPath !== "string") return configPath;
  const inPath = singleFile("translate", "--in", values.in);
  if (typeof inPath !== "string") return inPath;
  const outPath = singleFile("translate", "--out", values.out);
  if (typeof outPath !== "string") return outPath;
  return { kind: "translate", verbose, configPath, inPath, outPath };
}

/**
 * The translator's daemon (`protomask [OPTIONS] <CONFIG>`) or its `check-config`.
 * @param command `check-config`, or anything else for the daemon
 * @param positionals every positional
 * @param rest the positionals after the first
 * @param values what `parseArgs()` read
 * @param verbose `-v` was given
 * @returns the command, or a usage error
 */
function parseTranslator(
  command: string | undefined,
  positionals: string[],
  rest: string[],
  values: Values,
  verbose: boolean,
): CheckConfigCommand | RunCommand | UsageError {
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
