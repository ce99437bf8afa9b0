import { isUtf8 } from "node:buffer";
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from "express";
import type { Logger } from "pino";
import { bodyParserFailure, routeTemplate, type ProblemMapping } from "@grondslag/http-kit/http";
import { continueTrace, formatTraceparent, isPublicTopicName } from "@grondslag/wire";
import { GatewayError, toProblem } from "../errors";
import type { Caller, Subscriptions } from "../ports";
import type { TokenVerifier } from "../auth/verify";
import type { RateLimiter } from "./rate-limit";

/** The W3C trace of one request: the caller's trace id (or a new one) and the edge's own span. */
export interface Trace {
  traceId: string;
  /** Passed to the core: the caller's trace, with the gateway edge as parent span. */
  traceparent: string;
}

/** The caller's trace with the edge's own span, or a new trace (one parser for HTTP and Kafka: `@grondslag/wire`). */
export function traceFrom(header: string | undefined): Trace {
  const ctx = continueTrace(header);
  return { traceId: ctx.traceId, traceparent: formatTraceparent(ctx) };
}

/** The `{topic}` path parameter. */
export function topicParam(req: Request): string {
  const topic: unknown = req.params.topic;
  return typeof topic === "string" ? topic : "";
}

export function traceOf(res: Response): Trace {
  return res.locals.trace as Trace;
}

export function callerOf(res: Response): Caller {
  const caller = res.locals.caller as Caller | undefined;
  if (caller === undefined) throw new Error("route without authentication");
  return caller;
}

/** Trace context and one access-log line per request: route template, status, code, party; never a token or body. */
export function requestContext(log: Logger): RequestHandler {
  return (req, res, next) => {
    res.locals.trace = traceFrom(req.get("traceparent"));
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const entry = {
        method: req.method,
        route: routeTemplate(req),
        topic: req.params.topic,
        status: res.statusCode,
        code: res.locals.problemCode as string | undefined,
        party: (res.locals.caller as Caller | undefined)?.party,
        traceId: traceOf(res).traceId,
        ms: Number(process.hrtime.bigint() - start) / 1e6,
      };
      if (res.statusCode >= 500) log.error(entry, "http request");
      else if (res.statusCode >= 400) log.info(entry, "http request refused");
      else log.debug(entry, "http request");
    });
    next();
  };
}

/**
 * Headers that must come once. Node keeps the first Authorization, Host or Content-Type and drops the others
 * without a word, so a request with two would be judged on one of them while a proxy in front may have judged it on
 * the other (RFC 9110 §5.3; RFC 9112 §3.2: two Hosts are a 400).
 */
const SINGLETONS = ["authorization", "host", "content-type"] as const;

export const singletonHeaders: RequestHandler = (req, _res, next) => {
  const counts = new Map<string, number>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? "").toLowerCase();
    if ((SINGLETONS as readonly string[]).includes(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  for (const name of SINGLETONS) {
    if ((counts.get(name) ?? 0) < 2) continue;
    if (name === "authorization") {
      throw new GatewayError(
        "UNAUTHENTICATED",
        "the request has more than one Authorization header",
        "Send one `Authorization: Bearer <token>` header.",
      );
    }
    throw new GatewayError(
      "INVALID_REQUEST",
      `the request has more than one ${name} header`,
      `Send one ${name} header.`,
      {
        field: name,
      },
    );
  }
  next();
};

const BEARER = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i;

export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const header = req.get("authorization");
    const m = header === undefined ? null : BEARER.exec(header);
    if (m === null || m[1] === undefined) {
      throw new GatewayError(
        "UNAUTHENTICATED",
        header === undefined
          ? "no bearer token was sent"
          : "the Authorization header does not hold a bearer token",
        "Send `Authorization: Bearer <token>`; locally, get one with `npm run -s token -- --party <your party>`.",
      );
    }
    res.locals.caller = await verifier.verify(m[1]);
    next();
  };
}

export function rateLimit(limiter: RateLimiter | undefined, perSecond: number): RequestHandler {
  return (_req, res, next) => {
    if (limiter !== undefined) {
      const party = callerOf(res).party;
      const retryAfterSeconds = limiter.take(party);
      if (retryAfterSeconds !== undefined) {
        throw new GatewayError(
          "RATE_LIMITED",
          `${party} exceeded ${perSecond} requests per second on this gateway instance`,
          "Retry after the Retry-After header's seconds; publish in batches to send more events per request.",
          { retryAfterSeconds },
        );
      }
    }
    next();
  };
}

