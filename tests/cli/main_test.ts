/**
 * main.ts end to end: each test runs `deno run -A main.ts …` as a subprocess on files in a
 * fresh temporary directory and checks the exit status, stdout, stderr and the files left.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import denoJson from "../../deno.json" with { type: "json" };
import { USAGE } from "../../lib/cli/args.ts";
import { formatConfig, parseConfig } from "../../lib/config/config.ts";
import { readCapture } from "../../lib/pcap/reader.ts";
import { type Run, runMainIn } from "../_util/main_proc.ts";
import {
  captureOf,
  CONFIG_TEXT,
  OUTSIDE_PREFIX,
  THREE_PACKET_SUMMARY,
  THREE_PACKETS,
} from "./fixture.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Runs main.ts from the repository root. */
function runMain(...args: string[]): Promise<Run> {
  return runMainIn(ROOT, ...args);
}

const BAD_CONFIG = '[Interface]\nPrefix = "2001:db8:64::/96"\nPool = ["192.0.2.0/33"]\n';

/** Runs `fn` with a fresh temporary directory holding c.toml, bad.toml and in.pcap. */
async function withFiles(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "protomask_cli_" });
  try {
    await Deno.writeTextFile(`${dir}/c.toml`, CONFIG_TEXT);
    await Deno.writeTextFile(`${dir}/bad.toml`, BAD_CONFIG);
    await Deno.writeFile(`${dir}/in.pcap`, captureOf(...THREE_PACKETS));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Files a `translate` run reads, by name inside a {@link withFiles} directory. */
interface TranslateFiles {
  /** The config file (default c.toml). */
  config?: string;
  /** The input capture (default in.pcap). */
  input?: string;
}

/** The arguments of `translate --config … --in … --out <dir>/out.pcap` for files in `dir`. */
function translateArgs(dir: string, files: TranslateFiles = {}): string[] {
  const { config = "c.toml", input = "in.pcap" } = files;
  return [
    "translate",
    "--config",
    `${dir}/${config}`,
    "--in",
    `${dir}/${input}`,
    "--out",
    `${dir}/out.pcap`,
  ];
}

/** The messages of the WARNING records among JSON log lines (stderr not a terminal). */
function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
    .filter((rec) => rec.level === "WARNING").map((rec) => rec.message);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("main.ts translate writes the output pcap and prints the drop summary", async () => {
  await withFiles(async (dir) => {
    const r = await runMain(...translateArgs(dir));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, THREE_PACKET_SUMMARY + "\n");
    const out = readCapture(await Deno.readFile(`${dir}/out.pcap`));
    assert.equal(out.packets.length, 2);
    assert.equal(out.packets[0]!.data[0]! >> 4, 4, "the translated packet is IPv4");
  });
});

Deno.test("main.ts translate writes a header-only pcap when nothing is emitted", async () => {
  await withFiles(async (dir) => {
    await Deno.writeFile(`${dir}/drop.pcap`, captureOf(OUTSIDE_PREFIX));
    const r = await runMain(...translateArgs(dir, { input: "drop.pcap" }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^translate: 1 packet in, 0 out; dropped: not_in_prefix 1\n$/);
    const bytes = await Deno.readFile(`${dir}/out.pcap`);
    assert.equal(bytes.length, 24);
    assert.equal(readCapture(bytes).packets.length, 0);
  });
});

Deno.test("main.ts -v translate logs debug records as JSON lines when stderr is not a terminal", async () => {
  await withFiles(async (dir) => {
    const r = await runMain("-v", ...translateArgs(dir));
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.at(-1), THREE_PACKET_SUMMARY);
    const records = lines.slice(0, -1).map((l) => JSON.parse(l));
    assert.ok(records.length > 0, "no log records");
    for (const rec of records) {
      assert.equal(rec.level, "DEBUG");
      assert.equal(rec.logger, "protomask.cli");
    }
    assert.ok(records.some((rec) => rec.properties?.inPath === `${dir}/in.pcap`));
  });
});

/** A `translate` run in a {@link withFiles} directory that must exit 2 and write no out.pcap. */
interface TranslateFailure {
  /** The test name. */
  name: string;
  /** The arguments, given the directory. */
  args: (dir: string) => string[];
  /** The whole of stderr, or patterns it must match. */
  stderr: string | readonly RegExp[];
  /** The whole of stdout, when the test checks it. */
  stdout?: string;
}

const TRANSLATE_FAILURES: readonly TranslateFailure[] = [
  {
    name: "main.ts translate with a bad config exits 2 naming the key path and writes nothing",
    args: (dir) => translateArgs(dir, { config: "bad.toml" }),
    stderr: [
      /^protomask: .*bad\.toml: 1 configuration problem:\n/,
      /^Interface\.Pool\[0\] = "192\.0\.2\.0\/33": /m,
    ],
    stdout: "",
  },
  {
    name: "main.ts translate with a capture it cannot parse exits 2 and writes nothing",
    args: (dir) => translateArgs(dir, { input: "c.toml" }),
    stderr: [/^protomask: .*c\.toml: .* at offset 0\n$/],
  },
  {
    name: "main.ts translate with a missing input file exits 2 with one line and writes nothing",
    args: (dir) => translateArgs(dir, { input: "absent.pcap" }),
    stderr: [/^protomask: cannot read the input capture '.*absent\.pcap': .+\n$/],
  },
  {
    name: "main.ts translate without --in is a usage error that writes nothing",
    args: (dir) => ["translate", "--config", `${dir}/c.toml`, "--out", `${dir}/out.pcap`],
    stderr: "protomask: translate needs --in\nRun 'protomask --help' for usage.\n",
    stdout: "",
  },
];

