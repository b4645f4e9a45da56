import assert from "node:assert/strict";
import { type Capture, PcapError, readCapture } from "../../lib/pcap/reader.ts";
import { hex, toHex } from "../_util/packets.ts";
import { sharedAvailableOrWarn, sharedPath } from "../_util/shared.ts";
import {
  cat,
  PCAP_BE_NANOS,
  PCAP_BE_TRUNCATED,
  PCAP_LE_MICROS,
  PCAP_LE_NANOS,
  PCAP_LOOP,
  PCAP_NULL,
  PCAP_SLL,
  PCAPNG_BE_SLL2_TWO_SECTIONS,
  PCAPNG_LE_ETHERNET_VLAN,
  V4,
  V6,
} from "./captures.ts";

/** [tsSecs, tsMicros, hex of data, origLength] per packet, for compact comparisons. */
function summary(capture: Capture): [number, number, string, number][] {
  return capture.packets.map((p) => [p.tsSecs, p.tsMicros, toHex(p.data), p.origLength]);
}

/** Call `fn`, which must throw a PcapError; return it. */
function pcapError(fn: () => unknown): PcapError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PcapError, `expected PcapError, got ${e}`);
    return e;
  }
  assert.fail("no PcapError thrown");
}

Deno.test("readCapture() reads a little-endian microsecond pcap of RAW packets", () => {
  const c = readCapture(PCAP_LE_MICROS);
  assert.equal(c.linkType, 101);
  assert.equal(c.skipped, 0);
  assert.deepEqual(summary(c), [
    [1700000000, 123456, toHex(V4), 32],
    [1, 999999, toHex(V6), 52],
  ]);
});

Deno.test("readCapture() reads a big-endian pcap and keeps the original length of a cut packet", () => {
  const c = readCapture(PCAP_BE_TRUNCATED);
  assert.equal(c.linkType, 101);
  assert.deepEqual(summary(c), [[2, 3, toHex(V4.subarray(0, 20)), 32]]);
});

Deno.test("readCapture() turns nanosecond timestamps into microseconds, either byte order", () => {
  const le = readCapture(PCAP_LE_NANOS);
  assert.deepEqual(summary(le), [[1700000000, 987654, toHex(V4), 32]]);
  const be = readCapture(PCAP_BE_NANOS);
  assert.equal(be.linkType, 229);
  assert.deepEqual(summary(be), [[1700000000, 987654, toHex(V6), 52]]);
});

Deno.test("readCapture() strips LINUX_SLL headers and skips non-IP protocols", () => {
  const c = readCapture(PCAP_SLL);
  assert.equal(c.linkType, 113);
  assert.deepEqual(summary(c), [[5, 6, toHex(V6), 52]]);
  assert.equal(c.skipped, 1);
});

Deno.test("readCapture() reads NULL families in either host byte order and skips others", () => {
  const c = readCapture(PCAP_NULL);
  assert.equal(c.linkType, 0);
  assert.deepEqual(summary(c), [
    [0, 0, toHex(V4), 32],
    [0, 1, toHex(V6), 52],
    [0, 2, toHex(V4), 32],
  ]);
  assert.equal(c.skipped, 1);
});

Deno.test("readCapture() reads LOOP families in network byte order", () => {
  const c = readCapture(PCAP_LOOP);
  assert.equal(c.linkType, 108);
  assert.deepEqual(summary(c), [
    [0, 0, toHex(V6), 52],
    [0, 1, toHex(V4), 32],
  ]);
});

Deno.test("readCapture() strips Ethernet, 802.1Q and 802.1ad tags and Ethernet padding in pcapng", () => {
  const c = readCapture(PCAPNG_LE_ETHERNET_VLAN);
  assert.equal(c.linkType, 1);
  assert.deepEqual(summary(c), [
    [1700000000, 123456, toHex(V4), 32],
    [0, 5, toHex(V6), 52],
  ]);
  assert.equal(c.skipped, 1, "the ARP frame");
});

