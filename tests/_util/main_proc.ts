/** main.ts as a subprocess, for the command-line tests (tests/cli, tests/clat). */

import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** What a main.ts run printed and how it exited. */
export interface Run {
  /** Exit status. */
  code: number;
  /** Standard output, decoded. */
  stdout: string;
  /** Standard error, decoded. */
  stderr: string;
}

/**
 * Runs `deno run -A main.ts …` to completion: stdin closed, stdout and stderr captured, no colour.
 * @param cwd the working directory (relative file names in `args` are read from it)
 * @param args the arguments after main.ts
 * @returns the exit status and the output
 */
export async function runMainIn(cwd: string, ...args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", MAIN, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
