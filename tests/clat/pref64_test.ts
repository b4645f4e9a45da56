// The PREF64 option (RFC 8781 §4) and the RTM_NEWNDUSEROPT payload Linux hands user space
// (struct nduseroptmsg, linux/rtnetlink.h), from literal bytes. The message layout is the
// one `ip monitor` decodes: the kernel's own bytes for an RA carrying PREF64 64:ff9b::/96.
import assert from "node:assert/strict";
import { formatIpv6, formatIpv6Prefix, parseIpv6 } from "../../lib/addr/ipv6.ts";
import {
  ndOptions,
  parseNdUserOpt,
  parsePref64Option,
  type Pref64Sighting,
  pref64Sightings,
  Pref64Tracker,
} from "../../lib/clat/pref64.ts";
import { hex } from "../_util/packets.ts";

// deno-fmt-ignore
const PREF64_WKP_1800 = hex(
  "2602" + "0708" + // Type 38, Length 2 | Scaled Lifetime 225 (1800 s), PLC 0 (/96)
  "0064ff9b" + // highest 96 bits of the prefix
  "00000000" +
  "00000000",
);

// deno-fmt-ignore
const NDUSEROPT_MSG = hex(
  "0a00" + "1000" + // family AF_INET6, pad1 | opts_len 16 (little-endian)
  "07000000" + // ifindex 7
  "8600" + "0000" + // icmp_type 134 (RA), icmp_code 0 | pad2
  "00000000" + // pad3
  "26020708" + "0064ff9b" + "00000000" + "00000000" + // the PREF64 option
  "1400" + "0100" + // NDUSEROPT_SRCADDR, 20 bytes
  "fe800000" + "00000000" + "00000000" + "00000001", // fe80::1
);

Deno.test("clat pref64: parsePref64Option() reads 64:ff9b::/96 with a lifetime of 1800 s", () => {
  const r = parsePref64Option(PREF64_WKP_1800, 0, PREF64_WKP_1800.length);
  assert.ok(r.ok);
  assert.equal(formatIpv6Prefix(r.value.prefix), "64:ff9b::/96");
  assert.equal(r.value.lifetimeSecs, 1800);
});

Deno.test("clat pref64: parsePref64Option() maps each PLC to its length and clears the bits past it", () => {
  const want = [96, 64, 56, 48, 40, 32];
  for (let plc = 0; plc < 6; plc++) {
    // deno-fmt-ignore
    const opt = hex(
      "2602" + (0x0010 | plc).toString(16).padStart(4, "0") + // lifetime 2 × 8 s, PLC
      "20010db8" + "11223344" + "55667788", // every byte set, so cleared bits show
    );
    const r = parsePref64Option(opt, 0, opt.length);
    assert.ok(r.ok, `PLC ${plc}`);
    assert.equal(r.value.prefix.len, want[plc]);
    assert.equal(r.value.lifetimeSecs, 16);
    const full = parseIpv6("2001:db8:1122:3344:5566:7788::")!;
    const len = want[plc]!;
    for (let bit = 0; bit < 128; bit++) {
      const m = 0x80 >>> (bit & 7);
      const expected = bit < len ? full[bit >>> 3]! & m : 0;
      assert.equal(r.value.prefix.addr[bit >>> 3]! & m, expected, `PLC ${plc} bit ${bit}`);
    }
  }
  // PLC 2 (/56): 2001:db8:1122:3300::/56.
  const r = parsePref64Option(hex("26020012" + "20010db8" + "11223344" + "55667788"), 0, 16);
  assert.ok(r.ok);
  assert.equal(formatIpv6Prefix(r.value.prefix), "2001:db8:1122:3300::/56");
});

Deno.test("clat pref64: parsePref64Option() reads a Scaled Lifetime of 0 (a withdrawal) and of 8191", () => {
  const zero = parsePref64Option(hex("26020000" + "0064ff9b" + "00000000" + "00000000"), 0, 16);
  assert.ok(zero.ok);
  assert.equal(zero.value.lifetimeSecs, 0);
  const max = parsePref64Option(hex("2602fff8" + "0064ff9b" + "00000000" + "00000000"), 0, 16);
  assert.ok(max.ok);
  assert.equal(max.value.lifetimeSecs, 8191 * 8);
});

