import assert from "node:assert/strict";
import { tableAfter } from "../_util/readme.ts";
import { parse } from "smol-toml";
import { formatConfig, parseConfig } from "../../lib/config/config.ts";
import {
  defaultDoc,
  keysOf,
  PROTOMASK1_FLAG_KEYS,
  PROTOMASK1_JSON_KEYS,
  RESTART_ONLY_KEYS,
  sectionsOf,
} from "../../lib/config/keys.ts";
import { PROTOMASK1_KEYS } from "../../lib/config/protomask1.ts";
import { NO_OVERRIDES, USAGE } from "../../lib/cli/args.ts";

/** The translator's keys (the CLAT's are held to the README by tests/clat/config_test.ts). */
const KEYS = keysOf("translator");

Deno.test("the README's reference table lists the key table's keys, in order, with their defaults", () => {
  const rows = tableAfter("### Reference");
  assert.deepEqual(rows.map((r) => r[0]), KEYS.map((k) => `\`${k.path}\``));
  for (const k of KEYS) {
    const row = rows.find((r) => r[0] === `\`${k.path}\``)!;
    assert.equal(row[1], defaultDoc(k), `default of ${k.path}`);
  }
});

Deno.test("the README's protomask 1.x table gives each key its flag and JSON key from the table", () => {
  const rows = tableAfter("## Switching from protomask 1.x");
  for (const k of [...PROTOMASK1_FLAG_KEYS, ...PROTOMASK1_JSON_KEYS]) {
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

Deno.test("every flag of the key table is in --help and has a field in ConfigOverrides", () => {
  for (const k of PROTOMASK1_FLAG_KEYS) {
    assert.ok(USAGE.includes(k.v1!.flag!), k.v1!.flag!);
    assert.ok(Object.hasOwn(NO_OVERRIDES, k.v1!.option!), k.v1!.option!);
  }
  assert.equal(PROTOMASK1_FLAG_KEYS.length, Object.keys(NO_OVERRIDES).length);
});

Deno.test("protomask 1.x JSON keys are upstream's, in upstream's order", () => {
  assert.deepEqual(PROTOMASK1_KEYS, [
    "prefix",
    "pool",
    "static_map",
    "reservation_timeout",
    "prometheus_bind_addr",
    "queues",
  ]);
});

Deno.test("the restart-only keys are the six the running daemon cannot change", () => {
  assert.deepEqual(RESTART_ONLY_KEYS.map((k) => k.path).sort(), [
    "Interface.Name",
    "Interface.Offload",
    "Interface.Queues",
    "Logging.MappingLog",
    "Metrics.Listen",
    "Rules.StateFile",
  ]);
});

Deno.test("every key of the table reaches Config and check-config, and nothing else does", () => {
  const cfg = parseConfig(
    '[Interface]\nPool = ["192.0.2.0/24"]\nQueues = 2\nOffload = true\n' +
      '[Rules]\nStateFile = "/x"\nAllowedSources = ["2001:db8::/32"]\nMaxLeasesPerPrefix = 4\n' +
      'MaxNewLeasesPerSecond = 9\n[Translation]\nTOS = 0\n[Logging]\nMappingLog = "/y"\n' +
      '[Metrics]\nListen = "127.0.0.1:9060"\n',
  );
  const effective = parse(formatConfig(cfg)) as Record<string, Record<string, unknown>>;
  const written = Object.entries(effective).flatMap(([s, t]) =>
    Object.keys(t).map((k) => `${s}.${k}`)
  );
  assert.deepEqual(written, KEYS.map((k) => k.path));
  for (const s of sectionsOf("translator")) {
    assert.deepEqual(
      Object.keys(cfg[s.field]!),
      KEYS.filter((k) => k.section === s.field).map((k) => k.field),
    );
  }
  assert.equal(cfg.clat, null);
});
