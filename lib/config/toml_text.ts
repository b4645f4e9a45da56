/**
 * Small helpers to write TOML text and to describe parsed TOML values in
 * messages (TOML 1.0: https://toml.io/en/v1.0.0).
 *
 * @module
 */

/** Longest rendering of a value inside an error message before it is cut. */
const MAX_VALUE_TEXT = 80;

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Writes a TOML basic string, escaping quotes, backslashes and every
 * control character (TOML 1.0 "String").
 *
 * @param s The string.
 * @returns The quoted TOML text, e.g. `"nat64i%d"`.
 */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/**
 * Writes a TOML key: bare when it can be, quoted otherwise (TOML 1.0 "Keys").
 *
 * @param key The key.
 * @returns `key` itself or its quoted form.
 */
export function tomlKey(key: string): string {
  return BARE_KEY.test(key) ? key : tomlString(key);
}

/**
 * Names the TOML type of a parsed value, with its article, for messages
 * such as "expected an integer, got a string". Integers are expected to be
 * parsed as `bigint` (smol-toml's `integersAsBigInt`), so every `number`
 * is a TOML float.
 *
 * @param v A value produced by the TOML parser.
 * @returns "a string", "an integer", "a float", "a boolean", "a date-time",
 *   "an array" or "a table".
 */
export function describeType(v: unknown): string {
  if (typeof v === "string") return "a string";
  if (typeof v === "bigint") return "an integer";
  if (typeof v === "number") return "a float";
  if (typeof v === "boolean") return "a boolean";
  if (v instanceof Date) return "a date-time";
  if (Array.isArray(v)) return "an array";
  return "a table";
}

function render(v: unknown): string {
  if (typeof v === "string") return tomlString(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    return Number.isInteger(v) ? v.toFixed(1) : String(v);
  }
  if (typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(render).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v).map(([k, x]) => `${tomlKey(k)} = ${render(x)}`);
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  return String(v);
}

/**
 * Renders a parsed TOML value the way it would be written in TOML, cut to
 * a readable length, for error messages.
 *
 * @param v A value produced by the TOML parser.
 * @returns TOML-like text such as `"192.0.2.300"`, `7200.5` or `{ v4 = "…" }`.
 */
export function formatTomlValue(v: unknown): string {
  const text = render(v);
  return text.length > MAX_VALUE_TEXT ? `${text.slice(0, MAX_VALUE_TEXT - 1)}…` : text;
}
