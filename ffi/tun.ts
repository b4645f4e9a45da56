/**
 * A Linux TUN device (`/dev/net/tun`, `IFF_TUN | IFF_NO_PI`) implementing the daemon's
 * {@link TunDevice} interface through the libc symbols of `./libc.ts`.
 *
 * The device exists as long as one of its file descriptors is open; closing the last one
 * removes the interface together with its addresses and routes.
 *
 * @module
 */

import type { TunDevice } from "../lib/daemon/tun_device.ts";
import {
  check,
  closeQuietly,
  cString,
  EBADF,
  EINVAL,
  errno,
  IoVec,
  libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  PollFd,
  POLLIN,
  readVec,
  SysError,
  writeVec,
} from "./libc.ts";

/** `IFNAMSIZ`: interface names are at most 15 bytes plus a NUL. */
export const IFNAMSIZ = 16;
/** `sizeof(struct ifreq)` on LP64 Linux. */
export const IFREQ_BYTES = 40;
/** `ifr_flags`: a layer-3 TUN device (no Ethernet header). */
export const IFF_TUN = 0x0001;
/** `ifr_flags`: no 4-byte packet-information prefix on each packet. */
export const IFF_NO_PI = 0x1000;
/** `ifr_flags`: one queue per open file, up to 256 per device (see {@link openTunQueues}). */
export const IFF_MULTI_QUEUE = 0x0100;
/** Most queues a TUN device can have (`MAX_TAP_QUEUES` in the kernel). */
export const MAX_TAP_QUEUES = 256;
/** `TUNSETIFF = _IOW('T', 202, int)`. */
export const TUNSETIFF = 0x400454ca;
/** `SIOCGIFMTU`: read an interface's MTU through any socket. */
export const SIOCGIFMTU = 0x8921;
/** `SIOCSIFMTU`: set an interface's MTU through any socket. */
export const SIOCSIFMTU = 0x8922;

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;

/** Options of {@link openTun}. */
export interface OpenTunOptions {
  /** Interface name, or a template with `%d` (e.g. `"nat64i%d"`) the kernel fills in; ≤ 15 bytes. */
  name: string;
  /** Open the fd with `O_NONBLOCK`: `read` then returns `-EAGAIN` when empty (default false). */
  nonBlocking?: boolean;
  /**
   * Set `IFF_MULTI_QUEUE` (default false): the fd is one queue of the device, and opening the
   * same (filled-in) name again adds a queue. See {@link openTunQueues}.
   */
  multiQueue?: boolean;
}

/**
 * Checks an interface name or template before any syscall.
 *
 * @param name the name or template
 * @returns its bytes (without a NUL)
 * @throws {Error} when it is empty, longer than 15 bytes, or contains `/`, whitespace or NUL
 */
export function checkIfName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0) throw new Error("interface name is empty");
  if (bytes.length >= IFNAMSIZ) {
    throw new Error(
      `interface name "${name}" is ${bytes.length} bytes; Linux allows at most ${IFNAMSIZ - 1}`,
    );
  }
  if (/[\s/\0:]/.test(name)) {
    throw new Error(`interface name "${name}" contains '/', ':', whitespace or NUL`);
  }
  return bytes;
}

/** Reads the NUL-terminated name in the first 16 bytes of an ifreq. */
function ifreqName(ifr: Uint8Array): string {
  let end = 0;
  while (end < IFNAMSIZ && ifr[end] !== 0) end++;
  return new TextDecoder().decode(ifr.subarray(0, end));
}

/** Builds a zeroed ifreq carrying `name`. */
function ifreqFor(name: string): Uint8Array<ArrayBuffer> {
  const ifr = new Uint8Array(IFREQ_BYTES);
  ifr.set(checkIfName(name));
  return ifr;
}

/**
 * Reads an interface's MTU (`SIOCGIFMTU` on a throwaway socket).
 *
 * @param name interface name
 * @returns the MTU in bytes
 * @throws {SysError} when the interface does not exist
 */
