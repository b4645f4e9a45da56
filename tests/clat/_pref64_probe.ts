// Runs a Pref64Discovery (runtime/pref64.ts) inside a test namespace and prints one JSON line
// per onChange on stdout ({"prefix": "…/96" | null, "source": "ra" | "dns"}), log lines on
// stderr, {"ready": true} once listening, {"stopped": true} after a clean stop on SIGTERM.
// Usage: _pref64_probe.ts [--uplink IF] [--resolver ADDR] [--grace-ms N] [--dns-interval S]
import { parseArgs } from "node:util";
import { formatIpv6Prefix } from "../../lib/addr/ipv6.ts";
import { parseResolver } from "../../lib/config/listen.ts";
import { Pref64Discovery } from "../../runtime/pref64.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    uplink: { type: "string" },
    resolver: { type: "string" },
    "grace-ms": { type: "string", default: "3000" },
    "dns-interval": { type: "string", default: "600" },
    "dns-retry": { type: "string", default: "10" },
  },
});
let resolver = null;
if (values.resolver !== undefined) {
  const r = parseResolver(values.resolver);
  if (typeof r === "string") throw new Error(r);
  resolver = r;
}
const d = Pref64Discovery.start({
  uplink: values.uplink ?? null,
  resolver,
  raGraceMs: Number(values["grace-ms"]),
  dnsIntervalSecs: Number(values["dns-interval"]),
  dnsRetrySecs: Number(values["dns-retry"]),
  onChange(prefix, source) {
    console.log(
      JSON.stringify({ prefix: prefix === null ? null : formatIpv6Prefix(prefix), source }),
    );
  },
  log(level, message) {
    console.error(`${level}: ${message}`);
  },
});
const stopped = Promise.withResolvers<void>();
Deno.addSignalListener("SIGTERM", () => stopped.resolve());
console.log(JSON.stringify({ ready: true }));
await stopped.promise;
await d.stop();
console.log(JSON.stringify({ stopped: true }));
