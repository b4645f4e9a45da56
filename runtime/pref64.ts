/**
 * PREF64 discovery for `Clat.Via = "auto"`, the Deno side: Router Advertisements first
 * (RFC 8781), then DNS (RFC 7050).
 *
 * **From RAs, without a raw socket.** Linux hands the RA options it does not process itself to
 * the rtnetlink group `RTNLGRP_ND_USEROPT` ({@link NdUserOptSocket} in ffi/netlink.ts). It
 * processes RAs on an interface only with `net.ipv6.conf.<if>.accept_ra=1` and
 * `forwarding=0`, or with `accept_ra=2` (needed when the host forwards: a CLAT with a routed
 * `Source6`, a CPE). The options are parsed and their lifetimes tracked per router in
 * {@link Pref64Tracker} (lib/clat/pref64.ts): a lifetime of 0 withdraws the router's prefix, an
 * expired one goes, another router's advertisement of the same prefix keeps it.
 * With `Clat.Uplink` set, only RAs that arrived on that interface count.
 *
 * **Then DNS.** When no RA has given a valid prefix within `raGraceMs` of the start (3 s by
 * default), and for as long as none is valid, the AAAA records of `ipv4only.arpa` are resolved
 * with `Deno.resolveDns` — through `Clat.Resolver` when set, else the system's resolver
 * (resolv.conf) — and the prefix derived (lib/clat/rfc7050.ts). `Deno.resolveDns` does not
 * report TTLs, so the query is repeated every `dnsIntervalSecs` (600 s by default; RFC 7050 §3
 * asks for a new discovery at least once per TTL, and DNS64 answers for it are usually cached
 * for longer); after a failure (timeout, no DNS server) it is retried after 10 s, doubling up to
 * that interval, keeping the prefix it had. An answer without a well-known address (no DNS64)
 * clears the DNS prefix. While a prefix from RAs is valid, DNS is not asked.
 *
 * **What the caller sees.** `onChange(prefix, source)` each time the prefix in use changes: a
 * prefix from RAs wins over one from DNS; `null` when neither has one (at the start nothing is
 * reported until something is found). The same prefix learned from the other source is not a
 * change. When the RA prefix goes and DNS takes over, the old prefix stays in use until the
 * first DNS query has finished, so the caller sees one change (to DNS's prefix, or to none)
 * rather than two. {@link Pref64Discovery.stop} stops waiting, cancels timers and the DNS query, and
 * closes the socket.
 *
 * @module
 */

import { formatIpv6Prefix, type Ipv6Prefix, parseIpv6 } from "../lib/addr/ipv6.ts";
import { pref64Sightings, Pref64Tracker, RTM_NEWNDUSEROPT } from "../lib/clat/pref64.ts";
import { derivePrefixes, IPV4ONLY_ARPA } from "../lib/clat/rfc7050.ts";
import type { ResolverAddress } from "../lib/config/listen.ts";
import { linkIndex, NdUserOptSocket } from "../ffi/netlink.ts";
import { netlinkMessages } from "../ffi/netlink_msg.ts";

/** Where a discovered prefix came from. */
export type Pref64Source = "ra" | "dns";

/** Options of {@link Pref64Discovery.start}. */
export interface Pref64DiscoveryOptions {
  /** Only RAs received on this interface count (`Clat.Uplink`); null: any interface. */
  uplink: string | null;
  /** The DNS server for RFC 7050 (`Clat.Resolver`); null: the system's resolver. */
  resolver: ResolverAddress | null;
  /**
   * Called when the prefix in use changes.
   * @param prefix the new prefix, or null when none is known any more
   * @param source where it came from (for null: the source that was lost)
   */
  onChange(prefix: Ipv6Prefix | null, source: Pref64Source): void;
  /** Log lines (info: what was learned; warn: malformed options, DNS failures). */
  log?(level: "info" | "warn", message: string): void;
  /** How long to wait for an RA before asking DNS (default 3000 ms). */
  raGraceMs?: number;
  /** How often DNS is asked again while it is in use (default 600 s). */
  dnsIntervalSecs?: number;
  /** The first retry after a failed DNS query (default 10 s, doubling up to the interval). */
  dnsRetrySecs?: number;
  /** The longest single wait for the netlink socket, which bounds {@link stop} (default 500). */
  pollMs?: number;
}

