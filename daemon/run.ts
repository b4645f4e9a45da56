/**
 * The running daemon's main thread (DESIGN.md): opens the TUN device with one queue per packet
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
import { type InterfaceSetup, setUpInterface } from "../ffi/netlink.ts";
import { type LinuxTun, openTunQueues } from "../ffi/tun.ts";
import { formatIpv4, formatIpv4Prefix } from "../lib/addr/ipv4.ts";
import { formatIpv6, formatIpv6Prefix } from "../lib/addr/ipv6.ts";
import type { Config } from "../lib/config/config.ts";
import { effectiveQueues } from "../lib/config/queues.ts";
import type { FromWorker, WorkerInit, WorkerReload } from "../lib/daemon/messages.ts";
import {
  describeLeaseEvent,
  nonZeroCounters,
  receivedByQueue,
  SaveScheduler,
} from "../lib/daemon/report.ts";
import {
  restartOnlyChanges,
  routeChanges,
  routesFor,
  type TunRoutes,
} from "../lib/daemon/routes.ts";
import { SharedState } from "../lib/daemon/shared.ts";
import { decodeLeaseFile, encodeLeaseFile } from "../lib/lease/persist.ts";
import { LeaseTable } from "../lib/lease/table.ts";
import { leaseTableOptions } from "../lib/xlat/settings.ts";
import { keepDamagedStateFile, readStateFile, writeStateFile } from "./state_file.ts";

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
  let table = LeaseTable.create(leaseTableOptions(cfg));
  const queues = effectiveQueues(cfg.interface.queues, navigator.hardwareConcurrency);
  const shared = SharedState.create(queues);
  shared.setNowMs(Date.now());

  if (stateFile !== null) await restoreLeases(table, stateFile);

  let tuns: LinuxTun[] = [];
  let setup: InterfaceSetup | null = null;
  let routes = routesFor(cfg);
  let workers: Worker[] = [];
  try {
    tuns = openTunQueues({ name: cfg.interface.name }, queues);
    setup = setUpInterface({ name: tuns[0]!.name, mtuBytes: cfg.interface.mtu, ...routes });
    workers = await startWorkers(tuns, shared, table, cfg);
  } catch (e) {
    for (const w of workers) w.terminate();
    const problems = setup?.undo() ?? [];
    for (const t of tuns) t.close();
    for (const p of problems) log.warn("cleanup: {problem}", { problem: p });
    throw new DaemonStartError(message(e));
  }
  const device = tuns[0]!;
  const iface = setup;
  const packets = workers;

  log.info("protomask ready on {name}: {prefix} <-> pool {pool}; routes {routes}", {
    event: "ready",
    name: device.name,
    queues,
    prefix: formatIpv6Prefix(cfg.interface.prefix),
    pool: cfg.interface.pool.map(formatIpv4Prefix).join(", ") || "(none)",
    routes: routeText(routes).join(", "),
    address4: formatIpv4(cfg.interface.address4),
    address6: formatIpv6(cfg.interface.address6),
    mtu: cfg.interface.mtu,
    leases: table.size,
    stateFile,
  });

  // ---- the running daemon --------------------------------------------------------------------
  let stopping = false;
  let exitCode = 0;
  let saving: Promise<void> = Promise.resolve();
  let lastSaveError = "";
  /** A table replaced by a reload, merged into the new one on the next sweep. */
  let retired: LeaseTable | null = null;
  let reloading: Promise<void> = Promise.resolve();
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));

  const drainEvents = (t: LeaseTable) => {
    for (const ev of t.drainEvents()) {
      const { message, properties } = describeLeaseEvent(ev);
      audit.info(message, properties);
      if (ev.kind !== "refused") scheduler.markDirty();
    }
    if (t.eventsLost > 0) scheduler.markDirty();
  };

  const save = async () => {
    if (stateFile === null) return;
    const nowMs = Date.now();
    const nowSecs = Math.floor(nowMs / 1000);
    const records = table.snapshot(nowSecs);
    scheduler.saved(nowMs);
    try {
      await writeStateFile(stateFile, encodeLeaseFile(records, nowSecs));
      if (lastSaveError !== "") log.info("lease file {path} written again", { path: stateFile });
      lastSaveError = "";
      log.debug("saved {count} leases to {path}", { count: records.length, path: stateFile });
    } catch (e) {
      scheduler.markDirty();
      if (message(e) !== lastSaveError) {
        lastSaveError = message(e);
        log.error("cannot write lease file {path}: {error}", {
          path: stateFile,
          error: lastSaveError,
        });
      }
    }
  };
  const queueSave = () => (saving = saving.then(save));

  const clockTimer = setInterval(() => shared.setNowMs(Date.now()), CLOCK_TICK_MS);
  const eventTimer = setInterval(() => {
    if (retired !== null) drainEvents(retired);
    drainEvents(table);
    if (stateFile !== null && scheduler.due(Date.now(), table.size)) queueSave();
  }, EVENT_TICK_MS);
  const sweepTimer = setInterval(() => {
    const nowSecs = Math.floor(Date.now() / 1000);
    if (retired !== null) {
      // Leases a Worker created in the old table while the reload was being published.
      drainEvents(retired);
      const before = table.size;
      table.restore(retired.snapshot(nowSecs), nowSecs);
      if (table.size !== before) scheduler.markDirty();
      retired = null;
    }
    table.sweep(nowSecs);
  }, SWEEP_TICK_MS);

  const logCounters = (msg: string) => {
    log.info(msg, {
      event: "counters",
      counters: nonZeroCounters(shared.sumCounters()),
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
    if (retired !== null) drainEvents(retired);
    drainEvents(table);
    if (stateFile !== null) {
      await saving;
      await save();
    }
    for (const p of iface.undo()) log.warn("cleanup: {problem}", { problem: p });
    for (const t of tuns) t.close();
    logCounters("stopped; counters");
    resolveStopped(exitCode);
  };

  const reload = async () => {
    log.info("SIGHUP: reloading the configuration");
    const next = await opts.reload();
    if (!next.ok) {
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
        interface: { ...newCfg.interface, name: cfg.interface.name, queues: cfg.interface.queues },
        rules: { ...newCfg.rules, stateFile: cfg.rules.stateFile },
      };
    }
    const newRoutes = routesFor(newCfg);
    const changes = routeChanges(routes, newRoutes);
    try {
      iface.apply({ ...changes, mtuBytes: newCfg.interface.mtu });
    } catch (e) {
      log.error("reload rejected, keeping the running configuration: {error}", {
        event: "reload-rejected",
        error: message(e),
      });
      return;
    }
    const nowSecs = Math.floor(Date.now() / 1000);
    const newOptions = leaseTableOptions(newCfg);
    let result;
    try {
      result = table.reconfigure(newOptions, nowSecs);
    } catch (e) {
      log.error("reload rejected: {error}", { event: "reload-rejected", error: message(e) });
      return;
    }
    result.table.drainEvents(); // "restored" events of carried-over leases: not news
    logDropped("reload", result.dropped);
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
      () => (reloading = reloading.then(reload).catch((e) =>
        log.error("reload failed: {error}", { error: message(e) })
      )),
    ],
    ["SIGUSR2", () => logCounters("counters")],
  ];
  for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);

  return await stopped;
}

