/**
 * TUN offload (`Interface.Offload = true`) on real kernel traffic:
 *
 * - the device is opened with `IFF_VNET_HDR`, the kernel takes checksum, TSO and USO offloads
 *   (the ready line names them) and the link's `gso_max_size` is 65516;
 * - TCP both ways (10 MB by SHA-256) and UDP super-packets (USO, `UDP_SEGMENT`) both ways are
 *   translated whole (`gso_translated` grows), and their checksums are right: the last links
 *   before the receivers have transmit checksum offload turned off, so the kernel completes
 *   every partial checksum the translator adjusted and tcpdump on the receiving host verifies
 *   each packet (`-vv` prints "correct" or "incorrect");
 * - with next-hop MTUs smaller than the segments (`Translation.MTU4`/`MTU6` = 1400) a
 *   super-packet cannot be translated whole: it is segmented in software (`gso_segmented`),
 *   the senders get Packet Too Big and Fragmentation Needed (`packet_too_big`) and learn the
 *   path MTU, and the transfers still arrive intact.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fillPattern, patternSha256 } from "../../examples/netns_servers.ts";
import {
  curl,
  type Daemon,
  e2eTest,
  PORTS,
  repoPath,
  run,
  type RunResult,
  SERVER6,
  sleep,
  type Topology,
  whoami,
} from "./_harness.ts";

const TRANSFER_BYTES = 10 * 1024 * 1024;
const TOOLS = repoPath("tests/e2e/_offload_tools.py");

/** Sends SIGUSR2 and returns the counters of the line it logs (waits at most 5 s). */
async function counters(daemon: Daemon): Promise<Record<string, number>> {
  const lines = () =>
    daemon.proc.stderr.split("\n").filter((l) => l.includes('"event":"counters"')).length;
  const before = lines();
  daemon.proc.kill("SIGUSR2");
  for (let i = 0; i < 50 && lines() === before; i++) await sleep(100);
  const line = daemon.proc.stderr.split("\n").filter((l) => l.includes('"event":"counters"'))
    .at(-1);
  assert.ok(line && lines() > before, `no counters line after SIGUSR2:\n${daemon.proc.stderr}`);
  return JSON.parse(line).properties.counters as Record<string, number>;
}

