import assert from "node:assert/strict";
import { parseIpv4 } from "../../lib/addr/ipv4.ts";
import { parseIpv6 } from "../../lib/addr/ipv6.ts";
import {
  isGlobalIpv4,
  isInvalidSource4,
  isInvalidSource6,
  isMulticast6,
  isMulticastOrBroadcast4,
} from "../../lib/addr/special.ts";

const v4 = (t: string) => parseIpv4(t)!;

Deno.test("isGlobalIpv4() is false across every IANA non-global block", () => {
  // [first, last] of each block from the IANA IPv4 Special-Purpose Address Registry.
  const blocks: [string, string][] = [
    ["0.0.0.0", "0.255.255.255"],
    ["10.0.0.0", "10.255.255.255"],
    ["100.64.0.0", "100.127.255.255"],
    ["127.0.0.0", "127.255.255.255"],
    ["169.254.0.0", "169.254.255.255"],
    ["172.16.0.0", "172.31.255.255"],
    ["192.0.0.0", "192.0.0.8"],
    ["192.0.0.11", "192.0.0.255"],
    ["192.0.2.0", "192.0.2.255"],
    ["192.168.0.0", "192.168.255.255"],
    ["198.18.0.0", "198.19.255.255"],
    ["198.51.100.0", "198.51.100.255"],
    ["203.0.113.0", "203.0.113.255"],
    ["224.0.0.0", "239.255.255.255"],
    ["240.0.0.0", "255.255.255.255"],
  ];
  for (const [first, last] of blocks) {
    assert.equal(isGlobalIpv4(v4(first)), false, first);
    assert.equal(isGlobalIpv4(v4(last)), false, last);
  }
});

Deno.test("isGlobalIpv4() is true just outside each non-global block", () => {
  for (
    const t of [
      "1.0.0.0",
      "9.255.255.255",
      "11.0.0.0",
      "100.63.255.255",
      "100.128.0.0",
      "126.255.255.255",
      "128.0.0.0",
      "169.253.255.255",
      "169.255.0.0",
      "172.15.255.255",
      "172.32.0.0",
      "192.0.0.9",
      "192.0.0.10",
      "192.0.1.0",
      "192.0.3.0",
      "192.167.255.255",
      "192.169.0.0",
      "198.17.255.255",
      "198.20.0.0",
      "198.51.99.255",
      "198.51.101.0",
      "203.0.112.255",
      "203.0.114.0",
      "223.255.255.255",
      "8.8.8.8",
    ]
  ) {
    assert.equal(isGlobalIpv4(v4(t)), true, t);
  }
});

Deno.test("isInvalidSource4() flags this-network, loopback, multicast and broadcast", () => {
  for (const t of ["0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1", "239.255.255.255"]) {
    assert.equal(isInvalidSource4(v4(t)), true, t);
  }
  assert.equal(isInvalidSource4(0xffffffff), true);
  for (const t of ["1.0.0.0", "192.0.2.1", "240.0.0.1", "255.255.255.254", "126.255.255.255"]) {
    assert.equal(isInvalidSource4(v4(t)), false, t);
  }
});

Deno.test("isMulticastOrBroadcast4() flags 224/4 and 255.255.255.255 only", () => {
  assert.equal(isMulticastOrBroadcast4(v4("224.0.0.0")), true);
  assert.equal(isMulticastOrBroadcast4(v4("239.255.255.255")), true);
  assert.equal(isMulticastOrBroadcast4(v4("255.255.255.255")), true);
  assert.equal(isMulticastOrBroadcast4(v4("223.255.255.255")), false);
  assert.equal(isMulticastOrBroadcast4(v4("240.0.0.0")), false);
  assert.equal(isMulticastOrBroadcast4(v4("192.0.2.255")), false);
});

Deno.test("isInvalidSource6() flags ::, ::1 and ff00::/8 at an offset", () => {
  const at = (t: string) => {
    const buf = new Uint8Array(24).fill(0xa5);
    buf.set(parseIpv6(t)!, 5);
    return isInvalidSource6(buf, 5);
  };
  for (const t of ["::", "::1", "ff02::1", "ff00::"]) assert.equal(at(t), true, t);
  for (const t of ["::2", "::100", "1::1", "fe80::1", "2001:db8::1", "feff::"]) {
    assert.equal(at(t), false, t);
  }
});

Deno.test("isMulticast6() flags ff00::/8 only", () => {
  assert.equal(isMulticast6(parseIpv6("ff02::1")!, 0), true);
  assert.equal(isMulticast6(parseIpv6("fe80::1")!, 0), false);
  assert.equal(isMulticast6(parseIpv6("::ff")!, 0), false);
});
