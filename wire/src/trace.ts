import crypto from "node:crypto";

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the one parser for `traceparent`, on HTTP and Kafka
 * alike, so a trace id means the same thing wherever it entered.
 */
export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

// version-traceid-parentid-flags; a version above 00 may append fields after another dash.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO = /^0+$/;

/**
 * The caller's trace context, or undefined when the header is absent or invalid: version ff, an all-zero trace or
 * parent id, upper-case hex, or (for version 00) anything after the flags.
 */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  if (header === undefined || header.length > 512) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null) return undefined;
  const [, version = "", traceId = "", spanId = "", flags = "", extra] = m;
  if (version === "ff" || (version === "00" && extra !== undefined)) return undefined;
  if (ZERO.test(traceId) || ZERO.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** A new span of the caller's trace, or a new (sampled) trace when the header is absent or invalid. */
export function continueTrace(traceparent: string | undefined): TraceContext {
  const parent = parseTraceparent(traceparent);
  if (parent) return { ...parent, spanId: newSpanId() };
  return newTrace();
}

export function newTrace(): TraceContext {
  return { traceId: crypto.randomBytes(16).toString("hex"), spanId: newSpanId(), sampled: true };
}

export function childSpan(parent: TraceContext): TraceContext {
  return { ...parent, spanId: newSpanId() };
}

/** The `traceparent` header value (version 00) of a context. */
export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? "01" : "00"}`;
}

function newSpanId(): string {
  return crypto.randomBytes(8).toString("hex");
}
