/**
 * Several TUN queues: with `Queues = 2` the daemon's device has two queues (sysfs, `ip -d`),
 * ping, a 10 MB TCP download and many UDP flows work, the flows spread over both packet
 * Workers (each Worker's counter row receives packets), a SIGHUP reaches both Workers, and
 * SIGTERM stops them; with `Queues = 1` the device is opened without IFF_MULTI_QUEUE.
 *
 * @module
 */

import assert from "node:assert/strict";
import { patternSha256 } from "../../examples/netns_servers.ts";
import {
  ADDRESS4,
  curl,
  type Daemon,
  e2eTest,
  embed,
  ping6,
  PORTS,
  run,
  SERVER6,
  sleep,
  type Topology,
  udpExchange,
} from "./_harness.ts";

const DOWNLOAD_BYTES = 10 * 1024 * 1024;
/** UDP flows per batch: all on one of two queues has odds 2^-15 with the kernel's hash. */
const FLOWS = 16;

/** The properties of every `"event":"counters"` line the daemon logged so far. */
function countersLines(stderr: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.includes('"counters"')) continue;
    try {
      const props = JSON.parse(line).properties;
      if (props?.event === "counters") out.push(props);
    } catch { /* a partial line */ }
  }
  return out;
}

/** Sends SIGUSR2 and returns the counters line it logs (waits at most 5 s). */
async function counters(daemon: Daemon): Promise<Record<string, unknown>> {
  const before = countersLines(daemon.proc.stderr).length;
  daemon.proc.kill("SIGUSR2");
  for (let i = 0; i < 50; i++) {
    const lines = countersLines(daemon.proc.stderr);
    if (lines.length > before) return lines.at(-1)!;
    await sleep(100);
  }
  assert.fail(`no counters line after SIGUSR2; stderr:\n${daemon.proc.stderr}`);
}

/** `FLOWS` UDP datagrams, each from a socket (a source port, a flow) of its own. */
async function udpFlows(topo: Topology): Promise<void> {
  const sizes = Array.from({ length: FLOWS }, (_, i) => 64 + i);
  const out = await udpExchange(topo, topo.clients[0]!, PORTS.echo, sizes, { socketEach: true });
  assert.deepEqual(
    out,
    sizes.map((size) => ({ size, result: "reply", replyBytes: size, equal: true })),
  );
}

async function sha256Hex(path: string): Promise<{ hex: string; bytes: number }> {
  const data = await Deno.readFile(path);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return {
    hex: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
    bytes: data.length,
  };
}

/** The device's queue directories in sysfs and its `ip -d link` line, in the translator's namespace. */
async function deviceQueues(
  topo: Topology,
  tun: string,
): Promise<{ dirs: string[]; link: string }> {
  const ls = await topo.exec(topo.translatorNs, ["ls", `/sys/class/net/${tun}/queues`]);
  assert.equal(ls.code, 0, ls.stderr);
  const link = await run(["ip", "-n", topo.translatorNs, "-d", "link", "show", "dev", tun]);
  assert.equal(link.code, 0, link.stderr);
  return { dirs: ls.stdout.split(/\s+/).filter((d) => d !== "").sort(), link: link.stdout };
}

