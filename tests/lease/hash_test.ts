/**
 * The shared open-addressing hash (lib/lease/hash.ts) against a Map model: random inserts and
 * backward-shift removals in a small, crowded table (long probe runs that wrap around), then
 * every key looked up; and the tagged and one-word lookups the static maps use.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EMPTY, WordHash } from "../../lib/lease/hash.ts";
import { Prng } from "../_util/prng.ts";

Deno.test("WordHash.find agrees with a Map model through 20,000 random inserts and removals", () => {
  const entries = 32;
  const keys = new Uint32Array(4 * entries);
  const cells = new Int32Array(64);
  const h = new WordHash(cells, keys, null, false);
  h.clear();
  const rng = new Prng(8);
  // Few distinct words, so probe runs collide and wrap around the 64 cells.
  const word = () => rng.below(3) === 0 ? 0xffffffff : rng.below(4);
  const model = new Map<string, number>(); // key text -> entry
  const free: number[] = Array.from({ length: entries }, (_, e) => e);
  for (let step = 0; step < 20_000; step++) {
    if (free.length > 0 && (model.size === 0 || rng.below(2) === 0)) {
      const k = [word(), word(), word(), word()];
      const text = k.join(",");
      if (model.has(text)) continue;
      const e = free.pop()!;
      keys.set(k, 4 * e);
      h.insert(e);
      model.set(text, e);
    } else {
      const texts = [...model.keys()];
      const text = texts[rng.below(texts.length)]!;
      const e = model.get(text)!;
      h.remove(e);
      model.delete(text);
      free.push(e);
    }
    for (const [text, e] of model) {
      const [a, b, c, d] = text.split(",").map(Number) as [number, number, number, number];
      assert.equal(h.find(a, b, c, d), e, `step ${step}: ${text}`);
    }
    assert.equal(cells.filter((c) => c !== EMPTY).length, model.size, `step ${step}: cells`);
  }
  assert.equal(h.find(5, 5, 5, 5), -1);
});

Deno.test("WordHash.findTagged and find1 tell keys apart by their tag", () => {
  const keys = new Uint32Array([0x20010db8, 0, 0, 0, 0x20010db8, 0, 0, 0]);
  const tags = new Uint8Array([32, 48]);
  const six = new WordHash(new Int32Array(8), keys, tags, false);
  six.clear();
  six.insert(0);
  six.insert(1);
  assert.equal(six.findTagged(0x20010db8, 0, 0, 0, 32), 0);
  assert.equal(six.findTagged(0x20010db8, 0, 0, 0, 48), 1);
  assert.equal(six.findTagged(0x20010db8, 0, 0, 0, 64), -1);
  const four = new WordHash(new Int32Array(8), keys, tags, true);
  four.clear();
  four.insert(0);
  four.insert(1);
  assert.equal(four.find1(0x20010db8, 32), 0);
  assert.equal(four.find1(0x20010db8, 48), 1);
  assert.equal(four.find1(0x20010db9, 48), -1);
  four.remove(0);
  assert.equal(four.find1(0x20010db8, 32), -1);
  assert.equal(four.find1(0x20010db8, 48), 1);
});
