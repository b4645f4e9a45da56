/**
 * A `StateFile` the daemon cannot write is found at start, not after the first lease: a
 * missing directory is created (mode 0750) and the file written before the TUN exists; one
 * that cannot be created or written stops the start with exit 1 and a message naming the path
 * and the errno, leaving nothing behind. A write that fails later is logged with a count,
 * counted with the other counters, and retried until it works.
 *
 * The daemon runs as root without CAP_DAC_OVERRIDE (setpriv), so a directory's mode binds it
 * as it binds an unprivileged daemon with CAP_NET_ADMIN.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  e2eTest,
  ping6,
  type Proc,
  protomaskToml,
  repoPath,
  run,
  SERVER6,
  sleep,
  type Topology,
} from "./_harness.ts";

/** Root without the capabilities that bypass file modes. */
const NO_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"];

/** Starts the daemon with a StateFile at `stateFile`, under `wrapper`. */
async function startDaemon(
  topo: Topology,
  stateFile: string,
  wrapper: readonly string[] = NO_DAC_OVERRIDE,
): Promise<Proc> {
  const configPath = `${topo.dir}/state.toml`;
  await Deno.writeTextFile(configPath, protomaskToml({ stateFile }));
  return topo.spawn(topo.translatorNs, [
    ...wrapper,
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    repoPath("main.ts"),
    configPath,
  ], "protomask");
}

/** Waits for a start that must fail; a daemon that gets ready instead is stopped. */
async function exitCode(proc: Proc): Promise<number> {
  if (await proc.waitForOutput(/ready on/, 20_000)) {
    await proc.stop("SIGTERM", 5000);
    assert.fail(`the daemon started; stderr:\n${proc.stderr}`);
  }
  const status = await proc.waitExit(5000);
  assert.ok(status, `the daemon neither started nor exited; stderr:\n${proc.stderr}`);
  return status.code;
}

