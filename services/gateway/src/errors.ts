import { errorCodes, GrondslagError, isErrorCode, problemType, type ErrorCode } from "@grondslag/wire";

/**
 * A gateway refusal (the codes are `@grondslag/wire`'s). Each has a stable `code` (documented in the OpenAPI document and used in audit REJECT
 * records), an HTTP status, whether a retry can help, and a `fix`: what the caller should change. Thrown inside,
 * mapped once at the edges: problem+json over HTTP, `rejected.<party>` headers for Kafka ingress.
 */
export class GatewayError extends GrondslagError {
  declare readonly code: ErrorCode;
  readonly title: string;

  constructor(
    code: ErrorCode,
    /** What is wrong, specific to this call. Never contains personal data (no payload values, no BSN). */
    readonly detail: string,
    /** How to fix the call. */
    override readonly fix: string,
    options?: { cause?: unknown; field?: string; retryAfterSeconds?: number },
  ) {
    const meta = errorCodes[code];
    super(code, `${code}: ${detail}`, meta.status, meta.retriable, options);
    this.name = "GatewayError";
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

export function toProblem(err: unknown, extra: { instance?: string; traceId?: string } = {}): Problem {
  const e =
    err instanceof GatewayError
      ? err
      : // The kit's errors carry a bus code too (the registry away is UNAVAILABLE): keep it, not INTERNAL.
        err instanceof GrondslagError && isErrorCode(err.code)
        ? new GatewayError(err.code, err.message, err.fix ?? "retry later", { cause: err })
        : new GatewayError(
            "INTERNAL",
            "the gateway failed to handle the request",
            "retry later; if it persists, report the traceId",
            {
              cause: err,
            },
          );
  return {
    type: problemType(e.code),
    title: e.title,
    status: e.status,
    detail: e.detail,
    code: e.code,
    fix: e.fix,
    ...(e.field === undefined ? {} : { field: e.field }),
    ...extra,
  };
}
