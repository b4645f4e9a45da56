/**
 * The CLAT's configuration (`protomask clat`): `[Clat]` through the key table, its defaults,
 * every bad key with its message, the checks across keys, the sections each program refuses,
 * `check-config`'s round trip and a discovered `Via`.
 */

import assert from "node:assert/strict";
import {
  type Config,
  ConfigError,
  formatConfig,
  parseConfig,
  withDiscoveredVia,
} from "../../lib/config/config.ts";
import { parseIpv4, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6, formatIpv6Prefix, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { restartOnlyChanges } from "../../lib/daemon/routes.ts";
import { ClatMapper } from "../../lib/clat/mapper.ts";

const CLAT = { mode: "clat" } as const;

/** A CLAT configuration from TOML text. */
function clat(text: string): Config {
  return parseConfig(text, CLAT);
}

/** The problem lines of a CLAT configuration that must fail. */
function problems(text: string, mode: "clat" | "translator" = "clat"): string[] {
  try {
    parseConfig(text, { mode });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.message.split("\n").length, e.problems.length);
    return e.message.split("\n");
  }
  assert.fail(`parseConfig() accepted:\n${text}`);
}

const v4 = (s: string) => parseIpv4(s)!;
const p4 = (s: string) => parseIpv4Prefix(s)!;
const p6 = (s: string) => parseIpv6Prefix(s)!;

Deno.test("clat config: an empty [Clat] gets every default of the issue (RFC 7335 pool, WKP, embed)", () => {
  for (const text of ["", "[Clat]\n"]) {
    const cfg = clat(text);
    assert.deepEqual(cfg.clat, {
      customerPool: [p4("192.0.0.0/29")],
      via: p6("64:ff9b::/96"),
      viaAuto: false,
      source6: null,
      routes4: [p4("0.0.0.0/0")],
      hostAddress: v4("192.0.0.1"),
      uplink: null,
      neighborProxy: false,
      resolver: null,
    });
    assert.equal(cfg.interface.name, "clat%d");
    assert.equal(cfg.interface.mtu, 1500);
    assert.equal(cfg.interface.queues, null);
    assert.equal(cfg.interface.offload, null);
    assert.equal(cfg.interface.address4, v4("192.0.0.2"));
    // Address4 is a customer's address: mapped like one, embedded in Via.
    assert.equal(formatIpv6(cfg.interface.address6), "64:ff9b::c000:2");
    assert.equal(formatIpv6Prefix(cfg.interface.prefix), "64:ff9b::/96");
    assert.deepEqual(cfg.interface.pool, []);
    assert.equal(cfg.rules.mapStatic.length, 0);
    assert.equal(cfg.logging.mappingLog, null);
    assert.equal(cfg.translation.mtu4, 1500);
    assert.equal(cfg.metrics.listen, null);
    assert.ok(Object.isFrozen(cfg.clat) && Object.isFrozen(cfg.clat!.customerPool));
  }
});

const EVERY_KEY = `[Clat]
Name = "clat7"
MTU = 1400
Queues = 2
Offload = false
CustomerPool = ["192.0.0.0/29", "10.1.0.0/24"]
Via = "2001:db8:64::/64"
Source6 = "2001:db8:1:4646::/96"
Routes4 = ["0.0.0.0/1", "128.0.0.0/1"]
Address4 = "192.0.0.2"
Address6 = "2001:db8:1:4646::ff"
HostAddress = "192.0.0.1"
Uplink = "eth0"
NeighborProxy = true
Resolver = "[2001:db8::53]:5353"

[Translation]
LowestIPv6MTU = 1300
ICMPErrorRate = 10

[Metrics]
Listen = "[::1]:9061"
`;

Deno.test("clat config: every [Clat] key reaches its field in interface or clat", () => {
  const cfg = clat(EVERY_KEY);
  assert.deepEqual(cfg.clat, {
    customerPool: [p4("192.0.0.0/29"), p4("10.1.0.0/24")],
    via: p6("2001:db8:64::/64"),
    viaAuto: false,
    source6: p6("2001:db8:1:4646::/96"),
    routes4: [p4("0.0.0.0/1"), p4("128.0.0.0/1")],
    hostAddress: v4("192.0.0.1"),
    uplink: "eth0",
    neighborProxy: true,
    resolver: { ipAddr: "2001:db8::53", port: 5353 },
  });
  assert.equal(cfg.interface.name, "clat7");
  assert.equal(cfg.interface.mtu, 1400);
  assert.equal(cfg.interface.queues, 2);
  assert.equal(cfg.interface.offload, false);
  assert.equal(formatIpv6(cfg.interface.address6), "2001:db8:1:4646::ff");
  assert.equal(formatIpv6Prefix(cfg.interface.prefix), "2001:db8:64::/64");
  assert.equal(cfg.translation.lowestIpv6Mtu, 1300);
  assert.equal(cfg.translation.icmpErrorRatePerSec, 10);
  // MTU4/MTU6 default to Clat.MTU, as they default to Interface.MTU in a translator.
  assert.equal(cfg.translation.mtu4, 1400);
  assert.equal(cfg.translation.mtu6, 1400);
  assert.deepEqual(cfg.metrics.listen, { hostname: "::1", port: 9061 });
});

