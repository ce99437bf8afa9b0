import crypto from "node:crypto";
import {
  recordSchemas,
  typeForSchema,
  type AuditAction,
  type AuditChannel,
  type AuditRecord,
  type DataSubject,
} from "@grondslag/schemas";
import { AUDIT_TOPIC, fromWire, toWire } from "@grondslag/wire";

export type { AuditAction, AuditChannel, AuditRecord, DataSubject };

/**
 * The audit record: one definition, `schemas/records/audit-record.avsc`, registered as the subject
 * `audit.log-value`. Every record on `audit.log` is that schema's Avro binary in the registry's framing, so any
 * auditor's tool with read access to the registry decodes the log; this module builds, bounds, encodes and decodes
 * it for every service that writes or reads the log.
 */
export const AUDIT_RECORD_SCHEMA = recordSchemas["audit-record"];
export const AUDIT_SUBJECT = `${AUDIT_TOPIC}-value`;
const auditType = typeForSchema(AUDIT_RECORD_SCHEMA);

/** The event id of a REJECT that concerns no event (a refused read, commit or name). */
export const NO_EVENT = "00000000-0000-0000-0000-000000000000";

/**
 * Longest audit string fields, in characters. A refused call's topic, legal basis and purpose are whatever the
 * caller sent (an ingress header has no length limit but Kafka's record size), so every record is bounded where
 * every record passes (`encodeAuditRecord`), rather than at each place that builds one.
 */
export const AUDIT_FIELD_LIMITS = { default: 256, reasonDetail: 1024 } as const;

/** Cuts `s` to `max` characters, saying how much was cut, so a reader sees the value was longer. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const marker = `…[truncated, ${s.length} chars]`;
  return `${s.slice(0, Math.max(0, max - marker.length))}${marker}`.slice(0, max);
}

/** The record with every string field within its limit. */
// Module-level, not closures made per call: the runner (tsx, esbuild with keepNames) wraps every named closure in a
// `__name` call each time it is made, 4 % of the HTTP batch path's CPU across the hot functions (bench profile).
const cut = (v: string, max: number = AUDIT_FIELD_LIMITS.default) => truncate(v, max);
const opt = (v: string | null, max?: number) => (v === null ? null : cut(v, max));
const cutDefault = (f: string) => cut(f);

export function boundRecord(record: AuditRecord): AuditRecord {
  return {
    ...record,
    id: cut(record.id),
    topic: cut(record.topic),
    eventId: cut(record.eventId),
    producer: cut(record.producer),
    recipient: opt(record.recipient),
    grondslag: opt(record.grondslag),
    purpose: opt(record.purpose),
    fields: record.fields.map(cutDefault),
    reasonCode: opt(record.reasonCode),
    reasonDetail: opt(record.reasonDetail, AUDIT_FIELD_LIMITS.reasonDetail),
    traceId: cut(record.traceId),
    spanId: cut(record.spanId),
  };
}

