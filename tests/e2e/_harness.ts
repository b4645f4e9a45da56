/**
 * End-to-end harness: the namespaces of examples/netns.ts with a translator in the middle,
 * protomask (the default) or TAYGA (a stand-in used to validate the topology and the tests
 * themselves; never shipped), the clients' tools, and a test wrapper that skips visibly when
 * not root or a tool is missing and always tears the namespaces down.
 *
 * `PROTOMASK_E2E_TRANSLATOR=tayga deno test -A tests/e2e` runs the suite against TAYGA;
 * `PROTOMASK_TEST_QUEUES=2 deno test -A tests/e2e` runs every protomask in it with
 * `Interface.Queues = 2` (the default: the config leaves Queues out, one per CPU up to 8);
 * `PROTOMASK_TEST_OFFLOAD=0` or `=1` writes `Interface.Offload = false` or `true` into every
 * protomask configuration it makes (the default leaves Offload out: on where supported).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ADDRESS4,
  type Client,
  type Daemon,
  embed,
  PORTS,
  PREFIX,
  type Proc,
  repoPath,
  run,
  type RunResult,
  SERVER_V4,
  sleep,
  startProtomask,
  Topology,
  type TopologyOptions,
} from "../../examples/netns.ts";

export * from "../../examples/netns.ts";

/** Which translator runs in the translator namespace. */
export type TranslatorKind = "protomask" | "tayga";

/** The translator the suite runs against: protomask unless PROTOMASK_E2E_TRANSLATOR says. */
export const TRANSLATOR: TranslatorKind = Deno.env.get("PROTOMASK_E2E_TRANSLATOR") === "tayga"
  ? "tayga"
  : "protomask";

/**
 * `Interface.Queues` for every protomask configuration the suite writes, from
 * PROTOMASK_TEST_QUEUES (1 to 64), or null to leave the key out.
 */
export const TEST_QUEUES: number | null = testQueues(Deno.env.get("PROTOMASK_TEST_QUEUES"));

function testQueues(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new Error(`PROTOMASK_TEST_QUEUES must be an integer from 1 to 64, got '${text}'`);
  }
  return n;
}

/**
 * `Interface.Offload` for every protomask configuration the suite writes, from
 * PROTOMASK_TEST_OFFLOAD (0 or 1), or null to leave the key out.
 */
export const TEST_OFFLOAD: boolean | null = testOffload(Deno.env.get("PROTOMASK_TEST_OFFLOAD"));

function testOffload(text: string | undefined): boolean | null {
  if (text === undefined || text === "") return null;
  if (text === "0" || text === "1") return text === "1";
  throw new Error(`PROTOMASK_TEST_OFFLOAD must be 0 or 1, got '${text}'`);
}

/** The default dynamic pool (a /28: 14 addresses, .17 to .30). */
export const POOL = "192.0.2.16/28";

/** What the translator is configured with; rendered as TOML for protomask, tayga.conf for TAYGA. */
export interface XlatSettings {
  /** Dynamic pool prefixes (default [{@link POOL}]). */
  pool?: string[];
  /** Static address pairs. */
  staticMaps?: { v4: string; v6: string }[];
  /** Rules.ReservationDuration in seconds (protomask only). */
  reservationSecs?: number;
  /** Rules.StateFile (protomask) / data-dir (TAYGA); null or absent: off. */
  stateFile?: string | null;
  /** Interface.MTU. */
  mtu?: number;
  /** Interface.Queues (protomask only; default {@link TEST_QUEUES}, null leaves it out). */
  queues?: number | null;
  /** Pass -v to protomask. */
  verbose?: boolean;
  /**
   * More `[Interface]` keys (protomask only), e.g. `{ Offload: true }`; an `Offload` here
   * overrides {@link TEST_OFFLOAD}.
   */
  interfaceKeys?: Readonly<Record<string, string | number | boolean>>;
  /** More `[Rules]` keys (protomask only), e.g. `{ MaxLeasesPerPrefix: 4 }`. */
  rulesKeys?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
  /** `Metrics.Listen` (protomask only), e.g. "127.0.0.1:9060"; absent: off. */
  metricsListen?: string;
  /** `[Translation]` keys (protomask only), e.g. `{ MTU4: 1400 }`. */
  translationKeys?: Readonly<Record<string, string | number | boolean>>;
  /**
   * A command that runs the translator and execs it, e.g. `["taskset", "-c", "1"]` to pin it
   * to a CPU from its start (default none).
   */
  commandPrefix?: readonly string[];
}

