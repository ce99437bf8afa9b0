import {
  BUS_HEADERS,
  errorCodes,
  GrondslagError,
  header,
  isErrorCode,
  parseTraceparent,
  type ErrorCode,
  type KafkaHeaders,
} from "@grondslag/wire";

/**
 * A refusal by the bus, as a typed error: the rule that refused (`code`), what was wrong (`detail`), how to change
 * the call (`fix`), the payload path or parameter (`field`), the trace to quote to the platform team (`traceId`),
 * and whether the same call may succeed later (`retriable`). Thrown for problem+json answers and built from the
 * `grondslag-reason-*` headers of a `rejected.<party>` record.
 */
export class RefusalError extends GrondslagError {
  declare readonly code: ErrorCode;
  readonly detail: string;
  override readonly fix: string;
  readonly field: string | undefined;
  readonly traceId: string | undefined;
  /** Seconds the gateway asked to wait (`Retry-After`), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    init: {
      code: ErrorCode;
      detail: string;
      fix: string;
      status?: number;
      field?: string | undefined;
      traceId?: string | undefined;
      retryAfterSeconds?: number | undefined;
    },
    options?: { cause?: unknown },
  ) {
    const meta = errorCodes[init.code];
    super(init.code, `${init.code}: ${init.detail}`, init.status ?? meta.status, meta.retriable, options);
    this.name = "RefusalError";
    this.detail = init.detail;
    this.fix = init.fix;
    this.field = init.field;
    this.traceId = init.traceId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** What a status means when the answer is not problem+json (a proxy's HTML page, an empty 502). */
function codeOfStatus(status: number): ErrorCode {
  if (status === 429) return "RATE_LIMITED";
  if (status === 502 || status === 503 || status === 504) return "UNAVAILABLE";
  if (status >= 500) return "INTERNAL";
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 404) return "NOT_FOUND";
  if (status === 413) return "PAYLOAD_TOO_LARGE";
  if (status === 415) return "UNSUPPORTED_MEDIA_TYPE";
  return "INVALID_REQUEST";
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: Date = new Date(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/**
 * The refusal an HTTP answer carries: its problem+json body when it has one with a known code, else one derived
 * from the status, so a refusal is always typed and says whether to retry.
 */
export function refusalFromProblem(status: number, body: unknown, retryAfter?: string | null): RefusalError {
  const p = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const retryAfterSeconds = parseRetryAfter(retryAfter);
  if (isErrorCode(p.code)) {
    return new RefusalError({
      code: p.code,
      status: typeof p.status === "number" ? p.status : status,
      detail: str(p.detail) ?? str(p.title) ?? `HTTP ${status}`,
      fix: str(p.fix) ?? "",
      field: str(p.field),
      traceId: str(p.traceId),
      retryAfterSeconds,
    });
  }
  const code = codeOfStatus(status);
  return new RefusalError({
    code,
    status,
    detail: `the gateway answered ${status} without a problem document${typeof body === "string" && body ? `: ${body.slice(0, 200)}` : ""}`,
    fix: errorCodes[code].retriable
      ? "Retry later; if it persists, ask the platform team."
      : "Check the base URL and the call against the gateway's OpenAPI document.",
    retryAfterSeconds,
  });
}

/** The refusal a `rejected.<party>` record carries in its `grondslag-reason-*` headers. */
export function refusalFromHeaders(headers: KafkaHeaders): RefusalError {
  const code = header(headers, BUS_HEADERS.reasonCode);
  const detail = header(headers, BUS_HEADERS.reasonDetail) ?? "";
  const traceId = parseTraceparent(header(headers, BUS_HEADERS.traceparent))?.traceId;
  return new RefusalError({
    code: isErrorCode(code) ? code : "INTERNAL",
    detail: isErrorCode(code) ? detail : `unknown reason code ${String(code)}: ${detail}`,
    fix: header(headers, BUS_HEADERS.reasonFix) ?? "",
    field: header(headers, BUS_HEADERS.reasonField),
    traceId,
  });
}
