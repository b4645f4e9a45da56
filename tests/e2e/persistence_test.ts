/**
 * Leases across daemon restarts and reloads: with `StateFile`, a clean restart (SIGTERM) and a
 * crash (`kill -9`) both keep every host's IPv4 address, and SIGHUP adds a static map without
 * a restart and without dropping the leases in force. Five IPv6-only clients; which IPv4
 * address each appears as is read at the server (`GET /whoami`).
 *
 * Allocation is first come, first served from the lowest free address, so clients ask in one
 * order before a restart and in the reverse order after it: a restart that forgot the leases
 * would hand the addresses out the other way round.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Client,
  type Daemon,
  e2eTest,
  ipv4InPrefix,
  POOL,
  protomaskToml,
  sleep,
  type Topology,
  TRANSLATOR,
  whoami,
  type XlatSettings,
} from "./_harness.ts";

/** The static map SIGHUP adds (for client 5, which has sent nothing before). */
const HUP_V4 = "192.0.2.3";

async function addresses(
  topo: Topology,
  clients: readonly Client[],
): Promise<Map<number, string | null>> {
  const seen = new Map<number, string | null>();
  for (const c of clients) seen.set(c.index, await whoami(topo, c));
  return seen;
}

function assertLeased(seen: Map<number, string | null>): void {
  const values = [...seen.values()];
  for (const v4 of values) assert.ok(v4 !== null && ipv4InPrefix(v4, POOL), `${v4} not in ${POOL}`);
  assert.equal(new Set(values).size, values.length, `addresses repeat: ${[...seen]}`);
}

e2eTest("leases survive restarts and SIGHUP adds a static map live", {
  topology: { clients: 5, tag: "st" },
  tools: ["ping", "curl"],
  timeoutMs: 150_000,
}, async ({ topo, start }, t) => {
  const c = topo.clients;
  const settings: XlatSettings = { stateFile: `${topo.dir}/state/leases.json` };
  if (TRANSLATOR === "tayga") settings.stateFile = `${topo.dir}/state`; // TAYGA's data-dir
  else await Deno.mkdir(`${topo.dir}/state`);
  let daemon: Daemon = await start(settings);
  let before = new Map<number, string | null>();

  await t.step("a restart (SIGTERM, start) with StateFile keeps every lease", async () => {
    before = await addresses(topo, [c[2]!, c[1]!, c[0]!]);
    assertLeased(before);
    const stopped = await daemon.proc.stop("SIGTERM", 5000);
    if (TRANSLATOR === "protomask") {
      assert.equal(stopped.code, 0, daemon.proc.stderr);
      assert.ok(stopped.elapsedMs < 1500, `took ${stopped.elapsedMs} ms to exit`);
      const saved = JSON.parse(await Deno.readTextFile(settings.stateFile!));
      const v6s = saved.leases.map((l: { v6: string }) => l.v6).sort();
      assert.deepEqual(v6s, [c[0]!.addr, c[1]!.addr, c[2]!.addr].sort());
    }
    daemon = await start(settings);
    const after = await addresses(topo, [c[0]!, c[1]!, c[2]!]);
    assert.deepEqual(after, before, daemon.proc.stderr);
  });

  await t.step("kill -9 then a restart keeps every lease, including one a second old", async () => {
    const fourth = await whoami(topo, c[3]!);
    before.set(4, fourth);
    assertLeased(before);
    // "kill -9 at any moment loses at most the leases of the last second".
    await sleep(1500);
    const killed = await daemon.proc.stop("SIGKILL", 5000);
    assert.equal(killed.signal, "SIGKILL");
    daemon = await start(settings);
    const after = await addresses(topo, [c[3]!, c[2]!, c[1]!, c[0]!]);
    assert.deepEqual(after, before, daemon.proc.stderr);
  });

  await t.step({
    name:
      "SIGHUP adds a static map without a restart and keeps the leases; an invalid config is rejected",
    ignore: TRANSLATOR !== "protomask", // TAYGA does not reload its configuration
    fn: async () => {
      const pingFromServer = () =>
        topo.exec(topo.serverNs!, ["ping", "-n", "-c", "1", "-W", "1", HUP_V4], {
          timeoutMs: 5000,
        });
      assert.notEqual((await pingFromServer()).code, 0, `${HUP_V4} answered before the reload`);
      const next = { ...settings, staticMaps: [{ v4: HUP_V4, v6: c[4]!.addr }] };
      await Deno.writeTextFile(daemon.configPath, protomaskToml(next));
      daemon.proc.kill("SIGHUP");
      // IPv4-initiated traffic allocates nothing, so polling with it cannot give client 5 a
      // dynamic lease before the map exists.
      let reached = false;
      for (let i = 0; i < 20 && !reached; i++) {
        reached = (await pingFromServer()).code === 0;
        if (!reached) await sleep(250);
      }
      assert.ok(reached, `${HUP_V4} unreachable after SIGHUP; stderr:\n${daemon.proc.stderr}`);
      assert.equal(daemon.proc.status, null, "the daemon exited");
      assert.equal(await whoami(topo, c[4]!), HUP_V4);
      const after = await addresses(topo, [c[0]!, c[1]!, c[2]!, c[3]!]);
      assert.deepEqual(after, before);

      // An invalid configuration on SIGHUP is rejected and the running one stays.
      await Deno.writeTextFile(
        daemon.configPath,
        protomaskToml(next).replace(/Pool = .*/, 'Pool = ["192.0.2.300/28"]'),
      );
      daemon.proc.kill("SIGHUP");
      const rejected = await daemon.proc.waitForOutput(
        /reload rejected[^\n]*Interface\.Pool/,
        5000,
      );
      assert.ok(rejected, `no rejection logged; stderr:\n${daemon.proc.stderr}`);
      assert.equal(daemon.proc.status, null, "the daemon exited");
      assert.equal(await whoami(topo, c[4]!), HUP_V4);
      assert.deepEqual(await addresses(topo, [c[0]!, c[1]!, c[2]!, c[3]!]), before);
    },
  });
});
