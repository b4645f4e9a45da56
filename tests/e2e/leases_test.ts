/**
 * Address leases seen from the IPv4 server: several clients get distinct pool addresses, a
 * static map gives its host its fixed address (both directions), and a short
 * ReservationDuration expires so the address goes to another host. Three IPv6-only clients;
 * the server's `GET /whoami` says which IPv4 source each client appears as.
 *
 * @module
 */

import assert from "node:assert/strict";
import { e2eTest, ipv4InPrefix, POOL, sleep, TRANSLATOR, whoami } from "./_harness.ts";

const STATIC_V4 = "192.0.2.2";
/** A pool of exactly one address, so a second host can only get it after the first lease ends. */
const ONE_ADDRESS_POOL = "192.0.2.40/32";
const RESERVATION_SECS = 2;

e2eTest("leases: distinct pool addresses, static maps, expiry", {
  topology: { clients: 3, tag: "ls" },
  tools: ["ping", "curl"],
  timeoutMs: 120_000,
}, async ({ topo, start }, t) => {
  const [c1, c2, c3] = [topo.clients[0]!, topo.clients[1]!, topo.clients[2]!];
  const server = topo.serverNs!;
  let daemon = await start({ staticMaps: [{ v4: STATIC_V4, v6: c1.addr }] });

  await t.step("each client appears at the server as its own pool address", async () => {
    const seen = [await whoami(topo, c2), await whoami(topo, c3)];
    for (const v4 of seen) {
      assert.ok(v4 !== null && ipv4InPrefix(v4, POOL), `${v4} is not in ${POOL}`);
    }
    assert.notEqual(seen[0], seen[1]);
    // Asked again, each keeps its address.
    assert.deepEqual([await whoami(topo, c2), await whoami(topo, c3)], seen);
  });

  await t.step("a statically mapped client appears as its static IPv4 address", async () => {
    assert.equal(await whoami(topo, c1), STATIC_V4);
    // ... and the IPv4 side reaches it there.
    const r = await topo.exec(server, ["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", STATIC_V4]);
    assert.match(r.stdout, /2 packets transmitted, 2 received/, r.stdout + r.stderr);
  });

  await t.step({
    name: "an expired dynamic lease's address goes to another client",
    // TAYGA's dynamic map lifetime is fixed (hours): nothing to shorten.
    ignore: TRANSLATOR !== "protomask",
    fn: async () => {
      const stopped = await daemon.proc.stop("SIGTERM", 5000);
      assert.equal(stopped.code, 0, daemon.proc.stderr);
      daemon = await start({ pool: [ONE_ADDRESS_POOL], reservationSecs: RESERVATION_SECS });
      const only = ONE_ADDRESS_POOL.replace("/32", "");
      assert.equal(await whoami(topo, c2), only);
      // The only address is taken while c2's lease lives: c3 gets nothing.
      assert.equal(await whoami(topo, c3), null);
      // Idle for longer than ReservationDuration: the lease ends and c3 gets the address.
      await sleep((RESERVATION_SECS + 1) * 1000);
      let got: string | null = null;
      for (let i = 0; i < 5 && got === null; i++) {
        got = await whoami(topo, c3);
        if (got === null) await sleep(1000);
      }
      assert.equal(got, only, daemon.proc.stderr);
      // Now c2 is the one without an address.
      assert.equal(await whoami(topo, c2), null);
    },
  });
});
