import assert from "node:assert/strict";
import {
  type Command,
  type ConfigOverrides,
  formatUsageError,
  NO_OVERRIDES,
  parseCliArgs,
  SUBCOMMANDS,
  USAGE,
  type UsageError,
  versionLine,
} from "../../lib/cli/args.ts";

const TRANSLATE = ["translate", "--config", "c.toml", "--in", "in.pcap", "--out", "out.pcap"];

/** Parses argv that must be a usage error and returns it. */
function usageError(argv: string[]): UsageError {
  const r = parseCliArgs(argv);
  assert.equal(r.kind, "usage-error", `expected a usage error for ${JSON.stringify(argv)}`);
  return r as UsageError;
}

/** Parses argv that must be understood and returns the command. */
function command(argv: string[]): Command {
  const r = parseCliArgs(argv);
  assert.notEqual(r.kind, "usage-error", `unexpected usage error: ${JSON.stringify(r)}`);
  return r as Command;
}

Deno.test("parseCliArgs() reads translate's three files", () => {
  assert.deepEqual(command(TRANSLATE), {
    kind: "translate",
    verbose: false,
    configPath: "c.toml",
    inPath: "in.pcap",
    outPath: "out.pcap",
  });
});

Deno.test("parseCliArgs() accepts translate's options in any order and with '='", () => {
  assert.deepEqual(
    command(["translate", "--out=o", "--in", "i", "--config=c"]),
    command(["translate", "--config", "c", "--in", "i", "--out", "o"]),
  );
});

Deno.test("parseCliArgs() takes -v/--verbose before or after the subcommand", () => {
  for (const argv of [["-v", ...TRANSLATE], [...TRANSLATE, "--verbose"]]) {
    const cmd = command(argv);
    assert.ok(cmd.kind === "translate" && cmd.verbose, JSON.stringify(argv));
  }
  const cc = command(["check-config", "-v", "c.toml"]);
  assert.deepEqual(cc, {
    kind: "check-config",
    verbose: true,
    configPath: "c.toml",
    overrides: NO_OVERRIDES,
  });
  const run = command(["c.toml", "-v"]);
  assert.ok(run.kind === "run" && run.verbose);
});

Deno.test("parseCliArgs() reads check-config's file, also one that starts with '-' after '--'", () => {
  assert.deepEqual(command(["check-config", "a.toml"]), {
    kind: "check-config",
    verbose: false,
    configPath: "a.toml",
    overrides: NO_OVERRIDES,
  });
  assert.deepEqual(command(["check-config", "--", "-odd.toml"]), {
    kind: "check-config",
    verbose: false,
    configPath: "-odd.toml",
    overrides: NO_OVERRIDES,
  });
});

Deno.test("parseCliArgs() gives help for -h/--help, even with other arguments", () => {
  for (
    const argv of [["-h"], ["--help"], ["translate", "-h"], ["-h", "-V"], ["x.toml", "--help"]]
  ) {
    assert.deepEqual(command(argv), { kind: "help" }, JSON.stringify(argv));
  }
});

Deno.test("parseCliArgs() gives the version for -V/--version", () => {
  for (const argv of [["-V"], ["--version"], ["check-config", "--version"]]) {
    assert.deepEqual(command(argv), { kind: "version" }, JSON.stringify(argv));
  }
});

Deno.test("parseCliArgs() with nothing to run says what is missing, with the whole usage", () => {
  for (const argv of [[], ["-v"], ["-i", "tun0"], ["--translation-prefix", "64:ff9b::/96"]]) {
    const e = usageError(argv);
    assert.equal(
      e.message,
      "nothing to run: give a configuration file (<CONFIG> or -c/--config) or at least one " +
        "--pool-prefix",
      JSON.stringify(argv),
    );
    assert.equal(e.showUsage, true);
  }
});

Deno.test("parseCliArgs() names each missing translate option", () => {
  for (const missing of ["--config", "--in", "--out"]) {
    const i = TRANSLATE.indexOf(missing);
    const argv = TRANSLATE.filter((_, j) => j !== i && j !== i + 1);
    const e = usageError(argv);
    assert.equal(e.message, `translate needs ${missing}`);
    assert.equal(e.showUsage, false);
  }
});

Deno.test("parseCliArgs() rejects a translate option given twice or empty", () => {
  assert.equal(usageError([...TRANSLATE, "--in", "b.pcap"]).message, "--in given 2 times");
  assert.equal(
    usageError(["translate", "--config", "c", "--in=", "--out", "o"]).message,
    "--in needs a non-empty file name",
  );
});

