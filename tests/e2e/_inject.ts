/**
 * `deno run --allow-ffi --allow-read tests/e2e/_inject.ts NAME DST FIRST SOURCES PER_SOURCE PPS`:
 * opens a TUN device NAME of its own in the current (translator) namespace, brings it up,
 * routes 2001:db8:b::/64 into it (so answers end there), and writes IPv6 UDP datagrams into it
 * as if they arrived from hosts 2001:db8:b::<FIRST+1> … <FIRST+SOURCES>, PER_SOURCE each, to
 * DST, at about PPS packets a second. The kernel forwards them to the translator's TUN: many
 * distinct IPv6 sources without adding thousands of addresses anywhere. Prints one JSON line
 * `{"written", "errors"}` and exits (the TUN goes with it). Run by tests/e2e/audit_test.ts.
 *
 * @module
 */

import { setUpInterface } from "../../ffi/netlink.ts";
import { openTun } from "../../ffi/tun.ts";
import { parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { checksum, sumBytes } from "../../lib/wire/checksum.ts";

const [name, dstText, firstText, sourcesText, perSourceText, ppsText] = Deno.args;
const dst = parseIpv6(dstText ?? "");
const first = Number(firstText);
const sources = Number(sourcesText);
const perSource = Number(perSourceText);
const pps = Number(ppsText);
if (
  !name || dst === null || !(first >= 0) || !(sources > 0) || !(perSource > 0) || !(pps > 0) ||
  first + sources > 0xffff
) {
  console.error("usage: _inject.ts NAME DST FIRST SOURCES PER_SOURCE PPS");
  Deno.exit(2);
}

/** UDP payload bytes. */
const PAYLOAD = 8;
const LEN = 40 + 8 + PAYLOAD;
/** Packets written between two pauses. */
const BATCH = 50;

/** An IPv6 UDP datagram from 2001:db8:b::<host> (RFC 8200, RFC 768), checksummed. */
function datagram(host: number): Uint8Array {
  const p = new Uint8Array(LEN);
  const v = new DataView(p.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, 8 + PAYLOAD);
  p[6] = 17; // UDP
  p[7] = 64;
  p.set(parseIpv6("2001:db8:b::")!, 8);
  v.setUint16(22, host);
  p.set(dst!, 24);
  v.setUint16(40, 40000); // source port
  v.setUint16(42, 9); // discard
  v.setUint16(44, 8 + PAYLOAD);
  p.fill(0x61, 48);
  const pseudo = sumBytes(p, 8, 32, 0) + 8 + PAYLOAD + 17;
  v.setUint16(46, checksum(p, 40, 8 + PAYLOAD, pseudo) || 0xffff);
  return p;
}

using tun = openTun({ name });
const setup = setUpInterface({
  name: tun.name,
  mtuBytes: 1500,
  routes4: [],
  routes6: [parseIpv6Prefix("2001:db8:b::/64")!],
});
let written = 0;
let errors = 0;
const started = performance.now();
let sent = 0;
for (let s = 0; s < sources; s++) {
  const packet = datagram(first + s + 1);
  for (let k = 0; k < perSource; k++) {
    if (tun.write(packet, 0, packet.length) === packet.length) written++;
    else errors++;
    sent++;
    if (sent % BATCH === 0) {
      const due = started + (sent / pps) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
setup.undo();
console.log(JSON.stringify({ written, errors }));
