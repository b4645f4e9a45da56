/**
 * Log lines for a terminal. LogTape's text formatter prints only the message with its
 * placeholders filled in, so a line whose information is in its properties (`counters` on
 * SIGUSR2 and at shutdown) showed no numbers, and its string values are escaped (`\n`), so a
 * rejected reload's problems ran together on one line. Here the properties a message does not
 * name are appended as `key=value`, and string values keep their line breaks, each further
 * line indented so it cannot pass for a record of its own.
 *
 * Pure: values and records in, strings out; `main.ts` plugs these into LogTape.
 *
 * @module
 */

/** Indent of the second and further lines of a multi-line value. */
const CONTINUATION = "\n    ";

/** C0 controls other than tab and line feed, DEL and C1 controls: never sent to a terminal. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Characters that make a property value need quotes to be read back unambiguously. */
// deno-lint-ignore no-control-regex
const NEEDS_QUOTES = /[\s"'=\\{}[\],\x00-\x1f\x7f-\x9f]|^$/;

function escapeControl(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * A string value interpolated into a message, for a terminal: as it is, but with control
 * characters escaped (`\x1b`, so a value cannot move the cursor or fake colours) and every
 * line after the first indented.
 *
 * @param value the string
 * @returns the text to show
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(textValue("2 problems:\n  a\n  b"), "2 problems:\n      a\n      b");
 * ```
 */
export function textValue(value: string): string {
  return value.replace(CONTROL, escapeControl).replace(/\n/g, CONTINUATION);
}

/**
 * One property value as `key=value` shows it: numbers, booleans and null as they are,
 * strings bare unless they need quotes (then as a JSON string, control characters escaped),
 * arrays as `[a, b]`, objects as `{k=v k2=v2}`.
 *
 * @param value the value
 * @returns its text
 */
export function propertyValue(value: unknown): string {
  if (typeof value === "string") {
    if (!NEEDS_QUOTES.test(value)) return value;
    return JSON.stringify(value).replace(/[\x7f-\x9f]/g, escapeControl);
  }
  if (Array.isArray(value)) return `[${value.map(propertyValue).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const parts = Object.entries(value).filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${propertyValue(v)}`);
    return `{${parts.join(" ")}}`;
  }
  return String(value);
}

/** The fields of a LogTape record {@link propertiesText} reads. */
export interface TextRecord {
  /** The message template, e.g. `"lease file {path} written again"`. */
  rawMessage: string | readonly string[];
  /** The structured properties. */
  properties: Readonly<Record<string, unknown>>;
}

/**
 * The properties of a record that its message does not show, as ` key=value …`. `event` is
 * left out: it names the kind of line for machines, which the message says for people.
 *
 * @param record the message template and the properties
 * @returns the suffix for the line (empty when there is nothing to add)
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * const properties = { event: "counters", leases: 2 };
 * strictEqual(propertiesText({ rawMessage: "counters", properties }), " leases=2");
 * ```
 */
export function propertiesText(record: TextRecord): string {
  const template = typeof record.rawMessage === "string"
    ? record.rawMessage
    : record.rawMessage.join("");
  const named = new Set([...template.matchAll(/\{([^{}\s]+)\}/g)].map((m) => m[1]));
  let out = "";
  for (const [key, value] of Object.entries(record.properties)) {
    if (key === "event" || named.has(key) || value === undefined) continue;
    out += ` ${key}=${propertyValue(value)}`;
  }
  return out;
}

/**
 * A formatted text line with the record's other properties appended (before its line end).
 *
 * @param line what LogTape's text formatter made of the record
 * @param record the record
 * @returns the line with {@link propertiesText} added
 */
export function withProperties(line: string, record: TextRecord): string {
  const suffix = propertiesText(record);
  if (suffix === "") return line;
  return line.endsWith("\n") ? `${line.slice(0, -1)}${suffix}\n` : line + suffix;
}
