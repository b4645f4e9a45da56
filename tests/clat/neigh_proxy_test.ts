// Proxy Neighbor Discovery for a CLAT's Source6 addresses (RFC 6877 §6.3: the kernel answers
// Neighbor Solicitations for a customer's /128 on the uplink). The request bytes are those of
// iproute2 6.1 (`strace -e trace=sendmsg ip -6 neigh add proxy 2001:db8::c000:201 dev d0
// proto 77` and `… del proxy …`, interface index 2, little-endian); the namespace test checks
// on real packets that a peer's solicitation is answered with our MAC, and no longer after
// the entry is deleted.
import assert from "node:assert/strict";
import { ipv6ConfPath } from "../../ffi/netlink.ts";
import { encodeProxyNeigh, netlinkMessages, RTPROT_PROTOMASK } from "../../ffi/netlink_msg.ts";
import { parseIpv6 } from "../../lib/addr/ipv6.ts";
import { ipIn, must, Proc, repoPath, run, sleep } from "../../examples/netns.ts";
import { hex, toHex } from "../_util/packets.ts";

const SEQ = 0x6b13e682;

Deno.test("clat neigh proxy: encodeProxyNeigh() builds the RTM_NEWNEIGH `ip -6 neigh add proxy … proto 77` sends", () => {
  assert.equal(RTPROT_PROTOMASK, 77);
  // deno-fmt-ignore
  const want = hex(
    "38000000" + // nlmsg_len 56
    "1c000506" + // RTM_NEWNEIGH, NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
    "82e6136b" + // nlmsg_seq
    "00000000" + // nlmsg_pid
    "0a000000" + // ndm_family AF_INET6, pad1, pad2
    "02000000" + // ndm_ifindex 2
    "8000" + "08" + "00" + // ndm_state NUD_PERMANENT, ndm_flags NTF_PROXY, ndm_type RTN_UNSPEC
    "05000c00" + "4d000000" + // NDA_PROTOCOL 77 (5 bytes, padded)
    "14000100" + // NDA_DST, 20 bytes
    "20010db8" + "00000000" + "00000000" + "c0000201",
  );
  const got = encodeProxyNeigh(
    { add: true, index: 2, addr: parseIpv6("2001:db8::c000:201")! },
    SEQ,
  );
  assert.equal(toHex(got), toHex(want));
});

Deno.test("clat neigh proxy: encodeProxyNeigh() builds the RTM_DELNEIGH `ip -6 neigh del proxy …` sends", () => {
  // deno-fmt-ignore
  const want = hex(
    "30000000" + // nlmsg_len 48
    "1d000500" + // RTM_DELNEIGH, NLM_F_REQUEST|NLM_F_ACK
    "82e6136b" +
    "00000000" +
    "0a000000" +
    "02000000" +
    "8000" + "08" + "00" +
    "14000100" +
    "20010db8" + "00000000" + "00000000" + "c0000201",
  );
  const got = encodeProxyNeigh(
    { add: false, index: 2, addr: parseIpv6("2001:db8::c000:201")! },
    SEQ,
  );
  assert.equal(toHex(got), toHex(want));
});

Deno.test("clat neigh proxy: netlinkMessages() splits a datagram and rejects a length past its end", () => {
  // deno-fmt-ignore
  const two = hex(
    "14000000" + "44000000" + "00000000" + "00000000" + "01020304" + // type 68, 4-byte payload
    "12000000" + "02000000" + "00000000" + "00000000" + "0506" + "0000", // type 2, 2 bytes + pad
  );
  const r = netlinkMessages(two, two.length);
  assert.ok(r.ok);
  assert.deepEqual(r.value, [
    { type: 68, payloadOff: 16, payloadLen: 4 },
    { type: 2, payloadOff: 36, payloadLen: 2 },
  ]);
  const bad = two.slice();
  bad[20] = 0x40; // second message claims 64 bytes
  const b = netlinkMessages(bad, bad.length);
  assert.ok(!b.ok);
  assert.match(b.reason, /at 20 \(length 64\)/);
});

Deno.test("clat neigh proxy: ipv6ConfPath() refuses names that would leave /proc/sys/net/ipv6/conf", () => {
  assert.equal(ipv6ConfPath("eth0.100", "proxy_ndp"), "/proc/sys/net/ipv6/conf/eth0.100/proxy_ndp");
  for (const bad of ["", ".", "..", "../all", "a/b", "sixteen-bytes-xx"]) {
    assert.throws(() => ipv6ConfPath(bad, "proxy_ndp"), /not an interface name/, bad);
  }
});

const TARGET = "2001:db8:1::c000:201";

/** B's neighbor entry for TARGET: its lladdr and state, or null when it has none. */
async function peerEntry(ns: string): Promise<{ lladdr: string | null; state: string } | null> {
  const out = (await ipIn(ns, `-6 neigh show ${TARGET} dev b0`)).trim();
  if (out === "") return null;
  const lladdr = /lladdr ([0-9a-f:]{17})/.exec(out)?.[1] ?? null;
  const state = out.split(/\s+/).at(-1)!;
  return { lladdr, state };
}

