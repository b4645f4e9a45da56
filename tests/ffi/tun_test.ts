// The real TUN device and rtnetlink, each test in a network namespace of its own. Needs root
// and /dev/net/tun; skipped with a message otherwise. The FFI code runs in tests/ffi/_probe.ts
// under `ip netns exec` (a namespace is per thread, and `deno test` shares threads).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("./_probe.ts", import.meta.url));
const TIMEOUT_MS = 20_000;

function canRun(): string | null {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root";
  try {
    Deno.statSync("/dev/net/tun");
  } catch {
    return "/dev/net/tun is missing";
  }
  return null;
}

const SKIP = canRun();
if (SKIP !== null) console.log(`tests/ffi/tun_test.ts: skipping device tests (${SKIP})`);

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a deadline; kills only the child it started. */
async function sh(cmd: string, args: string[]): Promise<Out> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, TIMEOUT_MS);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const out = await sh(cmd, args);
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")} failed: ${out.stderr}`);
  return out.stdout;
}

/** Creates a fresh namespace, runs `fn`, and always deletes the namespace. */
async function withNetns(fn: (ns: string) => Promise<void>): Promise<void> {
  const ns = `pmffi-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await ok("ip", ["netns", "add", ns]);
  try {
    await ok("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await fn(ns);
  } finally {
    await sh("ip", ["netns", "del", ns]);
  }
}

/**
 * Runs a probe scenario in `ns`, optionally under a command prefix (e.g. setpriv), with the
 * daemon's permissions or, for scenarios that read /proc/self or /sys (`allowAll`), with -A.
 */
async function probe(
  ns: string,
  scenario: string,
  args: string[],
  prefix: string[] = [],
  allowAll = false,
): Promise<Record<string, unknown>> {
  const out = await ok("ip", [
    "netns",
    "exec",
    ns,
    ...prefix,
    Deno.execPath(),
    "run",
    "--quiet",
    ...(allowAll ? ["--allow-all"] : ["--allow-ffi", "--allow-run=ip", "--allow-read"]),
    PROBE,
    scenario,
    ...args,
  ]);
  const line = out.trim().split("\n").pop() ?? "";
  return JSON.parse(line);
}

async function ipJson(ns: string, args: string[]): Promise<Record<string, unknown>[]> {
  const text = (await ok("ip", ["-n", ns, "-j", ...args])).trim();
  return text === "" ? [] : JSON.parse(text);
}

interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
}
type Snap = {
  link: { ifname: string; mtu: number; flags: string[] }[];
  addr: { addr_info: AddrInfo[] }[];
  route4: { dst: string; dev?: string; protocol?: string | number }[];
  route6: { dst: string; dev?: string; protocol?: string | number }[];
};

function globalAddrs(s: Snap): string[] {
  return (s.addr[0]?.addr_info ?? [])
    .filter((a) => !a.local.startsWith("fe80:"))
    .map((a) => `${a.local}/${a.prefixlen}`).sort();
}

function routesVia(s: Snap, dev: string): string[] {
  return [...s.route4, ...s.route6].filter((r) => r.dev === dev && !r.dst.startsWith("fe80:"))
    .map((r) => r.dst).sort();
}

const opts = { ignore: SKIP !== null, sanitizeResources: true, sanitizeOps: true };

Deno.test({
  name: "openTun() gets its name from the kernel filling the %d template, MTU 1500",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "open", ["pmt%d"]);
      assert.equal(r.name, "pmt0");
      assert.equal(r.mtuBytes, 1500);
      assert.equal((r.link as { ifname: string }[])[0]?.ifname, "pmt0");
      // The device goes with its fd: nothing is left once the probe has exited.
      const links = await ipJson(ns, ["link", "show"]);
      assert.deepEqual(links.map((l) => l.ifname), ["lo"]);
    }),
});

Deno.test({
  name: "openTun() rejects a 16-byte name before any syscall",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "open-name", ["abcdefghijklmnop"]);
      assert.equal(r.sys, false);
      assert.match(String(r.error), /"abcdefghijklmnop" is 16 bytes; Linux allows at most 15/);
      const r15 = await probe(ns, "open-name", ["abcdefghijklmno"]);
      assert.equal(r15.opened, true);
    }),
});

Deno.test({
  name:
    "setUpInterface() brings the link up with its MTU, adds addresses and routes; undo() removes exactly those",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "setup", ["pmset%d"]);
      const name = String(r.name);
      const during = r.during as Snap;
      const after = r.after as Snap;
      assert.equal(during.link[0]?.mtu, 1400);
      assert.ok(during.link[0]?.flags.includes("UP"), JSON.stringify(during.link));
      assert.deepEqual(globalAddrs(during), ["192.0.0.8/32", "64:ff9b::c000:8/128"]);
      assert.deepEqual(routesVia(during, name), ["198.51.100.0/24", "203.0.113.7", "64:ff9b::/96"]);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.again, [], "a second undo() does nothing");
      assert.deepEqual(globalAddrs(after), []);
      assert.deepEqual(routesVia(after, name), []);
      assert.ok(after.link[0]?.flags.includes("UP"), "undo() leaves the link itself alone");
    }),
});

Deno.test({
  name:
    "setUpInterface() fails with 'route … already exists' on an existing route and leaves nothing behind",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      await ok("ip", ["-n", ns, "route", "add", "198.51.100.0/24", "dev", "lo"]);
      const r = await probe(ns, "exists", ["pmex%d"]);
      assert.equal(r.failed, true);
      assert.equal(r.code, "EEXIST");
      assert.match(String(r.error), /^route 198\.51\.100\.0\/24 already exists/);
      const after = r.after as Snap;
      assert.deepEqual(globalAddrs(after), [], "addresses added before the failure are removed");
      assert.deepEqual(
        routesVia(after, String(r.name)),
        [],
        "the IPv6 route added first is removed",
      );
      const v4 = await ipJson(ns, ["-4", "route", "show"]);
      assert.deepEqual(v4.map((x) => [x.dst, x.dev]), [["198.51.100.0/24", "lo"]]);
    }),
});

Deno.test({
  name: "openTun() without CAP_NET_ADMIN fails with a message naming CAP_NET_ADMIN",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "open-name", ["pmcap%d"], [
        "setpriv",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
      ]);
      assert.equal(r.code, "EPERM");
      assert.match(String(r.error), /ioctl\(TUNSETIFF, pmcap%d\): EPERM .*CAP_NET_ADMIN/);
      assert.deepEqual((await ipJson(ns, ["link", "show"])).map((l) => l.ifname), ["lo"]);
    }),
});

Deno.test({
  name: "a second openTun() of a name another fd holds fails as busy",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "busy", ["pmbusy%d"]);
      assert.equal(r.name, "pmbusy0");
      assert.equal(r.code, "EBUSY");
      assert.match(String(r.error), /ioctl\(TUNSETIFF, pmbusy0\): EBUSY \(device busy/);
    }),
});

Deno.test({
  name: "openTun() of a name another kind of link holds says the name is taken, not just EINVAL",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      await ok("ip", ["-n", ns, "link", "add", "pmtaken0", "type", "veth", "peer", "pmpeer0"]);
      const r = await probe(ns, "open-name", ["pmtaken0"]);
      assert.equal(r.code, "EINVAL");
      assert.match(
        String(r.error),
        /^interface "pmtaken0" already exists and is not a TUN device .*\(ioctl\(TUNSETIFF, pmtaken0\): EINVAL;/,
      );
    }),
});

Deno.test({
  name: "an ICMPv6 echo request written into the TUN comes back as the kernel's echo reply",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "ping", ["pmping%d"]);
      assert.equal(r.timeout, undefined, `no echo reply; saw ${JSON.stringify(r)}`);
      assert.equal(r.wrote, r.requestLen);
      assert.equal(r.replyLen, r.requestLen);
      assert.equal(r.replySrcIsAddress6, true);
      assert.equal(r.replyDstIsPeer, true);
      assert.equal(r.id, 0x1234);
      assert.equal(r.seq, 7);
      assert.equal(r.payload, "protomask ffi round trip");
      assert.equal(r.checksumValid, true);
      assert.equal(r.afterClose, -9, "read() after close() returns -EBADF");
    }),
});

Deno.test({
  name:
    "openTunQueues() with 2 queues opens two fds on one multi-queue device, and the kernel steers a flow to the queue that wrote it",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "queues", ["pmmq%d", "2"], [], true);
      assert.equal(r.uncaught, undefined, JSON.stringify(r));
      assert.deepEqual(r.names, ["pmmq0", "pmmq0"], "the second fd attaches to the filled-in name");
      const fds = r.fds as number[];
      assert.notEqual(fds[0], fds[1]);
      assert.equal(Number(r.tunFlags) & 0x0100, 0x0100, `IFF_MULTI_QUEUE in ${r.tunFlags}`);
      assert.deepEqual(r.queueDirs, ["rx-0", "rx-1", "tx-0", "tx-1"]);
      // tun's flow table steers a flow to the queue that last wrote it: the answer to a UDP
      // datagram written on queue i is read from queue i (the same flow, moved each time).
      assert.deepEqual(r.replyQueue, r.wroteOn);
      assert.deepEqual(r.wroteOn, [0, 1, 0]);
      // The device goes with the last of its fds.
      assert.deepEqual((await ipJson(ns, ["link", "show"])).map((l) => l.ifname), ["lo"]);
    }),
});

Deno.test({
  name:
    "openTunQueues() with 1 queue opens the device exactly as openTun() does, without IFF_MULTI_QUEUE",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "queues", ["pmsq%d", "1"], [], true);
      assert.equal(r.uncaught, undefined, JSON.stringify(r));
      assert.deepEqual(r.names, ["pmsq0"]);
      assert.equal(Number(r.tunFlags), 0x1001, "IFF_TUN | IFF_NO_PI only");
      assert.deepEqual(r.queueDirs, ["rx-0", "tx-0"]);
      assert.deepEqual(r.replyQueue, [0, 0]);
    }),
});

Deno.test({
  name: "openTunQueues() that fails after opening a queue closes what it opened",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "queues-fail", ["pmqf%d"], [], true);
      assert.equal(r.sys, true, JSON.stringify(r));
      assert.equal(r.errno, 7, "E2BIG: the kernel's 256 queues are taken");
      assert.match(String(r.error), /^ioctl\(TUNSETIFF, pmqf0\)/);
      assert.equal(r.fdsLeaked, 0);
      assert.equal(r.reopened, true, "the 256th queue was free again");
    }),
});

Deno.test({
  name: "openTunQueues() on a name a single-queue device holds fails with EINVAL",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "queues-busy", ["pmqb%d"]);
      assert.equal(r.sys, true, JSON.stringify(r));
      assert.equal(r.code, "EINVAL");
      assert.match(String(r.error), /ioctl\(TUNSETIFF, pmqb0\): EINVAL/);
    }),
});

Deno.test({
  name:
    "openTunOffload() opens every queue with IFF_VNET_HDR and the kernel takes csum, TSO and USO; gso_max_size is set",
  ...opts,
  fn: () =>
    withNetns(async (ns) => {
      const r = await probe(ns, "offload", ["pmof%d", "2", "1"], [], true);
      assert.equal(r.uncaught, undefined, JSON.stringify(r));
      // TUN_F_CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6 = 0x6f on Linux 6.2+, 0x0f before.
      assert.ok(r.offloadFlags === 0x6f || r.offloadFlags === 0x0f, JSON.stringify(r));
      assert.deepEqual(r.queueFlags, [r.offloadFlags, r.offloadFlags]);
      assert.deepEqual(r.vnetHeader, [true, true]);
      assert.equal(Number(r.tunFlags), 0x1001 | 0x0100 | 0x4000, "TUN|NO_PI|MULTI_QUEUE|VNET_HDR");
      assert.equal(r.gsoMaxSize, 65516);
      const off = await probe(ns, "offload", ["pmon%d", "1", "0"], [], true);
      assert.equal(off.offloadFlags, 0);
      assert.deepEqual(off.vnetHeader, [false]);
      assert.equal(Number(off.tunFlags), 0x1001, "no IFF_VNET_HDR with offload off");
      assert.equal(off.gsoMaxSize, 65536, "the kernel's default");
    }),
});
