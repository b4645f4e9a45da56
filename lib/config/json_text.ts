/**
 * A strict JSON reader (RFC 8259) that says where a syntax error is, by line and column, and
 * rejects an object key given twice (as serde_json does for protomask 1.x's config struct).
 *
 * `JSON.parse` is not enough for configuration files: some of its messages carry no position
 * at all, and it keeps the last of two equal keys silently. Pure: no I/O.
 *
 * @module
 */

/** A JSON syntax error at a 1-based line and column. */
export interface JsonSyntaxError {
  /** 1-based line of the offending character (or of the end of the text). */
  line: number;
  /** 1-based column, counted in UTF-16 code units. */
  column: number;
  /** What was expected or found, e.g. `expected ',' or '}' after a value`. */
  reason: string;
}

/** What {@link readJson} returns: the value, or where and why the text is not JSON. */
export type JsonResult = { ok: true; value: unknown } | { ok: false; error: JsonSyntaxError };

/** Deepest nesting of arrays and objects read (a configuration needs 3). */
const MAX_DEPTH = 64;
const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

class Failure {
  constructor(readonly pos: number, readonly reason: string) {}
}

/** Recursive-descent reader over one text; throws {@link Failure} (caught in readJson). */
class Reader {
  pos = 0;
  depth = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && WS.has(this.text.charCodeAt(this.pos))) this.pos++;
  }

  found(): string {
    if (this.pos >= this.text.length) return "the end of the text";
    return `'${this.text[this.pos]}'`;
  }

  fail(expected: string): never {
    throw new Failure(this.pos, `expected ${expected}, found ${this.found()}`);
  }

  value(): unknown {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "{" || c === "[") {
      if (++this.depth > MAX_DEPTH) throw new Failure(this.pos, "nested too deeply");
      const v = c === "{" ? this.object() : this.array();
      this.depth--;
      return v;
    }
    if (c === '"') return this.string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m !== null) {
      this.pos += m[0].length;
      return Number(m[0]);
    }
    return this.fail("a value");
  }

  string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      if (this.pos >= this.text.length) this.fail("'\"' to end the string");
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) throw new Failure(this.pos, "control character in a string (escape it)");
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      ESCAPE.lastIndex = this.pos;
      const m = ESCAPE.exec(this.text);
      if (m === null) throw new Failure(this.pos, "invalid escape in a string");
      this.pos += m[0].length;
    }
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  array(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "]") return out;
      if (c !== ",") {
        this.pos--;
        this.fail("',' or ']' after an array item");
      }
    }
  }

  object(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail("a double-quoted key");
      const keyPos = this.pos;
      const key = this.string();
      if (Object.hasOwn(out, key)) throw new Failure(keyPos, `duplicate key "${key}"`);
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("':' after a key");
      this.pos++;
      Object.defineProperty(out, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipSpace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "}") return out;
      if (c !== ",") {
        this.pos--;
        this.fail("',' or '}' after a value");
      }
    }
  }
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf("\n");
  return { line: before.split("\n").length, column: pos - nl };
}

/**
 * Reads one JSON text (RFC 8259 §2): exactly one value, surrounded by optional whitespace;
 * a leading byte-order mark is skipped. Keys such as `__proto__` become ordinary properties.
 *
 * @param text the JSON text
 * @returns the value, or the first syntax error with its line and column
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(readJson('{"pool": ["192.0.2.0/24"]}'), {
 *   ok: true,
 *   value: { pool: ["192.0.2.0/24"] },
 * });
 * ```
 */
export function readJson(text: string): JsonResult {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const r = new Reader(body);
  try {
    const value = r.value();
    r.skipSpace();
    if (r.pos < body.length) r.fail("the end of the text after the value");
    return { ok: true, value };
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    return { ok: false, error: { ...lineColumn(body, e.pos), reason: e.reason } };
  }
}