/**
 * The protomask configuration for `s`.
 *
 * @param s Settings.
 * @returns TOML text.
 */
export function protomaskToml(s: XlatSettings): string {
  const q = (v: string) => JSON.stringify(v);
  const queues = s.queues === undefined ? TEST_QUEUES : s.queues;
  const lines = [
    "[Interface]",
    `Prefix = ${q(PREFIX)}`,
    `Pool = [${(s.pool ?? [POOL]).map(q).join(", ")}]`,
    `Address4 = ${q(ADDRESS4)}`,
    `MTU = ${s.mtu ?? 1500}`,
    ...Object.entries(s.interfaceKeys ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
    ...(queues === null ? [] : [`Queues = ${queues}`]),
    ...(TEST_OFFLOAD === null || s.interfaceKeys?.Offload !== undefined
      ? []
      : [`Offload = ${TEST_OFFLOAD}`]),
    "",
    "[Rules]",
    `MapStatic = [${
      (s.staticMaps ?? []).map((m) => `{ v4 = ${q(m.v4)}, v6 = ${q(m.v6)} }`).join(", ")
    }]`,
  ];
  if (s.reservationSecs !== undefined) lines.push(`ReservationDuration = ${s.reservationSecs}`);
  if (s.stateFile) lines.push(`StateFile = ${q(s.stateFile)}`);
  for (const [k, v] of Object.entries(s.rulesKeys ?? {})) lines.push(`${k} = ${JSON.stringify(v)}`);
  if (s.translationKeys !== undefined) {
    lines.push("", "[Translation]");
    for (const [k, v] of Object.entries(s.translationKeys)) {
      lines.push(`${k} = ${JSON.stringify(v)}`);
    }
  }
  if (s.metricsListen !== undefined) lines.push("", "[Metrics]", `Listen = ${q(s.metricsListen)}`);
  return lines.join("\n") + "\n";
}

/**
 * The TAYGA configuration for `s` (TUN name "nat64").
 *
 * @param s Settings.
 * @returns tayga.conf text.
 */
export function taygaConf(s: XlatSettings): string {
  const pool = s.pool ?? [POOL];
  if (pool.length > 1) throw new Error("TAYGA has one dynamic-pool");
  const lines = ["tun-device nat64", `ipv4-addr ${ADDRESS4}`, `prefix ${PREFIX}`];
  if (pool[0]) lines.push(`dynamic-pool ${pool[0]}`);
  for (const m of s.staticMaps ?? []) lines.push(`map ${m.v4} ${m.v6}`);
  if (s.stateFile) lines.push(`data-dir ${s.stateFile}`);
  return lines.join("\n") + "\n";
}

/**
 * Starts TAYGA in the translator namespace: a persistent TUN "nat64" (created once, kept
 * across restarts like protomask's leases are), its MTU, and routes for the prefix, Address4,
 * the pool and the static maps, then `tayga --nodetach`.
 */
async function startTayga(topo: Topology, s: XlatSettings): Promise<Daemon> {
  const x = topo.translatorNs;
  const configPath = `${topo.dir}/tayga.conf`;
  await Deno.writeTextFile(configPath, taygaConf(s));
  if (s.stateFile) await Deno.mkdir(s.stateFile, { recursive: true });
  const exists = await run(["ip", "-n", x, "link", "show", "nat64"]);
  if (exists.code !== 0) {
    const mk = await topo.exec(x, ["tayga", "--config", configPath, "--mktun"], {
      timeoutMs: 10_000,
    });
    if (mk.code !== 0) throw new Error(`tayga --mktun: ${mk.stderr}${mk.stdout}`);
    await topo.sysctl(x, "net.ipv6.conf.nat64.addr_gen_mode", "1");
    await run(["ip", "-n", x, "link", "set", "nat64", "mtu", String(s.mtu ?? 1500)]);
    await run(["ip", "-n", x, "link", "set", "nat64", "up"]);
  }
  const routes = [
    PREFIX,
    `${ADDRESS4}/32`,
    ...(s.pool ?? [POOL]),
    ...(s.staticMaps ?? []).map((m) => m.v4),
  ];
  for (const r of routes) await run(["ip", "-n", x, "route", "replace", r, "dev", "nat64"]);
  const proc = topo.spawn(
    x,
    [...(s.commandPrefix ?? []), "tayga", "--config", configPath, "--nodetach"],
    "tayga",
  );
  await sleep(300);
  if (proc.status) throw new Error(`tayga exited ${proc.status.code}: ${proc.stderr}`);
  return { kind: "tayga", proc, tunName: "nat64", configPath };
}

/**
 * Starts the selected translator with `s`.
 *
 * @param topo The topology.
 * @param kind Which translator.
 * @param s Settings.
 * @returns The running daemon (ready).
 */
export function startTranslator(
  topo: Topology,
  kind: TranslatorKind,
  s: XlatSettings = {},
): Promise<Daemon> {
  if (kind === "tayga") return startTayga(topo, s);
  return startProtomask(topo, {
    configText: protomaskToml(s),
    verbose: s.verbose ?? false,
    commandPrefix: s.commandPrefix,
  });
}

/** What an end-to-end test gets. */
export interface E2eEnv {
  /** The namespaces. */
  topo: Topology;
  /** Which translator runs. */
  kind: TranslatorKind;
  /** The servers, when started. */
  servers: Proc | null;
  /** Starts the translator (see {@link startTranslator}). */
  start(s?: XlatSettings): Promise<Daemon>;
}

/** Options of {@link e2eTest}. */
export interface E2eOptions {
  /** The namespaces to build. */
  topology?: TopologyOptions;
  /** Start the servers (default true when the topology has an IPv4 side). */
  servers?: boolean;
  /** Time limit for the whole test, teardown excluded (default 120 s). */
  timeoutMs?: number;
  /** Programs the test needs besides `ip` (checked on PATH). */
  tools?: string[];
  /** Translators the test applies to (default both); others are skipped with a message. */
  translators?: TranslatorKind[];
}

function onPath(tool: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${tool}`).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

function isRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

/**
 * Why end-to-end tests needing `tools` cannot run here, or null when they can.
 *
 * @param tools Programs needed besides `ip`.
 * @returns A reason, or null.
 */
export function skipReason(tools: readonly string[] = []): string | null {
  if (Deno.build.os !== "linux") return "not Linux";
  if (!isRoot()) return "not root (network namespaces and TUN need CAP_NET_ADMIN)";
  const missing = ["ip", ...tools].filter((t) => !onPath(t));
  if (missing.length) return `missing ${missing.join(", ")}`;
  return null;
}

/**
 * Registers an end-to-end test: builds the topology, starts the servers, runs `fn` under a
 * time limit and always tears down (also when `fn` throws or times out). Skipped, with a
 * `SKIPPED` line on stderr, when not root, a tool is missing or the translator does not apply.
 *
 * @param name Test name (behaviour).
 * @param opts Topology, time limit, tools.
 * @param fn The test body.
 * @returns Nothing.
 */
export function e2eTest(
  name: string,
  opts: E2eOptions,
  fn: (env: E2eEnv, t: Deno.TestContext) => Promise<void>,
): void {
  let reason = skipReason(opts.tools);
  if (!reason && opts.translators && !opts.translators.includes(TRANSLATOR)) {
    reason = `does not apply to ${TRANSLATOR}`;
  }
  if (reason) console.warn(`SKIPPED e2e "${name}": ${reason}`);
  Deno.test({
    name: `e2e (${TRANSLATOR}${
      TRANSLATOR === "protomask" && TEST_QUEUES !== null
        ? `, PROTOMASK_TEST_QUEUES=${TEST_QUEUES}`
        : ""
    }${
      TRANSLATOR === "protomask" && TEST_OFFLOAD !== null
        ? `, PROTOMASK_TEST_OFFLOAD=${TEST_OFFLOAD ? 1 : 0}`
        : ""
    }): ${name}`,
    ignore: reason !== null,
    fn: async (t) => {
      const topo = await Topology.create(opts.topology);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const wantServers = opts.servers ?? (opts.topology?.ipv4Side ?? true);
        const servers = wantServers ? await topo.startServers() : null;
        const env: E2eEnv = {
          topo,
          kind: TRANSLATOR,
          servers,
          start: (s) => startTranslator(topo, TRANSLATOR, s),
        };
        const limit = opts.timeoutMs ?? 120_000;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`e2e test timed out after ${limit} ms`)),
            limit,
          );
        });
        await Promise.race([fn(env, t), late]);
      } finally {
        clearTimeout(timer);
        const problems = await topo.teardown();
        if (problems.length) console.warn(`teardown of ${topo.id}: ${problems.join("; ")}`);
      }
    },
  });
}

// --- client-side tools --------------------------------------------------------------------------

/** The server's address as the clients reach it. */
export const SERVER6: string = embed(SERVER_V4);

/**
 * ping6 from a client.
 *
 * @param topo The topology.
 * @param c The client.
 * @param dst Destination IPv6 address.
 * @param opts Data bytes (-s), count, extra flags.
 * @returns The result.
 */
export function ping6(
  topo: Topology,
  c: Client,
  dst: string,
  opts: { size?: number; count?: number; extra?: string[] } = {},
): Promise<RunResult> {
  const count = opts.count ?? 2;
  return topo.exec(c.ns, [
    "ping",
    "-6",
    "-n",
    "-c",
    String(count),
    "-i",
    "0.2",
    "-W",
    "2",
    "-s",
    String(opts.size ?? 56),
    ...(opts.extra ?? []),
    dst,
  ], { timeoutMs: 5000 + count * 2500 });
}

/**
 * curl from a client.
 *
 * @param topo The topology.
 * @param c The client.
 * @param path URL path on the server's HTTP port, e.g. "/whoami".
 * @param extra More curl arguments (e.g. -o FILE, --data-binary @FILE).
 * @param timeoutSecs curl's --max-time.
 * @returns The result.
 */
export function curl(
  topo: Topology,
  c: Client,
  path: string,
  extra: string[] = [],
  timeoutSecs = 10,
): Promise<RunResult> {
  return topo.exec(c.ns, [
    "curl",
    "-g",
    "-sS",
    "--connect-timeout",
    "3",
    "--max-time",
    String(timeoutSecs),
    ...extra,
    `http://[${SERVER6}]:${PORTS.http}${path}`,
  ], { timeoutMs: (timeoutSecs + 5) * 1000 });
}

