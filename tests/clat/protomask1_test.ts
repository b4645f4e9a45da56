/**
 * protomask-clat 1.x compatibility: its JSON file (`customer_pool`, `prometheus_bind_addr`,
 * `via`, `queues`, from upstream's `src/args/protomask_clat.rs`) and its flags
 * (`--customer-prefix`, `--via`, `--prometheus`, `--num-queues`, `-i`) map onto `[Clat]` through
 * the key table's v1 aliases, with messages naming what the user wrote.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/config.ts";
import { parseProtomask1Json, protomask1Keys } from "../../lib/config/protomask1.ts";
import { keysOf, protomask1FlagKeys } from "../../lib/config/keys.ts";
import { loadDaemonConfig } from "../../lib/cli/commands.ts";
import { CLAT_USAGE, type ConfigOverrides, NO_OVERRIDES } from "../../lib/cli/args.ts";
import { parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6Prefix } from "../../lib/addr/ipv6.ts";

/** Upstream's example, config/protomask-clat.json. */
const UPSTREAM_EXAMPLE = `{
    "via": "64:ff9b::/96",
    "customer_pool": [
        "192.0.2.0/24"
    ],
    "prometheus_bind_addr": "[::1]:8999",
    "queues": 10
}`;

function clatOverrides(o: Partial<ConfigOverrides>): ConfigOverrides {
  return { ...NO_OVERRIDES, customerPrefixes: [], via: null, ...o };
}

/** The message of a CLAT configuration that must fail to load. */
function loadFails(
  input: { text: string | null; path: string | null; o: ConfigOverrides },
): string {
  const r = loadDaemonConfig({
    text: input.text,
    path: input.path,
    overrides: input.o,
    mode: "clat",
  });
  assert.ok(!r.ok, "loaded");
  return r.message;
}

Deno.test("clat 1.x: the JSON keys are protomask-clat's, in its struct's order", () => {
  assert.deepEqual(protomask1Keys("clat"), [
    "customer_pool",
    "prometheus_bind_addr",
    "via",
    "queues",
  ]);
  assert.deepEqual(protomask1FlagKeys("clat").map((k) => k.v1!.flag), [
    "--customer-prefix",
    "--prometheus",
    "--via",
    "--num-queues",
    "--interface",
  ]);
  // Every clat flag is in `protomask clat --help`; the v1 aliases are on [Clat] keys or Metrics.
  for (const k of protomask1FlagKeys("clat")) assert.ok(CLAT_USAGE.includes(k.v1!.flag!));
  for (const k of keysOf("clat").filter((k) => k.v1 !== undefined)) {
    assert.ok(k.table === "Clat" || k.path === "Metrics.Listen", k.path);
  }
});

Deno.test("clat 1.x: upstream's example JSON gives the same config as the equivalent TOML", () => {
  const { config, warnings } = parseProtomask1Json(UPSTREAM_EXAMPLE, { mode: "clat" });
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.clat!.customerPool, [parseIpv4Prefix("192.0.2.0/24")]);
  assert.equal(formatIpv6Prefix(config.interface.prefix), "64:ff9b::/96");
  assert.equal(config.interface.queues, 10);
  assert.deepEqual(config.metrics.listen, { hostname: "::1", port: 8999 });
  // protomask-clat assigns its TUN no address: a 1.x config runs with HostAddress = "".
  assert.equal(config.clat!.hostAddress, null);
  const toml = parseConfig(
    '[Clat]\nCustomerPool = ["192.0.2.0/24"]\nVia = "64:ff9b::/96"\nQueues = 10\n' +
      'HostAddress = ""\n[Metrics]\nListen = "[::1]:8999"\n',
    { mode: "clat" },
  );
  assert.deepEqual(config, toml);
  // `queues: null` is left to the default, as upstream's Option-less field is when absent.
  const nullQueues = parseProtomask1Json('{"customer_pool": ["192.0.2.0/24"], "queues": null}', {
    mode: "clat",
  });
  assert.equal(nullQueues.config.interface.queues, null);
});

Deno.test("clat 1.x: bad JSON values and keys are named by their JSON key", () => {
  const e = loadFails({
    text: '{"customer_pool": ["192.0.2.1/24", 7], "via": "2001:db8::/80", "pool": [], ' +
      '"static_map": [], "queues": 0, "interface": "clat0"}',
    path: "clat.json",
    o: clatOverrides({}),
  });
  assert.deepEqual(e.split("\n"), [
    "clat.json: 7 configuration problems:",
    "pool: unknown key (protomask 1.x's translator has it, protomask-clat does not; the " +
    "customers are customer_pool)",
    "static_map: unknown key (protomask 1.x's translator has it, protomask-clat does not)",
    "interface: unknown key (protomask 1.x sets the TUN name with -i/--interface, not in JSON)",
    "queues = 0: must be an integer from 1 to 64",
    'customer_pool[0] = "192.0.2.1/24": host bits set (did you mean 192.0.2.0/24?)',
    "customer_pool[1] = 7: expected a string, got an integer",
    'via = "2001:db8::/80": prefix length must be one of 32, 40, 48, 56, 64, 96 (RFC 6052 §2.2)',
  ]);
  assert.match(
    loadFails({ text: '{"customer_pol": []}', path: "c.json", o: clatOverrides({}) }),
    /^customer_pol: unknown key \(did you mean "customer_pool"\?\)$/m,
  );
  assert.match(
    loadFails({ text: "[1]", path: "c.json", o: clatOverrides({}) }),
    /expected a JSON object such as \{"customer_pool": \["192\.0\.0\.0\/29"\]\}, got an array/,
  );
  // A check across keys names the JSON key too.
  assert.match(
    loadFails({ text: '{"customer_pool": []}', path: "c.json", o: clatOverrides({}) }),
    /^customer_pool = \[\]: must hold at least one IPv4 prefix/m,
  );
});

