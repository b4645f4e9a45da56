/**
 * The subcommands as pure functions: file contents in, output bytes and messages out.
 *
 * `main.ts` reads the files, calls these, writes what they return and exits; the expected
 * failures (an invalid configuration, an unreadable capture) come back as a message rather
 * than an exception, so only `main.ts` prints. Anything else thrown is a bug and propagates.
 *
 * @module
 */

import { type Config, ConfigError, formatConfig, parseConfig } from "../config/config.ts";
import { type OfflineResult, translateCapture } from "../daemon/offline.ts";
import { PcapError } from "../pcap/reader.ts";

/** A subcommand that could not do its work; `message` is what to print (may be several lines). */
export interface CommandFailure {
  /** Discriminant: failed. */
  ok: false;
  /** What went wrong: every configuration problem, or the capture's problem and offset. */
  message: string;
}

/** `check-config` succeeded. */
export interface CheckConfigSuccess {
  /** Discriminant: succeeded. */
  ok: true;
  /** The validated configuration. */
  config: Config;
  /** The effective configuration as TOML text, for stdout (ends in a newline). */
  text: string;
}

/**
 * Validates configuration text (`check-config`).
 *
 * @param text the TOML text
 * @param path the file name, for the header line of the error message
 * @returns the config and its effective TOML text, or every problem found
 * @example checkConfig('[Interface]\nPool = ["192.0.2.0/24"]\n', "a.toml").ok === true
 */
export function checkConfig(text: string, path: string): CheckConfigSuccess | CommandFailure {
  try {
    const config = parseConfig(text, { path });
    return { ok: true, config, text: formatConfig(config) };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, message: e.message };
    throw e;
  }
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
 * Translates a capture offline (`translate`): runs every packet through the engine as the
 * daemon would (lib/daemon/offline.ts).
 *
 * @param input the configuration and the capture bytes with the capture's file name
 * @returns the output pcap and a summary line, or the capture's problem prefixed with its
 *   file name
 */
export function translateFile(input: TranslateInput): TranslateSuccess | CommandFailure {
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
