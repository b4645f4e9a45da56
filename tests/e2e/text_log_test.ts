/**
 * Logs on a terminal: the daemon runs under `script` (a pseudo-terminal, so LogTape's text
 * formatter with colours is used, as for an operator at a console) and every line shows its
 * values — the counters on SIGUSR2 and at shutdown, and a rejected reload's problems on lines
 * of their own, not a literal `\n`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, ping6, type Proc, protomaskToml, repoPath, SERVER6, sleep } from "./_harness.ts";

/** Removes ANSI escape sequences and carriage returns (the terminal's line ends). */
function plain(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "").replace(/\r/g, "");
}

/** One word for `sh -c`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** The daemon's PID: the only child of `script`, which execs into it. */
async function childPid(script: Proc): Promise<number> {
  for (let i = 0; i < 40; i++) {
    const children = await Deno.readTextFile(`/proc/${script.pid}/task/${script.pid}/children`)
      .catch(() => "");
    const pids = children.trim().split(/\s+/).filter((p) => p !== "").map(Number);
    if (pids.length === 1) return pids[0]!;
    await sleep(50);
  }
  throw new Error(`no single child of script (pid ${script.pid})`);
}

/** Waits until the terminal output, made plain, matches `re`. */
async function waitPlain(proc: Proc, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  for (let i = 0; i < timeoutMs / 50; i++) {
    const m = plain(proc.stdout).match(re);
    if (m) return m;
    if (proc.status) break;
    await sleep(50);
  }
  throw new Error(`no ${re} in the terminal output:\n${plain(proc.stdout)}`);
}

e2eTest("on a terminal the counters and a rejected reload's problems are readable", {
  topology: { clients: 1, ipv4Side: false, tag: "tx" },
  translators: ["protomask"],
  tools: ["script", "ping"],
  timeoutMs: 60_000,
}, async ({ topo }) => {
  const configPath = `${topo.dir}/tty.toml`;
  await Deno.writeTextFile(configPath, protomaskToml({}));
  const daemonCmd = [Deno.execPath(), "run", "-A", "--quiet", repoPath("main.ts"), configPath];
  // `exec` twice: script's child becomes the daemon itself, so its PID is known.
  const proc = topo.spawn(topo.translatorNs, [
    "script",
    "-qfec",
    `exec env -u NO_COLOR ${daemonCmd.map(shellQuote).join(" ")}`,
    "/dev/null",
  ], "script");
  try {
    await waitPlain(proc, /ready on/, 20_000);
    const pid = await childPid(proc);
    await ping6(topo, topo.clients[0]!, SERVER6, { count: 1 });

    Deno.kill(pid, "SIGUSR2");
    const counters = await waitPlain(proc, /protomask·daemon: counters.*$/m, 5000);
    assert.match(counters[0], /counters=\{[^}]*received=\d+/, counters[0]);
    assert.match(counters[0], /leases=1/, counters[0]);

    await Deno.writeTextFile(
      configPath,
      protomaskToml({}).replace(/Pool = .*/, 'Pool = ["192.0.2.300/28"]').replace(
        /Address4 = .*/,
        'Address4 = "192.0.2.999"',
      ),
    );
    Deno.kill(pid, "SIGHUP");
    const rejected = await waitPlain(proc, /reload rejected[^\n]*\n(.*\n)+?.*Address4/, 5000);
    assert.doesNotMatch(rejected[0], /\\n/, "a literal \\n in the terminal output");
    assert.match(rejected[0], /\n {2,}Interface\.Pool\[0\] = "192\.0\.2\.300\/28"/);

    Deno.kill(pid, "SIGTERM");
    const stopped = await waitPlain(proc, /^.*stopped; counters .*$/m, 5000);
    assert.match(stopped[0], /counters=\{[^}]*received=\d+/, stopped[0]);
    const status = await proc.waitExit(5000);
    assert.equal(status?.code, 0, plain(proc.stdout));
  } finally {
    if (proc.status === null) await proc.stop("SIGKILL", 5000);
  }
});
