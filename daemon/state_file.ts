/**
 * The lease file on disk: read at start, written atomically (a temporary file in the same
 * directory, fsync, rename over the old one, fsync of the directory), so that a crash or
 * `kill -9` at any moment leaves either the old file or the new one, never a mix.
 *
 * @module
 */

import { dirname } from "node:path";

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
