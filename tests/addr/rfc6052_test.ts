import assert from "node:assert/strict";
import { formatIpv6, parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { parseIpv4 } from "../../lib/addr/ipv4.ts";
import {
  embedIpv4,
  extractIpv4,
  isRfc6052Length,
  matchesPrefix,
  NOT_IPV4,
  RFC6052_LENGTHS,
} from "../../lib/addr/rfc6052.ts";

/** RFC 6052 §2.4 table for 192.0.2.33, written out from the RFC. */
const RFC_TABLE: [prefix: string, embedded: string][] = [
  ["2001:db8::/32", "2001:db8:c000:221::"],
  ["2001:db8:100::/40", "2001:db8:1c0:2:21::"],
  ["2001:db8:122::/48", "2001:db8:122:c000:2:2100::"],
  ["2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"],
  ["2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"],
  ["2001:db8:122:344::/96", "2001:db8:122:344::c000:221"],
  ["64:ff9b::/96", "64:ff9b::c000:221"],
];

/** Embeds at offset 3 of a 0xa5-filled buffer so a forgotten byte shows. */
function embedText(prefixText: string, v4: number): string {
  const p = parseIpv6Prefix(prefixText)!;
  const out = new Uint8Array(24).fill(0xa5);
  embedIpv4(p.addr, p.len, v4, out, 3);
  assert.equal(out[2], 0xa5, "byte before the address untouched");
  assert.equal(out[19], 0xa5, "byte after the address untouched");
  return formatIpv6(out, 3);
}

Deno.test("embedIpv4() matches the RFC 6052 §2.4 table for 192.0.2.33", () => {
  for (const [prefix, embedded] of RFC_TABLE) {
    assert.equal(embedText(prefix, 0xc0000221), embedded, prefix);
  }
});

Deno.test("extractIpv4() recovers 192.0.2.33 from the RFC 6052 §2.4 table", () => {
  for (const [prefix, embedded] of RFC_TABLE) {
    const p = parseIpv6Prefix(prefix)!;
    const buf = new Uint8Array(20);
    buf.set(parseIpv6(embedded)!, 4);
    assert.equal(matchesPrefix(buf, 4, p.addr, p.len), true, prefix);
    assert.equal(extractIpv4(buf, 4, p.len) >>> 0, 0xc0000221, prefix);
  }
});

Deno.test("extractIpv4() returns NOT_IPV4 for a non-zero u-octet below /96", () => {
  for (const len of [32, 40, 48, 56, 64]) {
    const buf = new Uint8Array(16);
    embedIpv4(parseIpv6("2001:db8::")!, len, 0xc0000221, buf, 0);
    buf[8] = 0x01;
    assert.equal(extractIpv4(buf, 0, len), NOT_IPV4, `/${len}`);
  }
});

Deno.test("extractIpv4() ignores byte 8 for /96, where it belongs to the prefix", () => {
  const p = parseIpv6Prefix("2001:db8:0:0:100::/96")!;
  const buf = new Uint8Array(16);
  embedIpv4(p.addr, p.len, 0xcb007101, buf, 0);
  assert.equal(buf[8], 0x01);
  assert.equal(extractIpv4(buf, 0, 96) >>> 0, 0xcb007101);
});

Deno.test("embedIpv4() and extractIpv4() round-trip edge addresses at every length", () => {
  const prefix = parseIpv6("2001:db8:122:344::")!; // zero from byte 8 on
  for (const len of RFC6052_LENGTHS) {
    for (const v4 of [0, 1, 0x7fffffff, 0x80000000, 0xc0000221, 0xffffffff]) {
      const buf = new Uint8Array(16).fill(0xa5);
      embedIpv4(prefix, len, v4, buf, 0);
      assert.equal(buf[8], len === 96 ? prefix[8] : 0, "u-octet");
      assert.equal(extractIpv4(buf, 0, len) >>> 0, v4, `/${len} ${v4}`);
    }
  }
});

Deno.test("matchesPrefix() rejects addresses outside the prefix", () => {
  const p = parseIpv6Prefix("64:ff9b::/96")!;
  assert.equal(matchesPrefix(parseIpv6("64:ff9b::1:c000:221")!, 0, p.addr, p.len), false);
  assert.equal(matchesPrefix(parseIpv6("64:ff9a::c000:221")!, 0, p.addr, p.len), false);
  assert.equal(matchesPrefix(parseIpv6("64:ff9b::192.0.2.33")!, 0, p.addr, p.len), true);
});

Deno.test("isRfc6052Length() accepts only the six RFC 6052 §2.2 lengths", () => {
  for (let len = 0; len <= 128; len++) {
    assert.equal(isRfc6052Length(len), [32, 40, 48, 56, 64, 96].includes(len), `/${len}`);
  }
  assert.deepEqual([...RFC6052_LENGTHS], [32, 40, 48, 56, 64, 96]);
});

// Jool's copy of the RFC 6052 §2.4 table, kept in ../shared (outside the repository).
const VECTORS_URL = new URL(
  "../../../shared/conformance/jool/rfc6052-vectors.json",
  import.meta.url,
);
let vectorsText: string | null = null;
try {
  vectorsText = await Deno.readTextFile(VECTORS_URL);
} catch {
  console.warn("skipping: ../shared absent (rfc6052-vectors.json not readable)");
}

interface JoolVector {
  prefix: string;
  ipv4: string;
  ipv6: string;
  ipv6Canonical: string;
}

Deno.test({
  name: "embedIpv4() and extractIpv4() agree with Jool's rfc6052-vectors.json",
  ignore: vectorsText === null,
  fn() {
    const vectors = (JSON.parse(vectorsText!) as { vectors: JoolVector[] }).vectors;
    assert.ok(vectors.length >= 6);
    for (const v of vectors) {
      const p = parseIpv6Prefix(v.prefix)!;
      const v4 = parseIpv4(v.ipv4)!;
      const out = new Uint8Array(16).fill(0xa5);
      embedIpv4(p.addr, p.len, v4, out, 0);
      assert.deepEqual(out, parseIpv6(v.ipv6), v.prefix);
      assert.equal(formatIpv6(out), v.ipv6Canonical, v.prefix);
      assert.equal(extractIpv4(parseIpv6(v.ipv6)!, 0, p.len) >>> 0, v4, v.prefix);
    }
  },
});
