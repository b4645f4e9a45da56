/**
 * The running daemon's main thread (docs/ARCHITECTURE.md): opens the TUN device with one queue
 * per packet Worker (`Interface.Queues`), sets up its link, routes and MTU over rtnetlink,
 * restores the leases, starts the packet Workers, and then only keeps time — the coarse clock,
 * and the timers that call the {@link LeaseKeeper} (lib/daemon/lease_keeper.ts: lease expiry,
 * the audit log of lease events, when to write the lease file) — writes the files, and answers
 * signals: SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR2 logs counters (SIGUSR1 would start V8's
 * inspector).
 *
 * Every Worker reads and writes its own queue's fd and keeps its own counter row and IPv4
 * Identification seed; they share the lease table, the clock and the configuration generation,
 * so a reload or a stop reaches all of them through shared memory (each picks up its reload
 * message at its next packet). The kernel keeps each flow on one queue (see `openTunQueues`),
 * so several Workers do not reorder a flow.
 *
 * `runDaemon` resolves with the exit status once the daemon has stopped; the caller
 * (`main.ts`) exits the process, which also ends the Workers blocked in `read` and removes the
 * TUN device with its last file descriptor.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { dirname } from "node:path";
import {
  type InterfaceSetup,
  type ProxyNeighbors,
  setUpInterface,
  setUpProxyNeighbors,
} from "../ffi/netlink.ts";
import { readSmallFile } from "../ffi/libc.ts";
import { GSO_MAX_BYTES, type LinuxTun, offloadNames, openTunOffload } from "../ffi/tun.ts";
import { formatIpv4, formatIpv4Prefix } from "../lib/addr/ipv4.ts";
import { formatIpv6, formatIpv6Prefix } from "../lib/addr/ipv6.ts";
import type { Config } from "../lib/config/config.ts";
import { effectiveQueues } from "../lib/config/queues.ts";
import type { FromWorker, WorkerInit, WorkerReload } from "../lib/daemon/messages.ts";
import {
  droppedRecord,
  leaseEventRecord,
  mappingLine,
  type MappingRecord,
  refusalRecord,
} from "../lib/daemon/mapping_log.ts";
import type { RefusalLine } from "../lib/daemon/refusal_log.ts";
import {
  countersForLog,
  type DaemonCounters,
  describeLeaseEvent,
  describeRefusal,
  newDaemonCounters,
  receivedByQueue,
} from "../lib/daemon/report.ts";
import { LeaseKeeper, type LeaseKeeperSinks } from "../lib/daemon/lease_keeper.ts";
import {
  restartOnlyChanges,
  routeChanges,
  routesFor,
  type TunRoutes,
} from "../lib/daemon/routes.ts";
import { health, renderMetrics } from "../lib/daemon/metrics.ts";
import { SharedState } from "../lib/daemon/shared.ts";
import {
  type CheckedSysctl,
  type SysctlReading,
  sysctlsFor,
  sysctlWarnings,
} from "../lib/daemon/sysctl.ts";
import { decodeLeaseFile, encodeLeaseFile } from "../lib/lease/persist.ts";
import {
  type LeaseEvent,
  LeaseTable,
  type LeaseTableOptions,
  type ReconfigureResult,
} from "../lib/lease/table.ts";
import { leaseTableOptions } from "../lib/xlat/settings.ts";
import { proxyAddresses, withPref64 } from "../lib/clat/routes.ts";
import { Pref64Discovery } from "./pref64.ts";
import type { Ipv6Prefix } from "../lib/addr/ipv6.ts";
import { MappingLogFile } from "./mapping_log_file.ts";
import { type MetricsServer, startMetricsServer } from "./metrics_server.ts";
import {
  describeFsError,
  keepDamagedStateFile,
  prepareStateFile,
  readStateFile,
  writeStateFile,
} from "./state_file.ts";

const log = getLogger(["protomask", "daemon"]);
const audit = getLogger(["protomask", "lease"]);

/** Milliseconds between writes of the shared coarse clock. */
const CLOCK_TICK_MS = 100;
/** Milliseconds between drains of the lease event ring (audit log, save scheduling). */
const EVENT_TICK_MS = 250;
/** Milliseconds between lease expiry sweeps. */
const SWEEP_TICK_MS = 1000;
/** How long a packet Worker may take to start. */
const WORKER_START_TIMEOUT_MS = 10_000;
/** Dropped-lease lines logged one by one at start or reload; the rest are counted. */
const MAX_DROP_LINES = 20;
/**
 * The most milliseconds a packet Worker waits for room in the lease event ring before it
 * refuses a new lease (the ring never overwrites: see README, "Audit log").
 */