Deno.test("parseCliArgs() rejects an option without its value", () => {
  assert.equal(usageError(["translate", "--config"]).message, "--config needs a value");
  assert.match(
    usageError(["translate", "--config", "--in", "i"]).message,
    /^--config needs a value/,
  );
});

Deno.test("parseCliArgs() rejects unknown options and values for flags", () => {
  assert.equal(usageError([...TRANSLATE, "--bogus"]).message, "unknown option '--bogus'");
  assert.equal(usageError(["-x"]).message, "unknown option '-x'");
  assert.equal(usageError(["-vq"]).message, "unknown option '-q'");
  assert.equal(usageError(["--verbose=yes"]).message, "--verbose does not take a value");
});

Deno.test("parseCliArgs() rejects positional arguments after translate", () => {
  assert.match(usageError([...TRANSLATE, "extra"]).message, /^unexpected argument 'extra'/);
});

Deno.test("parseCliArgs() wants exactly one file for check-config and none of translate's options", () => {
  assert.equal(usageError(["check-config"]).message, "check-config needs a configuration <FILE>");
  assert.equal(
    usageError(["check-config", "a", "b"]).message,
    "check-config takes one <FILE>, got 2",
  );
  assert.equal(
    usageError(["check-config", ""]).message,
    "the configuration file name must not be empty",
  );
  assert.equal(
    usageError(["check-config", "a", "--out", "o"]).message,
    "check-config does not take --out (translate does)",
  );
});

Deno.test("formatUsageError() adds the usage only when asked, else a --help hint", () => {
  const short = formatUsageError({ kind: "usage-error", message: "boom", showUsage: false });
  assert.equal(short, "protomask: boom\nRun 'protomask --help' for usage.\n");
  const long = formatUsageError({ kind: "usage-error", message: "boom", showUsage: true });
  assert.equal(long, `protomask: boom\n\n${USAGE}`);
});

Deno.test("USAGE lists every command, option, 1.x flag and signal, and no 'not in this version'", () => {
  const words = [
    ...SUBCOMMANDS,
    "protomask [OPTIONS] <CONFIG>",
    "--config",
    "--in",
    "--out",
    "-v, --verbose",
    "-h, --help",
    "-V, --version",
    "-c, --config <FILE>",
    "-i, --interface <NAME>",
    "--pool-prefix <PREFIX>",
    "--translation-prefix <PREFIX>",
    "--reservation-timeout <SECS>",
    "--prometheus <ADDR>",
    "--num-queues <N>",
    "SIGTERM, SIGINT",
    "SIGHUP",
    "SIGUSR2",
    "Exit status:",
  ];
  for (const word of words) assert.ok(USAGE.includes(word), word);
  assert.doesNotMatch(USAGE, /Not in this version/);
  assert.ok(USAGE.endsWith("\n"));
  for (const line of USAGE.split("\n")) assert.ok(line.length <= 80, `too wide: ${line}`);
});

Deno.test("versionLine() prints the name and version as upstream protomask does", () => {
  assert.equal(versionLine("9.8.7"), "protomask 9.8.7");
});

/** The overrides with some fields set. */
function overrides(set: Partial<ConfigOverrides>): ConfigOverrides {
  return { ...NO_OVERRIDES, ...set };
}

Deno.test("parseCliArgs() runs the daemon with a bare <CONFIG>, also one named like a command", () => {
  for (const path of ["protomask.toml", "translate.toml", "check-config.json", "/etc/p.json"]) {
    assert.deepEqual(command([path]), {
      kind: "run",
      verbose: false,
      configPath: path,
      overrides: NO_OVERRIDES,
    });
  }
  const literal = command(["--", "translate"]);
  assert.ok(literal.kind === "run" && literal.configPath === "translate");
  const dotted = command(["./translate"]);
  assert.ok(dotted.kind === "run" && dotted.configPath === "./translate");
});

Deno.test("parseCliArgs() takes the daemon's file from -c/--config, alone or agreeing with <CONFIG>", () => {
  for (
    const argv of [["-c", "p.json"], ["--config", "p.json"], ["--config=p.json"], [
      "p.json",
      "-c",
      "p.json",
    ]]
  ) {
    const cmd = command(argv);
    assert.ok(cmd.kind === "run" && cmd.configPath === "p.json", JSON.stringify(argv));
  }
});

