// RFC 7050 §3: the NAT64 prefix derived from the AAAA records a DNS64 synthesizes for
// ipv4only.arpa (192.0.0.170 and 192.0.0.171 embedded per RFC 6052 §2.2). The addresses are
// written out by hand from RFC 6052's table, not produced by our own embedding code.
import assert from "node:assert/strict";
import { formatIpv6Prefix, parseIpv6 } from "../../lib/addr/ipv6.ts";
import { derivePrefixes, prefixFromAnswers, wkaCandidates } from "../../lib/clat/rfc7050.ts";
import { parseResolver } from "../../lib/config/listen.ts";

function found(answers: string[]): string[] {
  return derivePrefixes(answers.map((a) => parseIpv6(a)!)).map((d) => formatIpv6Prefix(d.prefix));
}

Deno.test("clat rfc7050: derivePrefixes() finds the prefix at each RFC 6052 length", () => {
  // Each pair: 192.0.0.170 and 192.0.0.171 under 2001:db8:0122:0344::, at the positions of
  // RFC 6052 §2.2 (u-octet = byte 8 skipped and zero).
  const cases: [string, string, string][] = [
    ["2001:db8:c000:aa::", "2001:db8:c000:ab::", "2001:db8::/32"],
    ["2001:db8:1c0:0:aa::", "2001:db8:1c0:0:ab::", "2001:db8:100::/40"],
    ["2001:db8:122:c000:0:aa00::", "2001:db8:122:c000:0:ab00::", "2001:db8:122::/48"],
    ["2001:db8:122:3c0:0:aa:0:0", "2001:db8:122:3c0:0:ab:0:0", "2001:db8:122:300::/56"],
    ["2001:db8:122:344:c0:0:aa00:0", "2001:db8:122:344:c0:0:ab00:0", "2001:db8:122:344::/64"],
    ["2001:db8:122:344::c000:aa", "2001:db8:122:344::c000:ab", "2001:db8:122:344::/96"],
  ];
  for (const [a, b, want] of cases) {
    assert.deepEqual(found([a, b]), [want], want);
    assert.deepEqual(found([a]), [want], `${want} from 192.0.0.170 alone`);
  }
});

Deno.test("clat rfc7050: derivePrefixes() finds nothing without a well-known address", () => {
  assert.deepEqual(found(["2001:db8::1", "64:ff9b::c000:2ac"]), []);
  assert.deepEqual(found([]), []);
  assert.equal(prefixFromAnswers(["2001:db8::1"]), null);
});

Deno.test("clat rfc7050: derivePrefixes() needs a zero u-octet below /96, and at /96 takes any byte 8", () => {
  // /64 form of 192.0.0.170 but byte 8 (the u-octet) is 0x01: not a valid /64 address.
  assert.deepEqual(found(["2001:db8:122:344:1c0:0:aa00:0"]), []);
  // At /96 byte 8 is part of the prefix.
  assert.deepEqual(found(["2001:db8:0:0:100::c000:aa"]), ["2001:db8:0:0:100::/96"]);
});

Deno.test("clat rfc7050: the second well-known address settles a prefix that holds the first one's octets", () => {
  // Prefix 2001:db8:c000:aa::/64 (its bytes 4..7 read 192.0.0.170). 192.0.0.170 under it,
  // 2001:db8:c000:aa:c0:0:aa00:0, also reads as 192.0.0.170 under 2001:db8::/32 (with a
  // non-zero suffix); 192.0.0.171 under it reads as 192.0.0.170 again at /32.
  const a170 = "2001:db8:c000:aa:c0:0:aa00:0";
  const a171 = "2001:db8:c000:aa:c0:0:ab00:0";
  assert.deepEqual(
    wkaCandidates(parseIpv6(a170)!).map((c) => [formatIpv6Prefix(c.prefix), c.zeroSuffix]),
    [["2001:db8::/32", false], ["2001:db8:c000:aa::/64", true]],
  );
  assert.deepEqual(found([a170, a171]), ["2001:db8:c000:aa::/64"]);
  // With the first address alone, the zero suffix ranks the /64 first.
  assert.deepEqual(found([a170]), ["2001:db8:c000:aa::/64", "2001:db8::/32"]);
  // A DNS64 that writes a suffix: 2001:db8::/32 with the suffix ::c000:aa. Each address also
  // reads as a /96 with a zero suffix, but only the /32 carries both well-known addresses, so
  // the second address overrides the zero-suffix ranking.
  assert.deepEqual(
    found(["2001:db8:c000:aa::c000:aa", "2001:db8:c000:ab::c000:aa"]),
    ["2001:db8::/32"],
  );
  assert.deepEqual(found(["2001:db8:c000:aa::c000:aa"]), [
    "2001:db8:c000:aa::/96",
    "2001:db8::/32",
  ]);
});

Deno.test("clat rfc7050: derivePrefixes() returns two prefixes of two DNS64s in answer order", () => {
  assert.deepEqual(
    found(["2001:db8:64::c000:aa", "64:ff9b::c000:aa", "2001:db8:64::c000:ab", "64:ff9b::c000:ab"]),
    ["2001:db8:64::/96", "64:ff9b::/96"],
  );
  assert.equal(
    formatIpv6Prefix(prefixFromAnswers(["64:ff9b::c000:ab", "64:ff9b::c000:aa", "junk"])!),
    "64:ff9b::/96",
  );
});

Deno.test("clat rfc7050: Clat.Resolver is read as an address, address:port and [v6]:port", () => {
  assert.deepEqual(parseResolver("192.0.2.53"), { ipAddr: "192.0.2.53", port: 53 });
  assert.deepEqual(parseResolver("192.0.2.53:5353"), { ipAddr: "192.0.2.53", port: 5353 });
  assert.deepEqual(parseResolver("2001:db8::53"), { ipAddr: "2001:db8::53", port: 53 });
  assert.deepEqual(parseResolver("[2001:db8::53]:53"), { ipAddr: "2001:db8::53", port: 53 });
  for (
    const bad of ["dns.example", "192.0.2.53:0", "192.0.2.53:70000", "[192.0.2.1]:53", "[::1", ""]
  ) {
    assert.equal(typeof parseResolver(bad), "string", bad);
  }
});