const EVENT_WAIT_MS = 50;

/** The lease table options of a configuration, with the daemon's lossless event ring. */
function tableOptions(cfg: Config): LeaseTableOptions {
  return { ...leaseTableOptions(cfg), eventWaitMs: EVENT_WAIT_MS };
}

/** Writes audit-log records (to the mapping log, when there is one). */
type RecordMapping = (r: MappingRecord) => void;

/** A failure to start (config is valid, but the system refused something). */
export class DaemonStartError extends Error {
  /**
   * Creates the error.
   * @param message what failed, for the operator
   */
  constructor(message: string) {
    super(message);
    this.name = "DaemonStartError";
  }
}

/** The result of re-reading the configuration on SIGHUP. */
export type ReloadResult = { ok: true; config: Config } | { ok: false; message: string };

/** What `runDaemon` needs. */
export interface DaemonOptions {
  /** The validated configuration. */
  config: Config;
  /** Re-reads the configuration (file plus command-line overrides) for SIGHUP. */
  reload: () => Promise<ReloadResult>;
  /** The version for `protomask_build_info` (default "unknown"). */
  version?: string;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function routeText(routes: TunRoutes): string[] {
  return [...routes.routes6.map(formatIpv6Prefix), ...routes.routes4.map(formatIpv4Prefix)];
}
/**
 * Runs the daemon until SIGTERM or SIGINT (or a fatal Worker error).
 *
 * @param opts configuration and reload hook
 * @returns the exit status: 0 after a clean stop, 1 after a fatal error while running
 * @throws {DaemonStartError} when the TUN device, its routes or the Worker cannot be set up
 *   (everything set up so far has been removed again)
 */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const daemon = await Daemon.start(opts);
  return await daemon.run();
}

/** What the start set up, handed to the running {@link Daemon}. */
interface Started {
  opts: DaemonOptions;
  queues: number;
  shared: SharedState;
  counters: DaemonCounters;
  keeper: LeaseKeeper;
  mapping: MappingLogFile | null;
  tuns: LinuxTun[];
  offloadFlags: number;
  iface: InterfaceSetup;
  workers: Worker[];
  /** Per packet Worker: still running (for /healthz). */
  alive: boolean[];
}

/**
 * The running daemon's main thread: the state its timers and signal handlers share. Leases
 * are the {@link LeaseKeeper}'s; this class owns the timers, Workers, files and sockets.
 */
class Daemon {
  #cfg: Config;
  #routes: TunRoutes;
  readonly #s: Started;
  readonly #stateFile: string | null;
  #metrics: MetricsServer | null = null;
  #stopping = false;
  #exitCode = 0;
  #saving: Promise<void> = Promise.resolve();
  #reloading: Promise<void> = Promise.resolve();
  #timers: ReturnType<typeof setInterval>[] = [];
  #handlers: [Deno.Signal, () => void][] = [];
  /** A CLAT's `Via = "auto"` discovery while it runs. */
  #pref64: Pref64Discovery | null = null;
  /** A CLAT's proxy Neighbor Discovery entries (`NeighborProxy`) while they are in place. */
  #proxy: ProxyNeighbors | null = null;
  #resolveStopped!: (code: number) => void;
  readonly #stopped = new Promise<number>((resolve) => (this.#resolveStopped = resolve));

  private constructor(s: Started) {
    this.#s = s;
    this.#cfg = s.opts.config;
    this.#routes = routesFor(this.#cfg);
    this.#stateFile = this.#cfg.rules.stateFile;
  }

