/**
 * 464XLAT end to end (RFC 6877), in namespaces of its own:
 *
 * ```
 *  app (IPv4 only)        clat host (IPv6 uplink)            PLAT                  router    server
 *  eth0 192.168.77.2 --- a0 192.168.77.1                     (protomask NAT64)
 *                         TUN: protomask clat               TUN: protomask
 *                         eth0 2001:db8:a:1::2 === MTU 1280 === c1 2001:db8:a:1::1
 *                                                            r0 203.0.113.1 ----- x0 … s0 ----- 198.51.100.2
 * ```
 *
 * The CLAT maps its customers (the app's LAN, and its own host address 192.0.0.1) into
 * `Source6` 2001:db8:c1a7::/64, which the PLAT's namespace routes to it; `Via` is the PLAT's
 * prefix. ping, UDP, TCP (10 MB down, 2 MB up), traceroute, and path-MTU discovery and
 * fragmentation of a 1500-byte IPv4 path over the 1280-byte IPv6 link; a router on the
 * customers' side outside `CustomerPool` whose Fragmentation Needed must reach the server;
 * `Via = "auto"` from an RFC 8781 Router Advertisement; `NeighborProxy`.
 */

import assert from "node:assert/strict";
import { patternSha256 } from "../../examples/netns_servers.ts";
import {
  type Client,
  type Daemon,
  e2eTest,
  ipIn,
  PORTS,
  repoPath,
  type RunResult,
  SERVER_V4,
  startProtomask,
  type Topology,
} from "../e2e/_harness.ts";

/** The app's LAN behind the CLAT. */
const APP_V4 = "192.168.77.2";
const LAN_GW_V4 = "192.168.77.1";
/** The customers' IPv6 prefix (RFC 6877 §6.3: a dedicated /64 routed to the CLAT). */
const SOURCE6 = "2001:db8:c1a7::/64";
/** The CLAT's own IPv4 address (the default). */
const CLAT_ADDRESS4 = "192.0.0.2";
/** The PLAT's own IPv4 address (the harness's Address4). */
const PLAT_ADDRESS4 = "192.0.2.1";
/** The IPv6 link between the CLAT host and the PLAT. */
const UPLINK_MTU = 1280;

/** The CLAT's configuration for this topology. */
export function clatToml(extra: string[] = []): string {
  return [
    "[Clat]",
    'CustomerPool = ["192.0.0.0/29", "192.168.77.0/24"]',
    'Via = "2001:db8:64::/96"',
    `Source6 = "${SOURCE6}"`,
    ...extra,
    "",
  ].join("\n");
}

/** How {@link build464} varies the topology. */
export interface Build464Options {
  /** The PLAT's namespace routes `SOURCE6` to the CLAT host (else the CLAT answers Neighbor
   * Discovery for its addresses on the shared link); default true. */
  routeSource6?: boolean;
  /** MTU of the IPv6 link between the CLAT host and the PLAT; default 1280. */
  uplinkMtu?: number;
}

/**
 * The app namespace behind the CLAT host, and the CLAT host's side of the topology.
 * @param topo the topology
 * @param clatHost the client namespace that runs the CLAT
 * @param opts what varies
 * @returns the app namespace
 */
export async function build464(
  topo: Topology,
  clatHost: Client,
  { routeSource6 = true, uplinkMtu = UPLINK_MTU }: Build464Options = {},
): Promise<string> {
  const app = await topo.addNamespace("a");
  const h = clatHost.ns;
  await topo.sysctl(app, "net.ipv6.conf.all.disable_ipv6", "1");
  await topo.sysctl(h, "net.ipv4.ip_forward", "1");
  await topo.sysctl(h, "net.ipv6.conf.all.forwarding", "1");
  await ipIn(h, `link add a0 type veth peer name eth0 netns ${app}`);
  await ipIn(h, `addr add ${LAN_GW_V4}/24 dev a0`);
  await ipIn(h, "link set a0 up");
  await ipIn(app, `addr add ${APP_V4}/24 dev eth0`);
  await ipIn(app, "link set eth0 up");
  await ipIn(app, `route add default via ${LAN_GW_V4} dev eth0`);
  // The narrow IPv6 link, both ends.
  await ipIn(h, `link set eth0 mtu ${uplinkMtu}`);
  await ipIn(topo.translatorNs, `link set c${clatHost.index} mtu ${uplinkMtu}`);
  // The operator routes the customers' prefix to the CLAT host.
  if (routeSource6) await ipIn(topo.translatorNs, `-6 route add ${SOURCE6} via ${clatHost.addr}`);
  return app;
}

/** Starts `main.ts clat` in the CLAT host's namespace. */
export function startClat(topo: Topology, clatHost: Client, toml: string): Promise<Daemon> {
  return startProtomask(topo, {
    configText: toml,
    configName: "clat.toml",
    ns: clatHost.ns,
    subcommand: "clat",
  });
}

