/**
 * Traffic through the translator: ping6 of several sizes, a 10 MB HTTP download, UDP echo, a
 * DNS-style query, traceroute6 and UDP to a closed port. One topology (one IPv6-only client,
 * the translator, an IPv4 router and an IPv4-only server) shared by the steps.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DNS_ANSWER_V4, patternSha256 } from "../../examples/netns_servers.ts";
import {
  CLOSED_UDP_PORT,
  curl,
  dig,
  e2eTest,
  embed,
  ping6,
  PORTS,
  ROUTER_V4,
  SERVER6,
  udpExchange,
} from "./_harness.ts";

const DOWNLOAD_BYTES = 10 * 1024 * 1024;

async function sha256File(path: string): Promise<{ hex: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  using f = await Deno.open(path);
  for await (const chunk of f.readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { hex: hash.digest("hex"), bytes };
}

/** Parses traceroute6 -n -q 1 output into [hop number, address or "*"]. */
function hops(out: string): [number, string][] {
  return [...out.matchAll(/^\s*(\d+)\s+(\S+)/gm)].map((m) => [Number(m[1]), m[2]!]);
}

e2eTest("IPv6-only client reaches an IPv4-only server", {
  tools: ["ping", "curl", "dig", "traceroute6"],
  timeoutMs: 150_000,
}, async ({ topo, start }, t) => {
  await start();
  const c = topo.clients[0]!;

  for (const size of [56, 1232, 1452, 3000]) {
    await t.step(`ping6 -s ${size} gets every echo reply`, async () => {
      const r = await ping6(topo, c, SERVER6, { size, count: 3 });
      assert.match(r.stdout, /3 packets transmitted, 3 received/, r.stdout + r.stderr);
      // The reply carries all the data back (8-byte ICMPv6 header + data).
      assert.match(r.stdout, new RegExp(`^${size + 8} bytes from ${SERVER6}`, "m"), r.stdout);
    });
  }

  await t.step("a 10 MB HTTP download arrives intact (SHA-256)", async () => {
    const file = `${topo.dir}/download.bin`;
    const r = await curl(topo, c, `/bytes/${DOWNLOAD_BYTES}`, ["-o", file], 60);
    assert.equal(r.code, 0, `curl: ${r.stderr}`);
    const got = await sha256File(file);
    assert.equal(got.bytes, DOWNLOAD_BYTES);
    assert.equal(got.hex, patternSha256(DOWNLOAD_BYTES));
  });

  await t.step("UDP datagrams come back from the echo server unchanged", async () => {
    const sizes = [1, 512, 1400, 3000];
    const out = await udpExchange(topo, c, PORTS.echo, sizes);
    assert.deepEqual(
      out,
      sizes.map((size) => ({ size, result: "reply", replyBytes: size, equal: true })),
    );
  });

  await t.step("a DNS-style UDP query gets its answer", async () => {
    const r = await dig(topo, c, PORTS.dns, "ipv4only.example");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /status: NOERROR/);
    assert.match(
      r.stdout,
      new RegExp(
        `^ipv4only\\.example\\.\\s+300\\s+IN\\s+A\\s+${DNS_ANSWER_V4.replaceAll(".", "\\.")}$`,
        "m",
      ),
    );
    assert.match(r.stdout, new RegExp(`SERVER: ${SERVER6}#${PORTS.dns}`));
  });

  await t.step("UDP to a closed IPv4 port gets ICMPv6 port unreachable", async () => {
    const r = await dig(topo, c, CLOSED_UDP_PORT);
    // dig's connected socket turns ICMPv6 type 1 code 4 into ECONNREFUSED; a lost datagram
    // would be a timeout ("no servers could be reached") instead.
    assert.match(r.stdout + r.stderr, /connection refused/, r.stdout + r.stderr);
  });

  await t.step("traceroute6 shows the translator hop and the IPv4 hops behind it", async () => {
    const r = await topo.exec(
      c.ns,
      ["traceroute6", "-n", "-q", "1", "-m", "8", "-w", "2", SERVER6],
      {
        timeoutMs: 40_000,
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const h = hops(r.stdout);
    const addrs = h.map(([, a]) => a);
    assert.deepEqual(h.map(([n]) => n), h.map((_, i) => i + 1), r.stdout);
    assert.ok(!addrs.includes("*"), `a hop did not answer:\n${r.stdout}`);
    // 1: the translator namespace's IPv6 forwarding; 2: the translator itself (an address
    // inside the prefix); then the IPv4 hops, embedded in the prefix; last: the server.
    assert.equal(addrs[0], c.gateway, r.stdout);
    assert.match(addrs[1] ?? "", /^2001:db8:64::/, r.stdout);
    const router = addrs.indexOf(embed(ROUTER_V4));
    assert.ok(router >= 2, `router ${embed(ROUTER_V4)} not among the hops:\n${r.stdout}`);
    assert.equal(addrs.at(-1), SERVER6, r.stdout);
    assert.equal(router, addrs.length - 2, r.stdout);
  });
});
