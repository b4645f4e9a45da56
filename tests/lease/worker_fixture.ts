/**
 * Worker side of the shared-memory test in worker_test.ts: attaches to the
 * table, waits for the start signal, allocates a range of hosts, reports back.
 *
 * @module
 */

import { LEASE_ALLOCATE, LEASE_REFRESH, LeaseTable } from "../../lib/lease/table.ts";
import type { LeaseTableOptions } from "../../lib/lease/table.ts";
import { hostBytes } from "./helpers.ts";

interface Job {
  sab: SharedArrayBuffer;
  gate: SharedArrayBuffer;
  opts: LeaseTableOptions;
  from: number;
  count: number;
  now: number;
  /** Host numbers to allocate, in this order, instead of `from .. from + count`. */
  hosts?: number[];
}

/** The Worker global, typed locally so the file checks under either lib. */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(data: unknown): void;
  close(): void;
};

scope.onmessage = (e: MessageEvent<Job>) => {
  const { sab, gate, opts, from, count, now } = e.data;
  const hosts = e.data.hosts ?? Array.from({ length: count }, (_, i) => from + i);
  const table = LeaseTable.attach(sab, opts);
  const g = new Int32Array(gate);
  scope.postMessage("ready");
  Atomics.wait(g, 1, 0, 5000); // until "go" (bounded)
  const got: number[] = [];
  for (const h of hosts) {
    got.push(table.v4For6(hostBytes(h), 0, now, LEASE_ALLOCATE | LEASE_REFRESH));
  }
  scope.postMessage(got);
  scope.close();
};
