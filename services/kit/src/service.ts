import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express, type RequestHandler } from "express";
import pino, { type Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { z } from "zod";
import { metricsHandler } from "@grondslag/http-kit/http";
import { errorCodes, problemType } from "@grondslag/wire";
import { EnvError, readEnv, type baseEnv } from "./env";

/**
 * One skeleton for every service process: it validates the environment, builds the logger and the metrics
 * registry, listens, serves `/healthz`, `/readyz` and `/metrics`, and shuts down on SIGTERM or SIGINT by closing
 * HTTP first and then calling the service's `stop` (which flushes what it accepted). A service writes only
 * `start` (its domain: consumers, producers, routes) and `stop`.
 *
 * Exit codes: 0 after a clean stop, 1 when start failed, a worker called `ctx.fatal`, or stopping failed or took
 * longer than `shutdownTimeoutMs`, 2 when the environment is invalid (the message names every variable at fault).
 */

/** The outcome of one readiness check: ready only when every check passed. */
export interface ReadinessReport {
  checks: Record<string, boolean>;
  /** Why a check failed, for the /readyz body (no personal data, no secrets). */
  reasons?: string[];
}

export interface Readiness {
  /** The checks `check` reports: when it throws or times out, /readyz reports each of these as failed. */
  names: readonly string[];
  check(): Promise<ReadinessReport>;
}

export interface ServiceContext<E> {
  name: string;
  env: E;
  log: Logger;
  /** The registry `/metrics` serves; default process metrics are in it. */
  metrics: Registry;
  /** For a worker that stopped for good: stops the service and exits 1, so a supervisor restarts it. */
  fatal: (err: Error, reason: string) => void;
}

export interface Started {
  /**
   * The service's own HTTP app, if it has an API. It must serve the ops endpoints itself (`mountOps`), so they are
   * in its OpenAPI document; without an app the skeleton serves only the ops endpoints.
   */
  http?: Express;
  readiness?: Readiness;
}

export interface ServiceSpec<S extends z.ZodType<z.infer<typeof baseEnv>>> {
  name: string;
  /** The service's environment schema, extending `baseEnv`. */
  env: S;
  /** Where to listen, from the environment. */
  listen: (env: z.infer<S>) => { host: string; port: number };
  start: (ctx: ServiceContext<z.infer<S>>) => Promise<Started>;
  stop: (ctx: ServiceContext<z.infer<S>>) => Promise<void>;
  /** How long a stop may take before the process gives up and exits 1 (default 25 s, under Kubernetes' 30 s). */
  shutdownTimeoutMs?: number;
}

export interface RunningService<E> {
  ctx: ServiceContext<E>;
  /** `http://host:port` the service listens on. */
  url: string;
  /** Closes HTTP, then the service's `stop`. Idempotent: a second call waits for the first. */
  stop(reason: string): Promise<void>;
}

export interface ServiceOptions {
  env?: NodeJS.ProcessEnv;
  /** A logger to use instead of one built from LOG_LEVEL (tests). */
  log?: Logger;
  /** Called by `ctx.fatal` (default: stop and exit 1). */
  onFatal?: (err: Error, reason: string) => void;
}

export function createService<S extends z.ZodType<z.infer<typeof baseEnv>>>(spec: ServiceSpec<S>) {
  type E = z.infer<S>;

  async function start(options: ServiceOptions = {}): Promise<RunningService<E>> {
    const env = readEnv(spec.name, spec.env, options.env ?? process.env);
    const log = options.log ?? pino({ level: env.LOG_LEVEL, base: { service: spec.name } });
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    let stopping: Promise<void> | undefined;
    const ctx: ServiceContext<E> = {
      name: spec.name,
      env,
      log,
      metrics,
      fatal: (err, reason) => {
        log.fatal({ err, reason }, "stopping for good: a supervisor should restart the service");
        if (options.onFatal) options.onFatal(err, reason);
        else void running.stop(reason).finally(() => process.exit(1));
      },
    };
    const started = await spec.start(ctx);
    const app = started.http ?? opsApp({ metrics, readiness: started.readiness });
    const { host, port } = spec.listen(env);
    const server = await listen(app, host, port);
    const address = server.address() as AddressInfo;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
    log.info({ url }, `${spec.name} listening`);

    const running: RunningService<E> = {
      ctx,
      url,
      stop(reason) {
        stopping ??= (async () => {
          log.info({ reason }, "stopping: no new requests, then the service's own stop");
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            // Long polls and streams would hold close() open: end them; their clients resume elsewhere.
            server.closeAllConnections();
          });
          await spec.stop(ctx);
          log.info("stopped");
        })();
        return stopping;
      },
    };
    return running;
  }

  /** The process entry point: start, then stop on SIGTERM/SIGINT, with the exit codes above. */
  function main(options: ServiceOptions = {}): void {
    let running: RunningService<E> | undefined;
    const timeoutMs = spec.shutdownTimeoutMs ?? 25_000;
    const shutdown = (reason: string, code: number) => {
      const timer = setTimeout(() => {
        process.stderr.write(`${spec.name}: stopping took over ${timeoutMs} ms; exiting\n`);
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      (running ? running.stop(reason) : Promise.resolve()).then(
        () => process.exit(code),
        (err: unknown) => {
          running?.ctx.log.error({ err }, "stopping failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGTERM", () => shutdown("SIGTERM", 0));
    process.once("SIGINT", () => shutdown("SIGINT", 0));
    start({ ...options, onFatal: options.onFatal ?? ((_err, reason) => shutdown(reason, 1)) }).then(
      (r) => {
        running = r;
      },
      (err: unknown) => {
        if (err instanceof EnvError) {
          // The operator's to fix: say what, without a stack trace.
          process.stderr.write(`${spec.name}: ${err.message}\n`);
          process.exit(2);
        }
        process.stderr.write(
          `${spec.name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exit(1);
      },
    );
  }

  return { start, main };
}

/**
 * What Node's HTTP parser refuses before any route runs (a bare CR or LF in a header, two Content-Lengths, a
 * Content-Length beside Transfer-Encoding, headers over 16 KiB) gets a problem+json answer naming the rule and the
 * fix, like every other refusal, instead of Node's bare `400 Bad Request`; then the connection is closed, since
 * nothing after an unparsable request can be trusted to start where the parser thinks it does.
 */
export function refuseMalformedHttp(server: Server): Server {
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // A peer that went away, or a socket already answered: nothing to say to anyone.
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
    const timedOut = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    const status = tooLarge ? 431 : timedOut ? 408 : 400;
    const body = JSON.stringify({
      type: problemType("INVALID_REQUEST"),
      title: errorCodes.INVALID_REQUEST.title,
      status,
      code: "INVALID_REQUEST",
      detail: tooLarge
        ? "the request's headers exceed 16 KiB"
        : timedOut
          ? "the request was not complete in time"
          : `the request is not valid HTTP/1.1 (${err.code ?? "parse error"})`,
      fix: tooLarge
        ? "send smaller headers: a token and the documented headers fit in a few KiB"
        : "send one well-formed HTTP/1.1 request: header values without CR, LF or NUL, one Content-Length or chunked Transfer-Encoding, not both",
    });
    const reason = tooLarge
      ? "Request Header Fields Too Large"
      : timedOut
        ? "Request Timeout"
        : "Bad Request";
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = refuseMalformedHttp(app.listen(port, host));
    server.once("listening", () => resolve(server));
    server.once("error", reject);
  });
}

/** `GET /healthz`: the process runs and answers. */
export const liveness: RequestHandler = (_req, res) => {
  res.status(200).json({ status: "ok" });
};

/**
 * `GET /readyz`: 200 `{status: "ready", checks}` when every check passed within `timeoutMs`, else 503 with a
 * problem+json body (code UNAVAILABLE) naming the checks that failed and why.
 */
export function readinessHandler(readiness: Readiness | undefined, timeoutMs = 2000): RequestHandler {
  const failed = (reason: string): ReadinessReport => ({
    checks: Object.fromEntries(
      (readiness?.names.length ? readiness.names : ["checks"]).map((n) => [n, false]),
    ),
    reasons: [reason],
  });
  return async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<ReadinessReport>((resolve) => {
      timer = setTimeout(() => resolve(failed(`the checks took over ${timeoutMs} ms`)), timeoutMs);
    });
    const report = await Promise.race([
      (readiness?.check() ?? Promise.resolve<ReadinessReport>({ checks: {} })).catch((err: unknown) =>
        failed(`a check failed: ${err instanceof Error ? err.message : String(err)}`),
      ),
      timedOut,
    ]);
    clearTimeout(timer);
    const down = Object.entries(report.checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    if (down.length === 0) {
      res.status(200).json({ status: "ready", checks: report.checks });
      return;
    }
    res.locals.problemCode = "UNAVAILABLE";
    res
      .status(503)
      .type("application/problem+json")
      .send(
        JSON.stringify({
          type: problemType("UNAVAILABLE"),
          title: errorCodes.UNAVAILABLE.title,
          status: 503,
          code: "UNAVAILABLE",
          detail: `not ready: ${down.join(", ")}${report.reasons?.length ? ` (${report.reasons.join("; ")})` : ""}`,
          fix: "Wait until /readyz answers 200; the platform team is alerted.",
          checks: report.checks,
        }),
      );
  };
}

/** Mounts `/healthz`, `/readyz` and `/metrics` on an app (a service with its own API calls this). */
export function mountOps(app: Express, deps: { metrics: Registry; readiness: Readiness | undefined }): void {
  app.get("/healthz", liveness);
  app.get("/readyz", readinessHandler(deps.readiness));
  app.get("/metrics", metricsHandler(deps.metrics));
}

function opsApp(deps: { metrics: Registry; readiness: Readiness | undefined }): Express {
  const app = express();
  app.disable("x-powered-by");
  mountOps(app, deps);
  app.use((_req, res) => {
    res
      .status(404)
      .type("application/problem+json")
      .send(
        JSON.stringify({
          type: problemType("NOT_FOUND"),
          title: errorCodes.NOT_FOUND.title,
          status: 404,
          code: "NOT_FOUND",
          detail: "this service serves only /healthz, /readyz and /metrics",
          fix: "use one of those paths",
        }),
      );
  });
  return app;
}