Deno.test("clat 1.x: flags alone run the CLAT, flags win over a file, bad flags are named", () => {
  const flagsOnly = loadDaemonConfig({
    text: null,
    path: null,
    overrides: clatOverrides({
      customerPrefixes: ["192.0.2.0/24", "198.51.100.0/24"],
      via: "2001:db8:64::/96",
      interface: "clat0",
      numQueues: "2",
      prometheus: "127.0.0.1:9061",
    }),
    mode: "clat",
  });
  assert.ok(flagsOnly.ok);
  assert.equal(flagsOnly.format, "flags");
  const c = flagsOnly.config;
  assert.deepEqual(c.clat!.customerPool, [
    parseIpv4Prefix("192.0.2.0/24"),
    parseIpv4Prefix("198.51.100.0/24"),
  ]);
  assert.equal(formatIpv6Prefix(c.interface.prefix), "2001:db8:64::/96");
  assert.equal(c.interface.name, "clat0");
  assert.equal(c.interface.queues, 2);
  assert.deepEqual(c.metrics.listen, { hostname: "127.0.0.1", port: 9061 });
  assert.equal(c.clat!.hostAddress, null);

  // Over a TOML file: --customer-prefix replaces the whole pool, --via the prefix; the
  // file's HostAddress default stays (a TOML file is not 1.x).
  const over = loadDaemonConfig({
    text: '[Clat]\nCustomerPool = ["10.0.0.0/24"]\nHostAddress = "192.0.0.1"\n',
    path: "c.toml",
    overrides: clatOverrides({ customerPrefixes: ["192.0.0.0/29"], via: "auto" }),
    mode: "clat",
  });
  assert.ok(!over.ok);
  assert.equal(
    over.message,
    "c.toml and command line: 1 configuration problem:\n" +
      'Clat.Address6: must be given when Via is "auto": Address4 (192.0.0.2) is a customer\'s ' +
      'address, and with Source6 = "embed" a customer\'s IPv6 address embeds it in Via',
  );
  const over2 = loadDaemonConfig({
    text: '[Clat]\nCustomerPool = ["10.0.0.0/24"]\n',
    path: "c.toml",
    overrides: clatOverrides({ customerPrefixes: ["192.0.0.0/29"], via: "64:ff9b::/96" }),
    mode: "clat",
  });
  assert.ok(over2.ok);
  assert.deepEqual(over2.config.clat!.customerPool, [parseIpv4Prefix("192.0.0.0/29")]);
  assert.equal(over2.config.clat!.hostAddress, 0xc0000001);

  assert.deepEqual(
    loadFails({
      text: null,
      path: null,
      o: clatOverrides({
        customerPrefixes: ["192.0.2.0/24", "192.0.2.128/25"],
        via: "2001:db8::/33",
        numQueues: "two",
      }),
    }).split("\n"),
    [
      "command line: 3 configuration problems:",
      "--num-queues 'two': expected a whole number of queues",
      "--customer-prefix '192.0.2.128/25': overlaps --customer-prefix '192.0.2.0/24' " +
      "(192.0.2.0/24)",
      "--via '2001:db8::/33': prefix length must be one of 32, 40, 48, 56, 64, 96 " +
      "(RFC 6052 §2.2)",
    ],
  );
});

Deno.test("clat 1.x: a translator's 1.x JSON is not a CLAT's, and the other way round", () => {
  assert.match(
    loadFails({ text: '{"pool": ["192.0.2.0/24"]}', path: "p.json", o: clatOverrides({}) }),
    /^pool: unknown key \(protomask 1\.x's translator has it, protomask-clat does not; the customers are customer_pool\)$/m,
  );
  const r = loadDaemonConfig({
    text: '{"customer_pool": ["192.0.2.0/24"]}',
    path: "c.json",
    overrides: NO_OVERRIDES,
  });
  assert.ok(!r.ok);
  assert.match(
    r.message,
    /^customer_pool: unknown key \(a protomask-clat 1\.x key: run `protomask clat` with this file\)$/m,
  );
});
