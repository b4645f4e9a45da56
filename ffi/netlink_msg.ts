/**
 * rtnetlink message encoding and decoding (RFC 3549; Linux `netlink(7)`, `rtnetlink(7)`):
 * pure functions over byte arrays, so they are tested without permissions.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          nlmsg_len                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          nlmsg_type           |          nlmsg_flags          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          nlmsg_seq                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          nlmsg_pid                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | family-specific header (ifinfomsg 16, ifaddrmsg 8, rtmsg 12)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    rta_len    (u16)           |    rta_type  (u16)            |  attributes, each padded
 * |    value …                                                    |  to 4 bytes
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Netlink integers are in host byte order (little-endian on the LP64 Linux targets protomask
 * supports); addresses inside attributes are in network order.
 *
 * @module
 */

/** Host byte order of netlink integers (x86_64 and aarch64 Linux are little-endian). */
const LE = true;

/** `sizeof(struct nlmsghdr)`. */
export const NLMSG_HDRLEN = 16;
/** Message type: an error or (error 0) an acknowledgement. */
export const NLMSG_ERROR = 2;
/** Message type: end of a multipart dump. */
export const NLMSG_DONE = 3;
/** Request flag: this is a request. */
export const NLM_F_REQUEST = 0x1;
/** Request flag: ask for an acknowledgement. */
export const NLM_F_ACK = 0x4;
/** New-request flag: fail with EEXIST when the object exists. */
export const NLM_F_EXCL = 0x200;
/** New-request flag: create the object when it does not exist. */
export const NLM_F_CREATE = 0x400;

/** Create or modify a link. */
export const RTM_NEWLINK = 16;
/** Add an address. */
export const RTM_NEWADDR = 20;
/** Delete an address. */
export const RTM_DELADDR = 21;
/** Add a route. */
export const RTM_NEWROUTE = 24;
/** Delete a route. */
export const RTM_DELROUTE = 25;
/** Add a neighbor (or a proxy entry, with {@link NTF_PROXY}). */
export const RTM_NEWNEIGH = 28;
/** Delete a neighbor (or a proxy entry). */
export const RTM_DELNEIGH = 29;

/** Address family IPv4. */
export const AF_INET = 2;
/** Address family IPv6. */
export const AF_INET6 = 10;

/** Link attribute: MTU (u32). */
export const IFLA_MTU = 4;
/** Link attribute: per-address-family settings, nested by family (`AF_INET6`, …). */
export const IFLA_AF_SPEC = 26;
/** `IFLA_GSO_MAX_SIZE` (u32): the largest GSO packet the stack builds for the link. */
export const IFLA_GSO_MAX_SIZE = 41;
/** `AF_INET6` setting inside {@link IFLA_AF_SPEC}: how the link-local address is made (u8). */
export const IFLA_INET6_ADDR_GEN_MODE = 8;
/** IPv6 address generation mode: none, so the link gets no fe80:: address (`addrgenmode none`). */
export const IN6_ADDR_GEN_MODE_NONE = 1;
/** Link flag: administratively up. */
export const IFF_UP = 0x1;
/** Address attribute: the address (peer on point-to-point links). */
export const IFA_ADDRESS = 1;
/** Address attribute: the local address. */
export const IFA_LOCAL = 2;
/** Address attribute: 32-bit flags. */
export const IFA_FLAGS = 8;
/** Address flag: skip duplicate address detection (usable at once). */
export const IFA_F_NODAD = 0x02;
/** Address flag: do not add the prefix route for the address. */
export const IFA_F_NOPREFIXROUTE = 0x200;
/** Route attribute: destination prefix. */
export const RTA_DST = 1;
/** Route attribute: output interface index (u32). */
export const RTA_OIF = 4;
/** The main routing table. */
export const RT_TABLE_MAIN = 254;
/** Route scope: the whole Internet. */
export const RT_SCOPE_UNIVERSE = 0;
/** Route scope: directly attached. */
export const RT_SCOPE_LINK = 253;
/** Address scope: host (not used for the translator's addresses). */
export const RT_SCOPE_HOST = 254;
/** Route type: unspecified (matches any type in a delete). */
export const RTN_UNSPEC = 0;
/** Route type: a normal unicast route. */
export const RTN_UNICAST = 1;
/**
 * The route protocol protomask marks its routes with (`ip route show proto 77`), so leftovers
 * of a killed daemon are easy to find: `ip route flush proto 77`. Not in the kernel's or
 * iproute2's list of assigned values.
 */
export const RTPROT_PROTOMASK = 77;

/** Neighbor attribute: the neighbor's address. */
export const NDA_DST = 1;
/** Neighbor attribute: the protocol that added the entry (u8; Linux 5.2+). */
export const NDA_PROTOCOL = 12;
/** Neighbor flag: a proxy entry (the host answers Neighbor Solicitations for the address). */
export const NTF_PROXY = 0x08;
/** Neighbor state: permanent. */
export const NUD_PERMANENT = 0x80;

