/**
 * A small-packet UDP flood for tests/bench/e2e.ts: `iperf3 -u` sends one datagram per system
 * call and cannot saturate a user-space translator on a 2-core machine, so this sends with
 * `sendmmsg(2)` in batches of preallocated `struct mmsghdr` / `struct iovec` on a connected
 * socket, for a fixed time, and reports how many datagrams the kernel accepted. Counting what
 * arrives is the caller's job (the server link's rx counter costs the receiver nothing).
 *
 * ```
 * deno run -A tests/bench/udp_flood.ts send HOST PORT SECS [PAYLOAD_BYTES=64] [BATCH=64]
 *   → one JSON line: {"sent":…,"calls":…,"errors":…,"lastErrno":…,"seconds":…}
 * deno run -A tests/bench/udp_flood.ts sink HOST PORT MAX_SECS
 *   → binds HOST:PORT and never reads (no ICMP Port Unreachable goes back through the
 *     translator; the full socket buffer drops the rest), prints "listening", exits after
 *     MAX_SECS at the latest
 * ```
 *
 * HOST is an IPv4 or IPv6 address (an IPv6 one through the NAT64 prefix reaches an IPv4
 * server through the translator). Linux LP64 only (the struct layouts below).
 *
 * @module
 */

import { check, closeQuietly, errno, libc } from "../../ffi/libc.ts";
import { parseIpv4 } from "../../lib/addr/ipv4.ts";
import { parseIpv6 } from "../../lib/addr/ipv6.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
/** `sizeof(struct mmsghdr)` on LP64: a 56-byte `struct msghdr`, `msg_len`, padding. */
export const MMSGHDR_BYTES = 64;
/** `sizeof(struct iovec)` on LP64. */
export const IOVEC_BYTES = 16;
/** Longest run accepted, seconds. */
const MAX_SECS = 120;
/** Buffers a message vector points into, kept reachable while `sendmmsg` uses them. */
const IN_USE = new Set<Uint8Array>();

/** Options of {@link udpFlood}. */
export interface FloodOptions {
  /** Destination address, IPv4 or IPv6 text. */
  host: string;
  /** Destination UDP port. */
  port: number;
  /** How long to send, seconds (≤ 120). */
  seconds: number;
  /** UDP payload per datagram (default 64). */
  payloadBytes?: number;
  /** Datagrams per `sendmmsg` call (default 64). */
  batch?: number;
}

/** What {@link udpFlood} sent. */
export interface FloodResult {
  /** Datagrams the kernel accepted. */
  sent: number;
  /** `sendmmsg` calls made. */
  calls: number;
  /** Calls that failed (-1). */
  errors: number;
  /** errno of the last failed call (0 when none failed). */
  lastErrno: number;
  /** Time spent sending, seconds. */
  seconds: number;
}

/**
 * The `struct sockaddr_in` / `struct sockaddr_in6` for an address and port.
 *
 * @param host IPv4 or IPv6 address text
 * @param port UDP port
 * @returns the address family and the socket address bytes
 * @throws {Error} when `host` is not an address
 */
export function sockaddrFor(host: string, port: number): { family: number; sa: Uint8Array } {
  const v4 = parseIpv4(host);
  if (v4 !== null) {
    const sa = new Uint8Array(16);
    const v = new DataView(sa.buffer);
    v.setUint16(0, AF_INET, true);
    v.setUint16(2, port);
    v.setUint32(4, v4);
    return { family: AF_INET, sa };
  }
  const v6 = parseIpv6(host);
  if (v6 === null) throw new Error(`not an IPv4 or IPv6 address: ${host}`);
  const sa = new Uint8Array(28);
  const v = new DataView(sa.buffer);
  v.setUint16(0, AF_INET6, true);
  v.setUint16(2, port);
  sa.set(v6, 8); // sin6_flowinfo (4..8) and sin6_scope_id (24..28) stay 0
  return { family: AF_INET6, sa };
}

/**
 * `batch` preallocated `struct mmsghdr`s, each with one `struct iovec` pointing at its own
 * `payloadBytes` of `payload` (no destination: the socket is connected).
 *
 * @param batch number of messages
 * @param payloadBytes bytes per message
 * @returns the message vector and the buffers it points into (keep them alive while it is used)
 */
