/**
 * `protomask clat` on the command line (the CLAT, RFC 6877): its help text, its commands and
 * the parsing of what follows `clat`, with protomask-clat 1.x's flags (`-c/--config`,
 * `-i/--interface`, `--customer-prefix`, `--via`, `--prometheus`, `--num-queues`, as in its
 * `src/args/protomask_clat.rs`). ./args.ts dispatches to it and re-exports it.
 *
 * @module
 */

import {
  configFile,
  type ConfigOverrides,
  readOverrides,
  singleFile,
  type UsageError,
  type Values,
} from "./flags.ts";

/** The help text of `protomask clat` (`protomask clat --help`), ending in a newline. */
export const CLAT_USAGE =
  `protomask clat, the customer side of 464XLAT (RFC 6877): IPv4 through a NAT64

Usage:
  protomask clat [OPTIONS] <CONFIG>
  protomask clat [OPTIONS] [<CONFIG>] [1.x OPTIONS]
  protomask clat [OPTIONS] check-config <FILE> [1.x OPTIONS]
  protomask clat [OPTIONS] translate --config <FILE> --in <IN.pcap>
                 --out <OUT.pcap> [1.x OPTIONS]

protomask clat runs the CLAT: it creates the TUN device, assigns it
Clat.HostAddress, routes Clat.Routes4 (every IPv4 destination by default) into
it and translates statelessly: an IPv4 packet from a customer
(Clat.CustomerPool) leaves as IPv6 toward the PLAT prefix (Clat.Via, or
discovered with "auto"), from the customer's IPv6 address (Clat.Source6).
CONFIG is a TOML file with the sections [Clat], [Translation] and [Metrics], or
a protomask-clat 1.x JSON file (a name ending in .json, or text starting with
'{'). A CONFIG named like a command needs a path: ./check-config.

Commands:
  check-config      Validate a CLAT configuration file and print the effective
                    configuration (every default filled in, 1.x options
                    applied) to stdout.
  translate         Run every packet of a capture through the CLAT, as if read
                    from its TUN device, and write what it sends to a pcap
                    (LINKTYPE_RAW), in order; a summary of packets and drops
                    by reason goes to stderr. Clat.Via must be a prefix here
                    ("auto" is found on a live network; --via sets one).

Options of translate (each required, once):
  -c, --config <FILE>
                    The CLAT's configuration (TOML or 1.x JSON)
  --in <FILE>       Input capture: pcap or pcapng with raw IP, Ethernet,
                    Linux cooked (SLL, SLL2) or BSD loopback link types;
                    packets other than IPv4/IPv6 are skipped
  --out <FILE>      Output pcap; created or replaced only when translate
                    succeeds

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

/**
 * `protomask clat translate --config <FILE> --in <IN> --out <OUT>`: the CLAT's offline mode,
 * a capture through its engine.
 */
export interface ClatTranslateCommand {
  /** Discriminant. */
  kind: "clat-translate";
  /** `-v`: log at debug level. */
  verbose: boolean;
  /** Path of the configuration file (TOML or protomask-clat 1.x JSON). */
  configPath: string;
  /** Path of the input capture (pcap or pcapng). */
  inPath: string;
  /** Path of the output pcap. */
  outPath: string;
  /** protomask-clat 1.x flags to apply on top of the file (`--via` for a `Via = "auto"`). */
  overrides: ConfigOverrides;
}

/** protomask-clat 1.x's flags that the translator does not have. */
export const CLAT_ONLY_FLAGS = [["customer-prefix", "--customer-prefix"], [
  "via",
  "--via",
]] as const;

/** The translator's flags that `protomask clat` refuses, and why. */
const NOT_CLAT_FLAGS = [
  ["pool-prefix", "--pool-prefix", "its customers are --customer-prefix"],
  ["translation-prefix", "--translation-prefix", "the PLAT prefix is --via"],
  ["reservation-timeout", "--reservation-timeout", "a CLAT keeps no leases"],
] as const;

function clatUsageError(message: string, showUsage = false): UsageError {
  return { kind: "usage-error", message, showUsage, topic: "clat" };
}

/**
 * The rest of a `protomask clat` command line (after `clat`).
 * @param rest the positionals after `clat`
 * @param command the first of them when it is not after `--` (a command such as `check-config`)
 * @param values what `parseArgs()` read
 * @param verbose `-v` was given
 * @returns the CLAT's command, or a usage error with the CLAT's topic
 */
export function parseClat(
  rest: string[],
  command: string | undefined,
  values: Values,
  verbose: boolean,
): ClatCommand | ClatCheckConfigCommand | ClatTranslateCommand | UsageError {
  for (const [key, flag, why] of NOT_CLAT_FLAGS) {
    if (values[key] !== undefined) return clatUsageError(`clat does not take ${flag} (${why})`);
  }
  if (command !== "translate") {
    const where = command === "check-config" ? "clat check-config" : "clat";
    for (const [name, v] of [["--in", values.in], ["--out", values.out]] as const) {
      if (v !== undefined) {
        return clatUsageError(`${where} does not take ${name} (clat translate does)`);
      }
    }
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
  if (command === "translate") return parseClatTranslate(rest, values, verbose, overrides);
  if (rest.length > 1) {
    return clatUsageError(
      `unexpected argument '${rest[1]}' (clat takes one <CONFIG>; its commands are ` +
        "check-config, translate)",
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

/**
 * The rest of a `clat translate` command line (after `translate`).
 * @param rest the positionals from `translate` on (only `translate` allowed)
 * @param values what `parseArgs()` read
 * @param verbose `-v` was given
 * @param overrides the 1.x flags read
 * @returns the command, or a usage error with the CLAT's topic
 */
function parseClatTranslate(
  rest: string[],
  values: Values,
  verbose: boolean,
  overrides: ConfigOverrides,
): ClatTranslateCommand | UsageError {
  if (rest.length > 1) {
    return clatUsageError(
      `unexpected argument '${rest[1]}' (clat translate takes --config, --in, --out)`,
    );
  }
  const paths: string[] = [];
  for (
    const [name, v] of [["--config", values.config], ["--in", values.in], [
      "--out",
      values.out,
    ]] as const
  ) {
    const path = singleFile("clat translate", name, v);
    if (typeof path !== "string") return { ...path, topic: "clat" };
    paths.push(path);
  }
  const [configPath, inPath, outPath] = paths as [string, string, string];
  return { kind: "clat-translate", verbose, configPath, inPath, outPath, overrides };
}
