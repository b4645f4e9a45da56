/**
 * End-to-end throughput of the daemon against TAYGA and the kernel, in network namespaces.
 * Run as root (not picked up by `deno task bench` or `deno test`):
 *
 * ```
 * deno run -A tests/bench/daemon_throughput.ts [rounds=2] [secs=4]
 * ```
 *
 * Three topologies of the same shape as tests/e2e (one IPv6-only client → translator namespace
 * → IPv4 router → IPv4-only server, examples/netns.ts): one with protomask, one with TAYGA,
 * and one without a translator where the client also has an IPv4 address and the translator
 * namespace only forwards IPv4 (the kernel's ceiling for the same hops). In each round, and
 * alternately (protomask, tayga, kernel) so the machine's noise hits all of them:
 *
 * - TCP: `iperf3 -c <server> -t secs`, Mbit/s received by the server;
 * - UDP: `iperf3 -u -b 0 -l 64 -t secs`, packets/s received by the server and sent by the
 *   client;
 * - the translator's CPU time (utime + stime of /proc/PID/stat, all threads) during each
 *   test: CPU % of one core, and CPU µs per UDP packet received by the server.
 *
 * Prints one row per measurement, the medians per translator, the ratios protomask/tayga and
 * against the kernel (medians over rounds; compare these, not the absolute numbers, on a
 * shared machine), then one JSON line with the medians. A fresh `iperf3 -s -1` serves each
 * test. Every command is bounded in time; every process is stopped by PID and the namespaces
 * are deleted in `finally` (also after Ctrl-C, which ends the run after the current test).
 *
 * @module
 */

import {
  type Daemon,
  ipIn,
  ping6,
  type Proc,
  SERVER6,
  SERVER_V4,
  skipReason,
  startTranslator,
  Topology,
  TRANSLATOR_V4,
} from "../e2e/_harness.ts";

/** Which path the traffic takes. */
type Kind = "protomask" | "tayga" | "kernel";
const KINDS: readonly Kind[] = ["protomask", "tayga", "kernel"];

/** IPv4 link between the client and the translator namespace, for the kernel baseline only. */
const KERNEL_CLIENT_V4 = "10.99.1.2";
const KERNEL_GATEWAY_V4 = "10.99.1.1";
const KERNEL_CLIENT_NET = "10.99.1.0/24";

const UDP_PAYLOAD_BYTES = 64;
const IPERF_PORT = 5201;
/** The whole run must stay under this; later tests are skipped past it. */
const RUN_BUDGET_MS = 85_000;
const CLK_TCK = 100; // USER_HZ on Linux (sysconf(_SC_CLK_TCK)), fixed by the kernel ABI.

/** One test's outcome. */
interface Sample {
  round: number;
  kind: Kind;
  tcpMbps: number;
  tcpCpuPct: number | null;
  udpRxPps: number;
  udpTxPps: number;
  udpLossPct: number;
  udpCpuPct: number | null;
  cpuUsPerPkt: number | null;
}

/** A path under test: where the client runs and which process (if any) translates. */
interface Path {
  kind: Kind;
  topo: Topology;
  serverAddr: string;
  daemon: Daemon | null;
}

/** utime + stime of a process and all its threads, in seconds; null when unreadable. */
async function cpuSecs(pid: number): Promise<number | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the ")" that closes comm start at field 3 (state); utime is 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Starts `iperf3 -s -1` in the server namespace and waits until it listens. */
async function startIperfServer(topo: Topology): Promise<Proc> {
  const p = topo.spawn(topo.serverNs!, [
    "iperf3",
    "-s",
    "-1",
    "--forceflush",
    "-B",
    SERVER_V4,
    "-p",
    String(IPERF_PORT),
  ], "iperf3-server");
  if (!(await p.waitForOutput(/Server listening/, 5000))) {
    await p.stop("SIGKILL", 2000);
    throw new Error(`iperf3 -s did not start: ${p.stderr.trim()}`);
  }
  return p;
}

/** What one iperf3 client run measured, with the translator's CPU seconds meanwhile. */
interface IperfResult {
  // deno-lint-ignore no-explicit-any
  end: any;
  cpuSecs: number | null;
  wallSecs: number;
}

