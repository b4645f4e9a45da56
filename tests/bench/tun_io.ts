// Which TUN I/O model keeps up and keeps the event loop free? Run as root:
//
//   deno run -A tests/bench/tun_io.ts [floodSecs=3]
//
// For each model it builds a network namespace, opens a TUN there, routes 198.18.0.0/24 into
// it and floods it with small UDP packets from a separate process (sendto() in a loop for
// floodSecs), while the model under test reads them:
//   blocking  a Worker doing blocking read()
//   poll      a Worker on a non-blocking fd, drained until EAGAIN, then poll(100 ms)
//   async     the main thread awaiting an FFI read declared `nonblocking: true`
// and the main thread runs a 10 ms setInterval whose worst lateness is reported. Prints one
// JSON line per model and a table. Bounded: every child is killed after 20 s; the whole run
// takes about 3 × (floodSecs + 1) s. Namespaces are deleted in `finally`.
import { openTun } from "../../ffi/tun.ts";
import { setUpInterface } from "../../ffi/netlink.ts";
import { check, libc, readIntoAsync } from "../../ffi/libc.ts";
import { parseIpv4, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";

const SELF = new URL(import.meta.url).pathname;
const MODES = ["blocking", "poll", "async"] as const;
type Mode = typeof MODES[number];
const CHILD_TIMEOUT_MS = 20_000;

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit" }).spawn();
  const t = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, CHILD_TIMEOUT_MS);
  try {
    const o = await child.output();
    return { code: o.code, out: new TextDecoder().decode(o.stdout) };
  } finally {
    clearTimeout(t);
  }
}

/** `--flood SECS`: send 18-byte UDP datagrams to 198.18.0.1:9 as fast as possible. */
function flood(secs: number): void {
  const AF_INET = 2, SOCK_DGRAM = 2;
  const s = check("socket", libc().socket(AF_INET, SOCK_DGRAM, 0));
  const sa = new Uint8Array(16);
  const v = new DataView(sa.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, 9);
  v.setUint32(4, parseIpv4("198.18.0.1")!);
  const payload = new Uint8Array(18).fill(0x61);
  const t0 = performance.now();
  const end = t0 + secs * 1000;
  let sent = 0, failed = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) {
      if (Number(libc().sendto(s, payload, 18n, 0, sa, 16)) > 0) sent++;
      else failed++;
    }
  }
  console.log(JSON.stringify({ sent, failed, secs: (performance.now() - t0) / 1000 }));
}

/** `--inner MODE SECS`: one measurement, already inside the namespace. */
async function inner(mode: Mode, secs: number): Promise<void> {
  const tun = openTun({ name: "bench%d", nonBlocking: mode === "poll" });
  const setup = setUpInterface({
    name: tun.name,
    mtuBytes: 1500,
    addresses: [parseIpv4("192.0.0.8")!], // a source address for the flooder's packets
    routes4: [parseIpv4Prefix("198.18.0.0/24")!],
    routes6: [],
  });
  const shared = new SharedArrayBuffer(16);
  const ctl = new Int32Array(shared);
  if (mode === "async") {
    const buf = new Uint8Array(2048);
    (async () => {
      while (Atomics.load(ctl, 1) === 0) {
        const n = await readIntoAsync(tun.fd, buf, 0, buf.length);
        if (n > 0) ctl[0]!++;
        else ctl[2]!++;
      }
    })();
  } else {
    const w = new Worker(new URL("./tun_io_worker.ts", import.meta.url), { type: "module" });
    const ready = new Promise((r) => (w.onmessage = r));
    w.postMessage({ fd: tun.fd, name: tun.name, mode, shared });
    await ready;
  }
  // Event-loop lateness: a 10 ms interval's worst delay while the flood runs.
  let last = performance.now();
  let maxLateMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLateMs = Math.max(maxLateMs, now - last - 10);
    last = now;
    ticks++;
  }, 10);
  const before = Atomics.load(ctl, 0);
  const f = await run(Deno.execPath(), ["run", "-A", SELF, "--flood", String(secs)]);
  await new Promise((r) => setTimeout(r, 200)); // let the reader drain the queue
  const got = Atomics.load(ctl, 0) - before;
  clearInterval(timer);
  const fl = JSON.parse(f.out.trim().split("\n").pop() ?? "{}");
  const link = JSON.parse(
    (await run("ip", ["-j", "-s", "link", "show", "dev", tun.name])).out,
  )[0];
  console.log(JSON.stringify({
    mode,
    sent: fl.sent,
    read: got,
    readPerSec: Math.round(got / fl.secs),
    sentPerSec: Math.round(fl.sent / fl.secs),
    txDropped: link?.stats64?.tx?.dropped,
    readErrors: Atomics.load(ctl, 2),
    maxTimerLateMs: Math.round(maxLateMs * 10) / 10,
    ticks,
  }));
  Atomics.store(ctl, 1, 1);
  setup.undo();
  // A Worker or pool thread blocked in read() cannot be stopped; the process exit ends it.
  Deno.exit(0);
}

async function outer(secs: number): Promise<void> {
  if (Deno.uid() !== 0) {
    console.error("tun_io.ts needs root (network namespaces, /dev/net/tun)");
    Deno.exit(1);
  }
  const rows: Record<string, unknown>[] = [];
  for (const mode of MODES) {
    const ns = `pmbench-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
    await run("ip", ["netns", "add", ns]);
    try {
      await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      const r = await run("ip", [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "-A",
        SELF,
        "--inner",
        mode,
        String(secs),
      ]);
      const line = r.out.trim().split("\n").pop() ?? "";
      console.log(line);
      if (line.startsWith("{")) rows.push(JSON.parse(line));
    } finally {
      await run("ip", ["netns", "del", ns]);
    }
  }
  console.table(rows);
}

if (Deno.args[0] === "--flood") flood(Number(Deno.args[1]));
else if (Deno.args[0] === "--inner") await inner(Deno.args[1] as Mode, Number(Deno.args[2]));
else await outer(Number(Deno.args[0] ?? 3));
