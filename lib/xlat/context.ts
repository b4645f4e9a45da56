/**
 * Everything the translation engine needs besides the packet: the resolved
 * settings, the address mapper (lease table), the preallocated memory arena,
 * the clock, counters, the ICMP rate limiter and the reassembly state.
 *
 * One context per packet Worker. The engine never allocates per packet; all
 * packet bytes live in `ctx.mem`, one `Uint8Array` with one `DataView`.
 *
 * Arena layout:
 *
 * ```text
 * 0            INPUT_OFFSET                 SCRATCH_OFFSET      OUTPUT_OFFSET      REASSEMBLY_OFFSET
 * | headroom   | input packet (≤ 65535)     | scratch           | emitted packets  | reassembly slots |
 * ```
 *
 * The headroom lets IPv4 → IPv6 grow a packet by 20 (28 with a Fragment
 * header) bytes without moving the payload; its first bytes hold the addresses being built
 * (`TMP_*`) and, with TUN offload, the `virtio_net_hdr`s (`VNET_*`). With offload the scratch
 * area keeps a GSO super-packet while its segments are cut from it (lib/xlat/gso.ts).
 *
 * @module
 */

import type { LeaseLookup } from "../lease/table.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { COUNTER_COUNT } from "./drop.ts";

/** Where the input packet is placed in `ctx.mem`. */
export const INPUT_OFFSET = 256;
/** Largest input packet. */
export const INPUT_CAPACITY = 65536;
/** A small area for addresses being built (two IPv6 addresses and spare). */
export const TMP_OFFSET = 16;
/** Source address being built (16 bytes). */
export const TMP_SRC: number = TMP_OFFSET;
/** Destination address being built (16 bytes). */
export const TMP_DST: number = TMP_OFFSET + 16;
/** Inner source address being built. */
export const TMP_ISRC: number = TMP_OFFSET + 32;
/** Inner destination address being built. */
export const TMP_IDST: number = TMP_OFFSET + 48;
/** Where the device puts the `virtio_net_hdr` of the packet read (TUN offload, 10 bytes). */
export const VNET_IN_OFFSET = 96;
/** The `virtio_net_hdr` written before a translated super-packet or partial packet. */
export const VNET_OUT_OFFSET = 112;
/** An all-zero `virtio_net_hdr` (no GSO, complete checksum), written before other packets. */
export const VNET_NONE_OFFSET = 128;
/** Scratch area for a packet being rebuilt. */
export const SCRATCH_OFFSET: number = INPUT_OFFSET + INPUT_CAPACITY + 256;
/** Size of the scratch area. */
export const SCRATCH_CAPACITY: number = 65536 + 256;
/** Where emitted packets are written when they cannot be built in place. */
export const OUTPUT_OFFSET: number = SCRATCH_OFFSET + SCRATCH_CAPACITY;
/** Size of the output area. */
export const OUTPUT_CAPACITY: number = 192 * 1024;
/** Start of the reassembly slots. */
export const REASSEMBLY_OFFSET: number = OUTPUT_OFFSET + OUTPUT_CAPACITY;
/** Bytes per reassembly slot (headroom + largest datagram). */
export const REASSEMBLY_SLOT_BYTES: number = 65536 + 256;
/** IPv6 → IPv4: packets up to this size get DF clear, larger ones DF set (RFC 7915 §5.1). */
export const DF_THRESHOLD_BYTES = 1260;
/**
 * How much a packet grows from IPv4 to IPv6 without options or a Fragment header (40 − 20
 * bytes), for MTU arithmetic (RFC 7915 §4.2, §5.2; add `ipv6.FRAGMENT_LEN` for a fragment).
 */
export const HEADER_GROWTH: number = ipv6.HEADER_LEN - ipv4.HEADER_LEN;
/** Most packets one input may produce. */
export const MAX_EMIT = 128;

/**
 * How the engine reaches the lease table (RFC 7915 leaves address mapping to
 * the implementation; this is protomask's split between translation and
 * state): the hot-path part of `LeaseTable`, which tests may fake.
 */
export type AddressMapper = LeaseLookup;