function describe(r: RunResult): string {
  return `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
}

e2eTest("clat: 464XLAT — an IPv4-only app reaches an IPv4-only server through CLAT and PLAT", {
  topology: { clients: 1, tag: "x4" },
  tools: ["ping", "curl", "dig", "traceroute", "sha256sum"],
  translators: ["protomask"],
  timeoutMs: 180_000,
}, async ({ topo, start }) => {
  const host = topo.clients[0]!;
  const app = await build464(topo, host);
  await start();
  const clat = await startClat(topo, host, clatToml());
  const exec = (ns: string, cmd: string[], timeoutMs = 30_000) => topo.exec(ns, cmd, { timeoutMs });

  // ping: from the app on the LAN, and from the CLAT host itself (HostAddress 192.0.0.1).
  const ping = await exec(app, ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "3", SERVER_V4]);
  assert.equal(ping.code, 0, describe(ping));
  assert.match(ping.stdout, / 0% packet loss/);
  const hostPing = await exec(host.ns, ["ping", "-n", "-c", "2", "-W", "3", SERVER_V4]);
  assert.equal(hostPing.code, 0, describe(hostPing));
  assert.match(hostPing.stdout, /from 198\.51\.100\.2/);

  // UDP: a DNS query to the server's responder.
  const dns = await exec(app, [
    "dig",
    "+tries=2",
    "+time=3",
    `@${SERVER_V4}`,
    "-p",
    String(PORTS.dns),
    "clat.example.",
    "A",
  ]);
  assert.equal(dns.code, 0, describe(dns));
  assert.match(dns.stdout, /status: NOERROR/);
  assert.match(dns.stdout, /198\.51\.100\.80/);

  // TCP: 10 MB down and 2 MB up, byte for byte (path-MTU discovery across both translators:
  // the server's and the app's 1500-byte segments meet the 1280-byte link).
  const down = 10 * 1024 * 1024;
  const file = `${topo.dir}/down.bin`;
  const get = await exec(app, [
    "curl",
    "-sS",
    "--max-time",
    "90",
    "-o",
    file,
    `http://${SERVER_V4}:${PORTS.http}/bytes/${down}`,
  ], 100_000);
  assert.equal(get.code, 0, describe(get));
  const sum = await exec(app, ["sha256sum", file]);
  assert.equal(sum.stdout.split(" ")[0], patternSha256(down), "download intact");
  const upFile = `${topo.dir}/up.bin`;
  await Deno.writeFile(upFile, new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 7) & 0xff));
  const post = await exec(app, [
    "curl",
    "-sS",
    "--max-time",
    "60",
    "--data-binary",
    `@${upFile}`,
    `http://${SERVER_V4}:${PORTS.http}/sha256`,
  ], 70_000);
  assert.equal(post.code, 0, describe(post));
  const upSum = await exec(app, ["sha256sum", upFile]);
  assert.equal(
    post.stdout.trim(),
    `${upSum.stdout.split(" ")[0]} ${2 * 1024 * 1024}`,
    "upload intact",
  );

  // traceroute: the CLAT (TTL), the PLAT (its Address6, back through Via), the IPv4 router.
  const tr = await exec(app, [
    "traceroute",
    "-n",
    "-q",
    "1",
    "-w",
    "2",
    "-m",
    "12",
    SERVER_V4,
  ], 60_000);
  assert.equal(tr.code, 0, describe(tr));
  const hops = tr.stdout.split("\n").slice(1).map((l) => l.trim().split(/\s+/)[1] ?? "");
  for (const want of [LAN_GW_V4, CLAT_ADDRESS4, PLAT_ADDRESS4, "203.0.113.2", SERVER_V4]) {
    assert.ok(hops.includes(want), `hop ${want} in:\n${tr.stdout}`);
  }
  assert.equal(hops.filter((h) => h !== "").at(-1), SERVER_V4, tr.stdout);

  // Path MTU: DF set, 1500 bytes. The CLAT answers 1480 (its MTU6), then the 1280-byte link's
  // Packet Too Big comes back translated as 1260; a 1260-byte ping then gets through.
  const seen: number[] = [];
  for (let i = 0; i < 6 && !seen.includes(1260); i++) {
    const big = await exec(app, [
      "ping",
      "-n",
      "-c",
      "1",
      "-W",
      "2",
      "-M",
      "do",
      "-s",
      "1472",
      SERVER_V4,
    ]);
    for (const m of (big.stdout + big.stderr).matchAll(/mtu ?= ?(\d+)/g)) seen.push(Number(m[1]));
  }
  assert.ok(seen.includes(1260), `Fragmentation Needed with MTU 1260, saw ${seen.join(", ")}`);
  const fits = await exec(app, [
    "ping",
    "-n",
    "-c",
    "2",
    "-W",
    "3",
    "-M",
    "do",
    "-s",
    "1232",
    SERVER_V4,
  ]);
  assert.equal(fits.code, 0, describe(fits));
  // DF clear: the CLAT fragments to 1280 (RFC 7915 §4 lowest-ipv6-mtu), the PLAT reassembles
  // the ICMP echo, and the reply comes back.
  const frag = await exec(app, [
    "ping",
    "-n",
    "-c",
    "3",
    "-W",
    "3",
    "-M",
    "dont",
    "-s",
    "1472",
    SERVER_V4,
  ]);
  assert.match(frag.stdout, /1480 bytes from 198\.51\.100\.2/, describe(frag));
  assert.equal(clat.proc.status, null, `the CLAT still runs:\n${clat.proc.stderr}`);
});