Deno.test("clat config: Via takes every RFC 6052 length, and auto", () => {
  for (const len of [32, 40, 48, 56, 64, 96]) {
    const cfg = clat(`[Clat]\nVia = "2001:db8::/${len}"\n`);
    assert.equal(formatIpv6Prefix(cfg.clat!.via!), `2001:db8::/${len}`);
    assert.equal(cfg.interface.prefix.len, len);
  }
  const auto = clat('[Clat]\nVia = "auto"\nAddress6 = "2001:db8::2"\n');
  assert.equal(auto.clat!.via, null);
  assert.equal(auto.clat!.viaAuto, true);
  // A placeholder until discovery (ClatSection.via).
  assert.equal(formatIpv6Prefix(auto.interface.prefix), "64:ff9b::/96");
});

Deno.test("clat config: the default Address6 maps Address4 like a customer through Source6", () => {
  // A /96 or shorter: the prefix and the IPv4 address in the last 32 bits.
  const s96 = clat('[Clat]\nSource6 = "2001:db8:1:4646::/64"\n');
  assert.equal(formatIpv6(s96.interface.address6), "2001:db8:1:4646::c000:2");
  // Longer: the address's index in CustomerPool (192.0.0.2 is the third of 192.0.0.0/29).
  const s120 = clat('[Clat]\nSource6 = "2001:db8:1::100/120"\n');
  assert.equal(formatIpv6(s120.interface.address6), "2001:db8:1::102");
  // The same address the engine's mapper gives that customer.
  const mapped = new Uint8Array(16);
  new ClatMapper({
    customerPool: s120.clat!.customerPool,
    source6: s120.clat!.source6,
    via: s120.interface.prefix,
    refuseNonGlobal: false,
  }).staticV6For4(v4("192.0.0.2") | 0, mapped, 0);
  assert.deepEqual(mapped, s120.interface.address6);
  // Outside CustomerPool: embedded in Via, whatever Source6.
  const out = clat(
    '[Clat]\nVia = "2001:db8:64::/96"\nSource6 = "2001:db8:1::/64"\nAddress4 = "192.0.0.9"\n',
  );
  assert.equal(formatIpv6(out.interface.address6), "2001:db8:64::c000:9");
  // With Via = "auto" and a Source6 prefix, a customer's Address6 needs no Via.
  const auto = clat('[Clat]\nVia = "auto"\nSource6 = "2001:db8:1::/64"\n');
  assert.equal(formatIpv6(auto.interface.address6), "2001:db8:1::c000:2");
});

Deno.test('clat config: HostAddress = "" assigns none; Resolver takes an address with or without a port', () => {
  assert.equal(clat('[Clat]\nHostAddress = ""\n').clat!.hostAddress, null);
  for (
    const [text, ipAddr, port] of [
      ["192.0.2.53", "192.0.2.53", 53],
      ["192.0.2.53:5353", "192.0.2.53", 5353],
      ["2001:db8::53", "2001:db8::53", 53],
      ["[2001:db8::53]:53", "2001:db8::53", 53],
      ["2001:DB8:0::53", "2001:db8::53", 53],
    ] as const
  ) {
    assert.deepEqual(clat(`[Clat]\nResolver = "${text}"\n`).clat!.resolver, { ipAddr, port });
  }
});

