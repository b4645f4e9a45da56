import assert from "node:assert/strict";

Deno.test("deno task demo translates the captured traffic and shows the reassembled 3000-byte ping", async () => {
  const root = new URL("../../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read=.", "--allow-env=NO_COLOR", "examples/demo.ts"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /out {2}IPv4 192\.0\.2\.2 > 198\.51\.100\.2 ttl 62 len 84: ICMP echo request/);
  assert.match(text, /reassembled 1/);
  assert.match(text, /ICMPv6 packet too big mtu 1420/);
  assert.match(text, /summary: \d+ packets in, \d+ out\./);
});
