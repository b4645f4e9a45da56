import assert from "node:assert/strict";
import { CHECKED_SYSCTLS, sysctlWarnings } from "../../lib/daemon/sysctl.ts";

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
