/**
 * What the named steps of a translation (lib/xlat/six_to_four.ts,
 * lib/xlat/four_to_six.ts) hand each other beyond their one return value.
 *
 * One {@link PacketState} lives on each `XlatContext` and is overwritten by every
 * packet, so the steps share their results without allocating. Every field holds
 * an int32 (addresses too, as on the rest of the per-packet path, never the
 * NOT_IPV4 sentinel), so the object keeps one shape and its fields stay small
 * integers. A translation that recurses (reassembly, hairpinning) does so as its
 * last act, so the inner call may overwrite the state freely.
 *
 * @module
 */

/** A step's "go on" result; any other value is what `translate()` returns. */
export const CONTINUE = 0;
/** `from4`/`from6` flag: the 4→6 leg of an internal hairpin (RFC 7757 §4.2). */
export const FLAG_HAIRPIN = 1;
/** `from4`/`from6` flag: the packet was reassembled from fragments. */
export const FLAG_REASSEMBLED = 2;

/** Per-packet results of the translation steps (see the module text). */
export class PacketState {
  /** One past the packet's last byte in `ctx.mem`. */
  end: number = 0;
  /** Offset of the transport header (or of the payload of a non-first fragment). */
  l4Off: number = 0;
  /** Protocol / upper-layer Next Header. */
  proto: number = 0;
  /** 6→4: offset of the Fragment header, -1 when there is none. */
  fragOff: number = -1;
  /** Fragment offset in bytes (0 for the first fragment and for unfragmented packets). */
  fragOffsetBytes: number = 0;
  /** More Fragments: 1 or 0. */
  more: number = 0;
  /** Fragment Identification as an int32 (6→4: 32 bits; 4→6: IPv4's 16). */
  fragId: number = 0;
  /** 6→4: the IPv4 destination. */
  dst4: number = 0;
  /** 6→4: the IPv4 source (the host's lease). */
  src4: number = 0;
  /** 6→4: the IPv4 Identification to write. */
  id: number = 0;
  /** 6→4: the IPv4 flags/fragment offset word to write. */
  flagsOff: number = 0;
  /** The MTU to fragment the translation to, or 0 to send it whole. */
  fragmentTo: number = 0;
  /** The translated ICMP type/code word of an Echo (0 for other protocols). */
  mapped: number = 0;
  /** 4→6: a UDP checksum of 0 is to be computed (RFC 7915 §4.5). */
  amendUdp: boolean = false;
}
