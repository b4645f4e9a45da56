import assert from "node:assert/strict";
import {
  type Command,
  formatUsageError,
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
  assert.deepEqual(cc, { kind: "check-config", verbose: true, configPath: "c.toml" });
});

Deno.test("parseCliArgs() reads check-config's file, also one that starts with '-' after '--'", () => {
  assert.deepEqual(command(["check-config", "a.toml"]), {
    kind: "check-config",
    verbose: false,
    configPath: "a.toml",
  });
  assert.deepEqual(command(["check-config", "--", "-odd.toml"]), {
    kind: "check-config",
    verbose: false,
    configPath: "-odd.toml",
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

Deno.test("parseCliArgs() reports a missing subcommand with the whole usage", () => {
  const none = usageError([]);
  assert.equal(none.message, "missing subcommand");
  assert.equal(none.showUsage, true);
  assert.equal(usageError(["-v"]).message, "missing subcommand");
});

Deno.test("parseCliArgs() treats a bare <CONFIG> (the daemon form) as a missing subcommand", () => {
  const e = usageError(["protomask.toml"]);
  assert.match(
    e.message,
    /^missing subcommand: 'protomask\.toml' is not one of translate, check-config/,
  );
  assert.match(e.message, /daemon/);
  assert.equal(e.showUsage, true);
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
  assert.equal(usageError(["check-config", ""]).message, "check-config needs a non-empty <FILE>");
  assert.equal(
    usageError(["check-config", "a", "--out", "o"]).message,
    "check-config does not take --out",
  );
});

Deno.test("formatUsageError() adds the usage only when asked, else a --help hint", () => {
  const short = formatUsageError({ kind: "usage-error", message: "boom", showUsage: false });
  assert.equal(short, "protomask: boom\nRun 'protomask --help' for usage.\n");
  const long = formatUsageError({ kind: "usage-error", message: "boom", showUsage: true });
  assert.equal(long, `protomask: boom\n\n${USAGE}`);
});

Deno.test("USAGE lists every subcommand and option, and says the daemon is not built", () => {
  for (const word of [...SUBCOMMANDS, "--config", "--in", "--out", "-v, --verbose", "-h, --help"]) {
    assert.ok(USAGE.includes(word), word);
  }
  assert.ok(USAGE.includes("-V, --version"));
  assert.match(USAGE, /Not in this version: running as a daemon/);
  assert.ok(USAGE.endsWith("\n"));
  for (const line of USAGE.split("\n")) assert.ok(line.length <= 80, `too wide: ${line}`);
});

Deno.test("versionLine() prints the name and version as upstream protomask does", () => {
  assert.equal(versionLine("9.8.7"), "protomask 9.8.7");
});
