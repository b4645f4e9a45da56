import assert from "node:assert/strict";
import {
  formatIpv4,
  formatIpv4Prefix,
  ipv4InPrefix,
  ipv4Mask,
  ipv4PrefixesOverlap,
  ipv4PrefixProblem,
  ipv4PrefixSize,
  parseIpv4,
  parseIpv4Prefix,
} from "../../lib/addr/ipv4.ts";

Deno.test("parseIpv4() reads dotted quads as uint32", () => {
  assert.equal(parseIpv4("192.0.2.1"), 0xc0000201);
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  assert.equal(parseIpv4("10.20.30.40"), (10 << 24) + (20 << 16) + (30 << 8) + 40);
});

Deno.test("parseIpv4() rejects malformed text", () => {
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "1.2.3.256",
      "01.2.3.4",
      "1.2.3.00",
      "1..3.4",
      "1.2.3.4.",
      ".1.2.3",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.-4",
      "1.2.3.+4",
      "0x1.2.3.4",
      "127.1",
      "1.2.3.4/32",
      "1234.1.1.1",
    ]
  ) {
    assert.equal(parseIpv4(bad), null, bad);
  }
});

Deno.test("formatIpv4() round-trips through parseIpv4()", () => {
  for (const text of ["0.0.0.0", "192.0.2.33", "203.0.113.255", "255.255.255.255", "10.0.0.1"]) {
    assert.equal(formatIpv4(parseIpv4(text)!), text);
  }
  assert.equal(formatIpv4(0xc6336401), "198.51.100.1");
});

Deno.test("ipv4Mask() handles /0 and /32", () => {
  assert.equal(ipv4Mask(0), 0);
  assert.equal(ipv4Mask(32), 0xffffffff);
  assert.equal(ipv4Mask(24), 0xffffff00);
  assert.equal(ipv4Mask(1), 0x80000000);
});

Deno.test("parseIpv4Prefix() treats a bare address as /32", () => {
  assert.deepEqual(parseIpv4Prefix("192.0.2.7"), { addr: 0xc0000207, len: 32 });
  assert.deepEqual(parseIpv4Prefix("192.0.2.0/24"), { addr: 0xc0000200, len: 24 });
  assert.deepEqual(parseIpv4Prefix("0.0.0.0/0"), { addr: 0, len: 0 });
});

Deno.test("parseIpv4Prefix() rejects host bits, bad lengths and bad addresses", () => {
  for (
    const bad of [
      "192.0.2.1/24",
      "192.0.2.0/33",
      "192.0.2.0/",
      "192.0.2.0/024",
      "x/24",
      "1.2.3.4/a",
    ]
  ) {
    assert.equal(parseIpv4Prefix(bad), null, bad);
    assert.notEqual(ipv4PrefixProblem(bad), null, bad);
  }
});

Deno.test("ipv4PrefixProblem() suggests the network for host bits set", () => {
  assert.equal(ipv4PrefixProblem("192.0.2.1/24"), "host bits set (did you mean 192.0.2.0/24?)");
  assert.equal(ipv4PrefixProblem("198.51.100.77/0"), "host bits set (did you mean 0.0.0.0/0?)");
  assert.equal(ipv4PrefixProblem("192.0.2.0/24"), null);
  assert.match(ipv4PrefixProblem("192.0.2.0/40")!, /0 to 32/);
});

Deno.test("formatIpv4Prefix() writes CIDR text", () => {
  assert.equal(formatIpv4Prefix({ addr: 0xc0000200, len: 24 }), "192.0.2.0/24");
  assert.equal(formatIpv4Prefix(parseIpv4Prefix("198.51.100.9")!), "198.51.100.9/32");
});

Deno.test("ipv4InPrefix() checks the first len bits", () => {
  const p = parseIpv4Prefix("192.0.2.0/24")!;
  assert.equal(ipv4InPrefix(parseIpv4("192.0.2.0")!, p), true);
  assert.equal(ipv4InPrefix(parseIpv4("192.0.2.255")!, p), true);
  assert.equal(ipv4InPrefix(parseIpv4("192.0.3.0")!, p), false);
  assert.equal(ipv4InPrefix(parseIpv4("192.0.1.255")!, p), false);
  const all = parseIpv4Prefix("0.0.0.0/0")!;
  assert.equal(ipv4InPrefix(0xffffffff, all), true);
  const host = parseIpv4Prefix("255.255.255.255")!;
  assert.equal(ipv4InPrefix(0xffffffff, host), true);
  assert.equal(ipv4InPrefix(0xfffffffe, host), false);
});

Deno.test("ipv4PrefixSize() counts addresses", () => {
  assert.equal(ipv4PrefixSize({ addr: 0, len: 32 }), 1);
  assert.equal(ipv4PrefixSize({ addr: 0, len: 24 }), 256);
  assert.equal(ipv4PrefixSize({ addr: 0, len: 0 }), 4294967296);
});

Deno.test("ipv4PrefixesOverlap() is true only for nested prefixes", () => {
  const p = (t: string) => parseIpv4Prefix(t)!;
  assert.equal(ipv4PrefixesOverlap(p("192.0.2.0/24"), p("192.0.2.128/25")), true);
  assert.equal(ipv4PrefixesOverlap(p("192.0.2.128/25"), p("192.0.2.0/24")), true);
  assert.equal(ipv4PrefixesOverlap(p("192.0.2.0/25"), p("192.0.2.128/25")), false);
  assert.equal(ipv4PrefixesOverlap(p("192.0.2.5"), p("192.0.2.5")), true);
  assert.equal(ipv4PrefixesOverlap(p("192.0.2.5"), p("192.0.2.6")), false);
  assert.equal(ipv4PrefixesOverlap(p("0.0.0.0/0"), p("203.0.113.9")), true);
});
