/**
 * At start the daemon reads the forwarding sysctls a gateway needs and warns about each that is
 * off, naming the fix; with both on it says nothing about them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, protomaskToml, startProtomask } from "./_harness.ts";

e2eTest("the daemon warns at start about forwarding switched off, and only then", {
  topology: { clients: 1, tag: "sy" },
  translators: ["protomask"],
  timeoutMs: 90_000,
}, async ({ topo }) => {
  const on = await startProtomask(topo, { configText: protomaskToml({}) });
  try {
    await on.proc.stop("SIGTERM", 5000);
    assert.doesNotMatch(on.proc.stderr, /forwarding|ip_forward|not checked/, on.proc.stderr);
  } finally {
    if (on.proc.status === null) await on.proc.stop("SIGKILL", 2000);
  }

  await topo.sysctl(topo.translatorNs, "net.ipv4.ip_forward", "0");
  const off = await startProtomask(topo, { configText: protomaskToml({}) });
  try {
    assert.ok(
      await off.proc.waitForOutput(
        /net\.ipv4\.ip_forward is 0: .*sysctl -w net\.ipv4\.ip_forward=1/,
        5000,
      ),
      off.proc.stderr,
    );
    await off.proc.stop("SIGTERM", 5000);
    assert.doesNotMatch(off.proc.stderr, /net\.ipv6\.conf\.all\.forwarding is/);
  } finally {
    if (off.proc.status === null) await off.proc.stop("SIGKILL", 2000);
    await topo.sysctl(topo.translatorNs, "net.ipv4.ip_forward", "1");
  }
});
