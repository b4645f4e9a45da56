import assert from "node:assert/strict";
import { Drop } from "../../lib/xlat/drop.ts";
import { hex, l4ChecksumValid } from "../_util/packets.ts";
import { BASE_TOML, engineFor, run, setIpv4HeaderChecksum, UDP6_FROM_HOST } from "./_build.ts";

const AMEND = BASE_TOML + "AmendUDPChecksumZero = true\n";

/** IPv4 UDP 198.51.100.7:53 → 192.0.2.1:8080 without a checksum; UDP length `udpLen`. */
function zeroChecksumUdp4(udpLen: number): Uint8Array {
  // deno-fmt-ignore
  return setIpv4HeaderChecksum(hex(`
    45000020 00000000 40110000            // version 4, IHL 5, length 32, TTL 64, UDP
    c6336407 c0000201                     // 198.51.100.7 > 192.0.2.1
    00351f90 ${udpLen.toString(16).padStart(4, "0")}0000   // UDP 53 > 8080, length, checksum 0
    05060708                              // payload
  `));
}

Deno.test("translate() computes a missing IPv4 UDP checksum with AmendUDPChecksumZero (RFC 7915 §4.5)", () => {
  const e = engineFor(AMEND);
  assert.ok(run(e, UDP6_FROM_HOST).r > 0, "lease for 192.0.2.1");
  const { r, out } = run(e, zeroChecksumUdp4(12));
  assert.equal(r, 1);
  assert.equal(l4ChecksumValid(out[0]!), true);
});

Deno.test("translate() drops a zero-checksum UDP packet whose length field disagrees with the IP length instead of computing a checksum over the wrong bytes", () => {
  const e = engineFor(AMEND);
  assert.ok(run(e, UDP6_FROM_HOST).r > 0, "lease for 192.0.2.1");
  for (const udpLen of [0, 8, 11, 13]) {
    assert.equal(run(e, zeroChecksumUdp4(udpLen)).r, -Drop.TRUNCATED_TRANSPORT, `length ${udpLen}`);
  }
});
