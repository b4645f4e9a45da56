/// <reference lib="deno.unstable" />
// A tiny DNS64 stand-in for the RFC 7050 test: answers `ipv4only.arpa` AAAA on a UDP socket
// with the given addresses (every other question: NOERROR, no answer) and prints one JSON
// line per query on stdout. After --switch-after queries it answers with the --then list.
// Usage: _dns64_server.ts --listen ADDR --port N --answer A [--answer B] [--switch-after K
//        --then C --then D]      (needs --unstable-net for Deno.listenDatagram)
import { parseArgs } from "node:util";
import { parseIpv6 } from "../../lib/addr/ipv6.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    listen: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "5353" },
    answer: { type: "string", multiple: true, default: [] },
    then: { type: "string", multiple: true, default: [] },
    "switch-after": { type: "string", default: "0" },
  },
});
const sock = Deno.listenDatagram({
  transport: "udp",
  hostname: values.listen,
  port: Number(values.port),
});
console.log(JSON.stringify({ listening: true }));
const switchAfter = Number(values["switch-after"]);
let queries = 0;
for await (const [q, from] of sock) {
  if (q.length < 12) continue;
  // The question: labels from offset 12, then QTYPE and QCLASS.
  let at = 12;
  const labels: string[] = [];
  while (at < q.length && q[at] !== 0) {
    labels.push(new TextDecoder().decode(q.subarray(at + 1, at + 1 + q[at]!)));
    at += 1 + q[at]!;
  }
  at += 1;
  if (at + 4 > q.length) continue;
  const qtype = (q[at]! << 8) | q[at + 1]!;
  const qend = at + 4;
  const name = labels.join(".").toLowerCase();
  queries++;
  const list = switchAfter > 0 && queries > switchAfter ? values.then : values.answer;
  const answers = name === "ipv4only.arpa" && qtype === 28 ? list : [];
  console.log(JSON.stringify({ query: name, qtype, n: queries, answered: answers.length }));
  const out = new Uint8Array(qend + answers.length * 28);
  out.set(q.subarray(0, qend));
  out[2] = 0x81 | (q[2]! & 0x01); // QR, opcode 0, AA off, RD copied
  out[3] = 0x80; // RA, RCODE 0
  out.set([0, 1, 0, answers.length, 0, 0, 0, 0], 4); // QD 1, AN n, NS 0, AR 0
  let o = qend;
  for (const a of answers) {
    // Name: pointer to the question (0xc00c); AAAA, IN, TTL 60, RDLENGTH 16.
    out.set([0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16], o);
    out.set(parseIpv6(a)!, o + 12);
    o += 28;
  }
  await sock.send(out, from);
}
