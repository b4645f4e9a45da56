import assert from "node:assert/strict";
import { adjust, checksum, fold, sumBytes, sumIpv4 } from "../../lib/wire/checksum.ts";
import { Prng } from "../_util/prng.ts";

// An independent reference written straight from RFC 1071 §1: add 16-bit big-endian words with
// an end-around carry after every addition (an odd last byte is the high half of a word). The
// result stays in 0 .. 0xffff at every step, so it needs no folding and no large numbers.
function refSum(buf: Uint8Array, off: number, len: number, initial16 = 0): number {
  let s = initial16;
  for (let i = 0; i < len; i += 2) {
    const hi = buf[off + i]!;
    const lo = i + 1 < len ? buf[off + i + 1]! : 0;
    s += hi * 256 + lo;
    if (s > 0xffff) s -= 0xffff;
  }
  return s;
}

/** 0 and 0xffff are the same number in one's complement. */
function sameOnesComplement(a: number, b: number): boolean {
  return a % 0xffff === b % 0xffff;
}

/** A word-aligned edit within a checksummed region: [at, at + n) relative to its start. */
interface Edit {
  at: number;
  n: number;
}

/** Picks a random word-aligned edit inside a region of `len` bytes (may end on its odd byte). */
function randomEdit(rng: Prng, len: number): Edit {
  const at = rng.below((len + 1) >> 1) * 2;
  const max = len - at;
  const n = Math.min(max, 2 * rng.range(1, Math.max(1, (max + 1) >> 1)));
  return { at, n };
}

Deno.test("sumBytes()+fold() equal an end-around-carry reference at every offset and length", () => {
  const rng = new Prng(0x1071);
  const buf = rng.bytes(200);
  for (let off = 0; off < 9; off++) {
    for (let len = 0; len <= 150; len++) {
      const want = refSum(buf, off, len);
      const got = fold(sumBytes(buf, off, len, 0));
      // The reference never produces 0 for a non-zero word sum; fold() must match exactly.
      assert.equal(got, want, `off ${off} len ${len}`);
    }
  }
});

Deno.test("sumBytes() continues a running sum, including large pseudo-header sums", () => {
  const rng = new Prng(7);
  for (let iter = 0; iter < 2000; iter++) {
    const len = rng.range(0, 300);
    const off = rng.range(0, 5);
    const buf = rng.bytes(off + len + 3);
    // Up to 40 bytes of pseudo-header words, possibly unfolded (as the engine passes them).
    const initial = rng.below(40 * 0xffff);
    const want = refSum(buf, off, len, fold(initial));
    assert.equal(fold(sumBytes(buf, off, len, initial)), want, `iter ${iter}`);
  }
});

Deno.test("sumBytes() stays exact on 64 KiB of 0xff (its intermediate reduction path)", () => {
  for (const len of [65535, 65536, 65534]) {
    const buf = new Uint8Array(len).fill(0xff);
    const s = sumBytes(buf, 0, len, 0xfffffff);
    assert.ok(Number.isSafeInteger(s), "sum stays an exact integer");
    assert.equal(fold(s), refSum(buf, 0, len, fold(0xfffffff)));
  }
});

Deno.test("sumBytes() chained over even splits equals one sum over the whole range", () => {
  const rng = new Prng(99);
  for (let iter = 0; iter < 1000; iter++) {
    const len = rng.range(0, 400);
    const off = rng.range(0, 7);
    const buf = rng.bytes(off + len);
    const cut = Math.min(len, rng.below((len >> 1) + 1) * 2);
    const chained = sumBytes(buf, off + cut, len - cut, sumBytes(buf, off, cut, 0));
    assert.equal(fold(chained), fold(sumBytes(buf, off, len, 0)));
  }
});

Deno.test("fold() keeps zero as 0 and any non-zero multiple of 0xffff as 0xffff", () => {
  assert.equal(fold(0), 0);
  const rng = new Prng(3);
  for (let i = 0; i < 1000; i++) {
    const k = rng.range(1, 0x7fff);
    assert.equal(fold(k * 0xffff), 0xffff, `k ${k}`);
    const x = rng.u32(); // fold() accepts any sum below 2^32
    const want = x === 0 ? 0 : ((x - 1) % 0xffff) + 1;
    assert.equal(fold(x), want, `x ${x}`);
  }
});

Deno.test("checksum() is the complement of the reference sum and makes its region verify", () => {
  const rng = new Prng(0x791);
  for (let iter = 0; iter < 3000; iter++) {
    const off = rng.range(0, 9);
    const len = 2 * rng.range(2, 300) + (rng.chance(0.5) ? 1 : 0);
    const buf = rng.bytes(off + len);
    const csAt = off + 2 * rng.below(len >> 1);
    buf[csAt] = 0;
    buf[csAt + 1] = 0;
    const initial = rng.below(0x3ffff);
    const cs = checksum(buf, off, len, initial);
    assert.equal(cs, 0xffff - refSum(buf, off, len, fold(initial)), `iter ${iter}`);
    buf[csAt] = cs >> 8;
    buf[csAt + 1] = cs & 0xff;
    assert.equal(refSum(buf, off, len, fold(initial)), 0xffff, "sum with checksum is -0");
    assert.equal(checksum(buf, off, len, initial), 0);
  }
});

