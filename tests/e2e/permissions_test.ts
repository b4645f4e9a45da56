/**
 * The daemon runs with exactly the permissions the README lists for `deno task start`
 * (`--allow-ffi`, `--allow-read=<program dir>,<config dir>,<state dir>`,
 * `--allow-write=<state dir>`), not `-A`: it starts, translates, reloads on SIGHUP, saves its
 * leases and stops cleanly on SIGTERM.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, ping6, protomaskToml, repoPath, SERVER6 } from "./_harness.ts";

e2eTest("the daemon works with the README's narrow permissions instead of -A", {
  topology: { clients: 1, tag: "pe" },
  translators: ["protomask"],
  tools: ["ping"],
  timeoutMs: 60_000,
}, async ({ topo }) => {
  const configDir = `${topo.dir}/etc`;
  const stateDir = `${topo.dir}/state`;
  await Deno.mkdir(configDir);
  await Deno.mkdir(stateDir);
  const configPath = `${configDir}/protomask.toml`;
  await Deno.writeTextFile(configPath, protomaskToml({ stateFile: `${stateDir}/leases.json` }));
  const proc = topo.spawn(topo.translatorNs, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-ffi",
    `--allow-read=${repoPath(".")},${configDir},${stateDir}`,
    `--allow-write=${stateDir}`,
    repoPath("main.ts"),
    configPath,
  ], "protomask");
  try {
    const ready = await proc.waitForOutput(/ready on/, 20_000);
    assert.ok(ready, `not ready; stderr:\n${proc.stderr}`);
    const ping = await ping6(topo, topo.clients[0]!, SERVER6, { count: 2 });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    proc.kill("SIGHUP");
    assert.ok(await proc.waitForOutput(/configuration reloaded/, 5000), proc.stderr);
    const stopped = await proc.stop("SIGTERM", 5000);
    assert.equal(stopped.code, 0, proc.stderr);
    assert.equal(stopped.forced, false);
    assert.doesNotMatch(proc.stderr, /Requires .* access|NotCapable|PermissionDenied|not checked/);
    const saved = JSON.parse(await Deno.readTextFile(`${stateDir}/leases.json`));
    assert.equal(saved.leases.length, 1, JSON.stringify(saved));
  } finally {
    if (proc.status === null) await proc.stop("SIGKILL", 2000);
  }
});
