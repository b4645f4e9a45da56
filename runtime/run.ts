/**
 * The running daemon's main thread (docs/DESIGN.md): opens the TUN device with one queue per packet
 * Worker (`Interface.Queues`), sets up its link, routes and MTU over rtnetlink, restores the
 * leases, starts the packet Workers, and then only
 * keeps time — the coarse clock, the lease expiry sweep, the audit log of lease events, the
 * lease file — and answers signals: SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR2 logs counters (SIGUSR1 would start V8's inspector).
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
import { type InterfaceSetup, setUpInterface } from "../ffi/netlink.ts";
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
import { type RefusalLine, RefusalLog } from "../lib/daemon/refusal_log.ts";
import {
  countersForLog,
  describeLeaseEvent,
  describeRefusal,
  newDaemonCounters,
  receivedByQueue,
  SaveScheduler,
} from "../lib/daemon/report.ts";
import {
  restartOnlyChanges,
  routeChanges,
  routesFor,
  type TunRoutes,
} from "../lib/daemon/routes.ts";
import { health, renderMetrics } from "../lib/daemon/metrics.ts";
import { SharedState } from "../lib/daemon/shared.ts";
import { CHECKED_SYSCTLS, type SysctlReading, sysctlWarnings } from "../lib/daemon/sysctl.ts";
import { decodeLeaseFile, encodeLeaseFile } from "../lib/lease/persist.ts";
import {
  type LeaseEvent,
  type LeaseRecord,
  LeaseTable,
  type LeaseTableOptions,
  type RestoreResult,
} from "../lib/lease/table.ts";
import { leaseTableOptions } from "../lib/xlat/settings.ts";
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
/** Drain-and-sweep rounds per sweep tick when expiries fill the event ring. */
const MAX_SWEEP_ROUNDS = 64;

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
  let cfg = opts.config;
  const stateFile = cfg.rules.stateFile;
  const scheduler = new SaveScheduler();
  let table = LeaseTable.create(tableOptions(cfg));
  const queues = effectiveQueues(cfg.interface.queues, navigator.hardwareConcurrency);
  const shared = SharedState.create(queues);
  shared.setNowMs(Date.now());

  const counters = newDaemonCounters();
  const mapping = cfg.logging.mappingLog === null
    ? null
    : await openMappingLog(cfg.logging.mappingLog);
  const recordMapping: RecordMapping = (r) => mapping?.write(mappingLine(r));
  try {
    if (stateFile !== null) {
      const restored = await restoreLeases(table, stateFile, recordMapping);
      counters.lease_restored += restored.restored;
      counters.lease_dropped += restored.dropped;
      await prepareLeaseFile(table, stateFile);
    }
  } catch (e) {
    await mapping?.close();
    throw e;
  }
  const unreported = new UnreportedEvents();
  unreported.take(table); // events of the restore were not news

  let tuns: LinuxTun[] = [];
  let offloadFlags = 0;
  let setup: InterfaceSetup | null = null;
  let routes = routesFor(cfg);
  let workers: Worker[] = [];
  let metrics: MetricsServer | null = null;
  /** Per packet Worker: still running (for /healthz). */
  const alive: boolean[] = [];
  let stopping = false;
  const startTimeSecs = Math.floor(Date.now() / 1000);
  try {
    const opened = openTunOffload(
      { name: cfg.interface.name, offload: cfg.interface.offload !== false },
      queues,
    );
    tuns = opened.tuns;
    offloadFlags = opened.offloadFlags;
    if (cfg.interface.offload === true && offloadFlags === 0) {
      log.warn(
        "Interface.Offload = true, but the kernel refused every TUN offload; running without",
        {
          event: "offload-refused",
        },
      );
    }
    setup = setUpInterface({
      name: tuns[0]!.name,
      mtuBytes: cfg.interface.mtu,
      // The largest super-packet must fit the engine's buffers once translated (+20 bytes).
      gsoMaxBytes: offloadFlags !== 0 ? GSO_MAX_BYTES : undefined,
      ...routes,
    });
    workers = await startWorkers(tuns, shared, table, cfg);
    alive.push(...workers.map(() => true));
    if (cfg.metrics.listen !== null) {
      // Rendered on each scrape from the shared counters; nothing per packet.
      metrics = startMetricsServer({
        listen: cfg.metrics.listen,
        health: () => health(alive, stopping),
        render: () => {
          const mem = Deno.memoryUsage();
          return renderMetrics({
            totals: shared.sumCounters(),
            receivedByQueue: receivedByQueue(shared),
            daemon: counters,
            poolAddresses: table.capacity,
            dynamicLeases: table.size,
            staticMaps: cfg.rules.mapStatic.length,
            workers: alive.length,
            workersAlive: alive.filter((a) => a).length,
            rssBytes: mem.rss,
            heapUsedBytes: mem.heapUsed,
            version: opts.version ?? "unknown",
            startTimeSecs,
          });
        },
      });
    }
  } catch (e) {
    for (const w of workers) w.terminate();
    const problems = setup?.undo() ?? [];
    for (const t of tuns) t.close();
    for (const p of problems) log.warn("cleanup: {problem}", { problem: p });
    await mapping?.close();
    throw new DaemonStartError(message(e));
  }
  const device = tuns[0]!;
  const iface = setup;
  const packets = workers;

  // ---- the running daemon --------------------------------------------------------------------
  let exitCode = 0;
  let saving: Promise<void> = Promise.resolve();
  /** A table replaced by a reload, merged into the new one on the next sweep. */
  let retired: LeaseTable | null = null;
  let reloading: Promise<void> = Promise.resolve();
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));

  const refusals = new RefusalLog();
  const drainEvents = (t: LeaseTable) => {
    const nowMs = Date.now();
    for (const ev of t.drainEvents()) {
      if (ev.kind === "refused") {
        counters.lease_refused += ev.count;
        logRefusal(
          refusals.refused(formatIpv6(ev.v6), ev.count, nowMs, ev.refusal ?? undefined),
          recordMapping,
          nowMs,
        );
        continue;
      }
      if (ev.kind === "created") counters.lease_created++;
      else if (ev.kind === "expired") counters.lease_expired++;
      else if (ev.kind === "restored") counters.lease_restored++;
      const { message, properties } = describeLeaseEvent(ev);
      audit.info(message, properties);
      recordMapping(leaseEventRecord(ev));
      scheduler.markDirty();
    }
    const missed = unreported.take(t);
    refusals.unattributed(missed.refusals, nowMs);
    counters.lease_event_waits += missed.waits;
    counters.lease_event_wait_refusals += missed.waitRefusals;
    counters.lease_refused += missed.refusals;
    if (missed.lost > 0) {
      counters.lease_events_lost += missed.lost;
      scheduler.markDirty();
      logLostEvents(missed.lost, counters.lease_events_lost);
    }
  };
  const drainAll = () => {
    if (retired !== null) drainEvents(retired);
    drainEvents(table);
  };

  const save = async () => {
    if (stateFile === null) return;
    const nowMs = Date.now();
    const nowSecs = Math.floor(nowMs / 1000);
    const records = table.snapshot(nowSecs);
    scheduler.saved(nowMs);
    try {
      await writeStateFile(stateFile, encodeLeaseFile(records, nowSecs));
    } catch (e) {
      counters.lease_file_write_errors++;
      logSaveFailure({ path: stateFile, error: describeFsError(e), scheduler, final: stopping });
      return;
    }
    if (scheduler.failuresInRow > 0) {
      log.info("lease file {path} written again after {failures} failed writes", {
        event: "lease-file-written",
        path: stateFile,
        failures: scheduler.failuresInRow,
      });
    }
    scheduler.succeeded();
    log.debug("saved {count} leases to {path}", { count: records.length, path: stateFile });
  };
  const queueSave = () => (saving = saving.then(save));

  const clockTimer = setInterval(() => shared.setNowMs(Date.now()), CLOCK_TICK_MS);
  const eventTimer = setInterval(() => {
    drainAll();
    if (stateFile !== null && scheduler.due(Date.now(), table.size)) queueSave();
  }, EVENT_TICK_MS);
  // Besides the timer: whenever a Worker fills the event ring to half its size.
  void drainWhenHalfFull(() => (stopping ? null : table), drainAll).catch((e) =>
    log.error("lease event watch failed: {error}", { error: message(e) })
  );
  const sweepTimer = setInterval(() => {
    const nowSecs = Math.floor(Date.now() / 1000);
    if (retired !== null) {
      // Leases a Worker created in the old table while the reload was being published.
      drainEvents(retired);
      drainEvents(table);
      const before = table.size;
      const t = table;
      restoreInChunks(t, retired.snapshot(nowSecs), nowSecs, () => drainEvents(t));
      if (table.size !== before) scheduler.markDirty();
      retired = null;
    }
    drainAll(); // the whole ring for the leases this sweep may expire at once
    // The ring never overwrites: a sweep frees what fits, so drain and sweep again.
    for (let round = 0; round < MAX_SWEEP_ROUNDS; round++) {
      table.sweep(nowSecs);
      if (table.eventRoom > 0) break;
      drainEvents(table);
    }
    for (const line of refusals.flush(Date.now())) logRefusal(line, recordMapping, Date.now());
    if (mapping !== null) void mapping.flush();
  }, SWEEP_TICK_MS);

  const logCounters = (msg: string) => {
    if (mapping !== null) counters.mapping_log_write_errors = mapping.writeErrors;
    log.info(msg, {
      event: "counters",
      counters: countersForLog(shared.sumCounters(), counters),
      receivedByQueue: receivedByQueue(shared),
      leases: table.size,
    });
  };

  const stop = async (signal: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info("{signal}: stopping", { signal });
    shared.requestStop();
    clearInterval(clockTimer);
    clearInterval(eventTimer);
    clearInterval(sweepTimer);
    for (const [sig, fn] of handlers) Deno.removeSignalListener(sig, fn);
    for (const w of packets) w.onmessage = null;
    await reloading.catch(() => {});
    table.wakeEventWaiters(); // ends the half-full watch (not awaited: no timers are left)
    drainAll();
    for (const line of refusals.flush(Date.now(), true)) {
      logRefusal(line, recordMapping, Date.now());
    }
    if (stateFile !== null) {
      await saving;
      await save();
    } else {
      // No lease file: the leases end with the process, and the audit log says so.
      const nowMs = Date.now();
      for (const l of table.snapshot(Math.floor(nowMs / 1000))) {
        recordMapping(droppedRecord({ timeMs: nowMs, ipv6: l.v6, ipv4: l.v4, reason: "stopped" }));
      }
    }
    if (mapping !== null) {
      await mapping.close();
      counters.mapping_log_write_errors = mapping.writeErrors;
    }
    await metrics?.close();
    for (const p of iface.undo()) log.warn("cleanup: {problem}", { problem: p });
    for (const t of tuns) t.close();
    logCounters("stopped; counters");
    resolveStopped(exitCode);
  };

  const reload = async () => {
    log.info("SIGHUP: reloading the configuration");
    const next = await opts.reload();
    if (!next.ok) {
      counters.config_reloads_rejected++;
      log.error("reload rejected, keeping the running configuration: {error}", {
        event: "reload-rejected",
        error: next.message,
      });
      return;
    }
    if (stopping) return;
    let newCfg = next.config;
    const fixed = restartOnlyChanges(cfg, newCfg);
    if (fixed.length > 0) {
      log.warn("{keys} changed; that takes a restart, the running value stays", {
        keys: fixed.join(", "),
      });
      newCfg = {
        ...newCfg,
        interface: {
          ...newCfg.interface,
          name: cfg.interface.name,
          queues: cfg.interface.queues,
          offload: cfg.interface.offload,
        },
        rules: { ...newCfg.rules, stateFile: cfg.rules.stateFile },
        logging: { ...newCfg.logging, mappingLog: cfg.logging.mappingLog },
        metrics: cfg.metrics,
      };
    }
    const newRoutes = routesFor(newCfg);
    const changes = routeChanges(routes, newRoutes);
    try {
      iface.apply({ ...changes, mtuBytes: newCfg.interface.mtu });
    } catch (e) {
      counters.config_reloads_rejected++;
      log.error("reload rejected, keeping the running configuration: {error}", {
        event: "reload-rejected",
        error: message(e),
      });
      return;
    }
    const nowSecs = Math.floor(Date.now() / 1000);
    const newOptions = tableOptions(newCfg);
    let result;
    try {
      result = table.reconfigure(newOptions, nowSecs);
    } catch (e) {
      counters.config_reloads_rejected++;
      log.error("reload rejected: {error}", { event: "reload-rejected", error: message(e) });
      return;
    }
    result.table.drainEvents(); // "restored" events of carried-over leases: not news
    unreported.take(result.table);
    logDropped("reload", result.dropped, recordMapping);
    counters.lease_dropped += result.dropped.length;
    counters.config_reloads++;
    const generation = shared.generation + 1;
    const msg: WorkerReload = {
      kind: "reload",
      generation,
      table: result.table.buffer,
      tableOptions: newOptions,
      config: newCfg,
    };
    // Every Worker gets the message before the bump; each switches at its next packet.
    for (const w of packets) w.postMessage(msg);
    shared.bumpGeneration();
    drainEvents(table);
    retired = table;
    table = result.table;
    retired.wakeEventWaiters(); // the half-full watch moves to the new table
    cfg = newCfg;
    routes = newRoutes;
    if (result.dropped.length > 0) scheduler.markDirty();
    log.info("configuration reloaded: {leases} leases kept, {dropped} dropped; routes {routes}", {
      event: "reloaded",
      generation,
      leases: result.restored,
      dropped: result.dropped.length,
      routes: routeText(routes).join(", "),
      added: [...changes.add6.map(formatIpv6Prefix), ...changes.add4.map(formatIpv4Prefix)],
      removed: [...changes.remove6.map(formatIpv6Prefix), ...changes.remove4.map(formatIpv4Prefix)],
    });
  };

  // Any queue's Worker ending or failing stops the daemon, as with one queue.
  packets.forEach((w, index) => {
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.kind === "ended" && !stopping) {
        log.error("packet worker {index} ended: {reason}", { index: m.index, reason: m.reason });
        void stop("worker ended", 1);
      }
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      if (stopping) return;
      log.error("packet worker {index} failed: {error}", { index, error: e.message });
      void stop("worker failed", 1);
    };
  });

  const handlers: [Deno.Signal, () => void][] = [
    ["SIGTERM", () => void stop("SIGTERM", 0)],
    ["SIGINT", () => void stop("SIGINT", 0)],
    [
      "SIGHUP",
      () => (reloading = reloading.then(async () => {
        // For logrotate: lines so far go to the (renamed) file, later ones to a new one.
        if (mapping !== null && !stopping) {
          drainAll(); // events recorded before the signal belong in the old file
          await mapping.reopen();
          log.info("mapping log {path} reopened", {
            event: "mapping-log-reopened",
            path: mapping.path,
          });
        }
        await reload();
      }).catch((e) => log.error("reload failed: {error}", { error: message(e) }))),
    ],
    ["SIGUSR2", () => logCounters("counters")],
  ];
  for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);

  // Only now: whoever waits for this line may signal at once, and must find the handlers.
  log.info("protomask ready on {name}: {prefix} <-> pool {pool}; routes {routes}", {
    event: "ready",
    name: device.name,
    queues,
    prefix: formatIpv6Prefix(cfg.interface.prefix),
    metrics: metrics?.address ?? null,
    pool: cfg.interface.pool.map(formatIpv4Prefix).join(", ") || "(none)",
    routes: routeText(routes).join(", "),
    address4: formatIpv4(cfg.interface.address4),
    address6: formatIpv6(cfg.interface.address6),
    mtu: cfg.interface.mtu,
    offload: offloadNames(offloadFlags),
    leases: table.size,
    stateFile,
    mappingLog: mapping?.path ?? null,
  });

  for (const warning of sysctlWarnings(readSysctls())) {
    log.warn("{warning}", { event: "sysctl", warning });
  }

  return await stopped;
}