Deno.test("adjust() equals a full recompute after random word-aligned edits at every offset", () => {
  const rng = new Prng(0x1624);
  let compared = 0;
  for (let off = 0; off < 16; off++) {
    for (let iter = 0; iter < 800; iter++) {
      const len = 2 * rng.range(2, 80) + (iter & 1);
      const buf = rng.bytes(off + len);
      const csAt = 2 * rng.below(len >> 1);
      buf[off + csAt] = 0;
      buf[off + csAt + 1] = 0;
      const initial = rng.below(0x3ffff);
      const cs = checksum(buf, off, len, initial);
      buf[off + csAt] = cs >> 8;
      buf[off + csAt + 1] = cs & 0xff;

      const e = randomEdit(rng, len);
      if (e.at <= csAt + 1 && csAt < e.at + e.n) continue; // the edit must not hit the field
      const oldSum = sumBytes(buf, off + e.at, e.n, 0);
      rng.fill(buf, off + e.at, e.n);
      const newSum = sumBytes(buf, off + e.at, e.n, 0);
      const got = adjust(cs, oldSum, newSum);

      buf[off + csAt] = 0;
      buf[off + csAt + 1] = 0;
      const want = checksum(buf, off, len, initial);
      assert.equal(got, want, `off ${off} iter ${iter} edit ${e.at}+${e.n}`);
      compared++;
    }
  }
  assert.ok(compared > 8000, `compared ${compared}`);
});

Deno.test("adjust() gives 0x0000, not 0xffff, in the RFC 1624 §3 example", () => {
  // RFC 1624 §3: the other header words sum to 0xcd7a; m = 0x5555 becomes m' = 0x3285.
  assert.equal(adjust(0xdd2f, 0x5555, 0x3285), 0x0000);
  // The same as bytes: a full recompute agrees.
  const buf = new Uint8Array([0xcd, 0x7a, 0x55, 0x55, 0x00, 0x00]);
  assert.equal(checksum(buf, 0, 6, 0), 0xdd2f);
  buf[2] = 0x32;
  buf[3] = 0x85;
  assert.equal(checksum(buf, 0, 6, 0), 0x0000);
});

Deno.test("adjust() lands on the checksum 0x0000 when the new data sums to 0xffff", () => {
  const rng = new Prng(0xffff);
  let hits = 0;
  for (let iter = 0; iter < 2000; iter++) {
    // Random words, then choose the edited word so the whole region sums to 0xffff.
    const len = 2 * rng.range(3, 40);
    const buf = rng.bytes(len);
    buf[0] = 0;
    buf[1] = 0; // checksum field
    const cs = checksum(buf, 0, len, 0);
    buf[0] = cs >> 8;
    buf[1] = cs & 0xff;
    const at = 2 * rng.range(1, len / 2 - 1);
    const oldSum = sumBytes(buf, at, 2, 0);
    buf[at] = 0;
    buf[at + 1] = 0;
    buf[0] = 0;
    buf[1] = 0;
    const rest = refSum(buf, 0, len);
    const w = rest === 0xffff ? 0xffff : 0xffff - rest;
    buf[at] = w >> 8;
    buf[at + 1] = w & 0xff;
    assert.equal(refSum(buf, 0, len), 0xffff);
    const got = adjust(cs, oldSum, w);
    assert.equal(got, checksum(buf, 0, len, 0));
    assert.equal(got, 0x0000);
    hits++;
  }
  assert.equal(hits, 2000);
});

Deno.test("adjust() keeps a wrong checksum wrong by the same amount", () => {
  const rng = new Prng(42);
  for (let iter = 0; iter < 5000; iter++) {
    const len = 2 * rng.range(4, 60);
    const buf = rng.bytes(len);
    buf[0] = 0;
    buf[1] = 0;
    const good = checksum(buf, 0, len, 0);
    const delta = rng.range(1, 0xfffe);
    const stored = (good + delta) % 0xffff; // off by `delta` in one's complement
    buf[0] = stored >> 8;
    buf[1] = stored & 0xff;
    const before = refSum(buf, 0, len);
    const e = randomEdit(rng, len - 2);
    const at = 2 + e.at;
    const oldSum = sumBytes(buf, at, e.n, 0);
    rng.fill(buf, at, e.n);
    const updated = adjust(stored, oldSum, sumBytes(buf, at, e.n, 0));
    buf[0] = updated >> 8;
    buf[1] = updated & 0xff;
    // The region's total (including the checksum) is what a receiver tests against -0: it
    // must not change, so the error is neither repaired nor made worse.
    assert.ok(sameOnesComplement(refSum(buf, 0, len), before), `iter ${iter}`);
    assert.notEqual(checksum(buf, 0, len, 0), 0);
  }
});

Deno.test("adjust() accepts unfolded sums as the engine passes them (pseudo-headers)", () => {
  const rng = new Prng(0x86dd);
  for (let iter = 0; iter < 3000; iter++) {
    // An IPv6 pseudo-header (two addresses) replaced by an IPv4 one, as in RFC 7915 §5.5.
    const v6 = rng.bytes(32);
    const src4 = rng.u32();
    const dst4 = rng.u32();
    const payload = rng.bytes(rng.range(8, 64));
    payload[6] = 0;
    payload[7] = 0;
    const v6Sum = sumBytes(v6, 0, 32, 0);
    const v4Sum = sumIpv4(src4) + sumIpv4(dst4);
    const cs6 = checksum(payload, 0, payload.length, v6Sum + 17 + payload.length);
    const cs4 = checksum(payload, 0, payload.length, v4Sum + 17 + payload.length);
    assert.equal(adjust(cs6, v6Sum, v4Sum), cs4, `iter ${iter}`);
    assert.equal(adjust(cs4, v4Sum, v6Sum), cs6, `iter ${iter}`);
  }
});

Deno.test("sumIpv4() is the sum of the address's two 16-bit words", () => {
  const rng = new Prng(4);
  for (let i = 0; i < 1000; i++) {
    const a = rng.u32();
    const bytes = new Uint8Array([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);
    assert.equal(fold(sumIpv4(a)), refSum(bytes, 0, 4));
  }
  assert.equal(sumIpv4(0xffffffff), 0x1fffe);
  assert.equal(sumIpv4(0), 0);
});