/** The prefix in use and where it came from. */
export interface Pref64State {
  /** The prefix. */
  prefix: Ipv6Prefix;
  /** Where it came from. */
  source: Pref64Source;
}

/** PREF64 discovery (RFC 8781, then RFC 7050); see the module documentation. */
export class Pref64Discovery {
  readonly #opts: Pref64DiscoveryOptions;
  readonly #socket: NdUserOptSocket;
  readonly #tracker = new Pref64Tracker();
  #running = true;
  #uplinkIndex: number | null = null;
  #reported: Pref64State | null = null;
  #graceOver = false;
  #dnsPrefix: Ipv6Prefix | null = null;
  /** Whether the running DNS loop has finished its first query. */
  #dnsSettled = false;
  #dnsLoop: Promise<void> | null = null;
  #dnsAbort: AbortController | null = null;
  #dnsWake: (() => void) | null = null;
  #raLoop: Promise<void>;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(opts: Pref64DiscoveryOptions, socket: NdUserOptSocket) {
    this.#opts = opts;
    this.#socket = socket;
    this.#resolveUplink();
    this.#raLoop = this.#readRas();
    this.#graceTimer = setTimeout(() => {
      this.#graceOver = true;
      this.#evaluate();
    }, opts.raGraceMs ?? 3000);
  }

  /**
   * Opens the netlink socket and starts listening; DNS follows after the grace period.
   *
   * @param opts uplink, resolver, callback and timings
   * @returns the running discovery
   * @throws {SysError} when the netlink socket cannot be opened
   */
  static start(opts: Pref64DiscoveryOptions): Pref64Discovery {
    return new Pref64Discovery(opts, NdUserOptSocket.open());
  }

  /** The prefix in use now, or null. */
  get current(): Pref64State | null {
    return this.#reported;
  }

  /**
   * Stops: no more callbacks; the pending netlink wait ends (within `pollMs`), the DNS query
   * is aborted, timers are cleared and the socket is closed.
   *
   * @returns once everything has stopped
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#expiryTimer);
    this.#dnsAbort?.abort();
    this.#dnsWake?.();
    await this.#raLoop;
    await this.#dnsLoop;
    this.#socket.close();
  }

  #log(level: "info" | "warn", message: string): void {
    this.#opts.log?.(level, message);
  }

  #resolveUplink(): void {
    if (this.#opts.uplink === null || this.#uplinkIndex !== null) return;
    try {
      this.#uplinkIndex = linkIndex(this.#opts.uplink);
    } catch {
      this.#uplinkIndex = null; // not there yet: looked up again at the next message
    }
  }

  async #readRas(): Promise<void> {
    const pollMs = this.#opts.pollMs ?? 500;
    while (this.#running) {
      const readable = await this.#socket.wait(pollMs);
      if (!this.#running) return;
      if (!readable) continue;
      for (;;) {
        let n: number;
        try {
          n = this.#socket.receive();
        } catch (e) {
          this.#log("warn", `PREF64: ${e instanceof Error ? e.message : String(e)}`);
          break;
        }
        if (n === 0) break;
        if (n < 0) {
          this.#log("warn", "PREF64: netlink messages were lost (receive queue full)");
          continue;
        }
        this.#handleDatagram(n);
      }
      this.#evaluate();
    }
  }

  #handleDatagram(n: number): void {
    const buf = this.#socket.buffer;
    const msgs = netlinkMessages(buf, n);
    if (!msgs.ok) {
      this.#log("warn", `PREF64: ${msgs.reason}`);
      return;
    }
    const now = Date.now();
    for (const m of msgs.value) {
      if (m.type !== RTM_NEWNDUSEROPT) continue;
      const { sightings, problems } = pref64Sightings(buf, m.payloadOff, m.payloadLen);
      for (const p of problems) this.#log("warn", `PREF64: ${p}`);
      if (sightings.length === 0) continue;
      this.#resolveUplink();
      for (const s of sightings) {
        if (this.#opts.uplink !== null && s.ifindex !== this.#uplinkIndex) continue;
        this.#tracker.observe(s, now);
      }
    }
  }

  /** Expires RA entries, picks the prefix in use, reports a change, starts or ends DNS. */
  #evaluate(): void {
    if (!this.#running) return;
    const now = Date.now();
    this.#tracker.expire(now);
    const ra = this.#tracker.current(now);
    clearTimeout(this.#expiryTimer);
    const next = this.#tracker.nextExpiryMs();
    if (next !== null) {
      this.#expiryTimer = setTimeout(() => this.#evaluate(), Math.max(0, next - now) + 1);
    }
    const wantDns = ra === null && this.#graceOver;
    if (!wantDns) {
      this.#dnsPrefix = null;
      this.#dnsWake?.(); // an RA prefix is valid: the DNS loop ends instead of sleeping on
    }
    if (wantDns && this.#dnsLoop === null) this.#dnsLoop = this.#askDns();
    const state: Pref64State | null = ra !== null
      ? { prefix: ra, source: "ra" }
      : this.#dnsPrefix !== null
      ? { prefix: this.#dnsPrefix, source: "dns" }
      : null;
    const was = this.#reported;
    // An RA prefix just went and DNS is being asked: keep the old prefix until DNS answers,
    // rather than reporting none and then DNS's prefix (two reloads).
    if (state === null && was !== null && wantDns && !this.#dnsSettled) return;
    const text = (s: Pref64State | null) => s === null ? null : formatIpv6Prefix(s.prefix);
    this.#reported = state;
    if (text(state) === text(was)) return;
    if (state !== null) {
      this.#log("info", `PREF64: ${formatIpv6Prefix(state.prefix)} from ${sourceText(state)}`);
    } else {
      this.#log("info", `PREF64: no prefix any more (${sourceText(was!)} lost it)`);
    }
    this.#opts.onChange(state?.prefix ?? null, state?.source ?? was!.source);
  }

  /** Asks DNS while no RA prefix is valid; ends when one is, or at stop. */
  async #askDns(): Promise<void> {
    const intervalSecs = this.#opts.dnsIntervalSecs ?? 600;
    let retrySecs = this.#opts.dnsRetrySecs ?? 10;
    this.#dnsSettled = false;
    await null; // never settle synchronously: the caller stores this promise first
    try {
      while (this.#running && this.#tracker.current(Date.now()) === null) {
        let waitSecs = intervalSecs;
        this.#dnsAbort = new AbortController();
        try {
          const answers = await Deno.resolveDns(IPV4ONLY_ARPA, "AAAA", {
            ...(this.#opts.resolver === null ? {} : { nameServer: this.#opts.resolver }),
            signal: this.#dnsAbort.signal,
          });
          const addrs = answers.map((a) => parseIpv6(a)).filter((a) => a !== null);
          const found = derivePrefixes(addrs);
          if (found.length === 0) {
            this.#log("warn", `PREF64: ${IPV4ONLY_ARPA} AAAA holds no well-known address`);
          }
          this.#dnsPrefix = found[0]?.prefix ?? null;
          retrySecs = this.#opts.dnsRetrySecs ?? 10;
        } catch (e) {
          if (!this.#running) return;
          if (e instanceof Deno.errors.NotFound) {
            this.#dnsPrefix = null; // no AAAA at all: no DNS64
          } else {
            waitSecs = Math.min(retrySecs, intervalSecs);
            retrySecs = Math.min(retrySecs * 2, intervalSecs);
          }
          this.#log("warn", `PREF64: ${IPV4ONLY_ARPA} AAAA: ${errorText(e)}`);
        }
        this.#dnsSettled = true;
        this.#evaluate();
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, waitSecs * 1000);
          this.#dnsWake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.#dnsWake = null;
      }
    } finally {
      this.#dnsAbort = null;
      this.#dnsLoop = null;
      if (this.#running) this.#evaluate(); // an RA prefix arrived: report without DNS's
    }
  }
}

function sourceText(s: Pref64State): string {
  return s.source === "ra" ? "Router Advertisement (RFC 8781)" : "DNS (RFC 7050)";
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
