/**
 * The README as text, and its Markdown tables, for the tests that hold the README to the code
 * (the key tables of tests/config/keys_test.ts and tests/clat/readme_test.ts).
 */

import assert from "node:assert/strict";
import README from "../../README.md" with { type: "text" };

export { README };

/**
 * The rows of the first Markdown table after `heading`, as trimmed cells.
 * @param heading a line of the README, e.g. "### Reference"
 * @returns the body rows (header and rule left out), each as its cells
 */
export function tableAfter(heading: string): string[][] {
  const at = README.indexOf(heading);
  assert.ok(at >= 0, `README has ${heading}`);
  const lines = README.slice(at).split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((c) => c.trim()));
  }
  return rows;
}
