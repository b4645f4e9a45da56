/**
 * The CLAT's keys (`protomask clat`, RFC 6877): the `[Clat]` entries of the key table, in
 * `check-config` order, and the default of `Clat.Address6`. ./keys.ts puts them first in
 * `KEYS`, as `[Clat]` is the first section.
 *
 * @module
 */

import { ipv4InPrefix, parseIpv4, parseIpv4Prefix } from "../addr/ipv4.ts";
import { parseIpv6Prefix } from "../addr/ipv6.ts";
import { embedIpv4 } from "../addr/rfc6052.ts";
import { ClatMapper } from "../clat/mapper.ts";
import {
  DEFAULT_CLAT_ADDRESS4,
  DEFAULT_CLAT_NAME,
  DEFAULT_CUSTOMER_POOL,
  DEFAULT_HOST_ADDRESS,
  DEFAULT_MTU,
  DEFAULT_PREFIX,
  DEFAULT_ROUTES4,
  IPV6_MIN_MTU,
  MAX_MTU,
} from "./defaults.ts";
import {
  clatKey,
  type ConfigSoFar,
  constant,
  type KeySpec,
  OFFLOAD,
  QUEUES,
  QUEUES_V1,
} from "./key_spec.ts";
import {
  BOOLEAN,
  CLAT_VIA,
  HOST_ADDRESS,
  integer,
  LINK_NAME,
  POOL_PREFIXES,
  RESOLVER,
  ROUTES4,
  SOURCE6,
  SOURCE_IPV4,
  SOURCE_IPV6,
  TUN_NAME,
} from "./value_types.ts";

/**
 * The default `Clat.Address6`: `Address4` mapped like a customer's address when it is in
 * `CustomerPool`, else embedded in `Via`; null when that needs `Via` and `Via` is "auto".
 */
function clatAddress6(soFar: ConfigSoFar): Uint8Array | null {
  const { address4 } = soFar.interface;
  const { customerPool, source6, via } = soFar.clat;
  const customer = customerPool!.some((p) => ipv4InPrefix(address4!, p));
  const a = new Uint8Array(16);
  if (customer && source6 !== null) {
    const placeholder = via ?? parseIpv6Prefix(DEFAULT_PREFIX)!;
    new ClatMapper({
      customerPool: customerPool!,
      source6: source6!,
      via: placeholder,
      refuseNonGlobal: false,
    })
      .staticV6For4(address4! | 0, a, 0);
    return a;
  }
  if (via === null) return null;
  embedIpv4(via!.addr, via!.len, address4!, a, 0);
  return a;
}

/** The `[Clat]` keys, in `check-config` order. */
export const CLAT_KEYS: readonly KeySpec[] = [
  clatKey("interface", "Name", "name", {
    type: TUN_NAME,
    default: constant(() => DEFAULT_CLAT_NAME),
    restartOnly: true,
    v1: { order: 7, flag: "--interface", option: "interface" },
  }),
  clatKey("interface", "MTU", "mtu", {
    type: integer(IPV6_MIN_MTU, MAX_MTU),
    default: constant(() => DEFAULT_MTU),
  }),
  clatKey("interface", "Queues", "queues", { ...QUEUES, v1: { ...QUEUES_V1, order: 6 } }),
  clatKey("interface", "Offload", "offload", OFFLOAD),
  clatKey("clat", "CustomerPool", "customerPool", {
    type: POOL_PREFIXES,
    default: constant(() => DEFAULT_CUSTOMER_POOL.map((p) => parseIpv4Prefix(p)!)),
    v1: { order: 1, json: "customer_pool", flag: "--customer-prefix", option: "customerPrefixes" },
  }),
  clatKey("clat", "Via", "via", {
    type: CLAT_VIA,
    default: constant(() => parseIpv6Prefix(DEFAULT_PREFIX)!),
    line: (via) => `Via = ${CLAT_VIA.toml(via)}`,
    v1: { order: 5, json: "via", flag: "--via", option: "via" },
  }),
  clatKey("clat", "Source6", "source6", {
    type: SOURCE6,
    default: constant(() => null),
    line: (source6) => `Source6 = ${SOURCE6.toml(source6)}`,
  }),
  clatKey("clat", "Routes4", "routes4", {
    type: ROUTES4,
    default: constant(() => DEFAULT_ROUTES4.map((p) => parseIpv4Prefix(p)!)),
  }),
  clatKey("interface", "Address4", "address4", {
    type: SOURCE_IPV4,
    default: constant(() => parseIpv4(DEFAULT_CLAT_ADDRESS4)!),
  }),
  clatKey("interface", "Address6", "address6", {
    type: SOURCE_IPV6,
    // Null (then "must be given") when Via is "auto" and the default needs it.
    default: (soFar) => clatAddress6(soFar) as Uint8Array,
    defaultDoc: "`Address4` mapped like a customer's when in `CustomerPool` " +
      "(`64:ff9b::c000:2`), else embedded in `Via`",
  }),
  clatKey("clat", "HostAddress", "hostAddress", {
    type: HOST_ADDRESS,
    default: constant(() => parseIpv4(DEFAULT_HOST_ADDRESS)!),
    line: (a) => `HostAddress = ${HOST_ADDRESS.toml(a)}`,
  }),
  clatKey("clat", "Uplink", "uplink", {
    type: LINK_NAME,
    default: constant(() => null),
    defaultDoc: "none (RAs from any interface)",
    line: (l) =>
      l === null
        ? "# Uplink: unset, Router Advertisements from any interface (the default)"
        : `Uplink = ${LINK_NAME.toml(l)}`,
  }),
  clatKey("clat", "NeighborProxy", "neighborProxy", {
    type: BOOLEAN,
    default: constant(() => false),
  }),
  clatKey("clat", "Resolver", "resolver", {
    type: RESOLVER,
    default: constant(() => null),
    defaultDoc: "the system's (`/etc/resolv.conf`)",
    line: (r) =>
      r === null
        ? "# Resolver: unset, the system's (/etc/resolv.conf) (the default)"
        : `Resolver = ${RESOLVER.toml(r)}`,
  }),
];
