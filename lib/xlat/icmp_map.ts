/**
 * ICMP type, code and pointer mappings of RFC 7915 as data tables.
 *
 * Tables are indexed by `type * 256 + code` (or by pointer) and hold the
 * translated `type * 256 + code` (or pointer), or -1 for "silently drop".
 *
 * @module
 */

const NONE = -1;

function table(size: number): Int32Array {
  return new Int32Array(size).fill(NONE);
}

function tc(type: number, code: number): number {
  return type * 256 + code;
}

/**
 * ICMPv4 → ICMPv6 type/code (RFC 7915 §4.2). Echo (8, 0) is included;
 * everything else not listed (timestamps, address mask, redirects, source
 * quench, router discovery, unknown) is dropped.
 */
export const V4_TO_V6_TYPE_CODE: Int32Array = (() => {
  const t = table(65536);
  t[tc(8, 0)] = tc(128, 0);
  t[tc(0, 0)] = tc(129, 0);
  // Destination Unreachable (§4.2, "Type 3").
  for (const code of [0, 1, 5, 6, 7, 8, 11, 12]) t[tc(3, code)] = tc(1, 0);
  t[tc(3, 2)] = tc(4, 1); // Protocol Unreachable → Parameter Problem, pointer 6
  t[tc(3, 3)] = tc(1, 4);
  t[tc(3, 4)] = tc(2, 0); // Fragmentation Needed → Packet Too Big
  for (const code of [9, 10, 13, 15]) t[tc(3, code)] = tc(1, 1);
  // 3/14 Host Precedence Violation: dropped.
  // Time Exceeded (§4.2, "Type 11"): code copied.
  t[tc(11, 0)] = tc(3, 0);
  t[tc(11, 1)] = tc(3, 1);
  // Parameter Problem (§4.2, "Type 12"): codes 0 and 2; 1 dropped.
  t[tc(12, 0)] = tc(4, 0);
  t[tc(12, 2)] = tc(4, 0);
  return t;
})();

/**
 * ICMPv6 → ICMPv4 type/code (RFC 7915 §5.2). Echo (128, 129) included;
 * MLD, ND and other informational or unknown types are dropped.
 */
export const V6_TO_V4_TYPE_CODE: Int32Array = (() => {
  const t = table(65536);
  t[tc(128, 0)] = tc(8, 0);
  t[tc(129, 0)] = tc(0, 0);
  t[tc(1, 0)] = tc(3, 1);
  t[tc(1, 1)] = tc(3, 10);
  t[tc(1, 2)] = tc(3, 1);
  t[tc(1, 3)] = tc(3, 1);
  t[tc(1, 4)] = tc(3, 3);
  t[tc(2, 0)] = tc(3, 4);
  t[tc(3, 0)] = tc(11, 0);
  t[tc(3, 1)] = tc(11, 1);
  t[tc(4, 0)] = tc(12, 0);
  t[tc(4, 1)] = tc(3, 2);
  return t;
})();

/**
 * IPv4 Parameter Problem pointer → IPv6 pointer (RFC 7915 §4.2, Figure 3);
 * -1 means drop.
 */
export const V4_TO_V6_POINTER: Int32Array = (() => {
  const t = table(256);
  t[0] = 0;
  t[1] = 1;
  t[2] = 4;
  t[3] = 4;
  t[8] = 7;
  t[9] = 6;
  for (let i = 12; i < 16; i++) t[i] = 8;
  for (let i = 16; i < 20; i++) t[i] = 24;
  return t;
})();

/**
 * IPv6 Parameter Problem pointer → IPv4 pointer (RFC 7915 §5.2, Figure 6);
 * -1 means drop.
 */
export const V6_TO_V4_POINTER: Int32Array = (() => {
  const t = table(256);
  t[0] = 0;
  t[1] = 1;
  t[4] = 2;
  t[5] = 2;
  t[6] = 9;
  t[7] = 8;
  for (let i = 8; i < 24; i++) t[i] = 12;
  for (let i = 24; i < 40; i++) t[i] = 16;
  return t;
})();

/** RFC 1191 §7 plateau table, largest first, for Fragmentation Needed with MTU 0. */
export const MTU_PLATEAUS: readonly number[] = [
  65535,
  32000,
  17914,
  8166,
  4352,
  2002,
  1492,
  1006,
  508,
  296,
  68,
];

/**
 * The greatest RFC 1191 plateau below a packet's length (RFC 7915 §4.2:
 * Fragmentation Needed with an MTU of 0 comes from a pre-RFC 1191 router).
 *
 * @param totalLength Total Length of the packet in error
 * @returns the estimated MTU
 */
export function plateauBelow(totalLength: number): number {
  for (let i = 0; i < MTU_PLATEAUS.length; i++) {
    const p = MTU_PLATEAUS[i]!;
    if (p < totalLength) return p;
  }
  return 68;
}
