/**
 * `protomask clat` on the command line: parseCliArgs() for the subcommand and its flags, and
 * main.ts end to end for `clat --help`, `clat check-config` and a bad CLAT configuration.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  CLAT_USAGE,
  type Command,
  formatUsageError,
  NO_OVERRIDES,
  parseCliArgs,
  USAGE,
  type UsageError,
} from "../../lib/cli/args.ts";
import { formatIpv6 } from "../../lib/addr/ipv6.ts";
import { parseConfig } from "../../lib/config/config.ts";
import { readCapture } from "../../lib/pcap/reader.ts";
import { PcapWriter } from "../../lib/pcap/writer.ts";
import { runMainIn as runMain } from "../_util/main_proc.ts";
import { hex, l4ChecksumValid } from "../_util/packets.ts";
import { fixChecksums } from "../xlat/_build.ts";
import { protomask1FlagKeys } from "../../lib/config/keys.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLAT_NONE = { ...NO_OVERRIDES, customerPrefixes: [], via: null };

function command(argv: string[]): Command {
  const c = parseCliArgs(argv);
  assert.notEqual(c.kind, "usage-error", JSON.stringify(c));
  return c as Command;
}

function usageError(argv: string[]): UsageError {
  const c = parseCliArgs(argv);
  assert.equal(c.kind, "usage-error", JSON.stringify(argv));
  return c as UsageError;
}

Deno.test("clat cli: `clat <CONFIG>` and `clat check-config <FILE>` parse, options anywhere", () => {
  assert.deepEqual(command(["clat", "c.toml"]), {
    kind: "clat",
    verbose: false,
    configPath: "c.toml",
    overrides: CLAT_NONE,
  });
  assert.deepEqual(command(["-v", "clat", "-c", "c.toml"]), {
    kind: "clat",
    verbose: true,
    configPath: "c.toml",
    overrides: CLAT_NONE,
  });
  assert.deepEqual(command(["clat", "check-config", "c.toml", "-v"]), {
    kind: "clat-check-config",
    verbose: true,
    configPath: "c.toml",
    overrides: CLAT_NONE,
  });
  // After `--`, check-config is a file name; `./clat` is the translator's config file.
  assert.deepEqual(command(["clat", "--", "check-config"]), {
    kind: "clat",
    verbose: false,
    configPath: "check-config",
    overrides: CLAT_NONE,
  });
  const file = command(["./clat"]);
  assert.equal(file.kind, "run");
  assert.equal(command(["--", "clat"]).kind, "run");
});

Deno.test("clat cli: protomask-clat 1.x flags, alone or over a file", () => {
  assert.deepEqual(
    command([
      "clat",
      "--customer-prefix",
      "192.0.2.0/24",
      "--customer-prefix=198.51.100.0/24",
      "--via",
      "64:ff9b::/96",
      "-i",
      "clat0",
      "--num-queues",
      "2",
      "--prometheus",
      "[::1]:8999",
    ]),
    {
      kind: "clat",
      verbose: false,
      configPath: null,
      overrides: {
        ...CLAT_NONE,
        customerPrefixes: ["192.0.2.0/24", "198.51.100.0/24"],
        via: "64:ff9b::/96",
        interface: "clat0",
        numQueues: "2",
        prometheus: "[::1]:8999",
      },
    },
  );
  assert.deepEqual(command(["clat", "check-config", "c.json", "--via", "auto"]), {
    kind: "clat-check-config",
    verbose: false,
    configPath: "c.json",
    overrides: { ...CLAT_NONE, via: "auto" },
  });
  // Any 1.x flag is something to run (the rest takes the defaults).
  const flag = command(["clat", "-i", "clat0"]);
  assert.equal(flag.kind, "clat");
  // Every protomask-clat flag of the key table has its field in the parsed overrides.
  for (const k of protomask1FlagKeys("clat")) {
    assert.ok(flag.kind === "clat" && Object.hasOwn(flag.overrides, k.v1!.option!), k.v1!.option);
  }
});

Deno.test("clat cli: -h is the CLAT's help after clat, -V the version", () => {
  for (const argv of [["clat", "-h"], ["clat", "--help"], ["-h", "clat"], ["clat", "x", "-h"]]) {
    assert.deepEqual(command(argv), { kind: "help", topic: "clat" }, JSON.stringify(argv));
  }
  assert.deepEqual(command(["clat", "-V"]), { kind: "version" });
  assert.deepEqual(command(["-h"]), { kind: "help" });
});

Deno.test("clat cli: `clat translate --config --in --out` parses, with the 1.x flags as overrides", () => {
  assert.deepEqual(
    command(["clat", "translate", "--config", "c.toml", "--in", "a.pcap", "--out", "b.pcap"]),
    {
      kind: "clat-translate",
      verbose: false,
      configPath: "c.toml",
      inPath: "a.pcap",
      outPath: "b.pcap",
      overrides: CLAT_NONE,
    },
  );
  const c = command([
    "-v",
    "clat",
    "translate",
    "-c",
    "c.toml",
    "--in",
    "a.pcap",
    "--out",
    "b.pcap",
    "--via",
    "64:ff9b::/96",
  ]);
  assert.equal(c.kind, "clat-translate");
  assert.equal(c.kind === "clat-translate" && c.overrides.via, "64:ff9b::/96");
  assert.equal(c.verbose, true);
});

Deno.test("clat cli: usage errors name the flag and point to `protomask clat --help`", () => {
  const cases: [string[], string][] = [
    [
      ["clat", "--pool-prefix", "192.0.2.0/24"],
      "clat does not take --pool-prefix (its customers are --customer-prefix)",
    ],
    [
      ["clat", "c.toml", "--translation-prefix", "64:ff9b::/96"],
      "clat does not take --translation-prefix (the PLAT prefix is --via)",
    ],
    [
      ["clat", "c.toml", "--reservation-timeout", "5"],
      "clat does not take --reservation-timeout (a CLAT keeps no leases)",
    ],
    [["clat", "c.toml", "--in", "a.pcap"], "clat does not take --in (clat translate does)"],
    [
      ["clat", "check-config", "c.toml", "--out", "b.pcap"],
      "clat check-config does not take --out (clat translate does)",
    ],
    [["clat", "c.toml", "--via", "auto", "--via", "64:ff9b::/96"], "--via given 2 times"],
    [
      ["clat", "a.toml", "b.toml"],
      "unexpected argument 'b.toml' (clat takes one <CONFIG>; its commands are check-config, translate)",
    ],
    [
      ["clat", "a.toml", "-c", "b.toml"],
      "two configuration files: 'a.toml' and --config 'b.toml' (give one)",
    ],
    [["clat", "check-config"], "clat check-config needs a configuration <FILE>"],
    [["clat", "check-config", "a", "b"], "clat check-config takes one <FILE>, got 2"],
    [["clat", "translate"], "clat translate needs --config"],
    [["clat", "translate", "-c", "c.toml", "--in", "a.pcap"], "clat translate needs --out"],
    [
      ["clat", "translate", "-c", "c.toml", "--in", "a.pcap", "--in", "b.pcap", "--out", "o"],
      "--in given 2 times",
    ],
    [
      ["clat", "translate", "x", "-c", "c.toml", "--in", "a.pcap", "--out", "o"],
      "unexpected argument 'x' (clat translate takes --config, --in, --out)",
    ],
  ];
  for (const [argv, message] of cases) {
    const e = usageError(argv);
    assert.equal(e.message, message, JSON.stringify(argv));
    assert.equal(e.topic, "clat");
    assert.equal(
      formatUsageError(e),
      `protomask: ${message}\nRun 'protomask clat --help' for usage.\n`,
    );
  }
  const nothing = usageError(["clat", "-v"]);
  assert.equal(
    nothing.message,
    "nothing to run: give a configuration file (<CONFIG> or -c/--config) or protomask-clat " +
      "1.x flags such as --customer-prefix",
  );
  assert.ok(formatUsageError(nothing).endsWith(CLAT_USAGE));
  // The translator refuses the CLAT's flags, naming clat.
  assert.equal(
    usageError(["c.toml", "--customer-prefix", "192.0.0.0/29"]).message,
    "the daemon does not take --customer-prefix (clat does)",
  );
  assert.equal(
    usageError(["check-config", "c.toml", "--via", "auto"]).message,
    "check-config does not take --via (clat does)",
  );
  assert.equal(usageError(["clat", "--bogus"]).message, "unknown option '--bogus'");
});

Deno.test("clat cli: the help texts name the subcommand and every CLAT flag", () => {
  assert.match(USAGE, /^ {2}protomask \[OPTIONS\] clat \[CLAT OPTIONS\] <CONFIG>$/m);
  assert.match(USAGE, /^ {2}clat {14}Run the CLAT/m);
  for (
    const flag of ["--customer-prefix", "--via", "--num-queues", "--prometheus", "--interface"]
  ) {
    assert.ok(CLAT_USAGE.includes(flag), flag);
  }
  for (const line of CLAT_USAGE.split("\n")) assert.ok(line.length <= 80, line);
});

Deno.test("clat cli: main.ts clat -h prints the CLAT's help, main.ts -h mentions clat", async () => {
  const clat = await runMain(ROOT, "clat", "-h");
  assert.equal(clat.code, 0);
  assert.equal(clat.stdout, CLAT_USAGE);
  assert.equal(clat.stderr, "");
  const main = await runMain(ROOT, "-h");
  assert.equal(main.code, 0);
  assert.match(main.stdout, /protomask clat --help/);
});

Deno.test("clat cli: main.ts clat check-config prints the effective CLAT config; bad ones exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "protomask_clat_cli_" });
  try {
    await Deno.writeTextFile(
      `${dir}/c.toml`,
      '[Clat]\nCustomerPool = ["10.9.0.0/24"]\n' +
        'HostAddress = "10.9.0.1"\nSource6 = "2001:db8:1:4646::/64"\n',
    );
    await Deno.writeTextFile(`${dir}/bad.toml`, '[Clat]\nVia = "auto"\nMTU = 9\n[Rules]\n');
    await Deno.writeTextFile(
      `${dir}/c.json`,
      '{"via": "64:ff9b::/96", "customer_pool": ["192.0.2.0/24"], "queues": 10}',
    );
    const ok = await runMain(dir, "clat", "check-config", "c.toml");
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stderr, "");
    const cfg = parseConfig(ok.stdout, { mode: "clat" });
    assert.deepEqual(cfg, parseConfig(await Deno.readTextFile(`${dir}/c.toml`), { mode: "clat" }));
    // Address4 (192.0.0.2) is outside this CustomerPool: embedded in Via, not in Source6.
    assert.match(ok.stdout, /^Address6 = "64:ff9b::c000:2"$/m);

    // 1.x JSON with flags over it.
    const json = await runMain(
      dir,
      "clat",
      "check-config",
      "c.json",
      "--customer-prefix",
      "192.0.0.0/29",
    );
    assert.equal(json.code, 0, json.stderr);
    assert.match(json.stdout, /^CustomerPool = \["192\.0\.0\.0\/29"\]$/m);
    assert.match(json.stdout, /^Queues = 10$/m);
    assert.match(json.stdout, /^HostAddress = ""$/m);

    const bad = await runMain(dir, "clat", "check-config", "bad.toml");
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    assert.equal(
      bad.stderr,
      "protomask: bad.toml: 3 configuration problems:\n" +
        "Rules: not a section of a CLAT configuration: a CLAT has no pool, static maps or leases " +
        "(its sections: Clat, Translation, Metrics)\n" +
        "Clat.MTU = 9: must be an integer from 1280 to 65535\n" +
        'Clat.Address6: must be given when Via is "auto": Address4 (192.0.0.2) is a customer\'s ' +
        'address, and with Source6 = "embed" a customer\'s IPv6 address embeds it in Via\n',
    );
    // The daemon itself refuses the bad file before creating anything, with the same message.
    const run = await runMain(dir, "clat", "bad.toml");
    assert.equal(run.code, 2);
    assert.equal(run.stderr, bad.stderr);

    // The translator's check-config refuses a CLAT file and says how to run it.
    const translator = await runMain(dir, "check-config", "c.toml");
    assert.equal(translator.code, 2);
    assert.match(
      translator.stderr,
      /^Clat: not a section of a translator configuration: it configures the CLAT: run `protomask clat` with this file/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('clat cli: main.ts clat translate runs a capture through the CLAT; Via = "auto" needs --via', async () => {
  const dir = await Deno.makeTempDir({ prefix: "protomask_clat_cli_" });
  try {
    const common = 'CustomerPool = ["192.0.0.0/29"]\nSource6 = "2001:db8:1:4646::/64"\n' +
      "[Translation]\nAllowNonGlobalWithWKP = true\n";
    await Deno.writeTextFile(`${dir}/c.toml`, `[Clat]\nVia = "64:ff9b::/96"\n${common}`);
    await Deno.writeTextFile(`${dir}/auto.toml`, `[Clat]\nVia = "auto"\n${common}`);
    const w = new PcapWriter();
    // A customer's UDP (192.0.0.1 > 198.51.100.7), then one from outside CustomerPool.
    w.add(
      fixChecksums(hex(`45000020 12344000 40110000 c0000001 c6336407 13880035 000c0000 01020304`)),
      1,
      0,
    );
    w.add(
      fixChecksums(hex(`45000020 12354000 40110000 0a000005 c6336407 13880035 000c0000 01020304`)),
      2,
      0,
    );
    await Deno.writeFile(`${dir}/in.pcap`, w.bytes());
    const io = ["--in", "in.pcap", "--out", "out.pcap"];
    const r = await runMain(dir, "clat", "translate", "--config", "c.toml", ...io);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "translate: 2 packets in, 2 out; dropped: not_customer_source 1\n");
    const out = readCapture(await Deno.readFile(`${dir}/out.pcap`)).packets.map((p) => p.data);
    assert.equal(out.length, 2);
    assert.equal(formatIpv6(out[0]!, 8), "2001:db8:1:4646::c000:1", "from the customer's Source6");
    assert.equal(formatIpv6(out[0]!, 24), "64:ff9b::c633:6407", "to the world in Via");
    assert.equal(l4ChecksumValid(out[0]!), true);
    assert.deepEqual([out[1]![0]! >> 4, out[1]![20], out[1]![21]], [4, 3, 13], "ICMPv4 3/13 back");

    // "auto" is found on a live network: offline it needs --via, and the message says so.
    await Deno.remove(`${dir}/out.pcap`);
    const auto = await runMain(dir, "clat", "translate", "-c", "auto.toml", ...io);
    assert.equal(auto.code, 2);
    assert.equal(
      auto.stderr,
      'protomask: clat translate needs Clat.Via to be a prefix: "auto" is discovered on a live ' +
        "network (give --via <PREFIX>)\n",
    );
    assert.equal(await Deno.stat(`${dir}/out.pcap`).then(() => true, () => false), false);
    const via = await runMain(
      dir,
      "clat",
      "translate",
      "-c",
      "auto.toml",
      ...io,
      "--via",
      "2001:db8:64::/96",
    );
    assert.equal(via.code, 0, via.stderr);
    const viaOut = readCapture(await Deno.readFile(`${dir}/out.pcap`)).packets[0]!.data;
    assert.equal(formatIpv6(viaOut, 24), "2001:db8:64::c633:6407");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
