import assert from "node:assert/strict";
import { CHECKED_SYSCTLS, sysctlsFor, sysctlWarnings } from "../../lib/daemon/sysctl.ts";
import { parseConfig } from "../../lib/config/config.ts";
import { clatConfig } from "../clat/_clat.ts";

Deno.test("sysctlWarnings: both forwarding switches on gives no warning", () => {
  assert.deepEqual(sysctlWarnings([{ value: "1\n" }, { value: "1\n" }]), []);
});

Deno.test("sysctlWarnings: a switch that is off is named with the command that fixes it", () => {
  const w = sysctlWarnings([{ value: "0\n" }, { value: "1\n" }]);
  assert.equal(w.length, 1);
  assert.match(w[0]!, /^net\.ipv6\.conf\.all\.forwarding is 0: /);
  assert.match(w[0]!, /sysctl -w net\.ipv6\.conf\.all\.forwarding=1/);
  const w4 = sysctlWarnings([{ value: "1" }, { value: "0" }]);
  assert.match(w4[0]!, /^net\.ipv4\.ip_forward is 0: /);
});

Deno.test("sysctlWarnings: an unreadable file says it was not checked", () => {
  const w = sysctlWarnings([{ error: "PermissionDenied" }, { value: "1" }]);
  assert.deepEqual(w, [
    `cannot read ${CHECKED_SYSCTLS[0]!.path} (PermissionDenied); ${
      CHECKED_SYSCTLS[0]!.name
    } not checked`,
  ]);
});

Deno.test("sysctlsFor() of a clat: IPv6 forwarding; IPv4 forwarding only for a LAN; accept_ra 2 on Uplink with Via = auto", () => {
  const host = sysctlsFor(clatConfig());
  assert.deepEqual(host.map((s) => s.name), ["net.ipv6.conf.all.forwarding"]);
  const cpe = sysctlsFor(
    clatConfig({ via: "auto", address6: "2001:db8:1:4646::1" }, [
      'HostAddress = ""',
      'Uplink = "wan0"',
    ]),
  );
  assert.deepEqual(cpe.map((s) => s.name), [
    "net.ipv6.conf.all.forwarding",
    "net.ipv4.ip_forward",
    "net.ipv6.conf.wan0.accept_ra",
  ]);
  assert.equal(cpe[2]!.path, "/proc/sys/net/ipv6/conf/wan0/accept_ra");
  const warnings = sysctlWarnings([{ value: "1" }, { value: "1" }, { value: "1" }], cpe);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /wan0\.accept_ra is 1: .*PREF64.*sysctl -w net\.ipv6\.conf\.wan0\.accept_ra=2/,
  );
  assert.equal(sysctlsFor(parseConfig('[Interface]\nPool = ["192.0.2.0/24"]\n')), CHECKED_SYSCTLS);
});
