import crypto from "node:crypto";

/** W3C Trace Context: the trace id travels from HTTP (or Kafka) headers into every record and log line. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's trace (a new span of it), or a new trace when the header is absent or malformed. */
export function continueTrace(traceparent: string | undefined): TraceContext {
  const m = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  const traceId = m?.[1];
  if (m && traceId && !/^0+$/.test(traceId) && !/^0+$/.test(m[2] ?? "")) {
    return { traceId, spanId: newSpanId(), sampled: (Number.parseInt(m[3] ?? "0", 16) & 1) === 1 };
  }
  return { traceId: crypto.randomBytes(16).toString("hex"), spanId: newSpanId(), sampled: true };
}

export function childSpan(parent: TraceContext): TraceContext {
  return { ...parent, spanId: newSpanId() };
}

export function traceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? "01" : "00"}`;
}

function newSpanId(): string {
  return crypto.randomBytes(8).toString("hex");
}
