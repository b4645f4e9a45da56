/**
 * The metrics endpoint on real traffic: the daemon listens on the translator namespace's
 * loopback (`[Metrics] Listen`), a client pings the IPv4 server and asks it over UDP (DNS),
 * and a scrape — parsed by a small exposition parser of this file — shows the counters
 * moved by at least the traffic sent; `/healthz` answers 200, other paths 404. A second run
 * uses the README's narrow permissions plus `--allow-net=<Listen>`, and without that flag
 * the start fails with one clear line.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  dig,
  e2eTest,
  ipIn,
  ping6,
  PORTS,
  protomaskToml,
  repoPath,
  SERVER6,
  type Topology,
} from "./_harness.ts";

const LISTEN = "127.0.0.1:9060";

/** One sample line: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (HELP/TYPE comments, sample lines). */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample of `name` with `labels`. */
function get(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}`);
  return found[0]!.value;
}

/** GET a path of the endpoint from inside the translator namespace. */
async function fetchIn(
  topo: Topology,
  path: string,
): Promise<{ status: number; body: string }> {
  const r = await topo.exec(topo.translatorNs, [
    "curl",
    "-sS",
    "--max-time",
    "5",
    "-w",
    "\n%{http_code}",
    `http://${LISTEN}${path}`,
  ], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  const cut = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

e2eTest("metrics: /metrics counts real ping and UDP traffic, /healthz answers", {
  topology: { clients: 1, tag: "mx" },
  translators: ["protomask"],
  tools: ["ping", "curl", "dig"],
  timeoutMs: 90_000,
}, async ({ topo, start }, t) => {
  await ipIn(topo.translatorNs, "link set lo up");
  const c = topo.clients[0]!;
  const daemon = await start({ metricsListen: LISTEN });
  assert.match(daemon.proc.stderr, /"metrics":"127\.0\.0\.1:9060"/, "the ready line names it");

  await t.step("a scrape before any traffic: every family, zero packets", async () => {
    const r = await fetchIn(topo, "/metrics");
    assert.equal(r.status, 200);
    const s = parseMetrics(r.body);
    assert.equal(get(s, "protomask_packets", { protocol: "icmpv6", status: "translated" }), 0);
    assert.equal(get(s, "protomask_build_info").valueOf(), 1);
    assert.equal(get(s, "protomask_pool_addresses"), 14);
  });

  const PINGS = 4;
  const DIGS = 2;
  const ping = await ping6(topo, c, SERVER6, { count: PINGS });
  assert.match(ping.stdout, new RegExp(`${PINGS} received`), ping.stdout + ping.stderr);
  for (let i = 0; i < DIGS; i++) {
    const d = await dig(topo, c, PORTS.dns);
    assert.equal(d.code, 0, d.stdout + d.stderr);
  }

  await t.step("the counters moved by at least the traffic sent", async () => {
    const r = await fetchIn(topo, "/metrics");
    assert.equal(r.status, 200);
    const s = parseMetrics(r.body);
    const packets = (protocol: string, status: string) =>
      get(s, "protomask_packets", { protocol, status });
    assert.ok(packets("icmpv6", "translated") >= PINGS, "Echo Requests 6→4");
    assert.ok(packets("icmp", "translated") >= PINGS, "Echo Replies 4→6");
    assert.ok(packets("udp", "translated") >= 2 * DIGS, "DNS queries and answers");
    assert.ok(packets("ipv6", "translated") >= PINGS + DIGS);
    assert.ok(packets("ipv4", "translated") >= PINGS + DIGS);
    const icmp = (protocol: string, type: string) =>
      get(s, "protomask_icmp_packets_recv", { protocol, icmp_type: type, icmp_code: "0" });
    assert.ok(icmp("icmpv6", "128") >= PINGS, "Echo Requests received");
    assert.ok(icmp("icmp", "0") >= PINGS, "Echo Replies received");
    assert.ok(
      get(s, "protomask_translated_packets_total", { direction: "6to4" }) >= PINGS + DIGS,
    );
    assert.ok(
      get(s, "protomask_translated_packets_total", { direction: "4to6" }) >= PINGS + DIGS,
    );
    assert.equal(get(s, "protomask_leases", { kind: "dynamic" }), 1);
    assert.equal(get(s, "protomask_lease_events_total", { event: "created" }), 1);
    assert.ok(get(s, "protomask_tun_written_packets_total") >= 2 * (PINGS + DIGS));
    assert.equal(get(s, "protomask_drops_total", { reason: "pool_exhausted" }), 0);
    assert.ok(get(s, "protomask_process_resident_memory_bytes") > 10e6);
    // The non-zero samples, for the README's excerpt.
    const nonZero = r.body.split("\n").filter((l) => /^protomask_\S+ [1-9]/.test(l));
    console.log(nonZero.map((l) => `    ${l}`).join("\n"));
    console.log(
      `  scrape: ${s.length} samples, rss ${
        Math.round(get(s, "protomask_process_resident_memory_bytes") / 1e6)
      } MB`,
    );
  });

  await t.step("/healthz is 200 while the Workers run; other paths 404", async () => {
    const h = await fetchIn(topo, "/healthz");
    assert.equal(h.status, 200, h.body);
    assert.match(h.body, /^ok: \d+ packet workers running/);
    assert.equal((await fetchIn(topo, "/")).status, 404);
  });

  const stopped = await daemon.proc.stop("SIGTERM", 5000);
  assert.equal(stopped.code, 0, daemon.proc.stderr);
});