Deno.test("clat config: every bad [Clat] key is named with its value and what is allowed", () => {
  const cases: [string, string][] = [
    ['Name = ""', 'Clat.Name = "": must be 1 to 15 bytes long'],
    ['Name = "a%s"', `Clat.Name = "a%s": may hold at most one '%d' and no other '%'`],
    ["MTU = 1279", "Clat.MTU = 1279: must be an integer from 1280 to 65535"],
    ['MTU = "1500"', 'Clat.MTU = "1500": expected an integer from 1280 to 65535, got a string'],
    ["Queues = 0", "Clat.Queues = 0: must be an integer from 1 to 64"],
    ['Offload = "yes"', 'Clat.Offload = "yes": expected a boolean (true or false), got a string'],
    [
      'CustomerPool = ["192.0.0.1/29"]',
      'Clat.CustomerPool[0] = "192.0.0.1/29": host bits set (did you mean 192.0.0.0/29?)',
    ],
    [
      'CustomerPool = "192.0.0.0/29"',
      'Clat.CustomerPool = "192.0.0.0/29": expected an array, got a string',
    ],
    [
      'Via = "2001:db8::/80"',
      'Clat.Via = "2001:db8::/80": prefix length must be one of 32, 40, 48, 56, 64, 96 ' +
      "(RFC 6052 §2.2)",
    ],
    [
      'Via = "2001:db8:0:0:ff00::/96"',
      'Clat.Via = "2001:db8:0:0:ff00::/96": bits 64-71 (the RFC 6052 §2.2 u-octet) must be zero',
    ],
    [
      'Via = "Auto"',
      'Clat.Via = "Auto": expected "auto" or an RFC 6052 prefix such as "64:ff9b::/96" ' +
      '(did you mean "auto"?)',
    ],
    [
      'Via = "192.0.2.0/24"',
      'Clat.Via = "192.0.2.0/24": expected "auto" or an RFC 6052 prefix such as "64:ff9b::/96"',
    ],
    ["Via = 96", "Clat.Via = 96: expected a string, got an integer"],
    [
      'Source6 = "embedd"',
      'Clat.Source6 = "embedd": expected "embed" or an IPv6 prefix such as ' +
      '"2001:db8:1:4646::/96" (did you mean "embed"?)',
    ],
    [
      'Source6 = "2001:db8:1::1/64"',
      'Clat.Source6 = "2001:db8:1::1/64": host bits set (did you mean 2001:db8:1::/64?)',
    ],
    [
      'Source6 = "ff02::/64"',
      'Clat.Source6 = "ff02::/64": must not be a multicast prefix (ff00::/8)',
    ],
    [
      'Routes4 = ["0.0.0.0/0", "10.0.0.0/8", "0.0.0.0/0"]',
      'Clat.Routes4[2] = "0.0.0.0/0": duplicate of Clat.Routes4[0]',
    ],
    [
      'Routes4 = ["10.0.0.0/33"]',
      'Clat.Routes4[0] = "10.0.0.0/33": prefix length must be an integer from 0 to 32',
    ],
    ['Address4 = "127.0.0.1"', 'Clat.Address4 = "127.0.0.1": cannot be a source address'],
    ['Address6 = "ff02::1"', 'Clat.Address6 = "ff02::1": cannot be a source address'],
    ['HostAddress = "192.0.0.256"', 'Clat.HostAddress = "192.0.0.256": not an IPv4 address'],
    ["HostAddress = false", "Clat.HostAddress = false: expected a string, got a boolean"],
    ['Uplink = "eth%d"', `Clat.Uplink = "eth%d": must be an interface's name, without '%'`],
    ['Uplink = "a b"', `Clat.Uplink = "a b": must be printable ASCII without spaces, '/' or ':'`],
    [
      "NeighborProxy = 1",
      "Clat.NeighborProxy = 1: expected a boolean (true or false), got an integer",
    ],
    [
      'Resolver = "dns.example"',
      'Clat.Resolver = "dns.example": expected an IP address, "address:port" or "[IPv6]:port", ' +
      'e.g. "192.0.2.53" or "[2001:db8::53]:53" (an address, not a name)',
    ],
    ['Resolver = "192.0.2.53:0"', 'Clat.Resolver = "192.0.2.53:0": the port must be 1 to 65535'],
    [
      'Prefix = "64:ff9b::/96"',
      'Clat.Prefix: unknown key (did you mean "Via"?)'.replace(
        'did you mean "Via"?',
        "allowed: Name, MTU, Queues, Offload, CustomerPool, Via, Source6, Routes4, Address4, " +
          "Address6, HostAddress, Uplink, NeighborProxy, Resolver",
      ),
    ],
    ["CustomerPol = []", 'Clat.CustomerPol: unknown key (did you mean "CustomerPool"?)'],
    ["mtu = 1400", 'Clat.mtu: unknown key (did you mean "MTU"?)'],
  ];
  for (const [line, message] of cases) {
    assert.deepEqual(problems(`[Clat]\n${line}\n`), [message], line);
  }
  // Every problem at once, in key order, under one header naming the file.
  try {
    parseConfig('[Clat]\nMTU = 1\nVia = "x"\nUplink = ""\n', { path: "clat.toml", mode: "clat" });
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.message.split("\n"), [
      "clat.toml: 3 configuration problems:",
      "Clat.MTU = 1: must be an integer from 1280 to 65535",
      'Clat.Via = "x": expected "auto" or an RFC 6052 prefix such as "64:ff9b::/96"',
      'Clat.Uplink = "": must be 1 to 15 bytes long',
    ]);
  }
});

