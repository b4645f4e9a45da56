/**
 * The `protomask` command: parses argv, reads and writes files, prints and exits. Everything
 * else is in lib/ (lib/cli/args.ts for the command line and usage text, lib/cli/commands.ts
 * for the subcommands). Run `deno run -A main.ts --help` for what exists; `main.ts clat` runs
 * the CLAT (RFC 6877) with the same daemon (`main.ts clat --help`).
 *
 * Exit status: 0 on success, 2 on a usage error, a file that cannot be read or written, an
 * invalid configuration or an unreadable capture.
 *
 * @module
 */

import {
  configureSync,
  getAnsiColorFormatter,
  getLogger,
  getTextFormatter,
  type LogRecord,
  type TextFormatter,
} from "@logtape/logtape";
import denoJson from "./deno.json" with { type: "json" };
import {
  type CheckConfigCommand,
  CLAT_USAGE,
  type ClatCheckConfigCommand,
  type ClatCommand,
  type ClatTranslateCommand,
  EXIT_USAGE,
  formatUsageError,
  parseCliArgs,
  PROGRAM_NAME,
  type RunCommand,
  type TranslateCommand,
  USAGE,
  versionLine,
} from "./lib/cli/args.ts";
import { checkConfig, loadDaemonConfig, translateFile } from "./lib/cli/commands.ts";
import { textValue, withProperties } from "./lib/cli/log_text.ts";
import { DaemonStartError, type ReloadResult, runDaemon } from "./runtime/run.ts";

const EXIT_OK = 0;
/** Exit status when the daemon cannot set up its device or routes, or fails while running. */
const EXIT_FAILURE = 1;
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

/**
 * One JSON object per line: time, level, logger, the message with its values filled in (strings
 * bare, as a human reads them) and the structured properties for machines.
 */
function jsonLine(record: LogRecord): string {
  let message = "";
  for (let i = 0; i < record.message.length; i++) {
    const part = record.message[i];
    message += i % 2 === 0 || typeof part === "string" ? String(part) : JSON.stringify(part);
  }
  return JSON.stringify({
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: record.level.toUpperCase(),
    logger: record.category.join("."),
    message,
    properties: record.properties,
  }) + "\n";
}

/**
 * Text for a terminal (lib/cli/log_text.ts): string values keep their line breaks, and the
 * properties the message does not show (the counters, …) follow it as `key=value`.
 */
function textFormatter(colors: boolean): TextFormatter {
  const options = {
    value: (v: unknown, inspect: (v: unknown, o?: { colors?: boolean }) => string) =>
      typeof v === "string" ? textValue(v) : inspect(v, { colors }),
    lineEnding: "lf" as const,
  };
  const base = colors ? getAnsiColorFormatter(options) : getTextFormatter(options);
  return (record: LogRecord) => withProperties(base(record), record);
}

/** LogTape to stderr: readable text on a terminal, JSON lines otherwise; debug with `-v`. */
function setUpLogging(verbose: boolean): void {
  const formatter = Deno.stderr.isTerminal() ? textFormatter(!Deno.noColor) : jsonLine;
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

/** Logs the settings a configuration accepted but ignores, as the daemon does at start. */
function logWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) log.warn(warning);
}

/**
 * `check-config` (and `clat check-config`): the configuration the daemon would run with for
 * the same file and protomask 1.x flags, and the same warnings.
 */
async function runCheckConfig(cmd: CheckConfigCommand | ClatCheckConfigCommand): Promise<number> {
  const bytes = await readFile(cmd.configPath, "the configuration");
  if (typeof bytes === "string") return fail(bytes);
  const checked = checkConfig(
    new TextDecoder().decode(bytes),
    cmd.configPath,
    cmd.overrides,
    navigator.hardwareConcurrency,
    cmd.kind === "clat-check-config" ? "clat" : "translator",
  );
  if (!checked.ok) return fail(checked.message);
  logWarnings(checked.warnings);
  writeAll(Deno.stdout, checked.text);
  return EXIT_OK;
}

async function runTranslate(cmd: TranslateCommand | ClatTranslateCommand): Promise<number> {
  const configBytes = await readFile(cmd.configPath, "the configuration");
  if (typeof configBytes === "string") return fail(configBytes);
  const clat = cmd.kind === "clat-translate";
  const checked = checkConfig(
    new TextDecoder().decode(configBytes),
    cmd.configPath,
    clat ? cmd.overrides : undefined,
    undefined,
    clat ? "clat" : "translator",
  );
  if (!checked.ok) return fail(checked.message);
  logWarnings(checked.warnings);
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

/**
 * Reads the configuration file (if any) and applies the command-line overrides: the
 * translator's, or with `clat` the CLAT's.
 */
async function loadRunConfig(
  cmd: RunCommand | ClatCommand,
): Promise<ReloadResult & { warnings?: string[] }> {
  let text: string | null = null;
  if (cmd.configPath !== null) {
    const bytes = await readFile(cmd.configPath, "the configuration");
    if (typeof bytes === "string") return { ok: false, message: bytes };
    text = new TextDecoder().decode(bytes);
  }
  const loaded = loadDaemonConfig({
    text,
    path: cmd.configPath,
    overrides: cmd.overrides,
    mode: cmd.kind === "clat" ? "clat" : "translator",
  });
  if (!loaded.ok) return { ok: false, message: loaded.message };
  return { ok: true, config: loaded.config, warnings: loaded.warnings };
}

/**
 * The daemon, for the translator or (`clat`) the CLAT: the same `runDaemon()` with the
 * configuration of each (a CLAT's has `clat` set).
 */
async function runRun(cmd: RunCommand | ClatCommand): Promise<number> {
  const first = await loadRunConfig(cmd);
  if (!first.ok) return fail(first.message);
  logWarnings(first.warnings ?? []);
  try {
    return await runDaemon({
      config: first.config,
      version: denoJson.version,
      reload: async () => {
        const next = await loadRunConfig(cmd);
        if (next.ok) logWarnings(next.warnings ?? []);
        return next;
      },
    });
  } catch (e) {
    if (!(e instanceof DaemonStartError)) throw e;
    writeAll(Deno.stderr, `${PROGRAM_NAME}: cannot start: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const cmd = parseCliArgs(argv);
  switch (cmd.kind) {
    case "usage-error":
      writeAll(Deno.stderr, formatUsageError(cmd));
      return EXIT_USAGE;
    case "help":
      writeAll(Deno.stdout, cmd.topic === "clat" ? CLAT_USAGE : USAGE);
      return EXIT_OK;
    case "version":
      writeAll(Deno.stdout, versionLine(denoJson.version) + "\n");
      return EXIT_OK;
  }
  setUpLogging(cmd.verbose);
  if (cmd.kind === "run" || cmd.kind === "clat") return await runRun(cmd);
  if (cmd.kind === "translate" || cmd.kind === "clat-translate") return await runTranslate(cmd);
  return await runCheckConfig(cmd);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
