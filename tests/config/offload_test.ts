import assert from "node:assert/strict";
import { ConfigError, formatConfig, parseConfig } from "../../lib/config/config.ts";
import { restartOnlyChanges } from "../../lib/daemon/routes.ts";

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

Deno.test("parseConfig() reads Interface.Offload as a boolean, null (on where supported) when absent", () => {
  assert.equal(parseConfig(POOL).interface.offload, null);
  assert.equal(parseConfig(POOL + "Offload = true\n").interface.offload, true);
  assert.equal(parseConfig(POOL + "Offload = false\n").interface.offload, false);
  assert.deepEqual(problems(POOL + 'Offload = "yes"\nMTU = 1\n'), [
    "Interface.MTU = 1: must be an integer from 1280 to 65535",
    'Interface.Offload = "yes": expected a boolean (true or false), got a string',
  ]);
  assert.match(problems(POOL + "Offlaod = true\n")[0]!, /did you mean "Offload"/);
});

Deno.test("formatConfig() writes Offload when set and the default as a comment otherwise", () => {
  for (const v of [true, false]) {
    const cfg = parseConfig(POOL + `Offload = ${v}\n`);
    assert.ok(formatConfig(cfg).split("\n").includes(`Offload = ${v}`));
    assert.deepEqual(parseConfig(formatConfig(cfg)), cfg);
  }
  const unset = parseConfig(POOL);
  const text = formatConfig(unset);
  assert.ok(text.includes("# Offload: the default, on where the kernel supports it"), text);
  assert.deepEqual(parseConfig(text), unset);
});

Deno.test("a changed Interface.Offload takes a restart (the fds carry IFF_VNET_HDR)", () => {
  const before = parseConfig(POOL);
  assert.deepEqual(restartOnlyChanges(before, parseConfig(POOL + "Offload = false\n")), [
    "Interface.Offload",
  ]);
  assert.deepEqual(restartOnlyChanges(before, parseConfig(POOL)), []);
});
