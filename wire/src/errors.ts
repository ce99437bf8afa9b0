/**
 * The refusal codes of the bus, the same over HTTP (problem+json `code`), on `rejected.<party>` records
 * (`grondslag-reason-code`) and in audit REJECT records. Each has an HTTP status and whether a retry can help.
 */
export const errorCodes = {
  UNAUTHENTICATED: { status: 401, title: "Not authenticated", retriable: false },
  NOT_A_PRODUCER: { status: 403, title: "Not a producer of this topic", retriable: false },
  NOT_A_CONSUMER: { status: 403, title: "Not a consumer of this topic", retriable: false },
  LEGAL_BASIS_NOT_ALLOWED: { status: 403, title: "Legal basis not allowed", retriable: false },
  PURPOSE_NOT_ALLOWED: { status: 403, title: "Purpose not allowed", retriable: false },
  /** The producer entry's legal basis is not in force now or on the event's date (planned law, or lapsed). */
  LEGAL_BASIS_NOT_IN_FORCE: { status: 403, title: "Legal basis not in force", retriable: false },
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
  /**
   * An earlier attempt under the same Idempotency-Key is still being written, or its outcome is not known yet (a
   * gateway died or the bus failed mid-write): retry after Retry-After, with the same key and payload.
   */
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    title: "An earlier attempt with this idempotency key is in progress",
    retriable: true,
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

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(errorCodes, code);
}

/** Problem types are `<base><code in kebab-case>` (RFC 9457). */
export const PROBLEM_TYPE_BASE = "https://grondslag.example/problems/";
export const problemType = (code: string): string =>
  `${PROBLEM_TYPE_BASE}${code.toLowerCase().replace(/_/g, "-")}`;

/**
 * The base of every error Grondslag code throws on purpose: a stable `code`, the HTTP `status` it maps to, whether
 * a retry can help, and the `cause` it wraps. Services subclass it; the service skeleton and the HTTP kit map it.
 */
export class GrondslagError extends Error {
  /** What the caller or operator should do about it, when the thrower knows. */
  readonly fix: string | undefined;

  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retriable: boolean,
    options?: { cause?: unknown; fix?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GrondslagError";
    this.fix = options?.fix;
  }

  /** A bus error with the status and retriability its code has in `errorCodes`. */
  static of(code: ErrorCode, message: string, options?: { cause?: unknown; fix?: string }): GrondslagError {
    const meta = errorCodes[code];
    return new GrondslagError(code, message, meta.status, meta.retriable, options);
  }
}
