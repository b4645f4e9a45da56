/**
 * The address of the metrics endpoint (`Metrics.Listen`, protomask 1.x `prometheus_bind_addr`):
 * `host:port` text to and from {@link MetricsListen}. Pure: no I/O.
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
