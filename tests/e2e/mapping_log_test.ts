/**
 * The mapping log (`[Logging] MappingLog`) on real packets: logrotate's rename + SIGHUP moves
 * later lines to a new file and leaves every earlier one in the renamed file; leases idle for
 * `ReservationDuration` get `expired` lines; a restart with a lease file writes `restored`
 * lines; and the README's `jq` one-liner ("who held this address at that time?") answers
 * correctly on the log written.
 *
 * @module
 */

import assert from "node:assert/strict";
import { holderAt, type ParsedMappingLine } from "../../lib/daemon/mapping_log.ts";
import {
  e2eTest,
  injectDatagrams,
  ipIn,
  protomaskToml,
  repoPath,
  run,
  SERVER_V4,
  sleep,
  startProtomask,
  type Topology,
} from "./_harness.ts";

/** The README's one-liner, without the file: `jq -rs --arg ip A --arg t T '<this>' FILES`. */
const JQ_PROGRAM = "[.[] | select(.ipv4 == $ip and .time <= $t)] | last | " +
  'if . != null and (.event == "created" or .event == "restored") then .ipv6 else "nobody" end';

async function lines(path: string): Promise<ParsedMappingLine[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/** Waits (bounded) until `path` holds `n` lines of `event`. */
async function waitForLines(path: string, event: string, n: number): Promise<ParsedMappingLine[]> {
  let got: ParsedMappingLine[] = [];
  for (let i = 0; i < 100; i++) {
    got = await lines(path);
    if (got.filter((l) => l.event === event).length >= n) return got;
    await sleep(100);
  }
  assert.fail(`${path}: ${got.filter((l) => l.event === event).length} of ${n} '${event}' lines`);
}

/** Writes one datagram from each of 2001:db8:b::<first+1 … first+sources>. */
async function inject(topo: Topology, first: number, sources: number): Promise<void> {
  await injectDatagrams(topo, { first, sources, perSource: 1, pps: 2000 });
}

function config(logPath: string, extra: { reservationSecs?: number; stateFile?: string } = {}) {
  return protomaskToml({ pool: ["10.64.0.0/24"], ...extra }) +
    `\n[Logging]\nMappingLog = ${JSON.stringify(logPath)}\n`;
}

/** Runs the README's one-liner with real jq over `files`. */
async function jqHolder(files: string[], ip: string, time: string): Promise<string> {
  const r = await run(["jq", "-rs", "--arg", "ip", ip, "--arg", "t", time, JQ_PROGRAM, ...files]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

e2eTest("the mapping log: logrotate reopen, expiry, restore, and the jq one-liner", {
  topology: { clients: 0, ipv4Side: false, tag: "ml" },
  translators: ["protomask"],
  tools: ["jq"],
  timeoutMs: 120_000,
}, async ({ topo }, t) => {
  await ipIn(topo.translatorNs, `route add blackhole ${SERVER_V4}/32`);

  await t.step("README shows the one-liner this test runs", async () => {
    const readme = await Deno.readTextFile(repoPath("README.md"));
    assert.ok(readme.includes(JQ_PROGRAM), "README's jq one-liner differs from the tested one");
  });

  await t.step(
    "rename + SIGHUP: earlier lines in the old file, later ones in a new file",
    async () => {
      const path = `${topo.dir}/rot/mappings.log`;
      const daemon = await startProtomask(topo, { configText: config(path) });
      await inject(topo, 0, 20);
      await waitForLines(path, "created", 20);
      await Deno.rename(path, `${path}.1`); // what logrotate does
      await inject(topo, 20, 5); // written to the renamed file: the daemon still holds it open
      daemon.proc.kill("SIGHUP");
      assert.ok(
        await daemon.proc.waitForOutput(/mapping log .* reopened/, 5000),
        daemon.proc.stderr,
      );
      assert.ok(await daemon.proc.waitForOutput(/configuration reloaded/, 5000));
      await inject(topo, 100, 30);
      await waitForLines(path, "created", 30);
      const stopped = await daemon.proc.stop("SIGTERM", 10_000);
      assert.equal(stopped.code, 0, daemon.proc.stderr.slice(-2000));
      const old = await lines(`${path}.1`);
      const fresh = await lines(path);
      const hosts = (ls: ParsedMappingLine[]) =>
        ls.filter((l) => l.event === "created").map((l) =>
          Number.parseInt(l.ipv6!.split("::")[1]!, 16)
        );
      assert.deepEqual(
        hosts(old).sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      assert.equal(old.length, 25, "the renamed file got every line up to the reopen, no more");
      assert.deepEqual(
        hosts(fresh).sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i + 101),
      );
      // No lease file: every lease is dropped at stop, in the new file.
      assert.equal(fresh.filter((l) => l.event === "dropped" && l.reason === "stopped").length, 55);
      const stat = await Deno.stat(path);
      assert.equal(stat.mode! & 0o777, 0o640);
    },
  );

  await t.step(
    "idle leases expire with a line; a restart restores with a line; jq answers",
    async () => {
      const path = `${topo.dir}/exp/mappings.log`;
      const stateFile = `${topo.dir}/exp-state/leases.json`;
      const first = await startProtomask(topo, {
        configText: config(path, { reservationSecs: 2 }),
      });
      await inject(topo, 0, 3);
      await waitForLines(path, "expired", 3); // bounded: 10 s for a 2 s reservation
      assert.equal((await first.proc.stop("SIGTERM", 10_000)).code, 0);
      // A second daemon with a lease file: a lease, a restart, the lease restored.
      const second = await startProtomask(topo, {
        configText: config(path, { reservationSecs: 3600, stateFile }),
      });
      await inject(topo, 50, 1);
      await waitForLines(path, "created", 4);
      assert.equal((await second.proc.stop("SIGTERM", 10_000)).code, 0);
      const third = await startProtomask(topo, {
        configText: config(path, { reservationSecs: 3600, stateFile }),
      });
      assert.equal((await third.proc.stop("SIGTERM", 10_000)).code, 0);

      const log = await lines(path);
      const of = (ipv6: string) => log.filter((l) => l.ipv6 === ipv6).map((l) => l.event);
      for (const h of ["2001:db8:b::1", "2001:db8:b::2", "2001:db8:b::3"]) {
        assert.deepEqual(of(h), ["created", "expired"], h);
        const created = log.find((l) => l.ipv6 === h && l.event === "created")!;
        const expired = log.find((l) => l.ipv6 === h && l.event === "expired")!;
        const idleMs = Date.parse(expired.time) - Date.parse(created.time);
        assert.ok(idleMs >= 2000, `${h} expired after ${idleMs} ms of a 2 s reservation`);
      }
      assert.deepEqual(of("2001:db8:b::33"), ["created", "restored"]);
      const restored = log.find((l) => l.event === "restored")!;

      // Who held the first host's address while it was leased, after it expired, and now?
      const c1 = log.find((l) => l.ipv6 === "2001:db8:b::1" && l.event === "created")!;
      const e1 = log.find((l) => l.ipv6 === "2001:db8:b::1" && l.event === "expired")!;
      const reused = log.find((l) => l.ipv6 === "2001:db8:b::33")!;
      const cases: [string, string, string][] = [
        [c1.ipv4!, c1.time, "2001:db8:b::1"],
        [c1.ipv4!, new Date(Date.parse(c1.time) - 1000).toISOString(), "nobody"],
        [c1.ipv4!, e1.time, "nobody"],
        [reused.ipv4!, restored.time, "2001:db8:b::33"],
        ["10.64.0.200", restored.time, "nobody"],
      ];
      for (const [ip, time, want] of cases) {
        assert.equal(await jqHolder([path], ip, time), want, `jq: ${ip} at ${time}`);
        assert.equal(holderAt(log, ip, time) ?? "nobody", want, `holderAt: ${ip} at ${time}`);
      }
      console.log(
        `mapping log excerpt:\n${(await Deno.readTextFile(path)).trim()}`,
      );
    },
  );
});