e2eTest(
  "metrics: the narrow permissions plus --allow-net=<Listen> serve /metrics; without it the start fails clearly",
  {
    topology: { clients: 1, tag: "mp" },
    translators: ["protomask"],
    tools: ["ping", "curl"],
    timeoutMs: 60_000,
  },
  async ({ topo }) => {
    await ipIn(topo.translatorNs, "link set lo up");
    const configDir = `${topo.dir}/etc`;
    await Deno.mkdir(configDir);
    const configPath = `${configDir}/protomask.toml`;
    await Deno.writeTextFile(configPath, protomaskToml({ metricsListen: LISTEN }));
    const cmd = (net: string[]) => [
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-ffi",
      `--allow-read=${repoPath(".")},${configDir}`,
      ...net,
      repoPath("main.ts"),
      configPath,
    ];

    const denied = topo.spawn(topo.translatorNs, cmd([]), "protomask-no-net");
    const status = await denied.waitExit(20_000);
    assert.equal(status?.code, 1, denied.stderr);
    assert.match(
      denied.stderr,
      /protomask: cannot start: cannot listen for metrics on 127\.0\.0\.1:9060 \(Metrics\.Listen\): .*net access/,
    );

    const proc = topo.spawn(topo.translatorNs, cmd([`--allow-net=${LISTEN}`]), "protomask");
    try {
      assert.ok(await proc.waitForOutput(/ready on/, 20_000), proc.stderr);
      const ping = await ping6(topo, topo.clients[0]!, SERVER6, { count: 2 });
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      const r = await fetchIn(topo, "/metrics");
      assert.equal(r.status, 200);
      const s = parseMetrics(r.body);
      assert.ok(get(s, "protomask_packets", { protocol: "icmpv6", status: "translated" }) >= 2);
      assert.ok(
        get(s, "protomask_process_resident_memory_bytes") > 0,
        "memory without --allow-sys",
      );
      const stopped = await proc.stop("SIGTERM", 5000);
      assert.equal(stopped.code, 0, proc.stderr);
      assert.doesNotMatch(proc.stderr, /Requires .* access|NotCapable|PermissionDenied/);
    } finally {
      if (proc.status === null) await proc.stop("SIGKILL", 2000);
    }
  },
);