/** A PREF64 option (RFC 8781 §4) for 2001:db8:64::/96 (PLC 0), lifetime in seconds, as hex. */
/** The deep LAN behind a router on the customers' side (see the test below). */
const DEEP_V4 = "192.168.78.2";
/** That router's address toward the CLAT host: outside `CustomerPool`. */
const LAN_ROUTER_V4 = "10.99.0.2";

e2eTest(
  "clat: Fragmentation Needed from a LAN router outside CustomerPool reaches the server through CLAT and PLAT (RFC 6791), so TCP gets through its 1400-byte hop",
  {
    topology: { clients: 1, tag: "xr" },
    tools: ["curl", "sha256sum"],
    translators: ["protomask"],
    timeoutMs: 150_000,
  },
  async ({ topo, start }) => {
    // clat host t0 10.99.0.1 --- eth0 10.99.0.2 [router] r1 192.168.78.1 === MTU 1400 === eth0
    // 192.168.78.2 [deep]. The deep host advertises MSS 1460, as a host on a 1500-byte LAN
    // would; the server learns 1400 only from the router's Fragmentation Needed, whose source
    // 10.99.0.2 is nobody's customer address.
    const host = topo.clients[0]!;
    await build464(topo, host, { uplinkMtu: 1500 });
    const router = await topo.addNamespace("lr");
    const deep = await topo.addNamespace("ld");
    const h = host.ns;
    await topo.sysctl(router, "net.ipv4.ip_forward", "1");
    await topo.sysctl(deep, "net.ipv6.conf.all.disable_ipv6", "1");
    await ipIn(h, `link add t0 type veth peer name eth0 netns ${router}`);
    await ipIn(h, "addr add 10.99.0.1/30 dev t0");
    await ipIn(h, "link set t0 up");
    await ipIn(h, `route add 192.168.78.0/24 via ${LAN_ROUTER_V4} dev t0`);
    await ipIn(router, `addr add ${LAN_ROUTER_V4}/30 dev eth0`);
    await ipIn(router, "link set eth0 up");
    await ipIn(router, "route add default via 10.99.0.1 dev eth0");
    await ipIn(router, `link add r1 type veth peer name eth0 netns ${deep}`);
    await ipIn(router, "addr add 192.168.78.1/24 dev r1");
    await ipIn(router, "link set r1 mtu 1400 up");
    await ipIn(deep, `addr add ${DEEP_V4}/24 dev eth0`);
    await ipIn(deep, "link set eth0 mtu 1400 up");
    await ipIn(deep, "route add default via 192.168.78.1 dev eth0 advmss 1460");
    await start();
    const clat = await startClat(
      topo,
      host,
      [
        "[Clat]",
        'CustomerPool = ["192.0.0.0/29", "192.168.78.0/24"]',
        'Via = "2001:db8:64::/96"',
        `Source6 = "${SOURCE6}"`,
        "",
      ].join("\n"),
    );
    const down = 1024 * 1024;
    const file = `${topo.dir}/deep.bin`;
    const get = await topo.exec(deep, [
      "curl",
      "-sS",
      "--max-time",
      "40",
      "-o",
      file,
      `http://${SERVER_V4}:${PORTS.http}/bytes/${down}`,
    ], { timeoutMs: 50_000 });
    assert.equal(get.code, 0, `the download stalls without the router's error:\n${describe(get)}`);
    const sum = await topo.exec(deep, ["sha256sum", file], { timeoutMs: 10_000 });
    assert.equal(sum.stdout.split(" ")[0], patternSha256(down), "download intact");
    assert.equal(clat.proc.status, null, `the CLAT still runs:\n${clat.proc.stderr}`);
  },
);

function pref64Option(lifetimeSecs: number): string {
  return "2602" + ((lifetimeSecs / 8) << 3).toString(16).padStart(4, "0") + "20010db8" +
    "00640000" + "00000000";
}

