import { NOT_IPV4 } from "../../lib/addr/rfc6052.ts";
import assert from "node:assert/strict";
import { formatIpv4, parseIpv4, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { formatIpv6, parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { type StaticMap, StaticMapTable } from "../../lib/lease/static_map.ts";

function map(v4: string, v6: string): StaticMap {
  const p4 = parseIpv4Prefix(v4);
  const p6 = parseIpv6Prefix(v6);
  assert.ok(p4 && p6, `bad test prefix ${v4} / ${v6}`);
  return { v4: p4, v6: p6 };
}

function v4(text: string): number {
  const a = parseIpv4(text);
  assert.ok(a !== null, text);
  return a;
}

function v6(text: string): Uint8Array {
  const a = parseIpv6(text);
  assert.ok(a !== null, text);
  return a;
}

/** 6->4 through the table, with the address placed at an odd offset. */
function to4(t: StaticMapTable, addr6: string): string | null {
  const buf = new Uint8Array(40).fill(0xa5);
  buf.set(v6(addr6), 7);
  const r = t.v4For6(buf, 7);
  return r === NOT_IPV4 ? null : formatIpv4(r);
}

/** 4->6 through the table into a 0xa5-filled buffer; checks nothing outside the 16 bytes changed. */
function to6(t: StaticMapTable, addr4: string): string | null {
  const out = new Uint8Array(40).fill(0xa5);
  const r = t.v6For4(v4(addr4), out, 11);
  for (let i = 0; i < out.length; i++) {
    if (r === 0 || i < 11 || i >= 27) assert.equal(out[i], 0xa5, `byte ${i} touched`);
  }
  return r === 0 ? null : formatIpv6(out, 11);
}

// RFC 7757 §3.2 / Appendix A examples.
const RFC7757 = [
  { eam: ["198.51.100.0/24", "2001:db8:bbbb::/120"], v4: "198.51.100.5", v6: "2001:db8:bbbb::5" },
  { eam: ["203.0.113.8/29", "2001:db8:cccc::/125"], v4: "203.0.113.9", v6: "2001:db8:cccc::1" },
  { eam: ["192.0.2.0/24", "2001:db8:1c0:2::/72"], v4: "192.0.2.33", v6: "2001:db8:1c0:2:21::" },
];

for (const { eam, v4: a4, v6: a6 } of RFC7757) {
  Deno.test(`StaticMapTable maps ${a4} <-> ${a6} through EAM ${eam[0]} <-> ${eam[1]} (RFC 7757)`, () => {
    const t = new StaticMapTable([map(eam[0]!, eam[1]!)]);
    assert.equal(to6(t, a4), a6);
    assert.equal(to4(t, a6), a4);
  });
}

Deno.test("StaticMapTable ignores IPv6 bits after the copied suffix (RFC 7757 §3.2)", () => {
  const t = new StaticMapTable([map("192.0.2.0/24", "2001:db8:1c0:2::/72")]);
  assert.equal(to4(t, "2001:db8:1c0:2:21:ffff:1:2"), "192.0.2.33");
  // Bits 64..71 belong to the /72 prefix: a different value there is no match.
  assert.equal(to4(t, "2001:db8:1c0:2:ff21::"), null);
});

Deno.test("StaticMapTable copies a whole IPv4 address across a word boundary (/0 <-> /80)", () => {
  const t = new StaticMapTable([map("0.0.0.0/0", "2001:db8::/80")]);
  // Bits 80..111 are groups 5 and 6: c000 and 0201.
  assert.equal(to6(t, "192.0.2.1"), "2001:db8::c000:201:0");
  assert.equal(to4(t, "2001:db8::c000:201:0"), "192.0.2.1");
  assert.equal(to4(t, "2001:db8::ffff:ffff:ffff"), "255.255.255.255");
});

Deno.test("StaticMapTable maps a word-aligned /0 <-> /96 pair", () => {
  const t = new StaticMapTable([map("0.0.0.0/0", "64:ff9b::/96")]);
  assert.equal(to6(t, "198.51.100.7"), "64:ff9b::c633:6407");
  assert.equal(to4(t, "64:ff9b::c633:6407"), "198.51.100.7");
});

Deno.test("StaticMapTable maps single address pairs and nothing around them", () => {
  const t = new StaticMapTable([map("192.0.2.7/32", "2001:db8::77/128")]);
  assert.equal(to6(t, "192.0.2.7"), "2001:db8::77");
  assert.equal(to4(t, "2001:db8::77"), "192.0.2.7");
  assert.equal(to6(t, "192.0.2.6"), null);
  assert.equal(to6(t, "192.0.2.8"), null);
  assert.equal(to4(t, "2001:db8::76"), null);
  assert.equal(to4(t, "2001:db8::78"), null);
});

Deno.test("StaticMapTable picks the longest matching prefix in both directions", () => {
  const t = new StaticMapTable([
    map("192.0.2.0/24", "2001:db8:a::/120"),
    map("192.0.2.128/25", "2001:db8:b::/121"),
    map("192.0.2.200/32", "2001:db8:c::1/128"),
  ]);
  assert.equal(to6(t, "192.0.2.5"), "2001:db8:a::5");
  assert.equal(to6(t, "192.0.2.129"), "2001:db8:b::1");
  assert.equal(to6(t, "192.0.2.200"), "2001:db8:c::1");
  assert.equal(to4(t, "2001:db8:b::1"), "192.0.2.129");
  assert.equal(to4(t, "2001:db8:c::1"), "192.0.2.200");
  assert.equal(t.match4(v4("192.0.2.200")), 2);
  assert.equal(t.match4(v4("192.0.2.130")), 1);
  assert.equal(t.match4(v4("192.0.3.1")), -1);
  assert.equal(t.covers4(v4("192.0.2.0")), true);
  assert.equal(t.covers4(v4("192.0.1.255")), false);
});

Deno.test("StaticMapTable longest match on the IPv6 side prefers the more specific entry", () => {
  const t = new StaticMapTable([
    map("10.0.0.0/8", "2001:db8::/104"),
    map("198.51.100.9/32", "2001:db8::5/128"),
  ]);
  assert.equal(to4(t, "2001:db8::5"), "198.51.100.9");
  assert.equal(to4(t, "2001:db8::6"), "10.0.0.6");
  assert.equal(to4(t, "2001:db8::a00:6"), null);
});

Deno.test("StaticMapTable with no entries maps nothing", () => {
  const t = new StaticMapTable([]);
  assert.equal(t.count, 0);
  assert.equal(to4(t, "2001:db8::1"), null);
  assert.equal(to6(t, "192.0.2.1"), null);
});

Deno.test("StaticMapTable rejects an IPv6 suffix shorter than the IPv4 suffix (RFC 7757 §3.2)", () => {
  assert.throws(
    () => new StaticMapTable([map("192.0.2.0/24", "2001:db8::/121")]),
    /staticMaps\[0\].*RFC 7757/,
  );
});

Deno.test("StaticMapTable rejects host bits and bad lengths", () => {
  assert.throws(
    () =>
      new StaticMapTable([{
        v4: { addr: v4("192.0.2.1"), len: 24 },
        v6: parseIpv6Prefix("::/104")!,
      }]),
    /host bits/,
  );
  assert.throws(
    () => new StaticMapTable([{ v4: { addr: 0, len: 33 }, v6: parseIpv6Prefix("::/128")! }]),
    /0\.\.32/,
  );
  assert.throws(
    () =>
      new StaticMapTable([{
        v4: parseIpv4Prefix("0.0.0.0/32")!,
        v6: { addr: v6("::1"), len: 64 },
      }]),
    /host bits/,
  );
});

Deno.test("StaticMapTable rejects two entries with the same IPv4 or IPv6 prefix", () => {
  assert.throws(
    () => new StaticMapTable([map("192.0.2.1", "2001:db8::1"), map("192.0.2.1", "2001:db8::2")]),
    /staticMaps\[1\]: same IPv4 prefix as staticMaps\[0\]/,
  );
  assert.throws(
    () => new StaticMapTable([map("192.0.2.1", "2001:db8::1"), map("192.0.2.2", "2001:db8::1")]),
    /staticMaps\[1\]: same IPv6 prefix as staticMaps\[0\]/,
  );
});

Deno.test("StaticMapTable finds every one of many single-address pairs", () => {
  const maps: StaticMap[] = [];
  for (let i = 0; i < 500; i++) {
    maps.push(
      map(`10.1.${i >> 8}.${i & 255}`, `2001:db8:5::${(((i + 1) * 7919) & 0xffff).toString(16)}`),
    );
  }
  const t = new StaticMapTable(maps);
  for (let i = 0; i < 500; i++) {
    assert.equal(
      to6(t, `10.1.${i >> 8}.${i & 255}`),
      `2001:db8:5::${(((i + 1) * 7919) & 0xffff).toString(16)}`,
    );
    assert.equal(
      to4(t, `2001:db8:5::${(((i + 1) * 7919) & 0xffff).toString(16)}`),
      `10.1.${i >> 8}.${i & 255}`,
    );
  }
  assert.equal(to6(t, "10.1.1.244"), null);
});
