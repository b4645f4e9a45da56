/**
 * `deno run --allow-net _udp_client.ts [--socket-each] HOST PORT SIZE...`: sends one UDP
 * datagram of each SIZE (a fixed byte pattern) to [HOST]:PORT from one socket — or, with
 * `--socket-each`, each from a socket of its own, so each is a flow of its own (its own source
 * port) — waits up to 2 s for the answer after each, and prints one JSON line per datagram:
 * `{"size", "result", "replyBytes", "equal"}`.
 * Run inside a client namespace by tests/e2e/_harness.ts (udpExchange).
 *
 * @module
 */

import dgram from "node:dgram";

const socketEach = Deno.args[0] === "--socket-each";
const [host, portText, ...sizeTexts] = Deno.args.slice(socketEach ? 1 : 0);
if (!host || !portText) {
  console.error("usage: _udp_client.ts [--socket-each] HOST PORT SIZE...");
  Deno.exit(2);
}
const port = Number(portText);
const replies: Uint8Array[] = [];
let wake: (() => void) | null = null;
let lastError: string | null = null;

/** A bound socket that records what it receives in `replies`. */
async function openSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket("udp6");
  s.on("message", (msg) => {
    replies.push(new Uint8Array(msg));
    wake?.();
  });
  s.on("error", (e: NodeJS.ErrnoException) => {
    lastError = e.code ?? e.message;
    wake?.();
  });
  await new Promise<void>((resolve) => s.bind(0, "::", resolve));
  return s;
}

let sock = await openSocket();
for (const sizeText of sizeTexts) {
  if (socketEach && sizeText !== sizeTexts[0]) {
    sock.close();
    sock = await openSocket();
  }
  const size = Number(sizeText);
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 7 + 1) & 0xff;
  replies.length = 0;
  lastError = null;
  sock.send(payload, port, host);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    wake = resolve;
    timer = setTimeout(resolve, 2000);
  });
  clearTimeout(timer);
  wake = null;
  const reply = replies[0];
  if (reply) {
    const equal = reply.length === size && reply.every((b, i) => b === payload[i]);
    console.log(JSON.stringify({ size, result: "reply", replyBytes: reply.length, equal }));
  } else {
    console.log(JSON.stringify({ size, result: lastError ? `error: ${lastError}` : "timeout" }));
  }
}
sock.close();
