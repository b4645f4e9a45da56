/**
 * The `protomask` command: parses argv, reads and writes files, prints and exits. Everything
 * else is in lib/ (lib/cli/args.ts for the command line and usage text, lib/cli/commands.ts
 * for the subcommands). Run `deno run -A main.ts --help` for what exists.
 *
 * Exit status: 0 on success, 2 on a usage error, a file that cannot be read or written, an
 * invalid configuration or an unreadable capture.
 *
 * @module
 */

import {
  ansiColorFormatter,
  configureSync,
  defaultTextFormatter,
  getLogger,
  jsonLinesFormatter,
  type LogRecord,
  type TextFormatter,
} from "@logtape/logtape";
import denoJson from "./deno.json" with { type: "json" };
import {
  type CheckConfigCommand,
  EXIT_USAGE,
  formatUsageError,
  parseCliArgs,
  PROGRAM_NAME,
  type TranslateCommand,
  USAGE,
  versionLine,
} from "./lib/cli/args.ts";
import { checkConfig, translateFile } from "./lib/cli/commands.ts";

const EXIT_OK = 0;
const encoder = new TextEncoder();
const log = getLogger(["protomask", "cli"]);

/** Writes all of `text` to a stream synchronously (so nothing is lost at `Deno.exit`). */
function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

/** Prints `protomask: <message>` to stderr and returns the failure exit status. */
function fail(message: string): number {
  writeAll(Deno.stderr, `${PROGRAM_NAME}: ${message}\n`);
  return EXIT_USAGE;
}

/** LogTape to stderr: readable text on a terminal, JSON lines otherwise; debug with `-v`. */
function setUpLogging(verbose: boolean): void {
  let formatter: TextFormatter = jsonLinesFormatter;
  if (Deno.stderr.isTerminal()) {
    formatter = Deno.noColor ? defaultTextFormatter : ansiColorFormatter;
  }
  configureSync({
    sinks: { stderr: (record: LogRecord) => writeAll(Deno.stderr, formatter(record)) },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
      { category: ["protomask"], lowestLevel: verbose ? "debug" : "info", sinks: ["stderr"] },
    ],
  });
}

/** Reads a whole file, or returns the message to print when it cannot be read. */
async function readFile(path: string, what: string): Promise<Uint8Array | string> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return `cannot read ${what} '${path}': ${e.message.replace(/: \w+ '.*'$/s, "")}`;
  }
}

async function runCheckConfig(cmd: CheckConfigCommand): Promise<number> {
  const bytes = await readFile(cmd.configPath, "the configuration");
  if (typeof bytes === "string") return fail(bytes);
  const checked = checkConfig(new TextDecoder().decode(bytes), cmd.configPath);
  if (!checked.ok) return fail(checked.message);
  writeAll(Deno.stdout, checked.text);
  return EXIT_OK;
}

async function runTranslate(cmd: TranslateCommand): Promise<number> {
  const configBytes = await readFile(cmd.configPath, "the configuration");
  if (typeof configBytes === "string") return fail(configBytes);
  const checked = checkConfig(new TextDecoder().decode(configBytes), cmd.configPath);
  if (!checked.ok) return fail(checked.message);
  const capture = await readFile(cmd.inPath, "the input capture");
  if (typeof capture === "string") return fail(capture);
  log.debug("translating {inPath} ({bytes} bytes) with {configPath}", {
    inPath: cmd.inPath,
    bytes: capture.length,
    configPath: cmd.configPath,
  });
  const done = translateFile({ config: checked.config, capture, capturePath: cmd.inPath });
  if (!done.ok) return fail(done.message);
  try {
    await Deno.writeFile(cmd.outPath, done.result.pcap);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return fail(`cannot write '${cmd.outPath}': ${e.message.replace(/: \w+ '.*'$/s, "")}`);
  }
  log.debug("counters {stats}; wrote {outPath}", {
    stats: done.result.stats,
    outPath: cmd.outPath,
  });
  writeAll(Deno.stderr, done.summary + "\n");
  return EXIT_OK;
}

async function main(argv: readonly string[]): Promise<number> {
  const cmd = parseCliArgs(argv);
  switch (cmd.kind) {
    case "usage-error":
      writeAll(Deno.stderr, formatUsageError(cmd));
      return EXIT_USAGE;
    case "help":
      writeAll(Deno.stdout, USAGE);
      return EXIT_OK;
    case "version":
      writeAll(Deno.stdout, versionLine(denoJson.version) + "\n");
      return EXIT_OK;
  }
  setUpLogging(cmd.verbose);
  return cmd.kind === "translate" ? await runTranslate(cmd) : await runCheckConfig(cmd);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