/**
 * Drains the lease events each time a Worker fills the event ring to half its size (the
 * Worker moves a shared word and `Atomics.notify`s; nothing crosses threads per packet), so a
 * burst of new hosts is logged before the ring overwrites any of it; the timer drains the
 * rest. Ends when `current()` returns null after the current table's waiters are woken.
 */
async function drainWhenHalfFull(
  current: () => LeaseTable | null,
  drain: () => void,
): Promise<void> {
  for (let t = current(); t !== null; t = current()) {
    const seen = t.eventSignal;
    drain();
    await t.waitForEvents(seen);
  }
}

/** What a lease table counts about its event ring. */
interface EventTallies {
  lost: number;
  refusals: number;
  waits: number;
  waitRefusals: number;
}

/** Per lease table, the lost events, unrecorded refusals and waits already reported. */
class UnreportedEvents {
  readonly #seen = new WeakMap<LeaseTable, EventTallies>();

  /** What `t` counted since the last call for it (all of it, the first time). */
  take(t: LeaseTable): EventTallies {
    const seen = this.#seen.get(t) ?? { lost: 0, refusals: 0, waits: 0, waitRefusals: 0 };
    const now = {
      lost: t.eventsLost,
      refusals: t.refusalsUnrecorded,
      waits: t.eventWaits,
      waitRefusals: t.eventWaitRefusals,
    };
    this.#seen.set(t, now);
    return {
      lost: now.lost - seen.lost,
      refusals: now.refusals - seen.refusals,
      waits: now.waits - seen.waits,
      waitRefusals: now.waitRefusals - seen.waitRefusals,
    };
  }
}