Deno.test("clat pref64: parsePref64Option() rejects each malformed shape with a reason", () => {
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["PLC 6", hex("26020716" + "0064ff9b" + "00000000" + "00000000"), 16, /PLC 6/],
    ["PLC 7", hex("26020717" + "0064ff9b" + "00000000" + "00000000"), 16, /PLC 7/],
    ["Length 1", hex("26010708" + "0064ff9b"), 8, /Length 1, not 2/],
    [
      "Length 3",
      hex("26030708" + "0064ff9b" + "00000000" + "00000000" + "0000000000000000"),
      24,
      /Length 3/,
    ],
    ["truncated", hex("26020708" + "0064ff9b" + "00000000"), 12, /truncated/],
    ["one byte", hex("26"), 1, /truncated/],
    ["other type", hex("19030000" + "00000e10" + "20010db8" + "00000000"), 16, /type 25/],
  ];
  for (const [name, bytes, len, reason] of cases) {
    const r = parsePref64Option(bytes, 0, len);
    assert.ok(!r.ok, name);
    assert.match(r.reason, reason, name);
  }
});

Deno.test("clat pref64: parseNdUserOpt() reads family, ifindex, ICMP type, the option and the router", () => {
  const r = parseNdUserOpt(NDUSEROPT_MSG, 0, NDUSEROPT_MSG.length);
  assert.ok(r.ok);
  assert.equal(r.value.family, 10);
  assert.equal(r.value.ifindex, 7);
  assert.equal(r.value.icmpType, 134);
  assert.equal(r.value.icmpCode, 0);
  assert.equal(r.value.options.length, 16);
  assert.equal(r.value.options[0], 38);
  assert.equal(formatIpv6(r.value.router!), "fe80::1");
});

Deno.test("clat pref64: parseNdUserOpt() rejects a truncated header, opts_len past the end and a bad attribute", () => {
  const short = parseNdUserOpt(NDUSEROPT_MSG, 0, 12);
  assert.ok(!short.ok);
  assert.match(short.reason, /truncated/);
  const long = NDUSEROPT_MSG.slice(0, 16 + 16);
  long[2] = 24; // opts_len 24 > the 16 bytes present
  const r = parseNdUserOpt(long, 0, long.length);
  assert.ok(!r.ok);
  assert.match(r.reason, /opts_len 24/);
  const badAttr = NDUSEROPT_MSG.slice();
  badAttr[32] = 0x40; // rta_len 64, past the end
  const a = parseNdUserOpt(badAttr, 0, badAttr.length);
  assert.ok(!a.ok);
  assert.match(a.reason, /bad length 64/);
  const shortAddr = hex(
    "0a001000" + "07000000" + "86000000" + "00000000" +
      "26020708" + "0064ff9b" + "00000000" + "00000000" + "0800" + "0100" + "fe800000",
  );
  const s = parseNdUserOpt(shortAddr, 0, shortAddr.length);
  assert.ok(!s.ok);
  assert.match(s.reason, /4 bytes, not 16/);
});

Deno.test("clat pref64: ndOptions() splits options and rejects Length 0 and an overrun", () => {
  const two = hex("0101" + "020304050607" + "2602" + "0708" + "0064ff9b" + "00000000" + "00000000");
  const r = ndOptions(two, 0, two.length);
  assert.ok(r.ok);
  assert.deepEqual(r.value.map((o) => [o.type, o.off, o.len]), [[1, 0, 8], [38, 8, 16]]);
  const zero = ndOptions(hex("26000000"), 0, 4);
  assert.ok(!zero.ok);
  assert.match(zero.reason, /Length 0/);
  const over = ndOptions(hex("26020708" + "0064ff9b"), 0, 8);
  assert.ok(!over.ok);
  assert.match(over.reason, /runs past the end/);
});

