/**
 * Runner for Jool's graybox packet suite as re-wrapped in the Jool corpus beside the clone
 * (`../shared/conformance/jool/`, absent in a user's clone): builds a protomask config
 * from each case's config, translates the input pcap through the offline
 * mode, and compares the output as `check.py` does — byte for byte except the
 * declared `ignore` ranges, whose `verify` checksums must be valid.
 *
 * @module
 */

import { parseConfig } from "../../lib/config/config.ts";
import { translateCapture } from "../../lib/cli/offline.ts";
import { readCapture } from "../../lib/pcap/reader.ts";
import { addWords, fold } from "../_util/packets.ts";

/** A case's translator config as the manifest gives it. */
export interface JoolConfig {
  prefix: string | null;
  staticMaps: { v4: string; v6: string }[];
  eamRanges: { v4: string; v6: string }[];
  lowestIpv6Mtu: number;
  mtu6: number;
  mtu4: number;
  amendUdpChecksumZero: boolean;
  pool6791v4: string | null;
  pool6791v6: string | null;
  selfIPv4: string;
  selfIPv6: string;
}

/** One ignored byte range. */
export interface IgnoreRange {
  offset: number;
  length: number;
  field: string;
  verify?: { type: string; headerOffset?: number; icmpOffset?: number };
}

/** One case of the manifest. */
export interface JoolCase {
  name: string;
  configId: string;
  config: JoolConfig;
  requires: string[];
  input: string;
  expected: string | null;
  ignore: IgnoreRange[];
  notes: string;
}

/** The manifest. */
export interface JoolManifest {
  cases: JoolCase[];
}

/**
 * The protomask TOML for a Jool case config. The manifest's addresses are
 * documentation ranges, which the Well-Known Prefix rule would refuse, so
 * `AllowNonGlobalWithWKP` is on (Jool does not enforce RFC 6052 §3.1).
 *
 * @param c the case config
 * @returns TOML text
 */
export function configToml(c: JoolConfig): string {
  // Jool's NAT64 uses its pool4 address as its own; protomask keeps its own
  // address apart from mapped hosts, so those configs get the RFC 7600 one.
  const self4 = c.staticMaps.some((m) => m.v4 === c.selfIPv4) ? "192.0.0.8" : c.selfIPv4;
  const maps = [...c.staticMaps, ...c.eamRanges]
    .map((m) => `  { v4 = "${m.v4}", v6 = "${m.v6}" },`)
    .join("\n");
  const list = (v: string | null) => (v === null ? "[]" : `["${v}"]`);
  return [
    "[Interface]",
    c.prefix === null ? "" : `Prefix = "${c.prefix}"`,
    `Address4 = "${self4}"`,
    `Address6 = "${c.selfIPv6}"`,
    `MTU = ${Math.max(c.mtu4, c.mtu6)}`,
    "[Rules]",
    `MapStatic = [\n${maps}\n]`,
    "[Translation]",
    `LowestIPv6MTU = ${c.lowestIpv6Mtu}`,
    `MTU4 = ${c.mtu4}`,
    `MTU6 = ${c.mtu6}`,
    `AmendUDPChecksumZero = ${c.amendUdpChecksumZero}`,
    `Pool6791v4 = ${list(c.pool6791v4)}`,
    `Pool6791v6 = ${list(c.pool6791v6)}`,
    "AllowNonGlobalWithWKP = true",
    "",
  ].join("\n");
}

function sum16(b: Uint8Array, off: number, len: number): number {
  return fold(addWords(b, off, off + len, 0));
}

function verify(pkt: Uint8Array, r: IgnoreRange): string | null {
  const vf = r.verify;
  if (!vf) return null;
  if (vf.type === "ipv4-header-checksum") {
    const h = vf.headerOffset ?? 0;
    const ihl = (pkt[h]! & 0x0f) * 4;
    return sum16(pkt, h, ihl) === 0xffff ? null : `bad IPv4 header checksum at ${h}`;
  }
  if (vf.type === "icmpv4-checksum") {
    const o = vf.icmpOffset ?? 20;
    return sum16(pkt, o, pkt.length - o) === 0xffff ? null : `bad ICMPv4 checksum at ${o}`;
  }
  return `unknown verify type ${vf.type}`;
}

/**
 * Compares translator output with the expected packets.
 * @param actual packets emitted
 * @param expected packets expected
 * @param ignore byte ranges not compared
 * @returns null when they match, else what differs first
 */
export function compare(
  actual: Uint8Array[],
  expected: Uint8Array[],
  ignore: IgnoreRange[],
): string | null {
  if (actual.length !== expected.length) {
    return `expected ${expected.length} packet(s), got ${actual.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a.length !== e.length) return `packet ${i}: length ${a.length}, expected ${e.length}`;
    const skip = new Set<number>();
    for (const r of ignore) for (let k = 0; k < r.length; k++) skip.add(r.offset + k);
    for (let k = 0; k < e.length; k++) {
      if (skip.has(k) || a[k] === e[k]) continue;
      const hexb = (x: number) => "0x" + x.toString(16).padStart(2, "0");
      return `packet ${i} offset ${k}: expected ${hexb(e[k]!)}, actual ${hexb(a[k]!)}`;
    }
    for (const r of ignore) {
      const problem = verify(a, r);
      if (problem) return `packet ${i}: ${problem}`;
    }
  }
  return null;
}

/**
 * Runs one case through the offline mode.
 * @param dir directory of manifest.json
 * @param c the case
 * @returns null when it passes, else the reason
 */
export function runCase(dir: string, c: JoolCase): string | null {
  let cfg;
  try {
    cfg = parseConfig(configToml(c.config));
  } catch (e) {
    return `config rejected: ${(e as Error).message}`;
  }
  const input = Deno.readFileSync(`${dir}/${c.input}`);
  const result = translateCapture(cfg, input);
  const actual = readCapture(result.pcap).packets.map((p) => p.data);
  const expected = c.expected === null
    ? []
    : readCapture(Deno.readFileSync(`${dir}/${c.expected}`)).packets.map((p) => p.data);
  const diff = compare(actual, expected, c.ignore);
  if (diff === null) return null;
  return `${diff} (drops: ${JSON.stringify(result.drops)})`;
}