async function tools(topo: Topology, ns: string, args: string[]): Promise<RunResult> {
  const r = await topo.exec(ns, ["python3", TOOLS, ...args], { timeoutMs: 15_000 });
  assert.equal(r.code, 0, `_offload_tools.py ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r;
}

/**
 * Runs `fn` while tcpdump on `dev` in `ns` verifies the checksums of up to `count` packets
 * matching `filter`; returns how many were correct, with every incorrect line.
 */
async function verified(
  topo: Topology,
  ns: string,
  dev: string,
  filter: string,
  fn: () => Promise<void>,
): Promise<{ correct: number; incorrect: string[] }> {
  const dump = topo.spawn(ns, [
    "tcpdump",
    "-i",
    dev,
    "-nn",
    "-vv",
    "-l",
    "-c",
    "400",
    filter,
  ], "tcpdump");
  try {
    assert.ok(await dump.waitForOutput(/listening on/, 5000), dump.stderr);
    await fn();
    await sleep(300);
  } finally {
    await dump.stop("SIGINT", 3000);
  }
  const lines = dump.stdout.split("\n");
  return {
    // tcpdump -vv: TCP "cksum 0x… (correct)" or "(incorrect -> 0x…)", UDP "[udp sum ok]" or
    // "[bad udp cksum …]".
    correct: lines.filter((l) => /\(correct\)|udp sum ok/.test(l)).length,
    incorrect: lines.filter((l) => /incorrect|bad udp cksum/.test(l)),
  };
}

async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

e2eTest("TUN offload translates super-packets whole with checksums the receivers verify", {
  topology: { clients: 1, tag: "off" },
  tools: ["curl", "tcpdump", "python3"],
  translators: ["protomask"],
  timeoutMs: 150_000,
}, async ({ topo, start }, t) => {
  const daemon = await start({ interfaceKeys: { Offload: true } });
  const c = topo.clients[0]!;
  const tun = daemon.tunName!;

  await t.step("the device takes checksum, TSO and USO offloads; gso_max_size 65516", async () => {
    const ready = daemon.proc.stderr.split("\n").find((l) => l.includes('"event":"ready"'))!;
    const offload = JSON.parse(ready).properties.offload as string;
    assert.match(offload, /^csum tso4 tso6 tso-ecn/, ready);
    const link = await run(["ip", "-n", topo.translatorNs, "-d", "link", "show", "dev", tun]);
    assert.match(link.stdout, /vnet_hdr on/, link.stdout);
    assert.match(link.stdout, /gso_max_size 65516\b/, link.stdout);
  });

  // The kernel completes partial checksums before these links send, so the receivers see
  // final checksums (and TSO is off with them: segments are cut in software there).
  await tools(topo, topo.routerNs!, ["txcsum-off", "s0"]);
  await tools(topo, topo.translatorNs, ["txcsum-off", `c${c.index}`]);
  assert.ok(await whoami(topo, c), "the client gets its lease");

  await t.step("a 10 MB download (IPv4 → IPv6 super-packets) arrives intact", async () => {
    const before = await counters(daemon);
    const file = `${topo.dir}/download.bin`;
    const check = await verified(topo, c.ns, "eth0", "tcp and src port 8080", async () => {
      const r = await curl(topo, c, `/bytes/${TRANSFER_BYTES}`, ["-o", file], 60);
      assert.equal(r.code, 0, `curl: ${r.stderr}`);
    });
    assert.equal(await sha256File(file), patternSha256(TRANSFER_BYTES));
    const after = await counters(daemon);
    const whole = (after.gso_translated ?? 0) - (before.gso_translated ?? 0);
    assert.ok(whole > 0, `no super-packet translated whole: ${JSON.stringify(after)}`);
    assert.deepEqual(check.incorrect, []);
    assert.ok(check.correct >= 100, `tcpdump verified only ${check.correct} packets`);
  });

  await t.step("a 10 MB upload (IPv6 → IPv4 super-packets) arrives intact", async () => {
    const before = await counters(daemon);
    const file = `${topo.dir}/upload.bin`;
    const data = new Uint8Array(TRANSFER_BYTES);
    fillPattern(data, 0);
    await Deno.writeFile(file, data);
    const check = await verified(
      topo,
      topo.serverNs!,
      "eth0",
      "tcp and dst port 8080",
      async () => {
        const r = await curl(topo, c, "/sha256", [
          "-H",
          "content-type: application/octet-stream",
          "--data-binary",
          `@${file}`,
        ], 60);
        assert.equal(r.code, 0, `curl: ${r.stderr}`);
        assert.equal(r.stdout.trim(), `${patternSha256(TRANSFER_BYTES)} ${TRANSFER_BYTES}`);
      },
    );
    const after = await counters(daemon);
    assert.ok((after.gso_translated ?? 0) > (before.gso_translated ?? 0), JSON.stringify(after));
    assert.deepEqual(check.incorrect, []);
    assert.ok(check.correct >= 100, `tcpdump verified only ${check.correct} packets`);
  });

  await t.step("UDP super-packets (USO) are translated whole both ways", async () => {
    const before = await counters(daemon);
    // 6 → 4: 16 datagrams of 1000 bytes in one send() to the echo server, echoed one by one.
    const check6 = await verified(topo, topo.serverNs!, "eth0", "udp and dst port 7", async () => {
      const r = await tools(topo, c.ns, ["uso-echo", SERVER6, String(PORTS.echo), "1000", "16"]);
      const out = JSON.parse(r.stdout);
      assert.equal(out.sent, 16_000);
      assert.deepEqual(out.received, [...Array(16).keys()], r.stdout);
    });
    assert.deepEqual(check6.incorrect, []);
    assert.equal(check6.correct, 16);
    // 4 → 6: the server sends 16 datagrams in one send() to the client's pool address.
    const pool4 = (await whoami(topo, c))!;
    const recv = topo.spawn(c.ns, ["python3", TOOLS, "recv", "9999", "16", "1000"], "recv");
    try {
      assert.ok(await recv.waitForOutput(/listening/, 5000), recv.stderr);
      const check4 = await verified(topo, c.ns, "eth0", "udp and dst port 9999", async () => {
        await tools(topo, topo.serverNs!, ["uso-send", pool4, "9999", "1000", "16"]);
      });
      assert.ok(await recv.waitForOutput(/received/, 5000), recv.stderr);
      const got = JSON.parse(recv.stdout.split("\n").find((l) => l.includes("received"))!);
      assert.deepEqual(got.received, [...Array(16).keys()]);
      assert.deepEqual(check4.incorrect, []);
      assert.equal(check4.correct, 16);
    } finally {
      await recv.stop("SIGTERM", 2000);
    }
    const after = await counters(daemon);
    const whole = (after.gso_translated ?? 0) - (before.gso_translated ?? 0);
    assert.ok(whole >= 2, `USO super-packets not translated whole: ${JSON.stringify(after)}`);
    assert.equal(after.bad_virtio_header ?? 0, 0);
  });
});

e2eTest(
  "TUN offload: super-packets too big for the next hop get Packet Too Big and Fragmentation Needed",
  {
    topology: { clients: 1, tag: "ofm" },
    tools: ["curl"],
    translators: ["protomask"],
    timeoutMs: 150_000,
  },
  async ({ topo, start }, t) => {
    const daemon = await start({
      interfaceKeys: { Offload: true },
      translationKeys: { MTU4: 1400, MTU6: 1400 },
    });
    const c = topo.clients[0]!;
    const pool4 = await whoami(topo, c);
    assert.ok(pool4, "the client gets its lease");

    await t.step("an upload: the client learns MTU 1420 from Packet Too Big", async () => {
      const file = `${topo.dir}/upload.bin`;
      const data = new Uint8Array(TRANSFER_BYTES);
      fillPattern(data, 0);
      await Deno.writeFile(file, data);
      const r = await curl(topo, c, "/sha256", [
        "-H",
        "content-type: application/octet-stream",
        "--data-binary",
        `@${file}`,
      ], 60);
      assert.equal(r.code, 0, `curl: ${r.stderr}`);
      assert.equal(r.stdout.trim(), `${patternSha256(TRANSFER_BYTES)} ${TRANSFER_BYTES}`);
      const route = await topo.exec(c.ns, ["ip", "-6", "route", "get", SERVER6]);
      assert.match(route.stdout, /\bmtu 1420\b/, route.stdout);
    });

    await t.step("a download: the server learns MTU 1380 from Fragmentation Needed", async () => {
      const file = `${topo.dir}/download.bin`;
      const r = await curl(topo, c, `/bytes/${TRANSFER_BYTES}`, ["-o", file], 60);
      assert.equal(r.code, 0, `curl: ${r.stderr}`);
      assert.equal(await sha256File(file), patternSha256(TRANSFER_BYTES));
      const route = await topo.exec(topo.serverNs!, ["ip", "route", "get", pool4!]);
      assert.match(route.stdout, /\bmtu 1380\b/, route.stdout);
    });

    const n = await counters(daemon);
    assert.ok((n.gso_segmented ?? 0) > 0, `nothing segmented in software: ${JSON.stringify(n)}`);
    assert.ok((n.packet_too_big ?? 0) >= 2, `no Packet Too Big: ${JSON.stringify(n)}`);
    assert.ok((n.icmp_errors_sent ?? 0) >= 2, JSON.stringify(n));
    assert.equal(n.bad_virtio_header ?? 0, 0);
  },
);
