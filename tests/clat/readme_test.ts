/**
 * The README's CLAT reference and protomask-clat 1.x tables, held to the key table
 * (lib/config/keys.ts) like the translator's (tests/config/keys_test.ts).
 */

import assert from "node:assert/strict";
import { README, tableAfter } from "../_util/readme.ts";
import { parseConfig } from "../../lib/config/config.ts";
import {
  defaultDoc,
  keysOf,
  protomask1FlagKeys,
  protomask1JsonKeys,
} from "../../lib/config/keys.ts";

Deno.test("clat readme: the CLAT reference lists every [Clat] key of the table, in order, with its default", () => {
  const rows = tableAfter("### CLAT reference");
  const keys = keysOf("clat").filter((k) => k.table === "Clat");
  assert.deepEqual(rows.map((r) => r[0]), keys.map((k) => `\`${k.path}\``));
  for (const k of keys) {
    const row = rows.find((r) => r[0] === `\`${k.path}\``)!;
    assert.equal(row[1], defaultDoc(k), `default of ${k.path}`);
    assert.ok(row[2]!.length > 0, `meaning of ${k.path}`);
  }
});

Deno.test("clat readme: the protomask-clat 1.x table gives each key its flag and JSON key", () => {
  const rows = tableAfter("### From protomask-clat 1.x");
  for (const k of [...protomask1FlagKeys("clat"), ...protomask1JsonKeys("clat")]) {
    const toml = `\`[${k.path.replace(".", "] ")}`;
    const row = rows.find((r) => /^[` ]/.test(r[2]!.slice(toml.length)) && r[2]!.startsWith(toml));
    assert.ok(row !== undefined, `a row for ${k.path}`);
    if (k.v1!.flag !== undefined) assert.ok(row[0]!.includes(k.v1!.flag), `${k.path}: ${row[0]}`);
    else assert.equal(row[0], "—");
    if (k.v1!.json !== undefined) {
      assert.ok(row[1]!.startsWith(`\`${k.v1!.json}\``), `${k.path}: ${row[1]}`);
    } else assert.equal(row[1], "—");
  }
});

Deno.test("clat readme: the CLAT example under the reference parses as a CLAT config", () => {
  const at = README.indexOf("### CLAT reference");
  const block = /```toml\n([\s\S]*?)```/.exec(README.slice(at))![1]!;
  assert.match(block, /^\[Clat\]$/m);
  assert.equal(parseConfig(block, { mode: "clat" }).clat!.customerPool.length, 1);
});
