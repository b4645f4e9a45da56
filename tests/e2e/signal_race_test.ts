/**
 * The ready line is a promise that signals work: a SIGTERM sent the moment it appears stops the
 * daemon cleanly (exit 0, routes removed), it does not kill it with the default action
 * (exit 143). The handlers used to be installed after the line was logged, and a full-suite run
 * caught the daemon dying that way.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, protomaskToml, run, startProtomask } from "./_harness.ts";

e2eTest("SIGTERM the instant the ready line appears stops the daemon cleanly", {
  topology: { clients: 1, tag: "sr" },
  translators: ["protomask"],
  timeoutMs: 120_000,
}, async ({ topo }) => {
  for (let i = 0; i < 4; i++) {
    const d = await startProtomask(topo, { configText: protomaskToml({}), waitReady: false });
    try {
      const ready = await d.proc.waitForOutput(/ready on/, 20_000);
      d.proc.kill("SIGTERM");
      assert.ok(ready, d.proc.stderr);
      const status = await d.proc.waitExit(10_000);
      assert.ok(status !== null, "still running 10 s after SIGTERM");
      assert.equal(status.code, 0, `run ${i}: exit ${status.code}\n${d.proc.stderr}`);
      const routes = await run(["ip", "-n", topo.translatorNs, "route", "show", "proto", "77"]);
      assert.equal(routes.stdout.trim(), "", `run ${i}: routes left behind`);
    } finally {
      if (d.proc.status === null) await d.proc.stop("SIGKILL", 2000);
    }
  }
});
