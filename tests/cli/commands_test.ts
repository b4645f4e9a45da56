import assert from "node:assert/strict";
import {
  checkConfig,
  type CheckConfigSuccess,
  detectConfigFormat,
  formatTranslateSummary,
  loadDaemonConfig,
  translateFile,
} from "../../lib/cli/commands.ts";
import { type ConfigOverrides, NO_OVERRIDES } from "../../lib/cli/args.ts";
import { formatConfig, parseConfig } from "../../lib/config/config.ts";
import { readCapture } from "../../lib/pcap/reader.ts";
import { ipv4HeaderChecksumValid, l4ChecksumValid, toHex } from "../_util/packets.ts";
import {
  captureOf,
  CONFIG_TEXT,
  HOP_LIMIT_1,
  OUTSIDE_PREFIX,
  THREE_PACKET_SUMMARY,
  THREE_PACKETS,
  TO_PREFIX,
} from "./fixture.ts";

const PCAP_HEADER_BYTES = 24;

function config(): CheckConfigSuccess["config"] {
  const r = checkConfig(CONFIG_TEXT, "c.toml");
  assert.ok(r.ok);
  return r.config;
}

Deno.test("the fixture packets carry valid UDP checksums", () => {
  for (const p of THREE_PACKETS) assert.equal(l4ChecksumValid(p), true);
});

Deno.test("checkConfig() returns the effective configuration text", () => {
  const r = checkConfig(CONFIG_TEXT, "c.toml");
  assert.ok(r.ok);
  assert.equal(r.text, formatConfig(parseConfig(CONFIG_TEXT)));
  assert.match(r.text, /^SendDropErrors = false$/m);
  assert.match(r.text, /^Prefix = "2001:db8:64::\/96"$/m);
});

Deno.test("checkConfig() returns every problem, under a header naming the file", () => {
  const r = checkConfig('[Interface]\nPool = ["192.0.2.300"]\nMTU = 10\n', "bad.toml");
  assert.ok(!r.ok);
  const lines = r.message.split("\n");
  assert.equal(lines[0], "bad.toml: 2 configuration problems:");
  assert.ok(lines.some((l) => l.startsWith("Interface.Pool[0] = ")), r.message);
  assert.ok(lines.some((l) => l.startsWith("Interface.MTU = 10: ")), r.message);
});

Deno.test("checkConfig() reports a TOML syntax error with its line", () => {
  const r = checkConfig("[Interface]\nPool = [\n", "broken.toml");
  assert.ok(!r.ok);
  assert.match(r.message, /^broken\.toml: 1 configuration problem:\nTOML syntax error at line \d+/);
});

Deno.test("translateFile() translates one packet, answers one with Time Exceeded, counts two drops", () => {
  const r = translateFile({
    config: config(),
    capture: captureOf(...THREE_PACKETS),
    capturePath: "in.pcap",
  });
  assert.ok(r.ok);
  assert.equal(r.summary, THREE_PACKET_SUMMARY);
  assert.equal(r.result.packetsIn, 3);
  assert.equal(r.result.packetsOut, 2);
  const out = readCapture(r.result.pcap);
  assert.equal(out.packets.length, 2);
  const p = out.packets[0]!.data;
  // RFC 7915 §5.1: IPv4 header, TTL = Hop Limit − 1, destination extracted from the prefix,
  // source leased from the pool; the UDP datagram itself is unchanged but for its checksum.
  assert.equal(p.length, 20 + 12);
  assert.equal(p[0], 0x45);
  assert.equal(p[8], 63);
  assert.equal(p[9], 17);
  assert.equal(toHex(p.subarray(12, 15)), "c00002", "source in 192.0.2.0/24");
  assert.equal(toHex(p.subarray(16, 20)), "c6336401", "destination 198.51.100.1");
  assert.equal(toHex(p.subarray(20, 26)), toHex(TO_PREFIX.subarray(40, 46)), "ports, length");
  assert.equal(toHex(p.subarray(28)), toHex(TO_PREFIX.subarray(48)), "payload");
  assert.ok(ipv4HeaderChecksumValid(p));
  assert.equal(l4ChecksumValid(p), true);
  // RFC 4443 §3.3: Time Exceeded (type 3, code 0) back to the source, quoting the packet.
  const e = out.packets[1]!.data;
  assert.equal(e[0]! >> 4, 6);
  assert.equal(e[6], 58, "next header ICMPv6");
  assert.equal(toHex(e.subarray(24, 40)), toHex(HOP_LIMIT_1.subarray(8, 24)), "to the source");
  assert.deepEqual([e[40], e[41]], [3, 0]);
  assert.equal(toHex(e.subarray(48)), toHex(HOP_LIMIT_1), "quotes the whole packet");
  assert.equal(l4ChecksumValid(e), true);
});

