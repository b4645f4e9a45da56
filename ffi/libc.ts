/**
 * The libc symbols protomask needs, opened once per thread (main thread or Worker) through
 * `Deno.dlopen`, plus `errno` and {@link SysError}.
 *
 * Two calling styles:
 * - setup calls (`open`, `ioctl`, `socket`, …) take `Uint8Array` arguments and throw
 *   {@link SysError} on failure;
 * - the hot path ({@link IoVec}, {@link readInto}, {@link writeFrom}) calls `readv`/`writev`,
 *   whose every parameter is an `i32` or a cached pointer object: the buffer address and length
 *   go into a preallocated `struct iovec` in memory, never through a 64-bit parameter. A call
 *   allocates nothing, stays on V8's fast FFI path (a JS number passed to a `usize` parameter
 *   deoptimises the caller with "not a BigInt" every time it is optimised) and returns the byte
 *   count or a negative errno, never throwing.
 *
 * Linux x86_64/aarch64 (LP64, glibc) only.
 *
 * @module
 */

export {
  EACCES,
  EAGAIN,
  EBADF,
  EBUSY,
  EEXIST,
  EINTR,
  EINVAL,
  EIO,
  ENODEV,
  ENOENT,
  EPERM,
  ETIMEDOUT,
} from "../lib/daemon/errno.ts";
import { EIO } from "../lib/daemon/errno.ts";

/** `open(2)` flag: write only. */
export const O_WRONLY = 0x1;
/** `open(2)` flag: read and write. */
export const O_RDWR = 0x2;
/** `open(2)` flag: non-blocking I/O. */
export const O_NONBLOCK = 0x800;
/** `open(2)` flag: close on exec. */
export const O_CLOEXEC = 0x80000;
/** `fcntl(2)` command: get file status flags. */
export const F_GETFL = 3;
/** `fcntl(2)` command: set file status flags. */
export const F_SETFL = 4;
/** `poll(2)` event: data to read. */
export const POLLIN = 0x1;
/** `poll(2)` event: writable. */
export const POLLOUT = 0x4;

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  25: "ENOTTY",
  28: "ENOSPC",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  61: "ENODATA",
  90: "EMSGSIZE",
  93: "EPROTONOSUPPORT",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  105: "ENOBUFS",
  110: "ETIMEDOUT",
  113: "EHOSTUNREACH",
};

const ERRNO_HINTS: Readonly<Record<number, string>> = {
  1: "needs root or CAP_NET_ADMIN",
  13: "needs root or CAP_NET_ADMIN",
  16: "device busy (another process has it?)",
  17: "already exists",
  2: "no such file or directory",
  19: "no such device",
  22: "invalid argument",
  99: "address not available",
  110: "no reply in time",
};

/**
 * The symbolic name of an errno value.
 *
 * @param errno a positive errno
 * @returns e.g. `"EPERM"`, or `"E<n>"` for numbers this table does not know
 */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

/** A failed system call: which call, its errno, and a hint for the operator. */
export class SysError extends Error {
  /** The call or operation that failed, e.g. `"ioctl(TUNSETIFF)"`. */
  call: string;
  /** The positive errno. */
  errno: number;
  /** The errno's symbolic name, e.g. `"EPERM"`. */
  code: string;

  /**
   * Builds the error; the message is `<call>: <CODE> (<hint>)[: <detail>]`.
   *
   * @param call the call or operation, e.g. `"open(/dev/net/tun)"`
   * @param errno the positive errno
   * @param detail optional extra context appended to the message
   */
  constructor(call: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    const hint = ERRNO_HINTS[errno] ?? `errno ${errno}`;
    super(`${call}: ${code} (${hint})${detail ? `: ${detail}` : ""}`);
    this.name = "SysError";
    this.call = call;
    this.errno = errno;
    this.code = code;
  }
}

