/**
 * End-to-end benchmark of the daemon against TAYGA, a plain TUN forwarder and the kernel, in
 * network namespaces, as ratios to TAYGA measured in the same run. Root only:
 *
 * ```
 * deno task bench:e2e [--rounds 3] [--seconds 3] [--pings 200] [--only NAME,...]
 *                     [--json FILE] [--budget SECS]
 * ```
 *
 * Every configuration gets its own copy of the topology of examples/netns.ts (IPv6-only client
 * → middle namespace → IPv4 router → IPv4-only server), built once and kept for the run:
 *
 * - `tayga`: Debian's TAYGA (the reference of the ratios), prefix {@link PREFIX};
 * - `protomask`: the daemon with its default configuration, same prefix and pool;
 * - `pm-o0`/`pm-o1` (`Offload = false/true`), `pm-q1`/`pm-q2` (`Queues = 1/2`) and their
 *   combinations (`pm-o1q2`, …): only when `main.ts check-config` accepts those `[Interface]`
 *   keys; otherwise skipped with a note, so the benchmark runs before and after they exist;
 * - `tun-echo`: the ceiling of per-packet TUN I/O in Deno (tests/bench/tun_echo.ts): the
 *   client and server speak IPv4 and policy routing sends both directions through two TUN
 *   devices, a Worker copying packets from one to the other with blocking FFI read/write —
 *   the daemon's I/O without translation, lease lookup or checksum update (one queue, no
 *   offload);
 * - `kernel`: the client also has an IPv4 address and the middle namespace just forwards it —
 *   no user space at all.
 *
 * Figures, each a median over the rounds:
 *
 * - TCP, 1 stream and 4 streams: `iperf3 -c … -t SECS [-P 4]`, Gbit/s received;
 * - UDP 64-byte flood: tests/bench/udp_flood.ts sends 64-byte datagrams with `sendmmsg`
 *   (batches of 64) for SECS from the client to a server socket that never reads; delivered
 *   = the server link's rx packet counter, per second of sending (also shown: sent per second,
 *   and the translator's CPU time per delivered packet, from /proc/PID/stat);
 * - ping RTT median (`ping -i 0.01 -c PINGS`, per-packet times) with the translator pinned to
 *   the last CPU and the pinger on the same CPU ("co-located", they compete) or on CPU 0
 *   ("off-CPU", wake-ups cross CPUs). The translator is started under `taskset -c LAST` and
 *   re-pinned (`taskset -a -p`, every thread) to all CPUs for the throughput tests and to the
 *   last CPU for the pings.
 *
 * Each round runs every test on every configuration (rotating which goes first) so the noise
 * of a shared machine hits them all; the table shows each configuration's median and its
 * ratio to TAYGA's median (above 1 is more throughput, or more latency/CPU for the µs rows).
 * The per-round numbers are printed too, and `--json FILE` saves everything.
 *
 * Safety: unique namespace names (pid + random), traffic only inside them, every command and
 * loop bounded in count and time (the run stops starting tests after `--budget`), processes
 * stopped by PID and namespaces deleted in `finally`; SIGINT/SIGTERM end the run after the
 * current test. Not picked up by `deno bench` (not *_bench.ts) or `deno test`.
 *
 * @module
 */

import {
  type Daemon,
  ipIn,
  PREFIX,
  repoPath,
  run,
  SERVER6,
  SERVER_V4,
  skipReason,
  startTranslator,
  Topology,
  TRANSLATOR_V4,
} from "../e2e/_harness.ts";

/** What carries the traffic in a configuration. */
export type Kind = "protomask" | "tayga" | "tun-echo" | "kernel";

/** One configuration under test. */
export interface BenchConfig {
  /** Short name, used in tables and by `--only`. */
  name: string;
  /** What runs in the middle namespace. */
  kind: Kind;
  /** One line for the legend. */
  about: string;
  /** Extra `[Interface]` keys (protomask variants). */
  interfaceKeys: Record<string, boolean | number>;
}

