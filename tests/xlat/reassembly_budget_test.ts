import assert from "node:assert/strict";
import { Drop, Stat } from "../../lib/xlat/drop.ts";
import { hex } from "../_util/packets.ts";
import { engineFor, fragment6, run, withData } from "./_build.ts";

/** ICMPv6 Echo Request of `n` data bytes from 2001:db8::<host> to 64:ff9b::198.51.100.7. */
function echo6(host: number, n: number): Uint8Array {
  // deno-fmt-ignore
  const head = hex(`
    60000000                              // version 6, traffic class 0, flow label 0
    00003a40                              // payload length (set below), ICMPv6, hop limit 64
    20010db8 00000000 00000000 00000000   // source 2001:db8::<host> (set below)
    0064ff9b 00000000 00000000 c6336407   // destination 64:ff9b::198.51.100.7
    80000000 12340001                     // echo request, checksum (filled in), id 0x1234, seq 1
  `);
  head[23] = host;
  return withData(head, { dataBytes: n, byteAt: (k) => k & 0xff });
}

Deno.test("translate() holds at most reassemblyMaxBytes of fragments, discarding the oldest datagram of the host holding the most", () => {
  // 4000 bytes, at most 2000 per host: three hosts' first fragments (1232 bytes each) fit, the
  // fourth host's makes room by evicting one of the others (all hold the same: the oldest).
  const e = engineFor(undefined, { reassemblyMaxBytes: 4000 });
  const firsts = [1, 2, 3, 4].map((h) => fragment6(echo6(h, 3000), [1232, 1232], 0x10 + h)[0]!);
  for (const f of firsts) assert.equal(run(e, f).r, -Drop.REASSEMBLY_HELD);
  assert.equal(e.ctx.reassemblyHeldBytes, 3 * 1232);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_EVICTED], 1);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_FULL], 0);
});

Deno.test("translate() counts the fragments of a datagram larger than a host's half of the budget as reassembly_full", () => {
  const e = engineFor(undefined, { reassemblyMaxBytes: 4000 });
  const frags = fragment6(echo6(1, 3000), [1232, 1232], 7);
  assert.equal(run(e, frags[0]!).r, -Drop.REASSEMBLY_HELD);
  // 2464 bytes would be more than this host's 2000, and it has no older datagram to give up.
  assert.equal(run(e, frags[1]!).r, -Drop.REASSEMBLY_FULL);
  assert.equal(e.ctx.reassemblyHeldBytes, 1232);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_FULL], 1);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_EVICTED], 0);
});

Deno.test("translate() returns a completed datagram's bytes to the reassembly budget", () => {
  const e = engineFor(undefined, { reassemblyMaxBytes: 6100 });
  for (const id of [7, 8]) {
    const frags = fragment6(echo6(1, 3000), [1232, 1232], id);
    assert.equal(run(e, frags[0]!).r, -Drop.REASSEMBLY_HELD);
    assert.equal(run(e, frags[1]!).r, -Drop.REASSEMBLY_HELD);
    assert.equal(e.ctx.reassemblyHeldBytes, 2464);
    assert.ok(run(e, frags[2]!).r > 0);
    assert.equal(e.ctx.reassemblyHeldBytes, 0);
  }
  assert.equal(e.ctx.counters[Stat.REASSEMBLED], 2);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_EVICTED], 0);
});

Deno.test("translate() frees a timed-out datagram's bytes", () => {
  const e = engineFor(undefined, { reassemblyMaxBytes: 4000, reassemblyTimeoutSecs: 5 });
  const [a] = fragment6(echo6(1, 3000), [1232, 1232], 9);
  assert.equal(run(e, a!).r, -Drop.REASSEMBLY_HELD);
  e.ctx.setClock(e.ctx.nowMs + 6000);
  const [b] = fragment6(echo6(1, 3000), [1232, 1232], 10);
  assert.equal(run(e, b!).r, -Drop.REASSEMBLY_HELD);
  assert.equal(e.ctx.counters[Drop.REASSEMBLY_TIMEOUT], 1);
  assert.equal(e.ctx.reassemblyHeldBytes, 1232);
});