for (const c of TRANSLATE_FAILURES) {
  Deno.test(c.name, async () => {
    await withFiles(async (dir) => {
      const r = await runMain(...c.args(dir));
      assert.equal(r.code, 2);
      if (typeof c.stderr === "string") assert.equal(r.stderr, c.stderr);
      else for (const re of c.stderr) assert.match(r.stderr, re);
      if (c.stdout !== undefined) assert.equal(r.stdout, c.stdout);
      assert.equal(await exists(`${dir}/out.pcap`), false);
    });
  });
}

Deno.test("main.ts check-config prints the effective configuration", async () => {
  await withFiles(async (dir) => {
    const r = await runMain("check-config", `${dir}/c.toml`);
    assert.equal(r.code, 0, r.stderr);
    const cpus = navigator.hardwareConcurrency;
    assert.equal(r.stdout, formatConfig(parseConfig(CONFIG_TEXT), { cpus }));
    assert.match(r.stdout, /^# Queues = \d+ here: the default, one per CPU, at most 8$/m);
    assert.equal(r.stderr, "");
  });
});

Deno.test("main.ts check-config applies the protomask 1.x flags as the daemon does, with its warnings", async () => {
  await withFiles(async (dir) => {
    const r = await runMain(
      "check-config",
      `${dir}/c.toml`,
      "-i",
      "nat64",
      "--pool-prefix",
      "198.18.0.0/24",
      "--prometheus",
      "[::1]:8999",
    );
    assert.equal(r.code, 0, r.stderr);
    // c.toml with the flags written into it by hand: the name and the pool come from the flags.
    const expected = CONFIG_TEXT.replace(
      'Pool = ["192.0.2.0/24"]',
      'Pool = ["198.18.0.0/24"]\nName = "nat64"',
    ) + '\n[Metrics]\nListen = "[::1]:8999"\n';
    assert.notEqual(expected, CONFIG_TEXT);
    assert.equal(
      r.stdout,
      formatConfig(parseConfig(expected), { cpus: navigator.hardwareConcurrency }),
    );
    assert.match(r.stdout, /^\[Metrics\]\nListen = "\[::1\]:8999"$/m, "--prometheus shown");
    assert.deepEqual(warnings(r.stderr), []);
  });
});

Deno.test("main.ts check-config of a 1.x JSON file maps prometheus_bind_addr to Metrics.Listen", async () => {
  await withFiles(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/old.json`,
      '{"pool": ["192.0.2.0/24"], "prometheus_bind_addr": "[::1]:8999"}',
    );
    const r = await runMain("check-config", `${dir}/old.json`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pool = \["192\.0\.2\.0\/24"\]/);
    assert.match(r.stdout, /^Listen = "\[::1\]:8999"$/m);
    assert.deepEqual(warnings(r.stderr), []);
  });
});

Deno.test("main.ts check-config applies the protomask 1.x flags, as its usage says", async () => {
  await withFiles(async (dir) => {
    const r = await runMain("check-config", `${dir}/c.toml`, "--num-queues", "3", "-i", "x%d");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.ok(lines.includes("Queues = 3"), r.stdout);
    assert.ok(lines.includes('Name = "x%d"'), r.stdout);
  });
});

Deno.test("main.ts check-config with a bad config exits 2 with the problems on stderr", async () => {
  await withFiles(async (dir) => {
    const r = await runMain("check-config", `${dir}/bad.toml`);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Interface\.Pool\[0\] = "192\.0\.2\.0\/33": /m);
  });
});

for (
  const [name, flag, stdout] of [
    ["main.ts -h prints the usage to stdout and exits 0", "-h", USAGE],
    [
      "main.ts -V prints 'protomask <version>' from deno.json and exits 0",
      "-V",
      `protomask ${denoJson.version}\n`,
    ],
  ] as const
) {
  Deno.test(name, async () => {
    const r = await runMain(flag);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, stdout);
    assert.equal(r.stderr, "");
  });
}

Deno.test("main.ts --help lists SIGUSR2 and says the own addresses are routed into the TUN, not added", async () => {
  const r = await runMain("--help");
  assert.equal(r.code, 0);
  const text = r.stdout.replace(/\s+/g, " ");
  assert.match(r.stdout, /^ {2}SIGUSR2 +Log the counters/m);
  assert.doesNotMatch(text, /adds its addresses/);
  assert.match(text, /routes the prefix, the pool and its own addresses into it/);
  assert.match(text, /assigns no address/);
});

Deno.test("main.ts with nothing to run exits 2 with the usage", async () => {
  const r = await runMain();
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^protomask: nothing to run: give a configuration file/);
  assert.ok(r.stderr.endsWith(USAGE));
  assert.equal(r.stdout, "");
});

Deno.test("main.ts <CONFIG> that cannot be read exits 2 before creating anything", async () => {
  const r = await runMain("absent.toml");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^protomask: cannot read the configuration 'absent.toml'/);
  assert.equal(r.stdout, "");
});