/** Solicits TARGET from B (a ping triggers the NS) and waits (bounded) for a final state. */
async function solicit(ns: string): Promise<{ lladdr: string | null; state: string } | null> {
  await run(["ip", "-n", ns, "-6", "neigh", "flush", "to", TARGET]);
  await run(["ip", "netns", "exec", ns, "ping", "-6", "-n", "-c", "1", "-W", "2", TARGET], {
    timeoutMs: 5000,
  });
  let e = await peerEntry(ns);
  for (let i = 0; i < 100 && e !== null && e.state === "INCOMPLETE"; i++) {
    await sleep(100);
    e = await peerEntry(ns);
  }
  return e;
}

Deno.test({
  name:
    "clat neigh proxy: a proxy entry on the uplink answers a peer's Neighbor Solicitation with our MAC",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const id = `${Deno.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const ours = `pm-ndp-a-${id}`;
    const peer = `pm-ndp-b-${id}`;
    const created: string[] = [];
    const tool = (...args: string[]) =>
      run([
        "ip",
        "netns",
        "exec",
        ours,
        Deno.execPath(),
        "run",
        "--quiet",
        "--allow-ffi",
        "--allow-read",
        repoPath("tests/clat/_neigh_tool.ts"),
        ...args,
      ], { timeoutMs: 30_000 });
    try {
      for (const ns of [ours, peer]) {
        await must(["ip", "netns", "add", ns]);
        created.push(ns);
      }
      await ipIn(ours, `link add a0 type veth peer name b0 netns ${peer}`);
      await must([
        "ip",
        "netns",
        "exec",
        ours,
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.forwarding=1",
        "net.ipv6.conf.a0.forwarding=1",
      ]);
      await ipIn(ours, "addr add 2001:db8:1::1/64 dev a0 nodad");
      await ipIn(peer, "addr add 2001:db8:1::2/64 dev b0 nodad");
      await ipIn(ours, "link set a0 up");
      await ipIn(peer, "link set b0 up");
      const ourMac = /link\/ether ([0-9a-f:]{17})/.exec(await ipIn(ours, "link show a0"))![1]!;

      // Before: nobody answers for the address.
      const before = await solicit(peer);
      assert.ok(before === null || before.lladdr === null, JSON.stringify(before));

      let r = await tool("proxy-ndp", "a0", "1");
      assert.equal(r.code, 0, r.stderr);
      const sysctl = await must(
        ["ip", "netns", "exec", ours, "sysctl", "-n", "net.ipv6.conf.a0.proxy_ndp"],
      );
      assert.equal(sysctl.trim(), "1");
      r = await tool("add", "a0", TARGET);
      assert.equal(r.code, 0, r.stderr);
      r = await tool("add", "a0", TARGET); // adding it again is not an error
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        await ipIn(ours, "-6 neigh show proxy"),
        /2001:db8:1::c000:201 dev a0 proxy proto 77/,
      );

      const answered = await solicit(peer);
      assert.ok(answered !== null, "no neighbor entry on the peer");
      assert.equal(answered.lladdr, ourMac, JSON.stringify(answered));
      assert.ok(
        ["REACHABLE", "STALE", "DELAY", "PROBE"].includes(answered.state),
        answered.state,
      );

      // Deleted: the entry is gone and a new solicitation goes unanswered.
      r = await tool("del", "a0", TARGET);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(await ipIn(ours, "-6 neigh show proxy"), /c000:201/);
      r = await tool("del", "a0", TARGET);
      assert.notEqual(r.code, 0, "deleting a missing entry should fail");
      const after = await solicit(peer);
      assert.ok(after === null || after.lladdr === null, JSON.stringify(after));

      r = await tool("proxy-ndp", "a0", "0");
      assert.equal(r.code, 0, r.stderr);

      // setUpProxyNeighbors(): proxy_ndp on and an entry per address; undo() takes both back.
      const setup = new Proc([
        "ip",
        "netns",
        "exec",
        ours,
        Deno.execPath(),
        "run",
        "--quiet",
        "--allow-ffi",
        "--allow-read",
        repoPath("tests/clat/_neigh_tool.ts"),
        "setup",
        "a0",
        TARGET,
        "2001:db8:1::c000:202",
      ], "proxy neighbors");
      try {
        assert.ok(await setup.waitForOutput(/"ready":true/, 20_000), setup.stderr);
        assert.match(setup.stdout, /"warnings":\[\]/);
        const proxies = await ipIn(ours, "-6 neigh show proxy");
        assert.match(proxies, /2001:db8:1::c000:201 dev a0 proxy proto 77/);
        assert.match(proxies, /2001:db8:1::c000:202 dev a0 proxy proto 77/);
        const on = await must(
          ["ip", "netns", "exec", ours, "sysctl", "-n", "net.ipv6.conf.a0.proxy_ndp"],
        );
        assert.equal(on.trim(), "1");
        const again = await solicit(peer);
        assert.equal(again?.lladdr, ourMac, JSON.stringify(again));
        const st = await setup.stop("SIGTERM", 5000);
        assert.equal(st.code, 0, setup.stderr);
        assert.match(setup.stdout, /"undone":\[\]/);
        assert.doesNotMatch(await ipIn(ours, "-6 neigh show proxy"), /c000:20[12]/);
        const off = await must(
          ["ip", "netns", "exec", ours, "sysctl", "-n", "net.ipv6.conf.a0.proxy_ndp"],
        );
        assert.equal(off.trim(), "0");
      } finally {
        await setup.stop("SIGKILL", 5000).catch(() => {});
      }
    } finally {
      for (const ns of created.reverse()) await run(["ip", "netns", "del", ns]);
    }
  },
});