Deno.test("clat config: the checks across keys name both keys and why", () => {
  const cases: [string, string[]][] = [
    [
      'CustomerPool = ["192.0.0.0/29", "192.0.0.4/30"]',
      ['Clat.CustomerPool[1] = "192.0.0.4/30": overlaps Clat.CustomerPool[0] (192.0.0.0/29)'],
    ],
    ["CustomerPool = []", [
      "Clat.CustomerPool = []: must hold at least one IPv4 prefix (the customers)",
    ]],
    [
      'Via = "2001:db8::/32"\nSource6 = "2001:db8:1::/64"',
      [
        'Clat.Source6 = "2001:db8:1::/64": overlaps Clat.Via (2001:db8::/32): customers and the ' +
        "IPv4 world would share addresses",
      ],
    ],
    [
      'Source6 = "2001:db8:1::/126"',
      [
        'Clat.Source6 = "2001:db8:1::/126": has room for 4 customer addresses, fewer than the 8 ' +
        "of Clat.CustomerPool (a prefix longer than /96 numbers them)",
      ],
    ],
    [
      "NeighborProxy = true",
      [
        "Clat.NeighborProxy = true: needs Clat.Uplink (where the entries go) and a Clat.Source6 " +
        'prefix (with "embed" there is none to proxy)',
      ],
    ],
    [
      'NeighborProxy = true\nUplink = "eth0"',
      [
        'Clat.NeighborProxy = true: needs a Clat.Source6 prefix (with "embed" there is none to proxy)',
      ],
    ],
    [
      'NeighborProxy = true\nSource6 = "2001:db8:1::/64"',
      ["Clat.NeighborProxy = true: needs Clat.Uplink (where the entries go)"],
    ],
    [
      'Via = "auto"',
      [
        'Clat.Address6: must be given when Via is "auto": Address4 (192.0.0.2) is a ' +
        "customer's address, and with Source6 = \"embed\" a customer's IPv6 address embeds it in Via",
      ],
    ],
    [
      'Via = "auto"\nSource6 = "2001:db8:1::/64"\nAddress4 = "192.0.0.9"',
      [
        'Clat.Address6: must be given when Via is "auto": Address4 (192.0.0.9) is outside ' +
        "CustomerPool, and then the default embeds it in Via",
      ],
    ],
    [
      'HostAddress = "192.0.0.2"',
      [
        'Clat.HostAddress = "192.0.0.2": must differ from Clat.Address4 (the local host\'s ' +
        "address and the CLAT's own)",
      ],
    ],
    [
      'HostAddress = "10.0.0.1"',
      [
        'Clat.HostAddress = "10.0.0.1": must be inside Clat.CustomerPool (what local ' +
        "applications send from it is a customer's traffic)",
      ],
    ],
  ];
  for (const [lines, expected] of cases) {
    assert.deepEqual(problems(`[Clat]\n${lines}\n`), expected, lines);
  }
  // A /120 numbers 256 customers: the default pool of 8 fits, and so does exactly 256.
  clat(
    '[Clat]\nSource6 = "2001:db8:1::/120"\nCustomerPool = ["10.0.0.0/24"]\n' +
      'HostAddress = "10.0.0.1"\n',
  );
  assert.equal(
    problems(
      '[Clat]\nSource6 = "2001:db8:1::/120"\nCustomerPool = ["10.0.0.0/24", "10.1.0.0/32"]' +
        '\nHostAddress = "10.0.0.1"\n',
    ).length,
    1,
  );
  // Passing checks: NeighborProxy with both, HostAddress none.
  clat('[Clat]\nNeighborProxy = true\nUplink = "eth0"\nSource6 = "2001:db8:1::/64"\n');
  clat('[Clat]\nHostAddress = ""\nAddress4 = "192.0.0.1"\n');
});

