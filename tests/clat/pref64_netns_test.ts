// PREF64 discovery (runtime/pref64.ts) on real packets, in namespaces of its own:
//
//   host (the CLAT's side)                    router (the test's RA and DNS64 source)
//   up0  accept_ra=2, forwarding=1  ------  rt0   Router Advertisements (tests/clat/_send_ra.py)
//   up1  accept_ra=2                ------  rt1   (another link: not the Uplink)
//   lo   127.0.0.1: tests/clat/_dns64_server.ts (a DNS64 stand-in on a Deno UDP socket)
//
// The discovery runs in the host namespace as tests/clat/_pref64_probe.ts, which prints each
// onChange as a JSON line. Every wait is bounded; namespaces are removed in `finally`.
import assert from "node:assert/strict";
import { ipIn, must, Proc, repoPath, run, sleep } from "../../examples/netns.ts";

const RA_SENDER = repoPath("tests/clat/_send_ra.py");

/** A PREF64 option (RFC 8781 §4) as hex: lifetime in seconds (a multiple of 8), PLC, 12 bytes. */
function pref64Hex(lifetimeSecs: number, plc: number, prefix96Hex: string): string {
  const word = ((lifetimeSecs / 8) << 3) | plc;
  return "2602" + word.toString(16).padStart(4, "0") + prefix96Hex;
}

const P_64 = "20010db8" + "00640000" + "00000000"; // 2001:db8:64::
const P_WKP = "0064ff9b" + "00000000" + "00000000"; // 64:ff9b::
const P_NEW = "20010db8" + "00460001" + "00000000"; // 2001:db8:46:1::

interface Net {
  host: string;
  router: string;
  teardown(): Promise<void>;
}