  /**
   * Restores the leases, opens the TUN queues, sets up the link and routes and starts the
   * packet Workers and the metrics endpoint; undoes what it did when one of them fails.
   */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const cfg = opts.config;
    const queues = effectiveQueues(cfg.interface.queues, navigator.hardwareConcurrency);
    const shared = SharedState.create(queues);
    shared.setNowMs(Date.now());
    const counters = newDaemonCounters();
    const mapping = cfg.logging.mappingLog === null
      ? null
      : await openMappingLog(cfg.logging.mappingLog);
    const record: RecordMapping = (r) => mapping?.write(mappingLine(r));
    const keeper = new LeaseKeeper({
      table: LeaseTable.create(tableOptions(cfg)),
      counters,
      sinks: keeperSinks(record),
      nowMs: Date.now,
    });
    try {
      if (cfg.rules.stateFile !== null) {
        const restored = await restoreLeases(keeper, cfg.rules.stateFile, record);
        counters.lease_restored += restored.restored;
        counters.lease_dropped += restored.dropped;
        await prepareLeaseFile(keeper.table, cfg.rules.stateFile);
      }
    } catch (e) {
      await mapping?.close();
      throw e;
    }
    let daemon: Daemon;
    try {
      const set = await startInterface(cfg, queues, shared, keeper.table);
      daemon = new Daemon({ opts, queues, shared, counters, keeper, mapping, ...set });
      try {
        daemon.#startMetrics();
      } catch (e) {
        undoInterface(set);
        throw e;
      }
    } catch (e) {
      await mapping?.close();
      throw new DaemonStartError(message(e));
    }
    return daemon;
  }

  /** Serves /metrics and /healthz when configured; rendered per scrape, nothing per packet. */
  #startMetrics(): void {
    const cfg = this.#cfg;
    if (cfg.metrics.listen === null) return;
    const { shared, counters, keeper, alive } = this.#s;
    const startTimeSecs = Math.floor(Date.now() / 1000);
    this.#metrics = startMetricsServer({
      listen: cfg.metrics.listen,
      health: () => health(alive, this.#stopping),
      render: () => {
        const mem = Deno.memoryUsage();
        return renderMetrics({
          totals: shared.sumCounters(),
          receivedByQueue: receivedByQueue(shared),
          daemon: counters,
          poolAddresses: keeper.table.capacity,
          dynamicLeases: keeper.table.size,
          staticMaps: this.#cfg.rules.mapStatic.length,
          workers: alive.length,
          workersAlive: alive.filter((a) => a).length,
          rssBytes: mem.rss,
          heapUsedBytes: mem.heapUsed,
          version: this.#s.opts.version ?? "unknown",
          startTimeSecs,
        });
      },
    });
  }

  /** Starts the timers and signal handlers, logs the ready line, and waits for the stop. */
  async run(): Promise<number> {
    const { shared, keeper, mapping } = this.#s;
    this.#timers = [
      setInterval(() => shared.setNowMs(Date.now()), CLOCK_TICK_MS),
      setInterval(() => {
        keeper.drain();
        if (this.#stateFile !== null && keeper.saveDue()) this.#queueSave();
      }, EVENT_TICK_MS),
      setInterval(() => {
        keeper.sweep();
        if (mapping !== null) void mapping.flush();
      }, SWEEP_TICK_MS),
    ];
    // Besides the timer: whenever a Worker fills the event ring to half its size.
    void keeper.watch().catch((e) =>
      log.error("lease event watch failed: {error}", { error: message(e) })
    );
    this.#watchWorkers();
    this.#handlers = [
      ["SIGTERM", () => void this.#stop("SIGTERM", 0)],
      ["SIGINT", () => void this.#stop("SIGINT", 0)],
      ["SIGHUP", () => this.#onHangup()],
      ["SIGUSR2", () => this.#logCounters("counters")],
    ];
    for (const [sig, fn] of this.#handlers) Deno.addSignalListener(sig, fn);
    // Only now: whoever waits for this line may signal at once, and must find the handlers.
    this.#logReady();
    this.#syncClat(null, this.#cfg);
    const sysctls = sysctlsFor(this.#cfg);
    for (const warning of sysctlWarnings(readSysctls(sysctls), sysctls)) {
      log.warn("{warning}", { event: "sysctl", warning });
    }
    return await this.#stopped;
  }

  #logReady(): void {
    const cfg = this.#cfg;
    log.info("protomask ready on {name}: {prefix} <-> pool {pool}; routes {routes}", {
      event: "ready",
      name: this.#s.tuns[0]!.name,
      queues: this.#s.queues,
      prefix: formatIpv6Prefix(cfg.interface.prefix),
      metrics: this.#metrics?.address ?? null,
      pool: cfg.interface.pool.map(formatIpv4Prefix).join(", ") || "(none)",
      routes: routeText(this.#routes).join(", "),
      address4: formatIpv4(cfg.interface.address4),
      address6: formatIpv6(cfg.interface.address6),
      mtu: cfg.interface.mtu,
      offload: offloadNames(this.#s.offloadFlags),
      leases: this.#s.keeper.table.size,
      stateFile: this.#stateFile,
      mappingLog: this.#s.mapping?.path ?? null,
    });
  }

  /** Any queue's Worker ending or failing stops the daemon, as with one queue. */
  #watchWorkers(): void {
    this.#s.workers.forEach((w, index) => {
      w.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        if (m.kind === "ended") this.#s.alive[index] = false;
        if (m.kind === "ended" && !this.#stopping) {
          log.error("packet worker {index} ended: {reason}", { index: m.index, reason: m.reason });
          void this.#stop("worker ended", 1);
        }
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#s.alive[index] = false;
        if (this.#stopping) return;
        log.error("packet worker {index} failed: {error}", { index, error: e.message });
        void this.#stop("worker failed", 1);
      };
    });
  }

  #queueSave(): void {
    this.#saving = this.#saving.then(() => this.#save());
  }

  /** Writes the live leases to the lease file; a failure is logged and retried later. */
  async #save(): Promise<void> {
    const path = this.#stateFile;
    if (path === null) return;
    const keeper = this.#s.keeper;
    const { records, nowSecs } = keeper.beginSave();
    try {
      await writeStateFile(path, encodeLeaseFile(records, nowSecs));
    } catch (e) {
      const failures = keeper.saveFailed();
      logSaveFailure({
        path,
        error: describeFsError(e),
        failures,
        retrySecs: keeper.scheduler.retryDelayMs / 1000,
        final: this.#stopping,
      });
      return;
    }
    const failures = keeper.saveSucceeded();
    if (failures > 0) {
      log.info("lease file {path} written again after {failures} failed writes", {
        event: "lease-file-written",
        path,
        failures,
      });
    }
    log.debug("saved {count} leases to {path}", { count: records.length, path });
  }

  #logCounters(msg: string): void {
    const { shared, counters, mapping, keeper } = this.#s;
    if (mapping !== null) counters.mapping_log_write_errors = mapping.writeErrors;
    log.info(msg, {
      event: "counters",
      counters: countersForLog(shared.sumCounters(), counters),
      receivedByQueue: receivedByQueue(shared),
      leases: keeper.table.size,
    });
  }

  /** Stops the Workers, drains and saves the leases, removes the routes, closes the fds. */
  async #stop(signal: string, code: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#exitCode = code;
    const { shared, keeper, mapping, counters } = this.#s;
    log.info("{signal}: stopping", { signal });
    shared.requestStop();
    for (const t of this.#timers) clearInterval(t);
    for (const [sig, fn] of this.#handlers) Deno.removeSignalListener(sig, fn);
    for (const w of this.#s.workers) w.onmessage = null;
    await this.#reloading.catch(() => {});
    await this.#pref64?.stop();
    for (const p of this.#proxy?.undo() ?? []) log.warn("cleanup: {problem}", { problem: p });
    keeper.close(); // ends the half-full watch (not awaited: no timers are left)
    if (this.#stateFile !== null) {
      await this.#saving;
      await this.#save();
    } else {
      // No lease file: the leases end with the process, and the audit log says so.
      const nowMs = Date.now();
      for (const l of keeper.table.snapshot(Math.floor(nowMs / 1000))) {
        const dropped = { timeMs: nowMs, ipv6: l.v6, ipv4: l.v4, reason: "stopped" };
        mapping?.write(mappingLine(droppedRecord(dropped)));
      }
    }
    if (mapping !== null) {
      await mapping.close();
      counters.mapping_log_write_errors = mapping.writeErrors;
    }
    await this.#metrics?.close();
    for (const p of this.#s.iface.undo()) log.warn("cleanup: {problem}", { problem: p });
    for (const t of this.#s.tuns) t.close();
    this.#logCounters("stopped; counters");
    this.#resolveStopped(this.#exitCode);
  }

  /** SIGHUP: reopens the mapping log (for logrotate), then reloads the configuration. */
  #onHangup(): void {
    const mapping = this.#s.mapping;
    this.#reloading = this.#reloading.then(async () => {
      // For logrotate: lines so far go to the (renamed) file, later ones to a new one.
      if (mapping !== null && !this.#stopping) {
        this.#s.keeper.drain(); // events recorded before the signal belong in the old file
        await mapping.reopen();
        log.info("mapping log {path} reopened", {
          event: "mapping-log-reopened",
          path: mapping.path,
        });
      }
      await this.#reload();
    }).catch((e) => log.error("reload failed: {error}", { error: message(e) }));
  }

  /** Re-reads the configuration and applies it (a CLAT's discovered PLAT prefix kept). */
  async #reload(): Promise<void> {
    const { counters } = this.#s;
    log.info("SIGHUP: reloading the configuration");
    const next = await this.#s.opts.reload();
    if (!next.ok) {
      counters.config_reloads_rejected++;
      log.error("reload rejected, keeping the running configuration: {error}", {
        event: "reload-rejected",
        error: next.message,
      });
      return;
    }
    if (this.#stopping) return;
    let newCfg = keepRestartOnly(this.#cfg, next.config);
    const found = this.#cfg.clat?.viaAuto === true ? this.#cfg.clat.via : null;
    if (newCfg.clat?.viaAuto === true) {
      const kept = withPref64(newCfg, found);
      newCfg = typeof kept === "string" ? newCfg : kept;
    }
    this.#apply(newCfg);
  }

  /**
   * A CLAT's parts outside the engine, brought from `before` (null at start) to `after`: the
   * `Via = "auto"` discovery runs exactly while it is configured, and the proxy Neighbor
   * Discovery entries are those of `after` (set up again when the addresses or uplink change).
   * A failure is logged; the translation runs on without them.
   */
  #syncClat(before: Config | null, after: Config): void {
    const was = before?.clat ?? null;
    const clat = after.clat;
    if (clat?.viaAuto === true && this.#pref64 === null) {
      try {
        this.#pref64 = Pref64Discovery.start({
          uplink: clat.uplink,
          resolver: clat.resolver,
          onChange: (prefix, source) => this.#onPref64(prefix, source),
          log: (level, msg) => log[level]("{message}", { event: "pref64", message: msg }),
        });
        log.info(
          "waiting for a PLAT prefix (RFC 8781 RAs{on}, then RFC 7050); no IPv4 routes until one is known",
          {
            event: "pref64-waiting",
            on: clat.uplink === null ? "" : ` on ${clat.uplink}`,
          },
        );
      } catch (e) {
        log.error("cannot discover the PLAT prefix: {error}", { error: message(e) });
      }
    } else if (clat?.viaAuto !== true && this.#pref64 !== null) {
      void this.#pref64.stop();
      this.#pref64 = null;
    }
    const wanted = clat?.neighborProxy === true && clat.uplink !== null
      ? proxyAddresses(after).map(formatIpv6).join(",") + "@" + clat.uplink
      : "";
    const had = was?.neighborProxy === true && was.uplink !== null && before !== null
      ? proxyAddresses(before).map(formatIpv6).join(",") + "@" + was.uplink
      : "";
    if (before !== null && wanted === had) return;
    for (const p of this.#proxy?.undo() ?? []) log.warn("cleanup: {problem}", { problem: p });
    this.#proxy = null;
    if (wanted === "") return;
    try {
      const addrs = proxyAddresses(after);
      this.#proxy = setUpProxyNeighbors(clat!.uplink!, addrs);
      for (const w of this.#proxy.warnings) {
        log.warn("{warning}", { event: "neighbor-proxy", warning: w });
      }
      log.info("answering Neighbor Discovery on {uplink} for {count} customer addresses", {
        event: "neighbor-proxy",
        uplink: clat!.uplink,
        count: addrs.length,
      });
    } catch (e) {
      log.error("cannot set up NeighborProxy on {uplink}: {error}", {
        uplink: clat!.uplink,
        error: message(e),
      });
    }
  }

  /**
   * A CLAT's `Via = "auto"` found a PLAT prefix, a new one, or lost it (null): applied like a
   * reload of the running configuration with that prefix.
   */
  #onPref64(prefix: Ipv6Prefix | null, source: string): void {
    this.#reloading = this.#reloading.then(() => {
      if (this.#stopping) return;
      const newCfg = withPref64(this.#cfg, prefix);
      if (typeof newCfg === "string") {
        log.warn("PLAT prefix from {source} ignored: {problem}", {
          event: "pref64-refused",
          source,
          problem: newCfg,
        });
        return;
      }
      if (newCfg === this.#cfg) return;
      log.info("PLAT prefix {prefix} (from {source})", {
        event: "pref64",
        prefix: prefix === null ? "none" : formatIpv6Prefix(prefix),
        source,
      });
      this.#apply(newCfg);
    }).catch((e) => log.error("PLAT prefix change failed: {error}", { error: message(e) }));
  }

  /** Applies a new configuration: routes and MTU, then the lease table and the Workers. */
  #apply(newCfg: Config): void {
    const { counters } = this.#s;
    const newRoutes = routesFor(newCfg);
    const changes = routeChanges(this.#routes, newRoutes);
    try {
      this.#s.iface.apply({ ...changes, mtuBytes: newCfg.interface.mtu });
    } catch (e) {
      counters.config_reloads_rejected++;
      log.error("reload rejected, keeping the running configuration: {error}", {
        event: "reload-rejected",
        error: message(e),
      });
      return;
    }
    const result = this.#reloadLeases(newCfg);
    if (result === null) return;
    this.#syncClat(this.#cfg, newCfg);
    this.#cfg = newCfg;
    this.#routes = newRoutes;
    log.info("configuration reloaded: {leases} leases kept, {dropped} dropped; routes {routes}", {
      event: "reloaded",
      generation: this.#s.shared.generation,
      leases: result.restored,
      dropped: result.dropped.length,
      routes: routeText(newRoutes).join(", "),
      added: [...changes.add6.map(formatIpv6Prefix), ...changes.add4.map(formatIpv4Prefix)],
      removed: [...changes.remove6.map(formatIpv6Prefix), ...changes.remove4.map(formatIpv4Prefix)],
    });
  }

  /**
   * Moves the leases to a table for `newCfg` and hands it to every Worker before bumping the
   * generation (each switches at its next packet); null when the table refused the options.
   */
  #reloadLeases(newCfg: Config): ReconfigureResult | null {
    const { counters, shared, mapping, workers } = this.#s;
    const record: RecordMapping = (r) => mapping?.write(mappingLine(r));
    const newOptions = tableOptions(newCfg);
    try {
      return this.#s.keeper.reload(newOptions, (result) => {
        logDropped("reload", result.dropped, record);
        counters.config_reloads++;
        const msg: WorkerReload = {
          kind: "reload",
          generation: shared.generation + 1,
          table: result.table.buffer,
          tableOptions: newOptions,
          config: newCfg,
        };
        for (const w of workers) w.postMessage(msg);
        shared.bumpGeneration();
      });
    } catch (e) {
      counters.config_reloads_rejected++;
      log.error("reload rejected: {error}", { event: "reload-rejected", error: message(e) });
      return null;
    }
  }
}

