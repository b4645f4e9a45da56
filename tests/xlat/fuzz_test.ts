/**
 * Seeded fuzzing of the engine: 1,000,000 generated and mutated packets (4 × 250,000, one
 * seed each) through `translatePacket`. No call may throw; every emitted packet must have
 * consistent lengths (IPv4 total length = packet length with IHL ≥ 5 and a valid header
 * checksum; IPv6 payload length + 40 = packet length); ICMP messages the translator builds or
 * translates must carry valid checksums; and a translated unfragmented TCP/UDP/ICMP packet has
 * a valid checksum exactly when its input had one (a wrong checksum stays wrong). See
 * tests/xlat/_fuzz.ts for the generator and the checks. A failure prints its seed, index and
 * input so it can be replayed.
 */

import assert from "node:assert/strict";
import { dropSummary, fuzz } from "./_fuzz.ts";

const PER_SEED = 250_000;

for (const seed of [0x5eed0001, 0x5eed0002, 0x5eed0003, 0x5eed0004]) {
  Deno.test(`translate() survives ${PER_SEED} fuzzed packets (seed 0x${seed.toString(16)}) with consistent output`, () => {
    const stats = fuzz(seed, PER_SEED);
    const report = stats.failures.map((f) => `#${f.index}: ${f.problem}\n  input ${f.input}`);
    assert.deepEqual(report, [], `seed 0x${seed.toString(16)}`);
    assert.equal(stats.packets, PER_SEED);
    // The generator must reach deep: many outputs, and checked checksums among them.
    assert.ok(stats.emitted > PER_SEED / 5, `only ${stats.emitted} packets emitted`);
    assert.ok(stats.checksumChecked > PER_SEED / 5, `only ${stats.checksumChecked} checked`);
    assert.ok(stats.drops.size >= 25, `few drop reasons reached: ${dropSummary(stats)}`);
  });
}