export function getMtu(name: string): number {
  const ifr = ifreqFor(name);
  const s = check("socket(AF_INET)", libc().socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  try {
    check(`ioctl(SIOCGIFMTU, ${name})`, libc().ioctl(s, BigInt(SIOCGIFMTU), ifr));
  } finally {
    closeQuietly(s);
  }
  return new DataView(ifr.buffer).getInt32(16, true);
}

/**
 * Sets an interface's MTU (`SIOCSIFMTU` on a throwaway socket).
 *
 * @param name interface name
 * @param mtuBytes the new MTU
 * @throws {SysError} when not permitted (CAP_NET_ADMIN) or the value is out of range
 */
export function setMtu(name: string, mtuBytes: number): void {
  const ifr = ifreqFor(name);
  new DataView(ifr.buffer).setInt32(16, mtuBytes, true);
  const s = check("socket(AF_INET)", libc().socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  try {
    check(`ioctl(SIOCSIFMTU, ${name}, ${mtuBytes})`, libc().ioctl(s, BigInt(SIOCSIFMTU), ifr));
  } finally {
    closeQuietly(s);
  }
}

/** A Linux TUN device: one raw IPv4 or IPv6 packet per `read` and per `write`. */
export class LinuxTun implements TunDevice {
  #fd: number;
  readonly #name: string;
  #mtuBytes: number;
  readonly #pollfd = new PollFd();
  readonly #rd = new IoVec();
  readonly #wr = new IoVec();

  /**
   * Wraps an open TUN fd; use {@link openTun} or {@link attachTun} rather than this.
   *
   * @param fd an fd already attached to the interface with `TUNSETIFF`
   * @param name the interface name
   * @param mtuBytes the interface MTU as last known
   */
  constructor(fd: number, name: string, mtuBytes: number) {
    this.#fd = fd;
    this.#name = name;
    this.#mtuBytes = mtuBytes;
  }

  /** The file descriptor, or -1 after {@link close}; pass it to a Worker's {@link attachTun}. */
  get fd(): number {
    return this.#fd;
  }

  /** The interface name the kernel gave the device. */
  get name(): string {
    return this.#name;
  }

  /** The device MTU in bytes as last set or read. */
  get mtuBytes(): number {
    return this.#mtuBytes;
  }

  /**
   * Sets the interface MTU in the kernel (`SIOCSIFMTU`) and records it.
   *
   * @param mtuBytes the new MTU
   * @throws {SysError} when the kernel refuses
   */
  setMtu(mtuBytes: number): void {
    setMtu(this.#name, mtuBytes);
    this.#mtuBytes = mtuBytes;
  }

  /**
   * Reads one packet into `buf[off .. off + cap)`; allocation-free.
   *
   * @param buf destination buffer (its address is cached; keep using the same one)
   * @param off offset of the first byte
   * @param cap bytes available
   * @returns the packet length, or a negative errno (`-EAGAIN` when non-blocking and empty,
   *   `-EBADF` after close); never throws
   */
  read(buf: Uint8Array, off: number, cap: number): number {
    if (this.#fd < 0) return -EBADF;
    this.#rd.set(0, buf, off, cap);
    return readVec(this.#fd, this.#rd, 1);
  }

  /**
   * Writes one packet from `buf[off .. off + len)`; allocation-free.
   *
   * @param buf source buffer
   * @param off offset of the first byte
   * @param len packet length
   * @returns bytes written, or a negative errno; never throws
   */
  write(buf: Uint8Array, off: number, len: number): number {
    if (this.#fd < 0) return -EBADF;
    this.#wr.set(0, buf, off, len);
    return writeVec(this.#fd, this.#wr, 1);
  }

  /**
   * Waits until a packet can be read (`poll(POLLIN)`), for a non-blocking fd; allocation-free.
   *
   * @param timeoutMs longest wait; 0 only checks, -1 waits forever
   * @returns true when readable (or in error, so the next `read` reports it), false on timeout
   *   or after close
   */
  waitReadable(timeoutMs: number): boolean {
    if (this.#fd < 0) return false;
    return this.#pollfd.wait(this.#fd, POLLIN, timeoutMs) > 0;
  }

  /** Closes the fd (idempotent); the interface disappears with its last fd. */
  close(): void {
    const fd = this.#fd;
    this.#fd = -1;
    closeQuietly(fd);
  }

  /** Closes the device at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The error of a failed `TUNSETIFF`. EINVAL on a name that exists means the name belongs to a
 * link the TUN driver will not attach to (a veth, a bridge, a TAP, or a TUN with other queue
 * flags): say that rather than "invalid argument".
 */
function tunSetIffError(name: string, code: number): SysError {
  const err = new SysError(`ioctl(TUNSETIFF, ${name})`, code);
  if (code === EINVAL && !name.includes("%") && libc().if_nametoindex(cString(name)) !== 0) {
    err.message = `interface "${name}" already exists and is not a TUN device protomask can ` +
      `attach to (ioctl(TUNSETIFF, ${name}): EINVAL; it is another kind of link, a TAP, or a ` +
      `TUN with other queue flags): choose another Interface.Name or remove it ` +
      `(ip link del ${name})`;
  }
  return err;
}

/**
 * Creates (or attaches to) a TUN interface with `IFF_TUN | IFF_NO_PI` (and
 * `IFF_MULTI_QUEUE` when asked).
 *
 * @param opts the name or `%d` template, whether the fd is non-blocking, whether multi-queue
 * @returns the device, named as the kernel filled in the template
 * @throws {Error} when the name is over 15 bytes (before any syscall)
 * @throws {SysError} `open(/dev/net/tun)` or `ioctl(TUNSETIFF)` failures: EPERM without
 *   CAP_NET_ADMIN, EBUSY when another fd holds the name, EINVAL ("already exists and is not a
 *   TUN device") when another kind of link has it
 * @example
 * ```ts
 * // Needs CAP_NET_ADMIN, so the doc test only type-checks this function and does not call it.
 * function firstTunName(): string {
 *   using tun = openTun({ name: "nat64i%d" });
 *   return tun.name; // "nat64i0"; the device goes when `tun` is disposed
 * }
 * ```
 */
export function openTun(opts: OpenTunOptions): LinuxTun {
  const ifr = ifreqFor(opts.name);
  const ifrFlags = IFF_TUN | IFF_NO_PI | (opts.multiQueue ? IFF_MULTI_QUEUE : 0);
  new DataView(ifr.buffer).setUint16(IFNAMSIZ, ifrFlags, true);
  const flags = O_RDWR | O_CLOEXEC | (opts.nonBlocking ? O_NONBLOCK : 0);
  const fd = check("open(/dev/net/tun)", libc().open(cString("/dev/net/tun"), flags, 0));
  let ok = false;
  try {
    const r = libc().ioctl(fd, BigInt(TUNSETIFF), ifr);
    if (r < 0) throw tunSetIffError(opts.name, errno());
    const name = ifreqName(ifr);
    const tun = new LinuxTun(fd, name, getMtu(name));
    ok = true;
    return tun;
  } finally {
    if (!ok) closeQuietly(fd);
  }
}

/**
 * Opens a TUN interface with `queues` queues: one fd per queue, each to be read and written by
 * its own thread.
 *
 * With one queue this is exactly {@link openTun} (no `IFF_MULTI_QUEUE`). With more, the first
 * `TUNSETIFF` creates the device from the name or template with `IFF_MULTI_QUEUE`, and each
 * further fd attaches to the name the kernel filled in (the template again would create a
 * second device).
 *
 * Ordering: for a packet the kernel sends into the device, tun picks the queue by the packet's
 * symmetric flow hash — the queue that last wrote a packet with that hash (an entry of its flow
 * table, dropped after about 3 s without such writes), else the hash scaled to the number of
 * queues. Either way all packets of a flow go to one queue and are read in order by one
 * thread, and the translations that thread writes make the flow's other direction come to the
 * same queue: queues add no reordering within a flow. (A flow can move only when its entry
 * ages out, after one direction sent nothing for about 3 s. Fragments hash without ports, so
 * they may take another queue than the unfragmented packets of their flow.)
 *
 * @param opts the name or `%d` template, whether the fds are non-blocking
 * @param queues number of queues, 1 to 256 (the kernel's `MAX_TAP_QUEUES`)
 * @returns the devices, one per queue, all with the same name; the interface lives while any
 *   of their fds is open
 * @throws {RangeError} when `queues` is not an integer from 1 to 256 (before any syscall)
 * @throws {Error} when the name is over 15 bytes (before any syscall)
 * @throws {SysError} like {@link openTun}, for any queue; the queues already opened are closed
 */
export function openTunQueues(opts: OpenTunOptions, queues: number): LinuxTun[] {
  if (!Number.isInteger(queues) || queues < 1 || queues > MAX_TAP_QUEUES) {
    throw new RangeError(`queues must be an integer from 1 to ${MAX_TAP_QUEUES}, got ${queues}`);
  }
  if (queues === 1) return [openTun({ ...opts, multiQueue: false })];
  const out: LinuxTun[] = [openTun({ ...opts, multiQueue: true })];
  try {
    while (out.length < queues) {
      out.push(openTun({ ...opts, name: out[0]!.name, multiQueue: true }));
    }
  } catch (e) {
    for (const tun of out) tun.close();
    throw e;
  }
  return out;
}

/**
 * Wraps a TUN fd opened elsewhere in the process (fds are process-wide), e.g. by the main
 * thread for a packet Worker. The Worker opens libc itself on first use.
 *
 * @param fd the TUN fd
 * @param name its interface name
 * @param mtuBytes its MTU
 * @returns a device that reads and writes `fd`; closing it closes `fd` for the whole process
 */
export function attachTun(fd: number, name: string, mtuBytes: number): LinuxTun {
  return new LinuxTun(fd, name, mtuBytes);
}