/**
 * Restores `records` a chunk at a time (half the event ring), calling `drain` after each, so
 * the "restored" and "expired" records of any number of leases fit in the lossless ring.
 */
function restoreInChunks(
  table: LeaseTable,
  records: readonly LeaseRecord[],
  nowSecs: number,
  drain: () => void,
): RestoreResult {
  const chunk = Math.max(1, table.eventRingSize >>> 1);
  const result: RestoreResult = { restored: 0, dropped: [] };
  for (let i = 0; i < records.length; i += chunk) {
    const r = table.restore(records.slice(i, i + chunk), nowSecs);
    result.restored += r.restored;
    result.dropped.push(...r.dropped);
    drain();
  }
  return result;
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

/** Reads the sysctls a gateway needs (CHECKED_SYSCTLS) through libc; a failure is a reading too. */
function readSysctls(): SysctlReading[] {
  const out: SysctlReading[] = [];
  for (const s of CHECKED_SYSCTLS) {
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
  table: LeaseTable,
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
  const nowMs = Date.now();
  const nowSecs = Math.floor(nowMs / 1000);
  const result = restoreInChunks(table, decoded.records, nowSecs, () => {
    for (const ev of table.drainEvents()) recordRestored(ev, record);
  });
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
 * The error line of a failed lease-file write; records the failure in the scheduler, which
 * retries it later (unless this was the `final` save at stop).
 */
function logSaveFailure(
  opts: { path: string; error: string; scheduler: SaveScheduler; final: boolean },
): void {
  const { path, error, scheduler, final } = opts;
  const failures = scheduler.failed();
  const retrySecs = scheduler.retryDelayMs / 1000;
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
