/**
 * Network namespaces for the demo (examples/demo.ts) and the end-to-end tests (tests/e2e):
 * IPv6-only clients, a translator namespace where protomask runs, an IPv4 router and an
 * IPv4-only server, all under unique names, all removed by {@link Topology.teardown}.
 *
 * ```
 *  client i (IPv6 only)              translator                 router (IPv4)        server (IPv4 only)
 *  eth0 2001:db8:a:<i>::2/64 ---- c<i> 2001:db8:a:<i>::1/64
 *                                 TUN (the translator's)
 *                                 r0 203.0.113.1/24 ---------- x0 203.0.113.2/24
 *                                                              s0 198.51.100.1/24 -- eth0 198.51.100.2/24
 * ```
 *
 * The router sends 192.0.2.0/24 (Address4, Pool and static maps live there) back to the
 * translator, so its ICMP errors (Time Exceeded, Fragmentation Needed) reach the translator's
 * pool route. NAT64 prefix: {@link PREFIX}, a network-specific prefix, because the documentation
 * IPv4 ranges used here are not global and the Well-Known Prefix must not carry them
 * (RFC 6052 §3.1).
 *
 * Every command is bounded in time, every wait in count; only processes started here are
 * killed, by PID. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns`) and iproute2.
 *
 * @module
 */

/** The NAT64 prefix (RFC 6052 §2.2, /96) the namespaces route into the translator. */
export const PREFIX = "2001:db8:64::/96";
/** The translator's own IPv4 address (`Interface.Address4`). */
export const ADDRESS4 = "192.0.2.1";
/** Where the router sends IPv4 traffic for the translator (Address4, Pool, static maps). */
export const TRANSLATOR_V4_NET = "192.0.2.0/24";
/** The translator's address on its IPv4 link. */
export const TRANSLATOR_V4 = "203.0.113.1";
/** The router's address on the translator's IPv4 link. */
export const ROUTER_V4 = "203.0.113.2";
/** The router's address on the server's link. */
export const ROUTER_SERVER_SIDE_V4 = "198.51.100.1";
/** The IPv4-only server. */
export const SERVER_V4 = "198.51.100.2";
/** Ports the servers listen on. */
export const PORTS = { http: 8080, echo: 7, dns: 53 } as const;
/** A UDP port nothing listens on, on the server. */
export const CLOSED_UDP_PORT = 9;

const REPO = new URL("../", import.meta.url);

/**
 * Absolute path of a file of this repository.
 *
 * @param rel Path relative to the repository root, e.g. "main.ts".
 * @returns The absolute file-system path.
 */
export function repoPath(rel: string): string {
  return decodeURIComponent(new URL(rel, REPO).pathname);
}

/**
 * The IPv6 address that stands for `v4` under {@link PREFIX} (RFC 6052 §2.2, /96 form).
 *
 * @param v4 Dotted-quad IPv4 address.
 * @returns The embedded IPv6 address, compressed as `ip` and traceroute print it.
 */
export function embed(v4: string): string {
  const b = v4.split(".").map(Number);
  const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  return `2001:db8:64::${hex(b[0]!, b[1]!)}:${hex(b[2]!, b[3]!)}`;
}

/** A finished command. */
export interface RunResult {
  /** Exit code (128+signal when killed by a signal). */
  code: number;
  /** Decoded standard output. */
  stdout: string;
  /** Decoded standard error. */
  stderr: string;
  /** True when the time limit killed it. */
  timedOut: boolean;
  /** Wall time, milliseconds. */
  elapsedMs: number;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Time limit; the command gets SIGKILL after it (default 30 s). */
  timeoutMs?: number;
  /** Bytes for standard input (default: none). */
  stdin?: Uint8Array;
}

const decoder = new TextDecoder();

/**
 * Runs a command to completion with a time limit and captures its output.
 *
 * @param cmd Program and arguments.
 * @param opts Time limit and standard input.
 * @returns What it printed and how it ended; never throws for a non-zero exit.
 */
