/**
 * A valid configuration the system refuses: the daemon exits with status 1 and one message
 * saying what failed and why (a route that already exists; no CAP_NET_ADMIN), and removes what
 * it had set up — no TUN device and none of its routes stay behind.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  e2eTest,
  POOL,
  PREFIX,
  protomaskToml,
  repoPath,
  run,
  type RunResult,
  type Topology,
} from "./_harness.ts";

/** Routes in the namespace that the daemon would add (its prefix, its pool, its Address4). */
async function daemonRoutes(ns: string): Promise<string[]> {
  const out: string[] = [];
  for (const family of ["-4", "-6"]) {
    const r = await run(["ip", "-n", ns, family, "route", "show", "proto", "77"]);
    assert.equal(r.code, 0, r.stderr);
    out.push(...r.stdout.split("\n").filter((l) => l.trim() !== ""));
  }
  return out;
}

/** Runs the daemon once in the translator namespace with a valid config, behind `wrapper`. */
async function runDaemon(topo: Topology, wrapper: readonly string[] = []): Promise<RunResult> {
  const configPath = `${topo.dir}/valid.toml`;
  await Deno.writeTextFile(configPath, protomaskToml({}));
  return topo.exec(topo.translatorNs, [
    ...wrapper,
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    repoPath("main.ts"),
    configPath,
  ], { timeoutMs: 20_000 });
}

async function tunDevices(ns: string): Promise<string> {
  const r = await run(["ip", "-n", ns, "-o", "link", "show", "type", "tun"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

e2eTest("a route that already exists stops the start with exit 1 and leaves nothing behind", {
  topology: { clients: 0, ipv4Side: false, tag: "rx" },
  translators: ["protomask"],
  timeoutMs: 60_000,
}, async ({ topo }) => {
  const x = topo.translatorNs;
  // Someone else already routes the pool (the second route the daemon adds, after Prefix).
  const taken = await run(["ip", "-n", x, "route", "add", "blackhole", POOL]);
  assert.equal(taken.code, 0, taken.stderr);
  const r = await runDaemon(topo);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`protomask: cannot start: .*route ${POOL.replace(/\./g, "\\.")} already exists`),
  );
  assert.doesNotMatch(r.stderr, /ready on/);
  assert.equal(await tunDevices(x), "", "a TUN device was left behind");
  assert.deepEqual(await daemonRoutes(x), [], `the ${PREFIX} route was not removed again`);
  const still = await run(["ip", "-n", x, "route", "show", POOL]);
  assert.match(still.stdout, /blackhole/, "the other owner's route must stay");
});

e2eTest("without CAP_NET_ADMIN the start fails with exit 1 naming the capability", {
  topology: { clients: 0, ipv4Side: false, tag: "np" },
  translators: ["protomask"],
  tools: ["setpriv"],
  timeoutMs: 60_000,
}, async ({ topo }) => {
  const x = topo.translatorNs;
  const r = await runDaemon(topo, ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /protomask: cannot start: .*CAP_NET_ADMIN/);
  assert.equal(await tunDevices(x), "");
  assert.deepEqual(await daemonRoutes(x), []);
});
