import assert from "node:assert/strict";
import {
  formatIpv6,
  formatIpv6Prefix,
  ipv6Equal,
  ipv6InPrefix,
  ipv6PrefixesOverlap,
  ipv6PrefixProblem,
  parseIpv6,
  parseIpv6Prefix,
} from "../../lib/addr/ipv6.ts";

/** Builds 16 bytes from eight 16-bit groups, independently of the parser. */
function words(...w: number[]): Uint8Array {
  const out = new Uint8Array(16);
  w.forEach((v, i) => {
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

Deno.test("parseIpv6() reads every RFC 4291 §2.2 form", () => {
  const cases: [string, Uint8Array][] = [
    ["2001:db8:0:0:8:800:200c:417a", words(0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a)],
    ["2001:DB8::8:800:200C:417A", words(0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a)],
    ["ff01::101", words(0xff01, 0, 0, 0, 0, 0, 0, 0x101)],
    ["::1", words(0, 0, 0, 0, 0, 0, 0, 1)],
    ["::", words(0, 0, 0, 0, 0, 0, 0, 0)],
    ["1::", words(1, 0, 0, 0, 0, 0, 0, 0)],
    ["1:2:3:4:5:6:7::", words(1, 2, 3, 4, 5, 6, 7, 0)],
    ["::2:3:4:5:6:7:8", words(0, 2, 3, 4, 5, 6, 7, 8)],
    ["0:0:0:0:0:0:13.1.68.3", words(0, 0, 0, 0, 0, 0, 0x0d01, 0x4403)],
    ["::ffff:129.144.52.38", words(0, 0, 0, 0, 0, 0xffff, 0x8190, 0x3426)],
    ["64:ff9b::192.0.2.33", words(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x221)],
    ["1:2:3:4:5:6:1.2.3.4", words(1, 2, 3, 4, 5, 6, 0x102, 0x304)],
    ["0001:0002:0003:0004:0005:0006:0007:0008", words(1, 2, 3, 4, 5, 6, 7, 8)],
  ];
  for (const [text, bytes] of cases) assert.deepEqual(parseIpv6(text), bytes, text);
});

Deno.test("parseIpv6() rejects two '::'", () => {
  assert.equal(parseIpv6("1::2::3"), null);
  assert.equal(parseIpv6(":::"), null);
});

Deno.test("parseIpv6() rejects malformed text", () => {
  for (
    const bad of [
      "",
      ":",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "::1:2:3:4:5:6:7:8",
      "1::2:3:4:5:6:7:8",
      ":1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:",
      "12345::",
      "g::",
      "1.2.3.4::",
      "::1.2.3.4:5",
      "::1.2.3",
      "::1.2.3.256",
      "::01.2.3.4",
      "1:2:3:4:5:6:7:1.2.3.4",
      "fe80::1%eth0",
      "[::1]",
      " ::1",
      "::1/128",
      "1:2:3:4:5:6:7:8:1.2.3.4",
    ]
  ) {
    assert.equal(parseIpv6(bad), null, bad);
  }
});

Deno.test("formatIpv6() writes RFC 5952 canonical text", () => {
  const cases: [Uint8Array, string][] = [
    [words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), "2001:db8::1"], // §4.2.1 shortest
    [words(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), "2001:db8:0:1:1:1:1:1"], // §4.2.2 one group
    [words(0x2001, 0, 0, 1, 0, 0, 0, 1), "2001:0:0:1::1"], // §4.2.3 longest run
    [words(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), "2001:db8::1:0:0:1"], // §4.2.3 first on tie
    [
      words(0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0xaaaa),
      "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa",
    ], // §4.3 lower case
    [words(0, 0, 0, 0, 0, 0, 0, 0), "::"],
    [words(0, 0, 0, 0, 0, 0, 0, 1), "::1"],
    [words(1, 0, 0, 0, 0, 0, 0, 0), "1::"],
    [words(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x221), "64:ff9b::c000:221"],
    [words(1, 2, 3, 4, 5, 6, 7, 8), "1:2:3:4:5:6:7:8"],
    [words(0, 1, 0, 1, 0, 1, 0, 1), "0:1:0:1:0:1:0:1"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatIpv6(bytes), text);
});

Deno.test("formatIpv6() reads at an offset", () => {
  const buf = new Uint8Array(40).fill(0xa5);
  buf.set(words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x5), 24);
  assert.equal(formatIpv6(buf, 24), "2001:db8::5");
});

Deno.test("formatIpv6() and parseIpv6() round-trip canonical text", () => {
  for (
    const text of [
      "2001:db8::1",
      "::",
      "fe80::1:2",
      "2001:db8:122:344:c0:2:2100:0",
      "ff02::1:ff00:1",
    ]
  ) {
    assert.equal(formatIpv6(parseIpv6(text)!), text);
  }
});

Deno.test("parseIpv6Prefix() treats a bare address as /128", () => {
  assert.deepEqual(parseIpv6Prefix("2001:db8::5"), { addr: parseIpv6("2001:db8::5"), len: 128 });
  const p = parseIpv6Prefix("64:ff9b::/96")!;
  assert.equal(p.len, 96);
  assert.deepEqual(p.addr, words(0x64, 0xff9b, 0, 0, 0, 0, 0, 0));
  assert.equal(parseIpv6Prefix("::/0")!.len, 0);
});

Deno.test("parseIpv6Prefix() rejects host bits and bad lengths", () => {
  for (const bad of ["2001:db8::1/64", "2001:db8::/129", "2001:db8::/", "2001:db8::/096", "x/3"]) {
    assert.equal(parseIpv6Prefix(bad), null, bad);
    assert.notEqual(ipv6PrefixProblem(bad), null, bad);
  }
});

Deno.test("ipv6PrefixProblem() suggests the network for host bits set", () => {
  assert.equal(ipv6PrefixProblem("2001:db8::1/32"), "host bits set (did you mean 2001:db8::/32?)");
  assert.equal(
    ipv6PrefixProblem("2001:db8:1c6:3364:ff::/72"),
    "host bits set (did you mean 2001:db8:1c6:3364::/72?)",
  );
  assert.equal(ipv6PrefixProblem("2001:db8:1c6:3364::/72"), null);
  assert.match(ipv6PrefixProblem("::/200")!, /0 to 128/);
  assert.match(ipv6PrefixProblem("::g/8")!, /not an IPv6/);
});

Deno.test("formatIpv6Prefix() writes address/len", () => {
  assert.equal(formatIpv6Prefix(parseIpv6Prefix("64:ff9b::/96")!), "64:ff9b::/96");
  assert.equal(formatIpv6Prefix(parseIpv6Prefix("2001:DB8::5")!), "2001:db8::5/128");
});

Deno.test("ipv6InPrefix() compares whole and partial bytes at an offset", () => {
  const p = parseIpv6Prefix("2001:db8:1c6:3364::/72")!;
  const buf = new Uint8Array(48);
  buf.set(parseIpv6("2001:db8:1c6:3364:ff::1")!, 8);
  assert.equal(ipv6InPrefix(buf, 8, p), true); // byte 8 = 0x00 matches, byte 9 is host
  buf.set(parseIpv6("2001:db8:1c6:3364:100::")!, 8);
  assert.equal(ipv6InPrefix(buf, 8, p), false); // byte 8 = 0x01 differs
  buf.set(parseIpv6("2001:db8:1c6:3365::")!, 8);
  assert.equal(ipv6InPrefix(buf, 8, p), false);
  const odd = parseIpv6Prefix("2001:db8:8000::/33")!;
  assert.equal(ipv6InPrefix(parseIpv6("2001:db8:ffff::")!, 0, odd), true);
  assert.equal(ipv6InPrefix(parseIpv6("2001:db8:7fff::")!, 0, odd), false);
  assert.equal(ipv6InPrefix(parseIpv6("::1")!, 0, parseIpv6Prefix("::/0")!), true);
});

Deno.test("ipv6Equal() compares 16 bytes at offsets", () => {
  const a = new Uint8Array(32);
  const b = new Uint8Array(20);
  a.set(parseIpv6("2001:db8::5")!, 16);
  b.set(parseIpv6("2001:db8::5")!, 4);
  assert.equal(ipv6Equal(a, 16, b, 4), true);
  b[19] = 6;
  assert.equal(ipv6Equal(a, 16, b, 4), false);
});

Deno.test("ipv6PrefixesOverlap() is true only for nested prefixes", () => {
  const p = (t: string) => parseIpv6Prefix(t)!;
  assert.equal(ipv6PrefixesOverlap(p("2001:db8::/32"), p("2001:db8:1::/48")), true);
  assert.equal(ipv6PrefixesOverlap(p("2001:db8:1::/48"), p("2001:db8::/32")), true);
  assert.equal(ipv6PrefixesOverlap(p("2001:db8:1::/48"), p("2001:db8:2::/48")), false);
  assert.equal(ipv6PrefixesOverlap(p("2001:db8::5"), p("2001:db8::5")), true);
  assert.equal(ipv6PrefixesOverlap(p("2001:db8::5"), p("2001:db8::6")), false);
});
