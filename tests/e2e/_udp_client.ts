/**
 * `deno run --allow-net _udp_client.ts HOST PORT SIZE...`: sends one UDP datagram of each SIZE
 * (a fixed byte pattern) to [HOST]:PORT from one socket, waits up to 2 s for the answer after
 * each, and prints one JSON line per datagram: `{"size", "result", "replyBytes", "equal"}`.
 * Run inside a client namespace by tests/e2e/_harness.ts (udpExchange).
 *
 * @module
 */

import dgram from "node:dgram";

const [host, portText, ...sizeTexts] = Deno.args;
if (!host || !portText) {
  console.error("usage: _udp_client.ts HOST PORT SIZE...");
  Deno.exit(2);
}
const port = Number(portText);
const sock = dgram.createSocket("udp6");
const replies: Uint8Array[] = [];
let wake: (() => void) | null = null;
sock.on("message", (msg) => {
  replies.push(new Uint8Array(msg));
  wake?.();
});
let lastError: string | null = null;
sock.on("error", (e: NodeJS.ErrnoException) => {
  lastError = e.code ?? e.message;
  wake?.();
});
await new Promise<void>((resolve) => sock.bind(0, "::", resolve));

for (const sizeText of sizeTexts) {
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