async function tunDevices(ns: string): Promise<string> {
  const r = await run(["ip", "-n", ns, "-o", "link", "show", "type", "tun"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** How often `text` occurs in `s`. */
function occurrences(s: string, text: string): number {
  return s.split(text).length - 1;
}

/** The "counters" properties of the last counters line in JSON logs. */
function lastCounters(stderr: string): Record<string, number> {
  const lines = stderr.split("\n").filter((l) => l.includes('"event":"counters"'));
  assert.ok(lines.length > 0, `no counters line; stderr:\n${stderr}`);
  return JSON.parse(lines.at(-1)!).properties.counters;
}

const NAME = "a StateFile that cannot be written is found at start; later failures are retried";

e2eTest(NAME, {
  topology: { clients: 1, ipv4Side: false, tag: "sf" },
  translators: ["protomask"],
  tools: ["setpriv", "ping"],
  timeoutMs: 120_000,
}, async ({ topo }, t) => {
  const x = topo.translatorNs;

  await t.step(
    "a missing directory is made (mode 0750) and the file written at start",
    async () => {
      const dir = `${topo.dir}/new`;
      const proc = await startDaemon(topo, `${dir}/leases.json`);
      try {
        assert.ok(await proc.waitForOutput(/ready on/, 20_000), proc.stderr);
        const st = await Deno.stat(dir);
        assert.ok(st.isDirectory);
        assert.equal(st.mode! & 0o777, 0o750);
        const saved = JSON.parse(await Deno.readTextFile(`${dir}/leases.json`));
        assert.deepEqual(saved.leases, []);
        assert.doesNotMatch(proc.stderr, /cannot write/);
      } finally {
        assert.equal((await proc.stop("SIGTERM", 5000)).code, 0, proc.stderr);
      }
    },
  );

  await t.step("a directory that cannot be made: exit 1 with its path and errno", async () => {
    const parent = `${topo.dir}/locked`;
    await Deno.mkdir(parent);
    await Deno.chmod(parent, 0o555);
    const proc = await startDaemon(topo, `${parent}/state/leases.json`);
    assert.equal(await exitCode(proc), 1, proc.stderr);
    assert.match(
      proc.stderr,
      new RegExp(`^protomask: cannot start: .*'${parent}/state'.*EACCES`, "m"),
    );
    assert.equal(await tunDevices(x), "", "a TUN device was left behind");
  });

  await t.step(
    "a directory the daemon cannot write in: exit 1 with the path and errno",
    async () => {
      const dir = `${topo.dir}/readonly`;
      await Deno.mkdir(dir);
      await Deno.chmod(dir, 0o555);
      const path = `${dir}/leases.json`;
      const proc = await startDaemon(topo, path);
      assert.equal(await exitCode(proc), 1, proc.stderr);
      assert.match(proc.stderr, new RegExp(`^protomask: cannot start: .*'${path}'.*EACCES`, "m"));
      assert.equal(await tunDevices(x), "", "a TUN device was left behind");
    },
  );

  await t.step("a damaged file no copy can be kept of: exit 1 saying so, no crash", async () => {
    const dir = `${topo.dir}/damaged`;
    await Deno.mkdir(dir);
    const path = `${dir}/leases.json`;
    await Deno.writeTextFile(path, "{ not json");
    await Deno.chmod(dir, 0o555);
    const proc = await startDaemon(topo, path);
    assert.equal(await exitCode(proc), 1, proc.stderr);
    assert.match(
      proc.stderr,
      new RegExp(`^protomask: cannot start: lease file '${path}' is damaged .*EACCES`, "m"),
    );
    assert.doesNotMatch(proc.stderr, /Uncaught/);
    assert.equal(await Deno.readTextFile(path), "{ not json", "the damaged file was overwritten");
  });

  await t.step("a StateFile that is a directory: exit 1 naming the path once", async () => {
    const path = `${topo.dir}/isdir`;
    await Deno.mkdir(path);
    const proc = await startDaemon(topo, path, []);
    assert.equal(await exitCode(proc), 1, proc.stderr);
    const line = proc.stderr.split("\n").find((l) => l.startsWith("protomask: cannot start"));
    assert.ok(line, proc.stderr);
    assert.match(line, /EISDIR/);
    assert.equal(occurrences(line, path), 1, line);
  });

  await t.step("a write that fails later: an error line and a counter, retried", async () => {
    const dir = `${topo.dir}/later`;
    await Deno.mkdir(dir, { mode: 0o750 });
    const path = `${dir}/leases.json`;
    const proc = await startDaemon(topo, path);
    try {
      assert.ok(await proc.waitForOutput(/ready on/, 20_000), proc.stderr);
      await Deno.chmod(dir, 0o555);
      // A new lease makes a save due within a second.
      await ping6(topo, topo.clients[0]!, SERVER6, { count: 1 });
      const failed = await proc.waitForOutput(/cannot write lease file[^\n]*EACCES/, 10_000);
      assert.ok(failed, `no error line; stderr:\n${proc.stderr}`);
      proc.kill("SIGUSR2");
      await sleep(300);
      assert.ok((lastCounters(proc.stderr).lease_file_write_errors ?? 0) >= 1, proc.stderr);
      await Deno.chmod(dir, 0o750);
      const again = await proc.waitForOutput(/lease file [^\n]* written again/, 10_000);
      assert.ok(again, `not retried; stderr:\n${proc.stderr}`);
      const saved = JSON.parse(await Deno.readTextFile(path));
      assert.equal(saved.leases.length, 1, JSON.stringify(saved));
      assert.equal((await proc.stop("SIGTERM", 5000)).code, 0, proc.stderr);
      assert.ok((lastCounters(proc.stderr).lease_file_write_errors ?? 0) >= 1, proc.stderr);
    } finally {
      await Deno.chmod(dir, 0o750).catch(() => {});
      if (proc.status === null) await proc.stop("SIGKILL", 5000);
    }
  });
});
