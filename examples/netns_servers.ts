/**
 * The IPv4-only servers of the namespace demo and the end-to-end tests, run inside the server
 * namespace:
 *
 * ```
 * deno run --allow-net examples/netns_servers.ts ADDRESS [--http PORT] [--echo PORT] [--dns PORT]
 *   [--max-secs N]
 * ```
 *
 * - HTTP on ADDRESS:PORT: `GET /` a small page; `GET /bytes/N` N bytes of {@link fillPattern}
 *   (so a client can check a download's SHA-256 without the server); `GET /whoami` the client's
 *   IPv4 address as the server sees it (which pool address a host was given); `POST /sha256`
 *   the SHA-256 (hex) of the request body (an upload's checksum).
 * - UDP echo on ADDRESS:PORT: every datagram is sent back unchanged.
 * - A DNS-style responder on ADDRESS:PORT: every query gets one A record, {@link DNS_ANSWER_V4},
 *   for its question.
 *
 * Prints one line `listening http=… echo=… dns=…` on stdout once every socket is bound, and
 * exits by itself after `--max-secs` (default 900), so a forgotten server cannot live on.
 *
 * @module
 */

import { createHash } from "node:crypto";
import dgram from "node:dgram";

/** The A record every DNS query is answered with. */
export const DNS_ANSWER_V4 = "198.51.100.80";

/** Largest download `GET /bytes/N` serves (bytes). */
export const MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024;

const CHUNK_BYTES = 64 * 1024;

/**
 * Fills `buf` with the deterministic download pattern, starting at stream offset `start`:
 * byte `i` of the stream is a fixed mix of the bits of `i`, so it does not repeat within any
 * window a lost or duplicated TCP segment could hide in.
 *
 * @param buf Buffer to fill (entirely).
 * @param start Stream offset of `buf[0]`.
 * @returns Nothing; `buf` is written.
 */
export function fillPattern(buf: Uint8Array, start: number): void {
  for (let k = 0; k < buf.length; k++) {
    const i = start + k;
    buf[k] = (Math.imul(i, 2654435761) >>> 24) ^ (i >>> 16) ^ ((i >>> 8) & 0xff);
  }
}

/**
 * SHA-256 (hex) of the first `length` bytes of the download pattern.
 *
 * @param length Number of bytes.
 * @returns Lowercase hex digest.
 */
