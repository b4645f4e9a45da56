/**
 * A tiny seeded pseudo-random generator for property and fuzz tests, so that every failure can
 * be replayed from its seed. Not for anything that needs real randomness.
 *
 * The generator is mulberry32 (Tommy Ettinger's 32-bit state mixer, public domain): fast, one
 * 32-bit word of state, and good enough for picking test inputs.
 *
 * @module
 */

/** A seeded random source with the handful of draws tests need. */
export class Prng {
  #state: number;

  /**
   * Creates a generator.
   * @param seed any 32-bit integer; equal seeds give equal sequences
   */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /**
   * The next 32 random bits.
   * @returns an integer in 0 .. 2^32 - 1
   */
  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /**
   * A uniform integer below a bound.
   * @param n the bound (1 .. 2^32)
   * @returns an integer in 0 .. n - 1
   */
  below(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /**
   * A uniform integer in a closed range.
   * @param lo smallest value
   * @param hi largest value
   * @returns an integer in lo .. hi
   */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /**
   * True with the given probability.
   * @param p probability in 0 .. 1
   * @returns a biased coin flip
   */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  /**
   * One element of a non-empty array.
   * @param items the choices
   * @returns a uniformly chosen element
   */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /**
   * Fills bytes with random values.
   * @param out the bytes to overwrite
   * @param off first byte (default 0)
   * @param len number of bytes (default: to the end)
   * @returns `out`
   */
  fill(out: Uint8Array, off = 0, len = out.length - off): Uint8Array {
    for (let i = off; i < off + len; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /**
   * New random bytes.
   * @param len how many
   * @returns a fresh array
   */
  bytes(len: number): Uint8Array {
    return this.fill(new Uint8Array(len));
  }
}
