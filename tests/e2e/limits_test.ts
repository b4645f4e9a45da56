/**
 * The abuse limits of `[Rules]` on real packets, in namespaces: for each limit, a source
 * beyond it gets no lease and an ICMPv6 Destination Unreachable code 1 (captured with tcpdump
 * on the client's link and read back with lib/pcap), while allowed and earlier hosts keep
 * working; and a flood of more new sources than the pool (tests/e2e/_inject.ts, bounded in
 * count and time) leaves an established host's ping working, with the daemon's RSS before and
 * after printed (from its /metrics).
 *
 * @module
 */

import assert from "node:assert/strict";
import { readCapture } from "../../lib/pcap/reader.ts";
import {
  type Client,
  type Daemon,
  e2eTest,
  injectDatagrams,
  type InjectOptions,
  ipIn,
  type Proc,
  SERVER6,
  sleep,
  type Topology,
} from "./_harness.ts";

const LISTEN = "127.0.0.1:9060";

/** One ping from a given source; returns how many replies came back. */
async function pingFrom(
  topo: Topology,
  c: Client,
  src: string,
  count = 1,
): Promise<{ received: number; out: string }> {
  const r = await topo.exec(c.ns, [
    "ping",
    "-6",
    "-n",
    "-c",
    String(count),
    "-i",
    "0.2",
    "-W",
    "2",
    "-I",
    src,
    SERVER6,
  ], { timeoutMs: 5000 + count * 2500 });
  const m = /(\d+) received/.exec(r.stdout);
  return { received: m ? Number(m[1]) : 0, out: r.stdout + r.stderr };
}

/** Starts tcpdump on a client's link for ICMPv6, into a file. */
async function captureUnreachable(topo: Topology, c: Client, file: string): Promise<Proc> {
  const p = topo.spawn(c.ns, [
    "tcpdump",
    "-i",
    "eth0",
    "-n",
    "-U",
    "--immediate-mode",
    "-w",
    file,
    "icmp6",
  ], "tcpdump");
  assert.ok(await p.waitForOutput(/listening on/, 5000), p.stderr);
  return p;
}

/** Stops tcpdump and returns the [code, destination] of every Destination Unreachable. */
async function unreachables(p: Proc, file: string): Promise<{ code: number; to: string }[]> {
  await sleep(300);
  await p.stop("SIGINT", 3000);
  const cap = readCapture(await Deno.readFile(file));
  // ICMPv6 type 1 only (the capture also holds the Echo Requests and neighbour discovery).
  return cap.packets.filter((pkt) => pkt.data[6] === 58 && pkt.data[40] === 1).map((pkt) => {
    const d = pkt.data;
    const words: string[] = [];
    for (let i = 24; i < 40; i += 2) words.push(((d[i]! << 8) | d[i + 1]!).toString(16));
    return { code: d[41]!, to: words.join(":") };
  });
}

