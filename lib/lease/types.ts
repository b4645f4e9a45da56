/**
 * The lease table's public types and constants: options, records, events, the lookup
 * interface the engine uses, and the `v4For6` results. ./table.ts re-exports all of them.
 *
 * @module
 */

import { NOT_IPV4 } from "../addr/rfc6052.ts";
import type { Ipv4Prefix } from "../addr/ipv4.ts";
import type { LeaseLimitOptions } from "./limits.ts";
import type { StaticMap } from "./static_map.ts";

/** Flag for `v4For6`/`v6For4`: refresh the lease's last-seen time. */
export const LEASE_REFRESH = 1;
/** Flag for `v4For6`: create a lease when the IPv6 source has none. */
export const LEASE_ALLOCATE = 2;
/** Returned by `v4For6`/`staticV4For6`: no mapping. */
export const MAP_NONE: number = NOT_IPV4;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: no mapping and the pool is exhausted. */
export const MAP_EXHAUSTED: number = NOT_IPV4 + 1;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: a new lease refused, source not allowed. */
export const MAP_SOURCE_NOT_ALLOWED: number = NOT_IPV4 + 2;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: a new lease refused, its prefix is at its limit. */
export const MAP_PREFIX_LIMIT: number = NOT_IPV4 + 3;
/** Returned by `v4For6` with `LEASE_ALLOCATE`: a new lease refused by the rate limit. */
export const MAP_RATE_LIMIT: number = NOT_IPV4 + 4;
/** Largest pool accepted (a /10): the table needs about 40 bytes per address. */
export const MAX_POOL_ADDRESSES = 1 << 22;
/**
 * Smallest event ring (records) when `eventRingSize` is not given; a larger pool gets a ring
 * with room for an event per pool address (up to {@link MAX_DEFAULT_EVENT_RING_SIZE}), so
 * even every lease being created, or expiring in one sweep, at once fits in it.
 */
export const DEFAULT_EVENT_RING_SIZE = 1024;
/** Largest event ring (records, 2 MiB) chosen when `eventRingSize` is not given. */
export const MAX_DEFAULT_EVENT_RING_SIZE = 65536;
/** Longest bounded wait for event-ring room accepted as `eventWaitMs`. */
export const MAX_EVENT_WAIT_MS = 10_000;
/** Largest event ring accepted (records). */
export const MAX_EVENT_RING_SIZE = 1 << 20;

/** How far in the future a restored lease's last-seen time may lie (clock skew). */
export const RESTORE_FUTURE_SLACK_SECS = 60;

/** Options shared by `LeaseTable.create` and `LeaseTable.attach`. */
export interface LeaseTableOptions {
  /** Dynamic pool prefixes in configuration order (must not overlap). */
  pool: readonly Ipv4Prefix[];
  /** Static maps (RFC 7757 EAM entries and address pairs). */
  staticMaps: readonly StaticMap[];
  /** Idle seconds after which a dynamic lease expires (integer, 0..2^31-1). */
  reservationSecs: number;
  /**
   * Event ring capacity in records, rounded up to a power of two (default: the pool's size,
   * at least {@link DEFAULT_EVENT_RING_SIZE}, at most {@link MAX_DEFAULT_EVENT_RING_SIZE}).
   */
  eventRingSize?: number;
  /**
   * Lossless mode: when set (1..10,000 ms), a full ring is never overwritten; an allocation
   * waits for room at most this long in all and is refused after it. Left out: the oldest
   * record is overwritten and counted in `eventsLost`. Stored in the buffer: `attach` takes
   * the creator's mode whatever its own options say.
   */
  eventWaitMs?: number;
  /** Abuse limits on new dynamic leases (default: none); see ./limits.ts. */
  limits?: LeaseLimitOptions;
}

/** A dynamic lease as persisted: text addresses and last-seen seconds. */
export interface LeaseRecord {
  /** Pool address, dotted quad. */
  v4: string;
  /** IPv6 host, RFC 5952 text. */
  v6: string;
  /** Last traffic, seconds on the caller's clock. */
  lastSeenSecs: number;
}

/** What happened to a lease. */
export type LeaseEventKind = "created" | "expired" | "refused" | "restored";

/** Why a new lease was refused. */
export type LeaseRefusal =
  | "pool exhausted"
  | "source not allowed"
  | "prefix lease limit"
  | "lease rate limit";

/** One entry drained from the event ring. */
export interface LeaseEvent {
  /** What happened. */
  kind: LeaseEventKind;
  /** The pool address (uint32); -1 for "refused". */
  v4: number;
  /** The IPv6 host (16 bytes, a fresh copy). */
  v6: Uint8Array;
  /** `nowSecs` of the call that recorded the event (the first one, for refusals). */
  atSecs: number;
  /**
   * How many times it happened: 1, except for "refused", where refusals of one host in a row
   * (no other event between them, none drained) share a record.
   */
  count: number;
  /** Why a "refused" event was refused (absent: "pool exhausted"); null for the other kinds. */
  refusal?: LeaseRefusal | null;
}

/** Why `restore()` refused a record. */
export type LeaseDropReason =
  | "unparsable"
  | "static conflict"
  | "outside pool"
  | "expired"
  | "future-dated"
  | "duplicate v4"
  | "duplicate v6";

/** Result of `restore()`. */
export interface RestoreResult {
  /** Number of leases now in the table. */
  restored: number;
  /** Records not restored, in input order, with the reason. */
  dropped: { record: LeaseRecord; reason: LeaseDropReason }[];
}

/**
 * The hot-path part of the table, as the translation engine sees it.
 * Implemented by `LeaseTable`; tests may supply fakes.
 */
export interface LeaseLookup {
  /** See `LeaseTable.v4For6`. */
  v4For6(buf: Uint8Array, off: number, nowSecs: number, flags: number): number;
  /** See `LeaseTable.v6For4`. */
  v6For4(v4: number, out: Uint8Array, outOff: number, nowSecs: number, flags: number): number;
  /** See `LeaseTable.staticV4For6`. */
  staticV4For6(buf: Uint8Array, off: number): number;
  /** See `LeaseTable.staticV6For4`. */
  staticV6For4(v4: number, out: Uint8Array, outOff: number): number;
  /** See `LeaseTable.owns4`. */
  owns4(v4: number): boolean;
}