/** An IP address for a netlink request: IPv4 as a uint32 number, IPv6 as 16 bytes. */
export type NlAddr = number | Uint8Array;

/** Rounds up to the 4-byte netlink alignment. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** A small growable writer for one netlink message. */
class MsgWriter {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

  reserve(n: number): number {
    const at = this.len;
    this.len += align4(n);
    if (this.len > this.buf.length) throw new Error("netlink message too long");
    return at;
  }

  attr(type: number, data: Uint8Array): void {
    const at = this.reserve(4 + data.length);
    this.view.setUint16(at, 4 + data.length, LE);
    this.view.setUint16(at + 2, type, LE);
    this.buf.set(data, at + 4);
  }

  attrU8(type: number, v: number): void {
    const at = this.reserve(5);
    this.view.setUint16(at, 5, LE);
    this.view.setUint16(at + 2, type, LE);
    this.view.setUint8(at + 4, v);
  }

  /** An attribute holding the attributes `body` writes (its length covers their padding). */
  nest(type: number, body: () => void): void {
    const at = this.reserve(4);
    body();
    this.view.setUint16(at, this.len - at, LE);
    this.view.setUint16(at + 2, type, LE);
  }

  attrU32(type: number, v: number): void {
    const at = this.reserve(8);
    this.view.setUint16(at, 8, LE);
    this.view.setUint16(at + 2, type, LE);
    this.view.setUint32(at + 4, v >>> 0, LE);
  }

  finish(): Uint8Array {
    this.view.setUint32(0, this.len, LE);
    return this.buf.slice(0, this.len);
  }
}

function header(w: MsgWriter, type: number, flags: number, seq: number): void {
  w.reserve(NLMSG_HDRLEN);
  w.view.setUint32(0, 0, LE); // filled by finish()
  w.view.setUint16(4, type, LE);
  w.view.setUint16(6, flags, LE);
  w.view.setUint32(8, seq >>> 0, LE);
  w.view.setUint32(12, 0, LE); // pid 0: the kernel fills it in
}

/** The address bytes in network order, and the family they belong to. */
function addrBytes(a: NlAddr): { family: number; bytes: Uint8Array } {
  if (typeof a === "number") {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, a >>> 0);
    return { family: AF_INET, bytes: b };
  }
  if (a.length !== 16) throw new Error(`IPv6 address must be 16 bytes, got ${a.length}`);
  return { family: AF_INET6, bytes: a };
}

/** Fields of {@link encodeSetLink}. */
export interface SetLinkRequest {
  /** Interface index. */
  index: number;
  /** Bring the link up (true) or down (false); leave unchanged when undefined. */
  up?: boolean;
  /** New MTU in bytes; unchanged when undefined. */
  mtuBytes?: number;
  /**
   * IPv6 address generation mode (`IFLA_INET6_ADDR_GEN_MODE`, e.g.
   * {@link IN6_ADDR_GEN_MODE_NONE}); unchanged when undefined. Takes effect for addresses made
   * when the link next comes up, so set it while the link is down.
   */
  addrGenMode6?: number;
  /** Largest GSO super-packet (`IFLA_GSO_MAX_SIZE`, as `ip link set X gso_max_size N`). */
  gsoMaxBytes?: number;
}

/**
 * Encodes `RTM_NEWLINK` for an existing link: set IFF_UP, `IFLA_MTU` and/or the IPv6 address
 * generation mode (`IFLA_AF_SPEC` → `AF_INET6` → `IFLA_INET6_ADDR_GEN_MODE`, as
 * `ip link set dev X addrgenmode none` sends it) and/or `IFLA_GSO_MAX_SIZE`, asking for an ACK.
 *
 * @param req index, up/down, MTU and IPv6 address generation mode
 * @param seq sequence number echoed in the ACK
 * @returns the message bytes
 */
