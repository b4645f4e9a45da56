/**
 * Lease-table lookups as the engine makes them per packet (`v4For6`, `v6For4`, with refresh),
 * in a 4,096-lease table with a few static maps, reported against a baseline measured in the
 * same run (reading the 16 address bytes the lookup reads). Run with `deno task bench`; read
 * the "x slower than" column, not the absolute times, on a shared machine.
 *
 * @module
 */

import { LEASE_ALLOCATE, LEASE_REFRESH, LeaseTable } from "../../lib/lease/table.ts";
import { options } from "../lease/helpers.ts";

const HOSTS = 4096;
const NOW = 1_000_000;
const table = LeaseTable.create(
  options(["10.64.0.0/16"], [["192.0.2.0/24", "2001:db8:1c0:2::/72"], [
    "198.51.100.7/32",
    "2001:db8::7/128",
  ]], 3600),
);
/** One IPv6 host per 16 bytes: 2001:db8:1::<i>. */
const hosts = new Uint8Array(16 * HOSTS);
const v4s = new Int32Array(HOSTS);
for (let i = 0; i < HOSTS; i++) {
  hosts.set([0x20, 0x01, 0x0d, 0xb8, 0, 1], 16 * i);
  hosts[16 * i + 14] = i >>> 8;
  hosts[16 * i + 15] = i & 0xff;
  v4s[i] = table.v4For6(hosts, 16 * i, NOW, LEASE_ALLOCATE | LEASE_REFRESH);
}
const STATIC_HOST = new Uint8Array([
  0x20,
  0x01,
  0x0d,
  0xb8,
  0x01,
  0xc0,
  0,
  2,
  0,
  0x21,
  0,
  0,
  0,
  0,
  0,
  0,
]);

const out = new Uint8Array(16);
let i = 0;
let sink = 0;

Deno.bench({ name: "read 16 bytes", group: "lookup", baseline: true }, () => {
  const b = 16 * (i = (i + 1) & (HOSTS - 1));
  for (let k = 0; k < 16; k++) sink ^= hosts[b + k]!;
});

Deno.bench({ name: "v4For6 (leased host)", group: "lookup" }, () => {
  i = (i + 1) & (HOSTS - 1);
  sink ^= table.v4For6(hosts, 16 * i, NOW, LEASE_REFRESH);
});

Deno.bench({ name: "v6For4 (leased address)", group: "lookup" }, () => {
  i = (i + 1) & (HOSTS - 1);
  sink ^= table.v6For4(v4s[i]! >>> 0, out, 0, NOW, LEASE_REFRESH);
});

Deno.bench({ name: "v4For6 (static map)", group: "lookup" }, () => {
  sink ^= table.staticV4For6(STATIC_HOST, 0);
});

globalThis.addEventListener("unload", () => {
  if (sink === 0x7fffffff) console.log(sink);
});