/** The measured figures, in table order. */
export const FIGURES = [
  { key: "tcp1Gbps", label: "TCP 1 stream Gbit/s", digits: 2 },
  { key: "tcp4Gbps", label: "TCP 4 streams Gbit/s", digits: 2 },
  { key: "udpKpps", label: "UDP 64B delivered kpps", digits: 1 },
  { key: "rttCoUs", label: "RTT co-located µs", digits: 0 },
  { key: "rttOffUs", label: "RTT off-CPU µs", digits: 0 },
  // Context: where the rows above come from.
  { key: "udpSentKpps", label: "UDP 64B sent kpps", digits: 1 },
  { key: "cpuUsPerPkt", label: "translator CPU µs/pkt", digits: 2 },
  { key: "tcpCpuPct", label: "translator CPU % TCP 1", digits: 0 },
] as const;
/** How many of {@link FIGURES} are the headline rows (the rest is context). */
export const HEADLINE_FIGURES = 5;

/** A figure's key. */
export type Figure = typeof FIGURES[number]["key"];

/** One number from one round. */
export interface Sample {
  /** 1-based round. */
  round: number;
  /** Configuration name. */
  config: string;
  /** Which figure. */
  figure: Figure;
  /** The value in the figure's unit. */
  value: number;
}

/** Command-line options. */
export interface BenchOptions {
  /** Rounds (1..20, default 3). */
  rounds: number;
  /** Seconds per throughput test (1..30, default 3). */
  seconds: number;
  /** Pings per RTT figure (10..1000, default 200, 10 ms apart). */
  pings: number;
  /** Configuration names or `prefix*` patterns; null: all. */
  only: string[] | null;
  /** Where to save the results as JSON; null: nowhere. */
  json: string | null;
  /** Stop starting tests after this many seconds; null: twice the estimate. */
  budgetSecs: number | null;
}

/** Usage text. */
export const USAGE =
  `usage: deno run -A tests/bench/e2e.ts [--rounds N] [--seconds S] [--pings N] [--only NAME,...]
                                     [--json FILE] [--budget SECS]
  --rounds N      rounds, each running every test on every configuration (1..20, default 3)
  --seconds S     seconds per TCP and UDP test (1..30, default 3)
  --pings N       pings per RTT figure, 10 ms apart (10..1000, default 200)
  --only LIST     configurations: tayga, protomask, pm-o0, pm-o1, pm-q1, pm-q2, pm-o1q2, ...,
                  tun-echo, kernel; a trailing * matches a prefix (pm-*) (default: all)
  --json FILE     also save the options, notes, per-round samples, medians and ratios
  --budget SECS   start no test after this many seconds (default: twice the estimate)`;

const NAME_RE = /^(tayga|protomask|tun-echo|kernel|pm-(o[01])?(q[12])?)$/;

/**
 * Parses the command line.
 *
 * @param args the arguments after the script
 * @returns the options, or an error message for the usage line
 */
export function parseBenchArgs(args: readonly string[]): BenchOptions | { error: string } {
  const o: BenchOptions = {
    rounds: 3,
    seconds: 3,
    pings: 200,
    only: null,
    json: null,
    budgetSecs: null,
  };
  const ranges = {
    rounds: [1, 20],
    seconds: [1, 30],
    pings: [10, 1000],
    budget: [10, 86_400],
  } as const;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => eq > 0 ? a.slice(eq + 1) : args[++i];
    const name = flag.replace(/^--/, "");
    if (name === "rounds" || name === "seconds" || name === "pings" || name === "budget") {
      const v = Number(value());
      const [lo, hi] = ranges[name];
      if (!Number.isInteger(v) || v < lo || v > hi) {
        return { error: `--${name} must be an integer in ${lo}..${hi}` };
      }
      if (name === "budget") o.budgetSecs = v;
      else o[name] = v;
    } else if (name === "only") {
      const list = (value() ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (list.length === 0) return { error: "--only needs a list of configuration names" };
      for (const n of list) {
        if (!n.endsWith("*") && !NAME_RE.test(n)) return { error: `--only: unknown name "${n}"` };
      }
      o.only = list;
    } else if (name === "json") {
      const v = value();
      if (!v) return { error: "--json needs a file name" };
      o.json = v;
    } else {
      return { error: `unknown argument "${a}"` };
    }
  }
  return o;
}

/**
 * Whether a configuration name is selected by `--only`.
 *
 * @param name configuration name
 * @param only the `--only` list, or null for all
 * @returns true when selected
 */