export async function run(cmd: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs ?? 30_000);
  try {
    if (opts.stdin) {
      const w = child.stdin.getWriter();
      await w.write(opts.stdin).catch(() => {});
      await w.close().catch(() => {});
    }
    const out = await child.output();
    return {
      code: out.signal ? 128 + signalNumber(out.signal) : out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut,
      elapsedMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a command and throws when it fails (setup steps that must work).
 *
 * @param cmd Program and arguments.
 * @param opts Time limit and standard input.
 * @returns Its standard output.
 */
export async function must(cmd: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, opts);
  if (r.code !== 0) {
    throw new Error(
      `\`${cmd.join(" ")}\` ${r.timedOut ? "timed out" : `exited ${r.code}`}: ${r.stderr.trim()}`,
    );
  }
  return r.stdout;
}

function signalNumber(sig: Deno.Signal): number {
  const table: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGPIPE: 13,
    SIGTERM: 15,
    SIGABRT: 6,
  };
  return table[sig] ?? 0;
}

/** How a stopped process ended. */
export interface StopResult {
  /** Exit code, or 128+signal when a signal ended it. */
  code: number;
  /** The signal that ended it, or null after a normal exit. */
  signal: Deno.Signal | null;
  /** Milliseconds from sending the signal to the exit. */
  elapsedMs: number;
  /** True when it did not exit in time and got SIGKILL. */
  forced: boolean;
}

/**
 * Runs `ip -n NS <args>` (args split at spaces) and throws when it fails.
 *
 * @param ns Namespace.
 * @param args The rest of the `ip` command line, e.g. "link set eth0 up".
 * @returns Its standard output.
 */
export function ipIn(ns: string, args: string): Promise<string> {
  return must(["ip", "-n", ns, ...args.split(/\s+/).filter((a) => a !== "")]);
}

/**
 * Sleeps (bounded by the caller).
 *
 * @param ms Milliseconds.
 * @returns A promise that resolves after `ms`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A long-running process with its output captured as it comes.
 */
export class Proc {
  /** The process id (after `ip netns exec`, the program itself: it execs). */
  readonly pid: number;
  /** A name for messages. */
  readonly label: string;
  #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #status: Deno.CommandStatus | null = null;
  #done: Promise<Deno.CommandStatus>;