/** Reads the lease file into `table`, logging what was dropped and why. */
async function restoreLeases(table: LeaseTable, path: string): Promise<void> {
  let text: string | null;
  try {
    text = await readStateFile(path);
  } catch (e) {
    throw new DaemonStartError(`cannot read lease file '${path}': ${message(e)}`);
  }
  if (text === null) {
    log.info("no lease file at {path} yet; starting with no leases", { path });
    return;
  }
  const decoded = decodeLeaseFile(text);
  if (decoded.problem !== null) {
    const copy = await keepDamagedStateFile(path);
    log.warn("lease file {path} is damaged ({problem}); kept a copy at {copy}", {
      path,
      problem: decoded.problem,
      copy,
    });
  }
  const nowSecs = Math.floor(Date.now() / 1000);
  const result = table.restore(decoded.records, nowSecs);
  table.drainEvents();
  log.info("restored {restored} leases from {path}", {
    event: "leases-restored",
    restored: result.restored,
    dropped: result.dropped.length,
    path,
  });
  logDropped("restore", result.dropped);
}

function logDropped(
  when: string,
  dropped: readonly { record: { v4: string; v6: string }; reason: string }[],
): void {
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
    shared: shared.buffer,
    table: table.buffer,
    tableOptions: leaseTableOptions(cfg),
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
