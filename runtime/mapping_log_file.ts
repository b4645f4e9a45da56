/**
 * The lease audit log file (`[Logging] MappingLog`): opened once in append mode, lines
 * buffered in memory and written in one `write` per flush (at least every second, when 64 KiB
 * are waiting, and at stop), and reopened on SIGHUP so logrotate can rename it away: lines
 * written before the reopen go to the renamed file, later ones to a new file at the path.
 *
 * @module
 */

import { dirname } from "node:path";
import { describeFsError, STATE_DIR_MODE } from "./state_file.ts";

/** Mode of a new audit log file: owner read/write, group read. */
export const MAPPING_LOG_MODE = 0o640;
/** Bytes waiting that trigger a flush before the timer's. */
export const FLUSH_BYTES = 64 * 1024;

async function openAppend(path: string): Promise<Deno.FsFile> {
  return await Deno.open(path, { append: true, create: true, mode: MAPPING_LOG_MODE });
}

/** The open audit log file. */
export class MappingLogFile {
  /** The `Logging.MappingLog` path (reopened by {@link MappingLogFile.reopen}). */
  readonly path: string;
  #file: Deno.FsFile;
  #pending: string[] = [];
  #pendingBytes = 0;
  #chain: Promise<void> = Promise.resolve();
  #linesWritten = 0;
  #writeErrors = 0;
  #onError: (message: string) => void;

  private constructor(path: string, file: Deno.FsFile, onError: (message: string) => void) {
    this.path = path;
    this.#file = file;
    this.#onError = onError;
  }

  /**
   * Opens the log for appending, creating its directory when it is missing (that one level,
   * mode 0750 less the umask), like the lease file's.
   *
   * @param path the `Logging.MappingLog` path
   * @param onError called with a message when a later write or reopen fails (the lines are
   *   kept and written with the next flush)
   * @returns the open log and whether its directory was created
   * @throws {Error} naming the directory or the file and the errno, e.g.
   *   `cannot open mapping log '/var/log/protomask/mappings.log': EACCES (permission denied)`
   */
  static async open(
    path: string,
    onError: (message: string) => void,
  ): Promise<{ log: MappingLogFile; createdDir: boolean }> {
    const dir = dirname(path);
    let createdDir = false;
    try {
      await Deno.mkdir(dir, { mode: STATE_DIR_MODE });
      createdDir = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        const hint = e instanceof Deno.errors.NotFound
          ? " (only the last directory of Logging.MappingLog is created)"
          : "";
        throw new Error(
          `cannot create directory '${dir}' for the mapping log: ${describeFsError(e)}${hint}`,
        );
      }
    }
    let file: Deno.FsFile;
    try {
      file = await openAppend(path);
    } catch (e) {
      throw new Error(`cannot open mapping log '${path}': ${describeFsError(e)}`);
    }
    return { log: new MappingLogFile(path, file, onError), createdDir };
  }

  /** Lines handed to the file so far. */
  get linesWritten(): number {
    return this.#linesWritten;
  }

  /** Writes (and reopens) that failed. */
  get writeErrors(): number {
    return this.#writeErrors;
  }

  /** Lines waiting for the next flush. */
  get pendingLines(): number {
    return this.#pending.length;
  }

  /**
   * Queues a line (ending in a newline); flushes when {@link FLUSH_BYTES} are waiting.
   * @param line one JSON line
   */
  write(line: string): void {
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= FLUSH_BYTES) void this.flush();
  }

  /**
   * Writes every queued line to the file (after any flush or reopen already under way).
   * @returns when written, or when the write failed (reported through `onError`; the lines
   *   stay queued for the next flush)
   */
  flush(): Promise<void> {
    return this.#then(() => this.#flushNow());
  }

  /**
   * Flushes to the file as it is, closes it and opens the path again — a new file when
   * logrotate renamed the old one. On failure the old file stays in use.
   * @returns when reopened
   */
  reopen(): Promise<void> {
    return this.#then(async () => {
      await this.#flushNow();
      let next: Deno.FsFile;
      try {
        next = await openAppend(this.path);
      } catch (e) {
        this.#writeErrors++;
        this.#onError(
          `cannot reopen mapping log '${this.path}': ${describeFsError(e)}; still writing ` +
            "to the file opened before",
        );
        return;
      }
      this.#file.close();
      this.#file = next;
    });
  }

  /**
   * Flushes and closes the file (at stop).
   * @returns when closed
   */
  close(): Promise<void> {
    return this.#then(async () => {
      await this.#flushNow();
      this.#file.close();
    });
  }

  #then(step: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(step);
    return this.#chain;
  }

  async #flushNow(): Promise<void> {
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    const bytes = new TextEncoder().encode(lines.join(""));
    this.#pending = [];
    this.#pendingBytes = 0;
    let done = 0;
    try {
      while (done < bytes.length) done += await this.#file.write(bytes.subarray(done));
    } catch (e) {
      this.#writeErrors++;
      // Keep what was not written (whole lines only; a partial line is completed).
      const rest = new TextDecoder().decode(bytes.subarray(done));
      this.#pending.unshift(rest);
      this.#pendingBytes += rest.length;
      this.#onError(`cannot write mapping log '${this.path}': ${describeFsError(e)}`);
      return;
    }
    this.#linesWritten += lines.length;
  }
}
