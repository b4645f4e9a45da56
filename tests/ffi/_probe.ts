// Runs one FFI scenario inside a network namespace and prints one JSON object on stdout.
// Used by tun_test.ts as `ip netns exec NS deno run --allow-ffi --allow-run --allow-read
// tests/ffi/_probe.ts <scenario> [args]`; a network namespace belongs to a thread, so the FFI
// code under test runs in this separate process rather than inside `deno test`.
//
// Every wait here is bounded; the TUN disappears when this process exits.
import dgram from "node:dgram";
import { type LinuxTun, openTun, openTunOffload, openTunQueues } from "../../ffi/tun.ts";
import { setUpInterface } from "../../ffi/netlink.ts";
import { SysError } from "../../ffi/libc.ts";
import { parseIpv4, parseIpv4Prefix } from "../../lib/addr/ipv4.ts";
import { parseIpv6, parseIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { checksum, sumBytes } from "../../lib/wire/checksum.ts";

const ADDRESS4 = parseIpv4("192.0.0.8")!;
const ADDRESS6 = parseIpv6("64:ff9b::c000:8")!;
const PEER6 = parseIpv6("2001:db8::2")!;

function ipJson(args: string[]): unknown {
  const out = new Deno.Command("ip", { args: ["-j", ...args], stderr: "piped" }).outputSync();
  const text = new TextDecoder().decode(out.stdout).trim();
  return text === "" ? [] : JSON.parse(text);
}

function snapshot(name: string): Record<string, unknown> {
  return {
    link: ipJson(["link", "show", "dev", name]),
    addr: ipJson(["addr", "show", "dev", name]),
    route4: ipJson(["-4", "route", "show", "table", "main"]),
    route6: ipJson(["-6", "route", "show", "table", "main"]),
  };
}

function errorInfo(e: unknown): Record<string, unknown> {
  return e instanceof SysError
    ? { error: e.message, code: e.code, call: e.call, errno: e.errno, sys: true }
    : { error: e instanceof Error ? e.message : String(e), sys: false };
}

/** An ICMPv6 echo request from PEER6 to ADDRESS6 (RFC 4443 §4.1), checksummed. */
function echoRequest(id: number, seq: number, payload: Uint8Array): Uint8Array {
  const len = 8 + payload.length;
  const p = new Uint8Array(40 + len);
  const v = new DataView(p.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, len);
  p[6] = 58; // ICMPv6
  p[7] = 64;
  p.set(PEER6, 8);
  p.set(ADDRESS6, 24);
  p[40] = 128; // echo request
  v.setUint16(44, id);
  v.setUint16(46, seq);
  p.set(payload, 48);
  const pseudo = sumBytes(p, 8, 32, 0) + len + 58;
  v.setUint16(42, checksum(p, 40, len, pseudo));
  return p;
}

function run(scenario: string, args: string[]): Record<string, unknown> {
  switch (scenario) {
    case "open": {
      using tun = openTun({ name: args[0]! });
      return { name: tun.name, mtuBytes: tun.mtuBytes, fd: tun.fd, link: snapshot(tun.name).link };
    }
    case "open-name": {
      try {
        using _tun = openTun({ name: args[0]! });
        return { opened: true };
      } catch (e) {
        return errorInfo(e);
      }
    }
    case "busy": {
      using first = openTun({ name: args[0]! });
      try {
        using _second = openTun({ name: first.name });
        return { name: first.name, opened: true };
      } catch (e) {
        return { name: first.name, ...errorInfo(e) };
      }
    }
    case "setup": {
      using tun = openTun({ name: args[0]! });
      const setup = setUpInterface({
        name: tun.name,
        mtuBytes: 1400,
        addresses: [ADDRESS4, ADDRESS6],
        routes4: [parseIpv4Prefix("198.51.100.0/24")!, parseIpv4Prefix("203.0.113.7/32")!],
        routes6: [parseIpv6Prefix("64:ff9b::/96")!],
      });
      const during = snapshot(tun.name);
      const problems = setup.undo();
      const again = setup.undo();
      return { name: tun.name, during, problems, again, after: snapshot(tun.name) };
    }
    case "exists": {
      using tun = openTun({ name: args[0]! });
      try {
        setUpInterface({
          name: tun.name,
          mtuBytes: 1400,
          addresses: [ADDRESS4, ADDRESS6],
          routes4: [parseIpv4Prefix("198.51.100.0/24")!],
          routes6: [parseIpv6Prefix("64:ff9b::/96")!],
        });
        return { name: tun.name, failed: false };
      } catch (e) {
        return { name: tun.name, failed: true, ...errorInfo(e), after: snapshot(tun.name) };
      }
    }
    case "ping": {
      using tun = openTun({ name: args[0]!, nonBlocking: true });
      const setup = setUpInterface({
        name: tun.name,
        mtuBytes: 1400,
        addresses: [ADDRESS4, ADDRESS6],
        routes4: [],
        routes6: [parseIpv6Prefix("2001:db8::/64")!],
      });
      try {
        const payload = new TextEncoder().encode("protomask ffi round trip");
        const req = echoRequest(0x1234, 7, payload);
        const buf = new Uint8Array(2048);
        // The kernel finishes setting up a new IPv6 address (even with IFA_F_NODAD) in a work
        // queue, so under load the first request can meet "no route": resend every 200 ms.
        let wrote = 0;
        let resendAt = 0;
        const deadline = Date.now() + 3000;
        const seen: number[] = [];
        while (Date.now() < deadline) {
          if (Date.now() >= resendAt) {
            buf.set(req, 100);
            wrote = tun.write(buf, 100, req.length);
            resendAt = Date.now() + 200;
          }
          if (!tun.waitReadable(Math.max(1, Math.min(resendAt, deadline) - Date.now()))) continue;
          const n = tun.read(buf, 0, buf.length);
          if (n < 0) return { wrote, readError: n, seen };
          const v = new DataView(buf.buffer, 0, n);
          const nh = buf[6]!;
          seen.push(nh === 58 ? buf[40]! : -nh);
          if ((buf[0]! >> 4) !== 6 || nh !== 58 || buf[40] !== 129) continue;
          const icmpLen = v.getUint16(4);
          const pseudo = sumBytes(buf, 8, 32, 0) + icmpLen + 58;
          return {
            wrote,
            requestLen: req.length,
            replyLen: n,
            replySrcIsAddress6: buf.subarray(8, 24).every((b, i) => b === ADDRESS6[i]),
            replyDstIsPeer: buf.subarray(24, 40).every((b, i) => b === PEER6[i]),
            id: v.getUint16(44),
            seq: v.getUint16(46),
            payload: new TextDecoder().decode(buf.subarray(48, n)),
            checksumValid: checksum(buf, 40, icmpLen, pseudo) === 0,
            afterClose: (tun.close(), tun.read(buf, 0, buf.length)),
          };
        }
        return { wrote, timeout: true, seen };
      } finally {
        setup.undo();
      }
    }
    case "offload": {
      // openTunOffload(name, queues, offload): the queues' flags, and gso_max_size once set up.
      const opened = openTunOffload({ name: args[0]!, offload: args[2] === "1" }, Number(args[1]));
      try {
        const name = opened.tuns[0]!.name;
        const setup = setUpInterface({
          name,
          mtuBytes: 1500,
          gsoMaxBytes: opened.offloadFlags !== 0 ? 65516 : undefined,
          routes4: [],
          routes6: [],
        });
        setup.undo();
        const link = ipJson(["-d", "link", "show", "dev", name]) as { gso_max_size?: number }[];
        return {
          offloadFlags: opened.offloadFlags,
          queueFlags: opened.tuns.map((t) => t.offloadFlags),
          vnetHeader: opened.tuns.map((t) => t.vnetHeader),
          tunFlags: Deno.readTextFileSync(`/sys/class/net/${name}/tun_flags`).trim(),
          gsoMaxSize: link[0]?.gso_max_size ?? null,
        };
      } finally {
        for (const t of opened.tuns) t.close();
      }
    }
    case "queues-fail": {
      // The kernel allows 256 queues: with 255 open, asking for 2 more opens the 256th and
      // fails on the next (E2BIG); the 256th must be closed again.
      const held = openTunQueues({ name: args[0]! }, 255);
      try {
        const before = [...Deno.readDirSync("/proc/self/fd")].length;
        try {
          openTunQueues({ name: held[0]!.name }, 2);
          return { opened: true };
        } catch (e) {
          const after = [...Deno.readDirSync("/proc/self/fd")].length;
          // Had the 256th queue stayed open, this would fail with E2BIG too.
          using _last = openTun({ name: held[0]!.name, multiQueue: true });
          return { ...errorInfo(e), fdsLeaked: after - before, reopened: true };
        }
      } finally {
        for (const t of held) t.close();
      }
    }
    case "queues-busy": {
      // Queues on a name a single-queue device holds: the flags differ, EINVAL.
      using single = openTun({ name: args[0]! });
      try {
        openTunQueues({ name: single.name }, 2);
        return { opened: true };
      } catch (e) {
        return errorInfo(e);
      }
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

/** A UDP datagram from PEER6:`sport` to ADDRESS6:`dport`, checksummed. */
function udpDatagram(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const len = 8 + payload.length;
  const p = new Uint8Array(40 + len);
  const v = new DataView(p.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, len);
  p[6] = 17;
  p[7] = 64;
  p.set(PEER6, 8);
  p.set(ADDRESS6, 24);
  v.setUint16(40, sport);
  v.setUint16(42, dport);
  v.setUint16(44, len);
  p.set(payload, 48);
  v.setUint16(46, checksum(p, 40, len, sumBytes(p, 8, 32, 0) + len + 17));
  return p;
}

/**
 * Writes a UDP datagram to the echo socket at ADDRESS6:`port` on queue `q` (resent every
 * 200 ms while the kernel finishes the new address) and returns the index of the queue the
 * echoed datagram is read from, or -1 after 3 s.
 */
async function udpThrough(tuns: LinuxTun[], q: number, sport: number, port: number) {
  const pkt = udpDatagram(sport, port, new TextEncoder().encode(`queue ${q}`));
  const buf = new Uint8Array(2048);
  let resendAt = 0;
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    if (Date.now() >= resendAt) {
      buf.set(pkt, 100);
      tuns[q]!.write(buf, 100, pkt.length);
      resendAt = Date.now() + 200;
    }
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the echo socket answer
    for (let i = 0; i < tuns.length; i++) {
      if (!tuns[i]!.waitReadable(0)) continue;
      const n = tuns[i]!.read(buf, 0, buf.length);
      const isUdp = n >= 48 && (buf[0]! >> 4) === 6 && buf[6] === 17;
      if (isUdp && new DataView(buf.buffer).getUint16(42) === sport) return i;
    }
  }
  return -1;
}

/**
 * Opens `args[1]` queues on `args[0]`, reports what sysfs shows, and sends one UDP flow through
 * each queue to an echo socket: tun steers the answer of a flow to the queue that last wrote it.
 */
async function queuesScenario(args: string[]): Promise<Record<string, unknown>> {
  const tuns = openTunQueues({ name: args[0]!, nonBlocking: true }, Number(args[1]));
  const PORT = 5000;
  const echo = dgram.createSocket("udp6");
  echo.on("message", (msg, from) => echo.send(msg, from.port, from.address));
  try {
    const name = tuns[0]!.name;
    const info = {
      names: tuns.map((t) => t.name),
      fds: tuns.map((t) => t.fd),
      tunFlags: Deno.readTextFileSync(`/sys/class/net/${name}/tun_flags`).trim(),
      queueDirs: [...Deno.readDirSync(`/sys/class/net/${name}/queues`)].map((e) => e.name).sort(),
    };
    const setup = setUpInterface({
      name,
      mtuBytes: 1400,
      addresses: [ADDRESS4, ADDRESS6],
      routes4: [],
      routes6: [parseIpv6Prefix("2001:db8::/64")!],
    });
    try {
      await new Promise<void>((resolve) => echo.bind(PORT, "64:ff9b::c000:8", resolve));
      // One flow written on queue 0, then on each queue in turn, then on queue 0 again.
      const order = [...tuns.keys(), 0];
      const replyQueue: number[] = [];
      for (const q of order) replyQueue.push(await udpThrough(tuns, q, 40000, PORT));
      return { ...info, wroteOn: order, replyQueue };
    } finally {
      setup.undo();
    }
  } finally {
    echo.close();
    for (const t of tuns) t.close();
  }
}

const [scenario, ...rest] = Deno.args;
try {
  const result = scenario === "queues" ? await queuesScenario(rest) : run(scenario ?? "", rest);
  console.log(JSON.stringify(result));
} catch (e) {
  console.log(JSON.stringify({ uncaught: true, ...errorInfo(e) }));
}
