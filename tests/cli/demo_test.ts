/**
 * `deno task demo` as a user runs it: the task's own command line from deno.json, as a
 * subprocess. Root only (the demo builds network namespaces); skipped with a message otherwise.
 *
 * @module
 */

import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { run, sleep } from "../../examples/netns.ts";
import { skipReason } from "../e2e/_harness.ts";

const ROOT = new URL("../../", import.meta.url);
const reason = skipReason(["ping", "curl", "traceroute6", "dig"]);
if (reason) console.warn(`SKIPPED deno task demo tests: ${reason}`);

/** The demo task's arguments after `deno` (e.g. ["run", "--allow-run=ip", …, "examples/demo.ts"]). */
function demoArgs(): string[] {
  const words = denoJson.tasks.demo.split(/\s+/);
  assert.equal(words[0], "deno", `the demo task does not start with deno: ${denoJson.tasks.demo}`);
  return words.slice(1);
}

function demoCommand(): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: demoArgs(),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Namespaces whose names start with `id` that still exist. */
async function leftoverNamespaces(id: string): Promise<string[]> {
  const r = await run(["ip", "netns", "list"]);
  return r.stdout.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n.startsWith(id));
}

Deno.test({
  name:
    "deno task demo pings, fetches and traceroutes through protomask, scrapes /metrics, shows the audit log and removes its namespaces",
  ignore: reason !== null,
  async fn() {
    const child = demoCommand().spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const out = await child.output();
    clearTimeout(timer);
    const text = new TextDecoder().decode(out.stdout);
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text + err);
    assert.match(text, /^ {2}ping6 +ok +3\/3 echo replies from 2001:db8:64::c633:6402/m);
    const seenAs = text.match(/^ {2}curl +ok +the server saw the client as (192\.0\.2\.(\d+))$/m);
    assert.ok(seenAs, text);
    // A pool address (192.0.2.16/28 without its network and broadcast addresses).
    assert.ok(Number(seenAs[2]) > 16 && Number(seenAs[2]) < 31, seenAs[1]);
    assert.match(text, /^ {2}download +ok +10485760 bytes in /m);
    assert.match(
      text,
      /^ {2}traceroute +ok +\d+ hops: 2001:db8:a:1::1 → .*2001:db8:64::cb00:7102 → 2001:db8:64::c633:6402$/m,
    );
    // The lease in the state file is the address the server saw.
    assert.match(
      text,
      new RegExp(`^ {2}lease +ok +2001:db8:a:1::2 → ${seenAs[1]!.replaceAll(".", "\\.")} `, "m"),
    );
    // A scrape of /metrics and the mapping log's line for the client's lease.
    assert.match(text, /^protomask_translated_packets_total\{direction="6to4"\} [1-9]\d*$/m);
    assert.match(text, /^ {2}metrics +ok +\/metrics: [1-9]\d* packets translated 6→4/m);
    assert.match(
      text,
      new RegExp(
        `^\\{"time":"[^"]+","event":"created","ipv6":"2001:db8:a:1::2","ipv4":"${
          seenAs[1]!.replaceAll(".", "\\.")
        }"\\}$`,
        "m",
      ),
    );
    assert.match(text, /^ {2}audit log +ok +1 line\(s\); created 2001:db8:a:1::2 → /m);
    assert.match(
      text,
      /^ {2}daemon +ok +SIGTERM: exit 0 in \d+ ms; counters \{.*"translated_6to4":\d+/m,
    );
    assert.match(text, /^result: (\d+) of \1 checks passed; namespaces removed$/m);
    const id = text.match(/^namespaces: (\S+)-\*/m)?.[1];
    assert.ok(id, text);
    assert.deepEqual(await leftoverNamespaces(id), []);
  },
});

Deno.test({
  name: "deno task demo interrupted by SIGINT exits 130 and removes its namespaces",
  ignore: reason !== null,
  async fn() {
    const child = demoCommand().spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    let text = "";
    const reader = (async () => {
      for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) text += t;
    })();
    const errText = new Response(child.stderr).text();
    // Interrupt once the daemon is up, i.e. with everything built and running.
    for (let i = 0; i < 400 && !/ready on/.test(text); i++) await sleep(50);
    assert.match(text, /ready on/, text);
    child.kill("SIGINT");
    const status = await child.status;
    clearTimeout(timer);
    await reader;
    assert.equal(status.code, 130, text + (await errText));
    assert.match(text, /SIGINT: stopping the demo and removing its namespaces/);
    const id = text.match(/^namespaces: (\S+)-\*/m)?.[1];
    assert.ok(id, text);
    assert.deepEqual(await leftoverNamespaces(id), []);
  },
});
