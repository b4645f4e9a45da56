import assert from "node:assert/strict";
import { ConfigError, formatConfig, parseConfig } from "../../lib/config/config.ts";
import {
  DEFAULT_MAX_QUEUES,
  defaultQueues,
  effectiveQueues,
  MAX_QUEUES,
} from "../../lib/config/queues.ts";

const POOL = '[Interface]\nPool = ["192.0.2.0/24"]\n';

/** The problem lines of text that must fail. */
function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.message.split("\n");
  }
  assert.fail("parseConfig() accepted the text");
}

Deno.test("defaultQueues() is one per CPU, from 1 to 8", () => {
  assert.equal(DEFAULT_MAX_QUEUES, 8);
  assert.deepEqual([1, 2, 3, 8, 9, 64, 256].map(defaultQueues), [1, 2, 3, 8, 8, 8, 8]);
  // A runtime that reports no CPU count still gets one queue.
  assert.deepEqual([0, -1, NaN, Infinity, 2.7].map(defaultQueues), [1, 1, 1, 1, 2]);
});

Deno.test("effectiveQueues() takes Interface.Queues when set, else the default for the CPUs", () => {
  assert.equal(effectiveQueues(null, 4), 4);
  assert.equal(effectiveQueues(null, 48), 8);
  assert.equal(effectiveQueues(3, 16), 3);
  assert.equal(effectiveQueues(16, 2), 16, "an explicit value is not capped by the CPUs");
});

Deno.test("parseConfig() leaves Interface.Queues null when absent and reads 1..64", () => {
  assert.equal(parseConfig(POOL).interface.queues, null);
  assert.equal(parseConfig(POOL + "Queues = 1\n").interface.queues, 1);
  assert.equal(parseConfig(POOL + "Queues = 4\n").interface.queues, 4);
  assert.equal(parseConfig(POOL + `Queues = ${MAX_QUEUES}\n`).interface.queues, 64);
});

Deno.test("parseConfig() rejects Queues outside 1..64 or not an integer, one message each", () => {
  for (const v of ["0", "65", "-1"]) {
    assert.deepEqual(problems(POOL + `Queues = ${v}\n`), [
      `Interface.Queues = ${v}: must be an integer from 1 to 64`,
    ]);
  }
  assert.deepEqual(problems(POOL + 'Queues = "2"\n'), [
    'Interface.Queues = "2": expected an integer from 1 to 64, got a string',
  ]);
  // With other problems, each key still gets exactly one line.
  assert.deepEqual(problems(POOL + "Queues = 2.5\nMTU = 1\n"), [
    "Interface.MTU = 1: must be an integer from 1280 to 65535",
    "Interface.Queues = 2.5: expected an integer from 1 to 64, got a float",
  ]);
  assert.match(problems(POOL + "Queue = 2\n")[0]!, /Interface\.Queue: .*did you mean "Queues"/);
});

Deno.test("formatConfig() writes Queues when set and the machine's default as a comment otherwise", () => {
  const set = parseConfig(POOL + "Queues = 3\n");
  assert.ok(formatConfig(set).split("\n").includes("Queues = 3"));
  assert.deepEqual(parseConfig(formatConfig(set)), set);

  const unset = parseConfig(POOL);
  const here = formatConfig(unset, { cpus: 2 }).split("\n");
  assert.ok(
    here.includes("# Queues = 2 here: the default, one per CPU, at most 8"),
    here.join("\n"),
  );
  assert.ok(
    formatConfig(unset, { cpus: 32 }).includes("# Queues = 8 here: the default"),
    "capped at 8",
  );
  assert.ok(formatConfig(unset).includes("# Queues: the default, one per CPU, at most 8"));
  // The comment keeps the key out, so the text parses back to the same (null) setting.
  assert.deepEqual(parseConfig(formatConfig(unset, { cpus: 2 })), unset);
});