e2eTest(
  "clat: Via = auto — nothing routed until an RFC 8781 Router Advertisement brings the PLAT prefix, and gone when it is withdrawn",
  {
    topology: { clients: 1, tag: "xa" },
    tools: ["ping"],
    translators: ["protomask"],
    timeoutMs: 120_000,
  },
  async ({ topo, start }) => {
    const host = topo.clients[0]!;
    const app = await build464(topo, host);
    // The uplink takes RAs while the host forwards (accept_ra 2), as the README says.
    await topo.sysctl(host.ns, "net.ipv6.conf.eth0.accept_ra", "2");
    await start();
    const clat = await startClat(
      topo,
      host,
      clatToml(['Via = "auto"', 'Uplink = "eth0"']).replace('Via = "2001:db8:64::/96"\n', ""),
    );
    const exec = (ns: string, cmd: string[]) => topo.exec(ns, cmd, { timeoutMs: 20_000 });
    const sendRa = async (lifetimeSecs: number) => {
      const r = await exec(topo.translatorNs, [
        "/usr/bin/python3",
        repoPath("tests/clat/_send_ra.py"),
        `c${host.index}`,
        "fe80::64",
        pref64Option(lifetimeSecs),
      ]);
      assert.equal(r.code, 0, describe(r));
    };

    // Logged right after the ready line.
    const waiting = await clat.proc.waitForOutput(/waiting for a PLAT prefix/, 5000);
    assert.ok(waiting, clat.proc.stderr);
    const before = await exec(host.ns, ["ping", "-n", "-c", "1", "-W", "2", SERVER_V4]);
    assert.notEqual(before.code, 0);
    assert.match(before.stdout + before.stderr, /Network is unreachable/, describe(before));

    await sendRa(1800);
    const found = await clat.proc.waitForOutput(/PLAT prefix[^\n]*2001:db8:64::\/96[^\n]*/, 15_000);
    assert.ok(found, `no prefix taken:\n${clat.proc.stderr}`);
    assert.match(found[0], /\bra\b/, "learned from the RA");
    let ok: RunResult | null = null;
    for (let i = 0; i < 10 && ok?.code !== 0; i++) {
      ok = await exec(app, ["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", SERVER_V4]);
    }
    assert.equal(ok!.code, 0, describe(ok!));
    assert.match(ok!.stdout, /bytes from 198\.51\.100\.2/);

    // Lifetime 0 withdraws the prefix: the IPv4 routes go again.
    await sendRa(0);
    const lost = await clat.proc.waitForOutput(/PLAT prefix[^\n]*none/, 15_000);
    assert.ok(lost, `prefix not withdrawn:\n${clat.proc.stderr}`);
    const after = await exec(host.ns, ["ping", "-n", "-c", "1", "-W", "2", SERVER_V4]);
    assert.match(after.stdout + after.stderr, /Network is unreachable/, describe(after));
    assert.equal(clat.proc.status, null, "the CLAT still runs");
  },
);

e2eTest(
  "clat: NeighborProxy — customers get /128s from the uplink's own /64 and the CLAT answers Neighbor Discovery for them",
  {
    topology: { clients: 1, tag: "xn" },
    tools: ["ping"],
    translators: ["protomask"],
    timeoutMs: 90_000,
  },
  async ({ topo, start }) => {
    const host = topo.clients[0]!;
    const app = await build464(topo, host, { routeSource6: false });
    await start();
    // 2001:db8:a:1::/64 is the link between the CLAT host and the PLAT; nobody routes to it.
    const clat = await startClat(
      topo,
      host,
      [
        "[Clat]",
        'CustomerPool = ["192.168.77.0/29"]',
        'Via = "2001:db8:64::/96"',
        'Source6 = "2001:db8:a:1::6400/125"',
        'HostAddress = ""',
        'Uplink = "eth0"',
        "NeighborProxy = true",
        "",
      ].join("\n"),
    );
    // Set up right after the ready line.
    const set = await clat.proc.waitForOutput(/answering Neighbor Discovery on eth0/, 5000);
    assert.ok(set, clat.proc.stderr);
    const proxies = await topo.exec(host.ns, ["ip", "-6", "neigh", "show", "proxy", "dev", "eth0"]);
    assert.match(proxies.stdout, /2001:db8:a:1::6402 /, "the app's /128 (index 2 of the pool)");
    const ping = await topo.exec(app, ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "3", SERVER_V4]);
    assert.equal(ping.code, 0, describe(ping));
    assert.match(ping.stdout, / 0% packet loss/);
    const stopped = await clat.proc.stop("SIGTERM", 10_000);
    assert.equal(stopped.code, 0, clat.proc.stderr);
    const after = await topo.exec(host.ns, ["ip", "-6", "neigh", "show", "proxy", "dev", "eth0"]);
    assert.equal(after.stdout.trim(), "", "the entries go with the CLAT");
  },
);