/** The libc functions protomask binds, in `Deno.dlopen` form. */
export const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // Hot path: `readv`/`writev` take (int fd, const struct iovec *iov, int iovcnt), so no
  // argument is 64-bit: the address and the `size_t` length live in the iovec (IoVec). A
  // `usize` parameter on the fast path wants a BigInt: a number deoptimises the caller every
  // time ("not a BigInt", measured in the live daemon: 245 deopts in 6 s) and a BigInt per
  // call allocates. The i32 result is the low half of ssize_t: exact for packet sizes and -1.
  readv: { parameters: ["i32", "pointer", "i32"], result: "i32" },
  writev: { parameters: ["i32", "pointer", "i32"], result: "i32" },
  // A `read` run on a Deno thread-pool thread and returned as a promise (benchmarks only:
  // off the fast path, so the number length is converted, not deoptimised).
  read_nb: {
    name: "read",
    parameters: ["i32", "pointer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  // ioctls whose argument is a value, not a pointer (TUNSETOFFLOAD takes an unsigned long).
  ioctl_value: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // nfds_t is unsigned long: passed as the constant BigInt 1n (no allocation, no deopt).
  poll: { parameters: ["pointer", "u64", "i32"], result: "i32" },
  // A `poll` run on a Deno thread-pool thread (a promise), so a main-thread reader waits for
  // a socket without blocking the event loop (runtime/pref64.ts). errno stays on that thread.
  poll_nb: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  // For tests/bench/udp_flood.ts: a connected UDP socket sending preallocated batches
  // (`struct mmsghdr *` passed as a cached pointer; the i32 result is the count or -1).
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendmmsg: { parameters: ["i32", "pointer", "u32", "i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The raw symbols of libc as `Deno.dlopen` returns them. */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
let errnoView: Deno.UnsafePointerView | null = null;
/**
 * The hot-path symbols as called. `read_nb` (off the fast path) takes its length as a plain
 * number, which Deno converts for a `usize` parameter at run time although its types say bigint.
 */
interface HotSymbols {
  readv(fd: number, iov: Deno.PointerValue, iovcnt: number): number;
  writev(fd: number, iov: Deno.PointerValue, iovcnt: number): number;
  read_nb(fd: number, p: Deno.PointerValue, len: number): Promise<number>;
  poll(fds: Deno.PointerValue, nfds: bigint, timeoutMs: number): number;
}

let hot: HotSymbols | null = null;
/** Pointer objects per buffer and offset, for {@link pointerAt}. */
const POINTERS = new WeakMap<Uint8Array, Map<number, Deno.PointerValue>>();
/** Offsets remembered per buffer; past this, pointers are made per call (still correct). */
const MAX_OFFSETS_PER_BUFFER = 64;

/**
 * The libc symbols of this thread, opening libc on first use.
 *
 * @returns the symbol table (each Worker gets its own, since `Deno.dlopen` is per thread)
 */
export function libc(): LibcSymbols {
  if (lib === null) {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
    hot = lib.symbols as unknown as HotSymbols;
    const p = lib.symbols.__errno_location();
    if (p === null) throw new Error("__errno_location() returned NULL");
    errnoView = new Deno.UnsafePointerView(p);
  }
  return lib.symbols;
}

/**
 * The calling thread's `errno`; read it right after the call that failed.
 *
 * @returns the current errno value
 */
export function errno(): number {
  if (errnoView === null) libc();
  return errnoView!.getInt32(0);
}

/**
 * A pointer to `buf[off]`, cached per buffer and offset: the first call for a pair creates a
 * pointer object, later calls look it up without allocating. Deno's fast FFI calls take a
 * pointer object for free, while a computed address passed as a number or BigInt is a new heap
 * object per call.
 *
 * @param buf a buffer that stays alive (and is not detached) while the pointer is used
 * @param off byte offset into `buf`
 * @returns the pointer (null for an empty buffer)
 */
export function pointerAt(buf: Uint8Array, off: number): Deno.PointerValue {
  let byOff = POINTERS.get(buf);
  if (byOff === undefined) {
    byOff = new Map();
    POINTERS.set(buf, byOff);
  }
  let p = byOff.get(off);
  if (p === undefined) {
    p = Deno.UnsafePointer.offset(Deno.UnsafePointer.of(buf as Uint8Array<ArrayBuffer>)!, off);
    if (byOff.size < MAX_OFFSETS_PER_BUFFER) byOff.set(off, p);
  }
  return p;
}

/** 2^32, to split an address into the two halves of a 64-bit iovec field. */
const TWO_32 = 4294967296;
/** `sizeof(struct iovec)` on LP64: `void *iov_base; size_t iov_len;`. */
export const IOVEC_BYTES = 16;

/**
 * A preallocated `struct iovec[count]` with its address cached, for `readv`/`writev`. Setting
 * an entry writes the buffer's address plus an offset and the length as little-endian 64-bit
 * words (LP64 Linux on x86_64 and aarch64), so a call passes only `i32`s and one pointer
 * object made once. The base address of the last buffer is cached, so `set` allocates nothing;
 * array buffer backing stores do not move.
 */
export class IoVec {
  /** The `struct iovec` array. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Its address, made once. */
  readonly ptr: Deno.PointerValue;
  readonly #view: DataView<ArrayBuffer>;
  #buf: Uint8Array | null = null;
  #base = 0;

  /**
   * Allocates the array.
   *
   * @param count number of entries (default 1)
   */
  constructor(count = 1) {
    this.bytes = new Uint8Array(IOVEC_BYTES * count);
    this.#view = new DataView(this.bytes.buffer);
    this.ptr = Deno.UnsafePointer.of(this.bytes);
  }

  /**
   * Points entry `i` at `buf[off .. off + len)`; allocation-free once `buf` has been seen.
   *
   * @param i entry index
   * @param buf a buffer that stays alive (and attached) while the entry is used
   * @param off byte offset into `buf`
   * @param len byte count
   */
  set(i: number, buf: Uint8Array, off: number, len: number): void {
    if (buf !== this.#buf) {
      const v = Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf as Uint8Array<ArrayBuffer>));
      this.#base = Number(v);
      this.#buf = buf;
    }
    const addr = this.#base + off;
    const at = i * IOVEC_BYTES;
    const hi = Math.floor(addr / TWO_32);
    this.#view.setUint32(at, addr - hi * TWO_32, true);
    this.#view.setUint32(at + 4, hi, true);
    this.#view.setUint32(at + 8, len, true);
    this.#view.setUint32(at + 12, 0, true);
  }
}

/**
 * `readv(2)` into the entries of `iov`; allocation-free.
 *
 * @param fd file descriptor
 * @param iov the iovec array (entries set with {@link IoVec.set})
 * @param count how many entries to use
 * @returns bytes read, or a negative errno; never throws
 */
export function readVec(fd: number, iov: IoVec, count: number): number {
  const n = hot!.readv(fd, iov.ptr, count);
  return n >= 0 ? n : -errnoView!.getInt32(0);
}

/**
 * `writev(2)` from the entries of `iov`; allocation-free.
 *
 * @param fd file descriptor
 * @param iov the iovec array (entries set with {@link IoVec.set})
 * @param count how many entries to use
 * @returns bytes written, or a negative errno; never throws
 */
export function writeVec(fd: number, iov: IoVec, count: number): number {
  const n = hot!.writev(fd, iov.ptr, count);
  return n >= 0 ? n : -errnoView!.getInt32(0);
}

let rdVec: IoVec | null = null;
let wrVec: IoVec | null = null;

/**
 * `read(2)` into `buf[off .. off + cap)` without allocating (a `readv` with one entry).
 *
 * @param fd file descriptor
 * @param buf destination buffer (keep using the same one: its address is cached)
 * @param off first byte to fill
 * @param cap bytes available
 * @returns bytes read, or a negative errno; never throws
 */
export function readInto(fd: number, buf: Uint8Array, off: number, cap: number): number {
  if (rdVec === null) {
    libc();
    rdVec = new IoVec();
  }
  rdVec.set(0, buf, off, cap);
  return readVec(fd, rdVec, 1);
}

/**
 * `write(2)` from `buf[off .. off + len)` without allocating (a `writev` with one entry).
 *
 * @param fd file descriptor
 * @param buf source buffer (keep using the same one: its address is cached)
 * @param off first byte to send
 * @param len bytes to send
 * @returns bytes written, or a negative errno; never throws
 */
export function writeFrom(fd: number, buf: Uint8Array, off: number, len: number): number {
  if (wrVec === null) {
    libc();
    wrVec = new IoVec();
  }
  wrVec.set(0, buf, off, len);
  return writeVec(fd, wrVec, 1);
}

/**
 * `read(2)` on a Deno thread-pool thread: the calling thread's event loop keeps running and
 * the result arrives as a promise (one allocation per call).
 *
 * @param fd file descriptor
 * @param buf destination buffer; must not be touched until the promise settles
 * @param off first byte to fill
 * @param cap bytes available
 * @returns bytes read, or `-EIO` on any failure (errno lives on the pool thread and is lost)
 */
export async function readIntoAsync(
  fd: number,
  buf: Uint8Array,
  off: number,
  cap: number,
): Promise<number> {
  libc();
  const n = await hot!.read_nb(fd, pointerAt(buf, off), cap);
  return n >= 0 ? n : -EIO;
}

/**
 * Encodes a string as a NUL-terminated C string.
 *
 * @param s the text (UTF-8 encoded)
 * @returns the bytes plus a trailing zero
 */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/**
 * Reads a small file (a sysctl under /proc/sys, say) through libc: Deno's own file API asks
 * for `--allow-all` to read anything under /proc or /sys, while the daemon already holds
 * `--allow-ffi`, which is all-powerful anyway. For setup code, not the hot path.
 *
 * @param path the file
 * @param maxBytes most bytes read (default 4096)
 * @returns the text read
 * @throws {SysError} when the file cannot be opened or read
 */
export function readSmallFile(path: string, maxBytes = 4096): string {
  const lib = libc();
  const fd = check(`open(${path})`, lib.open(cString(path), O_CLOEXEC, 0));
  try {
    const buf = new Uint8Array(maxBytes);
    const iov = new IoVec();
    iov.set(0, buf, 0, maxBytes);
    let n = readVec(fd, iov, 1);
    if (n < 0) throw new SysError(`read(${path})`, -n);
    n = Math.min(n, maxBytes);
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    lib.close(fd);
  }
}

/**
 * Writes a small file (a sysctl under /proc/sys) through libc, for the same reason as
 * {@link readSmallFile}: the file must exist (it is not created) and is written in one call.
 * For setup code, not the hot path.
 *
 * @param path the file
 * @param text what to write (UTF-8)
 * @throws {SysError} when the file cannot be opened or the write fails or is short
 */
export function writeSmallFile(path: string, text: string): void {
  const lib = libc();
  const fd = check(`open(${path})`, lib.open(cString(path), O_WRONLY | O_CLOEXEC, 0));
  try {
    const buf = new TextEncoder().encode(text);
    const iov = new IoVec();
    iov.set(0, buf, 0, buf.length);
    const n = writeVec(fd, iov, 1);
    if (n < 0) throw new SysError(`write(${path})`, -n);
    if (n !== buf.length) throw new SysError(`write(${path})`, EIO, `${n} of ${buf.length} bytes`);
  } finally {
    lib.close(fd);
  }
}

/**
 * `poll(2)` for one descriptor on a Deno thread-pool thread: the calling thread's event loop
 * keeps running while it waits. One promise per call: for sockets that see a few messages a
 * minute (Router Advertisement options), not packets.
 *
 * @param pollfd an 8-byte `struct pollfd` buffer owned by the caller, untouched until the
 *   promise settles
 * @param fd descriptor to wait on
 * @param events `POLLIN`, …
 * @param timeoutMs how long to wait
 * @returns the `revents` bits (0 on timeout), or -1 on failure (errno is lost on the pool
 *   thread; EINTR is the usual one: wait again)
 */
export async function pollAsync(
  pollfd: Uint8Array<ArrayBuffer>,
  fd: number,
  events: number,
  timeoutMs: number,
): Promise<number> {
  const v = new DataView(pollfd.buffer, pollfd.byteOffset, 8);
  v.setInt32(0, fd, true);
  v.setInt16(4, events, true);
  v.setInt16(6, 0, true);
  const r = await libc().poll_nb(pollfd, 1n, timeoutMs);
  if (r < 0) return -1;
  return r === 0 ? 0 : v.getUint16(6, true);
}

/**
 * Checks the result of a setup call and throws on failure.
 *
 * @param call name of the call for the message, e.g. `"open(/dev/net/tun)"`
 * @param r the call's return value (`-1` or negative means failure)
 * @returns `r` as a number when it is not negative
 * @throws {SysError} when `r < 0`, carrying the current errno
 */
export function check(call: string, r: number | bigint): number {
  const n = Number(r);
  if (n < 0) throw new SysError(call, errno());
  return n;
}

/**
 * Closes a file descriptor, ignoring errors (for cleanup paths).
 *
 * @param fd the descriptor; negative values are ignored
 */
export function closeQuietly(fd: number): void {
  if (fd >= 0) libc().close(fd);
}

/** A reusable one-entry `struct pollfd` with its address cached, so polling allocates nothing. */
export class PollFd {
  /** The 8 bytes of `struct pollfd { int fd; short events; short revents; }`. */
  readonly bytes: Uint8Array<ArrayBuffer> = new Uint8Array(8);
  readonly #view = new DataView(this.bytes.buffer);
  readonly #ptr: Deno.PointerValue;

  /** Allocates the struct and looks up its address once. */
  constructor() {
    libc();
    this.#ptr = Deno.UnsafePointer.of(this.bytes);
  }

  /**
   * `poll(2)` on one descriptor.
   *
   * @param fd descriptor to wait on
   * @param events `POLLIN`, `POLLOUT`, …
   * @param timeoutMs how long to wait; `-1` forever, `0` just check
   * @returns the `revents` bits (0 on timeout), or a negative errno
   */
  wait(fd: number, events: number, timeoutMs: number): number {
    // struct pollfd is host-endian; the LP64 Linux targets we support are little-endian.
    this.#view.setInt32(0, fd, true);
    this.#view.setInt16(4, events, true);
    this.#view.setInt16(6, 0, true);
    const r = hot!.poll(this.#ptr, 1n, timeoutMs);
    if (r < 0) return -errnoView!.getInt32(0);
    if (r === 0) return 0;
    return this.#view.getUint16(6, true);
  }
}
