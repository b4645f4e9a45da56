/**
 * A bad configuration: the daemon exits with status 2 and one message naming the problem, and
 * leaves no TUN device and no route behind in its namespace.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, run, startProtomask } from "./_harness.ts";

// Valid TOML; the prefix length is not one RFC 6052 allows, and the pool is fine, so only the
// prefix is reported.
const BAD_CONFIG = `[Interface]
Prefix = "2001:db8:64::/95"
Pool = ["192.0.2.16/28"]
`;

e2eTest("a bad config exits 2 with the message and leaves no TUN or route behind", {
  topology: { clients: 0, ipv4Side: false, tag: "cf" },
  translators: ["protomask"],
  timeoutMs: 60_000,
}, async ({ topo }) => {
  const x = topo.translatorNs;
  const linksBefore = await run(["ip", "-n", x, "-o", "link", "show"]);
  const daemon = await startProtomask(topo, { configText: BAD_CONFIG, waitReady: false });
  const status = await daemon.proc.waitExit(15_000);
  assert.ok(status, "the daemon did not exit within 15 s");
  assert.equal(status.code, 2, daemon.proc.stderr);
  assert.match(daemon.proc.stderr, /Interface\.Prefix/);
  assert.match(daemon.proc.stderr, /95/);
  assert.doesNotMatch(daemon.proc.stderr, /ready/);

  const tuns = await run(["ip", "-n", x, "-o", "link", "show", "type", "tun"]);
  assert.equal(tuns.code, 0, tuns.stderr);
  assert.equal(tuns.stdout.trim(), "", "a TUN device was left behind");
  const linksAfter = await run(["ip", "-n", x, "-o", "link", "show"]);
  assert.equal(linksAfter.stdout, linksBefore.stdout);
  for (const family of ["-4", "-6"]) {
    const routes = await run(["ip", "-n", x, family, "route", "show", "table", "all"]);
    assert.doesNotMatch(routes.stdout, /2001:db8:64::|192\.0\.2\./, `${family}: ${routes.stdout}`);
  }
});
