/**
 * An in-memory `TunDevice` for tests (docs/STYLE.md, "Tests"): packets queued with
 * `inject` come out of `read`, packets passed to `write` are collected in `written`. A read
 * of an empty queue returns `-EAGAIN` (like a non-blocking fd) or, after `close`, `-EBADF`.
 *
 * @module
 */

import { EAGAIN, EBADF } from "../../lib/daemon/errno.ts";
import type { TunDevice } from "../../lib/daemon/tun_device.ts";

/** The fake device. */
export class FakeTun implements TunDevice {
  /** Device name. */
  readonly name: string;
  /** Device MTU. */
  readonly mtuBytes: number;
  /** Packets waiting to be read (oldest first). */
  readonly queue: (Uint8Array | number)[] = [];
  /** Copies of the packets written, in order. */
  readonly written: Uint8Array[] = [];
  /** When set, `write` returns this (a negative errno) instead of storing the packet. */
  writeError = 0;
  /** Number of `read` calls. */
  reads = 0;
  #closed = false;

  /** @param name device name @param mtuBytes MTU */
  constructor(name = "fake0", mtuBytes = 1500) {
    this.name = name;
    this.mtuBytes = mtuBytes;
  }

  /**
   * Queues packets (or a negative errno to return from one read).
   * @param items packets or errno results
   */
  inject(...items: (Uint8Array | number)[]): void {
    this.queue.push(...items);
  }

  /** Reads the next queued packet into the buffer. */
  read(buf: Uint8Array, off: number, cap: number): number {
    this.reads++;
    if (this.#closed) return -EBADF;
    const next = this.queue.shift();
    if (next === undefined) return -EAGAIN;
    if (typeof next === "number") return next;
    const n = Math.min(cap, next.length);
    buf.set(next.subarray(0, n), off);
    return n;
  }

  /** Stores a copy of the packet. */
  write(buf: Uint8Array, off: number, len: number): number {
    if (this.#closed) return -EBADF;
    if (this.writeError !== 0) return this.writeError;
    this.written.push(buf.slice(off, off + len));
    return len;
  }

  /** Marks the device closed. */
  close(): void {
    this.#closed = true;
  }
}
