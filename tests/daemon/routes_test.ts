import assert from "node:assert/strict";
import { formatIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { parseConfig } from "../../lib/config/config.ts";
import {
  restartOnlyChanges,
  routeChanges,
  routesFor,
  type TunRoutes,
} from "../../lib/daemon/routes.ts";

function text(r: TunRoutes): string[] {
  return [...r.routes6.map(formatIpv6Prefix), ...r.routes4.map(formatIpv4Prefix)];
}

const TOML = `
[Interface]
Prefix = "64:ff9b::/96"
Pool = ["203.0.113.0/28", "198.51.100.64/30"]
[Rules]
MapStatic = [
  { v4 = "203.0.113.5", v6 = "2001:db8::5" },
  { v4 = "192.0.2.9", v6 = "2001:db8::9" },
]
`;

Deno.test("routesFor() routes Prefix, each pool prefix, static IPv4 outside the pool and Address4", () => {
  assert.deepEqual(text(routesFor(parseConfig(TOML))), [
    "64:ff9b::/96",
    "203.0.113.0/28",
    "198.51.100.64/30",
    "192.0.2.9/32",
    "192.0.0.8/32",
  ]);
});

Deno.test("routesFor() adds Address6/128 only when it is outside Prefix", () => {
  const outside = parseConfig(TOML.replace("[Rules]", `Address6 = "2001:db8:ff::1"\n[Rules]`));
  assert.deepEqual(outside.interface.address6.length, 16);
  assert.deepEqual(text(routesFor(outside)).slice(0, 2), ["64:ff9b::/96", "2001:db8:ff::1/128"]);
});

Deno.test("routeChanges() lists only the routes that differ", () => {
  const before = routesFor(parseConfig(TOML));
  const after = routesFor(parseConfig(TOML.replace('"198.51.100.64/30"', '"198.51.100.128/29"')));
  const c = routeChanges(before, after);
  assert.deepEqual(c.add4.map(formatIpv4Prefix), ["198.51.100.128/29"]);
  assert.deepEqual(c.remove4.map(formatIpv4Prefix), ["198.51.100.64/30"]);
  assert.deepEqual([c.add6, c.remove6], [[], []]);
  const same = routeChanges(before, routesFor(parseConfig(TOML)));
  assert.deepEqual(same, { add4: [], remove4: [], add6: [], remove6: [] });
});

Deno.test("restartOnlyChanges() names Interface.Name and Rules.StateFile", () => {
  const a = parseConfig(TOML);
  const b = parseConfig(
    TOML.replace("[Rules]", `Name = "other0"\n[Rules]\nStateFile = "/tmp/x.json"`),
  );
  assert.deepEqual(restartOnlyChanges(a, b), ["Interface.Name", "Rules.StateFile"]);
  assert.deepEqual(restartOnlyChanges(a, parseConfig(TOML)), []);
});

Deno.test("restartOnlyChanges() names Interface.Queues: set, changed or left to the default", () => {
  const unset = parseConfig(TOML);
  const two = parseConfig(TOML.replace("[Rules]", "Queues = 2\n[Rules]"));
  const four = parseConfig(TOML.replace("[Rules]", "Queues = 4\n[Rules]"));
  assert.deepEqual(restartOnlyChanges(unset, two), ["Interface.Queues"]);
  assert.deepEqual(restartOnlyChanges(two, four), ["Interface.Queues"]);
  assert.deepEqual(restartOnlyChanges(four, unset), ["Interface.Queues"]);
  assert.deepEqual(
    restartOnlyChanges(two, parseConfig(TOML.replace("[Rules]", "Queues = 2\n[Rules]"))),
    [],
  );
});

Deno.test("restartOnlyChanges() names Metrics.Listen: the endpoint is bound once", () => {
  const off = parseConfig(TOML);
  const on = parseConfig(TOML + '\n[Metrics]\nListen = "127.0.0.1:9060"\n');
  const other = parseConfig(TOML + '\n[Metrics]\nListen = "127.0.0.1:9061"\n');
  assert.deepEqual(restartOnlyChanges(off, on), ["Metrics.Listen"]);
  assert.deepEqual(restartOnlyChanges(on, other), ["Metrics.Listen"]);
  assert.deepEqual(
    restartOnlyChanges(on, parseConfig(TOML + '\n[Metrics]\nListen = "127.0.0.1:9060"\n')),
    [],
  );
});
