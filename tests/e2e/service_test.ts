/**
 * The service unit (examples/protomask.service) and `deno task install`:
 *
 * - `systemd-analyze verify` accepts the unit (and complains about a misspelt copy, so the
 *   check can fail);
 * - the daemon started with exactly the unit's `ExecStart`, environment, user
 *   (`DynamicUser=yes`: an unprivileged uid from systemd's dynamic range, no account),
 *   capabilities (`setpriv` with the unit's ambient and bounding sets, `NoNewPrivileges`)
 *   and Deno permissions — its directories replaced by temporary ones — creates the TUN,
 *   translates a ping, writes its lease file and mapping log there, reloads on SIGHUP and
 *   stops with 0. The test reads those settings from the unit, so a change to the unit that
 *   breaks the daemon breaks the test;
 * - `deno task install` writes a `protomask` command with the narrow permissions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, ping6, protomaskToml, repoPath, run, SERVER6 } from "./_harness.ts";

const UNIT = repoPath("examples/protomask.service");
/** A uid in systemd's DynamicUser range (61184–65519) that no account uses. */
const DYNAMIC_UID = 61999;

/** The `[Service]` settings of a unit file (a key set twice keeps both values). */
function serviceSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    if (section !== "Service") continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

function one(settings: Map<string, string[]>, key: string): string {
  const v = settings.get(key);
  assert.ok(v !== undefined && v.length === 1, `the unit needs exactly one ${key}=`);
  return v[0]!;
}

function onPath(tool: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return Deno.statSync(`${d}/${tool}`).isFile;
    } catch {
      return false;
    }
  });
}

const haveAnalyze = onPath("systemd-analyze");
if (!haveAnalyze) console.warn("SKIPPED systemd-analyze verify: systemd-analyze not installed");

