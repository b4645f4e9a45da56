import assert from "node:assert/strict";
import {
  checkConfig,
  type CheckConfigSuccess,
  formatTranslateSummary,
  translateFile,
} from "../../lib/cli/commands.ts";
import { formatConfig, parseConfig } from "../../lib/config/config.ts";
import { readCapture } from "../../lib/pcap/reader.ts";
import { ipv4HeaderChecksumValid, l4ChecksumValid, toHex } from "../_util/packets.ts";
import {
  captureOf,
  CONFIG_TEXT,
  HOP_LIMIT_1,
  OUTSIDE_PREFIX,
  THREE_PACKET_SUMMARY,
  THREE_PACKETS,
  TO_PREFIX,
} from "./fixture.ts";

const PCAP_HEADER_BYTES = 24;

function config(): CheckConfigSuccess["config"] {
  const r = checkConfig(CONFIG_TEXT, "c.toml");
  assert.ok(r.ok);
  return r.config;
}

Deno.test("the fixture packets carry valid UDP checksums", () => {
  for (const p of THREE_PACKETS) assert.equal(l4ChecksumValid(p), true);
});

Deno.test("checkConfig() returns the effective configuration text", () => {
  const r = checkConfig(CONFIG_TEXT, "c.toml");
  assert.ok(r.ok);
  assert.equal(r.text, formatConfig(parseConfig(CONFIG_TEXT)));
  assert.match(r.text, /^SendDropErrors = false$/m);
  assert.match(r.text, /^Prefix = "2001:db8:64::\/96"$/m);
});

Deno.test("checkConfig() returns every problem, under a header naming the file", () => {
  const r = checkConfig('[Interface]\nPool = ["192.0.2.300"]\nMTU = 10\n', "bad.toml");
  assert.ok(!r.ok);
  const lines = r.message.split("\n");
  assert.equal(lines[0], "bad.toml: 2 configuration problems:");
  assert.ok(lines.some((l) => l.startsWith("Interface.Pool[0] = ")), r.message);
  assert.ok(lines.some((l) => l.startsWith("Interface.MTU = 10: ")), r.message);
});

Deno.test("checkConfig() reports a TOML syntax error with its line", () => {
  const r = checkConfig("[Interface]\nPool = [\n", "broken.toml");
  assert.ok(!r.ok);
  assert.match(r.message, /^broken\.toml: 1 configuration problem:\nTOML syntax error at line \d+/);
});

Deno.test("translateFile() translates one packet, answers one with Time Exceeded, counts two drops", () => {
  const r = translateFile({
    config: config(),
    capture: captureOf(...THREE_PACKETS),
    capturePath: "in.pcap",
  });
  assert.ok(r.ok);
  assert.equal(r.summary, THREE_PACKET_SUMMARY);
  assert.equal(r.result.packetsIn, 3);
  assert.equal(r.result.packetsOut, 2);
  const out = readCapture(r.result.pcap);
  assert.equal(out.packets.length, 2);
  const p = out.packets[0]!.data;
  // RFC 7915 §5.1: IPv4 header, TTL = Hop Limit − 1, destination extracted from the prefix,
  // source leased from the pool; the UDP datagram itself is unchanged but for its checksum.
  assert.equal(p.length, 20 + 12);
  assert.equal(p[0], 0x45);
  assert.equal(p[8], 63);
  assert.equal(p[9], 17);
  assert.equal(toHex(p.subarray(12, 15)), "c00002", "source in 192.0.2.0/24");
  assert.equal(toHex(p.subarray(16, 20)), "c6336401", "destination 198.51.100.1");
  assert.equal(toHex(p.subarray(20, 26)), toHex(TO_PREFIX.subarray(40, 46)), "ports, length");
  assert.equal(toHex(p.subarray(28)), toHex(TO_PREFIX.subarray(48)), "payload");
  assert.ok(ipv4HeaderChecksumValid(p));
  assert.equal(l4ChecksumValid(p), true);
  // RFC 4443 §3.3: Time Exceeded (type 3, code 0) back to the source, quoting the packet.
  const e = out.packets[1]!.data;
  assert.equal(e[0]! >> 4, 6);
  assert.equal(e[6], 58, "next header ICMPv6");
  assert.equal(toHex(e.subarray(24, 40)), toHex(HOP_LIMIT_1.subarray(8, 24)), "to the source");
  assert.deepEqual([e[40], e[41]], [3, 0]);
  assert.equal(toHex(e.subarray(48)), toHex(HOP_LIMIT_1), "quotes the whole packet");
  assert.equal(l4ChecksumValid(e), true);
});

Deno.test("translateFile() writes only the pcap header when every packet is dropped", () => {
  const r = translateFile({
    config: config(),
    capture: captureOf(OUTSIDE_PREFIX),
    capturePath: "in.pcap",
  });
  assert.ok(r.ok);
  assert.equal(r.result.pcap.length, PCAP_HEADER_BYTES);
  assert.equal(readCapture(r.result.pcap).packets.length, 0);
  assert.equal(r.summary, "translate: 1 packet in, 0 out; dropped: not_in_prefix 1");
});

Deno.test("translateFile() reports a capture it cannot read, naming the file and offset", () => {
  const r = translateFile({
    config: config(),
    capture: new TextEncoder().encode("not a capture"),
    capturePath: "x.pcap",
  });
  assert.ok(!r.ok);
  assert.match(r.message, /^x\.pcap: .* at offset 0$/);
});

Deno.test("translateFile() reports a truncated capture at the offset of its last record", () => {
  const whole = captureOf(TO_PREFIX);
  const r = translateFile({
    config: config(),
    capture: whole.subarray(0, whole.length - 1),
    capturePath: "cut.pcap",
  });
  assert.ok(!r.ok);
  assert.match(r.message, new RegExp(`^cut\\.pcap: .* at offset ${PCAP_HEADER_BYTES}$`));
});

Deno.test("formatTranslateSummary() says 'none' when nothing was dropped", () => {
  const line = formatTranslateSummary({
    pcap: new Uint8Array(PCAP_HEADER_BYTES),
    packetsIn: 0,
    packetsOut: 0,
    skipped: 0,
    drops: {},
    stats: {},
  });
  assert.equal(line, "translate: 0 packets in, 0 out; dropped: none");
});

Deno.test("formatTranslateSummary() mentions records that were not IP packets", () => {
  const line = formatTranslateSummary({
    pcap: new Uint8Array(PCAP_HEADER_BYTES),
    packetsIn: 2,
    packetsOut: 1,
    skipped: 3,
    drops: { no_mapping: 1 },
    stats: {},
  });
  assert.equal(
    line,
    "translate: 2 packets in (3 non-IP records skipped), 1 out; dropped: no_mapping 1",
  );
});
