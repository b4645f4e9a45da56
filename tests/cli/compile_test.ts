/**
 * `deno task compile` builds a binary whose embedded files hold every module the daemon loads,
 * including the packet Worker, which the module graph of main.ts does not reach (a Worker is
 * started from a URL at run time, so `deno compile` needs `--include` for it).
 *
 * `deno compile` downloads Deno's `denort` runtime, which this project's build machines cannot
 * reach; `DENORT_BIN` points it at the running `deno` instead. The binary made that way does
 * not run as protomask, but `deno compile` prints the embedded file tree, which is what this
 * test checks: every local module of main.ts and of runtime/packet_worker.ts is in it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const repo = fromFileUrl(new URL("../../", import.meta.url));

/** Runs a command; returns its status and output. */
async function exec(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    cwd: repo,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const td = new TextDecoder();
  return { code: out.code, stdout: td.decode(out.stdout), stderr: td.decode(out.stderr) };
}

/**
 * Parses the "Embedded Files" tree `deno compile` prints into paths relative to the project;
 * a `dir/*` entry stands for every file under that directory.
 */
export function parseEmbeddedTree(text: string): { files: Set<string>; dirs: Set<string> } {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === "Embedded Files");
  const files = new Set<string>();
  const dirs = new Set<string>();
  if (start < 0) return { files, dirs };
  const stack: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^([│ ]*)[├└]─[─┬] (.+?)(?: \(.*\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 2;
    const name = m[2]!;
    stack.length = depth;
    const path = [...stack, name].join("/");
    if (name.endsWith("/*")) dirs.add(path.slice(0, -2));
    else if (line.includes("─┬ ")) stack.push(name);
    else files.add(path);
  }
  return { files, dirs };
}

/**
 * The project's own modules that `entry` loads at run time, relative to the project root:
 * the graph of `deno info --json` followed along code imports only (type-only imports are
 * erased and never loaded).
 */
async function localModules(entry: string): Promise<string[]> {
  const info = await exec([Deno.execPath(), "info", "--json", entry]);
  assert.equal(info.code, 0, info.stderr);
  interface Dep {
    code?: { specifier: string };
  }
  const graph = JSON.parse(info.stdout) as {
    roots: string[];
    modules: { specifier: string; dependencies?: Dep[] }[];
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...graph.roots];
  while (todo.length > 0) {
    const s = todo.pop()!;
    if (seen.has(s) || !s.startsWith("file://")) continue;
    seen.add(s);
    for (const d of bySpecifier.get(s)?.dependencies ?? []) {
      if (d.code) todo.push(d.code.specifier);
    }
  }
  return [...seen].map((s) => relative(repo, fromFileUrl(s)));
}

Deno.test("parseEmbeddedTree reads nested directories and dir/* entries", () => {
  const tree = [
    "Embedded Files",
    "",
    "out",
    "├─┬ runtime (62KB)",
    "│ ├── run.ts (52KB)",
    "│ └── state_file.ts (10KB)",
    "├── deno.json (1KB)",
    "└─┬ lib (700KB)",
    "  ├── addr/* (53KB)",
    "  └── x.ts (1KB)",
  ].join("\n");
  const { files, dirs } = parseEmbeddedTree(tree);
  assert.deepEqual(
    [...files].sort(),
    ["deno.json", "lib/x.ts", "runtime/run.ts", "runtime/state_file.ts"],
  );
  assert.deepEqual([...dirs], ["lib/addr"]);
});

Deno.test({
  name: "deno task compile embeds main.ts's graph and the packet Worker's",
  // deno compile writes a ~100 MB file; give it time on a busy machine.
  sanitizeResources: false,
  fn: async () => {
    const json = JSON.parse(await Deno.readTextFile(join(repo, "deno.json")));
    const task: string = json.tasks.compile;
    const words = task.split(/\s+/);
    assert.deepEqual(words.slice(0, 2), ["deno", "compile"], task);
    const outAt = words.indexOf("--output");
    assert.ok(outAt > 0, `the compile task names its --output: ${task}`);
    const dir = await Deno.makeTempDir({ prefix: "protomask-compile-" });
    try {
      words[outAt + 1] = join(dir, "protomask");
      const result = await exec([Deno.execPath(), ...words.slice(1)], {
        DENORT_BIN: Deno.execPath(),
      });
      assert.equal(result.code, 0, result.stderr);
      const { files, dirs } = parseEmbeddedTree(result.stdout + "\n" + result.stderr);
      assert.ok(files.size + dirs.size > 0, `no embedded file tree in:\n${result.stderr}`);
      const covered = (p: string) =>
        files.has(p) || [...dirs].some((d) => p === d || p.startsWith(d + "/"));
      const needed = new Set([
        ...await localModules("main.ts"),
        ...await localModules("runtime/packet_worker.ts"),
      ]);
      assert.ok(needed.has("runtime/packet_worker.ts"));
      const missing = [...needed].filter((p) => !covered(p));
      assert.deepEqual(missing, [], `not embedded by '${task}'`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