  /**
   * Starts `cmd` with piped stdout/stderr and no stdin.
   *
   * @param cmd Program and arguments.
   * @param label A name for messages.
   */
  constructor(cmd: readonly string[], label: string) {
    this.label = label;
    const child = new Deno.Command(cmd[0]!, {
      args: cmd.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // No colours in captured output; no background upgrade check from the Deno children.
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.#child = child;
    this.pid = child.pid;
    const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
      for await (const t of s.pipeThrough(new TextDecoderStream())) add(t);
    };
    const readers = Promise.all([
      pump(child.stdout, (t) => this.#stdout += t),
      pump(child.stderr, (t) => this.#stderr += t),
    ]);
    this.#done = (async () => {
      const st = await child.status;
      await readers.catch(() => {});
      this.#status = st;
      return st;
    })();
  }

  /** Everything printed on stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Everything printed on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The exit status once it has exited (output fully read), else null. */
  get status(): Deno.CommandStatus | null {
    return this.#status;
  }

  /** Resolves with the exit status once it has exited and its output is read. */
  get exited(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  /**
   * Waits until stdout or stderr matches `re`, the process exits, or time runs out.
   *
   * @param re Pattern to look for.
   * @param timeoutMs Time limit.
   * @returns The match, or null when it exited or timed out without one.
   */
  async waitForOutput(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray | null> {
    const step = 25;
    for (let i = 0; i <= timeoutMs / step; i++) {
      const m = this.#stderr.match(re) ?? this.#stdout.match(re);
      if (m) return m;
      if (this.#status) return null;
      await sleep(step);
    }
    return null;
  }

  /**
   * Sends a signal if it still runs.
   *
   * @param signal The signal.
   * @returns Nothing.
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#status) return;
    try {
      this.#child.kill(signal);
    } catch { /* exited meanwhile */ }
  }

  /**
   * Waits for the exit, at most `timeoutMs`.
   *
   * @param timeoutMs Time limit.
   * @returns The status, or null when it still runs.
   */
  async waitExit(timeoutMs: number): Promise<Deno.CommandStatus | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), timeoutMs));
    try {
      return await Promise.race([this.#done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends `signal` and waits for the exit; after `timeoutMs` sends SIGKILL and waits again.
   *
   * @param signal The signal to stop it with.
   * @param timeoutMs How long it may take.
   * @returns How it ended.
   */
  async stop(signal: Deno.Signal = "SIGTERM", timeoutMs = 5000): Promise<StopResult> {
    const started = performance.now();
    this.kill(signal);
    let st = await this.waitExit(timeoutMs);
    const elapsedMs = performance.now() - started;
    let forced = false;
    if (!st) {
      forced = true;
      this.kill("SIGKILL");
      st = await this.waitExit(10_000);
      if (!st) throw new Error(`${this.label} (pid ${this.pid}) survived SIGKILL`);
    }
    return {
      code: st.signal ? 128 + signalNumber(st.signal) : st.code,
      signal: st.signal,
      elapsedMs,
      forced,
    };
  }
}

/** Options of {@link Topology.create}. */
export interface TopologyOptions {
  /** Number of IPv6-only clients (default 1). */
  clients?: number;
  /** Build the router and server namespaces (default true). */
  ipv4Side?: boolean;
  /** MTU of the router–server link (default 1500); the server still advertises MSS 1460. */
  serverLinkMtu?: number;
  /** Short tag in the namespace names, e.g. the test file (default "t"). */
  tag?: string;
}

/** One IPv6-only client. */
export interface Client {
  /** 1-based. */
  index: number;
  /** Namespace name. */
  ns: string;
  /** Its address, e.g. 2001:db8:a:1::2. */
  addr: string;
  /** The translator namespace's address on its link (its default gateway). */
  gateway: string;
}

/**
 * A set of namespaces and the processes started in them.
 */
export class Topology {
  /** Unique id, the common prefix of every namespace name. */
  readonly id: string;
  /** The translator namespace (the daemon runs here). */
  readonly translatorNs: string;
  /** The IPv4 router namespace, or null without an IPv4 side. */
  readonly routerNs: string | null;
  /** The IPv4-only server namespace, or null without an IPv4 side. */
  readonly serverNs: string | null;
  /** The IPv6-only clients. */
  readonly clients: readonly Client[];
  /** A temporary directory for configs, state files and captures (removed at teardown). */
  readonly dir: string;
  #procs: Proc[] = [];
  #created: string[] = [];

  private constructor(opts: Required<TopologyOptions>, dir: string) {
    const rand = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36).slice(0, 4);
    this.id = `pm${Deno.pid.toString(36)}${rand}${opts.tag}`;
    this.dir = dir;
    this.translatorNs = `${this.id}-x`;
    this.routerNs = opts.ipv4Side ? `${this.id}-r` : null;
    this.serverNs = opts.ipv4Side ? `${this.id}-s` : null;
    this.clients = Array.from({ length: opts.clients }, (_, k) => ({
      index: k + 1,
      ns: `${this.id}-c${k + 1}`,
      addr: `2001:db8:a:${k + 1}::2`,
      gateway: `2001:db8:a:${k + 1}::1`,
    }));
  }

  /**
   * Creates the namespaces, links, addresses, routes and sysctls. On any failure, whatever
   * was created is removed before the error propagates.
   *
   * @param options What to build.
   * @returns The topology; call {@link Topology.teardown} in a `finally`.
   */
  static async create(options: TopologyOptions = {}): Promise<Topology> {
    const opts: Required<TopologyOptions> = {
      clients: options.clients ?? 1,
      ipv4Side: options.ipv4Side ?? true,
      serverLinkMtu: options.serverLinkMtu ?? 1500,
      tag: options.tag ?? "t",
    };
    if (opts.clients < 0 || opts.clients > 16) throw new RangeError("clients must be 0..16");
    const dir = await Deno.makeTempDir({ prefix: "protomask-netns-" });
    const topo = new Topology(opts, dir);
    try {
      await topo.#build(opts);
      await topo.#warmUp();
    } catch (e) {
      await topo.teardown();
      throw e;
    }
    return topo;
  }

  /**
   * Creates one more namespace, `<id>-<suffix>`, removed at teardown like the others (with
   * `lo` up and no ICMP rate limits).
   *
   * @param suffix A short name, unique within the topology.
   * @returns The namespace's name.
   */
  async addNamespace(suffix: string): Promise<string> {
    const ns = `${this.id}-${suffix}`;
    await this.#addNs(ns);
    return ns;
  }

  async #addNs(ns: string): Promise<void> {
    await must(["ip", "netns", "add", ns]);
    this.#created.push(ns);
    await must(["ip", "-n", ns, "link", "set", "lo", "up"]);
    // No ICMP rate limiting: traceroute and the error tests must get every error back.
    await this.sysctl(ns, "net.ipv4.icmp_ratelimit", "0");
    await this.sysctl(ns, "net.ipv6.icmp.ratelimit", "0");
  }

  async #build(opts: Required<TopologyOptions>): Promise<void> {
    const x = this.translatorNs;
    await this.#addNs(x);
    await this.sysctl(x, "net.ipv4.ip_forward", "1");
    await this.sysctl(x, "net.ipv6.conf.all.forwarding", "1");
    for (const c of this.clients) {
      const dev = `c${c.index}`;
      await this.#addNs(c.ns);
      // Created inside the namespaces: the names never exist on the host.
      await ipIn(x, `link add ${dev} type veth peer name eth0 netns ${c.ns}`);
      await this.sysctl(c.ns, "net.ipv6.conf.eth0.accept_ra", "0");
      await ipIn(c.ns, `addr add ${c.addr}/64 dev eth0 nodad`);
      await ipIn(c.ns, "link set eth0 up");
      await ipIn(c.ns, `-6 route add default via ${c.gateway} dev eth0`);
      await ipIn(x, `addr add ${c.gateway}/64 dev ${dev} nodad`);
      await ipIn(x, `link set ${dev} up`);
    }
    if (!this.routerNs || !this.serverNs) return;
    const r = this.routerNs, s = this.serverNs, mtu = opts.serverLinkMtu;
    await this.#addNs(r);
    await this.#addNs(s);
    for (const ns of [r, s]) {
      await this.sysctl(ns, "net.ipv6.conf.all.disable_ipv6", "1");
      await this.sysctl(ns, "net.ipv6.conf.default.disable_ipv6", "1");
    }
    await this.sysctl(r, "net.ipv4.ip_forward", "1");
    await ipIn(x, `link add r0 type veth peer name x0 netns ${r}`);
    await ipIn(r, `link add s0 type veth peer name eth0 netns ${s}`);
    await ipIn(x, `addr add ${TRANSLATOR_V4}/24 dev r0`);
    await ipIn(x, "link set r0 up");
    await ipIn(x, `route add default via ${ROUTER_V4} dev r0`);
    await ipIn(r, `addr add ${ROUTER_V4}/24 dev x0`);
    await ipIn(r, `addr add ${ROUTER_SERVER_SIDE_V4}/24 dev s0`);
    await ipIn(r, `link set s0 mtu ${mtu}`);
    await ipIn(r, "link set x0 up");
    await ipIn(r, "link set s0 up");
    await ipIn(r, `route add ${TRANSLATOR_V4_NET} via ${TRANSLATOR_V4} dev x0`);
    await ipIn(s, `addr add ${SERVER_V4}/24 dev eth0`);
    await ipIn(s, `link set eth0 mtu ${mtu}`);
    await ipIn(s, "link set eth0 up");
    // The server advertises the TCP MSS of a host on a 1500-byte LAN even when its link is
    // narrower, so a client's TCP meets the narrow link through path-MTU discovery (the
    // router's Fragmentation Needed, translated), not through the MSS option.
    await ipIn(s, `route add default via ${ROUTER_SERVER_SIDE_V4} dev eth0 advmss 1460`);
  }

  /**
   * Resolves every neighbour once (each client its gateway, the translator the router, the
   * router the server), in parallel, so the first packets of a test or the demo carry no
   * neighbour-discovery delay: a fresh veth ignores the first Neighbor Solicitation for about
   * a second, which would otherwise show up as a one-second first ping through the translator.
   */
  async #warmUp(): Promise<void> {
    const pings: Promise<RunResult>[] = this.clients.map((c) =>
      this.exec(c.ns, ["ping", "-6", "-n", "-c", "1", "-W", "3", c.gateway], { timeoutMs: 5000 })
    );
    if (this.routerNs) {
      pings.push(this.exec(this.translatorNs, ["ping", "-n", "-c", "1", "-W", "3", ROUTER_V4]));
      pings.push(this.exec(this.routerNs, ["ping", "-n", "-c", "1", "-W", "3", SERVER_V4]));
    }
    const failed = (await Promise.all(pings)).filter((r) => r.code !== 0);
    if (failed.length) throw new Error(`neighbour warm-up failed: ${failed[0]!.stdout}`);
  }

  /**
   * Sets a sysctl inside a namespace.
   *
   * @param ns Namespace.
   * @param key e.g. "net.ipv4.ip_forward".
   * @param value The value.
   * @returns Nothing; throws when it fails.
   */
  async sysctl(ns: string, key: string, value: string): Promise<void> {
    await must(["ip", "netns", "exec", ns, "sysctl", "-qw", `${key}=${value}`]);
  }

  /**
   * Runs a command inside a namespace to completion (bounded).
   *
   * @param ns Namespace.
   * @param cmd Program and arguments.
   * @param opts Time limit (default 30 s) and standard input.
   * @returns Its result.
   */
  exec(ns: string, cmd: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(["ip", "netns", "exec", ns, ...cmd], opts);
  }

  /**
   * Starts a long-running command inside a namespace; teardown stops it if it still runs.
   *
   * @param ns Namespace.
   * @param cmd Program and arguments.
   * @param label A name for messages.
   * @returns The process.
   */
  spawn(ns: string, cmd: readonly string[], label: string): Proc {
    const p = new Proc(["ip", "netns", "exec", ns, ...cmd], label);
    this.#procs.push(p);
    return p;
  }

  /**
   * Starts the HTTP, UDP echo and DNS servers (examples/netns_servers.ts) in the server
   * namespace and waits until they listen.
   *
   * @returns The server process.
   */
  async startServers(): Promise<Proc> {
    if (!this.serverNs) throw new Error("no IPv4 side in this topology");
    const p = this.spawn(this.serverNs, [
      Deno.execPath(),
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-net",
      repoPath("examples/netns_servers.ts"),
      SERVER_V4,
      "--http",
      String(PORTS.http),
      "--echo",
      String(PORTS.echo),
      "--dns",
      String(PORTS.dns),
    ], "servers");
    if (!(await p.waitForOutput(/^listening /m, 20_000))) {
      await p.stop("SIGKILL", 2000);
      throw new Error(`servers did not start: ${p.stderr.trim()}`);
    }
    return p;
  }

  /**
   * Stops every process started with {@link Topology.spawn} (SIGTERM, then SIGKILL), deletes
   * the namespaces (which removes their veths and TUNs) and the temporary directory. Safe to
   * call twice; never throws.
   *
   * @returns Problems met (empty when everything went).
   */
  async teardown(): Promise<string[]> {
    const problems: string[] = [];
    const procs = this.#procs.splice(0);
    await Promise.all(procs.map(async (p) => {
      try {
        await p.stop("SIGTERM", 3000);
      } catch (e) {
        problems.push(String(e));
      }
    }));
    for (const ns of this.#created.splice(0).reverse()) {
      const r = await run(["ip", "netns", "del", ns], { timeoutMs: 10_000 });
      if (r.code !== 0) problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    return problems;
  }
}

