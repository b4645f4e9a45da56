/**
 * `deno task demo`: real traffic, captured on the IPv6 and IPv4 sides of a
 * working translator (TAYGA, in network namespaces: tests/fixtures/README.md),
 * goes through protomask's engine; each packet in and every packet protomask
 * emits for it are printed. Needs only read access to tests/fixtures; it
 * sends nothing on any network.
 *
 * The namespace demo with the real TUN daemon comes with the daemon.
 */

import { parseConfig } from "../lib/config/config.ts";
import { readCapture } from "../lib/pcap/reader.ts";
import { describePacket } from "../lib/wire/describe.ts";
import { counterName, DROP_REASON_COUNT, Stat } from "../lib/xlat/drop.ts";
import { createEngine } from "../lib/xlat/settings.ts";
import { translatePacket } from "../lib/xlat/translate.ts";

interface Fixture {
  file: string;
  description: string;
  directions: string[];
}

const here = new URL("../tests/fixtures/", import.meta.url);
const fixtures: Fixture[] = JSON.parse(
  await Deno.readTextFile(new URL("fixtures.json", here)),
).fixtures;

// The same addresses TAYGA had in the captures.
const config = `
[Interface]
Prefix = "2001:db8:64::/96"
Address4 = "192.0.2.1"
Address6 = "2001:db8:1::3"
MTU = 1500
[Rules]
MapStatic = [{ v4 = "192.0.2.2", v6 = "2001:db8:1::2" }]
`;
const cfg = parseConfig(config);
const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
const green = (s: string) => (color ? `\x1b[32m${s}\x1b[0m` : s);

console.log(bold("protomask demo: captured traffic through the RFC 7915 engine"));
console.log(dim(`config:${config.trimEnd().replaceAll("\n", "\n  ")}`));

const shown = [
  "tayga-ping.pcap",
  "tayga-dns.pcap",
  "tayga-http.pcap",
  "tayga-traceroute.pcap",
  "tayga-udp-closed.pcap",
  "tayga-ping-3000.pcap",
  "tayga-pmtu.pcap",
];
let packetsIn = 0;
let packetsOut = 0;
for (const name of shown) {
  const fx = fixtures.find((f) => f.file === name);
  if (!fx) continue;
  const { ctx } = createEngine(cfg);
  const cap = readCapture(await Deno.readFile(new URL(name, here)));
  console.log(`\n${bold(name)}: ${fx.description}`);
  cap.packets.forEach((p, i) => {
    if (fx.directions[i] !== "to-tayga") return;
    packetsIn++;
    ctx.setClock(p.tsSecs * 1000 + Math.floor(p.tsMicros / 1000));
    const n = translatePacket(ctx, p.data);
    console.log(`  in   ${describePacket(p.data)}`);
    if (n <= 0) {
      console.log(dim(`       (${counterName(-n).replaceAll("_", " ")})`));
      return;
    }
    for (let k = 0; k < n; k++) {
      const off = ctx.emitOffset[k]!;
      console.log(
        green(`  out  ${describePacket(ctx.mem.subarray(off, off + ctx.emitLength[k]!))}`),
      );
      packetsOut++;
    }
  });
  const notes: string[] = [];
  for (let i = 1; i < DROP_REASON_COUNT; i++) {
    if (ctx.counters[i]! > 0) notes.push(`${counterName(i)} ${ctx.counters[i]}`);
  }
  if (ctx.counters[Stat.REASSEMBLED]! > 0) {
    notes.push(`reassembled ${ctx.counters[Stat.REASSEMBLED]}`);
  }
  if (notes.length) console.log(dim(`  counters: ${notes.join(", ")}`));
}
console.log(`\n${bold("summary")}: ${packetsIn} packets in, ${packetsOut} out.`);
console.log(
  "Every packet above was translated by the same translate() the daemon uses; " +
    "the fixtures' golden test compares the output with what TAYGA emitted.",
);