/** Engine settings, resolved from the config into numbers and bytes. */
export interface EngineSettings {
  /** RFC 6052 prefix bytes (16). */
  prefix: Uint8Array;
  /** Prefix length: 32, 40, 48, 56, 64 or 96. */
  prefixLen: number;
  /** Refuse non-global IPv4 addresses (prefix is 64:ff9b::/96 and not allowed). */
  refuseNonGlobal: boolean;
  /** The translator's own IPv4 address, as an int32 like every address on the packet path. */
  address4: number;
  /** The translator's own IPv6 address (16 bytes). */
  address6: Uint8Array;
  /** Next-hop MTU toward IPv4. */
  mtu4: number;
  /** Next-hop MTU toward IPv6. */
  mtu6: number;
  /** RFC 7915 lowest-ipv6-mtu. */
  lowestIpv6Mtu: number;
  /** Compute IPv4 UDP zero checksums instead of dropping. */
  amendUdpChecksumZero: boolean;
  /** Answer policy drops with ICMP errors. */
  sendDropErrors: boolean;
  /** RFC 6791 IPv4 pool for untranslatable ICMPv6 error sources (int32s). */
  pool6791v4: Int32Array;
  /** RFC 6791 IPv6 pool, 16 bytes per address. */
  pool6791v6: Uint8Array;
  /** ICMP errors originated per second (0: none). */
  icmpErrorRatePerSec: number;
  /** Token bucket depth for originated ICMP errors. */
  icmpErrorBurst: number;
  /** 4→6: write traffic class 0 instead of copying the TOS (RFC 7915 §4.1). */
  zeroizeTrafficClass: boolean;
  /** 6→4: the TOS to write, or -1 to copy the traffic class (RFC 7915 §5.1). */
  overrideTos: number;
  /**
   * CLAT mode (RFC 6877 §6.3; `main.ts clat`, lib/clat/): the mapper's static side is the
   * customers (`Clat.CustomerPool` and its `Source6` addresses) and has no prefix fallback, so
   * an IPv4 source outside the pool and an IPv6 destination that is not a customer's address
   * are dropped. The lease side maps the rest of the world through `prefix` (`Clat.Via`).
   */
  clat: boolean;
}

/** Sizing options for {@link XlatContext}. */
export interface ContextOptions {
  /** Engine settings. */
  settings: EngineSettings;
  /** The lease table. */
  mapper: AddressMapper;
  /** Datagrams reassembled at once (fragmented ICMP), one source at most half; default 8. */
  reassemblySlots?: number;
  /** Seconds a partial datagram is kept; default 30 (RFC 8200 §4.5 allows 60). */
  reassemblyTimeoutSecs?: number;
  /** Fragment bytes held for reassembly at once, over all slots, one source at most half; default 256 KiB. */
  reassemblyMaxBytes?: number;
  /** Seed for the IPv4 Identification generator (RFC 7739); default 1. */
  idSeed?: number;
  /**
   * Where to count (at least `COUNTER_COUNT` entries, e.g. a row of a SharedArrayBuffer the
   * daemon's main thread sums); default a private array.
   */
  counters?: Float64Array;
}