/** Options of {@link startProtomask}. */
export interface DaemonOptions {
  /** The TOML configuration. */
  configText: string;
  /** File name of the config inside the topology's directory (default "protomask.toml"). */
  configName?: string;
  /** Pass `-v`. */
  verbose?: boolean;
  /** Time to wait for the ready line (default 20 s). */
  readyTimeoutMs?: number;
  /** Wait for the ready line (default true). */
  waitReady?: boolean;
  /**
   * A command that runs the daemon and execs it (so the pid stays the daemon's), e.g.
   * `["taskset", "-c", "1"]` (default none).
   */
  commandPrefix?: readonly string[];
  /** Extra environment variables for the daemon (e.g. `DENO_V8_FLAGS`), set through `env`. */
  env?: Record<string, string>;
  /** The namespace to run in (default the translator's). */
  ns?: string;
  /** A subcommand before the options, e.g. `"clat"` (default none: the NAT64 translator). */
  subcommand?: string;
}

/**
 * A running translator daemon.
 */
export interface Daemon {
  /** "protomask" or the stand-in's name. */
  readonly kind: string;
  /** Its process. */
  readonly proc: Proc;
  /** The TUN device it uses, once known. */
  readonly tunName: string | null;
  /** Where its config file is. */
  readonly configPath: string;
}

