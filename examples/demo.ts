/**
 * `deno task demo` (as root): protomask between an IPv6-only client and an IPv4-only server,
 * in network namespaces built for the purpose and removed afterwards (also on Ctrl-C).
 *
 * ```
 * client (IPv6 only) ── translator (protomask, examples/demo.toml) ── router ── server (IPv4 only)
 * ```
 *
 * It starts the daemon with examples/demo.toml (its StateFile pointed into a temporary
 * directory), runs ping, curl and traceroute from the client to the server's address inside
 * the NAT64 prefix, shows their real output, stops the daemon with SIGTERM and prints a
 * summary: what worked, the lease the client got (read back from the state file) and the
 * daemon's counters. Exit status 0 when every check worked, 1 otherwise or when not root,
 * 130/143 after SIGINT/SIGTERM.
 *
 * @module
 */

import {
  CLOSED_UDP_PORT,
  type Daemon,
  embed,
  PORTS,
  PREFIX,
  repoPath,
  ROUTER_V4,
  SERVER_V4,
  startProtomask,
  Topology,
} from "./netns.ts";

const SERVER6 = embed(SERVER_V4);
const DOWNLOAD_BYTES = 10 * 1024 * 1024;
/** `[Metrics] Listen` of examples/demo.toml, on the translator namespace's loopback. */
const METRICS_LISTEN = "127.0.0.1:9060";
/** The series the demo prints from its scrape (non-zero samples only). */
const METRICS_SHOWN =
  /^protomask_(packets|translated_packets_total|icmp_packets_recv|drops_total|leases|pool_addresses|lease_events_total|icmp_errors_sent_total)\{/;
const color = Deno.stdout.isTerminal() && !Deno.noColor;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);

function isRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

if (Deno.build.os !== "linux" || !isRoot()) {
  console.error(
    "deno task demo builds network namespaces and a TUN device, which needs root on Linux:\n" +
      "  sudo deno task demo   (or: sudo $(command -v deno) task demo)",
  );
  Deno.exit(1);
}

/** One line of the summary. */
interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

let topo: Topology | null = null;
let interrupted: Deno.Signal | null = null;
let tornDown: Promise<string[]> | null = null;

function teardown(): Promise<string[]> {
  tornDown ??= topo?.teardown() ?? Promise.resolve([]);
  return tornDown;
}

function exitCodeFor(signal: Deno.Signal): number {
  return signal === "SIGINT" ? 130 : 143;
}

function onSignal(signal: Deno.Signal): () => void {
  return () => {
    if (interrupted) return;
    interrupted = signal;
    console.log(`\n${signal}: stopping the demo and removing its namespaces`);
    // Without a topology yet, the main flow notices the flag once Topology.create() returns.
    if (topo) teardown().finally(() => Deno.exit(exitCodeFor(signal)));
  };
}
const signalHandlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
for (const [s, fn] of signalHandlers) Deno.addSignalListener(s, fn);

function checkInterrupted(): void {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

/** Runs a command in the client namespace and shows it with its output. */
async function show(t: Topology, ns: string, cmd: string[], timeoutMs: number) {
  console.log(`\n${bold(`client$ ${cmd.join(" ")}`)}`);
  const r = await t.exec(ns, cmd, { timeoutMs });
  const text = (r.stdout + r.stderr).trimEnd();
  if (text) console.log(text);
  if (r.code !== 0) console.log(dim(`(exit status ${r.code}${r.timedOut ? ", timed out" : ""})`));
  checkInterrupted();
  return r;
}

/** The JSON log lines of the daemon (it logs JSON lines when stderr is not a terminal). */
function logRecords(stderr: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line));
    } catch { /* not JSON */ }
  }
  return out;
}

function eventOf(r: Record<string, unknown>): unknown {
  return (r.properties as Record<string, unknown> | undefined)?.event;
}

