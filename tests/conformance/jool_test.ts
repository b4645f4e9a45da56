/**
 * Jool's graybox suite (the corpus beside the clone, `../shared/conformance/jool/`; absent in a
 * user's clone, where these tests skip with a message) through the offline
 * `translate` mode, compared as `check.py` compares. Cases protomask does not
 * pass are listed in {@link KNOWN_FAILURES} with their reason (and in the
 * README); a listed case that starts passing fails the test, so the list
 * stays true.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/config.ts";
import { translateCapture } from "../../lib/cli/offline.ts";
import { sharedAvailable, sharedPath, skipMessage } from "../_util/shared.ts";
import { configToml, type JoolManifest, runCase } from "./jool.ts";

/** Cases protomask does not pass, and why (mirrored in README.md). */
export const KNOWN_FAILURES: Record<string, string> = {
  "siit-manual-6791v46t":
    "configuration without an RFC 6052 prefix (EAM ranges only); protomask always has Interface.Prefix, so the untranslatable source 2.0.0.2 is embedded in it instead of taking the RFC 6791 address",
  "siit-manual-6791v46t-emptypool":
    "same configuration without an RFC 6052 prefix as siit-manual-6791v46t",
  "nat64-manual-icmp-error-ptb46-test":
    "Jool's NAT64 sends its own errors from its pool4 address 192.0.2.2, which is also the mapped host's address; protomask keeps Interface.Address4 apart from mapped addresses, so the Fragmentation Needed comes from 192.0.0.8",
};

const REL = "conformance/jool/manifest.json";
const available = sharedAvailable(REL);
if (!available) console.warn(skipMessage("Jool conformance cases"));
const dir = sharedPath("conformance/jool");
const manifest: JoolManifest = available
  ? JSON.parse(Deno.readTextFileSync(`${dir}/manifest.json`))
  : { cases: [] };

Deno.test({
  name: "Jool suite: every case without known failure passes (RFC 7915/6052/4884/6791/7757)",
  ignore: !available,
  fn: async (t) => {
    for (const c of manifest.cases) {
      await t.step(`${c.name} (${c.requires.join(",") || "no requires"})`, () => {
        const r = runCase(dir, c);
        if (c.name in KNOWN_FAILURES) {
          assert.notEqual(
            r,
            null,
            `${c.name} passes now: remove it from KNOWN_FAILURES and the README`,
          );
        } else {
          assert.equal(r, null, r ?? "");
        }
      });
    }
  },
});

Deno.test({
  name: "Jool suite: at least 150 of 167 cases pass and all 112 without requires",
  ignore: !available,
  fn: () => {
    const failing = manifest.cases.filter((c) => c.name in KNOWN_FAILURES);
    assert.equal(manifest.cases.length, 167);
    assert.ok(manifest.cases.length - failing.length >= 150);
    assert.ok(failing.every((c) => c.requires.length > 0));
  },
});

const python = (() => {
  try {
    return new Deno.Command("python3", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "Jool suite: the reference checker check.py agrees with our comparison",
  ignore: !available || !python,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "protomask-jool-" });
    try {
      for (const c of manifest.cases) {
        if (c.name in KNOWN_FAILURES) continue; // some have configs protomask rejects
        const cfg = parseConfig(configToml(c.config));
        const res = translateCapture(cfg, Deno.readFileSync(`${dir}/${c.input}`));
        Deno.writeFileSync(`${out}/${c.name}.pcap`, res.pcap);
      }
      const r = await new Deno.Command("python3", {
        args: [
          sharedPath("conformance/check.py"),
          "--manifest",
          `${dir}/manifest.json`,
          "--actual-dir",
          out,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(r.stdout);
      const failed = [...text.matchAll(/^FAIL (\S+?):/gm)].map((m) => m[1]!).sort();
      assert.deepEqual(failed, Object.keys(KNOWN_FAILURES).sort(), text);
      const last = text.trim().split("\n").at(-1)!;
      assert.match(last, /^164 passed, 3 failed$/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
