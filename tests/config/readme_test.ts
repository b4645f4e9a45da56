import assert from "node:assert/strict";
import README from "../../README.md" with { type: "text" };
import { parse } from "smol-toml";
import { formatConfig, parseConfig } from "../../lib/config/config.ts";

const blocks = [...README.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);

Deno.test("every TOML config shown in the README parses", () => {
  assert.ok(blocks.length > 0, "the README shows a config");
  // A block with a [Clat] section is a CLAT configuration (`protomask clat`).
  for (const text of blocks) {
    parseConfig(text, { mode: /^\[Clat\]/m.test(text) ? "clat" : "translator" });
  }
});

Deno.test("the README's config table documents every key the config accepts", () => {
  // formatConfig writes every key with its effective value (Queues and StateFile only when set).
  const cfg = parseConfig(
    '[Interface]\nPool = ["192.0.2.0/24"]\nQueues = 2\n[Rules]\nStateFile = "/x"\n',
  );
  const effective = parse(formatConfig(cfg)) as Record<string, Record<string, unknown>>;
  const keys = Object.entries(effective).flatMap(([section, t]) =>
    Object.keys(t).map((k) => `${section}.${k}`)
  );
  assert.ok(keys.length >= 19, `keys: ${keys.join(", ")}`);
  for (const k of keys) assert.ok(README.includes(`| \`${k}\``), `README documents ${k}`);
});