/**
 * The IPv4 address the server sees a client as (GET /whoami), or null when it cannot connect.
 *
 * @param topo The topology.
 * @param c The client.
 * @returns Dotted quad, or null.
 */
export async function whoami(topo: Topology, c: Client): Promise<string | null> {
  const r = await curl(topo, c, "/whoami", [], 5);
  return r.code === 0 ? r.stdout.trim() : null;
}

/**
 * dig (one try) from a client to the server.
 *
 * @param topo The topology.
 * @param c The client.
 * @param port UDP port.
 * @param name Question name.
 * @returns The result.
 */
export function dig(
  topo: Topology,
  c: Client,
  port: number,
  name = "ipv4only.example",
): Promise<RunResult> {
  return topo.exec(c.ns, [
    "dig",
    `@${SERVER6}`,
    "-p",
    String(port),
    "+tries=1",
    "+time=3",
    "+nocookie",
    name,
    "A",
  ], { timeoutMs: 10_000 });
}

/** One datagram's fate in {@link udpExchange}. */
export interface UdpOutcome {
  /** Bytes sent. */
  size: number;
  /** "reply" with its length and equality, "timeout", or "error: <code>". */
  result: string;
  /** Length of the reply, when one came. */
  replyBytes?: number;
  /** Whether the reply equalled the datagram. */
  equal?: boolean;
}

