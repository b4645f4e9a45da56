import assert from "node:assert/strict";
import { type Config, ConfigError, formatConfig, parseConfig } from "../../lib/config/config.ts";
import { parseIpv4, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6, parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
// A text import: the README's example config is checked without read permission.
import EXAMPLE_TEXT from "../../examples/protomask.toml" with { type: "text" };

const POOL = '[Interface]\nPool = ["192.0.2.0/24"]\n';

/** Parses text that must fail and returns the ConfigError. */
function configError(text: string, opts?: { path?: string }): ConfigError {
  try {
    parseConfig(text, opts);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e;
  }
  assert.fail("parseConfig() accepted the text");
}

/** Parses text that must fail and returns the problem lines of its message. */
function problems(text: string): string[] {
  const e = configError(text);
  assert.equal(e.message.split("\n").length, e.problems.length);
  return e.message.split("\n");
}

Deno.test("parseConfig() fills every default when only a pool is given", () => {
  const cfg = parseConfig(POOL);
  assert.equal(formatIpv6(cfg.interface.prefix.addr), "64:ff9b::");
  assert.equal(cfg.interface.prefix.len, 96);
  assert.deepEqual(cfg.interface.pool, [{ addr: 0xc0000200, len: 24 }]);
  assert.equal(cfg.interface.name, "nat64i%d");
  assert.equal(cfg.interface.mtu, 1500);
  assert.equal(cfg.interface.address4, 0xc0000008);
  assert.equal(formatIpv6(cfg.interface.address6), "64:ff9b::c000:8");
  assert.deepEqual(cfg.rules, {
    mapStatic: [],
    reservationDurationSecs: 7200,
    stateFile: null,
    allowedSources: null,
    maxLeasesPerPrefix: null,
    leasePrefixLength: 64,
    maxNewLeasesPerSecond: null,
  });
  assert.deepEqual(cfg.metrics, { listen: null });
  assert.deepEqual(cfg.translation, {
    lowestIpv6Mtu: 1280,
    amendUdpChecksumZero: false,
    pool6791v4: [],
    pool6791v6: [],
    allowNonGlobalWithWkp: false,
    sendDropErrors: true,
    mtu4: 1500,
    mtu6: 1500,
    icmpErrorRatePerSec: 100,
    icmpErrorBurst: 50,
    zeroizeTrafficClass: false,
    tos: null,
  });
});

Deno.test("parseConfig() embeds Address4 in a network-specific Prefix for the default Address6", () => {
  const cfg = parseConfig(
    '[Interface]\nPrefix = "2001:db8:122::/48"\nPool = ["198.51.100.0/24"]\nAddress4 = "192.0.2.33"\n' +
      '[Rules]\nMapStatic = [{ v4 = "198.51.100.1", v6 = "2001:db8:1::1" }]\n',
  );
  assert.equal(formatIpv6(cfg.interface.address6), "2001:db8:122:c000:2:2100::");
});

Deno.test("parseConfig() defaults MTU4 and MTU6 to Interface.MTU", () => {
  const cfg = parseConfig(POOL + "MTU = 9000\n[Translation]\nMTU6 = 1400\n");
  assert.equal(cfg.interface.mtu, 9000);
  assert.equal(cfg.translation.mtu4, 9000);
  assert.equal(cfg.translation.mtu6, 1400);
});

Deno.test("parseConfig() reads every key", () => {
  const cfg = parseConfig(`
[Interface]
Prefix = "2001:db8:64::/96"
Pool = ["198.51.100.0/25", "203.0.113.7"]
Name = "xlat0"
MTU = 1480
Address4 = "203.0.113.1"
Address6 = "2001:db8:ffff::1"
[Rules]
MapStatic = [{ v4 = "192.0.2.2", v6 = "2001:db8:1::2" }]
ReservationDuration = 60
StateFile = "/var/lib/protomask/leases.json"
[Translation]
LowestIPv6MTU = 1400
AmendUDPChecksumZero = true
Pool6791v4 = ["203.0.113.200", "203.0.113.201"]
Pool6791v6 = ["2001:db8:6791::1"]
AllowNonGlobalWithWKP = true
SendDropErrors = false
MTU4 = 576
MTU6 = 1300
ICMPErrorRate = 0
ICMPErrorBurst = 0
ZeroizeTrafficClass = true
TOS = 184
`);
  assert.equal(formatIpv6(cfg.interface.prefix.addr), "2001:db8:64::");
  assert.deepEqual(cfg.interface.pool, [parseIpv4Prefix("198.51.100.0/25"), {
    addr: parseIpv4("203.0.113.7"),
    len: 32,
  }]);
  assert.equal(cfg.interface.name, "xlat0");
  assert.equal(cfg.interface.mtu, 1480);
  assert.equal(cfg.interface.address4, parseIpv4("203.0.113.1"));
  assert.deepEqual(cfg.interface.address6, parseIpv6("2001:db8:ffff::1"));
  assert.deepEqual(cfg.rules.mapStatic, [{
    v4: { addr: parseIpv4("192.0.2.2"), len: 32 },
    v6: { addr: parseIpv6("2001:db8:1::2"), len: 128 },
  }]);
  assert.equal(cfg.rules.reservationDurationSecs, 60);
  assert.equal(cfg.rules.stateFile, "/var/lib/protomask/leases.json");
  assert.deepEqual(cfg.translation, {
    lowestIpv6Mtu: 1400,
    amendUdpChecksumZero: true,
    pool6791v4: [parseIpv4("203.0.113.200"), parseIpv4("203.0.113.201")],
    pool6791v6: [parseIpv6("2001:db8:6791::1")],
    allowNonGlobalWithWkp: true,
    sendDropErrors: false,
    mtu4: 576,
    mtu6: 1300,
    icmpErrorRatePerSec: 0,
    icmpErrorBurst: 0,
    zeroizeTrafficClass: true,
    tos: 184,
  });
});

Deno.test("parseConfig() returns a deep-frozen config", () => {
  const cfg = parseConfig(POOL + '[Rules]\nMapStatic = [{ v4 = "192.0.2.2", v6 = "2001:db8::2" }]');
  assert.ok(Object.isFrozen(cfg));
  assert.ok(Object.isFrozen(cfg.interface));
  assert.ok(Object.isFrozen(cfg.interface.pool));
  assert.ok(Object.isFrozen(cfg.interface.pool[0]));
  assert.ok(Object.isFrozen(cfg.rules.mapStatic[0]!.v6));
  assert.ok(Object.isFrozen(cfg.translation.pool6791v4));
  assert.throws(() => {
    (cfg.interface as { mtu: number }).mtu = 1;
  }, TypeError);
  assert.throws(() => (cfg.interface.pool as unknown[]).push(1), TypeError);
});

Deno.test("parseConfig() loads a protomask 0.1 style file unchanged", () => {
  // Same keys and shape as upstream protomask 0.1's README example.
  const cfg = parseConfig(`
[Interface]
# The IPv6 prefix to listen for V6 traffic on
Prefix = "64:ff9b::/96"
# A list of IPv4 prefixes to map V6 traffic to
Pool = ["198.51.100.0/24"]

[Rules]
# A static mapping of IPv4 and IPv6 addresses
MapStatic = [{ v4 = "198.51.100.2", v6 = "2001:db8:1::2" }]
# How many seconds to keep a dynamic mapping alive for
ReservationDuration = 3600
`);
  assert.equal(cfg.interface.prefix.len, 96);
  assert.deepEqual(cfg.interface.pool, [parseIpv4Prefix("198.51.100.0/24")]);
  assert.equal(cfg.rules.mapStatic.length, 1);
  assert.equal(cfg.rules.mapStatic[0]!.v4.addr, parseIpv4("198.51.100.2"));
  assert.deepEqual(cfg.rules.mapStatic[0]!.v6.addr, parseIpv6("2001:db8:1::2"));
  assert.equal(cfg.rules.reservationDurationSecs, 3600);
});

Deno.test("parseConfig() loads examples/protomask.toml", () => {
  const cfg = parseConfig(EXAMPLE_TEXT, { path: "examples/protomask.toml" });
  assert.equal(cfg.interface.prefix.len, 96);
  assert.deepEqual(cfg.interface.pool, [parseIpv4Prefix("192.0.2.0/24")]);
  assert.equal(cfg.rules.mapStatic.length, 1);
  assert.deepEqual(parseConfig(formatConfig(cfg)), cfg);
});

Deno.test("parseConfig() rejects an unknown key and suggests the near one", () => {
  assert.deepEqual(problems(POOL + 'Prefx = "64:ff9b::/96"\n'), [
    'Interface.Prefx: unknown key (did you mean "Prefix"?)',
  ]);
  assert.deepEqual(problems(POOL + "[Translaton]\n"), [
    'Translaton: unknown key (did you mean "Translation"?)',
  ]);
});

Deno.test("parseConfig() matches keys case-sensitively", () => {
  assert.deepEqual(problems(POOL + "mtu = 1500\n"), [
    'Interface.mtu: unknown key (did you mean "MTU"?)',
  ]);
});

Deno.test("parseConfig() lists the allowed keys when no key is near", () => {
  assert.deepEqual(problems(POOL + "Colour = 1\n"), [
    "Interface.Colour: unknown key (allowed: Prefix, Pool, Name, MTU, Address4, Address6, Queues, Offload)",
  ]);
});

Deno.test("parseConfig() names the expected type for a wrong type", () => {
  assert.deepEqual(
    problems(
      POOL + 'MTU = "1500"\nPrefix = 96\n[Translation]\nSendDropErrors = "yes"\nPool6791v4 = "x"\n',
    ),
    [
      "Interface.Prefix = 96: expected a string, got an integer",
      'Interface.MTU = "1500": expected an integer from 1280 to 65535, got a string',
      'Translation.Pool6791v4 = "x": expected an array, got a string',
      'Translation.SendDropErrors = "yes": expected a boolean (true or false), got a string',
    ],
  );
  assert.deepEqual(problems("Interface = 3\n"), [
    "Interface = 3: expected a table, got an integer",
  ]);
});

Deno.test("parseConfig() rejects zero, negative and fractional durations", () => {
  for (
    const [value, message] of [
      ["0", "0: must be an integer from 1 to 4294967295"],
      ["-5", "-5: must be an integer from 1 to 4294967295"],
      ["7200.5", "7200.5: expected an integer from 1 to 4294967295, got a float"],
      ["7200.0", "7200.0: expected an integer from 1 to 4294967295, got a float"],
      ['"2h"', '"2h": expected an integer from 1 to 4294967295, got a string'],
    ]
  ) {
    assert.deepEqual(problems(`${POOL}[Rules]\nReservationDuration = ${value}\n`), [
      `Rules.ReservationDuration = ${message}`,
    ]);
  }
});

Deno.test("parseConfig() rejects a Prefix length outside RFC 6052 §2.2", () => {
  assert.deepEqual(problems(POOL + 'Prefix = "2001:db8::/33"\n'), [
    'Interface.Prefix = "2001:db8::/33": prefix length must be one of 32, 40, 48, 56, 64, 96 ' +
    "(RFC 6052 §2.2)",
  ]);
});

Deno.test("parseConfig() rejects a /96 Prefix with a non-zero u-octet", () => {
  assert.deepEqual(problems(POOL + 'Prefix = "2001:db8:0:0:100::/96"\n'), [
    'Interface.Prefix = "2001:db8:0:0:100::/96": bits 64-71 (the RFC 6052 §2.2 u-octet) ' +
    "must be zero",
  ]);
});

Deno.test("parseConfig() rejects host bits in a prefix with the network as a hint", () => {
  assert.deepEqual(problems(POOL + 'Prefix = "64:ff9b::1/96"\n'), [
    'Interface.Prefix = "64:ff9b::1/96": host bits set (did you mean 64:ff9b::/96?)',
  ]);
  assert.deepEqual(problems('[Interface]\nPool = ["192.0.2.1/24"]\n'), [
    'Interface.Pool[0] = "192.0.2.1/24": host bits set (did you mean 192.0.2.0/24?)',
  ]);
});

Deno.test("parseConfig() names the static map entry holding a bad address", () => {
  const maps = [
    '{ v4 = "192.0.2.2", v6 = "2001:db8::2" }',
    '{ v4 = "192.0.2.3", v6 = "2001:db8::3" }',
    '{ v4 = "192.0.2.300", v6 = "2001:db8::4" }',
    '{ v4 = "192.0.2.5", v6 = "2001:db8::g" }',
  ];
  assert.deepEqual(problems(`[Rules]\nMapStatic = [${maps.join(", ")}]\n`), [
    'Rules.MapStatic[2].v4 = "192.0.2.300": not an IPv4 address or prefix',
    'Rules.MapStatic[3].v6 = "2001:db8::g": not an IPv6 address or prefix',
  ]);
});

Deno.test("parseConfig() rejects malformed static map entries", () => {
  assert.deepEqual(
    problems(
      '[Rules]\nMapStatic = [{ v4 = "192.0.2.2" }, "192.0.2.3", { v4 = "192.0.2.4", v6 = "2001:db8::4", v5 = 1 }]\n',
    ),
    [
      "Rules.MapStatic[0].v6: missing key",
      'Rules.MapStatic[1] = "192.0.2.3": expected a table { v4 = "…", v6 = "…" }, got a string',
      'Rules.MapStatic[2].v5: unknown key (did you mean "v4"?)',
    ],
  );
});

Deno.test("parseConfig() rejects duplicate and overlapping static maps", () => {
  const text = `[Rules]
MapStatic = [
  { v4 = "192.0.2.2", v6 = "2001:db8::2" },
  { v4 = "192.0.2.2", v6 = "2001:db8::2" },
  { v4 = "192.0.2.0/30", v6 = "2001:db8::1:0/126" },
  { v4 = "192.0.2.9", v6 = "2001:db8::/120" },
]
`;
  assert.deepEqual(problems(text), [
    'Rules.MapStatic[1] = { v4 = "192.0.2.2", v6 = "2001:db8::2" }: duplicate of Rules.MapStatic[0]',
    'Rules.MapStatic[2].v4 = "192.0.2.0/30": overlaps Rules.MapStatic[0].v4 (192.0.2.2)',
    'Rules.MapStatic[3].v6 = "2001:db8::/120": overlaps Rules.MapStatic[0].v6 (2001:db8::2)',
  ]);
});

Deno.test("parseConfig() allows a static map inside the dynamic Pool", () => {
  const cfg = parseConfig(POOL + '[Rules]\nMapStatic = [{ v4 = "192.0.2.2", v6 = "2001:db8::2" }]');
  assert.equal(cfg.rules.mapStatic.length, 1);
});

Deno.test("parseConfig() rejects overlapping Pool entries", () => {
  assert.deepEqual(
    problems('[Interface]\nPool = ["192.0.2.0/24", "198.51.100.1", "192.0.2.128/25"]\n'),
    [
      'Interface.Pool[2] = "192.0.2.128/25": overlaps Interface.Pool[0] (192.0.2.0/24)',
    ],
  );
});

Deno.test("parseConfig() accepts RFC 7757 prefix maps only when the IPv6 side is large enough", () => {
  const map = (v4: string, v6: string) =>
    parseConfig(`[Rules]\nMapStatic = [{ v4 = "${v4}", v6 = "${v6}" }]\n`).rules.mapStatic[0];
  assert.deepEqual(map("198.51.100.0/24", "2001:db8:1c6:3364::/72"), {
    v4: parseIpv4Prefix("198.51.100.0/24"),
    v6: parseIpv6Prefix("2001:db8:1c6:3364::/72"),
  });
  assert.equal(map("198.51.100.0/24", "2001:db8::/120")!.v6.len, 120); // 8 = 8 host bits
  assert.deepEqual(
    problems('[Rules]\nMapStatic = [{ v4 = "198.51.100.0/24", v6 = "2001:db8::/121" }]\n'),
    [
      'Rules.MapStatic[0] = { v4 = "198.51.100.0/24", v6 = "2001:db8::/121" }: the IPv6 side ' +
      "has 7 host bits, fewer than the 8 of the IPv4 side (RFC 7757)",
    ],
  );
});

Deno.test("parseConfig() reports a config with nothing to translate", () => {
  const expected = [
    "Interface.Pool = []: nothing to translate for: add Interface.Pool or Rules.MapStatic",
  ];
  assert.deepEqual(problems(""), expected);
  assert.deepEqual(problems("[Interface]\nPool = []\n[Rules]\nMapStatic = []\n"), expected);
  const cfg = parseConfig('[Rules]\nMapStatic = [{ v4 = "192.0.2.2", v6 = "2001:db8::2" }]\n');
  assert.deepEqual(cfg.interface.pool, []);
});

Deno.test("parseConfig() checks interface names as Linux does", () => {
  for (
    const [name, message] of [
      ["protomask-nat64-0", "must be 1 to 15 bytes long"],
      ["", "must be 1 to 15 bytes long"],
      ["nat 64", "must be printable ASCII without spaces, '/' or ':'"],
      ["nat/64", "must be printable ASCII without spaces, '/' or ':'"],
      ["nat64é", "must be printable ASCII without spaces, '/' or ':'"],
      ["..", 'must not be "." or ".."'],
      ["n%d%d", "may hold at most one '%d' and no other '%'"],
      ["n%s", "may hold at most one '%d' and no other '%'"],
    ]
  ) {
    assert.deepEqual(problems(`${POOL}Name = "${name}"\n`), [
      `Interface.Name = "${name}": ${message}`,
    ]);
  }
  assert.equal(parseConfig(`${POOL}Name = "abcdefghijklmno"\n`).interface.name, "abcdefghijklmno");
});

Deno.test("parseConfig() enforces MTU ranges", () => {
  assert.deepEqual(
    problems(POOL + "MTU = 1279\n[Translation]\nMTU4 = 67\nMTU6 = 1279\nLowestIPv6MTU = 65536\n"),
    [
      "Interface.MTU = 1279: must be an integer from 1280 to 65535",
      "Translation.LowestIPv6MTU = 65536: must be an integer from 1280 to 65535",
      "Translation.MTU4 = 67: must be an integer from 68 to 65535",
      "Translation.MTU6 = 1279: must be an integer from 1280 to 65535",
    ],
  );
  assert.equal(parseConfig(POOL + "[Translation]\nMTU4 = 68\n").translation.mtu4, 68);
});

Deno.test("parseConfig() rejects translator addresses that cannot be sources or are leased", () => {
  assert.deepEqual(problems(POOL + 'Address4 = "224.0.0.1"\nAddress6 = "::1"\n'), [
    'Interface.Address4 = "224.0.0.1": cannot be a source address',
    'Interface.Address6 = "::1": cannot be a source address',
  ]);
  assert.deepEqual(problems(POOL + 'Address4 = "192.0.2.77"\n'), [
    'Interface.Address4 = "192.0.2.77": must not be inside Interface.Pool[0] ' +
    "(it would be leased to a host too)",
  ]);
  assert.deepEqual(
    problems(
      POOL +
        'Address6 = "2001:db8::2"\n[Rules]\nMapStatic = [{ v4 = "198.51.100.2", v6 = "2001:db8::2" }]\n',
    ),
    [
      'Interface.Address6 = "2001:db8::2": must not be inside Rules.MapStatic[0].v6 ' +
      "(it belongs to a mapped host)",
    ],
  );
});

Deno.test("parseConfig() checks the RFC 6791 pools and the ICMP rate limit", () => {
  assert.deepEqual(
    problems(
      POOL +
        '[Translation]\nPool6791v4 = ["203.0.113.1", "203.0.113.0/24", "127.0.0.1"]\nPool6791v6 = ["ff02::1"]\nICMPErrorBurst = 0\nICMPErrorRate = -1\n',
    ),
    [
      'Translation.Pool6791v4[1] = "203.0.113.0/24": not an IPv4 address',
      'Translation.Pool6791v4[2] = "127.0.0.1": cannot be a source address',
      'Translation.Pool6791v6[0] = "ff02::1": cannot be a source address',
      "Translation.ICMPErrorRate = -1: must be an integer from 0 to 1000000",
    ],
  );
  assert.deepEqual(problems(POOL + "[Translation]\nICMPErrorRate = 10\nICMPErrorBurst = 0\n"), [
    "Translation.ICMPErrorBurst = 0: must be at least 1 when ICMPErrorRate is above 0",
  ]);
});

Deno.test("parseConfig() rejects a multicast Prefix", () => {
  assert.deepEqual(problems(POOL + 'Prefix = "ff0e::/32"\n'), [
    'Interface.Prefix = "ff0e::/32": must not be a multicast prefix (ff00::/8)',
  ]);
});

Deno.test("parseConfig() reports every problem in one run", () => {
  const text = `
[Interface]
Prefx = "64:ff9b::/96"
Pool = ["192.0.2.300"]
MTU = 100
[Rules]
MapStatic = [{ v4 = "192.0.2.2", v6 = "2001:db8::5" }, { v4 = "192.0.2.2", v6 = "2001:db8::6" }]
ReservationDuration = 0
[Translation]
SendDropErrors = 1
`;
  const e = configError(text, { path: "/etc/protomask.toml" });
  assert.deepEqual(e.problems.map((p) => p.path), [
    "Interface.Prefx",
    "Interface.Pool[0]",
    "Interface.MTU",
    "Rules.MapStatic[1].v4",
    "Rules.ReservationDuration",
    "Translation.SendDropErrors",
  ]);
  assert.equal(e.problems[1]!.value, "192.0.2.300");
  assert.equal(e.file, "/etc/protomask.toml");
  const lines = e.message.split("\n");
  assert.equal(lines[0], "/etc/protomask.toml: 6 configuration problems:");
  assert.equal(
    lines[4],
    'Rules.MapStatic[1].v4 = "192.0.2.2": overlaps Rules.MapStatic[0].v4 (192.0.2.2)',
  );
  assert.equal(lines.length, 7);
});

Deno.test("parseConfig() reports a TOML syntax error with line and column", () => {
  const e = configError(POOL + "MTU = 1500\nName = nat64\n");
  assert.equal(e.problems.length, 1);
  assert.equal(e.problems[0]!.line, 4);
  assert.equal(e.problems[0]!.column, 8);
  assert.match(e.message, /^TOML syntax error at line 4, column 8: /);
});

Deno.test("formatConfig() output parses back to an equal config", () => {
  const texts = [
    POOL,
    `[Interface]
Prefix = "2001:db8:100::/40"
Pool = ["198.51.100.0/25", "203.0.113.7"]
Name = "x\\"l%d"
Address4 = "203.0.113.1"
[Rules]
MapStatic = [{ v4 = "192.0.2.2", v6 = "2001:db8:1::2" }, { v4 = "198.51.100.128/28", v6 = "2001:db8:2::/124" }]
StateFile = "/var/lib/pro tomask/\\u0001leases\\u007f.json"
[Translation]
Pool6791v4 = ["203.0.113.200"]
Pool6791v6 = ["2001:db8:6791::1", "2001:db8:6791::2"]
MTU4 = 1400
ICMPErrorRate = 0
ICMPErrorBurst = 0
TOS = 0
`,
    POOL + `[Rules]
AllowedSources = ["2001:db8:a::/48", "2001:db8:b::7/128"]
MaxLeasesPerPrefix = 4
LeasePrefixLength = 56
MaxNewLeasesPerSecond = 20
[Metrics]
Listen = "[::1]:9060"
`,
  ];
  for (const text of texts) {
    const cfg: Config = parseConfig(text);
    const again = parseConfig(formatConfig(cfg));
    assert.deepEqual(again, cfg);
    assert.equal(formatConfig(again), formatConfig(cfg));
  }
});

Deno.test("formatConfig() writes every key with the effective values", () => {
  const out = formatConfig(parseConfig(POOL + "MTU = 1400\n"));
  for (
    const line of [
      "[Interface]",
      'Prefix = "64:ff9b::/96"',
      'Pool = ["192.0.2.0/24"]',
      'Address6 = "64:ff9b::c000:8"',
      "MapStatic = []",
      "ReservationDuration = 7200",
      "MTU4 = 1400",
      "MTU6 = 1400",
      "ICMPErrorBurst = 50",
    ]
  ) {
    assert.ok(out.split("\n").includes(line), line);
  }
  assert.ok(!out.includes("StateFile"));
  assert.ok(!out.includes("TOS ="), "TOS is left out when the traffic class is copied");
});

Deno.test("parseConfig() refuses a TOS outside 0..255", () => {
  assert.throws(() => parseConfig(POOL + "[Translation]\nTOS = 256\n"), /Translation\.TOS = 256/);
});

Deno.test("[Logging] MappingLog is off by default, read as a path, and printed back", () => {
  assert.equal(parseConfig(POOL).logging.mappingLog, null);
  const cfg = parseConfig(POOL + '[Logging]\nMappingLog = "/var/log/protomask/mappings.log"\n');
  assert.equal(cfg.logging.mappingLog, "/var/log/protomask/mappings.log");
  assert.match(
    formatConfig(cfg),
    /\[Logging\]\nMappingLog = "\/var\/log\/protomask\/mappings.log"/,
  );
  assert.deepEqual(parseConfig(formatConfig(cfg)), cfg);
});

Deno.test("[Logging] rejects an empty MappingLog, a wrong type and a misspelt key, all at once", () => {
  const e = configError(POOL + '[Logging]\nMappingLog = ""\nMapingLog = 1\n');
  assert.equal(e.problems.length, 2);
  const text = e.message;
  assert.match(text, /Logging\.MappingLog = "": must not be empty/);
  assert.match(text, /Logging\.MapingLog.*did you mean "MappingLog"/);
  assert.throws(() => parseConfig(POOL + "[Logging]\nMappingLog = 3\n"), /expected a string/);
});

Deno.test("parseConfig() reads the abuse limits and the metrics address", () => {
  const cfg = parseConfig(
    POOL + `[Rules]
AllowedSources = ["2001:db8:a::/48"]
MaxLeasesPerPrefix = 4
LeasePrefixLength = 64
MaxNewLeasesPerSecond = 100
[Metrics]
Listen = "127.0.0.1:9060"
`,
  );
  assert.equal(cfg.rules.allowedSources!.length, 1);
  assert.equal(formatIpv6(cfg.rules.allowedSources![0]!.addr), "2001:db8:a::");
  assert.equal(cfg.rules.allowedSources![0]!.len, 48);
  assert.equal(cfg.rules.maxLeasesPerPrefix, 4);
  assert.equal(cfg.rules.leasePrefixLength, 64);
  assert.equal(cfg.rules.maxNewLeasesPerSecond, 100);
  assert.deepEqual(cfg.metrics.listen, { hostname: "127.0.0.1", port: 9060 });
  const out = formatConfig(cfg);
  assert.match(out, /^AllowedSources = \["2001:db8:a::\/48"\]$/m);
  assert.match(out, /^\[Metrics\]\nListen = "127\.0\.0\.1:9060"$/m);
  assert.match(formatConfig(parseConfig(POOL)), /^# Listen: off \(the default\)$/m);
});

Deno.test("parseConfig() names every bad abuse-limit and metrics value in one message", () => {
  assert.deepEqual(
    problems(
      POOL + `[Rules]
AllowedSources = ["2001:db8:a::1/48", "nope"]
MaxLeasesPerPrefix = 0
LeasePrefixLength = 129
MaxNewLeasesPerSecond = -1
[Metrics]
Listen = "localhost:9060"
Port = 1
`,
    ),
    [
      "Metrics.Port: unknown key (allowed: Listen)",
      'Rules.AllowedSources[0] = "2001:db8:a::1/48": host bits set (did you mean 2001:db8:a::/48?)',
      'Rules.AllowedSources[1] = "nope": not an IPv6 address or prefix',
      "Rules.MaxLeasesPerPrefix = 0: must be an integer from 1 to 2147483647",
      "Rules.LeasePrefixLength = 129: must be an integer from 1 to 128",
      "Rules.MaxNewLeasesPerSecond = -1: must be an integer from 1 to 1000000",
      'Metrics.Listen = "localhost:9060": expected "address:port", e.g. "127.0.0.1:9060" or ' +
      '"[::1]:9060" (the address must be an IP address, not a name)',
    ],
  );
  assert.deepEqual(problems(POOL + '[Metrics]\nListen = "127.0.0.1:70000"\n'), [
    'Metrics.Listen = "127.0.0.1:70000": the port must be 1 to 65535',
  ]);
  assert.deepEqual(problems(POOL + '[Metrics]\nListen = "[::g]:1"\n'), [
    'Metrics.Listen = "[::g]:1": not an IPv6 address in the brackets',
  ]);
});
