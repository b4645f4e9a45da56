/**
 * Path-MTU discovery across the translator: the router–server IPv4 link has MTU 1400, so a
 * full-size IPv6 packet (1500 bytes, 1480 once translated) with DF set is too big for it. The
 * router's ICMPv4 Fragmentation Needed (MTU 1400) goes to the client's pool address, the
 * translator turns it into ICMPv6 Packet Too Big with MTU 1420 (RFC 7915 §4.2: +20 for the
 * larger header), and the client's TCP shrinks its segments.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fillPattern, patternSha256 } from "../../examples/netns_servers.ts";
import { curl, e2eTest, embed, ping6, ROUTER_V4, SERVER6 } from "./_harness.ts";

const UPLOAD_BYTES = 4 * 1024 * 1024;
const DOWNLOAD_BYTES = 10 * 1024 * 1024;
const LINK_MTU = 1400;
const TRANSLATED_MTU = LINK_MTU + 20;

e2eTest("path-MTU discovery through the translator with a 1400-byte IPv4 link", {
  topology: { clients: 2, serverLinkMtu: LINK_MTU, tag: "mtu" },
  tools: ["ping", "curl"],
  timeoutMs: 150_000,
}, async ({ topo, start }, t) => {
  await start();
  const [c1, c2] = [topo.clients[0]!, topo.clients[1]!];

  await t.step(
    "a too-big ping with DF gets Packet Too Big (MTU 1420) from the router",
    async () => {
      const r = await ping6(topo, c2, SERVER6, { size: 1452, count: 1, extra: ["-M", "do"] });
      const from = embed(ROUTER_V4).replaceAll(".", "\\.");
      assert.match(
        r.stdout,
        new RegExp(`From ${from} icmp_seq=1 Packet too big: mtu=${TRANSLATED_MTU}`),
        r.stdout + r.stderr,
      );
    },
  );

  await t.step("a 4 MB upload converges on the path MTU and arrives intact", async () => {
    const file = `${topo.dir}/upload.bin`;
    const data = new Uint8Array(UPLOAD_BYTES);
    fillPattern(data, 0);
    await Deno.writeFile(file, data);
    const r = await curl(topo, c1, "/sha256", [
      "-H",
      "content-type: application/octet-stream",
      "--data-binary",
      `@${file}`,
    ], 60);
    assert.equal(r.code, 0, `curl: ${r.stderr}`);
    assert.equal(r.stdout.trim(), `${patternSha256(UPLOAD_BYTES)} ${UPLOAD_BYTES}`);
    // The client learned the path MTU from the translated Packet Too Big.
    const route = await topo.exec(c1.ns, ["ip", "-6", "route", "get", SERVER6]);
    assert.match(route.stdout, new RegExp(`\\bmtu ${TRANSLATED_MTU}\\b`), route.stdout);
  });

  await t.step("a 10 MB download over the 1400-byte link arrives intact", async () => {
    const file = `${topo.dir}/download.bin`;
    const r = await curl(topo, c1, `/bytes/${DOWNLOAD_BYTES}`, ["-o", file], 60);
    assert.equal(r.code, 0, `curl: ${r.stderr}`);
    const bytes = await Deno.readFile(file);
    assert.equal(bytes.length, DOWNLOAD_BYTES);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), patternSha256(DOWNLOAD_BYTES));
  });
});
