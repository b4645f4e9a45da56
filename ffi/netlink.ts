/**
 * An rtnetlink client over `socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)` through FFI: link up
 * and MTU, addresses and routes, each request acknowledged; and {@link setUpInterface}, which
 * configures the translator's TUN and can undo exactly what it did. For the CLAT: proxy
 * Neighbor Discovery entries ({@link Rtnetlink.addProxyNeighbor}, {@link setProxyNdp}) and a
 * socket on the ND user-option multicast group ({@link NdUserOptSocket}, RFC 8781 PREF64).
 *
 * @module
 */

import { formatIpv4, formatIpv4Prefix, type Ipv4Prefix } from "../lib/addr/ipv4.ts";
import { formatIpv6, formatIpv6Prefix, type Ipv6Prefix } from "../lib/addr/ipv6.ts";
import {
  check,
  closeQuietly,
  cString,
  EAGAIN,
  EINTR,
  errno,
  ETIMEDOUT,
  libc,
  pollAsync,
  PollFd,
  POLLIN,
  readSmallFile,
  SysError,
  writeSmallFile,
} from "./libc.ts";
import {
  encodeAddr,
  encodeProxyNeigh,
  encodeRoute,
  encodeSetLink,
  findAck,
  IN6_ADDR_GEN_MODE_NONE,
  type NlAddr,
} from "./netlink_msg.ts";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
/** How long a request waits for its ACK before failing with ETIMEDOUT. */
const ACK_TIMEOUT_MS = 5000;

/**
 * `struct sockaddr_nl` with every field zero but the family (the kernel, or "assign me") and
 * the legacy multicast group bitmask (bit `n - 1` for group `n`, groups 1..32).
 */
function sockaddrNl(groups = 0): Uint8Array<ArrayBuffer> {
  const sa = new Uint8Array(12);
  const v = new DataView(sa.buffer);
  v.setUint16(0, AF_NETLINK, true);
  v.setUint32(8, groups >>> 0, true);
  return sa;
}

function addrText(a: NlAddr): string {
  return typeof a === "number" ? formatIpv4(a) : formatIpv6(a);
}

function prefixText(a: NlAddr, len: number): string {
  return typeof a === "number"
    ? formatIpv4Prefix({ addr: a, len })
    : formatIpv6Prefix({ addr: a, len });
}

/**
 * Looks up an interface index by name (`if_nametoindex(3)`).
 *
 * @param name interface name
 * @returns the index (> 0)
 * @throws {SysError} ENODEV when there is no such interface
 */
export function linkIndex(name: string): number {
  const i = libc().if_nametoindex(cString(name));
  if (i === 0) throw new SysError(`if_nametoindex(${name})`, errno());
  return i;
}

/** A NETLINK_ROUTE socket: one request at a time, each waiting for its ACK. */
export class Rtnetlink {
  #fd: number;
  #seq = 1;
  readonly #rx = new Uint8Array(65536);
  readonly #pollfd = new PollFd();

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Opens and binds a NETLINK_ROUTE socket.
   *
   * @returns the client; close it with {@link Rtnetlink.close} or `using`
   * @throws {SysError} when the socket cannot be created or bound
   */
  static open(): Rtnetlink {
    const fd = check(
      "socket(AF_NETLINK, NETLINK_ROUTE)",
      libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
    );
    let ok = false;
    try {
      check("bind(AF_NETLINK)", libc().bind(fd, sockaddrNl(), 12));
      ok = true;
      return new Rtnetlink(fd);
    } finally {
      if (!ok) closeQuietly(fd);
    }
  }