/** What {@link startInterface} set up. */
interface InterfaceParts {
  tuns: LinuxTun[];
  offloadFlags: number;
  iface: InterfaceSetup;
  workers: Worker[];
  alive: boolean[];
}

/**
 * Opens the TUN queues (with the offloads the kernel grants), sets up the link, MTU and routes,
 * and starts one packet Worker per queue; on a failure, removes again what it set up.
 */
async function startInterface(
  cfg: Config,
  queues: number,
  shared: SharedState,
  table: LeaseTable,
): Promise<InterfaceParts> {
  let tuns: LinuxTun[] = [];
  let iface: InterfaceSetup | null = null;
  try {
    const opened = openTunOffload(
      { name: cfg.interface.name, offload: cfg.interface.offload !== false },
      queues,
    );
    tuns = opened.tuns;
    const offloadFlags = opened.offloadFlags;
    if (cfg.interface.offload === true && offloadFlags === 0) {
      log.warn(
        "Interface.Offload = true, but the kernel refused every TUN offload; running without",
        { event: "offload-refused" },
      );
    }
    iface = setUpInterface({
      name: tuns[0]!.name,
      mtuBytes: cfg.interface.mtu,
      // The largest super-packet must fit the engine's buffers once translated (+20 bytes).
      gsoMaxBytes: offloadFlags !== 0 ? GSO_MAX_BYTES : undefined,
      ...routesFor(cfg),
      // A CLAT's address for local applications (the translator's own are routed, not assigned).
      addresses: cfg.clat?.hostAddress != null ? [cfg.clat.hostAddress] : [],
    });
    const workers = await startWorkers(tuns, shared, table, cfg);
    return { tuns, offloadFlags, iface, workers, alive: workers.map(() => true) };
  } catch (e) {
    // startWorkers terminated the Workers it started.
    const problems = iface?.undo() ?? [];
    for (const t of tuns) t.close();
    for (const p of problems) log.warn("cleanup: {problem}", { problem: p });
    throw e;
  }
}

