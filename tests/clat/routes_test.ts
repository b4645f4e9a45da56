/** What a CLAT routes into its TUN (lib/clat/routes.ts), for every Via and Source6 form. */

import assert from "node:assert/strict";
import { formatIpv4Prefix, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6Prefix, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { embeddedPrefix, withPref64 } from "../../lib/clat/routes.ts";
import { routeChanges, routesFor } from "../../lib/daemon/routes.ts";
import { clatConfig } from "./_clat.ts";
import type { Config } from "../../lib/config/config.ts";

function text(cfg: ReturnType<typeof clatConfig>): string[] {
  const r = routesFor(cfg);
  return [...r.routes4.map(formatIpv4Prefix), ...r.routes6.map(formatIpv6Prefix)];
}

Deno.test("clat routes: Routes4 and Address4 into the TUN, and the Source6 prefix holding Address6", () => {
  assert.deepEqual(text(clatConfig()), ["0.0.0.0/0", "2001:db8:1:4646::/64"]);
  const narrow = clatConfig({ address6: "2001:db8:ffff::2" });
  const r = routesFor({
    ...narrow,
    clat: { ...narrow.clat!, routes4: [parseIpv4Prefix("198.51.100.0/24")!] },
  });
  assert.deepEqual(r.routes4.map(formatIpv4Prefix), ["198.51.100.0/24", "192.0.0.2/32"]);
  assert.deepEqual(r.routes6.map(formatIpv6Prefix), [
    "2001:db8:1:4646::/64",
    "2001:db8:ffff::2/128",
  ]);
});

Deno.test("clat routes: with Source6 embed, each customer prefix embedded in Via, u-octet counted", () => {
  const cases: [string, string, string][] = [
    ["64:ff9b::/96", "192.0.0.0/29", "64:ff9b::c000:0/125"],
    ["2001:db8:64::/64", "192.0.0.0/29", "2001:db8:64:0:c0::/101"],
    ["2001:db8::/32", "192.0.0.0/29", "2001:db8:c000::/61"],
    ["2001:db8:100::/40", "192.0.0.0/24", "2001:db8:1c0:0:0:0::/64"],
    ["2001:db8:100::/40", "192.0.0.0/29", "2001:db8:1c0:0:0:0::/77"],
    ["2001:db8:122:300::/56", "10.0.0.0/8", "2001:db8:122:30a::/64"],
    ["2001:db8:122:300::/56", "10.128.0.0/9", "2001:db8:122:30a:80::/73"],
  ];
  for (const [via, pool, want] of cases) {
    const got = embeddedPrefix(parseIpv6Prefix(via)!, parseIpv4Prefix(pool)!);
    assert.equal(
      formatIpv6Prefix(got),
      formatIpv6Prefix(parseIpv6Prefix(want)!),
      `${pool} in ${via}`,
    );
  }
  const cfg = clatConfig({
    via: "2001:db8:64::/64",
    source6: "embed",
    address6: "2001:db8:64:0:c0:0:200:0",
  });
  assert.deepEqual(text(cfg), ["0.0.0.0/0", "2001:db8:64:0:c0::/101"], "Address6 inside the route");
});

Deno.test("clat routes: no IPv4 route until Via = auto discovers a prefix; a new prefix changes the IPv6 routes", () => {
  const waiting = clatConfig({ via: "auto", source6: "embed", address6: "64:ff9b::c000:2" });
  assert.equal(waiting.clat!.via, null);
  assert.deepEqual(text(waiting), ["64:ff9b::c000:2/128"]);
  const found = withPref64(waiting, parseIpv6Prefix("2001:db8:64::/96")!) as Config;
  assert.equal(formatIpv6Prefix(found.interface.prefix), "2001:db8:64::/96");
  assert.deepEqual(text(found), ["0.0.0.0/0", "2001:db8:64::c000:0/125", "64:ff9b::c000:2/128"]);
  assert.equal(withPref64(found, parseIpv6Prefix("2001:db8:64::/96")!), found, "same: no change");
  const changes = routeChanges(routesFor(waiting), routesFor(found));
  assert.deepEqual(changes.add4.map(formatIpv4Prefix), ["0.0.0.0/0"]);
  const lost = withPref64(found, null) as Config;
  assert.deepEqual(text(lost), ["64:ff9b::c000:2/128"]);
  assert.match(
    withPref64(waiting, parseIpv6Prefix("2001:db8::/80")!) as string,
    /prefix length must be one of/,
    "an RA's prefix is checked like Clat.Via",
  );
});