Deno.test("clat pref64: pref64Sightings() takes PREF64 from an RA and ignores other messages", () => {
  const { sightings, problems } = pref64Sightings(NDUSEROPT_MSG, 0, NDUSEROPT_MSG.length);
  assert.deepEqual(problems, []);
  assert.equal(sightings.length, 1);
  assert.equal(formatIpv6Prefix(sightings[0]!.option.prefix), "64:ff9b::/96");
  assert.equal(sightings[0]!.ifindex, 7);
  // The same option from a Redirect (ICMPv6 137) is not an RA's.
  const redirect = NDUSEROPT_MSG.slice();
  redirect[8] = 137;
  assert.equal(pref64Sightings(redirect, 0, redirect.length).sightings.length, 0);
  // An RDNSS option (type 25) is not PREF64.
  const rdnss = NDUSEROPT_MSG.slice();
  rdnss[16] = 25;
  assert.equal(pref64Sightings(rdnss, 0, rdnss.length).sightings.length, 0);
  // A PREF64 with PLC 7 is reported, not taken.
  const bad = NDUSEROPT_MSG.slice();
  bad[19] = 0x0f;
  const b = pref64Sightings(bad, 0, bad.length);
  assert.equal(b.sightings.length, 0);
  assert.match(b.problems[0]!, /from fe80::1 ignored: PLC 7/);
});

function seen(router: string, prefix: string, lifetimeSecs: number): Pref64Sighting {
  const [a, l] = prefix.split("/");
  return {
    router: parseIpv6(router)!,
    ifindex: 2,
    option: { prefix: { addr: parseIpv6(a!)!, len: Number(l) }, lifetimeSecs },
  };
}

function text(p: { addr: Uint8Array; len: number } | null): string | null {
  return p === null ? null : formatIpv6Prefix(p);
}

Deno.test("clat pref64: Pref64Tracker keeps a prefix for its lifetime, refreshes it, and a lifetime of 0 withdraws it", () => {
  const t = new Pref64Tracker();
  t.observe(seen("fe80::1", "64:ff9b::/96", 600), 0);
  assert.equal(text(t.current(599_999)), "64:ff9b::/96");
  assert.equal(t.nextExpiryMs(), 600_000);
  assert.equal(t.expire(599_999), false);
  assert.equal(t.expire(600_000), true);
  assert.equal(t.current(600_000), null);

  t.observe(seen("fe80::1", "64:ff9b::/96", 600), 1000);
  t.observe(seen("fe80::1", "64:ff9b::/96", 600), 500_000); // refresh
  assert.equal(t.nextExpiryMs(), 1_100_000);
  assert.equal(text(t.current(700_000)), "64:ff9b::/96");
  t.observe(seen("fe80::1", "64:ff9b::/96", 0), 700_000);
  assert.equal(t.current(700_000), null);
  assert.equal(t.nextExpiryMs(), null);
});

Deno.test("clat pref64: Pref64Tracker keeps a prefix another router still advertises after one withdraws it", () => {
  const t = new Pref64Tracker();
  t.observe(seen("fe80::1", "2001:db8:64::/96", 600), 0);
  t.observe(seen("fe80::2", "2001:db8:64::/96", 60), 0);
  t.observe(seen("fe80::1", "2001:db8:64::/96", 0), 10_000);
  assert.equal(text(t.current(10_000)), "2001:db8:64::/96");
  assert.equal(t.entries().length, 1);
  assert.equal(t.entries()[0]!.router, "fe80::2");
  assert.equal(t.current(60_000), null); // fe80::2's lifetime ran out
});

Deno.test("clat pref64: Pref64Tracker moves to a newly advertised prefix and back when it goes", () => {
  const t = new Pref64Tracker();
  t.observe(seen("fe80::1", "64:ff9b::/96", 1800), 0);
  t.observe(seen("fe80::2", "2001:db8:64::/64", 1800), 5000);
  assert.equal(text(t.current(5000)), "2001:db8:64::/64");
  // Refreshes of the older prefix do not take it back.
  t.observe(seen("fe80::1", "64:ff9b::/96", 1800), 6000);
  assert.equal(text(t.current(6000)), "2001:db8:64::/64");
  t.observe(seen("fe80::2", "2001:db8:64::/64", 0), 7000);
  assert.equal(text(t.current(7000)), "64:ff9b::/96");
});
