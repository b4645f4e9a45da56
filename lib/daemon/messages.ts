/**
 * Messages between the daemon's main thread and its packet Workers. They are posted only at
 * start, on a reload and at the end, never per packet; everything per packet goes through
 * shared memory (`SharedState`, the lease table).
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { LeaseTableOptions } from "../lease/table.ts";

/** Main → Worker, once: what the Worker runs with. */
export interface WorkerInit {
  /** Message kind. */
  kind: "init";
  /** Worker index (its counter row). */
  index: number;
  /** The TUN file descriptor the main thread opened (fds are process-wide). */
  fd: number;
  /** The TUN device name. */
  name: string;
  /** The TUN MTU in bytes. */
  mtuBytes: number;
  /** Whether the fd was opened with `IFF_VNET_HDR` (TUN offload). */
  vnetHeader: boolean;
  /** `SharedState.buffer`. */
  shared: SharedArrayBuffer;
  /** `LeaseTable.buffer`. */
  table: SharedArrayBuffer;
  /** The options the table was created with (`LeaseTable.attach` needs them). */
  tableOptions: LeaseTableOptions;
  /** The configuration. */
  config: Config;
  /** Generation of this configuration. */
  generation: number;
  /** Seed for the engine's IPv4 Identification generator. */
  idSeed: number;
}

/** Main → Worker: a reloaded configuration (posted before the generation is bumped). */
export interface WorkerReload {
  /** Message kind. */
  kind: "reload";
  /** The generation this configuration belongs to. */
  generation: number;
  /** The new lease table's buffer. */
  table: SharedArrayBuffer;
  /** Its options. */
  tableOptions: LeaseTableOptions;
  /** The new configuration. */
  config: Config;
}

/** Any message the main thread posts to a Worker. */
export type ToWorker = WorkerInit | WorkerReload;

/** Worker → main: the Worker is about to read packets. */
export interface WorkerReady {
  /** Message kind. */
  kind: "ready";
  /** Worker index. */
  index: number;
}

/** Worker → main: the Worker switched to a generation. */
export interface WorkerReloaded {
  /** Message kind. */
  kind: "reloaded";
  /** Worker index. */
  index: number;
  /** The generation now in use. */
  generation: number;
}

/** Worker → main: the Worker ended (device closed or stop requested) or could not start. */
export interface WorkerEnded {
  /** Message kind. */
  kind: "ended";
  /** Worker index. */
  index: number;
  /** Why: `stop`, `closed`, or an error message. */
  reason: string;
}

/** Any message a Worker posts to the main thread. */
export type FromWorker = WorkerReady | WorkerReloaded | WorkerEnded;