/** Runs one iperf3 client test (with a fresh server) and returns its JSON `end` section. */
async function iperf(path: Path, secs: number, extra: string[]): Promise<IperfResult> {
  const { topo } = path;
  const server = await startIperfServer(topo);
  try {
    const pid = path.daemon?.proc.pid;
    const cpu0 = pid ? await cpuSecs(pid) : null;
    const t0 = performance.now();
    const r = await topo.exec(topo.clients[0]!.ns, [
      "iperf3",
      "-c",
      path.serverAddr,
      "-p",
      String(IPERF_PORT),
      "-t",
      String(secs),
      "--connect-timeout",
      "3000",
      "-J",
      ...extra,
    ], { timeoutMs: (secs + 10) * 1000 });
    const wallSecs = (performance.now() - t0) / 1000;
    const cpu1 = pid ? await cpuSecs(pid) : null;
    if (r.code !== 0) {
      const why = r.timedOut ? "timed out" : `exited ${r.code}`;
      throw new Error(`iperf3 -c (${path.kind}) ${why}: ${r.stdout.slice(-400)}${r.stderr}`);
    }
    const out = JSON.parse(r.stdout);
    if (out.error) throw new Error(`iperf3 (${path.kind}): ${out.error}`);
    return {
      end: out.end,
      cpuSecs: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
      wallSecs,
    };
  } finally {
    await server.stop("SIGTERM", 2000);
  }
}

/** Both tests on one path. */
async function measure(path: Path, round: number, secs: number): Promise<Sample> {
  const tcp = await iperf(path, secs, []);
  const udp = await iperf(path, secs, ["-u", "-b", "0", "-l", String(UDP_PAYLOAD_BYTES)]);
  const rx = udp.end.sum_received, tx = udp.end.sum_sent;
  // The server's "packets" is the highest sequence number seen; the lost ones are in it.
  const rxPackets = rx.packets - rx.lost_packets;
  const pct = (c: number | null, wall: number) => c === null ? null : (100 * c) / wall;
  return {
    round,
    kind: path.kind,
    tcpMbps: tcp.end.sum_received.bits_per_second / 1e6,
    tcpCpuPct: pct(tcp.cpuSecs, tcp.wallSecs),
    udpRxPps: rxPackets / rx.seconds,
    udpTxPps: tx.packets / tx.seconds,
    udpLossPct: rx.packets > 0 ? (100 * rx.lost_packets) / rx.packets : 0,
    udpCpuPct: pct(udp.cpuSecs, udp.wallSecs),
    cpuUsPerPkt: udp.cpuSecs === null || rxPackets <= 0 ? null : (udp.cpuSecs * 1e6) / rxPackets,
  };
}

/** The kernel baseline: an IPv4 link client ↔ translator namespace, routed both ways. */
async function addKernelPath(topo: Topology): Promise<void> {
  const c = topo.clients[0]!;
  await ipIn(c.ns, `addr add ${KERNEL_CLIENT_V4}/24 dev eth0`);
  await ipIn(c.ns, `route add ${SERVER_V4}/32 via ${KERNEL_GATEWAY_V4} dev eth0`);
  await ipIn(topo.translatorNs, `addr add ${KERNEL_GATEWAY_V4}/24 dev c${c.index}`);
  await ipIn(topo.routerNs!, `route add ${KERNEL_CLIENT_NET} via ${TRANSLATOR_V4} dev x0`);
  const r = await topo.exec(c.ns, ["ping", "-n", "-c", "1", "-W", "3", SERVER_V4], {
    timeoutMs: 5000,
  });
  if (r.code !== 0) throw new Error(`kernel path: ping ${SERVER_V4} failed: ${r.stdout}`);
}