async function demo(t: Topology, checks: Check[]): Promise<void> {
  const client = t.clients[0]!;
  console.log(bold("protomask demo: an IPv6-only client reaches an IPv4-only server"));
  console.log(
    `namespaces: ${t.id}-* (client ${client.ns}, translator ${t.translatorNs}, ` +
      `router ${t.routerNs}, server ${t.serverNs})`,
  );
  console.log(dim(
    `  client ${client.addr}  →  translator (NAT64 prefix ${PREFIX})  →  ` +
      `router ${ROUTER_V4}  →  server ${SERVER_V4} (HTTP :${PORTS.http})`,
  ));

  await t.startServers();
  checkInterrupted();
  const stateFile = `${t.dir}/leases.json`;
  const mappingLog = `${t.dir}/mappings.log`;
  const configText = (await Deno.readTextFile(repoPath("examples/demo.toml")))
    .replace(/^StateFile = .*$/m, `StateFile = ${JSON.stringify(stateFile)}`)
    .replace(/^MappingLog = .*$/m, `MappingLog = ${JSON.stringify(mappingLog)}`);
  console.log(
    `\n${bold("translator$ deno run -A main.ts examples/demo.toml")} ` +
      dim(`(StateFile = ${stateFile}, MappingLog = ${mappingLog})`),
  );
  const daemon: Daemon = await startProtomask(t, { configText, configName: "demo.toml" });
  checkInterrupted();
  const ready = logRecords(daemon.proc.stderr).find((r) => eventOf(r) === "ready");
  console.log(String(ready?.message ?? daemon.proc.stderr.trim()));

  const ping = await show(t, client.ns, [
    "ping",
    "-6",
    "-n",
    "-c",
    "3",
    "-i",
    "0.3",
    "-W",
    "2",
    SERVER6,
  ], 15_000);
  const replies = Number(ping.stdout.match(/(\d+) received/)?.[1] ?? 0);
  checks.push({
    name: "ping6",
    ok: replies === 3,
    detail: `${replies}/3 echo replies from ${SERVER6} (${SERVER_V4})`,
  });

  const url = `http://[${SERVER6}]:${PORTS.http}`;
  const page = await show(
    t,
    client.ns,
    ["curl", "-g", "-sS", "--max-time", "10", `${url}/`],
    15_000,
  );
  const seenAs = page.stdout.match(/you are ([\d.]+)/)?.[1] ?? null;
  checks.push({
    name: "curl",
    ok: page.code === 0 && seenAs !== null,
    detail: seenAs ? `the server saw the client as ${seenAs}` : "no page",
  });

  const dl = await show(t, client.ns, [
    "curl",
    "-g",
    "-sS",
    "--max-time",
    "60",
    "-o",
    "/dev/null",
    "-w",
    "%{size_download} bytes in %{time_total} s\\n",
    `${url}/bytes/${DOWNLOAD_BYTES}`,
  ], 70_000);
  const m = dl.stdout.match(/(\d+) bytes in ([\d.]+) s/);
  const mbps = m ? (Number(m[1]) * 8 / 1e6 / Number(m[2])).toFixed(0) : "?";
  checks.push({
    name: "download",
    ok: dl.code === 0 && Number(m?.[1]) === DOWNLOAD_BYTES,
    detail: m ? `${m[1]} bytes in ${m[2]} s (${mbps} Mbit/s) over TCP` : "failed",
  });

  const tr = await show(t, client.ns, [
    "traceroute6",
    "-n",
    "-q",
    "1",
    "-m",
    "8",
    "-w",
    "2",
    SERVER6,
  ], 40_000);
  const hops = [...tr.stdout.matchAll(/^\s*\d+\s+(\S+)/gm)].map((h) => h[1]!);
  checks.push({
    name: "traceroute",
    ok: tr.code === 0 && hops.at(-1) === SERVER6 && hops.includes(embed(ROUTER_V4)),
    detail: `${hops.length} hops: ${hops.join(" → ")}`,
  });

  const closed = await show(t, client.ns, [
    "dig",
    `@${SERVER6}`,
    "-p",
    String(CLOSED_UDP_PORT),
    "+tries=1",
    "+time=2",
    "demo.example",
  ], 10_000).catch(() => null);
  if (closed && !/No such file|not found/.test(closed.stderr)) {
    const refused = /connection refused/.test(closed.stdout + closed.stderr);
    checks.push({
      name: "closed port",
      ok: refused,
      detail: refused ? "UDP to a closed IPv4 port: ICMPv6 port unreachable" : "no ICMP error",
    });
  }

  const scrape = await t.exec(t.translatorNs, [
    "curl",
    "-sS",
    "--max-time",
    "5",
    `http://${METRICS_LISTEN}/metrics`,
  ]);
  console.log(
    `\n${bold(`translator$ curl -s http://${METRICS_LISTEN}/metrics`)} ${dim("(excerpt)")}`,
  );
  const series = scrape.stdout.split("\n").filter((l) => METRICS_SHOWN.test(l) && !/ 0$/.test(l));
  for (const line of series) console.log(line);
  const translated = Number(
    scrape.stdout.match(/^protomask_translated_packets_total\{direction="6to4"\} (\d+)$/m)?.[1] ??
      0,
  );
  checks.push({
    name: "metrics",
    ok: scrape.code === 0 && translated > 0,
    detail: scrape.code === 0
      ? `/metrics: ${translated} packets translated 6→4, ${series.length} non-zero series shown`
      : `curl failed: ${scrape.stderr.trim()}`,
  });

  console.log(`\n${bold("translator$ kill -TERM")} ${daemon.proc.pid}`);
  const stopped = await daemon.proc.stop("SIGTERM", 5000);
  const records = logRecords(daemon.proc.stderr);
  for (const r of records.slice(-3)) console.log(String(r.message ?? ""));
  const counters = records.findLast((r) => eventOf(r) === "counters");
  const counterText = counters
    ? JSON.stringify((counters.properties as Record<string, unknown>).counters)
    : "(no counters line in the daemon's log)";

  let leases: { v4: string; v6: string }[] = [];
  try {
    leases = JSON.parse(await Deno.readTextFile(stateFile)).leases ?? [];
  } catch { /* no state file */ }
  let audit: Record<string, unknown>[] = [];
  try {
    audit = (await Deno.readTextFile(mappingLog)).split("\n").filter((l) => l !== "")
      .map((l) => JSON.parse(l));
  } catch { /* no mapping log */ }
  console.log(`\n${bold(`translator$ cat ${mappingLog}`)}`);
  for (const r of audit) console.log(JSON.stringify(r));
  const created = audit.find((r) => r.event === "created" && r.ipv6 === client.addr);
  checks.push({
    name: "audit log",
    ok: created !== undefined && created.ipv4 === seenAs,
    detail: created
      ? `${audit.length} line(s); created ${created.ipv6} → ${created.ipv4} at ${created.time}`
      : "no 'created' line for the client",
  });
  const mine = leases.find((l) => l.v6 === client.addr);
  checks.push({
    name: "lease",
    ok: mine !== undefined && mine.v4 === seenAs,
    detail: mine
      ? `${mine.v6} → ${mine.v4} (${leases.length} in the state file)`
      : "not in the state file",
  });
  checks.push({
    name: "daemon",
    ok: stopped.code === 0 && !stopped.forced,
    detail: `SIGTERM: exit ${stopped.code} in ${
      stopped.elapsedMs.toFixed(0)
    } ms; counters ${counterText}`,
  });
}

const checks: Check[] = [];
let failure: unknown = null;
try {
  topo = await Topology.create({ clients: 1, tag: "demo" });
  checkInterrupted();
  await demo(topo, checks);
} catch (e) {
  failure = e;
} finally {
  for (const p of await teardown()) console.error(`teardown: ${p}`);
}
if (interrupted) Deno.exit(exitCodeFor(interrupted));
for (const [s, fn] of signalHandlers) Deno.removeSignalListener(s, fn);

console.log(`\n${bold("summary")}:`);
for (const c of checks) console.log(`  ${c.name.padEnd(12)} ${c.ok ? "ok  " : "FAIL"} ${c.detail}`);
if (failure) console.log(`  error        ${failure instanceof Error ? failure.message : failure}`);
const passed = checks.filter((c) => c.ok).length;
console.log(`result: ${passed} of ${checks.length} checks passed; namespaces removed`);
Deno.exit(failure === null && passed === checks.length ? 0 : 1);
