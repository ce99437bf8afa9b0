import type { Catalogue } from "@grondslag/contracts";
import { rawSchema } from "@grondslag/schemas";
import type { Logger } from "pino";
import { GatewayError } from "../errors";
import type { PublishCommand, Publisher, PublishReceipt } from "../ports";
import { createCoalescer } from "./coalescer";
import { eventIdFor, idempotencyId, type FirstPublish, type IdempotencyStore } from "./idempotency";
import {
  isRecordError,
  recordBytes,
  UnwritableRecordError,
  type BatchingProducer,
  type TopicMessage,
} from "@grondslag/kit";
import {
  auditRecord,
  type AuditLog,
  type DataSubject,
  type Pseudonymiser,
  type SchemaIds,
} from "@grondslag/kit";
import { canonicalTopic, continueTrace, subjectOf, type TraceContext } from "@grondslag/wire";
import {
  boundCanonical,
  decidePublish,
  tooLarge,
  type PublishAccepted,
  type PublishRefusal,
} from "./publish-decision";

export { MAX_CANONICAL_BYTES } from "./publish-decision";

export interface PublisherDeps {
  catalogue: () => Catalogue;
  producer: BatchingProducer;
  schemaIds: SchemaIds;
  /** Where first publishes under an `Idempotency-Key` are kept (the gateway's: `pgIdempotencyStore`). */
  idempotency: IdempotencyStore;
  pseudonymiser: Pseudonymiser;
  /** Frames audit records with the registry id of `audit.log-value`. */
  auditLog: AuditLog;
  now: () => Date;
  log: Logger;
  onDecision?: (d: { topic: string; outcome: string; grondslag: string; purpose: string }) => void;
}

/** A command whose refusal was decided before the publisher saw it (an ingress record that cannot be decoded). */
export type CoreCommand = PublishCommand & { refusal?: GatewayError };

/** An event the decision accepted, with the ids this publish gave it. */
type Checked = PublishAccepted & { cmd: PublishCommand; eventId: string; trace: TraceContext };

const refusalError = (r: PublishRefusal) =>
  new GatewayError(r.code, r.detail, r.fix, r.field === undefined ? undefined : { field: r.field });

/**
 * The publisher wires the publish path together: the decision (`publish-decision.ts`, pure), the idempotency
 * store, the canonical and COLLECT records in one transactional flush, REJECT records for refusals, and the
 * coalescer that turns concurrent single publishes into one batch.
 */
export function createPublisher(deps: PublisherDeps): Publisher & {
  publishBatch(cmds: CoreCommand[]): Promise<(PublishReceipt | GatewayError)[]>;
} {
  const { producer, schemaIds, idempotency, pseudonymiser, auditLog, now, log } = deps;

  function audit(base: {
    action: "COLLECT" | "REJECT";
    cmd: PublishCommand;
    eventId: string;
    trace: TraceContext;
    fields?: string[];
    subjects?: DataSubject[];
    schemaId?: number | null;
    error?: GatewayError;
  }): TopicMessage {
    const common = {
      topic: base.cmd.topic,
      eventId: base.eventId,
      producer: base.cmd.producer,
      grondslag: base.cmd.grondslag,
      purpose: base.cmd.purpose,
      channel: base.cmd.channel,
      trace: base.trace,
      time: now(),
      schemaId: base.schemaId,
      subjects: base.subjects,
    };
    const record = base.error
      ? auditRecord({
          ...common,
          action: "REJECT",
          reason: {
            code: base.error.code,
            detail: `${base.error.detail}${base.error.field ? ` (field ${base.error.field})` : ""}`,
          },
        })
      : auditRecord({ ...common, action: "COLLECT", fields: base.fields ?? [] });
    return auditLog.message(record);
  }

  /** Every check that needs no I/O (the decision); throws the GatewayError that names the rule. */
  function check(cmd: CoreCommand, eventId: string, trace: TraceContext): Checked {
    if (cmd.refusal) throw cmd.refusal;
    const { topic, producer, grondslag, purpose, payload } = cmd;
    const decision = decidePublish(
      deps.catalogue(),
      { topic, producer, grondslag, purpose, payload, at: now() },
      pseudonymiser,
    );
    if (!decision.ok) throw refusalError(decision);
    return { ...decision, cmd, eventId, trace };
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
    const seen = await idempotency.find(
      checked.flatMap((c) =>
        c.cmd.idempotencyKey ? [{ producer: c.cmd.producer, key: c.cmd.idempotencyKey }] : [],
      ),
    );
    // One send per event (its canonical record and its COLLECT record): they share a flush with every other
    // event, but one that the broker refuses fails alone, and a transactional flush keeps each pair together.
    const writes: { index: number; checked: Checked; messages: TopicMessage[] }[] = [];
    const inBatch = new Map<string, FirstPublish>();
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (!r || !("body" in r)) continue;
      const k = r.cmd.idempotencyKey ? idempotencyId(r.cmd.producer, r.cmd.idempotencyKey) : undefined;
      const prior = k ? (seen.get(k) ?? inBatch.get(k)) : undefined;
      if (prior) {
        if (!prior.payloadSha256.equals(r.sha256)) {
          results[i] = Object.assign(
            new GatewayError(
              "IDEMPOTENCY_CONFLICT",
              "this Idempotency-Key was used before with a different payload",
              "use a new Idempotency-Key for a new event; resend the same payload to retry",
            ),
            { eventId: r.eventId, trace: r.trace, cmd: r.cmd },
          );
        } else {
          results[i] = { eventId: prior.eventId, topic: r.topic, duplicate: true, traceId: prior.traceId };
        }
        continue;
      }
      const schemaId = await schemaIds.idOf(subjectOf(canonicalTopic(r.topic)), rawSchema(r.topic));
      const canonical = boundCanonical(r, r.cmd, { eventId: r.eventId, trace: r.trace, schemaId });
      if (!canonical.ok) {
        results[i] = Object.assign(refusalError(canonical), {
          eventId: r.eventId,
          trace: r.trace,
          cmd: r.cmd,
        });
        continue;
      }
      if (k) inBatch.set(k, { eventId: r.eventId, payloadSha256: r.sha256, traceId: r.trace.traceId });
      writes.push({
        index: i,
        checked: r,
        messages: [
          canonical.message,
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
          ? refusalError(tooLarge(w.messages.reduce((n, m) => Math.max(n, recordBytes(m.message)), 0)))
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
    const keyed = fresh.flatMap((c) => (c.cmd.idempotencyKey ? [{ c, key: c.cmd.idempotencyKey }] : []));
    // After the Kafka ack: a crash in between means a retry publishes again under the same event id, which
    // delivery and audit deduplicate.
    await idempotency.record(
      keyed.map(({ c, key }) => ({
        producer: c.cmd.producer,
        key,
        payloadSha256: c.sha256,
        eventId: c.eventId,
        topic: c.topic,
        traceId: c.trace.traceId,
      })),
    );
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
  const publish = createCoalescer<CoreCommand, PublishReceipt, GatewayError>({
    run: publishBatch,
    isRefusal: (r): r is GatewayError => r instanceof GatewayError,
    maxItems: 500,
    delayMs: 1,
  });

  return { publishBatch, publish };
}