Deno.test("translateFile() writes only the pcap header when every packet is dropped", () => {
  const r = translateFile({
    config: config(),
    capture: captureOf(OUTSIDE_PREFIX),
    capturePath: "in.pcap",
  });
  assert.ok(r.ok);
  assert.equal(r.result.pcap.length, PCAP_HEADER_BYTES);
  assert.equal(readCapture(r.result.pcap).packets.length, 0);
  assert.equal(r.summary, "translate: 1 packet in, 0 out; dropped: not_in_prefix 1");
});

Deno.test("translateFile() reports a capture it cannot read, naming the file and offset", () => {
  const r = translateFile({
    config: config(),
    capture: new TextEncoder().encode("not a capture"),
    capturePath: "x.pcap",
  });
  assert.ok(!r.ok);
  assert.match(r.message, /^x\.pcap: .* at offset 0$/);
});

Deno.test("translateFile() reports a truncated capture at the offset of its last record", () => {
  const whole = captureOf(TO_PREFIX);
  const r = translateFile({
    config: config(),
    capture: whole.subarray(0, whole.length - 1),
    capturePath: "cut.pcap",
  });
  assert.ok(!r.ok);
  assert.match(r.message, new RegExp(`^cut\\.pcap: .* at offset ${PCAP_HEADER_BYTES}$`));
});

Deno.test("formatTranslateSummary() says 'none' when nothing was dropped", () => {
  const line = formatTranslateSummary({
    pcap: new Uint8Array(PCAP_HEADER_BYTES),
    packetsIn: 0,
    packetsOut: 0,
    skipped: 0,
    drops: {},
    stats: {},
  });
  assert.equal(line, "translate: 0 packets in, 0 out; dropped: none");
});

Deno.test("formatTranslateSummary() mentions records that were not IP packets", () => {
  const line = formatTranslateSummary({
    pcap: new Uint8Array(PCAP_HEADER_BYTES),
    packetsIn: 2,
    packetsOut: 1,
    skipped: 3,
    drops: { no_mapping: 1 },
    stats: {},
  });
  assert.equal(
    line,
    "translate: 2 packets in (3 non-IP records skipped), 1 out; dropped: no_mapping 1",
  );
});

/** The overrides with some fields set. */
function flags(set: Partial<ConfigOverrides>): ConfigOverrides {
  return { ...NO_OVERRIDES, ...set };
}

/** Loads a config that must be valid and returns the success. */
function loaded(input: Parameters<typeof loadDaemonConfig>[0]) {
  const r = loadDaemonConfig(input);
  assert.ok(r.ok, r.ok ? "" : r.message);
  return r;
}

/** Loads a config that must fail and returns the lines of the message. */
function failed(input: Parameters<typeof loadDaemonConfig>[0]): string[] {
  const r = loadDaemonConfig(input);
  assert.ok(!r.ok, "loadDaemonConfig() accepted the input");
  return r.message.split("\n");
}

const SAME_TOML = `[Interface]
Prefix = "2001:db8:64::/96"
Pool = ["192.0.2.0/24", "198.51.100.0/25"]
Name = "nat%d"
[Rules]
ReservationDuration = 300
`;
const SAME_JSON = `{
  "prefix": "2001:db8:64::/96",
  "pool": ["192.0.2.0/24", "198.51.100.0/25"],
  "reservation_timeout": 300
}`;
const SAME_FLAGS = flags({
  interface: "nat%d",
  poolPrefixes: ["192.0.2.0/24", "198.51.100.0/25"],
  translationPrefix: "2001:db8:64::/96",
  reservationTimeout: "300",
});

Deno.test("loadDaemonConfig() gives equal Configs for the same settings as TOML, 1.x JSON and flags", () => {
  const toml = loaded({ text: SAME_TOML, path: "c.toml", overrides: NO_OVERRIDES });
  const json = loaded({
    text: SAME_JSON,
    path: "c.json",
    overrides: flags({ interface: "nat%d" }),
  });
  const alone = loaded({ text: null, path: null, overrides: SAME_FLAGS });
  assert.equal(toml.format, "toml");
  assert.equal(json.format, "protomask1-json");
  assert.equal(alone.format, "flags");
  const expected = formatConfig(toml.config);
  assert.match(expected, /^ReservationDuration = 300$/m);
  assert.equal(formatConfig(json.config), expected);
  assert.equal(formatConfig(alone.config), expected);
  assert.deepEqual([toml.warnings, json.warnings, alone.warnings], [[], [], []]);
});