  /**
   * Sends one request and waits (at most 5 s) for its ACK.
   *
   * @param op what the request does, for the error message (e.g. "add route 10.0.0.0/8")
   * @param build encodes the request for a sequence number
   * @throws {SysError} with `op` as the call when the kernel answers with an error
   */
  request(op: string, build: (seq: number) => Uint8Array): void {
    if (this.#fd < 0) throw new SysError(op, 9, "netlink socket closed");
    const seq = this.#seq++;
    const msg = build(seq) as Uint8Array<ArrayBuffer>;
    const sent = Number(libc().sendto(this.#fd, msg, BigInt(msg.length), 0, sockaddrNl(), 12));
    if (sent < 0) throw new SysError(`${op}: sendto(netlink)`, errno());
    const deadline = Date.now() + ACK_TIMEOUT_MS;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new SysError(op, ETIMEDOUT, "no netlink ACK");
      const ev = this.#pollfd.wait(this.#fd, POLLIN, left);
      if (ev < 0 && -ev !== EINTR) throw new SysError(`${op}: poll(netlink)`, -ev);
      if (ev <= 0) continue;
      const n = Number(libc().recv(this.#fd, this.#rx, BigInt(this.#rx.length), 0));
      if (n < 0) {
        const e = errno();
        if (e === EINTR) continue;
        throw new SysError(`${op}: recv(netlink)`, e);
      }
      const ack = findAck(this.#rx, n, seq);
      if (ack === null) continue;
      if (ack.errno !== 0) throw new SysError(op, ack.errno);
      return;
    }
  }

  /**
   * Brings a link up, sets its MTU and/or its IPv6 address generation mode (`RTM_NEWLINK`).
   *
   * @param index interface index
   * @param opts `up` to set IFF_UP, `mtuBytes` for IFLA_MTU, `addrGenMode6` for
   *   IFLA_INET6_ADDR_GEN_MODE (e.g. `IN6_ADDR_GEN_MODE_NONE`), `gsoMaxBytes` for
   *   IFLA_GSO_MAX_SIZE
   * @throws {SysError} e.g. EPERM without CAP_NET_ADMIN, EINVAL for an MTU out of range
   */
  setLink(
    index: number,
    opts: { up?: boolean; mtuBytes?: number; addrGenMode6?: number; gsoMaxBytes?: number },
  ): void {
    const what = [
      opts.up === undefined ? "" : opts.up ? "up" : "down",
      opts.mtuBytes === undefined ? "" : `mtu ${opts.mtuBytes}`,
      opts.addrGenMode6 === undefined ? "" : `addrgenmode ${opts.addrGenMode6}`,
      opts.gsoMaxBytes === undefined ? "" : `gso_max_size ${opts.gsoMaxBytes}`,
    ].filter((s) => s !== "").join(" ");
    this.request(
      `set link ${index} ${what}`,
      (seq) => encodeSetLink({ index, ...opts }, seq),
    );
  }

  /**
   * Adds a host address (`/32` or `/128`) to a link (`RTM_NEWADDR`, IPv6 with IFA_F_NODAD).
   *
   * @param index interface index
   * @param addr uint32 IPv4 or 16-byte IPv6
   * @throws {SysError} EEXIST when the address is already there
   */
  addAddress(index: number, addr: NlAddr): void {
    const len = typeof addr === "number" ? 32 : 128;
    this.request(
      `add address ${addrText(addr)}`,
      (seq) => encodeAddr({ add: true, index, addr, len }, seq),
    );
  }

  /**
   * Deletes a host address from a link (`RTM_DELADDR`).
   *
   * @param index interface index
   * @param addr uint32 IPv4 or 16-byte IPv6
   * @throws {SysError} EADDRNOTAVAIL when it is not there
   */
  deleteAddress(index: number, addr: NlAddr): void {
    const len = typeof addr === "number" ? 32 : 128;
    this.request(
      `delete address ${addrText(addr)}`,
      (seq) => encodeAddr({ add: false, index, addr, len }, seq),
    );
  }

  /**
   * Adds a route to a prefix through a link (`RTM_NEWROUTE` with NLM_F_CREATE | NLM_F_EXCL).
   *
   * @param index output interface index
   * @param addr prefix address (host bits zero)
   * @param len prefix length
   * @throws {SysError} "route <prefix> already exists" (EEXIST) when any route to the prefix
   *   is in the main table
   */
  addRoute(index: number, addr: NlAddr, len: number): void {
    const p = prefixText(addr, len);
    try {
      this.request(`add route ${p}`, (seq) => encodeRoute({ add: true, index, addr, len }, seq));
    } catch (e) {
      if (e instanceof SysError && e.code === "EEXIST") {
        const err = new SysError(`add route ${p}`, e.errno);
        err.message = `route ${p} already exists (add route ${p}: EEXIST)`;
        throw err;
      }
      throw e;
    }
  }

  /**
   * Deletes a route this client added (`RTM_DELROUTE`).
   *
   * @param index output interface index
   * @param addr prefix address
   * @param len prefix length
   * @throws {SysError} ESRCH when there is no such route
   */
  deleteRoute(index: number, addr: NlAddr, len: number): void {
    this.request(
      `delete route ${prefixText(addr, len)}`,
      (seq) => encodeRoute({ add: false, index, addr, len }, seq),
    );
  }

  /**
   * Adds a proxy neighbor entry (`ip -6 neigh add proxy ADDR dev X proto 77`): the kernel
   * answers Neighbor Solicitations for `addr` on the link with its own MAC (RFC 6877 §6.3, a
   * /128 per customer address). It answers only while `proxy_ndp` ({@link setProxyNdp}) and
   * `forwarding` are on for the link. Adding an entry that exists succeeds.
   *
   * @param index interface index
   * @param addr 16-byte IPv6 address (or uint32 IPv4 for proxy ARP)
   * @throws {SysError} e.g. EPERM without CAP_NET_ADMIN
   */
  addProxyNeighbor(index: number, addr: NlAddr): void {
    this.request(
      `add proxy neighbor ${addrText(addr)}`,
      (seq) => encodeProxyNeigh({ add: true, index, addr }, seq),
    );
  }

  /**
   * Deletes a proxy neighbor entry (`ip -6 neigh del proxy ADDR dev X`).
   *
   * @param index interface index
   * @param addr 16-byte IPv6 address (or uint32 IPv4)
   * @throws {SysError} ENOENT when there is no such entry
   */
  deleteProxyNeighbor(index: number, addr: NlAddr): void {
    this.request(
      `delete proxy neighbor ${addrText(addr)}`,
      (seq) => encodeProxyNeigh({ add: false, index, addr }, seq),
    );
  }

  /** Closes the socket (idempotent). */
  close(): void {
    const fd = this.#fd;
    this.#fd = -1;
    closeQuietly(fd);
  }

  /** Closes the socket at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The file of a per-interface IPv6 sysctl, refusing names that would leave the directory.
 *
 * @param ifname interface name (or `all`, `default`)
 * @param key the setting, e.g. `proxy_ndp`
 * @returns `/proc/sys/net/ipv6/conf/<ifname>/<key>`
 * @throws {Error} for an empty name, `.`, `..`, or one holding `/` or longer than 15 bytes
 */
export function ipv6ConfPath(ifname: string, key: string): string {
  if (
    ifname === "" || ifname === "." || ifname === ".." || ifname.includes("/") ||
    ifname.includes("\0") || new TextEncoder().encode(ifname).length > 15
  ) {
    throw new Error(`${JSON.stringify(ifname)} is not an interface name`);
  }
  return `/proc/sys/net/ipv6/conf/${ifname}/${key}`;
}

/**
 * Sets `net.ipv6.conf.<ifname>.proxy_ndp`, through libc (Deno's file API wants --allow-all
 * for /proc). With it on (and `forwarding` on for the link) the kernel answers Neighbor
 * Solicitations for the link's proxy entries.
 *
 * @param ifname the link, e.g. the CLAT's uplink
 * @param on the value to set
 * @throws {SysError} ENOENT when there is no such interface, EACCES/EPERM without root
 */
export function setProxyNdp(ifname: string, on: boolean): void {
  writeSmallFile(ipv6ConfPath(ifname, "proxy_ndp"), on ? "1\n" : "0\n");
}

/** What {@link setUpProxyNeighbors} did, and how to take it back. */
export interface ProxyNeighbors {
  /** The uplink's interface index. */
  readonly index: number;
  /** Warnings for the operator (e.g. forwarding off: the kernel will not answer). */
  readonly warnings: string[];
  /**
   * Deletes the entries that were added and puts `proxy_ndp` back as it was. Never throws;
   * idempotent.
   *
   * @returns one line per step that failed
   */
  undo(): string[];
}

/**
 * Makes the kernel answer Neighbor Solicitations on `uplink` for each address (the CLAT's
 * `NeighborProxy`: one /128 per customer's `Source6` address, RFC 6877 §6.3): turns
 * `net.ipv6.conf.<uplink>.proxy_ndp` on and adds a proxy entry per address. On failure what
 * was done is undone before the error is thrown.
 *
 * @param uplink the interface facing the IPv6 network (`Clat.Uplink`)
 * @param addrs the 16-byte IPv6 addresses
 * @returns a handle whose `undo()` removes the entries and restores `proxy_ndp`
 * @throws {SysError} ENODEV for a missing interface, EPERM without CAP_NET_ADMIN
 */
export function setUpProxyNeighbors(uplink: string, addrs: readonly Uint8Array[]): ProxyNeighbors {
  const index = linkIndex(uplink);
  const warnings: string[] = [];
  const sysctl = ipv6ConfPath(uplink, "proxy_ndp");
  const before = readSmallFile(sysctl).trim();
  try {
    const fwd = readSmallFile(ipv6ConfPath(uplink, "forwarding")).trim();
    if (fwd !== "1") {
      warnings.push(
        `net.ipv6.conf.${uplink}.forwarding is ${fwd}: the kernel answers for proxy neighbor ` +
          `entries only on a forwarding link (\`sysctl -w net.ipv6.conf.${uplink}.forwarding=1\`, ` +
          `with accept_ra=2 to keep taking Router Advertisements)`,
      );
    }
  } catch (e) {
    warnings.push(`cannot read net.ipv6.conf.${uplink}.forwarding: ${String(e)}`);
  }
  const added: Uint8Array[] = [];
  let restored = false;
  const undo = (): string[] => {
    const problems: string[] = [];
    if (added.length > 0) {
      try {
        using nl = Rtnetlink.open();
        while (added.length > 0) {
          const a = added.pop()!;
          try {
            nl.deleteProxyNeighbor(index, a);
          } catch (e) {
            problems.push(`proxy neighbor ${formatIpv6(a)} not removed: ${String(e)}`);
          }
        }
      } catch (e) {
        problems.push(`proxy neighbors not removed: ${String(e)}`);
      }
    }
    if (!restored) {
      restored = true;
      try {
        if (before !== "1") setProxyNdp(uplink, false);
      } catch (e) {
        problems.push(`net.ipv6.conf.${uplink}.proxy_ndp not restored: ${String(e)}`);
      }
    }
    return problems;
  };
  try {
    setProxyNdp(uplink, true);
    using nl = Rtnetlink.open();
    for (const a of addrs) {
      nl.addProxyNeighbor(index, a);
      added.push(a);
    }
  } catch (e) {
    throw withCleanup(e, undo());
  }
  return { index, warnings, undo };
}

/** The rtnetlink multicast group of ND user options (`RTNLGRP_ND_USEROPT`, linux/rtnetlink.h). */
const RTNLGRP_ND_USEROPT = 20;
/** `recv(2)` flag: do not block. */
const MSG_DONTWAIT = 0x40;
/** A netlink socket's receive queue overflowed: messages were lost (`recv` → ENOBUFS). */
const ENOBUFS = 105;

/**
 * A NETLINK_ROUTE socket bound to the `RTNLGRP_ND_USEROPT` multicast group: the kernel sends
 * it one `RTM_NEWNDUSEROPT` message per Router Advertisement option it leaves to user space
 * (PREF64 among them; see lib/clat/pref64.ts). Read from the main thread without blocking it:
 * {@link NdUserOptSocket.wait} polls on a thread-pool thread, {@link NdUserOptSocket.receive}
 * reads what is queued with `MSG_DONTWAIT`.
 */
export class NdUserOptSocket {
  #fd: number;
  readonly #pollfd = new Uint8Array(8);
  /** The receive buffer; {@link NdUserOptSocket.receive} fills it. */
  readonly buffer: Uint8Array<ArrayBuffer> = new Uint8Array(65536);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Opens the socket and joins the group.
   *
   * @returns the socket; close it with {@link NdUserOptSocket.close}
   * @throws {SysError} when the socket cannot be created or bound
   */
  static open(): NdUserOptSocket {
    const fd = check(
      "socket(AF_NETLINK, NETLINK_ROUTE)",
      libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
    );
    let ok = false;
    try {
      const groups = 1 << (RTNLGRP_ND_USEROPT - 1);
      check("bind(AF_NETLINK, RTNLGRP_ND_USEROPT)", libc().bind(fd, sockaddrNl(groups), 12));
      ok = true;
      return new NdUserOptSocket(fd);
    } finally {
      if (!ok) closeQuietly(fd);
    }
  }

  /**
   * Waits until a message is queued, on a thread-pool thread (the event loop keeps running).
   * Do not close the socket while a wait is pending: stop waiting first.
   *
   * @param timeoutMs the longest wait
   * @returns true when something can be read, false on timeout, a closed socket or an
   *   interrupted wait
   */
  async wait(timeoutMs: number): Promise<boolean> {
    if (this.#fd < 0) return false;
    const ev = await pollAsync(this.#pollfd, this.#fd, POLLIN, timeoutMs);
    return ev > 0;
  }

  /**
   * Reads one queued datagram into {@link NdUserOptSocket.buffer} without blocking.
   *
   * @returns its length; 0 when nothing is queued; -1 when the kernel dropped messages
   *   because the queue was full (ENOBUFS; reading can go on)
   * @throws {SysError} on any other failure
   */
  receive(): number {
    if (this.#fd < 0) return 0;
    for (;;) {
      const n = Number(
        libc().recv(this.#fd, this.buffer, BigInt(this.buffer.length), MSG_DONTWAIT),
      );
      if (n >= 0) return n;
      const e = errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) return 0;
      if (e === ENOBUFS) return -1;
      throw new SysError("recv(netlink RTNLGRP_ND_USEROPT)", e);
    }
  }

  /** Closes the socket (idempotent); no {@link NdUserOptSocket.wait} may be pending. */
  close(): void {
    const fd = this.#fd;
    this.#fd = -1;
    closeQuietly(fd);
  }
}

/** What {@link setUpInterface} configures. */
export interface InterfaceOptions {
  /** Interface name (the TUN, already open). */
  name: string;
  /** MTU to set. */
  mtuBytes: number;
  /**
   * `IFLA_GSO_MAX_SIZE` to set before the link comes up (TUN offload: caps the super-packets
   * the kernel hands the translator), or undefined to leave the kernel's default.
   */
  gsoMaxBytes?: number;
  /**
   * Addresses to assign to the interface as /32 and /128 (none by default: the daemon routes
   * the translator's own addresses into the TUN instead, see lib/daemon/routes.ts).
   */
  addresses?: NlAddr[];
  /** IPv4 prefixes routed into the interface (pool, static-mapped addresses). */
  routes4: Ipv4Prefix[];
  /** IPv6 prefixes routed into the interface (the translation prefix). */
  routes6: Ipv6Prefix[];
}

/** Route and MTU changes applied to a running interface (a reload). */
export interface InterfaceChanges {
  /** IPv4 routes to add. */
  add4: Ipv4Prefix[];
  /** IPv4 routes to remove. */
  remove4: Ipv4Prefix[];
  /** IPv6 routes to add. */
  add6: Ipv6Prefix[];
  /** IPv6 routes to remove. */
  remove6: Ipv6Prefix[];
  /** The MTU wanted (set only when it differs). */
  mtuBytes: number;
}

/** The configuration {@link setUpInterface} applied, and how to take it back. */
export interface InterfaceSetup {
  /** Interface index. */
  readonly index: number;
  /**
   * Adds routes, then sets the MTU, then removes routes. When an addition or the MTU fails,
   * what this call added is removed again and the error is thrown: the interface is as before.
   * A removal that fails is reported, not thrown (the route is gone from `undo`'s list anyway).
   *
   * @param changes routes to add and remove, and the MTU
   * @returns one line per removal that failed
   * @throws {SysError} when a route cannot be added or the MTU cannot be set
   */
  apply(changes: InterfaceChanges): string[];
  /**
   * Removes exactly the routes and addresses that were added, newest first. Never throws;
   * idempotent (a second call does nothing).
   *
   * @returns one line per step that failed (empty when everything was removed)
   */
  undo(): string[];
}

/** One step done, with its inverse. */
interface Done {
  what: string;
  undo: (nl: Rtnetlink) => void;
}

function undoAll(index: number, done: Done[]): string[] {
  const problems: string[] = [];
  if (done.length === 0) return problems;
  let nl: Rtnetlink;
  try {
    nl = Rtnetlink.open();
  } catch (e) {
    return done.map((d) => `${d.what} (interface ${index}) not removed: ${String(e)}`);
  }
  try {
    while (done.length > 0) {
      const d = done.pop()!;
      try {
        d.undo(nl);
      } catch (e) {
        problems.push(`${d.what} not removed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    nl.close();
  }
  return problems;
}

/**
 * Brings the interface up with its MTU, adds the translator's addresses and routes every
 * prefix into it. Before the link comes up its IPv6 address generation mode is set to none:
 * the kernel then gives it no fe80:: address, and without one sends no router solicitations
 * or MLD reports into the translator (it would drop them as `multicast_destination`). On
 * failure, everything already added is removed again before the error is rethrown, so a
 * failed start leaves nothing behind.
 *
 * @param opts interface name, MTU, own addresses and routed prefixes
 * @returns a handle whose `undo()` removes the routes and addresses (the link stays up; it
 *   disappears with the TUN's last fd)
 * @throws {SysError} naming the operation and prefix (EPERM: needs CAP_NET_ADMIN; EEXIST:
 *   "route … already exists")
 */
export function setUpInterface(opts: InterfaceOptions): InterfaceSetup {
  const index = linkIndex(opts.name);
  const done: Done[] = [];
  let mtuBytes = opts.mtuBytes;
  {
    using nl = Rtnetlink.open();
    try {
      nl.setLink(index, { addrGenMode6: IN6_ADDR_GEN_MODE_NONE });
      if (opts.gsoMaxBytes !== undefined) nl.setLink(index, { gsoMaxBytes: opts.gsoMaxBytes });
      nl.setLink(index, { up: true, mtuBytes: opts.mtuBytes });
      for (const a of opts.addresses ?? []) {
        nl.addAddress(index, a);
        done.push({ what: `address ${addrText(a)}`, undo: (n) => n.deleteAddress(index, a) });
      }
      addRoutes(nl, index, [...opts.routes6, ...opts.routes4], done);
    } catch (e) {
      throw withCleanup(e, undoAll(index, done));
    }
  }
  return {
    index,
    apply(changes: InterfaceChanges): string[] {
      using nl = Rtnetlink.open();
      const added: Done[] = [];
      try {
        addRoutes(nl, index, [...changes.add6, ...changes.add4], added);
        if (changes.mtuBytes !== mtuBytes) nl.setLink(index, { mtuBytes: changes.mtuBytes });
      } catch (e) {
        throw withCleanup(e, undoAll(index, added));
      }
      mtuBytes = changes.mtuBytes;
      done.push(...added);
      const problems: string[] = [];
      for (const r of [...changes.remove6, ...changes.remove4]) {
        const what = `route ${prefixText(r.addr, r.len)}`;
        const at = done.findIndex((d) => d.what === what);
        if (at >= 0) done.splice(at, 1);
        try {
          nl.deleteRoute(index, r.addr, r.len);
        } catch (e) {
          problems.push(`${what} not removed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return problems;
    },
    undo: () => undoAll(index, done),
  };
}

/** Adds each route, recording its inverse in `done` as soon as it exists. */
function addRoutes(
  nl: Rtnetlink,
  index: number,
  routes: (Ipv4Prefix | Ipv6Prefix)[],
  done: Done[],
) {
  for (const r of routes) {
    const addr: NlAddr = r.addr;
    const len = r.len;
    nl.addRoute(index, addr, len);
    done.push({
      what: `route ${prefixText(addr, len)}`,
      undo: (n) => n.deleteRoute(index, addr, len),
    });
  }
}

/** Appends cleanup failures to an error's message. */
function withCleanup(e: unknown, problems: string[]): unknown {
  if (problems.length > 0 && e instanceof Error) {
    e.message += `; cleaning up also failed: ${problems.join("; ")}`;
  }
  return e;
}
