/**
 * How many TUN queues — and so packet Workers — the daemon runs (`Interface.Queues`).
 *
 * Left out of the configuration, the number is one per CPU, at most {@link DEFAULT_MAX_QUEUES}:
 * each queue is a Worker thread with its own V8 heap and packet arena, and more readers than
 * cores only add contention on the shared lease table. Pure: the CPU count is passed in (the
 * daemon reads `navigator.hardwareConcurrency`), so `lib/` stays free of system calls.
 *
 * @module
 */

/** Largest `Interface.Queues` accepted (the kernel allows 256 per TUN device). */
export const MAX_QUEUES = 64;
/** The default never exceeds this many queues, however many CPUs there are. */
export const DEFAULT_MAX_QUEUES = 8;

/**
 * The default number of queues on a machine with `cpus` CPUs.
 *
 * @param cpus logical CPUs (e.g. `navigator.hardwareConcurrency`); anything not a positive
 *   number counts as 1
 * @returns one per CPU, from 1 to {@link DEFAULT_MAX_QUEUES}
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(defaultQueues(2), 2);
 * strictEqual(defaultQueues(32), 8);
 * ```
 */
export function defaultQueues(cpus: number): number {
  const n = Number.isFinite(cpus) ? Math.floor(cpus) : 1;
  return Math.max(1, Math.min(n, DEFAULT_MAX_QUEUES));
}

/**
 * The number of queues the daemon opens.
 *
 * @param configured `Config.interface.queues` (null when `Interface.Queues` is left out)
 * @param cpus logical CPUs, for the default
 * @returns `configured` when set, else {@link defaultQueues}`(cpus)`
 */
export function effectiveQueues(configured: number | null, cpus: number): number {
  return configured ?? defaultQueues(cpus);
}