/**
 * Writes the config and starts `deno run -A main.ts [-v] CONFIG` in the translator namespace;
 * waits (bounded) for the line containing "ready".
 *
 * @param topo The topology.
 * @param opts Configuration text and options.
 * @returns The daemon; throws when it exits or stays silent instead of getting ready (with
 *   its stderr in the message).
 */
export async function startProtomask(topo: Topology, opts: DaemonOptions): Promise<Daemon> {
  const configPath = `${topo.dir}/${opts.configName ?? "protomask.toml"}`;
  await Deno.writeTextFile(configPath, opts.configText);
  // The prefix and `env` exec the daemon, so the process id stays the daemon's own.
  const prefix = [
    ...(opts.commandPrefix ?? []),
    ...(opts.env ? ["env", ...Object.entries(opts.env).map(([k, v]) => `${k}=${v}`)] : []),
  ];
  const proc = topo.spawn(opts.ns ?? topo.translatorNs, [
    ...prefix,
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    repoPath("main.ts"),
    ...(opts.subcommand !== undefined ? [opts.subcommand] : []),
    ...(opts.verbose ? ["-v"] : []),
    configPath,
  ], opts.subcommand === undefined ? "protomask" : `protomask ${opts.subcommand}`);
  const daemon = { kind: "protomask", proc, tunName: null as string | null, configPath };
  if (opts.waitReady === false) return daemon;
  const m = await proc.waitForOutput(/ready on \\?"?([\w.%-]+)/, opts.readyTimeoutMs ?? 20_000);
  if (!m) {
    const why = proc.status ? `exited with ${proc.status.code}` : "did not get ready in time";
    if (!proc.status) await proc.stop("SIGKILL", 2000);
    throw new Error(`protomask ${why}; stderr:\n${proc.stderr}`);
  }
  daemon.tunName = m[1]!;
  return daemon;
}