Deno.test("clat config: a CLAT refuses [Interface], [Rules], [Logging] by name, a translator [Clat]", () => {
  const own = "(its sections: Clat, Translation, Metrics)";
  assert.deepEqual(problems('[Interface]\nPool = ["192.0.2.0/24"]\n[Rules]\n[Logging]\n'), [
    `Interface: not a section of a CLAT configuration: the CLAT's TUN device and addresses are set in [Clat] ${own}`,
    `Rules: not a section of a CLAT configuration: a CLAT has no pool, static maps or leases ${own}`,
    `Logging: not a section of a CLAT configuration: a CLAT keeps no lease audit log ${own}`,
  ]);
  assert.deepEqual(problems("[Clats]\n"), ['Clats: unknown key (did you mean "Clat"?)']);
  assert.deepEqual(problems("[Bogus]\n"), [
    "Bogus: unknown key (allowed: Clat, Translation, Metrics)",
  ]);
  // The translator: one line for [Clat], and no "nothing to translate" beside it.
  assert.deepEqual(problems('[Clat]\nVia = "auto"\n', "translator"), [
    "Clat: not a section of a translator configuration: it configures the CLAT: run " +
    "`protomask clat` with this file (its sections: Interface, Rules, Translation, Logging, Metrics)",
  ]);
  assert.deepEqual(
    problems('[Interface]\nPool = ["192.0.2.0/24"]\n[Clat]\n', "translator").length,
    1,
  );
});

Deno.test("clat config: check-config writes every key, and the text parses back equal", () => {
  const texts = [
    "",
    EVERY_KEY,
    '[Clat]\nVia = "auto"\nAddress6 = "2001:db8::2"\nHostAddress = ""\nResolver = "192.0.2.53"\n',
    '[Clat]\nSource6 = "2001:db8:1::100/120"\nUplink = "wan0"\nNeighborProxy = true\n' +
    '[Translation]\nTOS = 0\nPool6791v4 = ["198.51.100.1"]\n',
  ];
  for (const text of texts) {
    const cfg = clat(text);
    const written = formatConfig(cfg, { cpus: 4 });
    assert.match(written, /^# Effective protomask clat configuration/);
    assert.doesNotMatch(written, /^\[(Interface|Rules|Logging)\]/m);
    assert.deepEqual(clat(written), cfg, written);
    // Every [Clat] key is in the text, as a line or a comment naming it.
    for (
      const k of [
        "Name",
        "MTU",
        "Queues",
        "Offload",
        "CustomerPool",
        "Via",
        "Source6",
        "Routes4",
        "Address4",
        "Address6",
        "HostAddress",
        "Uplink",
        "NeighborProxy",
        "Resolver",
      ]
    ) {
      assert.match(written, new RegExp(`^(# )?${k}\\b`, "m"), k);
    }
  }
  const auto = formatConfig(clat(texts[2]!));
  assert.match(auto, /^Via = "auto"$/m);
  assert.match(auto, /^HostAddress = ""$/m);
  assert.match(auto, /^Resolver = "192\.0\.2\.53"$/m);
  assert.match(formatConfig(clat("")), /^Source6 = "embed"$/m);
});

Deno.test("clat config: withDiscoveredVia() gives the configuration for a discovered PREF64", () => {
  const cfg = clat('[Clat]\nVia = "auto"\nSource6 = "2001:db8:1::/64"\n');
  const found = withDiscoveredVia(cfg, p6("2001:db8:64::/96"));
  assert.ok(typeof found !== "string");
  assert.equal(formatIpv6Prefix(found.interface.prefix), "2001:db8:64::/96");
  assert.equal(formatIpv6Prefix(found.clat!.via!), "2001:db8:64::/96");
  assert.equal(found.clat!.viaAuto, true);
  // A later change is applied the same way.
  const again = withDiscoveredVia(found, p6("2001:db8:65::/64"));
  assert.ok(typeof again !== "string");
  assert.equal(formatIpv6Prefix(again.interface.prefix), "2001:db8:65::/64");
  assert.deepEqual(found.interface.address6, cfg.interface.address6);
  assert.ok(Object.isFrozen(found.interface));
  assert.equal(
    withDiscoveredVia(cfg, p6("2001:db8::/80")),
    "2001:db8::/80: prefix length must be one of 32, 40, 48, 56, 64, 96 (RFC 6052 §2.2)",
  );
  assert.equal(
    withDiscoveredVia(cfg, p6("2001:db8::/32")),
    "2001:db8::/32: overlaps Clat.Source6 (2001:db8:1::/64)",
  );
  assert.equal(
    withDiscoveredVia(clat(""), p6("2001:db8:64::/96")),
    'not a CLAT configuration with Via = "auto"',
  );
});

Deno.test("clat config: a reload of the CLAT reports the restart-only [Clat] keys", () => {
  const before = clat("[Clat]\n");
  const after = clat('[Clat]\nName = "clat9"\nQueues = 3\nOffload = true\nMTU = 1400\n');
  assert.deepEqual(restartOnlyChanges(before, after), ["Clat.Name", "Clat.Queues", "Clat.Offload"]);
  assert.deepEqual(restartOnlyChanges(before, clat('[Clat]\nVia = "2001:db8::/96"\n')), []);
});