/** Refuses internal and malformed topic names before anything reaches the core. */
export const topicGuard: RequestHandler = (req, res, next) => {
  const topic = topicParam(req);
  // Kept for the refusal audit, which runs where the route's params are no longer visible.
  res.locals.topic = topic;
  if (!isPublicTopicName(topic)) {
    throw new GatewayError(
      "UNKNOWN_TOPIC",
      `${topic.slice(0, 100)} is not a public topic name`,
      "Use a topic from the event catalogue, e.g. arbo.accident-reported.",
      { field: "topic" },
    );
  }
  next();
};

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

const headerFixes = {
  Grondslag: "Name the legal basis for this call in the Grondslag header, e.g. `Grondslag: arbowet-art9`.",
  Doelbinding:
    "Name the purpose for this call in the Doelbinding header, e.g. `Doelbinding: ongevalsmelding`.",
} as const;

/** The `Grondslag` or `Doelbinding` header: present (400 MISSING_HEADER otherwise) and an id. */
export function requiredIdHeader(req: Request, name: keyof typeof headerFixes): string {
  const value = req.get(name)?.trim();
  if (value === undefined || value === "") {
    throw new GatewayError("MISSING_HEADER", `the ${name} header is missing`, headerFixes[name], {
      field: name,
    });
  }
  if (!ID.test(value)) {
    throw new GatewayError("INVALID_REQUEST", `the ${name} header is not an id`, headerFixes[name], {
      field: name,
    });
  }
  return value;
}

export function checkIdempotencyKey(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !IDEMPOTENCY_KEY.test(value)) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `${field} must be 1 to 255 printable ASCII characters`,
      "Use a UUID or your own stable reference for the event.",
      { field },
    );
  }
  return value;
}

/** An escaped UTF-16 surrogate (`\ud800`) preceded by an even number of backslashes, so really an escape. */
const SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
/** Well-formed pairs only: a high surrogate escape directly followed by a low one. */
const LONE_SURROGATE =
  /(?<!\\)(?:\\\\)*(?:\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})/;

class InvalidText extends Error {
  readonly type = "entity.verify.failed";
}

/**
 * JSON text is UTF-8 (RFC 8259 §8.1), and every string in it names Unicode characters. Without this check the
 * body parser decodes each invalid byte (and each unpaired `\ud800` escape) as U+FFFD: the event the gateway
 * collects is then not the one the party sent, and its refusal would name nothing. Checked on the raw bytes after
 * any Content-Encoding, before parsing; the surrogate scan runs only when an escaped surrogate occurs at all.
 */
function verifyText(_req: unknown, _res: unknown, buf: Buffer): void {
  if (!isUtf8(buf)) throw new InvalidText("the body is not valid UTF-8");
  if (!buf.includes("\\u")) return;
  const text = buf.toString("utf8");
  if (SURROGATE_ESCAPE.test(text) && LONE_SURROGATE.test(text)) {
    throw new InvalidText("the body escapes a UTF-16 surrogate that has no pair");
  }
}

/** A JSON body of at most `limit` bytes: 415 for another media type, 413 past the limit (checked while reading). */
export function jsonBody(limit: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const is = req.is(["application/json", "application/*+json"]);
    // `Content-Length: 0` counts as a body to type-is, and body-parser reads it as `{}`.
    if (is === null || req.get("content-length") === "0") {
      throw new GatewayError("INVALID_REQUEST", "a JSON body is required", "Send the body as JSON.");
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get("content-type") ?? "")?.[1];
    if (is !== false && charset !== undefined && charset.toLowerCase() !== "utf-8") {
      throw new GatewayError(
        "UNSUPPORTED_MEDIA_TYPE",
        `charset ${charset.slice(0, 40)} is not accepted`,
        "Send the body as UTF-8 JSON (`Content-Type: application/json` or `; charset=utf-8`).",
      );
    }
    if (is === false) {
      throw new GatewayError(
        "UNSUPPORTED_MEDIA_TYPE",
        `Content-Type ${(req.get("content-type") ?? "").slice(0, 100)} is not accepted`,
        "Send the body as JSON with `Content-Type: application/json`.",
      );
    }
    next();
  };
  return [
    requireJson,
    express.json({
      limit,
      strict: true,
      type: ["application/json", "application/*+json"],
      verify: verifyText,
    }),
  ];
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An integer query parameter within bounds, or its default. */
export function intQuery(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `${name} must be an integer from ${min} to ${max}`,
      `Send ${name} between ${min} and ${max}, or leave it out.`,
      {
        field: name,
      },
    );
  }
  return n;
}

