/**
 * The lease audit log under load: a burst of 3,500 new IPv6 hosts in about a third of a
 * second (three times the lease table's event ring) is logged lease by lease, or the daemon
 * says exactly how many events it lost; and a host refused 200 times (pool exhausted) gets
 * one or two lines that account for every refusal, not 200.
 *
 * The hosts are written into a TUN device of the test's own in the translator namespace
 * (tests/e2e/_inject.ts); the kernel forwards them to the daemon's TUN. Their IPv4
 * destination is blackholed, so nothing answers.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  e2eTest,
  ipIn,
  type Proc,
  protomaskToml,
  repoPath,
  SERVER6,
  SERVER_V4,
  sleep,
  startProtomask,
  type Topology,
} from "./_harness.ts";

/** One JSON log record. */
interface LogRecordJson {
  level: string;
  message: string;
  properties: Record<string, unknown>;
}

function records(stderr: string): LogRecordJson[] {
  return stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

function withEvent(recs: LogRecordJson[], event: string): LogRecordJson[] {
  return recs.filter((r) => r.properties.event === event);
}

/** Writes datagrams from 2001:db8:b::<first+1 …> into the translator's namespace. */
async function inject(
  topo: Topology,
  opts: { first: number; sources: number; perSource: number; pps: number },
): Promise<void> {
  const r = await topo.exec(topo.translatorNs, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-ffi",
    "--allow-read",
    repoPath("tests/e2e/_inject.ts"),
    "pminj0",
    SERVER6,
    String(opts.first),
    String(opts.sources),
    String(opts.perSource),
    String(opts.pps),
  ], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.errors, 0, r.stdout);
  assert.equal(out.written, opts.sources * opts.perSource, r.stdout);
}

/** Stops the daemon and returns its log records and its final counters line. */
async function stopAndRead(proc: Proc): Promise<{ recs: LogRecordJson[]; final: LogRecordJson }> {
  const stopped = await proc.stop("SIGTERM", 10_000);
  assert.equal(stopped.code, 0, proc.stderr.slice(-2000));
  const recs = records(proc.stderr);
  const final = withEvent(recs, "counters").at(-1);
  assert.ok(final, "no counters at shutdown");
  return { recs, final };
}

e2eTest("the lease audit log keeps up with bursts and rate-limits refusals", {
  topology: { clients: 0, ipv4Side: false, tag: "au" },
  translators: ["protomask"],
  timeoutMs: 120_000,
}, async ({ topo }, t) => {
  await ipIn(topo.translatorNs, `route add blackhole ${SERVER_V4}/32`);

  await t.step(
    "3,500 new hosts in a third of a second: every lease logged, or the loss named",
    async () => {
      const daemon = await startProtomask(topo, {
        configText: protomaskToml({ pool: ["10.64.0.0/20"] }),
      });
      await inject(topo, { first: 0, sources: 3500, perSource: 1, pps: 10_000 });
      await sleep(1000);
      const { recs, final } = await stopAndRead(daemon.proc);
      const leases = final.properties.leases as number;
      const created = withEvent(recs, "lease-created").length;
      const lostLines = withEvent(recs, "lease-events-lost");
      const lost = lostLines.reduce((n, r) => n + (r.properties.lost as number), 0);
      assert.ok(leases >= 3000, `only ${leases} leases: the burst did not arrive`);
      assert.equal(
        created + lost,
        leases,
        `${leases} leases, ${created} 'lease created' lines, ${lost} reported lost`,
      );
      const counters = final.properties.counters as Record<string, number>;
      assert.equal(counters.lease_events_lost ?? 0, lost);
      for (const l of lostLines) assert.equal(l.level, "WARNING");
    },
  );

  await t.step(
    "a host refused 200 times gets at most two lines that count every refusal",
    async () => {
      const daemon = await startProtomask(topo, {
        configText: protomaskToml({ pool: ["10.64.0.1/32"] }),
      });
      await inject(topo, { first: 0, sources: 1, perSource: 1, pps: 1000 }); // takes the address
      await inject(topo, { first: 1, sources: 1, perSource: 200, pps: 2000 });
      await sleep(500);
      const { recs, final } = await stopAndRead(daemon.proc);
      const refusedLines = withEvent(recs, "lease-refused");
      const counters = final.properties.counters as Record<string, number>;
      assert.ok(
        refusedLines.length <= 2,
        `${refusedLines.length} refusal lines:\n${refusedLines.map((r) => r.message).join("\n")}`,
      );
      for (const r of refusedLines) assert.equal(r.properties.v6, "2001:db8:b::2");
      const logged = refusedLines.reduce((n, r) => n + (r.properties.refusals as number), 0);
      assert.ok((counters.pool_exhausted ?? 0) >= 190, JSON.stringify(counters));
      assert.equal(logged, counters.pool_exhausted, JSON.stringify(refusedLines));
    },
  );
});
