/**
 * PREF64 discovery from Router Advertisements (RFC 8781), the pure half: the messages Linux
 * hands user space for RA options it does not process itself, the PREF64 option inside them,
 * and the table of prefixes learned from routers with their lifetimes.
 *
 * Linux processes an RA on an interface only when `net.ipv6.conf.<if>.accept_ra` is 1 with
 * `forwarding` 0, or `accept_ra` is 2 (accept even when forwarding, which a CLAT with a routed
 * `Source6` or a CPE has on). Each option it does not handle itself — RDNSS, DNSSL, captive
 * portal, PREF64 (type 38) — goes to the rtnetlink multicast group `RTNLGRP_ND_USEROPT` as an
 * `RTM_NEWNDUSEROPT` message, one per option, whose payload is (linux/rtnetlink.h):
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    family     |     pad1      |          opts_len             |  struct nduseroptmsg,
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  host byte order
 * |                           ifindex                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   icmp_type   |   icmp_code   |            pad2               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                             pad3                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  the ND option(s), opts_len bytes, as on the wire             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  attributes: NDUSEROPT_SRCADDR (1) = the router's address     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * and the PREF64 option (RFC 8781 §4):
 *
 * ```
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type 38   |   Length 2    |     Scaled Lifetime     | PLC |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                  Highest 96 Bits of the Prefix                +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Parsers return a reason for a malformed input instead of throwing. Nothing here reads a
 * clock: times come in as arguments.
 *
 * @module
 */

import { formatIpv6, formatIpv6Prefix, type Ipv6Prefix } from "../addr/ipv6.ts";

/** rtnetlink message type of a user-space ND option (`RTM_NEWNDUSEROPT`). */
export const RTM_NEWNDUSEROPT = 68;
/** The rtnetlink multicast group of ND user options (`RTNLGRP_ND_USEROPT`). */
export const RTNLGRP_ND_USEROPT = 20;
/** `sizeof(struct nduseroptmsg)`. */
export const NDUSEROPTMSG_LEN = 16;
/** Attribute after the options: the source address of the RA (`NDUSEROPT_SRCADDR`). */
export const NDUSEROPT_SRCADDR = 1;
/** ICMPv6 type of a Router Advertisement. */
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
/** ND option type of PREF64 (RFC 8781 §4). */
export const ND_OPT_PREF64 = 38;
/** Length of a PREF64 option in bytes (its Length field is 2, in units of 8 bytes). */
export const PREF64_OPTION_LEN = 16;
/** Address family IPv6 (`AF_INET6`). */
const AF_INET6 = 10;

/** The prefix length each Prefix Length Code stands for (RFC 8781 §4); codes 6 and 7 are not. */
export const PLC_LENGTHS: readonly number[] = Object.freeze([96, 64, 56, 48, 40, 32]);

/** A parse result: the value, or why the input was rejected. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** One `RTM_NEWNDUSEROPT` payload. */
export interface NdUserOpt {
  /** Address family (`AF_INET6` = 10 for an RA). */
  family: number;
  /** The interface the RA arrived on. */
  ifindex: number;
  /** ICMPv6 type of the message that carried the option (134: Router Advertisement). */
  icmpType: number;
  /** ICMPv6 code of that message. */
  icmpCode: number;
  /** The option bytes as they were on the wire (a view into the input). */
  options: Uint8Array;
  /** The RA's source address (`NDUSEROPT_SRCADDR`, 16 bytes), or null when absent. */
  router: Uint8Array | null;
}

/**
 * Parses the payload of an `RTM_NEWNDUSEROPT` message (after the 16-byte `nlmsghdr`).
 *
 * @param buf the received bytes
 * @param off where the payload starts
 * @param len payload length in bytes
 * @returns the message's fields, or the reason it is malformed
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const msg = new Uint8Array(16 + 16);
 * msg[0] = 10; // AF_INET6
 * msg[2] = 16; // opts_len
 * msg[4] = 3; // ifindex
 * msg[8] = 134; // Router Advertisement
 * msg[16] = 38; // PREF64
 * msg[17] = 2;
 * const r = parseNdUserOpt(msg, 0, msg.length);
 * strictEqual(r.ok && r.value.ifindex, 3);
 * ```
 */