export function patternSha256(length: number): string {
  const hash = createHash("sha256");
  const buf = new Uint8Array(CHUNK_BYTES);
  for (let off = 0; off < length; off += CHUNK_BYTES) {
    const n = Math.min(CHUNK_BYTES, length - off);
    fillPattern(buf.subarray(0, n), off);
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

function patternStream(length: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= length) {
        controller.close();
        return;
      }
      const chunk = new Uint8Array(Math.min(CHUNK_BYTES, length - sent));
      fillPattern(chunk, sent);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

async function handle(
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  address: string,
): Promise<Response> {
  const url = new URL(req.url);
  const bytes = url.pathname.match(/^\/bytes\/(\d+)$/);
  if (req.method === "GET" && bytes) {
    const length = Number(bytes[1]);
    if (length > MAX_DOWNLOAD_BYTES) return new Response("too large\n", { status: 400 });
    return new Response(patternStream(length), {
      headers: { "content-type": "application/octet-stream", "content-length": String(length) },
    });
  }
  if (req.method === "GET" && url.pathname === "/whoami") {
    return new Response(`${info.remoteAddr.hostname}\n`);
  }
  if (req.method === "POST" && url.pathname === "/sha256") {
    const hash = createHash("sha256");
    let total = 0;
    if (req.body) {
      for await (const chunk of req.body) {
        hash.update(chunk);
        total += chunk.length;
      }
    }
    return new Response(`${hash.digest("hex")} ${total}\n`);
  }
  if (req.method === "GET" && url.pathname === "/") {
    return new Response(
      `<!doctype html>\n<title>protomask demo</title>\n<p>hello from ${address}, ` +
        `you are ${info.remoteAddr.hostname}</p>\n`,
      { headers: { "content-type": "text/html" } },
    );
  }
  return new Response("not found\n", { status: 404 });
}

/**
 * Builds the DNS answer to `query`: the same id and question, QR/RD/RA set, one A record
 * ({@link DNS_ANSWER_V4}, TTL 300) pointing at the question name. Additional records (EDNS)
 * are not echoed.
 *
 * @param query The query datagram.
 * @returns The response datagram, or `null` when the query is too short to answer.
 */
export function dnsAnswer(query: Uint8Array): Uint8Array | null {
  if (query.length < 12) return null;
  let end = 12;
  for (let guard = 0; guard < 128 && end < query.length && query[end] !== 0; guard++) {
    end += query[end]! + 1;
  }
  const questionEnd = end + 5; // the root label's 0, QTYPE, QCLASS
  if (questionEnd > query.length) return null;
  const out = new Uint8Array(questionEnd + 16);
  const view = new DataView(out.buffer);
  out.set(query.subarray(0, 2), 0); // id
  view.setUint16(2, 0x8180); // response, recursion desired + available, no error
  view.setUint16(4, 1); // QDCOUNT
  view.setUint16(6, 1); // ANCOUNT
  out.set(query.subarray(12, questionEnd), 12);
  let o = questionEnd;
  view.setUint16(o, 0xc00c); // name: pointer to the question
  view.setUint16(o + 2, 1); // TYPE A
  view.setUint16(o + 4, 1); // CLASS IN
  view.setUint32(o + 6, 300); // TTL
  view.setUint16(o + 10, 4); // RDLENGTH
  o += 12;
  for (const part of DNS_ANSWER_V4.split(".")) out[o++] = Number(part);
  return out;
}

function bindUdp(address: string, port: number, reply: (msg: Uint8Array) => Uint8Array | null) {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (msg, peer) => {
    const out = reply(new Uint8Array(msg));
    if (out) sock.send(out, peer.port, peer.address);
  });
  return new Promise<dgram.Socket>((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, address, () => resolve(sock));
  });
}

function flag(args: string[], name: string): number | null {
  const i = args.indexOf(name);
  if (i < 0) return null;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0 || v > 65535 * 100) throw new Error(`bad ${name}`);
  return v;
}

async function main(args: string[]): Promise<void> {
  const address = args[0];
  if (!address) throw new Error("usage: netns_servers.ts ADDRESS [--http P] [--echo P] [--dns P]");
  const httpPort = flag(args, "--http");
  const echoPort = flag(args, "--echo");
  const dnsPort = flag(args, "--dns");
  const maxSecs = flag(args, "--max-secs") ?? 900;
  const parts: string[] = [];
  const stoppers: (() => unknown)[] = [];
  if (httpPort !== null) {
    const server = Deno.serve(
      { hostname: address, port: httpPort, onListen: () => {} },
      (req, info) => handle(req, info as Deno.ServeHandlerInfo<Deno.NetAddr>, address),
    );
    stoppers.push(() => server.shutdown());
    parts.push(`http=${address}:${httpPort}`);
  }
  if (echoPort !== null) {
    const s = await bindUdp(address, echoPort, (m) => m);
    stoppers.push(() => s.close());
    parts.push(`echo=${address}:${echoPort}`);
  }
  if (dnsPort !== null) {
    const s = await bindUdp(address, dnsPort, dnsAnswer);
    stoppers.push(() => s.close());
    parts.push(`dns=${address}:${dnsPort}`);
  }
  console.log(`listening ${parts.join(" ")}`);
  const stop = () => {
    for (const s of stoppers) s();
    Deno.exit(0);
  };
  setTimeout(stop, maxSecs * 1000);
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}

if (import.meta.main) await main(Deno.args);