/** The value of one sample of the daemon's /metrics, scraped in the translator namespace. */
async function metric(topo: Topology, name: string, labels = ""): Promise<number> {
  const r = await topo.exec(topo.translatorNs, [
    "curl",
    "-sS",
    "--max-time",
    "5",
    `http://${LISTEN}/metrics`,
  ], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  assert.ok(line, `${name}${labels} not in the scrape`);
  return Number(line.split(" ").at(-1));
}

/** Writes UDP datagrams from 2001:db8:b::<first+1 …>; every one of them must be written. */
async function inject(topo: Topology, opts: InjectOptions): Promise<void> {
  const out = await injectDatagrams(topo, { device: "pmlim0", timeoutMs: 60_000, ...opts });
  assert.equal(out.written, opts.sources * opts.perSource, out.stdout);
}

/** The canonical form of the client's address with another last group. */
function sibling(c: Client, last: number): string {
  return c.addr.replace(/::[0-9a-f]+$/, `::${last.toString(16)}`);
}

/** Normalises an address to eight unpadded groups, as `unreachables` reports them. */
function full(v6: string): string {
  const [head, tail] = v6.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(":");
}

e2eTest("abuse limits: refused sources get ICMPv6 1/1 and no lease, others keep working", {
  topology: { clients: 2, tag: "lm" },
  translators: ["protomask"],
  tools: ["ping", "curl", "tcpdump"],
  timeoutMs: 150_000,
}, async ({ topo, start }, t) => {
  await ipIn(topo.translatorNs, "link set lo up");
  const [c1, c2] = [topo.clients[0]!, topo.clients[1]!];
  // More sources on client 1's /64.
  for (const last of [3, 4, 5]) {
    await ipIn(c1.ns, `addr add ${sibling(c1, last)}/64 dev eth0 nodad`);
  }
  let daemon: Daemon | null = null;
  const restart = async (rules: Record<string, string | number | string[]>) => {
    if (daemon !== null) {
      const s = await daemon.proc.stop("SIGTERM", 5000);
      assert.equal(s.code, 0, daemon.proc.stderr);
    }
    daemon = await start({ rulesKeys: rules, metricsListen: LISTEN });
    return daemon;
  };

  await t.step("AllowedSources: a source outside it is refused, the listed one works", async () => {
    await restart({ AllowedSources: [`${c1.addr}/128`] });
    const file = `${topo.dir}/allowed.pcap`;
    const cap = await captureUnreachable(topo, c2, file);
    const refused = await pingFrom(topo, c2, c2.addr, 2);
    const seen = await unreachables(cap, file);
    assert.equal(refused.received, 0, refused.out);
    assert.ok(
      seen.length >= 1,
      `no Destination Unreachable captured; ping: ${refused.out}; tcpdump: ${cap.stderr}; ` +
        `sent ${await metric(topo, "protomask_icmp_errors_sent_total")}, suppressed ${await metric(
          topo,
          "protomask_icmp_errors_suppressed_total",
        )}`,
    );
    for (const u of seen) assert.deepEqual(u, { code: 1, to: full(c2.addr) });
    assert.equal((await pingFrom(topo, c1, c1.addr, 2)).received, 2);
    assert.equal(await metric(topo, "protomask_leases", '{kind="dynamic"}'), 1);
    assert.ok(
      await metric(topo, "protomask_drops_total", '{reason="source_not_allowed"}') >= 2,
    );
    assert.match(daemon!.proc.stderr, /lease refused for .*: source not allowed/);
  });

  await t.step("MaxLeasesPerPrefix = 2 per /64: the third host of the /64 is refused", async () => {
    await restart({ MaxLeasesPerPrefix: 2, LeasePrefixLength: 64 });
    assert.equal((await pingFrom(topo, c1, c1.addr)).received, 1);
    assert.equal((await pingFrom(topo, c1, sibling(c1, 3))).received, 1);
    const file = `${topo.dir}/prefix.pcap`;
    const cap = await captureUnreachable(topo, c1, file);
    const third = await pingFrom(topo, c1, sibling(c1, 4), 2);
    const seen = await unreachables(cap, file);
    assert.equal(third.received, 0, third.out);
    assert.ok(seen.length >= 1, "no Destination Unreachable captured");
    for (const u of seen) assert.deepEqual(u, { code: 1, to: full(sibling(c1, 4)) });
    // The first two keep theirs; another /64 is not affected.
    assert.equal((await pingFrom(topo, c1, c1.addr, 2)).received, 2);
    assert.equal((await pingFrom(topo, c1, sibling(c1, 3), 2)).received, 2);
    assert.equal((await pingFrom(topo, c2, c2.addr, 2)).received, 2);
    assert.equal(await metric(topo, "protomask_leases", '{kind="dynamic"}'), 3);
    assert.ok(
      await metric(topo, "protomask_drops_total", '{reason="prefix_lease_limit"}') >= 2,
    );
  });

  await t.step(
    "MaxNewLeasesPerSecond = 2: a burst of 12 new sources gets at most 4 leases",
    async () => {
      await restart({ MaxNewLeasesPerSecond: 2 });
      // 12 datagrams from 12 sources within ~12 ms: at most one second boundary inside.
      await inject(topo, { first: 100, sources: 12, perSource: 1, pps: 1000 });
      await sleep(300);
      const leases = await metric(topo, "protomask_leases", '{kind="dynamic"}');
      const refused = await metric(topo, "protomask_drops_total", '{reason="lease_rate_limit"}');
      assert.ok(leases >= 2 && leases <= 4, `${leases} leases`);
      assert.equal(leases + refused, 12);
      // A second later the bucket has tokens again: a client gets its lease.
      await sleep(1100);
      const file = `${topo.dir}/rate.pcap`;
      const cap = await captureUnreachable(topo, c1, file);
      assert.equal((await pingFrom(topo, c1, c1.addr, 2)).received, 2);
      // ... and the next new ones in the same second are refused with 1/1.
      await pingFrom(topo, c1, sibling(c1, 3));
      await pingFrom(topo, c1, sibling(c1, 4));
      await pingFrom(topo, c1, sibling(c1, 5));
      const seen = await unreachables(cap, file);
      assert.ok(seen.every((u) => u.code === 1), JSON.stringify(seen));
    },
  );

  await t.step(
    "a flood of 3,000 new sources (pool: 14) leaves an established host working",
    async () => {
      for (
        const [label, rules] of [
          ["no limits", {}],
          ["MaxLeasesPerPrefix = 4", { MaxLeasesPerPrefix: 4 }],
        ] as const
      ) {
        await restart(rules);
        assert.equal((await pingFrom(topo, c1, c1.addr)).received, 1, "c1's lease");
        const rssBefore = await metric(topo, "protomask_process_resident_memory_bytes");
        const pinging = pingFrom(topo, c1, c1.addr, 10);
        // 3,000 sources × 2 datagrams at 3,000 a second: 2 s, bounded.
        await inject(topo, { first: 1000, sources: 3000, perSource: 2, pps: 3000 });
        const during = await pinging;
        await sleep(500);
        const after = await pingFrom(topo, c1, c1.addr, 3);
        const rssAfter = await metric(topo, "protomask_process_resident_memory_bytes");
        const leases = await metric(topo, "protomask_leases", '{kind="dynamic"}');
        const newHost = await pingFrom(topo, c2, c2.addr, 2);
        // The same again from 3,000 other sources: what the first flood grew must not repeat.
        await inject(topo, { first: 5000, sources: 3000, perSource: 2, pps: 3000 });
        await sleep(500);
        const again = await pingFrom(topo, c1, c1.addr, 3);
        const rssAgain = await metric(topo, "protomask_process_resident_memory_bytes");
        const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
        console.log(
          `  flood (${label}): RSS before ${mb(rssBefore)}, after 3,000 sources ${mb(rssAfter)}, ` +
            `after 3,000 more ${mb(rssAgain)}; ${leases} leases; established host ` +
            `${during.received}/10 replies during, ${after.received}/3 and ${again.received}/3 ` +
            `after; a new host ${newHost.received}/2`,
        );
        assert.ok(during.received >= 8, `established host lost its replies: ${during.out}`);
        assert.equal(after.received, 3, after.out);
        assert.equal(again.received, 3, again.out);
        if (label === "no limits") {
          assert.equal(leases, 14, "the flood took the rest of the pool");
          assert.equal(newHost.received, 0, "a new host finds the pool exhausted");
        } else {
          assert.equal(leases, 1 + 4, "the flood's /64 holds 4 leases");
          assert.equal(newHost.received, 2, "a new host of another /64 still gets a lease");
        }
        // Flat: the second flood adds far less than the first (bounded refusal log, no leak).
        assert.ok(rssAgain < rssAfter + 10e6, "RSS grows again with the second flood");
      }
    },
  );

  if (daemon !== null) {
    const s = await (daemon as Daemon).proc.stop("SIGTERM", 5000);
    assert.equal(s.code, 0, (daemon as Daemon).proc.stderr);
  }
});
