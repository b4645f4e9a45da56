/**
 * The error `parseConfig()` throws: every problem of a configuration at once.
 *
 * @module
 */

import { formatTomlValue } from "./toml_text.ts";

/** One thing wrong with a configuration. */
export interface ConfigProblem {
  /** Key path such as `Rules.MapStatic[2].v4`; empty for a TOML syntax error. */
  path: string;
  /** The offending value as parsed, or `undefined` when the key itself is the problem. */
  value: unknown;
  /** What is wrong and what is allowed. */
  message: string;
  /** 1-based line of a TOML syntax error. */
  line?: number;
  /** 1-based column of a TOML syntax error. */
  column?: number;
}

/**
 * Formats one problem as a single line:
 * `Rules.MapStatic[2].v4 = "192.0.2.300": not an IPv4 address`.
 *
 * @param p The problem.
 * @returns The line, without a trailing newline.
 */
export function formatConfigProblem(p: ConfigProblem): string {
  if (p.path === "") return p.message;
  if (p.value === undefined) return `${p.path}: ${p.message}`;
  return `${p.path} = ${formatTomlValue(p.value)}: ${p.message}`;
}

/**
 * A configuration that cannot be used. `message` lists every problem, one
 * per line (after a header line naming the file when one was given).
 */
export class ConfigError extends Error {
  /** Every problem found, in document order as far as possible. */
  readonly problems: readonly ConfigProblem[];
  /** The file the configuration came from, when known. */
  readonly file: string | null;

  /**
   * Builds the error and its message, one line per problem.
   *
   * @param problems The problems (at least one).
   * @param opts `file`: the configuration's file name, for the header line.
   */
  constructor(problems: readonly ConfigProblem[], opts: { file?: string } = {}) {
    const lines = problems.map(formatConfigProblem);
    if (opts.file !== undefined) {
      const n = problems.length;
      lines.unshift(`${opts.file}: ${n} configuration problem${n === 1 ? "" : "s"}:`);
    }
    super(lines.join("\n"));
    this.name = "ConfigError";
    this.problems = Object.freeze([...problems]);
    this.file = opts.file ?? null;
  }
}
