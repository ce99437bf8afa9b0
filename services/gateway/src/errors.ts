/**
 * The gateway's refusals. Each has a stable `code` (documented in the OpenAPI document and used in audit REJECT
 * records), an HTTP status, whether a retry can help, and a `fix`: what the caller should change. Thrown inside,
 * mapped once at the edges: problem+json over HTTP, `rejected.<party>` headers for Kafka ingress.
 */
export const errorCodes = {
  UNAUTHENTICATED: { status: 401, title: "Not authenticated", retriable: false },
  NOT_A_PRODUCER: { status: 403, title: "Not a producer of this topic", retriable: false },
  NOT_A_CONSUMER: { status: 403, title: "Not a consumer of this topic", retriable: false },
  LEGAL_BASIS_NOT_ALLOWED: { status: 403, title: "Legal basis not allowed", retriable: false },
  PURPOSE_NOT_ALLOWED: { status: 403, title: "Purpose not allowed", retriable: false },
  /** A field the contract binds to the producer itself (its KvK, its gemeentecode) names someone else. */
  BINDING_VIOLATED: { status: 403, title: "Event is not about the producer itself", retriable: false },
  MISSING_HEADER: { status: 400, title: "Required header missing", retriable: false },
  SCHEMA_VIOLATION: { status: 400, title: "Payload does not match the topic's schema", retriable: false },
  INVALID_IDENTIFIER: { status: 400, title: "Invalid identifier", retriable: false },
  MALFORMED_RECORD: { status: 400, title: "Record cannot be decoded", retriable: false },
  UNKNOWN_TOPIC: { status: 404, title: "Unknown topic", retriable: false },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    title: "Idempotency key reused with another payload",
    retriable: false,
  },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large", retriable: false },
  /** The event as a Kafka record would exceed what the broker takes (an ingress record's invalid text can grow). */
  RECORD_TOO_LARGE: { status: 413, title: "Event too large for the bus", retriable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type", retriable: false },
  RATE_LIMITED: { status: 429, title: "Rate limited", retriable: true },
  /** HTTP edge: the party already holds its limit of open streams or long polls on this instance. */
  TOO_MANY_STREAMS: { status: 429, title: "Too many open streams or long polls", retriable: true },
  UNAVAILABLE: { status: 503, title: "Bus temporarily unavailable", retriable: true },
  INTERNAL: { status: 500, title: "Internal error", retriable: true },
  /** HTTP edge: a body that is not JSON, a query parameter out of range, a malformed header value. */
  INVALID_REQUEST: { status: 400, title: "Invalid request", retriable: false },
  /** HTTP edge: no such resource (a path the API does not have). */
  NOT_FOUND: { status: 404, title: "Not found", retriable: false },
} as const satisfies Record<string, { status: number; title: string; retriable: boolean }>;

export type ErrorCode = keyof typeof errorCodes;

export class GatewayError extends Error {
  readonly status: number;
  readonly retriable: boolean;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    /** What is wrong, specific to this call. Never contains personal data (no payload values, no BSN). */
    readonly detail: string,
    /** How to fix the call. */
    readonly fix: string,
    options?: { cause?: unknown; field?: string; retryAfterSeconds?: number },
  ) {
    super(`${code}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    const meta = errorCodes[code];
    this.status = meta.status;
    this.retriable = meta.retriable;
    this.title = meta.title;
    this.field = options?.field;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** The payload path that failed validation (`victim.bsn`), when one did. */
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
}

/** RFC 9457 problem details, with our stable code and the fix. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  fix: string;
  field?: string;
  instance?: string;
  traceId?: string;
}

export const PROBLEM_TYPE_BASE = "https://grondslag.example/problems/";

export function toProblem(err: unknown, extra: { instance?: string; traceId?: string } = {}): Problem {
  const e =
    err instanceof GatewayError
      ? err
      : new GatewayError(
          "INTERNAL",
          "the gateway failed to handle the request",
          "retry later; if it persists, report the traceId",
          {
            cause: err,
          },
        );
  return {
    type: `${PROBLEM_TYPE_BASE}${e.code.toLowerCase().replace(/_/g, "-")}`,
    title: e.title,
    status: e.status,
    detail: e.detail,
    code: e.code,
    fix: e.fix,
    ...(e.field === undefined ? {} : { field: e.field }),
    ...extra,
  };
}