export function encodeSetLink(req: SetLinkRequest, seq: number): Uint8Array {
  const w = new MsgWriter();
  header(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  const at = w.reserve(16); // struct ifinfomsg
  w.view.setUint8(at, 0); // ifi_family AF_UNSPEC
  w.view.setUint16(at + 2, 0, LE); // ifi_type
  w.view.setInt32(at + 4, req.index, LE);
  w.view.setUint32(at + 8, req.up ? IFF_UP : 0, LE); // ifi_flags
  w.view.setUint32(at + 12, req.up === undefined ? 0 : IFF_UP, LE); // ifi_change
  if (req.mtuBytes !== undefined) w.attrU32(IFLA_MTU, req.mtuBytes);
  if (req.gsoMaxBytes !== undefined) w.attrU32(IFLA_GSO_MAX_SIZE, req.gsoMaxBytes);
  const mode = req.addrGenMode6;
  if (mode !== undefined) {
    w.nest(IFLA_AF_SPEC, () => w.nest(AF_INET6, () => w.attrU8(IFLA_INET6_ADDR_GEN_MODE, mode)));
  }
  return w.finish();
}

/** Fields of {@link encodeAddr}. */
export interface AddrRequest {
  /** Add (true) or delete (false). */
  add: boolean;
  /** Interface index. */
  index: number;
  /** The address: uint32 IPv4 or 16-byte IPv6. */
  addr: NlAddr;
  /** Prefix length (32 or 128 for a host address). */
  len: number;
}

/**
 * Encodes `RTM_NEWADDR` (with `NLM_F_CREATE | NLM_F_EXCL`) or `RTM_DELADDR`, with
 * `IFA_LOCAL` and `IFA_ADDRESS`; IPv6 addresses get `IFA_F_NODAD` so they are usable at once,
 * and every address `IFA_F_NOPREFIXROUTE` (protomask adds its own routes).
 *
 * @param req add/delete, interface, address and prefix length
 * @param seq sequence number echoed in the ACK
 * @returns the message bytes
 */
export function encodeAddr(req: AddrRequest, seq: number): Uint8Array {
  const { family, bytes } = addrBytes(req.addr);
  const w = new MsgWriter();
  const flags = NLM_F_REQUEST | NLM_F_ACK | (req.add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  header(w, req.add ? RTM_NEWADDR : RTM_DELADDR, flags, seq);
  const ifaFlags = (family === AF_INET6 ? IFA_F_NODAD : 0) | IFA_F_NOPREFIXROUTE;
  const at = w.reserve(8); // struct ifaddrmsg
  w.view.setUint8(at, family);
  w.view.setUint8(at + 1, req.len);
  w.view.setUint8(at + 2, 0); // ifa_flags: IFA_FLAGS below carries all 32 bits, as iproute2 does
  w.view.setUint8(at + 3, RT_SCOPE_UNIVERSE);
  w.view.setUint32(at + 4, req.index, LE);
  // Attribute order as iproute2's `ip addr add`: IFA_LOCAL, IFA_FLAGS, IFA_ADDRESS.
  w.attr(IFA_LOCAL, bytes);
  if (req.add) w.attrU32(IFA_FLAGS, ifaFlags);
  w.attr(IFA_ADDRESS, bytes);
  return w.finish();
}

/** Fields of {@link encodeRoute}. */
export interface RouteRequest {
  /** Add (true, failing if it exists) or delete (false). */
  add: boolean;
  /** Output interface index. */
  index: number;
  /** Destination prefix address: uint32 IPv4 or 16-byte IPv6, host bits zero. */
  addr: NlAddr;
  /** Destination prefix length. */
  len: number;
}

/**
 * Encodes `RTM_NEWROUTE` (`NLM_F_CREATE | NLM_F_EXCL`, so an existing route is EEXIST) or
 * `RTM_DELROUTE`: table main, protocol {@link RTPROT_PROTOMASK}, unicast (any type for a delete),
 * scope link for IPv4
 * (universe for IPv6, which has no link scope for routes), `RTA_DST` and `RTA_OIF`.
 *
 * @param req add/delete, interface and destination prefix
 * @param seq sequence number echoed in the ACK
 * @returns the message bytes
 */
export function encodeRoute(req: RouteRequest, seq: number): Uint8Array {
  const { family, bytes } = addrBytes(req.addr);
  const w = new MsgWriter();
  const flags = NLM_F_REQUEST | NLM_F_ACK | (req.add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  header(w, req.add ? RTM_NEWROUTE : RTM_DELROUTE, flags, seq);
  const at = w.reserve(12); // struct rtmsg
  w.view.setUint8(at, family);
  w.view.setUint8(at + 1, req.len); // rtm_dst_len
  w.view.setUint8(at + 2, 0); // rtm_src_len
  w.view.setUint8(at + 3, 0); // rtm_tos
  w.view.setUint8(at + 4, RT_TABLE_MAIN);
  w.view.setUint8(at + 5, RTPROT_PROTOMASK);
  w.view.setUint8(at + 6, family === AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  w.view.setUint8(at + 7, req.add ? RTN_UNICAST : RTN_UNSPEC); // a delete matches any type
  w.view.setUint32(at + 8, 0, LE); // rtm_flags
  if (req.len > 0) w.attr(RTA_DST, bytes);
  w.attrU32(RTA_OIF, req.index);
  return w.finish();
}

/** Fields of {@link encodeProxyNeigh}. */
export interface ProxyNeighRequest {
  /** Add (true) or delete (false). */
  add: boolean;
  /** The interface the kernel answers Neighbor Solicitations on. */
  index: number;
  /** The address to answer for: uint32 IPv4 (proxy ARP) or 16-byte IPv6 (proxy ND). */
  addr: NlAddr;
}

/**
 * Encodes `RTM_NEWNEIGH` or `RTM_DELNEIGH` for a proxy entry, as
 * `ip -6 neigh add proxy ADDR dev X proto 77` and `ip -6 neigh del proxy ADDR dev X` send it:
 * `struct ndmsg` with `NUD_PERMANENT` and `NTF_PROXY`, `NDA_PROTOCOL` {@link RTPROT_PROTOMASK}
 * (an addition only: leftovers show as `proto 77` in `ip -6 neigh show proxy`) and `NDA_DST`.
 * The kernel treats adding an existing proxy entry as success.
 *
 * @param req add/delete, interface and address
 * @param seq sequence number echoed in the ACK
 * @returns the message bytes
 */
export function encodeProxyNeigh(req: ProxyNeighRequest, seq: number): Uint8Array {
  const { family, bytes } = addrBytes(req.addr);
  const w = new MsgWriter();
  const flags = NLM_F_REQUEST | NLM_F_ACK | (req.add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  header(w, req.add ? RTM_NEWNEIGH : RTM_DELNEIGH, flags, seq);
  const at = w.reserve(12); // struct ndmsg
  w.view.setUint8(at, family);
  w.view.setUint8(at + 1, 0); // pad1
  w.view.setUint16(at + 2, 0, LE); // pad2
  w.view.setInt32(at + 4, req.index, LE);
  w.view.setUint16(at + 8, NUD_PERMANENT, LE); // ndm_state
  w.view.setUint8(at + 10, NTF_PROXY); // ndm_flags
  w.view.setUint8(at + 11, RTN_UNSPEC); // ndm_type
  if (req.add) w.attrU8(NDA_PROTOCOL, RTPROT_PROTOMASK);
  w.attr(NDA_DST, bytes);
  return w.finish();
}

/** One netlink message in a received buffer. */
export interface NlMessage {
  /** `nlmsg_type`. */
  type: number;
  /** Offset of its payload (after the 16-byte header). */
  payloadOff: number;
  /** Payload length. */
  payloadLen: number;
}

/**
 * Splits a buffer of received netlink messages (a multicast datagram may hold several).
 *
 * @param buf received bytes
 * @param len how many of them are valid
 * @returns the messages, or the reason the buffer is malformed (the messages before it are
 *   not returned: a datagram is taken whole or not at all)
 */
export function netlinkMessages(
  buf: Uint8Array,
  len: number,
): { ok: true; value: NlMessage[] } | { ok: false; reason: string } {
  const v = new DataView(buf.buffer, buf.byteOffset, Math.min(len, buf.length));
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= v.byteLength) {
    const msgLen = v.getUint32(off, LE);
    if (msgLen < NLMSG_HDRLEN || off + msgLen > v.byteLength) {
      return { ok: false, reason: `malformed netlink message at ${off} (length ${msgLen})` };
    }
    out.push({
      type: v.getUint16(off + 4, LE),
      payloadOff: off + NLMSG_HDRLEN,
      payloadLen: msgLen - NLMSG_HDRLEN,
    });
    off += align4(msgLen);
  }
  return { ok: true, value: out };
}

/** What {@link findAck} found for a sequence number. */
export interface Ack {
  /** 0 for success, otherwise the positive errno the kernel reported. */
  errno: number;
}

/**
 * Finds the `NLMSG_ERROR` answering request `seq` in a buffer of received messages.
 *
 * @param buf received bytes
 * @param len how many of them are valid
 * @param seq the request's sequence number
 * @returns the ACK (errno 0) or error, or null when this buffer has no answer for `seq`
 * @throws {Error} on a malformed message (a length that runs past the buffer)
 */
export function findAck(buf: Uint8Array, len: number, seq: number): Ack | null {
  const v = new DataView(buf.buffer, buf.byteOffset, len);
  let off = 0;
  while (off + NLMSG_HDRLEN <= len) {
    const msgLen = v.getUint32(off, LE);
    if (msgLen < NLMSG_HDRLEN || off + msgLen > len) {
      throw new Error(`malformed netlink message at offset ${off} (length ${msgLen})`);
    }
    const type = v.getUint16(off + 4, LE);
    const msgSeq = v.getUint32(off + 8, LE);
    if (type === NLMSG_ERROR && msgSeq === seq >>> 0) {
      if (msgLen < NLMSG_HDRLEN + 4) throw new Error("truncated NLMSG_ERROR");
      return { errno: -v.getInt32(off + NLMSG_HDRLEN, LE) | 0 }; // `| 0`: no -0 for an ACK
    }
    off += align4(msgLen);
  }
  return null;
}