/** Undoes {@link startInterface} (when a later step of the start fails). */
function undoInterface(set: InterfaceParts): void {
  for (const w of set.workers) w.terminate();
  const problems = set.iface.undo();
  for (const t of set.tuns) t.close();
  for (const p of problems) log.warn("cleanup: {problem}", { problem: p });
}

/** `next` with the keys that take a restart put back to their running values (and a warning). */
function keepRestartOnly(cfg: Config, next: Config): Config {
  const fixed = restartOnlyChanges(cfg, next);
  if (fixed.length === 0) return next;
  log.warn("{keys} changed; that takes a restart, the running value stays", {
    keys: fixed.join(", "),
  });
  return {
    ...next,
    interface: {
      ...next.interface,
      name: cfg.interface.name,
      queues: cfg.interface.queues,
      offload: cfg.interface.offload,
    },
    rules: { ...next.rules, stateFile: cfg.rules.stateFile },
    logging: { ...next.logging, mappingLog: cfg.logging.mappingLog },
    metrics: cfg.metrics,
  };
}

/** The keeper's sinks: lease events and refusals to the audit log and the mapping log. */
function keeperSinks(record: RecordMapping): LeaseKeeperSinks {
  return {
    leaseEvent(ev: LeaseEvent): void {
      const { message, properties } = describeLeaseEvent(ev);
      audit.info(message, properties);
      record(leaseEventRecord(ev));
    },
    refusal(line: RefusalLine, nowMs: number): void {
      logRefusal(line, record, nowMs);
    },
    eventsLost: logLostEvents,
  };
}

