import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import { Counter, Histogram, type Registry } from "prom-client";
import type { OpenApiDocument } from "../openapi/index";

/**
 * The project's HTTP pattern, shared by every service with an HTTP API (the gateway first, the audit service
 * next). Each follows the NL API Design Rules (ADR) core: the major version in the path, `API-Version` on every
 * response, errors as `application/problem+json`, the OpenAPI document published at `/v<major>/openapi.json`.
 */

export const API_VERSION_HEADER = "API-Version";
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** ADR /core/version-header: every response, refusals included, says which full version answered. */
export function apiVersionHeader(version: string): RequestHandler {
  return (_req, res, next) => {
    res.setHeader(API_VERSION_HEADER, version);
    next();
  };
}

/**
 * ADR /core/publish-openapi: the document as JSON, no authentication, readable from any origin (CORS `*` on a
 * simple GET needs no preflight). Serialised once.
 */
export function serveOpenApi(doc: OpenApiDocument, options: { maxAgeSeconds?: number } = {}): RequestHandler {
  const body = JSON.stringify(doc);
  const maxAge = options.maxAgeSeconds ?? 300;
  return (_req, res) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Cache-Control", `public, max-age=${maxAge}`);
    res.type("application/json").send(body);
  };
}

/** RFC 9457 problem details; `code` is the project's stable error code. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  instance?: string;
  [key: string]: unknown;
}

/** Writes a problem as `application/problem+json` and remembers its code for the metrics middleware. */
export function sendProblem(
  res: Response,
  problem: ProblemDetails,
  headers: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (problem.code !== undefined) res.locals.problemCode = problem.code;
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

export interface ProblemMapping {
  problem: ProblemDetails;
  headers?: Record<string, string>;
}

/**
 * The one place where thrown errors become responses: errors are thrown inside and mapped once, at the edge. `map` turns anything thrown into a problem;
 * the handler logs server-side failures (never the request body) and leaves client errors to the access log.
 */
export function problemHandler(options: {
  map: (err: unknown, req: Request) => ProblemMapping;
  log?: { error: (obj: object, msg: string) => void };
}): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const { problem, headers } = options.map(err, req);
    if (problem.status >= 500) options.log?.error({ err, path: req.path }, "request failed");
    sendProblem(res, problem, headers);
  };
}

/**
 * What body-parser's errors mean, so each service can map them onto its own codes. `undecodable`: a body that
 * does not decompress with its Content-Encoding (body-parser passes zlib's error on with status 400 but no type).
 */
export type BodyParserFailure = "too-large" | "malformed" | "unsupported" | "undecodable";

export function bodyParserFailure(err: unknown): BodyParserFailure | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  if (!("type" in err)) {
    const { status, code } = err as { status?: unknown; code?: unknown };
    return status === 400 && typeof code === "string" && /^(Z_|ERR__ERROR)/.test(code)
      ? "undecodable"
      : undefined;
  }
  switch (err.type) {
    case "entity.too.large":
      return "too-large";
    case "entity.parse.failed":
    case "entity.verify.failed":
    case "request.size.invalid":
    case "request.aborted":
      return "malformed";
    case "charset.unsupported":
    case "encoding.unsupported":
      return "unsupported";
    default:
      return undefined;
  }
}

/**
 * Request metrics in the given registry: a counter by method, route template, status and problem code, and a
 * latency histogram. Labels are route templates, never raw paths or parties, so cardinality stays bounded.
 */
export function httpMetrics(registry: Registry, options: { prefix?: string } = {}): RequestHandler {
  const prefix = options.prefix ?? "http";
  const requests = new Counter({
    name: `${prefix}_requests_total`,
    help: "HTTP requests by method, route template, status and problem code (OK when none)",
    labelNames: ["method", "route", "status", "code"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}_request_duration_seconds`,
    help: "HTTP request latency by method, route template and status (long-polls included)",
    labelNames: ["method", "route", "status"] as const,
    // Publishing waits for Kafka acks (ms); long-polls wait up to 30 s.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const route = routeTemplate(req);
      const status = String(res.statusCode);
      const code = typeof res.locals.problemCode === "string" ? res.locals.problemCode : "OK";
      requests.inc({ method: req.method, route, status, code });
      duration.observe({ method: req.method, route, status }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

/** The matched route template (`/v1/topics/:topic/events`), or `(unmatched)`. */
export function routeTemplate(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  return typeof route?.path === "string" ? `${req.baseUrl}${route.path}` : "(unmatched)";
}

/** Prometheus text exposition of the registry. */
export function metricsHandler(registry: Registry): RequestHandler {
  return async (_req, res) => {
    const body = await registry.metrics();
    res.setHeader("Content-Type", registry.contentType);
    res.send(body);
  };
}
