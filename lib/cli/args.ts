/**
 * Command-line arguments → a parsed command or a usage error, and the usage text.
 *
 * Pure: argv comes in as an array and nothing is printed, so every case is tested without
 * permissions; `main.ts` prints and exits. The global options are those of upstream
 * protomask (`-v/--verbose`, `-h/--help`, `-V/--version`); the subcommands are what this
 * version can do without the TUN layer.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The program name used in the usage text and messages. */
export const PROGRAM_NAME = "protomask";

/** The subcommands this version has. */
export const SUBCOMMANDS = ["translate", "check-config"] as const;

/** Exit status for a usage error, a file that cannot be read or an invalid config or capture. */
export const EXIT_USAGE = 2;

/** The full help text (`--help`), ending in a newline. */
export const USAGE = `protomask, a NAT64 translator (RFC 7915 / RFC 6052) with 1:1 address leases

Usage:
  protomask [OPTIONS] translate --config <FILE> --in <IN.pcap> --out <OUT.pcap>
  protomask [OPTIONS] check-config <FILE>

Commands:
  translate         Run every packet of a capture through the translator, as
                    the daemon would, and write the packets it emits to
                    OUT.pcap (pcap, LINKTYPE_RAW; only the file header when
                    nothing was emitted). Prints packets in/out and drops by
                    reason to stderr.
  check-config      Validate a configuration file and print the effective
                    configuration (every default filled in) to stdout.

Options:
  -v, --verbose     Log debug messages to stderr
  -h, --help        Print this help and exit
  -V, --version     Print the version and exit

Options of translate (each required, once):
  --config <FILE>   The TOML configuration (as for check-config)
  --in <FILE>       Input capture: pcap or pcapng with raw IP, Ethernet,
                    Linux cooked (SLL, SLL2) or BSD loopback link types;
                    packets other than IPv4/IPv6 are skipped
  --out <FILE>      Output pcap; created or replaced only when translate
                    succeeds

Not in this version: running as a daemon on a TUN device
("protomask [OPTIONS] <CONFIG>"); it needs the TUN layer, which is not built
yet.

Exit status: 0 on success; 2 on a usage error, a file that cannot be read or
written, an invalid configuration or an unreadable capture.
`;

/** `--help`: print {@link USAGE} to stdout. */
export interface HelpCommand {
  /** Discriminant. */
  kind: "help";
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
  /** Path of the configuration file. */
  configPath: string;
}

/** A command line that was understood. */
export type Command = HelpCommand | VersionCommand | TranslateCommand | CheckConfigCommand;

/** A command line that was not understood; `main.ts` prints it and exits with status 2. */
export interface UsageError {
  /** Discriminant. */
  kind: "usage-error";
  /** One line saying what is wrong. */
  message: string;
  /** Whether the whole usage text should follow the message (no subcommand given). */
  showUsage: boolean;
}

const OPTIONS = {
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  config: { type: "string", multiple: true },
  in: { type: "string", multiple: true },
  out: { type: "string", multiple: true },
} as const;

function usageError(message: string, showUsage = false): UsageError {
  return { kind: "usage-error", message, showUsage };
}

/**
 * Parses the command line (without the program name).
 *
 * `-h` wins over everything else that parses, then `-V`; global options may come before or
 * after the subcommand. Each of `--config`, `--in`, `--out` must be given once, with a
 * non-empty value, and only to `translate`.
 *
 * @param argv the arguments, e.g. `Deno.args`
 * @returns the command, or a usage error naming what is wrong
 * @example parseCliArgs(["check-config", "a.toml"]) // { kind: "check-config", configPath: "a.toml", verbose: false }
 */
export function parseCliArgs(argv: readonly string[]): Command | UsageError {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return usageError(describeParseError(e));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const verbose = values.verbose ?? false;

  const [sub, ...rest] = positionals;
  if (sub === undefined) return usageError("missing subcommand", true);
  if (sub === "translate") {
    if (rest.length > 0) {
      return usageError(`unexpected argument '${rest[0]}' (translate takes --config, --in, --out)`);
    }
    const configPath = single("--config", values.config);
    if (typeof configPath !== "string") return configPath;
    const inPath = single("--in", values.in);
    if (typeof inPath !== "string") return inPath;
    const outPath = single("--out", values.out);
    if (typeof outPath !== "string") return outPath;
    return { kind: "translate", verbose, configPath, inPath, outPath };
  }
  if (sub === "check-config") {
    const translateOnly = { "--config": values.config, "--in": values.in, "--out": values.out };
    for (const [name, v] of Object.entries(translateOnly)) {
      if (v !== undefined) return usageError(`check-config does not take ${name}`);
    }
    if (rest.length === 0) return usageError("check-config needs a configuration <FILE>");
    if (rest.length > 1) return usageError(`check-config takes one <FILE>, got ${rest.length}`);
    if (rest[0] === "") return usageError("check-config needs a non-empty <FILE>");
    return { kind: "check-config", verbose, configPath: rest[0]! };
  }
  return usageError(
    `missing subcommand: '${sub}' is not one of ${SUBCOMMANDS.join(", ")}` +
      " (running as a daemon with a <CONFIG> is not in this version)",
    true,
  );
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
 *   hint to run `--help`; ends in a newline
 */
export function formatUsageError(err: UsageError): string {
  const head = `${PROGRAM_NAME}: ${err.message}\n`;
  return err.showUsage ? `${head}\n${USAGE}` : `${head}Run '${PROGRAM_NAME} --help' for usage.\n`;
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
