import assert from "node:assert/strict";
import { propertiesText, textValue, withProperties } from "../../lib/cli/log_text.ts";

Deno.test("textValue() keeps line breaks, indents further lines and escapes control characters", () => {
  assert.equal(
    textValue("c.toml: 2 configuration problems:\n  a = 1: bad\n  b = 2: bad"),
    "c.toml: 2 configuration problems:\n      a = 1: bad\n      b = 2: bad",
  );
  assert.equal(textValue("red \x1b[31m bell \x07 tab\tend"), "red \\x1b[31m bell \\x07 tab\tend");
  assert.equal(textValue("c1 \x9b"), "c1 \\x9b");
});

Deno.test("propertiesText() shows the properties the message does not name, as key=value", () => {
  const counters = {
    rawMessage: "counters",
    properties: { event: "counters", counters: { received: 4, tun_written: 2 }, leases: 1 },
  };
  assert.equal(propertiesText(counters), " counters={received=4 tun_written=2} leases=1");
  const ready = {
    rawMessage: "protomask ready on {name}; routes {routes}",
    properties: {
      event: "ready",
      name: "nat64i0",
      routes: "64:ff9b::/96",
      stateFile: null,
      pool: "192.0.2.0/24, 198.51.100.0/24",
      added: ["10.0.0.0/8"],
      removed: [],
      none: undefined,
    },
  };
  assert.equal(
    propertiesText(ready),
    ' stateFile=null pool="192.0.2.0/24, 198.51.100.0/24" added=[10.0.0.0/8] removed=[]',
  );
  assert.equal(propertiesText({ rawMessage: "no properties", properties: {} }), "");
});

Deno.test("propertiesText() quotes strings a terminal or a reader could misread", () => {
  const text = propertiesText({
    rawMessage: "x",
    properties: { a: "", b: "x=y", c: "two words", d: "esc\x1b[2J", e: 'q"' },
  });
  assert.equal(text, ' a="" b="x=y" c="two words" d="esc\\u001b[2J" e="q\\""');
});

Deno.test("withProperties() puts the properties before the line end", () => {
  const rec = { rawMessage: "counters", properties: { leases: 3 } };
  assert.equal(
    withProperties("… INF protomask·daemon: counters\n", rec),
    "… INF protomask·daemon: counters leases=3\n",
  );
  assert.equal(withProperties("counters", rec), "counters leases=3");
  assert.equal(withProperties("plain\n", { rawMessage: "plain", properties: {} }), "plain\n");
});