/**
 * The audit line of refused leases (see lib/daemon/refusal_log.ts), if there is one, on
 * stderr and in the mapping log.
 */
function logRefusal(line: RefusalLine | null, record: RecordMapping, nowMs: number): void {
  if (line === null) return;
  const { message, properties } = describeRefusal(line);
  audit.info(message, properties);
  record(refusalRecord(line, nowMs));
}

/**
 * Opens the mapping log at start (its directory created when missing), or stops the start
 * naming the path and the errno.
 */
async function openMappingLog(path: string): Promise<MappingLogFile> {
  try {
    const { log: file, createdDir } = await MappingLogFile.open(
      path,
      (problem) => log.error("{problem}", { event: "mapping-log-write-failed", problem }),
    );
    if (createdDir) log.info("created directory {dir} for the mapping log", { dir: dirname(path) });
    return file;
  } catch (e) {
    throw new DaemonStartError(message(e));
  }
}

/** The loud line for lease events the audit log will never show. */
function logLostEvents(lost: number, total: number): void {
  audit.warn(
    "audit log incomplete: {lost} lease events were overwritten before they could be logged " +
      "({total} since start)",
    { event: "lease-events-lost", lost, total },
  );
}

/** Reads the sysctls a configuration needs through libc; a failure is a reading too. */
function readSysctls(sysctls: readonly CheckedSysctl[]): SysctlReading[] {
  const out: SysctlReading[] = [];
  for (const s of sysctls) {
    try {
      out.push({ value: readSmallFile(s.path) });
    } catch (e) {
      out.push({ error: message(e) });
    }
  }
  return out;
}