Deno.test("readCapture() reads big-endian pcapng with SLL2, if_tsresol, SPB and a second section", () => {
  const c = readCapture(PCAPNG_BE_SLL2_TWO_SECTIONS);
  assert.equal(c.linkType, 276);
  assert.equal(c.skipped, 0);
  assert.deepEqual(summary(c), [
    [1700000000, 987654, toHex(V4), 32],
    [3, 7, toHex(V6), 52],
    [0, 0, toHex(V6), 52],
    [0, 9, toHex(V4), 32],
  ]);
});

Deno.test("readCapture() returns views of the input, not copies", () => {
  const file = PCAP_LE_MICROS.slice();
  const c = readCapture(file);
  assert.equal(c.packets[0]!.data.buffer, file.buffer);
  assert.equal(c.packets[0]!.data.byteOffset, 40);
});

Deno.test("readCapture() reads an empty capture (header only)", () => {
  const c = readCapture(PCAP_LE_MICROS.subarray(0, 24));
  assert.equal(c.linkType, 101);
  assert.deepEqual(c.packets, []);
});

Deno.test("readCapture() names the offset of a truncated record", () => {
  // Second record header starts at 24 + 16 + 32 = 72; its data at 88.
  const cutData = pcapError(() => readCapture(PCAP_LE_MICROS.subarray(0, 72 + 16 + 51)));
  assert.equal(cutData.offset, 72);
  assert.match(cutData.message, /captured length 52 but 51 bytes remain at offset 72$/);
  const cutHeader = pcapError(() => readCapture(PCAP_LE_MICROS.subarray(0, 72 + 10)));
  assert.equal(cutHeader.offset, 72);
  assert.match(cutHeader.message, /record header truncated: 10 of 16 bytes at offset 72$/);
  const cutGlobal = pcapError(() => readCapture(PCAP_LE_MICROS.subarray(0, 20)));
  assert.match(cutGlobal.message, /global header truncated: 20 of 24 bytes at offset 0$/);
});

Deno.test("readCapture() rejects an unknown magic number and a too-short file", () => {
  assert.match(
    pcapError(() => readCapture(hex("deadbeef 00000000"))).message,
    /unknown magic number 0xdeadbeef at offset 0/,
  );
  assert.match(pcapError(() => readCapture(new Uint8Array(3))).message, /at offset 0/);
});

Deno.test("readCapture() rejects unsupported link types, naming where the type is", () => {
  const wifi = PCAP_LE_MICROS.slice(0, 24);
  wifi[20] = 105; // IEEE 802.11
  assert.match(
    pcapError(() => readCapture(wifi)).message,
    /unsupported link type 105 at offset 20$/,
  );
  const ngWifi = PCAPNG_LE_ETHERNET_VLAN.slice(0, 48);
  ngWifi[36] = 105;
  assert.match(
    pcapError(() => readCapture(ngWifi)).message,
    /unsupported link type 105 at offset 36$/,
  );
});

Deno.test("readCapture() stops on a zero or short pcapng block length instead of looping", () => {
  const shb = PCAPNG_LE_ETHERNET_VLAN.subarray(0, 28);
  for (const length of ["00000000", "08000000", "0e000000"]) {
    const file = cat(shb, hex(`01000000 ${length} 00000000 00000000`));
    const e = pcapError(() => readCapture(file));
    assert.equal(e.offset, 28);
    assert.match(e.message, /block total length \d+ is not a multiple of 4 of at least 12/);
  }
});

