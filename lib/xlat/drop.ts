/**
 * Why a packet was not translated, and what else the engine counts.
 *
 * Every drop has a named reason; the engine increments `counters[reason]`
 * and the daemon exports them as metrics. Reasons are small integers so the
 * counters are one typed array and the hot path never builds a string.
 *
 * @module
 */

/** Drop reasons (index into the counters array). 0 is unused. */
export const Drop = {
  /** Shorter than the smallest header or than its own length fields. */
  TRUNCATED: 1,
  /** IP version is neither 4 nor 6. */
  BAD_VERSION: 2,
  /** IPv4 IHL < 5 or Total Length < IHL × 4. */
  BAD_IHL: 3,
  /** IPv4 header checksum does not verify. */
  BAD_HEADER_CHECKSUM: 4,
  /** Malformed IPv6 extension header chain. */
  BAD_EXTENSION_HEADER: 5,
  /** IPv6 jumbogram (Payload Length 0), not translatable to IPv4. */
  JUMBOGRAM: 6,
  /** Source address may not appear on the wire (RFC 1812 §5.3.7, RFC 4291). */
  INVALID_SOURCE: 7,
  /** Multicast or broadcast destination. */
  MULTICAST_DESTINATION: 8,
  /** TTL or Hop Limit would reach zero (ICMP Time Exceeded sent). */
  HOP_LIMIT_EXCEEDED: 9,
  /** IPv6 destination outside the translation prefix and not mapped. */
  NOT_IN_PREFIX: 10,
  /** IPv4-embedded address with a non-zero u-octet (RFC 6052 §2.2). */
  NONZERO_U_OCTET: 11,
  /** Non-global IPv4 address with the Well-Known Prefix (RFC 6052 §3.1). */
  NON_GLOBAL_WITH_WKP: 12,
  /** IPv4 destination with no static map and no live lease. */
  NO_MAPPING: 13,
  /** No free pool address for a new IPv6 source (RFC 6146 §3.5.1.1). */
  POOL_EXHAUSTED: 14,
  /** Routing header with Segments Left > 0 (RFC 7915 §5.1). */
  SEGMENTS_LEFT: 15,
  /** Extension header after the Fragment header (RFC 7915 §5.1). */
  HEADER_AFTER_FRAGMENT: 16,
  /** Unexpired IPv4 source route option (RFC 7915 §4.1). */
  SOURCE_ROUTE: 17,
  /** DF set and the translation exceeds the next-hop MTU (ICMP sent). */
  PACKET_TOO_BIG: 18,
  /** IPv4 UDP checksum 0 (RFC 7915 §4.5). */
  UDP_ZERO_CHECKSUM: 19,
  /** IPv6 UDP checksum 0 (RFC 8200 §8.1). */
  UDP_ZERO_CHECKSUM6: 20,
  /** Transport header too short for its checksum field (or a UDP length that does not match). */
  TRUNCATED_TRANSPORT: 21,
  /** ICMP type/code with no translation (RFC 7915 §4.2, §5.2). */
  ICMP_UNTRANSLATABLE: 22,
  /** ICMPv6 single-hop message (ND, MLD, RPL …) not forwarded. */
  ICMP_SINGLE_HOP: 23,
  /** ICMP error whose checksum does not verify. */
  ICMP_BAD_CHECKSUM: 24,
  /** ICMP error quoting another ICMP error (RFC 7915 §4.3, §5.3). */
  ICMP_ERROR_IN_ERROR: 25,
  /** ICMP error whose quoted packet cannot be parsed. */
  ICMP_BAD_INNER: 26,
  /** ICMP error about a packet whose addresses have no mapping. */
  ICMP_INNER_UNMAPPED: 27,
  /** Fragment with bad length or offset. */
  BAD_FRAGMENT: 28,
  /** Reassembly: a fragment over its source's half of the byte budget (or no slots at all). */
  REASSEMBLY_FULL: 29,
  /** Reassembly: datagram not completed in time. */
  REASSEMBLY_TIMEOUT: 30,
  /** Reassembly: overlapping or inconsistent fragments (RFC 5722). */
  REASSEMBLY_OVERLAP: 31,
  /** Fragment held for reassembly (not a loss; counted for visibility). */
  REASSEMBLY_HELD: 32,
  /** Addressed to the translator itself and not an Echo Request. */
  TO_SELF: 33,
  /** IGMP is never translated (RFC 7915 §4.2). */
  IGMP: 34,
  /** Output would exceed the engine's buffers. */
  TOO_BIG_FOR_BUFFER: 35,
  /** IPv6 source outside the allowed ranges (link-local and similar). */
  SOURCE_NOT_TRANSLATABLE: 36,
  /**
   * Reassembly: an incomplete datagram discarded to make room for another (its source was over
   * its share, or it was the oldest of the source holding the most); see reassembly.ts.
   */
  REASSEMBLY_EVICTED: 37,
  /**
   * TUN offload: a malformed `virtio_net_hdr` (unknown flags or GSO type, a GSO type that does
   * not match the packet, a checksum start or offset past the packet, a zero `gso_size`, an
   * `hdr_len` longer than the packet); see lib/wire/virtio.ts.
   */
  BAD_VIRTIO_HEADER: 38,
  /** A new IPv6 source outside `Rules.AllowedSources` (no dynamic lease; ICMPv6 1/1 sent). */
  SOURCE_NOT_ALLOWED: 39,
  /**
   * A new IPv6 source whose `Rules.LeasePrefixLength` prefix already holds
   * `Rules.MaxLeasesPerPrefix` leases (ICMPv6 1/1 sent).
   */
  PREFIX_LEASE_LIMIT: 40,
  /** More new leases this second than `Rules.MaxNewLeasesPerSecond` (ICMPv6 1/1 sent). */
  LEASE_RATE_LIMIT: 41,
  /** CLAT (RFC 6877): an IPv4 source outside `Clat.CustomerPool` (not for an ICMPv4 error). */
  NOT_CUSTOMER_SOURCE: 42,
  /** CLAT (RFC 6877): an IPv6 destination that is not a mapped customer address. */
  NOT_CUSTOMER_DESTINATION: 43,
} as const;

