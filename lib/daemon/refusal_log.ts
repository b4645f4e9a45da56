/**
 * How refused leases reach the audit log. A host that gets no lease (the pool is exhausted)
 * is refused on every packet it sends; logging each would write one line per packet. Here a
 * source is logged when its first refusal arrives, its further refusals are counted for an
 * interval (10 s by default), and when the interval ends the count is logged in one line and
 * a new interval begins; a source quiet for a whole interval is forgotten. Pure: the clock is
 * passed in.
 *
 * @module
 */

/** Options of {@link RefusalLog}. */
export interface RefusalLogOptions {
  /** How long a source's refusals are counted before they are logged again (default 10 s). */
  intervalMs?: number;
  /**
   * Sources followed at once (default 4096); refusals of further sources are counted
   * together, so a flood of forged sources costs bounded memory and bounded lines.
   */
  maxSources?: number;
}

/** Why the refusals of {@link RefusalLog.unattributed} happened: not recorded one by one. */
export const UNATTRIBUTED_REASON = "pool exhausted or an abuse limit";

/** One line for the audit log. */
export interface RefusalLine {
  /** The IPv6 source, or null for the refusals of sources not followed one by one. */
  v6: string | null;
  /**
   * Why the lease was refused ("pool exhausted", "source not allowed", "prefix lease limit",
   * "lease rate limit"; {@link UNATTRIBUTED_REASON} for sources not followed). Absent:
   * "pool exhausted".
   */
  reason?: string;
  /** Refused packets this line accounts for. */
  refusals: number;
  /**
   * false for the first refusal(s) of a source in an interval; true for a summary of the
   * refusals counted since (or of the sources not followed).
   */
  summary: boolean;
  /** Length of the interval the summary covers, in milliseconds (0 for a first line). */
  intervalMs: number;
}

interface Source {
  /** The IPv6 source. */
  v6: string;
  /** Why it was refused. */
  reason: string;
  /** When the current interval began. */
  startMs: number;
  /** Refusals counted in it and not logged yet. */
  counted: number;
}

/** Rate limit for the audit lines of refused leases, per IPv6 source. */
export class RefusalLog {
  readonly #intervalMs: number;
  readonly #maxSources: number;
  readonly #sources = new Map<string, Source>();
  /** Refusals of sources not followed, since `#otherStartMs`. */
  #other = 0;
  #otherStartMs = 0;

  /**
   * Creates an empty log.
   * @param opts interval and number of sources followed
   */
  constructor(opts: RefusalLogOptions = {}) {
    this.#intervalMs = opts.intervalMs ?? 10_000;
    this.#maxSources = opts.maxSources ?? 4096;
  }

  /** Sources followed now. */
  get sources(): number {
    return this.#sources.size;
  }

  /**
   * Records refused packets of one source.
   *
   * @param v6 the IPv6 source (text)
   * @param refusals how many packets were refused (≥ 1)
   * @param nowMs the current time
   * @param reason why (a source refused for two reasons is followed once per reason)
   * @returns the line to log now (the source's first refusal in an interval), or null when
   *   the refusals are counted for a summary line
   */
  refused(
    v6: string,
    refusals: number,
    nowMs: number,
    reason: string = "pool exhausted",
  ): RefusalLine | null {
    const key = `${reason} ${v6}`;
    const s = this.#sources.get(key);
    if (s !== undefined) {
      s.counted += refusals;
      return null;
    }
    if (this.#sources.size >= this.#maxSources) {
      this.unattributed(refusals, nowMs);
      return null;
    }
    this.#sources.set(key, { v6, reason, startMs: nowMs, counted: 0 });
    return { v6, reason, refusals, summary: false, intervalMs: 0 };
  }

  /**
   * Records refused packets whose sources are not known (not recorded one by one).
   *
   * @param refusals how many packets were refused
   * @param nowMs the current time
   */
  unattributed(refusals: number, nowMs: number): void {
    if (refusals <= 0) return;
    if (this.#other === 0) this.#otherStartMs = nowMs;
    this.#other += refusals;
  }

  /**
   * Ends the intervals that are over: a source with refusals counted gets its summary line
   * and a new interval; a source with none is forgotten.
   *
   * @param nowMs the current time
   * @param all end every interval now, whatever its age (at shutdown)
   * @returns the summary lines, in the order the sources were first refused
   */
  flush(nowMs: number, all = false): RefusalLine[] {
    const out: RefusalLine[] = [];
    for (const [key, s] of this.#sources) {
      const age = nowMs - s.startMs;
      if (!all && age < this.#intervalMs) continue;
      if (s.counted === 0) {
        this.#sources.delete(key);
        continue;
      }
      const { v6, reason } = s;
      out.push({ v6, reason, refusals: s.counted, summary: true, intervalMs: Math.max(0, age) });
      if (all) {
        this.#sources.delete(key);
      } else {
        s.startMs = nowMs;
        s.counted = 0;
      }
    }
    const otherAge = nowMs - this.#otherStartMs;
    if (this.#other > 0 && (all || otherAge >= this.#intervalMs)) {
      out.push({
        v6: null,
        reason: UNATTRIBUTED_REASON,
        refusals: this.#other,
        summary: true,
        intervalMs: otherAge,
      });
      this.#other = 0;
    }
    return out;
  }
}
