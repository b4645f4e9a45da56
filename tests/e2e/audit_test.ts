/**
 * The lease audit log under load: a burst of 3,500 new IPv6 hosts, sent as fast as the
 * injector can write them, is logged lease by lease in the mapping log (`[Logging]
 * MappingLog`) and on stderr, with nothing lost; and a host refused 200 times (pool
 * exhausted) gets one or two lines that account for every refusal, not 200.
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
  injectDatagrams,
  type InjectOptions,
  ipIn,
  type Proc,
  protomaskToml,
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

/** Writes datagrams from 2001:db8:b::<first+1 …>; every one of them must be written. */
async function inject(topo: Topology, opts: InjectOptions): Promise<void> {
  const out = await injectDatagrams(topo, opts);
  assert.equal(out.errors, 0, out.stdout);
  assert.equal(out.written, opts.sources * opts.perSource, out.stdout);
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

/** The mapping log's lines, parsed. */
async function mappingLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

e2eTest("the lease audit log keeps up with bursts and rate-limits refusals", {
  topology: { clients: 0, ipv4Side: false, tag: "au" },
  translators: ["protomask"],
  timeoutMs: 120_000,
}, async ({ topo }, t) => {
  await ipIn(topo.translatorNs, `route add blackhole ${SERVER_V4}/32`);

  await t.step(
    "3,500 new hosts as fast as they can be sent: one 'created' line each, nothing lost",
    async () => {
      const logPath = `${topo.dir}/burst/mappings.log`; // its directory does not exist yet
      const daemon = await startProtomask(topo, {
        configText: protomaskToml({ pool: ["10.64.0.0/20"] }) +
          `\n[Logging]\nMappingLog = ${JSON.stringify(logPath)}\n`,
      });
      const started = performance.now();
      // 20,000 new hosts a second: a burst for the audit log, yet within what the TUN queue (500
      // packets) holds while a loaded machine schedules the Worker (at 1 M/s the kernel dropped
      // up to a quarter of them before the daemon saw them, with Offload = false).
      await inject(topo, { first: 0, sources: 3500, perSource: 1, pps: 20_000 });
      const sentMs = performance.now() - started;
      // Bounded wait until every line is on disk (flushed at least every second).
      let created = 0;
      for (let i = 0; i < 100 && created < 3500; i++) {
        await sleep(100);
        created = (await mappingLines(logPath)).filter((l) => l.event === "created").length;
      }
      const loggedMs = performance.now() - started;
      const { recs, final } = await stopAndRead(daemon.proc);
      const leases = final.properties.leases as number;
      const counters = final.properties.counters as Record<string, number>;
      const lines = await mappingLines(logPath);
      const createdLines = lines.filter((l) => l.event === "created");
      // What is asserted is "one line per lease, none lost"; this floor only checks that a
      // burst happened at all. On a machine loaded by other work the kernel drops part of it at
      // the TUN queue before the daemon reads it (2,782 of 3,500 arrived once with the whole
      // suite and three other suites running beside this test).
      assert.ok(
        leases >= 2000,
        `only ${leases} leases: the burst did not arrive ${JSON.stringify(counters)}`,
      );
      assert.ok(createdLines.length >= 2000, `${createdLines.length} created lines`);
      assert.equal(createdLines.length, leases, "one created line per lease");
      assert.equal(new Set(createdLines.map((l) => l.ipv6)).size, leases);
      assert.equal(new Set(createdLines.map((l) => l.ipv4)).size, leases);
      assert.equal(counters.lease_events_lost ?? 0, 0);
      assert.equal(withEvent(recs, "lease-events-lost").length, 0);
      assert.equal(withEvent(recs, "lease-created").length, leases, "stderr too");
      for (const l of createdLines) {
        assert.match(String(l.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.match(String(l.ipv6), /^2001:db8:b::/);
        assert.match(String(l.ipv4), /^10\.64\./);
      }
      // No lease file: the leases end with the process, and the log says so.
      assert.equal(lines.filter((l) => l.event === "dropped").length, leases);
      console.log(
        `burst: ${leases} leases from 3,500 sources sent in ${sentMs.toFixed(0)} ms; all ` +
          `'created' lines on disk after ${loggedMs.toFixed(0)} ms ` +
          `(${(leases / (loggedMs / 1000)).toFixed(0)} events/s end to end); Worker waits for ` +
          `ring room: ${counters.lease_event_waits ?? 0}, leases refused for it: ` +
          `${counters.lease_event_wait_refusals ?? 0}`,
      );
    },
  );

  await t.step(
    "a host refused 200 times gets at most two lines that count every refusal",
    async () => {
      const logPath = `${topo.dir}/refused.log`;
      const daemon = await startProtomask(topo, {
        configText: protomaskToml({ pool: ["10.64.0.1/32"] }) +
          `\n[Logging]\nMappingLog = ${JSON.stringify(logPath)}\n`,
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
      // The mapping log: the same lines, with the count and no IPv4 address.
      const refused = (await mappingLines(logPath)).filter((l) => l.event === "refused");
      assert.ok(refused.length >= 1 && refused.length <= 2, JSON.stringify(refused));
      for (const l of refused) {
        assert.equal(l.ipv6, "2001:db8:b::2");
        assert.equal(l.ipv4, undefined);
        assert.equal(l.reason, "pool exhausted");
      }
      assert.equal(refused.reduce((n, l) => n + (l.count as number), 0), counters.pool_exhausted);
      console.log(`refused lines:\n${refused.map((l) => JSON.stringify(l)).join("\n")}`);
    },
  );
});
