import crypto from "node:crypto";
import { checkProduce, type Catalogue } from "@grondslag/contracts";
import { canonicalTopic, subjectOf } from "@grondslag/contracts/provision";
import {
  describeFields,
  identifierProblems,
  isTopic,
  KEY_FIELD,
  loadSchema,
  rawSchema,
  type Topic,
} from "@grondslag/schemas";
import type { Logger } from "pino";
import type pg from "pg";
import { GatewayError } from "../errors";
import type { PublishCommand, Publisher, PublishReceipt } from "../ports";
import { auditMessage, auditRecordId, subjectsOf, type AuditRecord, type Pseudonymiser } from "./audit";
import {
  isRecordError,
  MAX_RECORD_BYTES,
  recordBytes,
  UnwritableRecordError,
  type BatchingProducer,
  type TopicMessage,
} from "@grondslag/kit";
import type { SchemaIds } from "@grondslag/kit";
import { continueTrace, formatTraceparent as traceparent, type TraceContext } from "@grondslag/wire";
import { BUS_HEADERS as H, toWire } from "@grondslag/wire";

export interface PublisherDeps {
  catalogue: () => Catalogue;
  producer: BatchingProducer;
  schemaIds: SchemaIds;
  pool: pg.Pool;
  dbSchema: string;
  pseudonymiser: Pseudonymiser;
  now: () => Date;
  log: Logger;
  onDecision?: (d: { topic: string; outcome: string; grondslag: string; purpose: string }) => void;
}

/**
 * The largest canonical record accepted. Below the producer's own bound by room for a delivery record's headers:
 * a delivery's value is a projection of the canonical one, never larger, so every delivery of an accepted event
 * fits as well.
 */
export const MAX_CANONICAL_BYTES = MAX_RECORD_BYTES - 16 * 1024;

const tooLarge = (bytes: number) =>
  new GatewayError(
    "RECORD_TOO_LARGE",
    `the event takes ${bytes} bytes as a Kafka record, more than the ${MAX_CANONICAL_BYTES} the bus accepts`,
    "send a smaller event: shorten its longest text fields",
  );

/** Internal Kafka topics are never a publish target, whatever the caller puts in the path. */
const INTERNAL = /^(events|deliver|ingress|rejected|audit)\./;

const refusalCodes = {
  UNKNOWN_TOPIC: "UNKNOWN_TOPIC",
  UNKNOWN_PARTY: "NOT_A_PRODUCER",
  NOT_A_PRODUCER: "NOT_A_PRODUCER",
  GRONDSLAG_MISMATCH: "LEGAL_BASIS_NOT_ALLOWED",
  PURPOSE_NOT_ALLOWED: "PURPOSE_NOT_ALLOWED",
  BINDING_VIOLATED: "BINDING_VIOLATED",
} as const;

const fixes: Record<keyof typeof refusalCodes, string> = {
  UNKNOWN_TOPIC: "publish to one of the topics in GET /v1/openapi.json (e.g. arbo.accident-reported)",
  UNKNOWN_PARTY: "authenticate as a party in the parties registry",
  NOT_A_PRODUCER: "only parties the topic's contract names as producers may publish; ask the contract owner",
  GRONDSLAG_MISMATCH:
    "name the legal basis your producer entry in the contract gives, in the Grondslag header",
  PURPOSE_NOT_ALLOWED: "name one of the purposes your producer entry allows, in the Doelbinding header",
  BINDING_VIOLATED:
    "publish only about yourself: the contract binds this field to your own KvK or gemeentecode (parties registry)",
};

/** A command whose refusal was decided before the publisher saw it (an ingress record that cannot be decoded). */
export type CoreCommand = PublishCommand & { refusal?: GatewayError };

interface Checked {
  cmd: PublishCommand;
  topic: Topic;
  eventId: string;
  trace: TraceContext;
  body: Buffer;
  sha256: Buffer;
  fields: string[];
  subjects: AuditRecord["subjects"];
}

