/**
 * The lease file on disk: read at start, written atomically (a temporary file in the same
 * directory, fsync, rename over the old one, fsync of the directory), so that a crash or
 * `kill -9` at any moment leaves either the old file or the new one, never a mix.
 *
 * @module
 */

import { dirname } from "node:path";

/** Mode of a lease-file directory the daemon creates: owner all, group read and enter. */
export const STATE_DIR_MODE = 0o750;

/**
 * A file-system error as an operator should read it: the errno's name and text, without the
 * path Deno appends to its messages (the caller names the path, once).
 *
 * @param e what a `Deno.*` file call threw
 * @returns e.g. `"EACCES (permission denied)"`; the message of an error without an errno (a
 *   missing Deno permission) unchanged
 */
export function describeFsError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as Error & { code?: unknown }).code;
  const text = /^(.*?) \(os error \d+\)/.exec(e.message)?.[1];
  if (typeof code !== "string" || text === undefined) return e.message;
  return `${code} (${text.charAt(0).toLowerCase()}${text.slice(1)})`;
}

/**
 * Makes sure the lease file can be written, before the daemon starts: creates its directory
 * when it is missing (one level, mode {@link STATE_DIR_MODE} less the umask) and writes
 * `text` to the file as every later save does.
 *
 * @param path the `Rules.StateFile` path
 * @param text the file's contents now (the restored leases)
 * @returns whether the directory was created
 * @throws {Error} naming the directory or the file and the errno, e.g.
 *   `cannot write lease file '/var/lib/protomask/leases.json': EACCES (permission denied)`
 */
export async function prepareStateFile(path: string, text: string): Promise<boolean> {
  const dir = dirname(path);
  let created = false;
  try {
    await Deno.mkdir(dir, { mode: STATE_DIR_MODE });
    created = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) {
      const hint = e instanceof Deno.errors.NotFound
        ? " (only the last directory of Rules.StateFile is created)"
        : "";
      throw new Error(
        `cannot create directory '${dir}' for the lease file: ${describeFsError(e)}${hint}`,
      );
    }
  }
  try {
    await writeStateFile(path, text);
  } catch (e) {
    throw new Error(`cannot write lease file '${path}': ${describeFsError(e)}`);
  }
  return created;
}

/**
 * Reads the lease file.
 * @param path the `Rules.StateFile` path
 * @returns its text, or `null` when it does not exist yet
 * @throws {Deno.errors.PermissionDenied | Error} when it exists but cannot be read
 */
export async function readStateFile(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Replaces the lease file with `text` atomically and durably.
 * @param path the `Rules.StateFile` path
 * @param text the new contents
 * @throws {Error} when the directory is not writable or the disk is full (the old file is
 *   left as it was, and the temporary file is removed)
 */
export async function writeStateFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const bytes = new TextEncoder().encode(text);
  let renamed = false;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      let rest = bytes;
      while (rest.length > 0) rest = rest.subarray(await file.write(rest));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
    renamed = true;
    const dir = await Deno.open(dirname(path), { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  } finally {
    if (!renamed) await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Keeps a copy of a lease file that could not be read entirely, before it is overwritten.
 * @param path the `Rules.StateFile` path
 * @returns the copy's path
 */
export async function keepDamagedStateFile(path: string): Promise<string> {
  const copy = `${path}.damaged`;
  await Deno.copyFile(path, copy);
  return copy;
}
