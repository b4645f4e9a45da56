/**
 * Special-purpose address classes (IANA IPv4/IPv6 Special-Purpose Address
 * Registries, RFC 6890 and its updates; RFC 7915 §4.1 and §5.1 source checks).
 *
 * All functions are numeric, allocation-free and never throw (hot path).
 *
 * @module
 */

/** True when the top `len` bits of `v4` equal those of `net` (0 < len <= 32). */
function inNet(v4: number, net: number, len: number): boolean {
  return ((v4 ^ net) >>> (32 - len)) === 0;
}

/**
 * Tells whether an IPv4 address is globally reachable.
 *
 * Non-global per the IANA IPv4 Special-Purpose Address Registry (RFC 6890
 * §2.2.2 and updates: RFC 6598, RFC 7335, RFC 7600, RFC 8155):
 * 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16,
 * 172.16.0.0/12, 192.0.0.0/24 (except 192.0.0.9 and 192.0.0.10),
 * 192.0.2.0/24, 192.168.0.0/16, 198.18.0.0/15, 198.51.100.0/24,
 * 203.0.113.0/24, 240.0.0.0/4, 255.255.255.255; multicast 224.0.0.0/4 is
 * treated as non-global too. Used for RFC 6052 §3.1 (no non-global IPv4
 * addresses behind the Well-Known Prefix).
 *
 * @param v4 The address as a uint32.
 * @returns `true` when the address is global.
 */
export function isGlobalIpv4(v4: number): boolean {
  const top = v4 >>> 24;
  switch (top) {
    case 0:
    case 10:
    case 127:
      return false;
    case 100:
      return !inNet(v4, 0x64400000, 10);
    case 169:
      return !inNet(v4, 0xa9fe0000, 16);
    case 172:
      return !inNet(v4, 0xac100000, 12);
    case 192:
      if (inNet(v4, 0xc0000000, 24)) {
        return (v4 | 0) === (0xc0000009 | 0) || (v4 | 0) === (0xc000000a | 0);
      }
      return !inNet(v4, 0xc0000200, 24) && !inNet(v4, 0xc0a80000, 16);
    case 198:
      return !inNet(v4, 0xc6120000, 15) && !inNet(v4, 0xc6336400, 24);
    case 203:
      return !inNet(v4, 0xcb007100, 24);
  }
  return top < 224; // 224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast
}

/**
 * Tells whether an IPv4 address may not appear as a packet's source:
 * 0.0.0.0/8 ("this network"), 127.0.0.0/8 (loopback), 224.0.0.0/4
 * (multicast) or 255.255.255.255 (limited broadcast) (RFC 1812 §5.3.7,
 * RFC 6890 §2.2.2).
 *
 * @param v4 The address as a uint32.
 * @returns `true` when the address is an invalid source.
 */
export function isInvalidSource4(v4: number): boolean {
  const top = v4 >>> 24;
  return top === 0 || top === 127 || isMulticastOrBroadcast4(v4);
}

/**
 * Tells whether an IPv4 address is multicast (224.0.0.0/4, RFC 5771) or
 * the limited broadcast address 255.255.255.255 (RFC 919).
 *
 * @param v4 The address as a uint32.
 * @returns `true` for multicast or limited broadcast.
 */
export function isMulticastOrBroadcast4(v4: number): boolean {
  return (v4 >>> 28) === 0xe || (v4 | 0) === -1;
}

/**
 * Tells whether an IPv6 address may not appear as a packet's source: the
 * unspecified address ::, the loopback ::1 (RFC 4291 §2.5.2, §2.5.3) or
 * multicast ff00::/8 (RFC 4291 §2.7).
 *
 * @param buf Buffer holding the address.
 * @param off Offset of the 16 address bytes in `buf`.
 * @returns `true` when the address is an invalid source.
 */
export function isInvalidSource6(buf: Uint8Array, off: number): boolean {
  if (buf[off] === 0xff) return true;
  for (let i = 0; i < 15; i++) {
    if (buf[off + i] !== 0) return false;
  }
  const last = buf[off + 15];
  return last === 0 || last === 1;
}

/**
 * Tells whether an IPv6 address is multicast, ff00::/8 (RFC 4291 §2.7).
 *
 * @param buf Buffer holding the address.
 * @param off Offset of the 16 address bytes in `buf`.
 * @returns `true` for multicast.
 */
export function isMulticast6(buf: Uint8Array, off: number): boolean {
  return buf[off] === 0xff;
}