function headerValue(text: string): string {
  return text.replace(/[^\x20-\x7E]/g, "").replace(/["\\]/g, "'");
}

/** A body parser's failure as the gateway's refusal; anything else as it was thrown. */
function asRefusal(err: unknown): unknown {
  let e = err;
  switch (bodyParserFailure(err)) {
    case "too-large": {
      const limit = (err as { limit?: unknown }).limit;
      e = new GatewayError(
        "PAYLOAD_TOO_LARGE",
        `the body is larger than ${typeof limit === "number" ? `${limit} bytes` : "this operation accepts"}`,
        "Send a smaller body; split a batch into smaller ones.",
      );
      break;
    }
    case "malformed":
      e = new GatewayError(
        "INVALID_REQUEST",
        err instanceof InvalidText ? err.message : "the body is not valid JSON",
        err instanceof InvalidText ? "Send the body as UTF-8 JSON." : "Send the body as one JSON value.",
      );
      break;
    case "undecodable":
      e = new GatewayError(
        "INVALID_REQUEST",
        "the body does not decompress with its Content-Encoding",
        "Compress the body with the encoding you name (gzip, deflate or br), or send it uncompressed.",
      );
      break;
    case "unsupported":
      e = new GatewayError(
        "UNSUPPORTED_MEDIA_TYPE",
        "the body's charset or content encoding is not supported",
        "Send UTF-8 JSON, uncompressed or gzip, deflate or br.",
      );
      break;
    case undefined:
      // The router's percent-decoding of a path parameter (`%C0%AE`) fails before any route runs.
      if (err instanceof URIError) {
        e = new GatewayError(
          "INVALID_REQUEST",
          "the path is not valid percent-encoded UTF-8",
          "Percent-encode the path as UTF-8; topic names are plain ASCII, e.g. arbo.accident-reported.",
        );
      }
      break;
  }
  return e;
}

/** Everything thrown becomes a problem here: the gateway's codes, with the headers each refusal needs. */
export function mapError(err: unknown, req: Request): ProblemMapping {
  const e = asRefusal(err);
  const res = req.res;
  const trace = res === undefined ? undefined : (res.locals.trace as Trace | undefined);
  const problem = toProblem(e, {
    instance: (req.originalUrl.split("?")[0] ?? "").slice(0, 256),
    ...(trace === undefined ? {} : { traceId: trace.traceId }),
  });
  const headers: Record<string, string> = {};
  if (problem.code === "UNAUTHENTICATED") {
    headers["WWW-Authenticate"] =
      req.get("authorization") === undefined
        ? 'Bearer realm="grondslag"'
        : `Bearer realm="grondslag", error="invalid_token", error_description="${headerValue(problem.detail)}"`;
  }
  if (e instanceof GatewayError && e.retryAfterSeconds !== undefined) {
    headers["Retry-After"] = String(Math.max(1, Math.ceil(e.retryAfterSeconds)));
  } else if (problem.code === "RATE_LIMITED") {
    headers["Retry-After"] = "1";
  }
  return { problem: { ...problem }, headers };
}

/**
 * Refusals that are not written to the audit log: no verified party to name (UNAUTHENTICATED, NOT_FOUND), or a
 * flood control, whose auditing would let a flood write the audit log at the flood's rate (they are counted in the
 * HTTP metrics by code instead).
 */
const UNAUDITED = new Set(["UNAUTHENTICATED", "NOT_FOUND", "RATE_LIMITED", "TOO_MANY_STREAMS"]);

/**
 * Every refusal of an authenticated call that the core did not audit itself (an internal topic name, a missing
 * header, a malformed body, a refused cursor commit) gets its REJECT record here, through the core. If that record
 * cannot be written, the caller gets 503 UNAVAILABLE instead of the refusal: no refusal goes unrecorded.
 */
export function auditRefusals(subscriptions: Pick<Subscriptions, "refused">): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const caller = res.locals.caller as Caller | undefined;
    const refusal = asRefusal(err);
    if (
      caller === undefined ||
      res.headersSent ||
      res.locals.coreAudits === true ||
      !(refusal instanceof GatewayError) ||
      refusal.status >= 500 ||
      UNAUDITED.has(refusal.code)
    ) {
      next(err);
      return;
    }
    subscriptions
      .refused({
        party: caller.party,
        role: req.method === "POST" ? "producer" : "recipient",
        topic: typeof res.locals.topic === "string" ? res.locals.topic : "",
        grondslag: req.get("grondslag"),
        purpose: req.get("doelbinding"),
        error: refusal,
        traceparent: traceOf(res).traceparent,
      })
      .then(
        () => next(err),
        (auditErr: unknown) =>
          next(
            auditErr instanceof GatewayError && auditErr.code === "UNAVAILABLE"
              ? auditErr
              : new GatewayError(
                  "UNAVAILABLE",
                  "the refusal of this call could not be recorded on the audit log",
                  "Retry later; the platform team is alerted.",
                  { cause: auditErr, retryAfterSeconds: 5 },
                ),
          ),
      );
  };
}