/** Per-Worker engine state. Fields are public for the hot path; treat as read-only outside lib/xlat. */
export class XlatContext {
  /** The arena. */
  readonly mem: Uint8Array;
  /** One view over the arena. */
  readonly view: DataView;
  /** Engine settings. */
  settings: EngineSettings;
  /** Lease table. */
  mapper: AddressMapper;
  /** Counters indexed by drop reason and `Stat`. */
  readonly counters: Float64Array;
  /** Offsets in `mem` of the packets emitted by the last `translate`. */
  readonly emitOffset: Int32Array;
  /** Lengths of the packets emitted by the last `translate`. */
  readonly emitLength: Int32Array;
  /** Number of packets emitted by the last `translate`. */
  emitted: number = 0;
  /** Next free byte of the output area. */
  outUsed: number = OUTPUT_OFFSET;
  /** Current time in milliseconds (set by the caller). */
  nowMs = 0;
  /** Current time in whole seconds. */
  nowSecs = 0;
  /** Rate limiter tokens. */
  tokens: number;
  /** Time the tokens were last refilled. */
  tokensAtMs = 0;
  /** IPv4 Identification generator state (xorshift32). */
  idState: number;
  /** Reassembly slot count. */
  readonly reassemblySlots: number;
  /** Reassembly timeout. */
  readonly reassemblyTimeoutMs: number;
  /** Budget of fragment bytes held for reassembly. */
  readonly reassemblyMaxBytes: number;
  /** Fragment bytes held now. */
  reassemblyHeldBytes: number = 0;
  /** Per slot: 0 free, else 4 or 6. */
  readonly slotFamily: Uint8Array;
  /** Per slot: creation time (ms). */
  readonly slotStartMs: Float64Array;
  /**
   * Per slot: key words (src, dst, id, proto) — 4 + 4 + 1 + 1 u32 for IPv6, fewer for IPv4 —
   * plus one spare row after the last slot where a lookup key is staged.
   */
  readonly slotKey: Uint32Array;
  /** Per slot: bytes received so far. */
  readonly slotReceived: Int32Array;
  /** Per slot: datagram payload length once the last fragment is seen, else -1. */
  readonly slotTotal: Int32Array;
  /** Per slot: header length stored (0 until the first fragment arrives). */
  readonly slotHeaderLen: Int32Array;
  /** Per slot bitmap of received 8-byte blocks (8192 bits each). */
  readonly slotBlocks: Uint8Array;
  /** Length of the datagram the last completed reassembly produced. */
  reassembledLen = 0;
  /**
   * TUN offload: the packet being translated has a partial checksum (`VIRTIO_NET_HDR_F_NEEDS_CSUM`)
   * that translation adjusts as a pseudo-header sum; set per packet by lib/xlat/offload.ts.
   */
  partial = false;
  /**
   * TUN offload: bytes of a GSO super-packet beyond its first (largest) segment, 0 for any
   * other packet, so size rules (DF, MTU) apply to the segments the kernel will send.
   */
  gsoExtra = 0;
  /**
   * The {@link Drop} reason of the last step that refused a packet while returning an address
   * (`NOT_IPV4`) instead of a negative reason (lib/xlat/steps.ts); written on drop paths only.
   */
  refusal: number = 0;
  /** Offset of the Fragment header `walkExtensions6` found, else -1 (lib/xlat/six_to_four.ts). */
  fragmentHeaderAt: number = -1;
  /** TUN offload: segments of the super-packet kept in the scratch area (lib/xlat/gso.ts). */
  gsoSegments = 0;
  /** TUN offload: bytes of headers of that super-packet (up to the transport payload). */
  gsoHeaderLen = 0;
  /** TUN offload: transport payload bytes per segment of that super-packet. */
  gsoSize = 0;
  /** TUN offload: length of that super-packet. */
  gsoLen = 0;
  /** TUN offload: offset of its transport header (`csum_start`). */
  gsoL4Off = 0;
  /** TUN offload: its transport protocol (6 or 17). */
  gsoProto = 0;

  /**
   * Creates the context and its arena.
   * @param opts settings, mapper and sizing
   */
  constructor(opts: ContextOptions) {
    this.settings = opts.settings;
    this.mapper = opts.mapper;
    this.reassemblySlots = opts.reassemblySlots ?? 8;
    this.reassemblyTimeoutMs = (opts.reassemblyTimeoutSecs ?? 30) * 1000;
    this.reassemblyMaxBytes = opts.reassemblyMaxBytes ?? 256 * 1024;
    const size = REASSEMBLY_OFFSET + this.reassemblySlots * REASSEMBLY_SLOT_BYTES;
    this.mem = new Uint8Array(size);
    this.view = new DataView(this.mem.buffer);
    if (opts.counters !== undefined && opts.counters.length < COUNTER_COUNT) {
      throw new RangeError(`counters needs ${COUNTER_COUNT} entries, got ${opts.counters.length}`);
    }
    this.counters = opts.counters ?? new Float64Array(COUNTER_COUNT);
    this.emitOffset = new Int32Array(MAX_EMIT);
    this.emitLength = new Int32Array(MAX_EMIT);
    this.tokens = opts.settings.icmpErrorBurst;
    this.idState = (opts.idSeed ?? 1) | 0 || 1;
    const n = this.reassemblySlots;
    this.slotFamily = new Uint8Array(n);
    this.slotStartMs = new Float64Array(n);
    this.slotKey = new Uint32Array((n + 1) * 10);
    this.slotReceived = new Int32Array(n);
    this.slotTotal = new Int32Array(n);
    this.slotHeaderLen = new Int32Array(n);
    this.slotBlocks = new Uint8Array(n * 1024);
  }

  /**
   * Sets the clock used for leases, rate limits and reassembly.
   * @param nowMs milliseconds since any fixed epoch (Unix time in the daemon,
   *   packet timestamps offline)
   */
  setClock(nowMs: number): void {
    this.nowMs = nowMs;
    this.nowSecs = Math.floor(nowMs / 1000);
  }
}