Deno.test("readCapture() names the offset of a truncated or inconsistent pcapng block", () => {
  // The first EPB starts at 28 + 20 = 48 and is 92 bytes long.
  const cut = pcapError(() => readCapture(PCAPNG_LE_ETHERNET_VLAN.subarray(0, 48 + 91)));
  assert.equal(cut.offset, 48);
  assert.match(cut.message, /total length 92 but 91 bytes remain at offset 48$/);

  const badTrailer = PCAPNG_LE_ETHERNET_VLAN.slice();
  badTrailer[48 + 88] = 0x60;
  assert.match(
    pcapError(() => readCapture(badTrailer)).message,
    /trailing length 96 does not match leading length 92 at offset 136$/,
  );

  const badCapLen = PCAPNG_LE_ETHERNET_VLAN.slice();
  badCapLen[48 + 20] = 61; // caplen 61 > 60 data bytes in the block
  assert.match(pcapError(() => readCapture(badCapLen)).message, /exceeds .* at offset 68$/);

  const noInterface = PCAPNG_LE_ETHERNET_VLAN.slice();
  noInterface[48 + 8] = 1; // EPB on interface 1, but only interface 0 exists
  assert.match(
    pcapError(() => readCapture(noInterface)).message,
    /undeclared interface 1 at offset 56$/,
  );

  const badMagic = PCAPNG_LE_ETHERNET_VLAN.slice();
  badMagic[8] = 0;
  assert.match(pcapError(() => readCapture(badMagic)).message, /byte-order magic .* at offset 8$/);
});

const CASES = "conformance/jool/cases";
const MANIFEST = "conformance/jool/manifest.json";
const HAVE_CORPUS = sharedAvailableOrWarn(MANIFEST, "Jool corpus pcap reader tests (tests/pcap)");

Deno.test({
  name: "readCapture() reads the Jool aat1 input pcap",
  ignore: !HAVE_CORPUS,
  fn() {
    const c = readCapture(Deno.readFileSync(sharedPath(`${CASES}/siit-7915-aat1.input.pcap`)));
    assert.equal(c.linkType, 101);
    assert.deepEqual(summary(c), [[0, 0, toHex(V4), 32]]);
  },
});

Deno.test({
  name: "readCapture() reads every Jool corpus pcap with the packet counts of the manifest",
  ignore: !HAVE_CORPUS,
  fn() {
    const manifest = JSON.parse(Deno.readTextFileSync(sharedPath(MANIFEST))) as {
      cases: { name: string; input: string; expected: string; expectedPackets: number }[];
    };
    assert.ok(manifest.cases.length > 100);
    for (const kase of manifest.cases) {
      const files: [string, number][] = [[kase.input, 1], [kase.expected, kase.expectedPackets]];
      for (const [rel, count] of files) {
        const c = readCapture(Deno.readFileSync(sharedPath(`conformance/jool/${rel}`)));
        assert.equal(c.linkType, 101, rel);
        assert.equal(c.packets.length, count, rel);
        for (const p of c.packets) {
          // Each record is a whole IP packet: its own length field agrees with the record.
          const version = p.data[0]! >> 4;
          const ipLength = version === 4
            ? (p.data[2]! << 8) | p.data[3]!
            : 40 + ((p.data[4]! << 8) | p.data[5]!);
          assert.ok(version === 4 || version === 6, rel);
          assert.equal(ipLength, p.data.length, rel);
          assert.equal(p.origLength, p.data.length, rel);
        }
      }
    }
  },
});

Deno.test("readCapture() on mutated and cut files returns or throws PcapError, never anything else", () => {
  // Seeded xorshift32, so a failure reproduces.
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const files = [
    PCAP_LE_MICROS,
    PCAP_BE_NANOS,
    PCAP_SLL,
    PCAP_NULL,
    PCAPNG_LE_ETHERNET_VLAN,
    PCAPNG_BE_SLL2_TWO_SECTIONS,
  ];
  let threw = 0;
  for (let round = 0; round < 3000; round++) {
    const original = files[round % files.length]!;
    const file = original.slice(0, Math.max(0, original.length - Math.floor(next() * 8)));
    for (let k = 0; k < 1 + Math.floor(next() * 3); k++) {
      file[Math.floor(next() * file.length)] = Math.floor(next() * 256);
    }
    try {
      const c = readCapture(file);
      for (const p of c.packets) assert.ok(p.data.length <= file.length);
    } catch (e) {
      assert.ok(e instanceof PcapError, `round ${round}: ${e}`);
      threw++;
    }
  }
  assert.ok(threw > 0, "some mutated files must be rejected");
});