/**
 * Reads the lease file into `table`, logging what was dropped and why; every restored and
 * dropped lease goes to the mapping log.
 */
async function restoreLeases(
  keeper: LeaseKeeper,
  path: string,
  record: RecordMapping,
): Promise<{ restored: number; dropped: number }> {
  let text: string | null;
  try {
    text = await readStateFile(path);
  } catch (e) {
    throw new DaemonStartError(`cannot read lease file '${path}': ${describeFsError(e)}`);
  }
  if (text === null) {
    log.info("no lease file at {path} yet; starting with no leases", { path });
    return { restored: 0, dropped: 0 };
  }
  const decoded = decodeLeaseFile(text);
  if (decoded.problem !== null) {
    let copy: string;
    try {
      copy = await keepDamagedStateFile(path);
    } catch (e) {
      throw new DaemonStartError(
        `lease file '${path}' is damaged (${decoded.problem}) and no copy of it could be kept ` +
          `before it is overwritten: ${describeFsError(e)}`,
      );
    }
    log.warn("lease file {path} is damaged ({problem}); kept a copy at {copy}", {
      path,
      problem: decoded.problem,
      copy,
    });
  }
  const result = keeper.restore(decoded.records, (ev) => recordRestored(ev, record));
  log.info("restored {restored} leases from {path}", {
    event: "leases-restored",
    restored: result.restored,
    dropped: result.dropped.length,
    path,
  });
  logDropped("restore", result.dropped, record);
  return { restored: result.restored, dropped: result.dropped.length };
}

/** The mapping-log record of an event of the restore at start. */
function recordRestored(ev: LeaseEvent, record: RecordMapping): void {
  if (ev.kind === "restored" || ev.kind === "expired") record(leaseEventRecord(ev));
}