/** A deterministic event id for an idempotency key: a retry that raced its own first attempt gets the same id. */
function eventIdFor(cmd: PublishCommand): string {
  if (!cmd.idempotencyKey) return crypto.randomUUID();
  const h = crypto.createHash("sha256").update(`${cmd.producer}\n${cmd.idempotencyKey}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50; // version 5-style (name-based, SHA)
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/**
 * The leaf field paths of a topic's schema: what a COLLECT record lists. Schema fields, like a DISCLOSE record's,
 * so an auditor compares like with like (a recipient's fields are always a subset); computed once per topic.
 */
const collectedFields = new Map<Topic, string[]>();
function fieldsOf(topic: Topic): string[] {
  let fields = collectedFields.get(topic);
  if (!fields) {
    fields = describeFields(rawSchema(topic))
      .filter((f) => !f.isRecord)
      .map((f) => f.path);
    collectedFields.set(topic, fields);
  }
  return fields;
}

export function createPublisher(deps: PublisherDeps): Publisher & {
  publishBatch(cmds: CoreCommand[]): Promise<(PublishReceipt | GatewayError)[]>;
} {
  const { producer, schemaIds, pool, dbSchema, pseudonymiser, now, log } = deps;

  function audit(base: {
    action: AuditRecord["action"];
    cmd: PublishCommand;
    eventId: string;
    trace: TraceContext;
    fields?: string[];
    subjects?: AuditRecord["subjects"];
    schemaId?: number | null;
    error?: GatewayError;
  }): TopicMessage {
    const reason = base.error?.code ?? null;
    const record: AuditRecord = {
      v: 1,
      id: auditRecordId(base.eventId, base.action, null, reason),
      time: now().toISOString(),
      action: base.action,
      topic: base.cmd.topic,
      eventId: base.eventId,
      producer: base.cmd.producer,
      recipient: null,
      grondslag: base.cmd.grondslag || null,
      purpose: base.cmd.purpose || null,
      fields: base.fields ?? [],
      reasonCode: reason,
      reasonDetail: base.error
        ? `${base.error.detail}${base.error.field ? ` (field ${base.error.field})` : ""}`
        : null,
      channel: base.cmd.channel,
      traceId: base.trace.traceId,
      spanId: base.trace.spanId,
      schemaId: base.schemaId ?? null,
      subjects: base.subjects ?? [],
    };
    return auditMessage(record);
  }

  /** Every check that needs no I/O; throws the GatewayError that names the rule. */
  function check(cmd: CoreCommand, eventId: string, trace: TraceContext): Checked {
    if (cmd.refusal) throw cmd.refusal;
    if (INTERNAL.test(cmd.topic) || !isTopic(cmd.topic)) {
      throw new GatewayError(
        "UNKNOWN_TOPIC",
        `there is no public topic ${JSON.stringify(cmd.topic)}`,
        fixes.UNKNOWN_TOPIC,
      );
    }
    const topic = cmd.topic;
    const decision = checkProduce(deps.catalogue(), { ...cmd, party: cmd.producer, at: now() });
    if (!decision.ok)
      throw new GatewayError(refusalCodes[decision.code], decision.detail, fixes[decision.code]);
    const type = loadSchema(topic);
    let firstPath: string | undefined;
    let firstProblem = "";
    const valid = type.isValid(cmd.payload, {
      errorHook: (path: string[], value: unknown, t: { typeName?: string; toString(): string }) => {
        if (firstPath !== undefined) return;
        firstPath = path.join(".");
        firstProblem =
          value === undefined
            ? "is missing"
            : `does not match the schema (expected ${t.typeName ?? "another type"})`;
      },
    });
    if (!valid) {
      const field = firstPath || "(root)";
      throw new GatewayError(
        "SCHEMA_VIOLATION",
        `${field} ${firstProblem}`,
        `fix ${field} as the schema for ${topic} describes (GET /v1/openapi.json)`,
        { field },
      );
    }
    const idProblem = identifierProblems(rawSchema(topic), cmd.payload)[0];
    if (idProblem) {
      throw new GatewayError(
        "INVALID_IDENTIFIER",
        `${idProblem.path} is not a valid ${idProblem.identifier}`,
        idProblem.identifier === "bsn"
          ? "send a BSN of nine digits that passes the elfproef"
          : idProblem.identifier === "kvk"
            ? "send a KvK number of eight digits"
            : "send a CBS municipality code: GM followed by four digits",
        { field: idProblem.path },
      );
    }
    const body = type.toBuffer(cmd.payload);
    return {
      cmd,
      topic,
      eventId,
      trace,
      body,
      sha256: crypto.createHash("sha256").update(body).digest(),
      fields: fieldsOf(topic),
      subjects: subjectsOf(topic, cmd.payload, pseudonymiser),
    };
  }

  async function existing(items: Checked[]) {
    const keyed = items.filter((c) => c.cmd.idempotencyKey);
    if (keyed.length === 0)
      return new Map<string, { event_id: string; payload_sha256: Buffer; trace_id: string }>();
    const { rows } = await pool.query<{
      producer: string;
      key: string;
      event_id: string;
      payload_sha256: Buffer;
      trace_id: string;
    }>(
      `SELECT producer, key, event_id, payload_sha256, trace_id FROM ${dbSchema}.idempotency
        WHERE (producer, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [keyed.map((c) => c.cmd.producer), keyed.map((c) => c.cmd.idempotencyKey)],
    );
    return new Map(rows.map((r) => [`${r.producer}\n${r.key}`, r]));
  }

  async function publishBatch(cmds: CoreCommand[]): Promise<(PublishReceipt | GatewayError)[]> {
    type Refused = GatewayError & { eventId: string; trace: TraceContext; cmd: PublishCommand };
    const results: (PublishReceipt | Refused | Checked)[] = cmds.map((cmd) => {
      const trace = continueTrace(cmd.traceparent);
      const eventId = eventIdFor(cmd);
      try {
        return check(cmd, eventId, trace);
      } catch (err) {
        if (err instanceof GatewayError) return Object.assign(err, { eventId, trace, cmd });
        // A bug or a payload the checks did not foresee: refuse this event alone, never the batch around it.
        log.error({ err, topic: cmd.topic, producer: cmd.producer }, "checking an event failed");
        const internal = new GatewayError(
          "INTERNAL",
          "the gateway could not check this event",
          "retry later; if it persists, report the traceId",
          { cause: err },
        );
        return Object.assign(internal, { eventId, trace, cmd });
      }
    });
    const checked = results.filter((r): r is Checked => "body" in r);
    const seen = await existing(checked);
    // One send per event (its canonical record and its COLLECT record): they share a flush with every other
    // event, but one that the broker refuses fails alone, and a transactional flush keeps each pair together.
    const writes: { index: number; checked: Checked; messages: TopicMessage[] }[] = [];
    const inBatch = new Map<string, Checked>();
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (!r || !("body" in r)) continue;
      const k = r.cmd.idempotencyKey ? `${r.cmd.producer}\n${r.cmd.idempotencyKey}` : undefined;
      const prior = k ? (seen.get(k) ?? inBatch.get(k)) : undefined;
      if (prior) {
        const priorSha = "sha256" in prior ? prior.sha256 : prior.payload_sha256;
        if (!priorSha.equals(r.sha256)) {
          results[i] = Object.assign(
            new GatewayError(
              "IDEMPOTENCY_CONFLICT",
              "this Idempotency-Key was used before with a different payload",
              "use a new Idempotency-Key for a new event; resend the same payload to retry",
            ),
            { eventId: r.eventId, trace: r.trace, cmd: r.cmd },
          );
        } else {
          results[i] = {
            eventId: "event_id" in prior ? prior.event_id : prior.eventId,
            topic: r.topic,
            duplicate: true,
            traceId: "trace_id" in prior ? prior.trace_id : prior.trace.traceId,
          };
        }
        continue;
      }
      const schemaId = await schemaIds.idOf(subjectOf(canonicalTopic(r.topic)), rawSchema(r.topic));
      const canonical: TopicMessage = {
        topic: canonicalTopic(r.topic),
        message: {
          key: String((r.cmd.payload as Record<string, unknown>)[KEY_FIELD]),
          value: toWire(schemaId, r.body),
          headers: {
            [H.eventId]: r.eventId,
            [H.topic]: r.topic,
            [H.producer]: r.cmd.producer,
            [H.grondslag]: r.cmd.grondslag,
            [H.purpose]: r.cmd.purpose,
            [H.traceparent]: traceparent(r.trace),
            [H.schemaId]: String(schemaId),
          },
        },
      };
      const bytes = recordBytes(canonical.message);
      if (bytes > MAX_CANONICAL_BYTES) {
        results[i] = Object.assign(tooLarge(bytes), { eventId: r.eventId, trace: r.trace, cmd: r.cmd });
        continue;
      }
      if (k) inBatch.set(k, r);
      writes.push({
        index: i,
        checked: r,
        messages: [
          canonical,
          audit({
            action: "COLLECT",
            cmd: r.cmd,
            eventId: r.eventId,
            trace: r.trace,
            fields: r.fields,
            subjects: r.subjects,
            schemaId,
          }),
        ],
      });
    }
    const rejectAudit = (r: Refused) => {
      const { eventId, trace, cmd } = r;
      deps.onDecision?.({
        topic: cmd.topic,
        outcome: r.code,
        grondslag: cmd.grondslag,
        purpose: cmd.purpose,
      });
      return audit({ action: "REJECT", cmd, eventId, trace, error: r });
    };
    // Refusals are audited in the same flush as the accepted events of the batch.
    const refusals = results.filter((r): r is Refused => r instanceof GatewayError);
    const [refusalsWritten, ...written] = await Promise.allSettled([
      producer.send(refusals.map(rejectAudit)),
      ...writes.map((w) => producer.send(w.messages)),
    ]);
    const unavailable = (err: unknown) =>
      new GatewayError(
        "UNAVAILABLE",
        "the bus did not acknowledge the event",
        "retry with the same Idempotency-Key",
        {
          cause: err,
        },
      );
    const fresh: Checked[] = [];
    const late: Refused[] = [];
    written.forEach((outcome, j) => {
      const w = writes[j];
      if (!w) return;
      if (outcome.status === "fulfilled") {
        fresh.push(w.checked);
        return;
      }
      const err: unknown = outcome.reason;
      if (!isRecordError(err)) {
        log.error({ err }, "writing to Kafka failed");
        results[w.index] = Object.assign(unavailable(err), {
          eventId: w.checked.eventId,
          trace: w.checked.trace,
          cmd: w.checked.cmd,
        });
        return;
      }
      // The broker will never take this event: refuse it (and audit that), like any other refusal.
      log.error({ err, topic: w.checked.topic }, "the broker refused an event's records");
      const { eventId, trace, cmd } = w.checked;
      const refusal =
        err instanceof UnwritableRecordError && err.reason === "too-large"
          ? tooLarge(w.messages.reduce((n, m) => Math.max(n, recordBytes(m.message)), 0))
          : new GatewayError(
              "INTERNAL",
              "the bus refused the event's records",
              "retry later; if it persists, report the traceId",
              { cause: err },
            );
      const refused = Object.assign(refusal, { eventId, trace, cmd });
      results[w.index] = refused;
      late.push(refused);
    });
    if (late.length > 0) {
      await producer.send(late.map(rejectAudit)).catch((err: unknown) => {
        log.error({ err }, "auditing refused events failed");
        for (const r of late) results[results.indexOf(r)] = Object.assign(unavailable(err), r);
      });
    }
    if (refusalsWritten?.status === "rejected") {
      // A refusal not yet on the audit log is not final: the caller retries it (an ingress record is replayed).
      log.error({ err: refusalsWritten.reason as unknown }, "auditing refusals failed");
      for (const r of refusals)
        results[results.indexOf(r)] = Object.assign(unavailable(refusalsWritten.reason), r);
    }
    const keyed = fresh.filter((c) => c.cmd.idempotencyKey);
    if (keyed.length > 0) {
      // After the Kafka ack: a crash in between means a retry publishes again under the same event id, which
      // delivery and audit deduplicate.
      await pool.query(
        `INSERT INTO ${dbSchema}.idempotency (producer, key, payload_sha256, event_id, topic, trace_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::uuid[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING`,
        [
          keyed.map((c) => c.cmd.producer),
          keyed.map((c) => c.cmd.idempotencyKey),
          keyed.map((c) => c.sha256),
          keyed.map((c) => c.eventId),
          keyed.map((c) => c.topic),
          keyed.map((c) => c.trace.traceId),
        ],
      );
    }
    return results.map((r) => {
      if (!("body" in r)) return r;
      deps.onDecision?.({
        topic: r.topic,
        outcome: "ACCEPTED",
        grondslag: r.cmd.grondslag,
        purpose: r.cmd.purpose,
      });
      return { eventId: r.eventId, topic: r.topic, duplicate: false, traceId: r.trace.traceId };
    });
  }

  // Concurrent single publishes (one HTTP request each) are coalesced for a millisecond into one batch: one
  // idempotency lookup, one Kafka write and one insert for the lot, instead of a PostgreSQL commit per request.
  let pending: { cmd: CoreCommand; resolve: (r: PublishReceipt) => void; reject: (e: unknown) => void }[] =
    [];
  let timer: NodeJS.Timeout | undefined;
  const flushPending = () => {
    const items = pending;
    pending = [];
    timer = undefined;
    publishBatch(items.map((i) => i.cmd)).then(
      (results) =>
        results.forEach((r, i) => {
          const item = items[i];
          if (!item) return;
          if (r instanceof GatewayError) item.reject(r);
          else item.resolve(r);
        }),
      (err: unknown) => items.forEach((i) => i.reject(err)),
    );
  };

  return {
    publishBatch,
    publish(cmd) {
      return new Promise<PublishReceipt>((resolve, reject) => {
        pending.push({ cmd, resolve, reject });
        if (pending.length >= 500) {
          clearTimeout(timer);
          flushPending();
        } else {
          timer ??= setTimeout(flushPending, 1);
        }
      });
    },
  };
}