export function mmsgVector(
  batch: number,
  payloadBytes: number,
): { msgs: Uint8Array<ArrayBuffer>; iovs: Uint8Array<ArrayBuffer>; payload: Uint8Array } {
  const msgs = new Uint8Array(batch * MMSGHDR_BYTES);
  const iovs = new Uint8Array(batch * IOVEC_BYTES);
  const payload = new Uint8Array(batch * payloadBytes).fill(0x61);
  const mv = new DataView(msgs.buffer);
  const iv = new DataView(iovs.buffer);
  const iovBase = Deno.UnsafePointer.value(Deno.UnsafePointer.of(iovs)!);
  const payloadBase = Deno.UnsafePointer.value(Deno.UnsafePointer.of(payload)!);
  for (let i = 0; i < batch; i++) {
    iv.setBigUint64(i * IOVEC_BYTES, BigInt(payloadBase) + BigInt(i * payloadBytes), true);
    iv.setBigUint64(i * IOVEC_BYTES + 8, BigInt(payloadBytes), true);
    const m = i * MMSGHDR_BYTES;
    // msg_name = NULL, msg_namelen = 0 (connected); msg_iov, msg_iovlen = 1; no control.
    mv.setBigUint64(m + 16, BigInt(iovBase) + BigInt(i * IOVEC_BYTES), true);
    mv.setBigUint64(m + 24, 1n, true);
  }
  return { msgs, iovs, payload };
}

/**
 * Sends `payloadBytes`-byte UDP datagrams to `host:port` in `sendmmsg` batches for `seconds`
 * (blocking socket: a full send buffer paces the sender instead of failing).
 *
 * @param opts destination, duration, sizes
 * @returns what was sent
 * @throws {SysError} when the socket cannot be created or connected
 */
export function udpFlood(opts: FloodOptions): FloodResult {
  const batch = opts.batch ?? 64;
  const payloadBytes = opts.payloadBytes ?? 64;
  if (!(opts.seconds > 0 && opts.seconds <= MAX_SECS)) {
    throw new RangeError(`seconds must be in (0, ${MAX_SECS}]`);
  }
  if (!(batch >= 1 && batch <= 1024 && payloadBytes >= 0 && payloadBytes <= 1400)) {
    throw new RangeError("batch must be 1..1024 and payloadBytes 0..1400");
  }
  const { family, sa } = sockaddrFor(opts.host, opts.port);
  const lc = libc();
  const fd = check("socket(SOCK_DGRAM)", lc.socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  try {
    check(`connect(${opts.host}:${opts.port})`, lc.connect(fd, sa, sa.length));
    const vec = mmsgVector(batch, payloadBytes);
    for (const b of [vec.msgs, vec.iovs, vec.payload]) IN_USE.add(b);
    const p = Deno.UnsafePointer.of(vec.msgs);
    let sent = 0, calls = 0, errors = 0, lastErrno = 0;
    const t0 = performance.now();
    const end = t0 + opts.seconds * 1000;
    // Bounded by time and by count (a call sends at least one datagram or fails).
    const maxCalls = opts.seconds * 50_000_000;
    while (calls < maxCalls && performance.now() < end) {
      const n = lc.sendmmsg(fd, p, batch, 0);
      calls++;
      if (n > 0) {
        sent += n;
      } else {
        errors++;
        lastErrno = errno();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    for (const b of [vec.msgs, vec.iovs, vec.payload]) IN_USE.delete(b);
    return { sent, calls, errors, lastErrno, seconds };
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Binds `host:port` and never reads, so datagrams sent there are dropped at the full socket
 * buffer instead of answered with ICMP Port Unreachable; exits after `maxSecs`.
 *
 * @param host address to bind
 * @param port UDP port
 * @param maxSecs longest life, seconds
 * @returns when the time is up
 */
async function sink(host: string, port: number, maxSecs: number): Promise<void> {
  const { family, sa } = sockaddrFor(host, port);
  const lc = libc();
  const fd = check("socket(SOCK_DGRAM)", lc.socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  try {
    check(`bind(${host}:${port})`, lc.bind(fd, sa, sa.length));
    console.log(`listening ${host} ${port}`);
    await new Promise((resolve) => setTimeout(resolve, maxSecs * 1000));
  } finally {
    closeQuietly(fd);
  }
}

function usage(): never {
  console.error(
    "usage: udp_flood.ts send HOST PORT SECS [PAYLOAD_BYTES] [BATCH] | sink HOST PORT MAX_SECS",
  );
  Deno.exit(2);
}

if (import.meta.main) {
  const [cmd, host, portText, secsText, bytesText, batchText] = Deno.args;
  const port = Number(portText), secs = Number(secsText);
  if (!host || !(port > 0 && port < 65536) || !(secs > 0)) usage();
  if (cmd === "send") {
    const r = udpFlood({
      host,
      port,
      seconds: secs,
      payloadBytes: bytesText === undefined ? 64 : Number(bytesText),
      batch: batchText === undefined ? 64 : Number(batchText),
    });
    console.log(JSON.stringify(r));
  } else if (cmd === "sink") {
    await sink(host, port, Math.min(secs, 24 * 3600));
  } else {
    usage();
  }
}
