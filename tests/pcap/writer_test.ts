import assert from "node:assert/strict";
import { readCapture } from "../../lib/pcap/reader.ts";
import { PcapWriter, writePcap } from "../../lib/pcap/writer.ts";
import { hex, toHex } from "../_util/packets.ts";
import { sharedAvailableOrWarn, sharedPath } from "../_util/shared.ts";
import { cat, PCAP_LE_MICROS, V4, V6 } from "./captures.ts";

Deno.test("writePcap() writes the little-endian v2.4 RAW header and records byte for byte", () => {
  const file = writePcap([
    { tsSecs: 1700000000, tsMicros: 123456, data: V4 },
    { tsSecs: 1, tsMicros: 999999, data: V6 },
  ]);
  // PCAP_LE_MICROS was written by hand from the pcap specification.
  assert.equal(toHex(file), toHex(PCAP_LE_MICROS));
});

// deno-fmt-ignore
const GLOBAL_HEADER = hex(`
  d4c3b2a1    // magic, little-endian, microseconds
  0200 0400   // version 2.4
  00000000    // reserved (thiszone)
  00000000    // reserved (sigfigs)
  ffff0000    // snaplen 65535
  65000000    // LINKTYPE_RAW
`);

Deno.test("writePcap() of no packets is the 24-byte global header alone", () => {
  assert.equal(toHex(writePcap([])), toHex(GLOBAL_HEADER));
});

Deno.test("writePcap() then readCapture() gives back the packets and timestamps", () => {
  const packets = [
    { tsSecs: 0, tsMicros: 0, data: V4 },
    { tsSecs: 0xffffffff, tsMicros: 999999, data: V6 },
    { tsSecs: 42, tsMicros: 1, data: new Uint8Array(0) },
    { tsSecs: 43, tsMicros: 2, data: Uint8Array.from({ length: 1500 }, (_, i) => i & 0xff) },
  ];
  const c = readCapture(writePcap(packets));
  assert.equal(c.linkType, 101);
  assert.equal(c.skipped, 0);
  assert.deepEqual(
    c.packets.map((p) => [p.tsSecs, p.tsMicros, toHex(p.data), p.origLength]),
    packets.map((p) => [p.tsSecs, p.tsMicros, toHex(p.data), p.data.length]),
  );
});

Deno.test("PcapWriter grows past its initial capacity and earlier bytes() views stay intact", () => {
  const w = new PcapWriter(32);
  const views: Uint8Array[] = [];
  const expected: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    const data = Uint8Array.from({ length: (i * 37) % 300 }, (_, j) => (i + j) & 0xff);
    w.add(data, i, i * 1000);
    expected.push(data);
    if (i % 50 === 0) views.push(w.bytes());
  }
  assert.equal(w.count, 200);
  const all = readCapture(w.bytes());
  assert.equal(all.packets.length, 200);
  all.packets.forEach((p, i) => {
    assert.equal(toHex(p.data), toHex(expected[i]!), `packet ${i}`);
    assert.deepEqual([p.tsSecs, p.tsMicros], [i, i * 1000]);
  });
  // A view taken after packet k still reads as exactly the first k + 1 packets.
  views.forEach((view, n) => {
    assert.equal(readCapture(view).packets.length, n * 50 + 1);
  });
});

Deno.test("PcapWriter copies the packet bytes it is given", () => {
  const w = new PcapWriter();
  const data = V4.slice();
  w.add(data, 0, 0);
  data.fill(0);
  assert.equal(toHex(readCapture(w.bytes()).packets[0]!.data), toHex(V4));
});

Deno.test("PcapWriter.add() rejects timestamps a pcap record cannot hold", () => {
  const w = new PcapWriter();
  assert.throws(() => w.add(V4, -1, 0), RangeError);
  assert.throws(() => w.add(V4, 2 ** 32, 0), RangeError);
  assert.throws(() => w.add(V4, 1.5, 0), RangeError);
  assert.throws(() => w.add(V4, 0, 1_000_000), RangeError);
  assert.throws(() => w.add(V4, 0, -1), RangeError);
  assert.equal(w.count, 0);
  assert.equal(w.bytes().length, 24);
});

const CASES = "conformance/jool/cases";
const HAVE_CORPUS = sharedAvailableOrWarn(CASES, "Jool corpus pcap writer tests (tests/pcap)");

Deno.test({
  name: "writePcap() reproduces the Jool corpus pcaps (written by its own converter) exactly",
  ignore: !HAVE_CORPUS,
  fn() {
    let files = 0;
    for (const entry of Deno.readDirSync(sharedPath(CASES))) {
      if (!entry.name.endsWith(".pcap")) continue;
      const original = Deno.readFileSync(sharedPath(`${CASES}/${entry.name}`));
      const rewritten = writePcap(readCapture(original).packets);
      assert.equal(toHex(rewritten), toHex(original), entry.name);
      files++;
    }
    assert.ok(files > 300, `only ${files} pcaps found`);
  },
});

Deno.test({
  name: "writePcap() output for Jool's aat1 input equals the corpus file",
  ignore: !HAVE_CORPUS,
  fn() {
    const original = Deno.readFileSync(sharedPath(`${CASES}/siit-7915-aat1.input.pcap`));
    const record = hex("00000000 00000000 20000000 20000000"); // 0 s, 0 us, 32, 32
    assert.equal(toHex(original), toHex(cat(GLOBAL_HEADER, record, V4)));
    assert.equal(toHex(writePcap([{ tsSecs: 0, tsMicros: 0, data: V4 }])), toHex(original));
  },
});