export function selected(name: string, only: readonly string[] | null): boolean {
  if (only === null) return true;
  return only.some((p) => p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : p === name);
}

/**
 * The configurations: TAYGA, protomask with its defaults, protomask variants for the optional
 * `[Interface]` keys this version accepts (every combination of their values), the TUN echo
 * ceiling and the kernel.
 *
 * @param keys which optional keys the configuration accepts
 * @returns all configurations, in table order
 */
export function allConfigs(keys: { offload: boolean; queues: boolean }): BenchConfig[] {
  const configs: BenchConfig[] = [
    { name: "tayga", kind: "tayga", about: "TAYGA 0.9.2 (Debian)", interfaceKeys: {} },
    {
      name: "protomask",
      kind: "protomask",
      about: "protomask, default configuration",
      interfaceKeys: {},
    },
  ];
  const offloads = keys.offload ? [false, true] : [null];
  const queues = keys.queues ? [1, 2] : [null];
  for (const o of offloads) {
    for (const q of queues) {
      if (o === null && q === null) continue;
      const k: Record<string, boolean | number> = {};
      if (o !== null) k.Offload = o;
      if (q !== null) k.Queues = q;
      configs.push({
        name: `pm-${o === null ? "" : `o${Number(o)}`}${q === null ? "" : `q${q}`}`,
        kind: "protomask",
        about: `protomask, ${Object.entries(k).map(([n, v]) => `${n} = ${v}`).join(", ")}`,
        interfaceKeys: k,
      });
    }
  }
  configs.push(
    {
      name: "tun-echo",
      kind: "tun-echo",
      about: "ceiling: IPv4 through two TUNs copied by tests/bench/tun_echo.ts (no translation)",
      interfaceKeys: {},
    },
    {
      name: "kernel",
      kind: "kernel",
      about: "IPv4 forwarded by the kernel (no user space)",
      interfaceKeys: {},
    },
  );
  return configs;
}

/**
 * The median of the finite numbers of `xs`.
 *
 * @param xs values (null and non-finite ones are skipped)
 * @returns the median, or null when there is none
 */
