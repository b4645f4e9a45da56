/**
 * The one open-addressing hash of lib/lease: from a 128-bit key (four uint32 words, plus a
 * small tag such as a prefix length) to an entry number, used by the lease table (IPv6 host →
 * pool slot, in its SharedArrayBuffer) and by the static maps (IPv4 and IPv6 prefixes → entry).
 *
 * The hash table holds entry numbers only (`EMPTY` = −1 in a free cell); the keys live in the
 * caller's arrays: entry `e`'s words at `keys[4e .. 4e+3]` and its tag at `tags[e]` (no tags
 * array: every tag is 0). A table of one-word keys (IPv4 prefixes: words 1..3 are 0) hashes only
 * the first word, which is cheaper on the per-packet IPv4 lookups. Linear probing, backward-shift deletion (no tombstones), load factor
 * at most 1/2 by the callers' sizing. Cells are written with `Atomics.store`, so lock-free
 * readers in other threads see whole entry numbers; a reader racing a deletion may miss an
 * entry for an instant (the lease table repeats the search under its lock before creating).
 *
 * Lookups never allocate and never throw.
 *
 * @module
 */

import { hashWords, mix32 } from "./words.ts";

/** A hash cell holding no entry. */
export const EMPTY: number = -1;

/**
 * An open-addressing hash over caller-owned keys. The instance holds views only: make one per
 * thread over shared memory and they all see the same table.
 */
export class WordHash {
  readonly #cells: Int32Array;
  readonly #mask: number;
  readonly #keys: Uint32Array;
  readonly #tags: Uint8Array | null;
  readonly #oneWord: boolean;

  /**
   * Views a hash table.
   *
   * @param cells The hash cells (a power-of-two count, at least twice the entries); fill a new
   *   one with {@link WordHash.clear}.
   * @param keys Four key words per entry.
   * @param tags A tag per entry, or null when every tag is 0.
   * @param oneWord Whether key words 1..3 are always 0 (then only word 0 is hashed).
   */
  constructor(cells: Int32Array, keys: Uint32Array, tags: Uint8Array | null, oneWord: boolean) {
    this.#cells = cells;
    this.#mask = cells.length - 1;
    this.#keys = keys;
    this.#tags = tags;
    this.#oneWord = oneWord;
  }

  /** Empties the table (a new one, before anyone reads it). */
  clear(): void {
    this.#cells.fill(EMPTY);
  }

  /**
   * Finds the entry with this key in a table without tags (the lease table). Allocation-free
   * (hot path). Each kind of table has its own lookup, so each stays monomorphic and small.
   *
   * @param w0 Key word 0 (uint32, as the key array holds it).
   * @param w1 Key word 1.
   * @param w2 Key word 2.
   * @param w3 Key word 3.
   * @returns The entry number, or −1.
   */
  find(w0: number, w1: number, w2: number, w3: number): number {
    const cells = this.#cells;
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = hashWords(w0, w1, w2, w3, 0) & mask;; i = (i + 1) & mask) {
      const e = cells[i]!;
      if (e === EMPTY) return -1;
      const b = 4 * e;
      if (keys[b] === w0 && keys[b + 1] === w1 && keys[b + 2] === w2 && keys[b + 3] === w3) {
        return e;
      }
    }
  }

  /**
   * Finds the entry with this key and tag in a table of four-word keys with tags (the static
   * maps' IPv6 prefixes). Allocation-free (hot path).
   *
   * @param w0 Key word 0 (uint32).
   * @param w1 Key word 1.
   * @param w2 Key word 2.
   * @param w3 Key word 3.
   * @param tag The tag.
   * @returns The entry number, or −1.
   */
  findTagged(w0: number, w1: number, w2: number, w3: number, tag: number): number {
    const cells = this.#cells;
    const keys = this.#keys;
    const tags = this.#tags!;
    const mask = this.#mask;
    for (let i = hashWords(w0, w1, w2, w3, tag) & mask;; i = (i + 1) & mask) {
      const e = cells[i]!;
      if (e === EMPTY) return -1;
      const b = 4 * e;
      if (
        tags[e] === tag && keys[b] === w0 && keys[b + 1] === w1 && keys[b + 2] === w2 &&
        keys[b + 3] === w3
      ) {
        return e;
      }
    }
  }

  /**
   * Finds the entry with this key and tag in a table of one-word keys (made with `oneWord`;
   * the static maps' IPv4 prefixes): words 1..3 are
   * 0 and not compared. Allocation-free (hot path).
   *
   * @param w0 Key word 0 (uint32).
   * @param tag The tag.
   * @returns The entry number, or −1.
   */
  find1(w0: number, tag: number): number {
    const cells = this.#cells;
    const keys = this.#keys;
    const tags = this.#tags!;
    const mask = this.#mask;
    for (let i = mix32(w0 ^ Math.imul(tag + 1, 0x9e3779b1)) & mask;; i = (i + 1) & mask) {
      const e = cells[i]!;
      if (e === EMPTY) return -1;
      if (keys[4 * e] === w0 && tags[e] === tag) return e;
    }
  }

  /**
   * Adds an entry whose key (and tag) is already written. The caller makes sure it is not in
   * the table yet (writers hold the lease table's lock).
   *
   * @param e The entry number.
   */
  insert(e: number): void {
    const cells = this.#cells;
    const mask = this.#mask;
    let i = this.#home(e);
    while (cells[i] !== EMPTY) i = (i + 1) & mask;
    Atomics.store(cells, i, e);
  }

  /**
   * Removes an entry (its key still written) by backward-shift deletion: every later entry of
   * the probe run that may move into the hole does, so no tombstones are left.
   *
   * @param e The entry number; nothing happens when it is not in the table.
   */
  remove(e: number): void {
    const cells = this.#cells;
    const mask = this.#mask;
    let i = this.#home(e);
    while (cells[i] !== e) {
      if (cells[i] === EMPTY) return;
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask;; j = (j + 1) & mask) {
      const f = cells[j]!;
      if (f === EMPTY) break;
      const k = this.#home(f);
      // f may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
      if (!stays) {
        Atomics.store(cells, i, f);
        i = j;
      }
    }
    Atomics.store(cells, i, EMPTY);
  }

  /** The cell where entry `e`'s probe run starts. */
  #home(e: number): number {
    const keys = this.#keys;
    const b = 4 * e;
    const tag = this.#tags === null ? 0 : this.#tags[e]!;
    return this.#hash(keys[b]!, keys[b + 1]!, keys[b + 2]!, keys[b + 3]!, tag) & this.#mask;
  }

  /** The hash of a key. */
  #hash(w0: number, w1: number, w2: number, w3: number, tag: number): number {
    if (this.#oneWord) return mix32(w0 ^ Math.imul(tag + 1, 0x9e3779b1));
    return hashWords(w0, w1, w2, w3, tag);
  }
}