Deno.test("loadDaemonConfig() lets every flag win over the file, TOML or JSON", () => {
  const base = '[Interface]\nPool = ["203.0.113.0/24"]\nName = "a%d"\n' +
    '[Rules]\nReservationDuration = 9\nMapStatic = [{ v4 = "203.0.113.9", v6 = "2001:db8::9" }]\n';
  const toml = loaded({ text: base, path: "c.toml", overrides: SAME_FLAGS });
  assert.equal(toml.config.interface.name, "nat%d");
  assert.equal(toml.config.rules.reservationDurationSecs, 300);
  assert.equal(toml.config.interface.pool.length, 2, "--pool-prefix replaces the pool");
  assert.equal(toml.config.rules.mapStatic.length, 1, "keys without a flag stay");
  const json = loaded({
    text: '{"prefix": "64:ff9b::/96", "pool": ["203.0.113.0/24"], "reservation_timeout": 9}',
    path: "c.json",
    overrides: SAME_FLAGS,
  });
  assert.equal(formatConfig(json.config), formatConfig(parseConfig(SAME_TOML)));
});

Deno.test("loadDaemonConfig() takes the format from a .json name or a leading '{'", () => {
  assert.equal(detectConfigFormat("x.json", "[Interface]"), "protomask1-json");
  assert.equal(detectConfigFormat("X.JSON", ""), "protomask1-json");
  assert.equal(detectConfigFormat("x.conf", '  \n{"pool": []}'), "protomask1-json");
  assert.equal(detectConfigFormat(null, "\uFEFF{}"), "protomask1-json");
  assert.equal(detectConfigFormat("x.toml", "[Interface]\n"), "toml");
  assert.equal(detectConfigFormat("json.toml", "# {\n"), "toml");
  const r = loaded({
    text: '{"pool": ["192.0.2.0/24"]}',
    path: "/etc/protomask",
    overrides: NO_OVERRIDES,
  });
  assert.equal(r.format, "protomask1-json");
});

Deno.test("loadDaemonConfig() names each bad flag and value in one message", () => {
  const lines = failed({
    text: null,
    path: null,
    overrides: flags({
      poolPrefixes: ["10.0.0.0/33", "192.0.2.0/24", "192.0.2.128/25"],
      translationPrefix: "64:ff9b::/95",
      interface: "a/b",
      reservationTimeout: "soon",
    }),
  });
  assert.deepEqual(lines, [
    "command line: 5 configuration problems:",
    "--reservation-timeout 'soon': expected a whole number of seconds",
    "--translation-prefix '64:ff9b::/95': prefix length must be one of 32, 40, 48, 56, 64, 96 (RFC 6052 §2.2)",
    "--pool-prefix '10.0.0.0/33': prefix length must be an integer from 0 to 32",
    "--pool-prefix '192.0.2.128/25': overlaps --pool-prefix '192.0.2.0/24' (192.0.2.0/24)",
    "--interface 'a/b': must be printable ASCII without spaces, '/' or ':'",
  ]);
});

Deno.test("loadDaemonConfig() range-checks --reservation-timeout as the file key is checked", () => {
  for (const v of ["0", "4294967296", "99999999999999999999999"]) {
    assert.deepEqual(
      failed({
        text: null,
        path: null,
        overrides: flags({ poolPrefixes: ["192.0.2.0/24"], reservationTimeout: v }),
      }),
      [
        "command line: 1 configuration problem:",
        `--reservation-timeout '${v}': must be an integer from 1 to 4294967295`,
      ],
    );
  }
});

Deno.test("loadDaemonConfig() reports file and flag problems together under both names", () => {
  const lines = failed({
    text: '[Interface]\nPool = ["192.0.2.0/24"]\nMTU = 10\n',
    path: "c.toml",
    overrides: flags({ reservationTimeout: "0" }),
  });
  assert.deepEqual(lines, [
    "c.toml and command line: 2 configuration problems:",
    "Interface.MTU = 10: must be an integer from 1280 to 65535",
    "--reservation-timeout '0': must be an integer from 1 to 4294967295",
  ]);
  const json = failed({
    text: '{"pool": ["192.0.2.0/24"], "static_map": 5}',
    path: "p.json",
    overrides: flags({ interface: "" }),
  });
  assert.deepEqual(json, [
    "p.json and command line: 2 configuration problems:",
    "--interface '': must be 1 to 15 bytes long",
    "static_map = 5: expected an array, got an integer",
  ]);
});

