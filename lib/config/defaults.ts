/**
 * The configuration's default values and MTU limits, named once for the key table
 * (./keys.ts, ./clat_keys.ts), the checks across keys and the README. Re-exported by
 * ./keys.ts and ./config.ts.
 *
 * @module
 */

import { MIN_MTU } from "../wire/ipv6.ts";

/** The RFC 6052 §2.1 Well-Known Prefix, the default `Interface.Prefix`. */
export const DEFAULT_PREFIX = "64:ff9b::/96";
/** RFC 7600 §4 IPv4 dummy address, the default `Interface.Address4`. */
export const DEFAULT_ADDRESS4 = "192.0.0.8";
/** Default TUN name template (the kernel replaces `%d` with a number). */
export const DEFAULT_NAME = "nat64i%d";
/** Default TUN MTU in bytes. */
export const DEFAULT_MTU = 1500;
/** Default idle time of a dynamic lease in seconds (protomask 0.1's default). */
export const DEFAULT_RESERVATION_DURATION_SECS = 7200;
/** Smallest IPv6 link MTU (RFC 8200 §5). */
export const IPV6_MIN_MTU: number = MIN_MTU;
/** Smallest IPv4 MTU (RFC 791). */
export const IPV4_MIN_MTU = 68;
/** Largest MTU without jumbograms. */
export const MAX_MTU = 65535;
/** Default rate of ICMP errors the translator originates, per second. */
export const DEFAULT_ICMP_ERROR_RATE = 100;
/** Default token-bucket size of ICMP errors the translator originates. */
export const DEFAULT_ICMP_ERROR_BURST = 50;
/** Default `Rules.LeasePrefixLength`: a /64, one IPv6 subnet (one host, often). */
export const DEFAULT_LEASE_PREFIX_LENGTH = 64;
/** Default `Clat.Name`, upstream protomask-clat's `-i` default. */
export const DEFAULT_CLAT_NAME = "clat%d";
/** Default `Clat.CustomerPool`: the RFC 7335 IPv4 Service Continuity Prefix, 192.0.0.0/29. */
export const DEFAULT_CUSTOMER_POOL: readonly string[] = ["192.0.0.0/29"];
/** Default `Clat.Routes4`: every IPv4 destination goes through the CLAT. */
export const DEFAULT_ROUTES4: readonly string[] = ["0.0.0.0/0"];
/** Default `Clat.Address4`, the CLAT's own IPv4 address (clatd's `tayga-v4-addr`). */
export const DEFAULT_CLAT_ADDRESS4 = "192.0.0.2";
/** Default `Clat.HostAddress`, assigned to the TUN for local applications (clatd's `clat-v4-addr`). */
export const DEFAULT_HOST_ADDRESS = "192.0.0.1";
