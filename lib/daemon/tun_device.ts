/**
 * The packet device the daemon's loop reads from and writes to. `ffi/tun.ts` implements it
 * for a Linux TUN device; tests use an in-memory fake. Calls on the hot path return numbers
 * (bytes, or a negative errno) instead of throwing, and take a buffer plus an offset so the
 * loop never allocates a view per packet.
 *
 * @module
 */

/** A layer-3 packet device (one raw IPv4 or IPv6 packet per read and per write). */
export interface TunDevice {
  /** The interface name the kernel gave the device (the `%d` of a template filled in). */
  readonly name: string;
  /** The device MTU in bytes as last set. */
  readonly mtuBytes: number;
  /**
   * Reads one packet into `buf[off .. off + cap)`. Blocks until a packet arrives unless the
   * device was opened non-blocking.
   *
   * @param buf destination buffer (its base address is cached per buffer; keep using the same one)
   * @param off offset of the first byte
   * @param cap bytes available
   * @returns the packet length, or a negative errno (`-EAGAIN` when non-blocking and empty,
   *   `-EBADF` after `close`); never throws
   */
  read(buf: Uint8Array, off: number, cap: number): number;
  /**
   * Writes one packet from `buf[off .. off + len)`.
   *
   * @param buf source buffer
   * @param off offset of the first byte
   * @param len packet length
   * @returns bytes written, or a negative errno; never throws
   */
  write(buf: Uint8Array, off: number, len: number): number;
  /**
   * Whether every packet read and written carries a `virtio_net_hdr` (TUN offload,
   * `IFF_VNET_HDR`); then the loop uses {@link readWithHeader} and {@link writeWithHeader}.
   */
  readonly vnetHeader?: boolean;
  /**
   * Reads one packet and its 10-byte `virtio_net_hdr` (a device with {@link vnetHeader}).
   *
   * @param buf destination buffer
   * @param hdrOff where the header goes
   * @param off where the packet goes
   * @param cap bytes available for the packet
   * @returns the packet length (header not counted), or a negative errno; never throws
   */
  readWithHeader?(buf: Uint8Array, hdrOff: number, off: number, cap: number): number;
  /**
   * Writes one packet after its 10-byte `virtio_net_hdr` (a device with {@link vnetHeader}).
   *
   * @param buf source buffer
   * @param hdrOff offset of the header
   * @param off offset of the packet
   * @param len packet length
   * @returns packet bytes written (header not counted), or a negative errno; never throws
   */
  writeWithHeader?(buf: Uint8Array, hdrOff: number, off: number, len: number): number;
  /** Closes the device (idempotent). */
  close(): void;
}