export function parseNdUserOpt(buf: Uint8Array, off: number, len: number): Parsed<NdUserOpt> {
  if (len < NDUSEROPTMSG_LEN || off + len > buf.length) {
    return { ok: false, reason: `nduseroptmsg truncated (${len} bytes)` };
  }
  const v = new DataView(buf.buffer, buf.byteOffset + off, len);
  const family = v.getUint8(0);
  const optsLen = v.getUint16(2, true);
  const ifindex = v.getInt32(4, true);
  const icmpType = v.getUint8(8);
  const icmpCode = v.getUint8(9);
  if (NDUSEROPTMSG_LEN + optsLen > len) {
    return { ok: false, reason: `opts_len ${optsLen} runs past the message (${len} bytes)` };
  }
  const options = buf.subarray(off + NDUSEROPTMSG_LEN, off + NDUSEROPTMSG_LEN + optsLen);
  let router: Uint8Array | null = null;
  let at = align4(NDUSEROPTMSG_LEN + optsLen);
  while (at + 4 <= len) {
    const attrLen = v.getUint16(at, true);
    const type = v.getUint16(at + 2, true);
    if (attrLen < 4 || at + attrLen > len) {
      return { ok: false, reason: `attribute at ${at} has a bad length ${attrLen}` };
    }
    if (type === NDUSEROPT_SRCADDR) {
      if (attrLen !== 4 + 16) {
        return { ok: false, reason: `NDUSEROPT_SRCADDR of ${attrLen - 4} bytes, not 16` };
      }
      router = buf.subarray(off + at + 4, off + at + 20);
    }
    at += align4(attrLen);
  }
  return { ok: true, value: { family, ifindex, icmpType, icmpCode, options, router } };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One ND option inside a byte run: its type and where its bytes are. */
export interface NdOption {
  /** Option type. */
  type: number;
  /** Offset of the option (its Type byte) in the buffer. */
  off: number;
  /** Its length in bytes (the Length field × 8). */
  len: number;
}

/**
 * Splits a run of ND options (RFC 4861 §4.6) into options.
 *
 * @param buf the bytes
 * @param off first option
 * @param len bytes of options
 * @returns each option, or the reason the run is malformed (a Length of 0, or an option
 *   running past the end)
 */
export function ndOptions(buf: Uint8Array, off: number, len: number): Parsed<NdOption[]> {
  const out: NdOption[] = [];
  let at = off;
  const end = off + len;
  while (at < end) {
    if (at + 2 > end) return { ok: false, reason: `option header truncated at ${at - off}` };
    const optLen = buf[at + 1]! * 8;
    if (optLen === 0) return { ok: false, reason: `option at ${at - off} has Length 0` };
    if (at + optLen > end) {
      return { ok: false, reason: `option at ${at - off} runs past the end (${optLen} bytes)` };
    }
    out.push({ type: buf[at]!, off: at, len: optLen });
    at += optLen;
  }
  return { ok: true, value: out };
}

/** A parsed PREF64 option. */
export interface Pref64Option {
  /** The NAT64 prefix; bits past its length are zero. */
  prefix: Ipv6Prefix;
  /** How long it is valid: the Scaled Lifetime × 8 seconds; 0 withdraws it (RFC 8781 §4). */
  lifetimeSecs: number;
}

/**
 * Parses a PREF64 option (RFC 8781 §4). The option is rejected — as the RFC tells a receiver
 * to ignore it — when its Length is not 2 or its PLC is 6 or 7. Bits of the prefix field past
 * the length the PLC gives are cleared (a sender must zero them).
 *
 * @param buf the bytes
 * @param off the option's Type byte
 * @param len bytes available for the option
 * @returns the prefix and lifetime, or the reason the option is ignored
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { formatIpv6Prefix } from "../addr/ipv6.ts";
 * // Type 38, Length 2, lifetime 1800 s (225 × 8), PLC 0 (/96), 64:ff9b::
 * const opt = new Uint8Array([38, 2, 0x07, 0x08, 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]);
 * const r = parsePref64Option(opt, 0, opt.length);
 * strictEqual(r.ok && formatIpv6Prefix(r.value.prefix), "64:ff9b::/96");
 * strictEqual(r.ok && r.value.lifetimeSecs, 1800);
 * ```
 */
export function parsePref64Option(buf: Uint8Array, off: number, len: number): Parsed<Pref64Option> {
  if (len < 2 || off + 2 > buf.length) return { ok: false, reason: "option truncated" };
  const type = buf[off]!;
  if (type !== ND_OPT_PREF64) return { ok: false, reason: `option type ${type}, not 38` };
  const lengthField = buf[off + 1]!;
  if (lengthField !== 2) return { ok: false, reason: `Length ${lengthField}, not 2` };
  if (len < PREF64_OPTION_LEN || off + PREF64_OPTION_LEN > buf.length) {
    return { ok: false, reason: `option truncated (${Math.min(len, buf.length - off)} bytes)` };
  }
  const word = (buf[off + 2]! << 8) | buf[off + 3]!;
  const plc = word & 7;
  const prefixLen = PLC_LENGTHS[plc];
  if (prefixLen === undefined) return { ok: false, reason: `PLC ${plc} is not assigned` };
  const addr = new Uint8Array(16);
  for (let i = 0; i < 12; i++) addr[i] = buf[off + 4 + i]!;
  clearHostBits(addr, prefixLen);
  return { ok: true, value: { prefix: { addr, len: prefixLen }, lifetimeSecs: (word >>> 3) * 8 } };
}

function clearHostBits(addr: Uint8Array, len: number): void {
  for (let bit = len; bit < 128; bit++) addr[bit >>> 3]! &= ~(0x80 >>> (bit & 7));
}

/** A PREF64 option as one router advertised it. */
export interface Pref64Sighting {
  /** The router's address (`NDUSEROPT_SRCADDR`), or null when the kernel gave none. */
  router: Uint8Array | null;
  /** The interface it arrived on. */
  ifindex: number;
  /** The option. */
  option: Pref64Option;
}

/**
 * Finds the PREF64 options in one `RTM_NEWNDUSEROPT` payload.
 *
 * @param buf the received bytes
 * @param off where the payload (after `nlmsghdr`) starts
 * @param len payload length
 * @returns the sightings (none for another option or message), and one line per malformed
 *   part, for the log
 */
export function pref64Sightings(
  buf: Uint8Array,
  off: number,
  len: number,
): { sightings: Pref64Sighting[]; problems: string[] } {
  const sightings: Pref64Sighting[] = [];
  const problems: string[] = [];
  const msg = parseNdUserOpt(buf, off, len);
  if (!msg.ok) return { sightings, problems: [msg.reason] };
  const m = msg.value;
  if (m.family !== AF_INET6 || m.icmpType !== ICMPV6_ROUTER_ADVERTISEMENT) {
    return { sightings, problems };
  }
  const opts = ndOptions(m.options, 0, m.options.length);
  if (!opts.ok) return { sightings, problems: [opts.reason] };
  for (const o of opts.value) {
    if (o.type !== ND_OPT_PREF64) continue;
    const p = parsePref64Option(m.options, o.off, o.len);
    const from = m.router === null ? "a router" : formatIpv6(m.router);
    if (p.ok) sightings.push({ router: m.router, ifindex: m.ifindex, option: p.value });
    else problems.push(`PREF64 option from ${from} ignored: ${p.reason}`);
  }
  return { sightings, problems };
}

/** One router's advertisement of one prefix. */
interface Entry {
  router: string;
  prefixText: string;
  prefix: Ipv6Prefix;
  expiresMs: number;
}

/**
 * The PREF64 prefixes learned from Router Advertisements, each per router with its lifetime
 * (RFC 8781 §4, §5):
 * - an option refreshes that router's entry for the prefix to `now + lifetime`;
 * - a lifetime of 0 withdraws that router's entry at once (another router advertising the same
 *   prefix keeps it valid);
 * - an entry past its lifetime is gone.
 *
 * Of the prefixes valid at once, {@link Pref64Tracker.current} is the one that became valid
 * most recently: a network that renumbers its NAT64 (a new prefix advertised before the old
 * one expires) moves at once, while refreshes of prefixes already known change nothing, so two
 * routers advertising different prefixes do not make it flap.
 */
export class Pref64Tracker {
  #entries: Entry[] = [];
  /** When each prefix (by text) last became valid. */
  #since = new Map<string, number>();

  /**
   * Records one sighting.
   *
   * @param s the router, interface and option
   * @param nowMs the current time in milliseconds
   */
  observe(s: Pref64Sighting, nowMs: number): void {
    this.expire(nowMs);
    const router = s.router === null ? "" : formatIpv6(s.router);
    const prefixText = formatIpv6Prefix(s.option.prefix);
    const at = this.#entries.findIndex((e) => e.router === router && e.prefixText === prefixText);
    if (s.option.lifetimeSecs === 0) {
      if (at >= 0) this.#entries.splice(at, 1);
      this.#forgetUnused();
      return;
    }
    const expiresMs = nowMs + s.option.lifetimeSecs * 1000;
    if (at >= 0) {
      this.#entries[at]!.expiresMs = expiresMs;
      return;
    }
    if (!this.#since.has(prefixText)) this.#since.set(prefixText, nowMs);
    this.#entries.push({ router, prefixText, prefix: s.option.prefix, expiresMs });
  }

  /**
   * Drops every entry whose lifetime has run out.
   *
   * @param nowMs the current time in milliseconds
   * @returns true when an entry was dropped
   */
  expire(nowMs: number): boolean {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.expiresMs > nowMs);
    if (this.#entries.length === before) return false;
    this.#forgetUnused();
    return true;
  }

  #forgetUnused(): void {
    for (const p of [...this.#since.keys()]) {
      if (!this.#entries.some((e) => e.prefixText === p)) this.#since.delete(p);
    }
  }

  /**
   * The prefix to use: of those still valid, the one that became valid last.
   *
   * @param nowMs the current time in milliseconds
   * @returns the prefix, or null when no router advertises a valid one
   */
  current(nowMs: number): Ipv6Prefix | null {
    let best: Entry | null = null;
    let bestSince = -Infinity;
    for (const e of this.#entries) {
      if (e.expiresMs <= nowMs) continue;
      const since = this.#since.get(e.prefixText) ?? 0;
      if (since > bestSince) {
        best = e;
        bestSince = since;
      }
    }
    return best === null ? null : best.prefix;
  }

  /**
   * When the next entry runs out, for a timer.
   *
   * @returns the earliest expiry in milliseconds, or null when there is no entry
   */
  nextExpiryMs(): number | null {
    let next: number | null = null;
    for (const e of this.#entries) if (next === null || e.expiresMs < next) next = e.expiresMs;
    return next;
  }

  /**
   * The entries, for logs and tests.
   *
   * @returns router (text, "" when unknown), prefix (text) and expiry of each
   */
  entries(): { router: string; prefix: string; expiresMs: number }[] {
    return this.#entries.map((e) => ({
      router: e.router,
      prefix: e.prefixText,
      expiresMs: e.expiresMs,
    }));
  }
}