Deno.test("parseCliArgs() rejects two different configuration files, --config twice and an empty one", () => {
  assert.equal(
    usageError(["a.toml", "-c", "b.json"]).message,
    "two configuration files: 'a.toml' and --config 'b.json' (give one)",
  );
  assert.equal(usageError(["-c", "a", "-c", "a"]).message, "--config given 2 times");
  assert.equal(usageError(["-c", ""]).message, "the configuration file name must not be empty");
  assert.equal(usageError([""]).message, "the configuration file name must not be empty");
  assert.match(usageError(["a.toml", "b.toml"]).message, /^unexpected argument 'b\.toml'/);
});

Deno.test("parseCliArgs() reads every protomask 1.x flag as given", () => {
  const cmd = command([
    "-i",
    "nat%d",
    "--pool-prefix",
    "192.0.2.0/24",
    "--pool-prefix=198.51.100.0/24",
    "--translation-prefix",
    "2001:db8:64::/96",
    "--reservation-timeout",
    "300",
    "--prometheus",
    "[::1]:8999",
    "--num-queues",
    "4",
  ]);
  assert.deepEqual(cmd, {
    kind: "run",
    verbose: false,
    configPath: null,
    overrides: {
      interface: "nat%d",
      poolPrefixes: ["192.0.2.0/24", "198.51.100.0/24"],
      translationPrefix: "2001:db8:64::/96",
      reservationTimeout: "300",
      prometheus: "[::1]:8999",
      numQueues: "4",
    },
  });
  const long = command(["--interface", "tun7", "--pool-prefix", "192.0.2.0/24"]);
  assert.ok(long.kind === "run" && long.overrides.interface === "tun7");
});

Deno.test("parseCliArgs() runs on --pool-prefix alone, and applies flags over a file", () => {
  assert.deepEqual(command(["--pool-prefix", "192.0.2.0/24"]), {
    kind: "run",
    verbose: false,
    configPath: null,
    overrides: overrides({ poolPrefixes: ["192.0.2.0/24"] }),
  });
  assert.deepEqual(command(["-c", "p.json", "--reservation-timeout", "60"]), {
    kind: "run",
    verbose: false,
    configPath: "p.json",
    overrides: overrides({ reservationTimeout: "60" }),
  });
});

Deno.test("parseCliArgs() rejects a single-valued 1.x flag given twice", () => {
  const flags = [
    ["-i", "--interface"],
    ["--translation-prefix", "--translation-prefix"],
    ["--reservation-timeout", "--reservation-timeout"],
    ["--prometheus", "--prometheus"],
    ["--num-queues", "--num-queues"],
  ];
  for (const [given, name] of flags) {
    const e = usageError(["p.toml", given!, "x", given!, "y"]);
    assert.equal(e.message, `${name} given 2 times`);
    assert.equal(e.showUsage, false);
  }
});

Deno.test("parseCliArgs() passes the 1.x flags to check-config, with its file from -c too", () => {
  assert.deepEqual(command(["check-config", "p.json", "--pool-prefix", "192.0.2.0/24"]), {
    kind: "check-config",
    verbose: false,
    configPath: "p.json",
    overrides: overrides({ poolPrefixes: ["192.0.2.0/24"] }),
  });
  const viaC = command(["check-config", "-c", "p.json"]);
  assert.ok(viaC.kind === "check-config" && viaC.configPath === "p.json");
  assert.equal(
    usageError(["check-config", "--pool-prefix", "192.0.2.0/24"]).message,
    "check-config needs a configuration <FILE>",
  );
});

Deno.test("parseCliArgs() keeps the 1.x flags away from translate and --in/--out away from the daemon", () => {
  for (
    const flag of ["--interface", "--pool-prefix", "--translation-prefix", "--reservation-timeout"]
  ) {
    assert.equal(usageError([...TRANSLATE, flag, "x"]).message, `translate does not take ${flag}`);
  }
  assert.equal(
    usageError(["p.toml", "--in", "x.pcap"]).message,
    "the daemon does not take --in (translate does)",
  );
  const t = command(["translate", "-c", "c.json", "--in", "i", "--out", "o"]);
  assert.ok(t.kind === "translate" && t.configPath === "c.json");
});

Deno.test("parseCliArgs() names a 1.x flag given without its value", () => {
  assert.equal(usageError(["--pool-prefix"]).message, "--pool-prefix needs a value");
  assert.equal(usageError(["p.toml", "-i"]).message, "--interface needs a value");
});
