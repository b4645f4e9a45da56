// Runs the proxy-ND pieces of ffi/netlink.ts inside a test namespace:
//   _neigh_tool.ts proxy-ndp IF 0|1   set net.ipv6.conf.IF.proxy_ndp (setProxyNdp)
//   _neigh_tool.ts add IF ADDR        add a proxy neighbor entry (Rtnetlink.addProxyNeighbor)
//   _neigh_tool.ts del IF ADDR        delete it (Rtnetlink.deleteProxyNeighbor)
//   _neigh_tool.ts setup IF ADDR...   setUpProxyNeighbors; prints {"ready": true, "warnings"},
//                                     undoes on SIGTERM and prints {"undone": problems}
// Prints {"ok": true} or exits 1 with the SysError's message on stderr.
import { parseIpv6 } from "../../lib/addr/ipv6.ts";
import { linkIndex, Rtnetlink, setProxyNdp, setUpProxyNeighbors } from "../../ffi/netlink.ts";

const [cmd, ifname, arg] = Deno.args;
try {
  if (cmd === "proxy-ndp" && ifname !== undefined) {
    setProxyNdp(ifname, arg === "1");
  } else if ((cmd === "add" || cmd === "del") && ifname !== undefined && arg !== undefined) {
    const addr = parseIpv6(arg);
    if (addr === null) throw new Error(`${arg} is not an IPv6 address`);
    using nl = Rtnetlink.open();
    if (cmd === "add") nl.addProxyNeighbor(linkIndex(ifname), addr);
    else nl.deleteProxyNeighbor(linkIndex(ifname), addr);
  } else if (cmd === "setup" && ifname !== undefined) {
    const addrs = Deno.args.slice(2).map((a) => parseIpv6(a) ?? Deno.exit(2));
    const p = setUpProxyNeighbors(ifname, addrs);
    console.log(JSON.stringify({ ready: true, warnings: p.warnings }));
    const stop = Promise.withResolvers<void>();
    Deno.addSignalListener("SIGTERM", () => stop.resolve());
    await stop.promise;
    console.log(JSON.stringify({ undone: p.undo() }));
    Deno.exit(0);
  } else {
    throw new Error("usage: proxy-ndp IF 0|1 | add IF ADDR | del IF ADDR");
  }
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  Deno.exit(1);
}