Deno.test("loadDaemonConfig() keeps a TOML syntax error's line and column when flags are given", () => {
  const lines = failed({
    text: "[Interface]\nPool = [\n",
    path: "c.toml",
    overrides: flags({ interface: "x" }),
  });
  assert.equal(lines[0], "c.toml: 1 configuration problem:");
  assert.match(lines[1]!, /^TOML syntax error at line \d+, column \d+: /);
});

Deno.test("loadDaemonConfig() maps --prometheus to Metrics.Listen, winning over the file", () => {
  const r = loaded({
    text: '[Interface]\nPool = ["192.0.2.0/24"]\n[Metrics]\nListen = "127.0.0.1:1"\n',
    path: "c.toml",
    overrides: flags({ prometheus: "[::1]:8999" }),
  });
  assert.deepEqual(r.config.metrics.listen, { hostname: "::1", port: 8999 });
  assert.deepEqual(r.warnings, []);
});

Deno.test("loadDaemonConfig() maps --num-queues to Interface.Queues, winning over the file", () => {
  const alone = loaded({
    text: null,
    path: null,
    overrides: flags({ poolPrefixes: ["192.0.2.0/24"], numQueues: "4" }),
  });
  assert.equal(alone.config.interface.queues, 4);
  assert.deepEqual(alone.warnings, []);
  const text = '[Interface]\nPool = ["192.0.2.0/24"]\nQueues = 2\n';
  assert.equal(
    loaded({ text, path: "c.toml", overrides: NO_OVERRIDES }).config.interface.queues,
    2,
  );
  const over = loaded({ text, path: "c.toml", overrides: flags({ numQueues: "3" }) });
  assert.equal(over.config.interface.queues, 3);
  const json = loaded({
    text: '{"pool": ["192.0.2.0/24"], "queues": 6}',
    path: "c.json",
    overrides: flags({ numQueues: "1" }),
  });
  assert.equal(json.config.interface.queues, 1);
});

Deno.test("loadDaemonConfig() names --num-queues and its value in each problem", () => {
  const overrides = (numQueues: string) => flags({ poolPrefixes: ["192.0.2.0/24"], numQueues });
  assert.deepEqual(failed({ text: null, path: null, overrides: overrides("0") }), [
    "command line: 1 configuration problem:",
    "--num-queues '0': must be an integer from 1 to 64",
  ]);
  assert.deepEqual(failed({ text: null, path: null, overrides: overrides("many") }), [
    "command line: 1 configuration problem:",
    "--num-queues 'many': expected a whole number of queues",
  ]);
  assert.deepEqual(failed({ text: null, path: null, overrides: overrides("65") }).slice(1), [
    "--num-queues '65': must be an integer from 1 to 64",
  ]);
});

Deno.test("checkConfig() prints Queues from --num-queues, and the machine's default otherwise", () => {
  const text = '[Interface]\nPool = ["192.0.2.0/24"]\n';
  const set = checkConfig(text, "c.toml", flags({ numQueues: "5" }), 2);
  assert.ok(set.ok && set.text.split("\n").includes("Queues = 5"), set.ok ? set.text : set.message);
  const unset = checkConfig(text, "c.toml", NO_OVERRIDES, 4);
  assert.ok(unset.ok && unset.text.includes("# Queues = 4 here: the default"));
});

Deno.test("loadDaemonConfig() with no file and no --pool-prefix names the missing flag", () => {
  assert.deepEqual(failed({ text: null, path: null, overrides: NO_OVERRIDES }), [
    "command line: 1 configuration problem:",
    "--pool-prefix: nothing to translate for: add --pool-prefix or Rules.MapStatic",
  ]);
});

Deno.test("checkConfig() prints the effective config of a 1.x JSON file with the flags applied", () => {
  const r = checkConfig(SAME_JSON, "c.json", flags({ interface: "nat%d" }));
  assert.ok(r.ok);
  assert.equal(r.format, "protomask1-json");
  assert.equal(r.text, formatConfig(parseConfig(SAME_TOML)));
});