export function median(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * The per-reply round-trip times in `ping` output (`… time=0.123 ms`).
 *
 * @param text ping's standard output
 * @returns the times, milliseconds
 */
export function pingTimesMs(text: string): number[] {
  return [...text.matchAll(/ time[=<]([\d.]+) ms/g)].map((m) => Number(m[1]));
}

// --- measuring ---------------------------------------------------------------------------------

/** IPv4 link between the client and the middle namespace (tun-echo and kernel only). */
const CLIENT_V4 = "10.99.1.2";
const GATEWAY_V4 = "10.99.1.1";
const CLIENT_V4_NET = "10.99.1.0/24";
/** The routing table the middle namespace sends tun-echo traffic through. */
const ECHO_TABLE = "100";
const ECHO_IN = "echoin";
const ECHO_OUT = "echoout";
const IPERF_PORT = 5201;
const SINK_PORT = 9000;
const UDP_PAYLOAD_BYTES = 64;
const CLK_TCK = 100; // USER_HZ on Linux (sysconf(_SC_CLK_TCK)), fixed by the kernel ABI.

/** A configuration set up and ready to measure. */
interface Path {
  cfg: BenchConfig;
  topo: Topology;
  /** The server's address as the client reaches it. */
  target: string;
  /** The user-space process in the middle (translator or echo), or null (kernel). */
  pid: number | null;
}

/** utime + stime of a process and all its threads, in seconds; null when unreadable. */
async function cpuSecs(pid: number | null): Promise<number | null> {
  if (pid === null) return null;
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the ")" that closes comm start at field 3 (state); utime is 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Sets the CPU affinity of every thread of the path's process (nothing for the kernel). */
async function pin(path: Path, cpus: string): Promise<void> {
  if (path.pid === null) return;
  const r = await run(["taskset", "-a", "-p", "-c", cpus, String(path.pid)], {
    timeoutMs: 5000,
  });
  if (r.code !== 0) throw new Error(`taskset -a -p -c ${cpus} ${path.pid}: ${r.stderr.trim()}`);
}

/**
 * One iperf3 TCP test with a fresh `iperf3 -s -1`: Gbit/s received by the server, and the
 * translator's CPU time meanwhile as % of one CPU.
 */
async function tcp(
  path: Path,
  secs: number,
  streams: number,
): Promise<{ gbps: number; cpuPct: number | null }> {
  const { topo } = path;
  const server = topo.spawn(topo.serverNs!, [
    "iperf3",
    "-s",
    "-1",
    "--forceflush",
    "-B",
    SERVER_V4,
    "-p",
    String(IPERF_PORT),
  ], "iperf3-server");
  try {
    if (!(await server.waitForOutput(/Server listening/, 5000))) {
      throw new Error(`iperf3 -s did not start: ${server.stderr.trim()}`);
    }
    const cpu0 = await cpuSecs(path.pid);
    const t0 = performance.now();
    const r = await topo.exec(topo.clients[0]!.ns, [
      "iperf3",
      "-c",
      path.target,
      "-p",
      String(IPERF_PORT),
      "-t",
      String(secs),
      "-P",
      String(streams),
      "--connect-timeout",
      "3000",
      "-J",
    ], { timeoutMs: (secs + 10) * 1000 });
    const wallSecs = (performance.now() - t0) / 1000;
    const cpu1 = await cpuSecs(path.pid);
    if (r.code !== 0) {
      const why = r.timedOut ? "timed out" : `exited ${r.code}`;
      throw new Error(`iperf3 -c ${why}: ${r.stdout.slice(-300)}${r.stderr.slice(-300)}`);
    }
    const out = JSON.parse(r.stdout);
    if (out.error) throw new Error(`iperf3: ${out.error}`);
    return {
      gbps: out.end.sum_received.bits_per_second / 1e9,
      cpuPct: cpu0 === null || cpu1 === null ? null : (100 * (cpu1 - cpu0)) / wallSecs,
    };
  } finally {
    await server.stop("SIGTERM", 2000);
  }
}

/** Packets received by the server's link so far. */
async function serverRxPackets(topo: Topology): Promise<number> {
  const r = await run(["ip", "-n", topo.serverNs!, "-j", "-s", "link", "show", "eth0"], {
    timeoutMs: 5000,
  });
  const n = JSON.parse(r.stdout)?.[0]?.stats64?.rx?.packets;
  if (r.code !== 0 || typeof n !== "number") throw new Error(`ip -s link: ${r.stderr.trim()}`);
  return n;
}

/** The UDP flood: delivered and sent kpps, translator CPU µs per delivered packet. */
async function udp(
  path: Path,
  secs: number,
): Promise<{ udpKpps: number; udpSentKpps: number; cpuUsPerPkt: number | null }> {
  const { topo } = path;
  const rx0 = await serverRxPackets(topo);
  const cpu0 = await cpuSecs(path.pid);
  const r = await topo.exec(topo.clients[0]!.ns, [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    repoPath("tests/bench/udp_flood.ts"),
    "send",
    path.target,
    String(SINK_PORT),
    String(secs),
    String(UDP_PAYLOAD_BYTES),
  ], { timeoutMs: (secs + 20) * 1000 });
  if (r.code !== 0) throw new Error(`udp_flood.ts exited ${r.code}: ${r.stderr.slice(-400)}`);
  // Let the queues between client and server drain into the counter.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const cpu1 = await cpuSecs(path.pid);
  const rx1 = await serverRxPackets(topo);
  const sent = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
    sent: number;
    errors: number;
    seconds: number;
  };
  if (sent.sent === 0) throw new Error(`udp_flood.ts sent nothing: ${r.stdout.trim()}`);
  const delivered = rx1 - rx0;
  return {
    udpKpps: delivered / sent.seconds / 1000,
    udpSentKpps: sent.sent / sent.seconds / 1000,
    cpuUsPerPkt: cpu0 === null || cpu1 === null || delivered <= 0
      ? null
      : ((cpu1 - cpu0) * 1e6) / delivered,
  };
}

/** Median ping RTT in µs with the pinger pinned to `cpu`. */
async function rtt(path: Path, cpu: number, count: number): Promise<number> {
  const v6 = path.target.includes(":");
  const r = await path.topo.exec(path.topo.clients[0]!.ns, [
    "taskset",
    "-c",
    String(cpu),
    "ping",
    v6 ? "-6" : "-4",
    "-n",
    "-i",
    "0.01",
    "-c",
    String(count),
    "-W",
    "1",
    path.target,
  ], { timeoutMs: count * 10 + 10_000 });
  const times = pingTimesMs(r.stdout);
  if (times.length < count / 2) {
    throw new Error(`ping: ${times.length} of ${count} replies: ${r.stdout.slice(-300)}`);
  }
  return median(times)! * 1000;
}

// --- setting up --------------------------------------------------------------------------------

/** Gives the client an IPv4 address routed through the middle namespace to the server. */
async function addIpv4Path(topo: Topology): Promise<void> {
  const c = topo.clients[0]!;
  await ipIn(c.ns, `addr add ${CLIENT_V4}/24 dev eth0`);
  await ipIn(c.ns, `route add ${SERVER_V4}/32 via ${GATEWAY_V4} dev eth0`);
  await ipIn(topo.translatorNs, `addr add ${GATEWAY_V4}/24 dev c${c.index}`);
  await ipIn(topo.routerNs!, `route add ${CLIENT_V4_NET} via ${TRANSLATOR_V4} dev x0`);
}

/** Packets the kernel has handed to a TUN device in the middle namespace. */
async function tunTxPackets(topo: Topology, dev: string): Promise<number> {
  const r = await run(["ip", "-n", topo.translatorNs, "-j", "-s", "link", "show", dev], {
    timeoutMs: 5000,
  });
  return JSON.parse(r.stdout)?.[0]?.stats64?.tx?.packets ?? -1;
}

/**
 * Starts tests/bench/tun_echo.ts and routes everything the client and the router send into
 * the middle namespace through it: packets from either side look up table 100, whose default
 * route is the echo's input TUN; what it writes to its output TUN is routed normally.
 */
async function startEcho(topo: Topology, prefix: string[], maxSecs: number): Promise<number> {
  const x = topo.translatorNs;
  for (const k of ["all", "default"]) await topo.sysctl(x, `net.ipv4.conf.${k}.rp_filter`, "0");
  const p = topo.spawn(x, [
    ...prefix,
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    repoPath("tests/bench/tun_echo.ts"),
    ECHO_IN,
    ECHO_OUT,
    String(maxSecs),
  ], "tun-echo");
  if (!(await p.waitForOutput(/^ready /m, 20_000))) {
    throw new Error(`tun_echo.ts did not start: ${p.stderr.trim()}`);
  }
  await topo.sysctl(x, `net.ipv4.conf.${ECHO_OUT}.rp_filter`, "0");
  await ipIn(x, `link set ${ECHO_IN} up`);
  await ipIn(x, `link set ${ECHO_OUT} up`);
  await ipIn(x, `route add default dev ${ECHO_IN} table ${ECHO_TABLE}`);
  await ipIn(x, `rule add iif c${topo.clients[0]!.index} lookup ${ECHO_TABLE} pref 100`);
  await ipIn(x, `rule add iif r0 lookup ${ECHO_TABLE} pref 101`);
  return p.pid;
}

/** Builds one configuration's topology and starts what runs in its middle. */
async function setUp(
  cfg: BenchConfig,
  index: number,
  opts: { translatorCpu: number; lifeSecs: number },
): Promise<Path> {
  const topo = await Topology.create({ tag: `b${index}` });
  try {
    const sink = topo.spawn(topo.serverNs!, [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      repoPath("tests/bench/udp_flood.ts"),
      "sink",
      SERVER_V4,
      String(SINK_PORT),
      String(opts.lifeSecs),
    ], "udp-sink");
    if (!(await sink.waitForOutput(/^listening /m, 20_000))) {
      throw new Error(`udp sink did not start: ${sink.stderr.trim()}`);
    }
    const prefix = ["taskset", "-c", String(opts.translatorCpu)];
    let pid: number | null = null;
    let target = SERVER6;
    if (cfg.kind === "protomask" || cfg.kind === "tayga") {
      const d: Daemon = await startTranslator(topo, cfg.kind, {
        interfaceKeys: cfg.interfaceKeys,
        commandPrefix: prefix,
      });
      pid = d.proc.pid;
    } else {
      await addIpv4Path(topo);
      target = SERVER_V4;
      if (cfg.kind === "tun-echo") pid = await startEcho(topo, prefix, opts.lifeSecs);
    }
    // One ping through: takes the lease (translators) and proves the path before measuring.
    const before = cfg.kind === "tun-echo" ? await tunTxPackets(topo, ECHO_IN) : 0;
    const r = await topo.exec(topo.clients[0]!.ns, [
      "ping",
      target.includes(":") ? "-6" : "-4",
      "-n",
      "-c",
      "2",
      "-i",
      "0.2",
      "-W",
      "3",
      target,
    ], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`ping ${target} failed: ${r.stdout.trim()}`);
    if (cfg.kind === "tun-echo" && (await tunTxPackets(topo, ECHO_IN)) < before + 4) {
      throw new Error(`the pings did not pass through ${ECHO_IN}`);
    }
    return { cfg, topo, target, pid };
  } catch (e) {
    const problems = await topo.teardown();
    if (problems.length) console.error(`teardown of ${topo.id}: ${problems.join("; ")}`);
    throw e;
  }
}

/**
 * Whether `main.ts check-config` accepts an `[Interface]` key.
 *
 * @param dir a directory for the probe file
 * @param line the key line, e.g. "Offload = true"
 * @returns null when accepted, else the first line of the complaint
 */
async function probeKey(dir: string, line: string): Promise<string | null> {
  const key = line.split(" ")[0]!;
  const file = `${dir}/probe-${crypto.randomUUID()}.toml`;
  await Deno.writeTextFile(
    file,
    `[Interface]\nPrefix = "${PREFIX}"\nPool = ["192.0.2.16/28"]\nAddress4 = "192.0.2.1"\n` +
      `${line}\n`,
  );
  const r = await run([
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    repoPath("main.ts"),
    "check-config",
    file,
  ], {
    timeoutMs: 30_000,
  });
  if (r.code === 0) return null;
  const msg = r.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return msg.find((l) => l.includes(`Interface.${key}`)) ?? msg.at(-1) ?? `exit ${r.code}`;
}

// --- reporting ---------------------------------------------------------------------------------

function fmt(x: number | null | undefined, digits: number): string {
  if (x === null || x === undefined) return "-";
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/**
 * Renders rows as aligned text columns (first `leftCols` left-aligned, the rest right-aligned).
 *
 * @param rows the cells, the first row being the header
 * @param leftCols how many leading columns are left-aligned
 * @returns the lines
 */
export function renderTable(rows: readonly (readonly string[])[], leftCols = 1): string[] {
  const n = Math.max(...rows.map((r) => r.length));
  const widths = Array.from(
    { length: n },
    (_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)),
  );
  return rows.map((r) =>
    widths.map((w, i) => i < leftCols ? (r[i] ?? "").padEnd(w) : (r[i] ?? "").padStart(w)).join(
      "  ",
    )
      .trimEnd()
  );
}

/** Medians per configuration and figure. */
export type Medians = Record<string, Partial<Record<Figure, number | null>>>;

/**
 * The medians over rounds of every configuration's figures.
 *
 * @param samples all samples
 * @param configs configuration names
 * @returns medians by configuration, then figure
 */
export function mediansOf(samples: readonly Sample[], configs: readonly string[]): Medians {
  const out: Medians = {};
  for (const c of configs) {
    out[c] = {};
    for (const f of FIGURES) {
      out[c]![f.key] = median(
        samples.filter((s) => s.config === c && s.figure === f.key).map((s) => s.value),
      );
    }
  }
  return out;
}

/**
 * The summary table: a row per figure, for each configuration its median and the ratio to
 * TAYGA's median.
 *
 * @param med medians (see {@link mediansOf})
 * @param configs configuration names, in column order
 * @returns the lines
 */
export function summaryTable(med: Medians, configs: readonly string[]): string[] {
  const head1 = ["", ...configs.flatMap((c) => [c, ""])];
  const head2 = ["figure", ...configs.flatMap(() => ["median", "×tayga"])];
  const rows = FIGURES.map((f) => [
    f.label,
    ...configs.flatMap((c) => {
      const v = med[c]?.[f.key] ?? null, t = med.tayga?.[f.key] ?? null;
      return [
        fmt(v, f.digits),
        v === null || t === null || t === 0 ? "-" : `${(v / t).toFixed(2)}×`,
      ];
    }),
  ]);
  // A blank line between the headline figures and the context.
  const h = HEADLINE_FIGURES;
  return renderTable([head1, head2, ...rows.slice(0, h), [], ...rows.slice(h)]);
}

/**
 * The per-round table: a row per round and configuration, a column per figure.
 *
 * @param samples all samples
 * @param rounds rounds run
 * @param configs configuration names
 * @returns the lines
 */
export function roundsTable(
  samples: readonly Sample[],
  rounds: number,
  configs: readonly string[],
): string[] {
  const rows: string[][] = [["round", "config", ...FIGURES.map((f) => f.label)]];
  for (let r = 1; r <= rounds; r++) {
    for (const c of configs) {
      const of = samples.filter((s) => s.round === r && s.config === c);
      if (of.length === 0) continue;
      rows.push([
        String(r),
        c,
        ...FIGURES.map((f) => fmt(of.find((s) => s.figure === f.key)?.value, f.digits)),
      ]);
    }
  }
  return renderTable(rows, 2);
}

// --- the run -----------------------------------------------------------------------------------

/** The tests of a round, in order. */
const TESTS = ["tcp1", "tcp4", "udp", "rtt"] as const;

async function main(args: string[]): Promise<number> {
  const parsed = parseBenchArgs(args);
  if ("error" in parsed) {
    console.error(`${parsed.error}\n${USAGE}`);
    return 2;
  }
  const opts = parsed;
  const reason = skipReason([
    "iperf3",
    "ping",
    "taskset",
    ...(selected("tayga", opts.only) ? ["tayga"] : []),
  ]);
  if (reason) {
    console.error(`cannot run: ${reason}`);
    return 2;
  }
  // The Deno children (daemon, echo, flood, sink) must not look for upgrades from inside.
  Deno.env.set("DENO_NO_UPDATE_CHECK", "1");
  Deno.env.set("NO_COLOR", "1");
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const notes: string[] = [];
  const note = (s: string) => {
    notes.push(s);
    console.log(`note: ${s}`);
  };
  const cpus = navigator.hardwareConcurrency;
  const translatorCpu = cpus - 1;
  const offCpu = 0;
  if (cpus < 2) note("one CPU: the off-CPU RTT is not measured");

  // Which protomask variants this version can run.
  const keys = { offload: false, queues: false };
  const variants = allConfigs({ offload: true, queues: true }).filter((c) =>
    c.name.startsWith("pm-")
  );
  if (variants.some((c) => selected(c.name, opts.only))) {
    const dir = await Deno.makeTempDir({ prefix: "protomask-bench-" });
    try {
      const [o, q] = await Promise.all([
        probeKey(dir, "Offload = true"),
        probeKey(dir, "Queues = 2"),
      ]);
      keys.offload = o === null;
      keys.queues = q === null;
      if (o !== null) note(`skipping the Offload variants: check-config says: ${o}`);
      if (q !== null) note(`skipping the Queues variants: check-config says: ${q}`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  const all = allConfigs(keys);
  const chosen = all.filter((c) => selected(c.name, opts.only));
  for (const n of opts.only ?? []) {
    if (!n.endsWith("*") && !all.some((c) => c.name === n)) {
      note(`"${n}" is not available in this version (its [Interface] key is not accepted)`);
    }
  }
  if (chosen.length === 0) {
    console.error("no configuration selected");
    return 2;
  }
  if (!chosen.some((c) => c.name === "tayga")) note("TAYGA not selected: no ratios");

  const pingSecs = opts.pings * 0.01 + 0.5;
  const perRoundSecs = chosen.length * (3 * opts.seconds + 5 + 2 * pingSecs);
  const estimateSecs = opts.rounds * perRoundSecs + 15;
  const budgetSecs = opts.budgetSecs ?? Math.min(2 * estimateSecs, 4 * 3600);
  const lifeSecs = Math.ceil(budgetSecs + 300);

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    console.error("interrupted: stopping after the current test");
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const paths: Path[] = [];
  const samples: Sample[] = [];
  let failures = 0;
  let roundsRun = 0;
  try {
    console.log(
      `${chosen.length} configurations, ${opts.rounds} round(s): TCP ${opts.seconds} s ×1 and ` +
        `×4 streams, UDP ${opts.seconds} s, ${opts.pings} pings ×2; ${cpus} CPUs, translator on ` +
        `CPU ${translatorCpu}; about ${Math.round(estimateSecs)} s`,
    );
    for (const c of chosen) console.log(`  ${c.name.padEnd(10)} ${c.about}`);
    const made = await Promise.allSettled(
      chosen.map((c, i) => setUp(c, i, { translatorCpu, lifeSecs })),
    );
    for (const [i, m] of made.entries()) {
      if (m.status === "fulfilled") paths.push(m.value);
      else {
        failures++;
        note(`${chosen[i]!.name} could not be set up: ${String(m.reason).slice(0, 500)}`);
      }
    }
    console.log(`setup ${elapsed().toFixed(1)} s`);
    const record = (round: number, config: string, figure: Figure, value: number | null) => {
      if (value !== null && Number.isFinite(value)) samples.push({ round, config, figure, value });
    };
    outer: for (let round = 1; round <= opts.rounds; round++) {
      roundsRun = round; // also when interrupted half-way: its samples are shown
      const order = paths.map((_, i) => paths[(i + round - 1) % paths.length]!);
      for (const test of TESTS) {
        for (const path of order) {
          if (interrupted) break outer;
          if (elapsed() > budgetSecs) {
            note(`time budget of ${budgetSecs} s reached in round ${round}: stopped`);
            break outer;
          }
          const name = path.cfg.name;
          try {
            if (test === "rtt") {
              await pin(path, String(translatorCpu));
              record(round, name, "rttCoUs", await rtt(path, translatorCpu, opts.pings));
              if (cpus >= 2) record(round, name, "rttOffUs", await rtt(path, offCpu, opts.pings));
            } else {
              await pin(path, `0-${cpus - 1}`);
              if (test === "udp") {
                const u = await udp(path, opts.seconds);
                record(round, name, "udpKpps", u.udpKpps);
                record(round, name, "udpSentKpps", u.udpSentKpps);
                record(round, name, "cpuUsPerPkt", u.cpuUsPerPkt);
              } else {
                const t = await tcp(path, opts.seconds, test === "tcp1" ? 1 : 4);
                record(round, name, test === "tcp1" ? "tcp1Gbps" : "tcp4Gbps", t.gbps);
                if (test === "tcp1") record(round, name, "tcpCpuPct", t.cpuPct);
              }
            }
          } catch (e) {
            if (interrupted) break outer; // Ctrl-C reached the child too
            failures++;
            note(`round ${round} ${name} ${test}: ${e instanceof Error ? e.message : e}`);
          }
        }
      }
      console.log(`round ${round} done at ${elapsed().toFixed(0)} s`);
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    const problems = await Promise.all(paths.map((p) => p.topo.teardown()));
    for (const [i, p] of problems.entries()) {
      if (p.length) console.error(`teardown of ${paths[i]!.topo.id}: ${p.join("; ")}`);
    }
  }

  const names = paths.map((p) => p.cfg.name);
  const med = mediansOf(samples, names);
  console.log("\nper round:");
  for (const l of roundsTable(samples, roundsRun, names)) console.log(l);
  console.log(
    `\nmedians over ${roundsRun} round(s) and ratios to TAYGA (µs rows: lower is better):`,
  );
  for (const l of summaryTable(med, names)) console.log(l);
  if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `- ${n}`).join("\n")}`);
  if (opts.json) {
    const ratios: Medians = {};
    for (const c of names) {
      ratios[c] = {};
      for (const f of FIGURES) {
        const v = med[c]![f.key] ?? null, t = med.tayga?.[f.key] ?? null;
        ratios[c]![f.key] = v === null || t === null || t === 0 ? null : v / t;
      }
    }
    await Deno.writeTextFile(
      opts.json,
      JSON.stringify(
        {
          options: opts,
          cpus,
          translatorCpu,
          elapsedSecs: Math.round(elapsed() * 10) / 10,
          configs: chosen,
          notes,
          samples,
          medians: med,
          ratiosToTayga: ratios,
        },
        null,
        2,
      ) + "\n",
    );
    console.log(`saved ${opts.json}`);
  }
  if (interrupted) return 130;
  return samples.length === 0 || failures > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
