import crypto from "node:crypto";
import { AUDIT_TOPIC } from "@grondslag/contracts/provision";
import { describeFields, rawSchema, type Topic } from "@grondslag/schemas";
import { z } from "zod";
import type { TopicMessage } from "@grondslag/kit";

/**
 * One audit record per action, as the design names it, on `audit.log` (JSON, keyed by event id so one event's
 * records share a partition and a hash chain). The fields map onto the Logboek Dataverwerkingen standard:
 * traceId/spanId, `purpose` as the processing activity, `subjects` as data subject id (a keyed pseudonym) and type.
 */
export const auditActions = ["COLLECT", "DISCLOSE", "REJECT"] as const;
export type AuditAction = (typeof auditActions)[number];

export const auditRecordSchema = z.object({
  v: z.literal(1),
  /** Deterministic from the event, action and recipient: a redelivered action yields the same id (dedupe key). */
  id: z.string(),
  time: z.string(),
  action: z.enum(auditActions),
  topic: z.string(),
  eventId: z.string(),
  producer: z.string(),
  recipient: z.string().nullable(),
  grondslag: z.string().nullable(),
  purpose: z.string().nullable(),
  /** Field paths collected or disclosed (for a REJECT: none). */
  fields: z.array(z.string()),
  reasonCode: z.string().nullable(),
  reasonDetail: z.string().nullable(),
  channel: z.enum(["http", "kafka", "delivery"]),
  traceId: z.string(),
  spanId: z.string(),
  schemaId: z.number().int().nullable(),
  subjects: z.array(z.object({ type: z.enum(["bsn", "kvk"]), pseudonym: z.string() })),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/**
 * Longest audit string fields, in characters. A refused call's topic, legal basis and purpose are whatever the
 * caller sent (an ingress header has no length limit but Kafka's record size), so every record is bounded here,
 * where every record passes, rather than at each place that builds one.
 */
export const AUDIT_FIELD_LIMITS = { default: 256, reasonDetail: 1024 } as const;

/** Cuts `s` to `max` characters, saying how much was cut, so a reader sees the value was longer. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const marker = `…[truncated, ${s.length} chars]`;
  return `${s.slice(0, Math.max(0, max - marker.length))}${marker}`.slice(0, max);
}

/** The record with every string field within its limit. */
export function boundRecord(record: AuditRecord): AuditRecord {
  const cut = (v: string, max: number = AUDIT_FIELD_LIMITS.default) => truncate(v, max);
  const opt = (v: string | null, max?: number) => (v === null ? null : cut(v, max));
  return {
    ...record,
    id: cut(record.id),
    time: cut(record.time),
    topic: cut(record.topic),
    eventId: cut(record.eventId),
    producer: cut(record.producer),
    recipient: opt(record.recipient),
    grondslag: opt(record.grondslag),
    purpose: opt(record.purpose),
    fields: record.fields.map((f) => cut(f)),
    reasonCode: opt(record.reasonCode),
    reasonDetail: opt(record.reasonDetail, AUDIT_FIELD_LIMITS.reasonDetail),
    traceId: cut(record.traceId),
    spanId: cut(record.spanId),
  };
}

/**
 * The record as a message on `audit.log`, keyed by its event so one event's records share a partition (and so an
 * audit hash chain). A refusal that concerns no event is keyed by the party refused. Bounded (`boundRecord`).
 */
export function auditMessage(record: AuditRecord, key: string = record.eventId): TopicMessage {
  return {
    topic: AUDIT_TOPIC,
    message: { key: truncate(key, AUDIT_FIELD_LIMITS.default), value: JSON.stringify(boundRecord(record)) },
  };
}

/** The event id of a REJECT that concerns no event (a refused read, commit or name). */
export const NO_EVENT = "00000000-0000-0000-0000-000000000000";

/** A REJECT record of a refused HTTP call that concerns no event: who, on which side, what, and why. */
export function refusalRecord(r: {
  party: string;
  role: "producer" | "recipient";
  topic: string;
  grondslag: string | undefined;
  purpose: string | undefined;
  reasonCode: string;
  reasonDetail: string;
  traceId: string;
  spanId: string;
  time: Date;
}): AuditRecord {
  return {
    v: 1,
    id: auditRecordId(`${r.traceId}:${r.spanId}`, "REJECT", r.party, r.reasonCode),
    time: r.time.toISOString(),
    action: "REJECT",
    topic: r.topic,
    eventId: NO_EVENT,
    producer: r.role === "producer" ? r.party : "",
    recipient: r.role === "recipient" ? r.party : null,
    grondslag: r.grondslag || null,
    purpose: r.purpose || null,
    fields: [],
    reasonCode: r.reasonCode,
    reasonDetail: r.reasonDetail,
    channel: "http",
    traceId: r.traceId,
    spanId: r.spanId,
    schemaId: null,
    subjects: [],
  };
}

export function auditRecordId(
  eventId: string,
  action: AuditAction,
  recipient: string | null,
  reason: string | null,
) {
  const h = crypto
    .createHash("sha256")
    .update(`${eventId}|${action}|${recipient ?? ""}|${reason ?? ""}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Keyed pseudonyms: HMAC-SHA256 over `<type>:<value>`. Without the key nobody can test a guessed BSN against the log
 * (a BSN has only ~10^8 valid values, so a plain hash would be reversible). The audit service holds the same key
 * to answer "who received data about person X" (AVG art. 15).
 */
export class Pseudonymiser {
  private readonly key: Buffer;
  constructor(key: Buffer) {
    if (key.length < 32) throw new Error("the pseudonym key must be at least 32 bytes");
    this.key = key;
  }
  pseudonym(type: "bsn" | "kvk", value: string): string {
    return crypto.createHmac("sha256", this.key).update(`${type}:${value}`).digest("base64url");
  }
}

type Subject = AuditRecord["subjects"][number];
const identifierPaths = new Map<Topic, { path: string[]; type: "bsn" | "kvk" }[]>();

function pathsFor(topic: Topic) {
  let paths = identifierPaths.get(topic);
  if (!paths) {
    paths = describeFields(rawSchema(topic)).flatMap((f) =>
      f.identifier === "bsn" || f.identifier === "kvk"
        ? [{ path: f.path.split("."), type: f.identifier }]
        : [],
    );
    identifierPaths.set(topic, paths);
  }
  return paths;
}

/** Every value at a dotted path, looking through arrays and maps (which add no path segment). */
export function valuesAt(value: unknown, path: readonly string[]): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, path));
  if (path.length === 0) return [value];
  if (typeof value !== "object") return [];
  const [head, ...rest] = path;
  const obj = value as Record<string, unknown>;
  if (head !== undefined && head in obj) return valuesAt(obj[head], rest);
  // A map's values: no path segment of their own.
  return Object.values(obj).flatMap((v) => (typeof v === "object" ? valuesAt(v, path) : []));
}

/** Pseudonyms of the persons (BSN) and companies (KvK) an event is about, deduplicated. */
export function subjectsOf(topic: Topic, event: unknown, p: Pseudonymiser): Subject[] {
  const seen = new Map<string, Subject>();
  for (const { path, type } of pathsFor(topic)) {
    for (const v of valuesAt(event, path)) {
      if (typeof v !== "string" || v === "") continue;
      const pseudonym = p.pseudonym(type, v);
      seen.set(`${type}:${pseudonym}`, { type, pseudonym });
    }
  }
  return [...seen.values()];
}
