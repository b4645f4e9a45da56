/**
 * The address of the metrics endpoint (`Metrics.Listen`, protomask 1.x `prometheus_bind_addr`):
 * `host:port` text to and from {@link MetricsListen}; and the CLAT's DNS server
 * (`Clat.Resolver`, for RFC 7050), {@link ResolverAddress}, whose port may be left out. Pure:
 * no I/O.
 *
 * @module
 */

import { formatIpv4, parseIpv4 } from "../addr/ipv4.ts";
import { formatIpv6, parseIpv6 } from "../addr/ipv6.ts";

/** The address of the metrics endpoint (`Metrics.Listen`). */
export interface MetricsListen {
  /** An IPv4 or IPv6 address (IPv6 without brackets), as `Deno.serve` takes it. */
  hostname: string;
  /** TCP port, 1–65535. */
  port: number;
}

/**
 * `Metrics.Listen` as text: `host:port`, with an IPv6 host in brackets.
 * @param l the address
 * @returns e.g. `127.0.0.1:9060` or `[::1]:9060` (also the form of `--allow-net`)
 */
export function formatListen(l: MetricsListen): string {
  return l.hostname.includes(":") ? `[${l.hostname}]:${l.port}` : `${l.hostname}:${l.port}`;
}

/**
 * Parses `host:port` (IPv4 address, or IPv6 address in brackets; port 1–65535).
 * @param text the text
 * @returns the address, or a description of what is wrong
 */
export function parseListen(text: string): MetricsListen | string {
  const m = /^(?:\[([^\]]*)\]|([^:\[\]]*)):([0-9]{1,5})$/.exec(text);
  const allowed = 'expected "address:port", e.g. "127.0.0.1:9060" or "[::1]:9060"';
  if (m === null) return allowed;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return "the port must be 1 to 65535";
  if (m[1] !== undefined) {
    const a = parseIpv6(m[1]);
    return a === null ? "not an IPv6 address in the brackets" : { hostname: formatIpv6(a), port };
  }
  const a = parseIpv4(m[2]!);
  if (a === null) return `${allowed} (the address must be an IP address, not a name)`;
  return { hostname: formatIpv4(a), port };
}

/** The default DNS port. */
export const DNS_PORT = 53;

/**
 * A DNS server's address (`Clat.Resolver`), in the shape of `Deno.resolveDns`'s `nameServer`
 * option.
 */
export interface ResolverAddress {
  /** An IPv4 or IPv6 address (IPv6 without brackets), in its RFC 5952 form. */
  ipAddr: string;
  /** UDP/TCP port, 1–65535 (53 when left out). */
  port: number;
}

/**
 * `Clat.Resolver` as text: the address alone for port 53, else as {@link formatListen}.
 * @param r the address
 * @returns e.g. `192.0.2.53`, `2001:db8::53` or `[2001:db8::53]:5353`
 */
export function formatResolver(r: ResolverAddress): string {
  return r.port === DNS_PORT ? r.ipAddr : formatListen({ hostname: r.ipAddr, port: r.port });
}

/**
 * Parses a DNS server: `address` (port 53), `IPv4:port` or `[IPv6]:port`; a bare IPv6
 * address is an address (its colons are not a port).
 * @param text the text
 * @returns the address, or a description of what is wrong
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseResolver("2001:db8::53"), { ipAddr: "2001:db8::53", port: 53 });
 * deepStrictEqual(parseResolver("[::1]:5353"), { ipAddr: "::1", port: 5353 });
 * ```
 */
export function parseResolver(text: string): ResolverAddress | string {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { ipAddr: formatIpv4(v4), port: DNS_PORT };
  const v6 = parseIpv6(text);
  if (v6 !== null) return { ipAddr: formatIpv6(v6), port: DNS_PORT };
  const l = parseListen(text);
  if (typeof l !== "string") return { ipAddr: l.hostname, port: l.port };
  if (l.startsWith("the port")) return l;
  return 'expected an IP address, "address:port" or "[IPv6]:port", e.g. "192.0.2.53" or ' +
    '"[2001:db8::53]:53" (an address, not a name)';
}
