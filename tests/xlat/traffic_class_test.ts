import assert from "node:assert/strict";
import { hex } from "../_util/packets.ts";
import { BASE_TOML, engineFor, fixChecksums, patch, run, UDP6_FROM_HOST } from "./_build.ts";

/** UDP_FROM_HOST with traffic class 0x2a (DSCP AF11, ECT(0)); no checksum covers it. */
const UDP6 = patch(UDP6_FROM_HOST, 0, 0x62, 0xa0);

/** The reply: 198.51.100.7 → 192.0.2.1 (the first lease), TOS 0x2a. */
// deno-fmt-ignore
const UDP4 = fixChecksums(hex(`
  452a0020 00004000 40110000            // version 4, IHL 5, TOS 0x2a, length 32, DF, TTL 64, UDP
  c6336407 c0000201                     // 198.51.100.7 > 192.0.2.1
  00351f90 000c0000                     // UDP 53 > 8080, length 12, checksum (filled in)
  05060708                              // payload
`));

function tcOf6(p: Uint8Array): number {
  return ((p[0]! & 0x0f) << 4) | (p[1]! >> 4);
}

Deno.test("translate() copies traffic class to TOS and TOS to traffic class by default (RFC 7915 §4.1, §5.1)", () => {
  const e = engineFor();
  assert.equal(run(e, UDP6).out[0]![1], 0x2a);
  assert.equal(tcOf6(run(e, UDP4).out[0]!), 0x2a);
});

Deno.test("translate() writes traffic class 0 with ZeroizeTrafficClass", () => {
  const e = engineFor(BASE_TOML + "ZeroizeTrafficClass = true\n");
  assert.equal(run(e, UDP6).out[0]![1], 0x2a, "6→4 still copies");
  assert.equal(tcOf6(run(e, UDP4).out[0]!), 0);
});

Deno.test("translate() writes the configured TOS on IPv4 with Translation.TOS", () => {
  const e = engineFor(BASE_TOML + "TOS = 184\n");
  const out = run(e, UDP6).out[0]!;
  assert.equal(out[1], 184);
  assert.equal(tcOf6(run(e, UDP4).out[0]!), 0x2a, "4→6 still copies");
});