async function makeNet(tag: string): Promise<Net> {
  const id = `${Deno.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const host = `pm-p64${tag}-h-${id}`;
  const router = `pm-p64${tag}-r-${id}`;
  const created: string[] = [];
  const teardown = async () => {
    for (const ns of created.reverse()) await run(["ip", "netns", "del", ns]);
  };
  try {
    for (const ns of [host, router]) {
      await must(["ip", "netns", "add", ns]);
      created.push(ns);
      await ipIn(ns, "link set lo up");
    }
    for (const [a, b] of [["up0", "rt0"], ["up1", "rt1"]]) {
      await ipIn(host, `link add ${a} type veth peer name ${b} netns ${router}`);
      await must([
        "ip",
        "netns",
        "exec",
        host,
        "sysctl",
        "-qw",
        `net.ipv6.conf.${a}.accept_ra=2`,
        `net.ipv6.conf.${a}.forwarding=${a === "up0" ? 1 : 0}`,
      ]);
      await ipIn(host, `link set ${a} up`);
      await ipIn(router, `link set ${b} up`);
    }
    return { host, router, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}

/** Sends RAs, one per option, from `src` out of the router's `iface`. */
async function sendRas(net: Net, iface: string, src: string, ...opts: string[]): Promise<void> {
  const r = await run(
    ["ip", "netns", "exec", net.router, "/usr/bin/python3", RA_SENDER, iface, src, ...opts],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.code, 0, `send RA: ${r.stderr}`);
}

function startProbe(net: Net, args: string[]): Proc {
  return new Proc([
    "ip",
    "netns",
    "exec",
    net.host,
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-ffi",
    "--allow-net",
    "--allow-read",
    repoPath("tests/clat/_pref64_probe.ts"),
    ...args,
  ], "pref64 probe");
}

/** The onChange lines the probe printed so far. */
function changes(p: Proc): { prefix: string | null; source: string }[] {
  return p.stdout.trim().split("\n").filter((l) => l.includes('"source"')).map((l) =>
    JSON.parse(l)
  );
}

/** Waits (bounded) until the probe has printed `count` changes; returns them all. */
async function waitChanges(p: Proc, count: number, timeoutMs: number) {
  for (let waited = 0; waited <= timeoutMs; waited += 50) {
    if (changes(p).length >= count) return changes(p);
    if (p.status !== null) break;
    await sleep(50);
  }
  assert.fail(
    `expected ${count} changes, got ${JSON.stringify(changes(p))}; stderr: ${p.stderr}`,
  );
}

async function stopProbe(p: Proc): Promise<void> {
  const st = await p.stop("SIGTERM", 5000);
  assert.equal(st.forced, false, "the probe did not stop on SIGTERM");
  assert.equal(st.code, 0, p.stderr);
  assert.match(p.stdout, /"stopped":true/);
}

Deno.test({
  name:
    "clat pref64: a real RA's PREF64 option sets the prefix; lifetime 0 withdraws it, and a short lifetime expires",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const net = await makeNet("ra");
    let probe: Proc | null = null;
    try {
      // No DNS in this test: the grace period outlasts it.
      probe = startProbe(net, ["--uplink", "up0", "--grace-ms", "120000"]);
      assert.ok(await probe.waitForOutput(/"ready":true/, 20_000), probe.stderr);

      // An RA on up1 (not the Uplink) first, then one on up0: only up0's counts.
      await sendRas(net, "rt1", "fe80::9", pref64Hex(1800, 0, P_WKP));
      await sendRas(net, "rt0", "fe80::1", pref64Hex(1800, 0, P_64));
      assert.deepEqual(await waitChanges(probe, 1, 10_000), [
        { prefix: "2001:db8:64::/96", source: "ra" },
      ]);

      // A malformed option (PLC 7) is reported and changes nothing; a second router's new /64
      // prefix (PLC 1) is taken, then its withdrawal brings the first one back.
      await sendRas(
        net,
        "rt0",
        "fe80::2",
        pref64Hex(1800, 7, P_NEW),
        pref64Hex(1800, 1, P_NEW),
        pref64Hex(0, 1, P_NEW),
      );
      assert.deepEqual((await waitChanges(probe, 3, 10_000)).slice(1), [
        { prefix: "2001:db8:46:1::/64", source: "ra" },
        { prefix: "2001:db8:64::/96", source: "ra" },
      ]);
      assert.match(probe.stderr, /PREF64 option from fe80::2 ignored: PLC 7 is not assigned/);

      // Lifetime 0 from the first router: no prefix any more.
      await sendRas(net, "rt0", "fe80::1", pref64Hex(0, 0, P_64));
      assert.deepEqual((await waitChanges(probe, 4, 10_000))[3], { prefix: null, source: "ra" });

      // A lifetime of 8 s (Scaled Lifetime 1) runs out without a withdrawal.
      await sendRas(net, "rt0", "fe80::1", pref64Hex(8, 0, P_WKP));
      assert.deepEqual((await waitChanges(probe, 5, 10_000))[4], {
        prefix: "64:ff9b::/96",
        source: "ra",
      });
      assert.deepEqual((await waitChanges(probe, 6, 20_000))[5], { prefix: null, source: "ra" });

      await stopProbe(probe);
      probe = null;
    } finally {
      if (probe !== null) await probe.stop("SIGKILL", 5000).catch(() => {});
      await net.teardown();
    }
  },
});

Deno.test({
  name:
    "clat pref64: with no RA the RFC 7050 query to Resolver gives the prefix; an RA's prefix wins while valid",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const net = await makeNet("dns");
    let dns: Proc | null = null;
    let probe: Proc | null = null;
    try {
      dns = new Proc([
        "ip",
        "netns",
        "exec",
        net.host,
        Deno.execPath(),
        "run",
        "--quiet",
        "--unstable-net",
        "--allow-net",
        repoPath("tests/clat/_dns64_server.ts"),
        "--listen",
        "127.0.0.1",
        "--port",
        "5353",
        // A DNS64 with 2001:db8:64::/96, answering both well-known addresses; from the third
        // query on it has moved to 2001:db8:46::/48 (192.0.0.170/171 at bytes 6, 7, 9, 10).
        "--answer",
        "2001:db8:64::c000:aa",
        "--answer",
        "2001:db8:64::c000:ab",
        "--switch-after",
        "2",
        "--then",
        "2001:db8:46:c000:0:aa00::",
        "--then",
        "2001:db8:46:c000:0:ab00::",
      ], "dns64 server");
      assert.ok(await dns.waitForOutput(/"listening":true/, 20_000), dns.stderr);

      probe = startProbe(net, [
        "--uplink",
        "up0",
        "--resolver",
        "127.0.0.1:5353",
        "--grace-ms",
        "300",
        "--dns-interval",
        "1",
      ]);
      assert.ok(await probe.waitForOutput(/"ready":true/, 20_000), probe.stderr);
      // The first answers, then the DNS64's new prefix at a later query (re-queried every 1 s).
      assert.deepEqual(await waitChanges(probe, 2, 20_000), [
        { prefix: "2001:db8:64::/96", source: "dns" },
        { prefix: "2001:db8:46::/48", source: "dns" },
      ]);
      assert.match(dns.stdout, /"query":"ipv4only.arpa","qtype":28,"n":3/);

      // An RA's prefix takes over, and DNS is not asked while it is valid.
      await sendRas(net, "rt0", "fe80::1", pref64Hex(1800, 0, P_WKP));
      assert.deepEqual((await waitChanges(probe, 3, 10_000))[2], {
        prefix: "64:ff9b::/96",
        source: "ra",
      });
      await sleep(300); // a query already in flight when the RA came may still finish
      const queriesAtRa = dns.stdout.split("\n").filter((l) => l.includes('"query"')).length;
      await sleep(2500); // more than two DNS intervals
      const queriesLater = dns.stdout.split("\n").filter((l) => l.includes('"query"')).length;
      assert.equal(queriesLater, queriesAtRa, "DNS was asked while an RA prefix was valid");

      // Withdrawn: DNS's prefix again, in one change (no "null" in between).
      await sendRas(net, "rt0", "fe80::1", pref64Hex(0, 0, P_WKP));
      assert.deepEqual((await waitChanges(probe, 4, 20_000))[3], {
        prefix: "2001:db8:46::/48",
        source: "dns",
      });
      assert.equal(changes(probe).length, 4);

      await stopProbe(probe);
      probe = null;
    } finally {
      if (probe !== null) await probe.stop("SIGKILL", 5000).catch(() => {});
      if (dns !== null) await dns.stop("SIGKILL", 5000).catch(() => {});
      await net.teardown();
    }
  },
});

Deno.test({
  name: "clat pref64: without Resolver the RFC 7050 query goes to the system's resolv.conf",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const net = await makeNet("sys");
    // `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf.
    const etc = `/etc/netns/${net.host}`;
    let dns: Proc | null = null;
    let probe: Proc | null = null;
    try {
      await Deno.mkdir(etc, { recursive: true });
      await Deno.writeTextFile(`${etc}/resolv.conf`, "nameserver 127.0.0.1\n");
      dns = new Proc([
        "ip",
        "netns",
        "exec",
        net.host,
        Deno.execPath(),
        "run",
        "--quiet",
        "--unstable-net",
        "--allow-net",
        repoPath("tests/clat/_dns64_server.ts"),
        "--listen",
        "127.0.0.1",
        "--port",
        "53",
        "--answer",
        "64:ff9b::c000:aa",
        "--answer",
        "64:ff9b::c000:ab",
      ], "dns64 server");
      assert.ok(await dns.waitForOutput(/"listening":true/, 20_000), dns.stderr);
      probe = startProbe(net, ["--grace-ms", "300"]);
      assert.ok(await probe.waitForOutput(/"ready":true/, 20_000), probe.stderr);
      assert.deepEqual(await waitChanges(probe, 1, 20_000), [
        { prefix: "64:ff9b::/96", source: "dns" },
      ]);
      assert.match(dns.stdout, /"query":"ipv4only.arpa","qtype":28/);
      await stopProbe(probe);
      probe = null;
    } finally {
      if (probe !== null) await probe.stop("SIGKILL", 5000).catch(() => {});
      if (dns !== null) await dns.stop("SIGKILL", 5000).catch(() => {});
      await Deno.remove(etc, { recursive: true }).catch(() => {});
      await net.teardown();
    }
  },
});
