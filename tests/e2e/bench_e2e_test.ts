/**
 * Keeps `deno task bench:e2e` (tests/bench/e2e.ts) from rotting: its argument parsing, ping
 * parsing, tables and the sendmmsg message layout without privileges, and as root one short
 * run of the whole benchmark on protomask alone (namespaces, pinning, iperf3, the sendmmsg
 * flood and its counter, pings, cleanup), well under 20 s.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  allConfigs,
  FIGURES,
  mediansOf,
  parseBenchArgs,
  pingTimesMs,
  type Sample,
  selected,
  summaryTable,
} from "../bench/e2e.ts";
import { IOVEC_BYTES, MMSGHDR_BYTES, mmsgVector, sockaddrFor } from "../bench/udp_flood.ts";
import { repoPath, run, skipReason } from "./_harness.ts";

Deno.test("bench:e2e parses its options and refuses bad ones", () => {
  assert.deepEqual(parseBenchArgs([]), {
    rounds: 3,
    seconds: 3,
    pings: 200,
    only: null,
    json: null,
    budgetSecs: null,
  });
  assert.deepEqual(
    parseBenchArgs(["--rounds", "1", "--seconds=2", "--only", "protomask,pm-*", "--json", "o"]),
    { rounds: 1, seconds: 2, pings: 200, only: ["protomask", "pm-*"], json: "o", budgetSecs: null },
  );
  assert.ok("error" in parseBenchArgs(["--rounds", "0"]));
  assert.ok("error" in parseBenchArgs(["--only", "protomsak"]));
  assert.ok("error" in parseBenchArgs(["--frobnicate"]));
});

Deno.test("bench:e2e adds protomask variants only for the keys check-config accepts", () => {
  const names = (o: boolean, q: boolean) =>
    allConfigs({ offload: o, queues: q }).map((c) => c.name);
  assert.deepEqual(names(false, false), ["tayga", "protomask", "tun-echo", "kernel"]);
  assert.deepEqual(names(true, false), [
    "tayga",
    "protomask",
    "pm-o0",
    "pm-o1",
    "tun-echo",
    "kernel",
  ]);
  const both = allConfigs({ offload: true, queues: true });
  assert.deepEqual(both.find((c) => c.name === "pm-o1q2")?.interfaceKeys, {
    Offload: true,
    Queues: 2,
  });
  assert.ok(selected("pm-o1q2", ["pm-*"]));
  assert.ok(!selected("protomask", ["pm-*"]));
});

Deno.test("bench:e2e reads per-packet ping times and renders ratios to TAYGA", () => {
  const out = "64 bytes from 198.51.100.2: icmp_seq=1 ttl=63 time=0.120 ms\n" +
    "64 bytes from 198.51.100.2: icmp_seq=2 ttl=63 time=0.080 ms\n" +
    "--- 198.51.100.2 ping statistics ---\nrtt min/avg/max/mdev = 0.080/0.100/0.120/0.020 ms\n";
  assert.deepEqual(pingTimesMs(out), [0.12, 0.08]);
  const samples: Sample[] = [1, 2, 3].flatMap((round) => [
    { round, config: "tayga", figure: "tcp1Gbps", value: round },
    { round, config: "protomask", figure: "tcp1Gbps", value: 2 * round },
  ]);
  const med = mediansOf(samples, ["tayga", "protomask"]);
  assert.equal(med.protomask!.tcp1Gbps, 4);
  const table = summaryTable(med, ["tayga", "protomask"]);
  const row = table.find((l) => l.startsWith(FIGURES[0].label))!;
  assert.match(row, /2\.00\s+1\.00×\s+4\.00\s+2\.00×$/);
});

Deno.test("udp_flood.ts lays out mmsghdr/iovec for LP64 and builds socket addresses", () => {
  const { msgs, iovs, payload } = mmsgVector(2, 64);
  assert.equal(msgs.length, 2 * MMSGHDR_BYTES);
  const mv = new DataView(msgs.buffer), iv = new DataView(iovs.buffer);
  const iovBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iovs)!));
  const payloadBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(payload)!));
  assert.equal(mv.getBigUint64(MMSGHDR_BYTES + 16, true), iovBase + BigInt(IOVEC_BYTES));
  assert.equal(mv.getBigUint64(MMSGHDR_BYTES + 24, true), 1n);
  assert.equal(iv.getBigUint64(IOVEC_BYTES, true), payloadBase + 64n);
  assert.equal(iv.getBigUint64(IOVEC_BYTES + 8, true), 64n);
  const v6 = sockaddrFor("2001:db8:64::c633:6402", 9000);
  assert.equal(v6.sa.length, 28);
  assert.deepEqual([...v6.sa.subarray(0, 4)], [10, 0, 0x23, 0x28]);
  assert.deepEqual([...sockaddrFor("198.51.100.2", 9).sa.subarray(0, 8)], [
    2,
    0,
    0,
    9,
    198,
    51,
    100,
    2,
  ]);
});

const reason = skipReason(["iperf3", "ping", "taskset"]);
if (reason) console.warn(`SKIPPED e2e "bench:e2e smoke run": ${reason}`);

Deno.test({
  name: "e2e: bench:e2e runs one short round on protomask and leaves no namespace behind",
  ignore: reason !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "protomask-bench-smoke-" });
    try {
      const json = `${dir}/out.json`;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          repoPath("tests/bench/e2e.ts"),
          "--rounds",
          "1",
          "--seconds",
          "1",
          "--pings",
          "20",
          "--only",
          "protomask",
          "--json",
          json,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      }).spawn();
      // Late: SIGINT lets it clean up; much later, SIGKILL.
      const kill = (sig: Deno.Signal) => () => {
        try {
          child.kill(sig);
        } catch { /* exited */ }
      };
      const timers = [setTimeout(kill("SIGINT"), 45_000), setTimeout(kill("SIGKILL"), 60_000)];
      const out = await child.output().finally(() => timers.forEach(clearTimeout));
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, text);
      assert.match(text, /medians over 1 round\(s\) and ratios to TAYGA/);
      const saved = JSON.parse(await Deno.readTextFile(json));
      for (const f of ["tcp1Gbps", "tcp4Gbps", "udpKpps", "rttCoUs", "rttOffUs"]) {
        const v = saved.medians.protomask[f];
        assert.ok(typeof v === "number" && v > 0, `${f} = ${v}\n${text}`);
      }
      // Namespace names start with "pm" + the benchmark's pid in base 36.
      const ns = await run(["ip", "netns", "list"]);
      const id = `pm${child.pid.toString(36)}`;
      assert.ok(!ns.stdout.split("\n").some((l) => l.startsWith(id)), ns.stdout);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