function median(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function fmt(x: number | null, digits = 0): string {
  if (x === null) return "-";
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

type Medians = Record<keyof Omit<Sample, "round" | "kind">, number | null>;

const COLUMNS = [
  "round",
  "path",
  "TCP Mbit/s",
  "TCP CPU %",
  "UDP rx pkt/s",
  "UDP tx pkt/s",
  "UDP loss %",
  "UDP CPU %",
  "CPU µs/pkt",
];

function row(label: string, kind: string, s: Medians): string[] {
  return [
    label,
    kind,
    fmt(s.tcpMbps),
    fmt(s.tcpCpuPct),
    fmt(s.udpRxPps),
    fmt(s.udpTxPps),
    fmt(s.udpLossPct, 1),
    fmt(s.udpCpuPct),
    fmt(s.cpuUsPerPkt, 2),
  ];
}

function printTable(rows: string[][]): void {
  const all = [COLUMNS, ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const r of all) {
    console.log(
      r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
    );
  }
}

function mediansOf(samples: Sample[], kind: Kind): Medians {
  const of = samples.filter((s) => s.kind === kind);
  const m = (k: keyof Medians) => median(of.map((s) => s[k]));
  return {
    tcpMbps: m("tcpMbps"),
    tcpCpuPct: m("tcpCpuPct"),
    udpRxPps: m("udpRxPps"),
    udpTxPps: m("udpTxPps"),
    udpLossPct: m("udpLossPct"),
    udpCpuPct: m("udpCpuPct"),
    cpuUsPerPkt: m("cpuUsPerPkt"),
  };
}

function ratio(a: number | null, b: number | null): string {
  return a === null || b === null || b === 0 ? "-" : `${(a / b).toFixed(2)}×`;
}

async function main(): Promise<number> {
  const rounds = Number(Deno.args[0] ?? 2);
  const secs = Number(Deno.args[1] ?? 4);
  if (!(rounds >= 1 && rounds <= 5 && secs >= 1 && secs <= 10)) {
    console.error("usage: daemon_throughput.ts [rounds 1..5] [secs 1..10]");
    return 2;
  }
  const reason = skipReason(["iperf3", "tayga", "ping"]);
  if (reason) {
    console.error(`cannot run: ${reason}`);
    return 2;
  }
  const started = performance.now();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    console.error("interrupted: stopping after the current test");
  };
  Deno.addSignalListener("SIGINT", onSigint);
  const topos: Topology[] = [];
  const samples: Sample[] = [];
  try {
    const made = await Promise.allSettled(
      KINDS.map((k) => Topology.create({ tag: `b${k[0]}` })),
    );
    for (const m of made) if (m.status === "fulfilled") topos.push(m.value);
    const failed = made.find((m) => m.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const paths: Path[] = [];
    for (const [i, kind] of KINDS.entries()) {
      const topo = topos[i]!;
      let daemon: Daemon | null = null;
      if (kind === "kernel") {
        await addKernelPath(topo);
      } else {
        daemon = await startTranslator(topo, kind);
        // The first packet takes a lease; the measurements should not.
        const p = await ping6(topo, topo.clients[0]!, SERVER6, { count: 1 });
        if (p.code !== 0) throw new Error(`${kind}: ping6 ${SERVER6} failed: ${p.stdout}`);
      }
      paths.push({ kind, topo, daemon, serverAddr: kind === "kernel" ? SERVER_V4 : SERVER6 });
    }
    console.log(
      `setup ${((performance.now() - started) / 1000).toFixed(1)} s; ${rounds} round(s) of ` +
        `${secs} s TCP + ${secs} s UDP (${UDP_PAYLOAD_BYTES}-byte payloads) per path; ` +
        `${navigator.hardwareConcurrency} CPUs`,
    );
    const perTest = (2 * secs + 3) * 1000;
    outer: for (let round = 1; round <= rounds; round++) {
      for (const path of paths) {
        if (interrupted) break outer;
        if (performance.now() - started + perTest > RUN_BUDGET_MS) {
          console.error(`time budget reached: skipping the rest from round ${round} ${path.kind}`);
          break outer;
        }
        let s: Sample;
        try {
          s = await measure(path, round, secs);
        } catch (e) {
          // Ctrl-C reaches the iperf3 client too (same process group): not a failure.
          if (interrupted) break outer;
          throw e;
        }
        samples.push(s);
        console.error(`round ${round} ${path.kind}: ${JSON.stringify(s)}`);
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    for (const t of topos) {
      const problems = await t.teardown();
      if (problems.length) console.error(`teardown of ${t.id}: ${problems.join("; ")}`);
    }
  }
  if (samples.length === 0) return 1;

  console.log("");
  const med = Object.fromEntries(KINDS.map((k) => [k, mediansOf(samples, k)])) as Record<
    Kind,
    Medians
  >;
  printTable([
    ...samples.map((s) => row(String(s.round), s.kind, s)),
    ...KINDS.map((k) => row("median", k, med[k])),
  ]);
  console.log("");
  const pm = med.protomask, ty = med.tayga, k = med.kernel;
  console.log("ratios of medians      protomask/tayga  protomask/kernel  tayga/kernel");
  const line = (name: string, get: (m: Medians) => number | null) =>
    console.log(
      `${name.padEnd(22)} ${ratio(get(pm), get(ty)).padStart(15)}  ${
        ratio(get(pm), get(k)).padStart(16)
      }  ${ratio(get(ty), get(k)).padStart(12)}`,
    );
  line("TCP Mbit/s", (m) => m.tcpMbps);
  line("UDP rx pkt/s", (m) => m.udpRxPps);
  line("UDP tx pkt/s", (m) => m.udpTxPps);
  // Translator CPU spent per unit of work (the kernel's forwarding CPU is not measured).
  line("CPU per TCP Mbit/s", (m) => m.tcpCpuPct === null ? null : m.tcpCpuPct / m.tcpMbps!);
  line("CPU µs per UDP packet", (m) => m.cpuUsPerPkt);
  console.log("");
  console.log(JSON.stringify({
    rounds,
    secs,
    elapsedSecs: Math.round((performance.now() - started) / 100) / 10,
    medians: med,
  }));
  return 0;
}

if (import.meta.main) Deno.exit(await main());
