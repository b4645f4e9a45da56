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
/**
 * `ifr_flags`: every packet read or written is preceded by a `struct virtio_net_hdr`
 * (lib/wire/virtio.ts); needed for {@link TUNSETOFFLOAD}. A device-wide flag: every queue of a
 * multi-queue device must be attached with it, or the attach turns it off for all.
 */
export const IFF_VNET_HDR = 0x4000;
/** `TUNSETIFF = _IOW('T', 202, int)`. */
export const TUNSETIFF = 0x400454ca;
/** `TUNSETOFFLOAD = _IOW('T', 208, unsigned int)`: which offloads the reader accepts. */
export const TUNSETOFFLOAD = 0x400454d0;
/** `TUNGETVNETHDRSZ = _IOR('T', 215, int)`: the size of the header before each packet. */
export const TUNGETVNETHDRSZ = 0x800454d7;
/** `TUNSETOFFLOAD` bit: the reader completes partial checksums (`NETIF_F_HW_CSUM`). */
export const TUN_F_CSUM = 0x01;
/** `TUNSETOFFLOAD` bit: TCP over IPv4 super-packets (TSO4). */
export const TUN_F_TSO4 = 0x02;
/** `TUNSETOFFLOAD` bit: TCP over IPv6 super-packets (TSO6). */
export const TUN_F_TSO6 = 0x04;
/** `TUNSETOFFLOAD` bit: TSO also for TCP with ECN (CWR on the first segment only). */
export const TUN_F_TSO_ECN = 0x08;
/** `TUNSETOFFLOAD` bit: UDP over IPv4 segmentation (USO; with {@link TUN_F_USO6}, Linux 6.2+). */
export const TUN_F_USO4 = 0x20;
/** `TUNSETOFFLOAD` bit: UDP over IPv6 segmentation (USO; with {@link TUN_F_USO4}, Linux 6.2+). */
export const TUN_F_USO6 = 0x40;
/** The offloads protomask asks for first: checksums, TSO with ECN, USO. */
export const OFFLOAD_ALL: number = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
  TUN_F_USO4 | TUN_F_USO6;
/** The fallback for kernels without USO (before 6.2, which answer EINVAL to its bits). */
export const OFFLOAD_NO_USO: number = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
/** `sizeof(struct virtio_net_hdr)`, the header size tun uses unless told otherwise. */
export const VNET_HDR_BYTES = 10;
/**
 * The `IFLA_GSO_MAX_SIZE` protomask sets with offload: a super-packet grows by at most 20 bytes
 * in translation (IPv4 → IPv6), so the largest one the kernel hands over still fits the
 * engine's 65,536-byte packet area (`INPUT_CAPACITY`, lib/xlat/context.ts) once translated.
 */