Deno.test({
  name: "systemd-analyze verify accepts examples/protomask.service and flags a misspelt copy",
  ignore: !haveAnalyze,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "pm-unit-" });
  try {
    // The one path that depends on where Deno is installed is pointed at this Deno.
    const text = (await Deno.readTextFile(UNIT)).replace(
      /\/usr\/bin\/deno /,
      `${Deno.execPath()} `,
    );
    await Deno.writeTextFile(`${dir}/protomask.service`, text);
    const good = await run(["systemd-analyze", "verify", `${dir}/protomask.service`]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal((good.stdout + good.stderr).trim(), "", "systemd-analyze had remarks");
    await Deno.writeTextFile(
      `${dir}/bad.service`,
      text.replace("NoNewPrivileges=", "NoNewPrivilege="),
    );
    const bad = await run(["systemd-analyze", "verify", `${dir}/bad.service`]);
    assert.match(bad.stdout + bad.stderr, /Unknown key 'NoNewPrivilege'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task install writes a protomask command with the narrow permissions", async () => {
  const root = await Deno.makeTempDir({ prefix: "pm-install-" });
  try {
    const r = await run([
      Deno.execPath(),
      "task",
      "--config",
      repoPath("deno.json"),
      "install",
      "--root",
      root,
    ], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const script = await Deno.readTextFile(`${root}/bin/protomask`);
    assert.match(script, /--allow-ffi/);
    assert.match(
      script,
      new RegExp(
        `--allow-read=${repoPath(".").replace(/\/$/, "")},/etc/protomask,/var/lib/protomask `,
      ),
    );
    assert.match(script, /--allow-write=\/var\/lib\/protomask,\/var\/log\/protomask /);
    assert.doesNotMatch(script, /--allow-all|-A /);
    const v = await run([`${root}/bin/protomask`, "--version"], { timeoutMs: 30_000 });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^protomask \d/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

e2eTest("the daemon runs with exactly the service unit's user, capabilities and permissions", {
  topology: { clients: 1, tag: "sv" },
  translators: ["protomask"],
  tools: ["ping", "setpriv", "unshare"],
  timeoutMs: 90_000,
}, async ({ topo }) => {
  const unit = serviceSettings(await Deno.readTextFile(UNIT));
  // Who: DynamicUser=yes → an unused uid; User=NAME → that account (must exist here).
  let uid: number;
  if (unit.get("DynamicUser")?.[0] === "yes") {
    uid = DYNAMIC_UID;
  } else {
    const user = one(unit, "User");
    const id = await run(["id", "-u", user]);
    assert.equal(id.code, 0, `the unit's User=${user} does not exist here`);
    uid = Number(id.stdout.trim());
  }
  assert.notEqual(uid, 0, "the unit must not run as root");
  const caps = (key: string) =>
    one(unit, key).split(/\s+/).map((c) => c.replace(/^CAP_/, "").toLowerCase());
  const ambient = caps("AmbientCapabilities");
  const bounding = caps("CapabilityBoundingSet");
  assert.deepEqual(ambient, ["net_admin"]);
  const noNewPrivs = unit.get("NoNewPrivileges")?.[0] === "yes";

  // The unit's directories, replaced by temporary ones owned as systemd would own them.
  const base = `${topo.dir}/root`;
  await Deno.mkdir(base);
  await Deno.chmod(topo.dir, 0o755);
  await Deno.chmod(base, 0o755);
  const dirs: Record<string, { path: string; owned: boolean }> = {
    "/etc/protomask": { path: `${base}/etc`, owned: false },
    "/var/lib/protomask": { path: `${base}/state`, owned: true },
    "/var/log/protomask": { path: `${base}/log`, owned: true },
    "/var/cache/protomask": { path: `${base}/cache`, owned: true },
  };
  for (const d of Object.values(dirs)) {
    await Deno.mkdir(d.path, { mode: 0o750 });
    await Deno.chmod(d.path, d.owned ? 0o750 : 0o755);
  }
  // Deno's npm cache for --cached-only (what the README's `deno task cache` step fills).
  const info = JSON.parse((await run([Deno.execPath(), "info", "--json"])).stdout);
  const cp = await run(["cp", "-r", `${info.denoDir}/npm`, `${base}/cache/npm`]);
  assert.equal(cp.code, 0, cp.stderr);
  for (const d of Object.values(dirs)) {
    if (d.owned) assert.equal((await run(["chown", "-R", `${uid}:${uid}`, d.path])).code, 0);
  }
  const subst = (s: string) => {
    let out = s.replaceAll("/opt/protomask", repoPath(".").replace(/\/$/, ""));
    for (const [from, to] of Object.entries(dirs)) out = out.replaceAll(from, to.path);
    return out.replace(/^\/usr\/bin\/deno$/, Deno.execPath());
  };
  const configPath = `${dirs["/etc/protomask"]!.path}/protomask.toml`;
  const statePath = `${dirs["/var/lib/protomask"]!.path}/leases.json`;
  const logPath = `${dirs["/var/log/protomask"]!.path}/mappings.log`;
  await Deno.writeTextFile(
    configPath,
    protomaskToml({ stateFile: statePath }) +
      `\n[Logging]\nMappingLog = ${JSON.stringify(logPath)}\n`,
  );
  await Deno.chmod(configPath, 0o644);

  const execStart = one(unit, "ExecStart");
  assert.doesNotMatch(execStart, /["']/, "the test splits ExecStart on spaces");
  const argv = execStart.split(/\s+/).map(subst);
  assert.ok(argv.some((a) => a === configPath), `ExecStart does not read ${configPath}`);
  const env = (unit.get("Environment") ?? []).flatMap((e) => e.split(/\s+/)).map(subst);
  const workDir = subst(one(unit, "WorkingDirectory"));
  // A standard system's /dev/net/tun is 0666 (udev); CAP_NET_ADMIN does not override file
  // modes. Where it is not (a container's 0600 node), the daemon gets a 0666 node of its own
  // in a private mount namespace: nothing outside the test changes.
  const tunMode = (await Deno.stat("/dev/net/tun")).mode! & 0o777;
  const devDir = `${topo.dir}/dev`;
  await Deno.mkdir(devDir);
  const ownTun = (tunMode & 0o006) !== 0o006
    ? [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount -t tmpfs -o mode=0755 none "$0" && mknod -m 0666 "$0/tun" c 10 200 && ' +
      'mount --bind "$0/tun" /dev/net/tun && exec "$@"',
      devDir,
    ]
    : [];
  if (ownTun.length > 0) {
    console.log(`/dev/net/tun is ${tunMode.toString(8)} here; the daemon gets a 0666 node`);
  }
  const proc = topo.spawn(topo.translatorNs, [
    ...ownTun,
    "setpriv",
    `--reuid=${uid}`,
    `--regid=${uid}`,
    "--clear-groups",
    `--inh-caps=-all,${ambient.map((c) => `+${c}`).join(",")}`,
    `--ambient-caps=-all,${ambient.map((c) => `+${c}`).join(",")}`,
    `--bounding-set=-all,${bounding.map((c) => `+${c}`).join(",")}`,
    ...(noNewPrivs ? ["--no-new-privs"] : []),
    "env",
    ...env,
    "sh",
    "-c",
    'cd "$0" && exec "$@"',
    workDir,
    ...argv,
  ], "protomask (unit)");
  try {
    const ready = await proc.waitForOutput(/ready on \\?"?([\w.%-]+)/, 30_000);
    assert.ok(ready, `not ready; stderr:\n${proc.stderr}`);
    const status = await Deno.readTextFile(`/proc/${proc.pid}/status`);
    assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s`, "m"));
    assert.match(status, /^CapEff:\s+0+1000$/m, "CAP_NET_ADMIN only");
    assert.match(status, /^CapBnd:\s+0+1000$/m);
    const link = await run(["ip", "-n", topo.translatorNs, "link", "show", ready[1]!]);
    assert.equal(link.code, 0, `no TUN ${ready[1]}`);
    const ping = await ping6(topo, topo.clients[0]!, SERVER6, { count: 2 });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    proc.kill("SIGHUP"); // what ExecReload sends
    assert.ok(await proc.waitForOutput(/configuration reloaded/, 10_000), proc.stderr);
    assert.match(proc.stderr, /mapping log .* reopened/);
    const stopped = await proc.stop("SIGTERM", 10_000);
    assert.equal(stopped.code, 0, proc.stderr);
    assert.doesNotMatch(proc.stderr, /Requires .* access|NotCapable|PermissionDenied|Download/);
    const saved = JSON.parse(await Deno.readTextFile(statePath));
    assert.equal(saved.leases.length, 1, JSON.stringify(saved));
    assert.equal((await Deno.stat(statePath)).uid, uid);
    const log = (await Deno.readTextFile(logPath)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(log.filter((l) => l.event === "created").length, 1, JSON.stringify(log));
    assert.equal((await Deno.stat(logPath)).uid, uid);
  } finally {
    if (proc.status === null) await proc.stop("SIGKILL", 2000);
  }
});
