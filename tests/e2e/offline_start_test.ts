/**
 * The daemon starts on a gateway without Internet access: `deno task cache` fills a Deno cache
 * once, and `deno task start` runs with `--cached-only` and `DENO_NO_UPDATE_CHECK=1`, so a start
 * never reaches a registry and prints no `Download …` line. The translator's namespace in the
 * test topology has no route anywhere but its two veths, so any registry request would fail.
 *
 * The control: the same command with an empty cache refuses to start, naming `--cached-only`,
 * which shows it is the cache and not the network that made the first start work.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, ping6, protomaskToml, repoPath, run, SERVER6 } from "./_harness.ts";

/** The tasks of deno.json, as the test reads them (so a changed task is what gets tested). */
async function tasks(): Promise<Record<string, string>> {
  const json = JSON.parse(await Deno.readTextFile(repoPath("deno.json")));
  return json.tasks as Record<string, string>;
}

e2eTest("the daemon starts from a filled cache with no network and no download output", {
  topology: { clients: 1, tag: "of" },
  translators: ["protomask"],
  tools: ["ping"],
  timeoutMs: 120_000,
}, async ({ topo }) => {
  const t = await tasks();
  assert.match(t.start ?? "", /^DENO_NO_UPDATE_CHECK=1 deno run --cached-only /, "start task");
  assert.match(t.cache ?? "", /deno install .*--entrypoint main\.ts runtime\/packet_worker\.ts/);

  // Fill an empty cache the way the README says (`deno task cache`, with network).
  const denoDir = `${topo.dir}/deno-dir`;
  const fill = await run([
    "env",
    `DENO_DIR=${denoDir}`,
    "NO_COLOR=1",
    Deno.execPath(),
    "task",
    "--config",
    repoPath("deno.json"),
    "cache",
  ], { timeoutMs: 60_000 });
  if (fill.code !== 0) {
    console.log(`[skip] offline start: 'deno task cache' could not reach the npm registry here:`);
    console.log(fill.stderr.trim().split("\n").slice(-3).join("\n"));
    return;
  }

  const configPath = `${topo.dir}/protomask.toml`;
  await Deno.writeTextFile(configPath, protomaskToml({}));
  const command = (dir: string) => [
    "env",
    `DENO_DIR=${dir}`,
    "DENO_NO_UPDATE_CHECK=1",
    "NO_COLOR=1",
    Deno.execPath(),
    "run",
    "--cached-only",
    "-A",
    repoPath("main.ts"),
    configPath,
  ];

  // Control first: an empty cache and no network.
  const emptyDir = `${topo.dir}/deno-dir-empty`;
  await Deno.mkdir(emptyDir);
  const refused = topo.spawn(topo.translatorNs, command(emptyDir), "protomask-empty-cache");
  const status = await refused.waitExit(30_000);
  assert.ok(status !== null, "an empty cache with --cached-only did not exit");
  assert.notEqual(status.code, 0);
  assert.match(refused.stderr, /--cached-only/);
  assert.doesNotMatch(refused.stderr, /ready on/);

  const proc = topo.spawn(topo.translatorNs, command(denoDir), "protomask-offline");
  try {
    const ready = await proc.waitForOutput(/ready on/, 30_000);
    assert.ok(ready, `not ready; stderr:\n${proc.stderr}`);
    const ping = await ping6(topo, topo.clients[0]!, SERVER6, { count: 2 });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const stopped = await proc.stop("SIGTERM", 5000);
    assert.equal(stopped.code, 0, proc.stderr);
    assert.doesNotMatch(proc.stderr + proc.stdout, /Download|registry\.npmjs\.org/);
  } finally {
    if (proc.status === null) await proc.stop("SIGKILL", 2000);
  }
});