export const GSO_MAX_BYTES = 65516;
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
  /**
   * Set `IFF_VNET_HDR` (default false): each packet read or written is preceded by a
   * `virtio_net_hdr`; use {@link LinuxTun.readWithHeader}/{@link LinuxTun.writeWithHeader}.
   */
  vnetHeader?: boolean;
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
  readonly #rd = new IoVec(2);
  readonly #wr = new IoVec(2);
  /** Whether the fd was attached with `IFF_VNET_HDR` (every packet has a `virtio_net_hdr`). */
  readonly vnetHeader: boolean;
  /** The `TUN_F_*` offloads the kernel accepted (0: none). */
  offloadFlags = 0;

  /**
   * Wraps an open TUN fd; use {@link openTun} or {@link attachTun} rather than this.
   *
   * @param fd an fd already attached to the interface with `TUNSETIFF`
   * @param name the interface name
   * @param mtuBytes the interface MTU as last known
   * @param vnetHeader whether the fd was attached with `IFF_VNET_HDR` (default false)
   */
  constructor(fd: number, name: string, mtuBytes: number, vnetHeader = false) {
    this.#fd = fd;
    this.#name = name;
    this.#mtuBytes = mtuBytes;
    this.vnetHeader = vnetHeader;
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
   * Reads one packet and its `virtio_net_hdr` (a device with {@link vnetHeader}): the header
   * into `buf[hdrOff .. hdrOff + 10)`, the packet into `buf[off .. off + cap)`, one `readv`;
   * allocation-free.
   *
   * @param buf destination buffer (its address is cached; keep using the same one)
   * @param hdrOff where the 10-byte header goes
   * @param off where the packet goes
   * @param cap bytes available for the packet
   * @returns the packet length (header not counted), or a negative errno; never throws
   */
  readWithHeader(buf: Uint8Array, hdrOff: number, off: number, cap: number): number {
    if (this.#fd < 0) return -EBADF;
    const rd = this.#rd;
    rd.set(0, buf, hdrOff, VNET_HDR_BYTES);
    rd.set(1, buf, off, cap);
    const n = readVec(this.#fd, rd, 2);
    return n < VNET_HDR_BYTES ? (n < 0 ? n : 0) : n - VNET_HDR_BYTES;
  }

  /**
   * Writes one packet after its `virtio_net_hdr` (a device with {@link vnetHeader}), one
   * `writev`; allocation-free.
   *
   * @param buf source buffer
   * @param hdrOff offset of the 10-byte header
   * @param off offset of the packet
   * @param len packet length
   * @returns packet bytes written (header not counted), or a negative errno; never throws
   */
  writeWithHeader(buf: Uint8Array, hdrOff: number, off: number, len: number): number {
    if (this.#fd < 0) return -EBADF;
    const wr = this.#wr;
    wr.set(0, buf, hdrOff, VNET_HDR_BYTES);
    wr.set(1, buf, off, len);
    const n = writeVec(this.#fd, wr, 2);
    return n < VNET_HDR_BYTES ? (n < 0 ? n : 0) : n - VNET_HDR_BYTES;
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
  const ifrFlags = IFF_TUN | IFF_NO_PI | (opts.multiQueue ? IFF_MULTI_QUEUE : 0) |
    (opts.vnetHeader ? IFF_VNET_HDR : 0);
  new DataView(ifr.buffer).setUint16(IFNAMSIZ, ifrFlags, true);
  const flags = O_RDWR | O_CLOEXEC | (opts.nonBlocking ? O_NONBLOCK : 0);
  const fd = check("open(/dev/net/tun)", libc().open(cString("/dev/net/tun"), flags, 0));
  let ok = false;
  try {
    const r = libc().ioctl(fd, BigInt(TUNSETIFF), ifr);
    if (r < 0) throw tunSetIffError(opts.name, errno());
    const name = ifreqName(ifr);
    if (opts.vnetHeader) checkVnetHeaderSize(fd, name);
    const tun = new LinuxTun(fd, name, getMtu(name), opts.vnetHeader === true);
    ok = true;
    return tun;
  } finally {
    if (!ok) closeQuietly(fd);
  }
}

/** Checks that the kernel uses the 10-byte header lib/wire/virtio.ts parses. */
function checkVnetHeaderSize(fd: number, name: string): void {
  const out = new Uint8Array(4);
  check(`ioctl(TUNGETVNETHDRSZ, ${name})`, libc().ioctl(fd, BigInt(TUNGETVNETHDRSZ), out));
  const size = new DataView(out.buffer).getInt32(0, true);
  if (size !== VNET_HDR_BYTES) {
    throw new Error(`${name}: virtio_net_hdr is ${size} bytes, expected ${VNET_HDR_BYTES}`);
  }
}

/**
 * Tells the kernel which offloads the reader of a TUN fd handles (`TUNSETOFFLOAD`), a
 * device-wide setting.
 *
 * @param fd a TUN fd attached with `IFF_VNET_HDR`
 * @param flags `TUN_F_*` bits
 * @returns 0, or the errno (EINVAL: a bit this kernel does not know)
 */
export function setOffload(fd: number, flags: number): number {
  const r = libc().ioctl_value(fd, BigInt(TUNSETOFFLOAD), BigInt(flags));
  return r < 0 ? errno() : 0;
}

/**
 * Turns on as many offloads as the kernel has: {@link OFFLOAD_ALL}, else (before Linux 6.2,
 * EINVAL) {@link OFFLOAD_NO_USO}, else `TUN_F_CSUM` alone.
 *
 * @param tun a device opened with `vnetHeader`
 * @returns the `TUN_F_*` bits accepted (also in `tun.offloadFlags`), or 0 when the kernel took
 *   none of them
 */
export function negotiateOffload(tun: LinuxTun): number {
  for (const flags of [OFFLOAD_ALL, OFFLOAD_NO_USO, TUN_F_CSUM]) {
    if (setOffload(tun.fd, flags) === 0) {
      tun.offloadFlags = flags;
      return flags;
    }
  }
  setOffload(tun.fd, 0);
  tun.offloadFlags = 0;
  return 0;
}

/**
 * Names the offloads of `TUN_F_*` bits, for logs.
 *
 * @param flags the bits
 * @returns e.g. `"csum tso4 tso6 tso-ecn uso4 uso6"`, or `"none"`
 */
export function offloadNames(flags: number): string {
  const names: string[] = [];
  const table: [number, string][] = [
    [TUN_F_CSUM, "csum"],
    [TUN_F_TSO4, "tso4"],
    [TUN_F_TSO6, "tso6"],
    [TUN_F_TSO_ECN, "tso-ecn"],
    [TUN_F_USO4, "uso4"],
    [TUN_F_USO6, "uso6"],
  ];
  for (const [bit, name] of table) if ((flags & bit) !== 0) names.push(name);
  return names.length === 0 ? "none" : names.join(" ");
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
    // Same flags for every queue (IFF_VNET_HDR included): an attach with other flags would
    // change them for the whole device.
    while (out.length < queues) {
      out.push(openTun({ ...opts, name: out[0]!.name, multiQueue: true }));
    }
  } catch (e) {
    for (const tun of out) tun.close();
    throw e;
  }
  return out;
}

/** What {@link openTunOffload} opened. */
export interface OffloadedTun {
  /** The devices, one per queue. */
  tuns: LinuxTun[];
  /** The `TUN_F_*` offloads in force (0: none, and the fds have no `IFF_VNET_HDR`). */
  offloadFlags: number;
}

/**
 * Opens the TUN queues with offload when asked: every queue with `IFF_VNET_HDR`, then
 * `TUNSETOFFLOAD` through {@link negotiateOffload} (repeated on each queue, so all agree).
 * When the kernel takes no offload at all, the queues are closed and opened again without
 * `IFF_VNET_HDR`, as with `offload` false.
 *
 * @param opts the name or `%d` template and whether to try offload
 * @param queues number of queues (see {@link openTunQueues})
 * @returns the devices and the offloads in force
 * @throws like {@link openTunQueues}
 */
export function openTunOffload(
  opts: { name: string; offload: boolean },
  queues: number,
): OffloadedTun {
  if (!opts.offload) return { tuns: openTunQueues({ name: opts.name }, queues), offloadFlags: 0 };
  const tuns = openTunQueues({ name: opts.name, vnetHeader: true }, queues);
  const flags = negotiateOffload(tuns[0]!);
  if (flags !== 0) {
    for (const t of tuns.slice(1)) {
      if (setOffload(t.fd, flags) === 0) t.offloadFlags = flags;
    }
    return { tuns, offloadFlags: flags };
  }
  for (const t of tuns) t.close();
  return { tuns: openTunQueues({ name: opts.name }, queues), offloadFlags: 0 };
}

/**
 * Wraps a TUN fd opened elsewhere in the process (fds are process-wide), e.g. by the main
 * thread for a packet Worker. The Worker opens libc itself on first use.
 *
 * @param fd the TUN fd
 * @param name its interface name
 * @param mtuBytes its MTU
 * @param vnetHeader whether the fd was opened with `IFF_VNET_HDR` (default false)
 * @returns a device that reads and writes `fd`; closing it closes `fd` for the whole process
 */
export function attachTun(
  fd: number,
  name: string,
  mtuBytes: number,
  vnetHeader = false,
): LinuxTun {
  return new LinuxTun(fd, name, mtuBytes, vnetHeader);
}
