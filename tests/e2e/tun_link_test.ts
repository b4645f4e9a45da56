/**
 * The TUN device as the kernel sees it: protomask turns IPv6 address generation off before
 * bringing the link up, so the kernel gives the TUN no fe80:: address and sends no router
 * solicitations into it (they were counted as `multicast_destination` drops).
 *
 * What the kernel still sends: with forwarding on, the link joins ff02::2 (all routers) and
 * reports it in MLDv2 from `::` (RFC 3590 allows that without a link-local address), which
 * the translator drops as `invalid_source`. Only a sysctl (`net.ipv6.conf.<tun>.forwarding`)
 * would silence that, and the daemon changes no sysctls.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, run, sleep } from "./_harness.ts";

e2eTest("the TUN gets no link-local address and the kernel sends no router solicitations into it", {
  topology: { clients: 0, ipv4Side: false, tag: "ll" },
  translators: ["protomask"],
  timeoutMs: 60_000,
}, async ({ topo, start }) => {
  const daemon = await start();
  const x = topo.translatorNs;
  const link = await run(["ip", "-n", x, "-d", "link", "show", "dev", daemon.tunName!]);
  assert.match(link.stdout, /addrgenmode none/, link.stdout + link.stderr);
  // Router solicitations go out within about a second of the link coming up; give them time.
  await sleep(2500);
  const addrs = await run(["ip", "-n", x, "-6", "-o", "addr", "show", "dev", daemon.tunName!]);
  assert.equal(addrs.code, 0, addrs.stderr);
  assert.doesNotMatch(addrs.stdout, /fe80:/, "the TUN has a link-local address");
  daemon.proc.kill("SIGUSR2");
  const line = await daemon.proc.waitForOutput(/^\{.*"event":"counters".*\}$/m, 5000);
  assert.ok(line, `no counters logged; stderr:\n${daemon.proc.stderr}`);
  const counters: Record<string, number> = JSON.parse(line[0]).properties.counters;
  assert.equal(counters.multicast_destination, undefined, line[0]);
  // Nothing arrived but the MLD reports from :: (see above).
  for (const name of Object.keys(counters)) {
    assert.ok(name === "received" || name === "invalid_source", line[0]);
  }
});