e2eTest("Queues = 2: two TUN queues, one packet Worker each, sharing the work", {
  topology: { clients: 1, tag: "mq" },
  translators: ["protomask"],
  tools: ["ping", "curl"],
  timeoutMs: 150_000,
}, async ({ topo, start }, t) => {
  const daemon = await start({ queues: 2 });
  const tun = daemon.tunName!;
  const c = topo.clients[0]!;

  await t.step("the device has two rx and two tx queues (IFF_MULTI_QUEUE)", async () => {
    const q = await deviceQueues(topo, tun);
    assert.deepEqual(q.dirs, ["rx-0", "rx-1", "tx-0", "tx-1"]);
    assert.match(q.link, /multi_queue numqueues 2 /, q.link);
    assert.match(daemon.proc.stderr, /"event":"ready"[^\n]*"queues":2/);
  });

  await t.step("ping6 gets every echo reply", async () => {
    const r = await ping6(topo, c, SERVER6, { count: 3 });
    assert.match(r.stdout, /3 packets transmitted, 3 received/, r.stdout + r.stderr);
  });

  await t.step("a 10 MB HTTP download arrives intact (SHA-256)", async () => {
    const file = `${topo.dir}/download.bin`;
    const r = await curl(topo, c, `/bytes/${DOWNLOAD_BYTES}`, ["-o", file], 60);
    assert.equal(r.code, 0, `curl: ${r.stderr}`);
    const got = await sha256Hex(file);
    assert.equal(got.bytes, DOWNLOAD_BYTES);
    assert.equal(got.hex, patternSha256(DOWNLOAD_BYTES));
  });

  await t.step(`${FLOWS} UDP flows all come back, and both Workers received packets`, async () => {
    await udpFlows(topo);
    const props = await counters(daemon);
    const byQueue = props.receivedByQueue as number[];
    assert.equal(byQueue.length, 2, JSON.stringify(props));
    assert.ok(byQueue.every((n) => n > 0), `a queue received nothing: ${JSON.stringify(props)}`);
    const total = (props.counters as Record<string, number>).received;
    assert.equal(byQueue[0]! + byQueue[1]!, total, "the totals are the sum of the rows");
  });

  await t.step("a SIGHUP reaches both Workers (each counts one reload)", async () => {
    daemon.proc.kill("SIGHUP");
    assert.ok(
      await daemon.proc.waitForOutput(/configuration reloaded/, 5000),
      daemon.proc.stderr,
    );
    // A Worker switches at its next packet: new flows give both queues one.
    await udpFlows(topo);
    const props = await counters(daemon);
    assert.equal((props.counters as Record<string, number>).reloads, 2, JSON.stringify(props));
    assert.doesNotMatch(daemon.proc.stderr, /takes a restart/);
  });

  await t.step("Queues changed on SIGHUP needs a restart and the two queues stay", async () => {
    const text = await Deno.readTextFile(daemon.configPath);
    await Deno.writeTextFile(daemon.configPath, text.replace("Queues = 2", "Queues = 3"));
    daemon.proc.kill("SIGHUP");
    assert.ok(
      await daemon.proc.waitForOutput(/Interface\.Queues changed; that takes a restart/, 5000),
      daemon.proc.stderr,
    );
    assert.ok(await daemon.proc.waitForOutput(/"generation":2/, 5000), daemon.proc.stderr);
    assert.deepEqual((await deviceQueues(topo, tun)).dirs, ["rx-0", "rx-1", "tx-0", "tx-1"]);
    await udpFlows(topo);
  });

  await t.step("SIGTERM stops both Workers and the daemon exits 0", async () => {
    const stopped = await daemon.proc.stop("SIGTERM", 5000);
    assert.equal(stopped.code, 0, daemon.proc.stderr);
    assert.equal(stopped.forced, false);
    const last = countersLines(daemon.proc.stderr).at(-1)!;
    assert.equal((last.receivedByQueue as number[]).length, 2);
    const links = await run(["ip", "-n", topo.translatorNs, "-o", "link", "show", "type", "tun"]);
    assert.equal(links.stdout.trim(), "", "the TUN device went with its fds");
  });
});

e2eTest("Queues = 1: the device is opened without IFF_MULTI_QUEUE, as before", {
  topology: { clients: 1, ipv4Side: false, tag: "sq" },
  translators: ["protomask"],
  tools: ["ping"],
  timeoutMs: 60_000,
}, async ({ topo, start }) => {
  const daemon = await start({ queues: 1 });
  const q = await deviceQueues(topo, daemon.tunName!);
  assert.deepEqual(q.dirs, ["rx-0", "tx-0"]);
  assert.doesNotMatch(q.link, /multi_queue/, q.link);
  // The translator answers pings to its own address through the one queue.
  const r = await ping6(topo, topo.clients[0]!, embed(ADDRESS4), { count: 2 });
  assert.match(r.stdout, /2 packets transmitted, 2 received/, r.stdout + r.stderr);
  const props = await counters(daemon);
  assert.deepEqual((props.receivedByQueue as number[]).length, 1);
});