/**
 * Creates the lease file's directory when missing and writes the restored leases, so a lease
 * file that cannot be written stops the start instead of failing after the first lease.
 */
async function prepareLeaseFile(table: LeaseTable, path: string): Promise<void> {
  const nowSecs = Math.floor(Date.now() / 1000);
  let created: boolean;
  try {
    created = await prepareStateFile(path, encodeLeaseFile(table.snapshot(nowSecs), nowSecs));
  } catch (e) {
    throw new DaemonStartError(message(e));
  }
  if (created) log.info("created directory {dir} for the lease file", { dir: dirname(path) });
}

/**
 * The error line of a failed lease-file write (`failures` in a row, retried in `retrySecs`
 * unless this was the `final` save at stop).
 */
function logSaveFailure(
  opts: { path: string; error: string; failures: number; retrySecs: number; final: boolean },
): void {
  const { path, error, failures, retrySecs, final } = opts;
  log.error(
    final
      ? "cannot write lease file {path}: {error}; {failures} failed writes in a row, the last " +
        "leases are not saved"
      : "cannot write lease file {path}: {error}; {failures} failed writes in a row, retrying " +
        "in {retrySecs} s",
    {
      event: "lease-file-write-failed",
      path,
      error,
      failures,
      retrySecs: final ? null : retrySecs,
    },
  );
}

function logDropped(
  when: string,
  dropped: readonly { record: { v4: string; v6: string }; reason: string }[],
  record: RecordMapping,
): void {
  const timeMs = Date.now();
  for (const d of dropped) {
    record(droppedRecord({
      timeMs,
      ipv6: String(d.record?.v6),
      ipv4: String(d.record?.v4),
      reason: `${d.reason} (at ${when})`,
    }));
  }
  for (const d of dropped.slice(0, MAX_DROP_LINES)) {
    audit.info("lease dropped at {when}: {v6} <-> {v4} ({reason})", {
      event: "lease-dropped",
      when,
      v6: d.record.v6,
      v4: d.record.v4,
      reason: d.reason,
    });
  }
  if (dropped.length > MAX_DROP_LINES) {
    audit.info("{count} more leases dropped at {when}", {
      when,
      count: dropped.length - MAX_DROP_LINES,
    });
  }
}

/**
 * Starts one packet Worker per queue (Worker `i` reads `tuns[i]` and counts in row `i`) and
 * waits until every one reads packets; when one cannot start, the others are terminated.
 */
async function startWorkers(
  tuns: readonly LinuxTun[],
  shared: SharedState,
  table: LeaseTable,
  cfg: Config,
): Promise<Worker[]> {
  const started = await Promise.allSettled(
    tuns.map((tun, index) => startWorker(tun, shared, table, cfg, index)),
  );
  const failed = started.find((r) => r.status === "rejected");
  if (failed === undefined) return started.map((r) => (r as PromiseFulfilledResult<Worker>).value);
  for (const r of started) if (r.status === "fulfilled") r.value.terminate();
  throw failed.reason;
}

/** Starts the packet Worker of queue `index` and waits until it reads packets. */
function startWorker(
  tun: LinuxTun,
  shared: SharedState,
  table: LeaseTable,
  cfg: Config,
  index: number,
): Promise<Worker> {
  const worker = new Worker(new URL("./packet_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const init: WorkerInit = {
    kind: "init",
    index,
    fd: tun.fd,
    name: tun.name,
    mtuBytes: cfg.interface.mtu,
    vnetHeader: tun.vnetHeader,
    shared: shared.buffer,
    table: table.buffer,
    tableOptions: tableOptions(cfg),
    config: cfg,
    generation: shared.generation,
    idSeed: crypto.getRandomValues(new Uint32Array(1))[0]! | 1,
  };
  return new Promise<Worker>((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.terminate();
      reject(new Error(`the packet worker did not start within ${WORKER_START_TIMEOUT_MS} ms`));
    }, WORKER_START_TIMEOUT_MS);
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      clearTimeout(timer);
      if (e.data.kind === "ready") resolve(worker);
      else {
        worker.terminate();
        reject(
          new Error(
            `the packet worker could not start: ${
              e.data.kind === "ended" ? e.data.reason : e.data.kind
            }`,
          ),
        );
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      clearTimeout(timer);
      worker.terminate();
      reject(new Error(`the packet worker could not start: ${e.message}`));
    };
    worker.postMessage(init);
  });
}
