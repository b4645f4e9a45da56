/**
 * The kernel settings a NAT64 gateway needs and the daemon does not change: it reads them at
 * start and warns about the ones that would keep traffic from reaching the TUN device.
 *
 * A gateway forwards IPv6 from its clients' interface into the TUN (the route for `Prefix`)
 * and IPv4 from the TUN out to the Internet (and back for the pool), so both forwarding
 * switches must be on. With one off, the daemon still starts (a test host or a namespace may
 * route differently), but says so.
 *
 * @module
 */

import type { Config } from "../config/config.ts";

/** A sysctl the daemon checks: its name, its file under /proc/sys and the value it wants. */
export interface CheckedSysctl {
  /** Dotted name, as `sysctl` prints it. */
  readonly name: string;
  /** Its file. */
  readonly path: string;
  /** The value a gateway needs. */
  readonly wanted: string;
  /** What goes wrong otherwise. */
  readonly why: string;
}

/** The sysctls checked at start. */
export const CHECKED_SYSCTLS: readonly CheckedSysctl[] = [
  {
    name: "net.ipv6.conf.all.forwarding",
    path: "/proc/sys/net/ipv6/conf/all/forwarding",
    wanted: "1",
    why: "IPv6 hosts' packets to the prefix are not forwarded into the TUN device",
  },
  {
    name: "net.ipv4.ip_forward",
    path: "/proc/sys/net/ipv4/ip_forward",
    wanted: "1",
    why: "translated IPv4 packets are not forwarded out, nor replies to the pool into the TUN",
  },
];

/**
 * The sysctls a configuration needs. A CLAT (RFC 6877) forwards IPv6 between its TUN and the
 * uplink; IPv4 only when it serves a LAN (no `HostAddress`: a CPE — a host's own applications
 * reach the TUN without forwarding); and with `Via = "auto"` its `Uplink` must take Router
 * Advertisements while forwarding (`accept_ra` 2), or no PREF64 option (RFC 8781) arrives.
 *
 * @param cfg the configuration
 * @returns the sysctls to check at start
 */
export function sysctlsFor(cfg: Config): readonly CheckedSysctl[] {
  const clat = cfg.clat;
  if (clat === null) return CHECKED_SYSCTLS;
  const out: CheckedSysctl[] = [{
    ...CHECKED_SYSCTLS[0]!,
    why: "the CLAT's IPv6 packets are not forwarded out of the TUN device, nor the replies into it",
  }];
  if (clat.hostAddress === null) {
    out.push({
      ...CHECKED_SYSCTLS[1]!,
      why: "the LAN's IPv4 packets (CustomerPool) are not forwarded into the TUN device",
    });
  }
  if (clat.viaAuto && clat.uplink !== null) {
    const name = `net.ipv6.conf.${clat.uplink}.accept_ra`;
    out.push({
      name,
      path: `/proc/sys/${name.replaceAll(".", "/")}`,
      wanted: "2",
      why:
        `Router Advertisements on ${clat.uplink} are ignored while forwarding, so Via = "auto" ` +
        "never sees their PREF64 option (RFC 8781)",
    });
  }
  return out;
}

/** What reading one sysctl gave: its text, or why it could not be read. */
export type SysctlReading = { value: string } | { error: string };

/**
 * Turns the readings into warning lines, one per sysctl that is off or could not be read.
 *
 * @param readings one reading per entry of `sysctls`, in the same order
 * @param sysctls the sysctls read (default {@link CHECKED_SYSCTLS})
 * @returns warnings, empty when every switch is as a gateway needs it
 */
export function sysctlWarnings(
  readings: readonly SysctlReading[],
  sysctls: readonly CheckedSysctl[] = CHECKED_SYSCTLS,
): string[] {
  const out: string[] = [];
  sysctls.forEach((s, i) => {
    const r = readings[i];
    if (r === undefined) return;
    if ("error" in r) {
      out.push(`cannot read ${s.path} (${r.error}); ${s.name} not checked`);
      return;
    }
    const v = r.value.trim();
    if (v !== s.wanted) {
      out.push(
        `${s.name} is ${v}: ${s.why}; a gateway needs \`sysctl -w ${s.name}=${s.wanted}\``,
      );
    }
  });
  return out;
}
