/**
 * The metrics endpoint (`[Metrics] Listen`): `Deno.serve` on the main thread answers
 * `GET /metrics` with the Prometheus text exposition (rendered on each scrape by
 * lib/daemon/metrics.ts, so the packet Workers pay nothing for it) and `GET /healthz` with
 * 200 while every packet Worker runs, 503 otherwise. Other paths get 404, other methods 405.
 * Needs `--allow-net=<Listen>`.
 *
 * @module
 */

import { formatListen, type MetricsListen } from "../lib/config/config.ts";
import { type Health, METRICS_CONTENT_TYPE } from "../lib/daemon/metrics.ts";

/** What the endpoint serves. */
export interface MetricsServerOptions {
  /** Where to listen. */
  listen: MetricsListen;
  /** Renders `/metrics` (called once per scrape). */
  render: () => string;
  /** Answers `/healthz`. */
  health: () => Health;
}

/** A running endpoint. */
export interface MetricsServer {
  /** The address it listens on (`host:port`, the port the kernel chose when 0 was asked). */
  readonly address: string;
  /** Stops listening and waits for open requests to finish. */
  close(): Promise<void>;
}

/**
 * Answers one request of the endpoint (exported for tests).
 * @param req the request
 * @param opts what to serve
 * @returns the response
 */
export function handleMetricsRequest(
  req: Request,
  opts: Pick<MetricsServerOptions, "render" | "health">,
): Response {
  const path = new URL(req.url).pathname;
  if (path !== "/metrics" && path !== "/healthz") {
    return new Response("not found: try /metrics or /healthz\n", { status: 404 });
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (path === "/healthz") {
    const h = opts.health();
    return new Response(h.body, {
      status: h.status,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response(opts.render(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
}

/**
 * Starts the endpoint.
 * @param opts address, renderer and health check
 * @returns the running server
 * @throws {Error} when the address cannot be bound (in use, not local, no `--allow-net`),
 *   with a message naming the address
 */
export function startMetricsServer(opts: MetricsServerOptions): MetricsServer {
  const listen = formatListen(opts.listen);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: opts.listen.hostname,
      port: opts.listen.port,
      onListen: () => {},
      onError: (e) =>
        new Response(`internal error: ${e instanceof Error ? e.message : e}\n`, { status: 500 }),
    }, (req) => handleMetricsRequest(req, opts));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot listen for metrics on ${listen} (Metrics.Listen): ${why}`);
  }
  const a = server.addr;
  return {
    address: formatListen({ hostname: a.hostname, port: a.port }),
    close: () => server.shutdown(),
  };
}