/** A dedupe key from what makes an action the same action: a redelivered event yields the same id. */
export function auditRecordId(
  eventId: string,
  action: AuditAction,
  recipient: string | null,
  reason: string | null,
): string {
  const h = crypto
    .createHash("sha256")
    .update(`${eventId}|${action}|${recipient ?? ""}|${reason ?? ""}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** What every action has in common. */
interface Common {
  topic: string;
  producer: string;
  grondslag?: string | null | undefined;
  purpose?: string | null | undefined;
  channel: AuditChannel;
  trace: { traceId: string; spanId: string };
  time: Date;
  schemaId?: number | null | undefined;
  subjects?: DataSubject[] | undefined;
}

/** The one builder of audit records: a COLLECT, a DISCLOSE or a REJECT, each with what it must name. */
export type AuditInput =
  | (Common & { action: "COLLECT"; eventId: string; fields: string[] })
  | (Common & { action: "DISCLOSE"; eventId: string; recipient: string; fields: string[] })
  | (Common & {
      action: "REJECT";
      /** The event refused, or undefined for a refusal that concerns none (then keyed by the trace's span). */
      eventId?: string | undefined;
      /** The refused reader, when a read was refused; a refused producer is `producer`. */
      recipient?: string | null | undefined;
      reason: { code: string; detail: string };
    });

/**
 * Text a party chose (a topic name it asked for, a refusal's detail quoting it) may hold NUL, which PostgreSQL text
 * cannot store: one such refusal stopped the audit store's ingest of its partition for good (found by the hostile
 * corpus, whose topic names hold NUL, and `npm start` after it). It is recorded as U+FFFD, like any other byte that is
 * not text: by the builder, and by the decoder for records an older gateway left on the log.
 */
const storable = (s: string): string => (s.includes("\u0000") ? s.replaceAll("\u0000", "\uFFFD") : s);
const storableOrNull = (s: string | null): string | null => (s === null ? null : storable(s));
function storableText(r: AuditRecord): AuditRecord {
  return {
    ...r,
    topic: storable(r.topic),
    producer: storable(r.producer),
    recipient: storableOrNull(r.recipient),
    grondslag: storableOrNull(r.grondslag),
    purpose: storableOrNull(r.purpose),
    reasonDetail: storableOrNull(r.reasonDetail),
  };
}

export function auditRecord(input: AuditInput): AuditRecord {
  const recipient = input.action === "COLLECT" ? null : (input.recipient ?? null);
  const reason = input.action === "REJECT" ? input.reason : undefined;
  const eventId = input.eventId ?? NO_EVENT;
  // A refusal that concerns no event is one per call: its span tells it from any other.
  const idBase = input.eventId === undefined ? `${input.trace.traceId}:${input.trace.spanId}` : eventId;
  const party =
    input.action === "REJECT" && input.eventId === undefined ? (recipient ?? input.producer) : recipient;
  return storableText({
    v: 1,
    id: auditRecordId(idBase, input.action, party, reason?.code ?? null),
    time: input.time,
    action: input.action,
    topic: input.topic,
    eventId,
    producer: input.producer,
    recipient,
    grondslag: input.grondslag || null,
    purpose: input.purpose || null,
    fields: input.action === "REJECT" ? [] : input.fields,
    reasonCode: reason?.code ?? null,
    reasonDetail: reason?.detail ?? null,
    channel: input.channel,
    traceId: input.trace.traceId,
    spanId: input.trace.spanId,
    schemaId: input.schemaId ?? null,
    subjects: input.subjects ?? [],
  });
}

/** The record (bounded) as Avro binary in the registry's framing, with the id of `audit.log-value`. */
export function encodeAuditRecord(record: AuditRecord, schemaId: number): Buffer {
  return toWire(schemaId, auditType.toBuffer(boundRecord(record)));
}

/**
 * A record from `audit.log`. The log has one schema version so far, so the local schema reads every record; a
 * later version would resolve the writer's schema by the framed id first.
 */
export function decodeAuditRecord(value: Buffer): AuditRecord {
  const framed = fromWire(value);
  if (framed === undefined)
    throw new Error("not an audit record: the value is not in the registry's framing");
  return storableText(auditType.fromBuffer(framed.body) as AuditRecord);
}

/**
 * A record from `audit.log`, or undefined for a value that is none (empty, or a JSON record an older version of
 * the gateway wrote on a local stack). For tools and tests that read a log they share; a store that must account
 * for every record uses `decodeAuditRecord`, which throws.
 */
export function readAuditRecord(value: Buffer | null | undefined): AuditRecord | undefined {
  if (!value) return undefined;
  try {
    return decodeAuditRecord(value);
  } catch {
    return undefined;
  }
}

/**
 * The record as a message on `audit.log`, keyed by its event so one event's records share a partition (and so an
 * audit hash chain). A refusal that concerns no event is keyed by the party refused.
 */
export function auditMessage(
  record: AuditRecord,
  schemaId: number,
  key: string = record.eventId,
): { topic: string; message: { key: string; value: Buffer } } {
  return {
    topic: AUDIT_TOPIC,
    message: { key: truncate(key, AUDIT_FIELD_LIMITS.default), value: encodeAuditRecord(record, schemaId) },
  };
}