/** A drop reason value. */
export type DropReason = typeof Drop[keyof typeof Drop];

/** Number of drop reasons plus one (index 0 unused). */
export const DROP_REASON_COUNT = 44;

/**
 * Indices below {@link DROP_REASON_COUNT} that are not drop reasons: 0, and any gap a future
 * renumbering leaves. Their counters stay 0; reports and metrics leave them out.
 */
export const RESERVED_DROP_REASONS: readonly number[] = Object.freeze(
  Array.from({ length: DROP_REASON_COUNT }, (_, i) => i).filter((i) =>
    !(Object.values(Drop) as number[]).includes(i)
  ),
);

/** Counters that are not drops; stored after the drop reasons. */
export const Stat = {
  /** IPv6 packets translated to IPv4. */
  TRANSLATED_6TO4: DROP_REASON_COUNT + 0,
  /** IPv4 packets translated to IPv6. */
  TRANSLATED_4TO6: DROP_REASON_COUNT + 1,
  /** ICMP errors originated by the translator. */
  ICMP_ERRORS_SENT: DROP_REASON_COUNT + 2,
  /** ICMP errors not sent because of the rate limit (SendDropErrors = false is not counted). */
  ICMP_ERRORS_SUPPRESSED: DROP_REASON_COUNT + 3,
  /** Echo replies the translator sent for its own addresses. */
  ECHO_REPLIES: DROP_REASON_COUNT + 4,
  /** Packets hairpinned IPv6 → IPv4 → IPv6 internally. */
  HAIRPINNED: DROP_REASON_COUNT + 5,
  /** Datagrams reassembled (fragmented ICMP). */
  REASSEMBLED: DROP_REASON_COUNT + 6,
  /** Fragments emitted by the translator's own fragmentation. */
  FRAGMENTS_CREATED: DROP_REASON_COUNT + 7,
  /** Packets received in all. */
  RECEIVED: DROP_REASON_COUNT + 8,
  /** TUN offload: GSO super-packets translated whole (one translation for many segments). */
  GSO_TRANSLATED: DROP_REASON_COUNT + 9,
  /** TUN offload: GSO super-packets cut into segments in software, each translated alone. */
  GSO_SEGMENTED: DROP_REASON_COUNT + 10,
  /** TUN offload: packets translated with their partial (pseudo-header) checksum adjusted. */
  PARTIAL_TRANSLATED: DROP_REASON_COUNT + 11,
  /** TUN offload: partial checksums completed in software before translation. */
  CHECKSUM_COMPLETED: DROP_REASON_COUNT + 12,
} as const;

/** Length of a counters array. */
export const COUNTER_COUNT: number = DROP_REASON_COUNT + 13;

const DROP_NAMES: string[] = [];
for (const [k, val] of Object.entries(Drop)) DROP_NAMES[val] = k.toLowerCase();
const STAT_NAMES: string[] = [];
for (const [k, val] of Object.entries(Stat)) STAT_NAMES[val] = k.toLowerCase();

/**
 * The snake_case name of a drop reason, for logs and metrics.
 * @param reason a {@link Drop} value
 * @returns its name, or `unknown_<n>`
 */
export function dropName(reason: number): string {
  return DROP_NAMES[reason] ?? `unknown_${reason}`;
}

/**
 * The snake_case name of a counter index (drop reason or {@link Stat}).
 * @param index counter index
 * @returns its name
 */
export function counterName(index: number): string {
  return DROP_NAMES[index] ?? STAT_NAMES[index] ?? `unknown_${index}`;
}
