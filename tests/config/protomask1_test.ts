import assert from "node:assert/strict";
import { ConfigError, formatConfig, parseConfig } from "../../lib/config/config.ts";
import { parseProtomask1Json } from "../../lib/config/protomask1.ts";
import { readJson } from "../../lib/config/json_text.ts";
import { parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";

/**
 * Upstream protomask 1.1.0's example, config/protomask.json (github.com/ewpratten/protomask),
 * re-typed: the Well-Known Prefix, one pool, one static map in the object form, a Prometheus
 * address and a queue count.
 */
const UPSTREAM_EXAMPLE = `{
    "prefix": "64:ff9b::/96",
    "pool": [
        "192.0.2.0/24"
    ],
    "static_map": [
        {
            "ipv4": "192.0.2.1",
            "ipv6": "2001:db8::1"
        }
    ],
    "prometheus_bind_addr": "[::1]:8999",
    "reservation_timeout": 7200,
    "queues": 10
}`;

/** Parses JSON that must fail and returns the lines of the message (after the header). */
function problems(text: string): string[] {
  try {
    parseProtomask1Json(text, { path: "p.json" });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    const lines = e.message.split("\n");
    assert.match(lines[0]!, /^p\.json: \d+ configuration problems?:$/);
    return lines.slice(1);
  }
  assert.fail("parseProtomask1Json() accepted the text");
}

Deno.test("parseProtomask1Json() loads upstream's example config into the expected Config", () => {
  const { config, warnings } = parseProtomask1Json(UPSTREAM_EXAMPLE);
  assert.deepEqual(config.interface.prefix, parseIpv6Prefix("64:ff9b::/96"));
  assert.deepEqual(config.interface.pool, [parseIpv4Prefix("192.0.2.0/24")]);
  assert.equal(config.rules.mapStatic.length, 1);
  assert.deepEqual(config.rules.mapStatic[0]!.v4, { addr: 0xc0000201, len: 32 });
  assert.equal(formatIpv6(config.rules.mapStatic[0]!.v6.addr), "2001:db8::1");
  assert.equal(config.rules.mapStatic[0]!.v6.len, 128);
  assert.equal(config.rules.reservationDurationSecs, 7200);
  assert.equal(config.interface.name, "nat64i%d", "no JSON key for it: the TOML default");
  assert.ok(Object.isFrozen(config.rules.mapStatic));
  assert.equal(config.interface.queues, 10, "queues is Interface.Queues");
  assert.deepEqual(config.metrics.listen, { hostname: "::1", port: 8999 }, "Metrics.Listen");
  assert.deepEqual(warnings, []);
});

Deno.test("parseProtomask1Json() names prometheus_bind_addr in the message for a bad address", () => {
  assert.deepEqual(problems('{"pool": ["192.0.2.0/24"], "prometheus_bind_addr": "localhost"}'), [
    'prometheus_bind_addr = "localhost": expected "address:port", e.g. "127.0.0.1:9060" or ' +
    '"[::1]:9060"',
  ]);
});

Deno.test("parseProtomask1Json() gives the same Config as the equivalent TOML", () => {
  const toml = `[Interface]
Prefix = "64:ff9b::/96"
Pool = ["192.0.2.0/24"]
[Rules]
MapStatic = [{ v4 = "192.0.2.1", v6 = "2001:db8::1" }]
ReservationDuration = 7200
`.replace("[Rules]", "Queues = 10\n[Rules]") + '[Metrics]\nListen = "[::1]:8999"\n';
  const json = parseProtomask1Json(UPSTREAM_EXAMPLE).config;
  assert.equal(formatConfig(json), formatConfig(parseConfig(toml)));
});

Deno.test("parseProtomask1Json() accepts static_map entries as [ipv4, ipv6] pairs, as upstream's struct declares them", () => {
  const pair = parseProtomask1Json(
    '{"pool": ["192.0.2.0/24"], "static_map": [["192.0.2.1", "2001:db8::1"]]}',
  );
  const object = parseProtomask1Json(
    '{"pool": ["192.0.2.0/24"], "static_map": [{"ipv6": "2001:db8::1", "ipv4": "192.0.2.1"}]}',
  );
  assert.equal(formatConfig(pair.config), formatConfig(object.config));
  assert.equal(pair.config.rules.mapStatic.length, 1);
});

Deno.test("parseProtomask1Json() fills upstream's defaults for absent keys and warns about nothing", () => {
  const { config, warnings } = parseProtomask1Json('{"pool": ["198.51.100.0/24"]}');
  assert.deepEqual(config.interface.prefix, parseIpv6Prefix("64:ff9b::/96"));
  assert.equal(config.rules.reservationDurationSecs, 7200);
  assert.deepEqual(config.rules.mapStatic, []);
  assert.deepEqual(warnings, []);
  const nulls = parseProtomask1Json(
    '{"pool": ["198.51.100.0/24"], "prometheus_bind_addr": null, "queues": null}',
  );
  assert.deepEqual(nulls.warnings, []);
  assert.equal(nulls.config.interface.queues, null, "queues: null is the default");
});

Deno.test("parseProtomask1Json() checks queues as Interface.Queues, named as the JSON key", () => {
  assert.equal(
    parseProtomask1Json('{"pool": ["192.0.2.0/24"], "queues": 1}').config.interface.queues,
    1,
  );
  assert.deepEqual(problems('{"pool": ["192.0.2.0/24"], "queues": 0}'), [
    "queues = 0: must be an integer from 1 to 64",
  ]);
  assert.deepEqual(problems('{"pool": ["192.0.2.0/24"], "queues": "4"}'), [
    'queues = "4": expected an integer from 1 to 64, got a string',
  ]);
});

Deno.test("parseProtomask1Json() names each bad value by its JSON key path, all in one message", () => {
  const lines = problems(`{
  "prefix": "64:ff9b::/95",
  "pool": ["192.0.2.0/33", 5, "192.0.2.0/24", "192.0.2.0/25"],
  "static_map": [{"ipv4": "192.0.2.300", "ipv6": "2001:db8::1"}, {"ipv4": "192.0.2.7"}],
  "reservation_timeout": 0
}`);
  assert.deepEqual(lines, [
    'prefix = "64:ff9b::/95": prefix length must be one of 32, 40, 48, 56, 64, 96 (RFC 6052 §2.2)',
    'pool[0] = "192.0.2.0/33": prefix length must be an integer from 0 to 32',
    "pool[1] = 5: expected a string, got an integer",
    'pool[3] = "192.0.2.0/25": overlaps pool[2] (192.0.2.0/24)',
    'static_map[0].ipv4 = "192.0.2.300": not an IPv4 address or prefix',
    "static_map[1].ipv6: missing key",
    "reservation_timeout = 0: must be an integer from 1 to 4294967295",
  ]);
});

Deno.test("parseProtomask1Json() rejects unknown keys with a suggestion, and points 'interface' at -i", () => {
  const lines = problems(
    '{"pool": ["192.0.2.0/24"], "pol": 1, "static_map": [{"ipv4": "192.0.2.1", "ipv": "::1"}], "interface": "x", "zzz": 1}',
  );
  assert.deepEqual(lines, [
    'pol: unknown key (did you mean "pool"?)',
    'static_map[0].ipv: unknown key (did you mean "ipv4"?)',
    "interface: unknown key (protomask 1.x sets the TUN name with -i/--interface, not in JSON)",
    "zzz: unknown key (allowed: prefix, pool, static_map, reservation_timeout, prometheus_bind_addr, queues)",
    "static_map[0].ipv6: missing key",
  ]);
});

Deno.test("parseProtomask1Json() describes malformed static_map entries in JSON terms", () => {
  const lines = problems(
    '{"pool": ["192.0.2.0/24"], "static_map": [["192.0.2.1"], 7, null, ["192.0.2.1", null]]}',
  );
  const shape = 'expected {"ipv4": "<IPv4>", "ipv6": "<IPv6>"} or ["<IPv4>", "<IPv6>"]';
  assert.deepEqual(lines, [
    `static_map[0] = ["192.0.2.1"]: ${shape}, got an array of 1 item`,
    `static_map[1] = 7: ${shape}, got an integer`,
    `static_map[2] = null: ${shape}, got null`,
    "static_map[3][1] = null: expected a string, got null",
  ]);
});

Deno.test("parseProtomask1Json() reports a duplicate static map and wrong types of whole keys", () => {
  const dup = problems(
    '{"pool": ["192.0.2.0/24"], "static_map": [["192.0.2.9", "2001:db8::9"], ["192.0.2.9", "2001:db8::9"]]}',
  );
  assert.deepEqual(dup, [
    'static_map[1] = ["192.0.2.9", "2001:db8::9"]: duplicate of static_map[0]',
  ]);
  const types = problems('{"pool": "192.0.2.0/24", "reservation_timeout": "7200"}');
  assert.deepEqual(types, [
    'pool = "192.0.2.0/24": expected an array, got a string',
    'reservation_timeout = "7200": expected an integer from 1 to 4294967295, got a string',
  ]);
});

Deno.test("parseProtomask1Json() says there is nothing to translate with neither pool nor static_map", () => {
  assert.deepEqual(problems('{"pool": []}'), [
    "pool = []: nothing to translate for: add pool or static_map",
  ]);
});

Deno.test("parseProtomask1Json() gives a JSON syntax error its line and column", () => {
  assert.deepEqual(problems('{\n  "pool": [\n    "192.0.2.0/24" "x"\n  ]\n}'), [
    "JSON syntax error at line 3, column 20: expected ',' or ']' after an array item, found '\"'",
  ]);
  assert.deepEqual(problems('{"pool": ["192.0.2.0/24"],\n'), [
    "JSON syntax error at line 2, column 1: expected a double-quoted key, found the end of the text",
  ]);
  assert.deepEqual(problems('{"pool": [], "pool": ["192.0.2.0/24"]}'), [
    'JSON syntax error at line 1, column 14: duplicate key "pool"',
  ]);
  assert.deepEqual(problems('["192.0.2.0/24"]'), [
    'expected a JSON object such as {"pool": ["192.0.2.0/24"]}, got an array',
  ]);
});

Deno.test("readJson() reads what JSON.parse reads and rejects what it rejects", () => {
  const good = ['{"a": [1, -2.5e3, true, false, null, "x\\u0041\\n"]}', " 0 ", '"\u00e9"', "[]"];
  for (const text of good) {
    const r = readJson(text);
    assert.ok(r.ok, text);
    assert.deepEqual(r.value, JSON.parse(text));
  }
  const bad = ["", "01", "[1,]", '{"a":1,}', '"\\q"', '"a\tb"', "tru", "1 2", "-", "[".repeat(100)];
  for (const text of bad) {
    assert.throws(() => JSON.parse(text), SyntaxError, text);
    const r = readJson(text);
    assert.ok(!r.ok, text);
    assert.ok(r.error.line >= 1 && r.error.column >= 1, text);
  }
});

Deno.test("readJson() skips a byte-order mark and keeps '__proto__' as a plain key", () => {
  const r = readJson('\uFEFF{"__proto__": {"x": 1}}');
  assert.ok(r.ok);
  const v = r.value as Record<string, unknown>;
  assert.ok(Object.hasOwn(v, "__proto__"));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
});