/**
 * Sends one UDP datagram of each size from a client to the server (tests/e2e/_udp_client.ts)
 * and reports what came back (2 s per datagram).
 *
 * @param topo The topology.
 * @param c The client.
 * @param port Server port.
 * @param sizes Datagram sizes.
 * @param opts `socketEach`: send each datagram from a socket of its own (a flow of its own).
 * @returns One outcome per size.
 */
export async function udpExchange(
  topo: Topology,
  c: Client,
  port: number,
  sizes: number[],
  opts: { socketEach?: boolean } = {},
): Promise<UdpOutcome[]> {
  const r = await topo.exec(c.ns, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-net",
    repoPath("tests/e2e/_udp_client.ts"),
    ...(opts.socketEach ? ["--socket-each"] : []),
    SERVER6,
    String(port),
    ...sizes.map(String),
  ], { timeoutMs: 15_000 + sizes.length * 3000 });
  if (r.code !== 0) throw new Error(`udp client exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as UdpOutcome);
}

/**
 * Whether a dotted-quad IPv4 address lies in a prefix "a.b.c.d/len".
 *
 * @param v4 The address.
 * @param prefix The prefix.
 * @returns True when inside.
 */
export function ipv4InPrefix(v4: string, prefix: string): boolean {
  const num = (a: string) => a.split(".").reduce((n, p) => n * 256 + Number(p), 0);
  const [net, lenText] = prefix.split("/");
  const len = Number(lenText ?? 32);
  const size = 2 ** (32 - len);
  return Math.floor(num(v4) / size) === Math.floor(num(net!) / size);
}

/** Options of {@link injectDatagrams}. */
export interface InjectOptions {
  /** Sources are 2001:db8:b::<first+1> … <first+sources>. */
  first: number;
  /** How many distinct IPv6 sources. */
  sources: number;
  /** Datagrams from each source. */
  perSource: number;
  /** About this many datagrams a second. */
  pps: number;
  /** The injecting TUN device's name (default "pminj0"). */
  device?: string;
  /** Time limit (default 30 s). */
  timeoutMs?: number;
}

/**
 * Writes UDP datagrams from many IPv6 sources into the translator's namespace with
 * tests/e2e/_inject.ts (a TUN device of its own, so no addresses are added anywhere), to
 * {@link SERVER6}. Fails the test (an assertion) when the injector exits with an error.
 *
 * @param topo The topology.
 * @param opts Sources, datagrams and rate.
 * @returns What the injector reports: datagrams written and write errors, and its stdout.
 */
export async function injectDatagrams(
  topo: Topology,
  opts: InjectOptions,
): Promise<{ written: number; errors: number; stdout: string }> {
  const r = await topo.exec(topo.translatorNs, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-ffi",
    "--allow-read",
    repoPath("tests/e2e/_inject.ts"),
    opts.device ?? "pminj0",
    SERVER6,
    String(opts.first),
    String(opts.sources),
    String(opts.perSource),
    String(opts.pps),
  ], { timeoutMs: opts.timeoutMs ?? 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  return { written: out.written, errors: out.errors, stdout: r.stdout };
}
