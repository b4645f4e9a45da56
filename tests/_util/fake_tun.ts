/**
 * An in-memory `TunDevice` for tests (docs/STYLE.md, "Tests"): packets queued with
 * `inject` come out of `read`, packets passed to `write` are collected in `written`. A read
 * of an empty queue returns `-EAGAIN` (like a non-blocking fd) or, after `close`, `-EBADF`.
 * Made with `vnetHeader` it is a TUN with offload: every queued packet starts with its 10-byte
 * `virtio_net_hdr`, which `readWithHeader` puts apart, and `writeWithHeader` stores the header
 * written before each packet in `writtenHeaders`.
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
  /** Whether packets carry a `virtio_net_hdr` (TUN offload). */
  readonly vnetHeader: boolean;
  /** Copies of the headers written before the packets in {@link written} (with `vnetHeader`). */
  readonly writtenHeaders: Uint8Array[] = [];
  #closed = false;

  /**
   * @param name device name
   * @param mtuBytes MTU
   * @param opts `vnetHeader`: packets carry a 10-byte `virtio_net_hdr`
   */
  constructor(name = "fake0", mtuBytes = 1500, opts: { vnetHeader?: boolean } = {}) {
    this.name = name;
    this.mtuBytes = mtuBytes;
    this.vnetHeader = opts.vnetHeader ?? false;
  }

  /** Reads the next queued header and packet (a device with `vnetHeader`). */
  readWithHeader(buf: Uint8Array, hdrOff: number, off: number, cap: number): number {
    this.reads++;
    if (this.#closed) return -EBADF;
    const next = this.queue.shift();
    if (next === undefined) return -EAGAIN;
    if (typeof next === "number") return next;
    buf.set(next.subarray(0, 10), hdrOff);
    const n = Math.min(cap, next.length - 10);
    buf.set(next.subarray(10, 10 + n), off);
    return n;
  }

  /** Stores copies of the header and the packet (a device with `vnetHeader`). */
  writeWithHeader(buf: Uint8Array, hdrOff: number, off: number, len: number): number {
    if (this.#closed) return -EBADF;
    if (this.writeError !== 0) return this.writeError;
    this.writtenHeaders.push(buf.slice(hdrOff, hdrOff + 10));
    this.written.push(buf.slice(off, off + len));
    return len;
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
