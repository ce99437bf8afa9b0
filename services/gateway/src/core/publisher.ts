import type { Catalogue } from "@grondslag/contracts";
import { rawSchema } from "@grondslag/schemas";
import type { Logger } from "pino";
import { GatewayError } from "../errors";
import type { PublishCommand, Publisher, PublishReceipt } from "../ports";
import { createCoalescer } from "./coalescer";
import crypto from "node:crypto";
import {
  eventIdFor,
  idempotencyId,
  TAKEOVER_AFTER_MS,
  WRITE_START_MS,
  type IdempotencyKey,
  type IdempotencyStore,
  type Owner,
  type Prior,
} from "./idempotency";
import {
  isRecordError,
  recordBytes,
  TransactionInDoubtError,
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
  /** Where `Idempotency-Key`s are reserved and settled (the gateway's: `pgIdempotencyStore`). */
  idempotency: IdempotencyStore;
  /** This gateway instance and process, as the owner of the reservations it makes. */
  owner: Pick<Owner, "instance" | "incarnation">;
  /**
   * Whether delivery has read everything written to `topic` so far (its committed offsets at the end offsets taken
   * now, waiting a little for it): then delivery has marked committed every reservation whose event is there.
   */
  deliveredToEnd: (topic: string) => Promise<boolean>;
  pseudonymiser: Pseudonymiser;
  /** Frames audit records with the registry id of `audit.log-value`. */
  auditLog: AuditLog;
  now: () => Date;
  log: Logger;
  onDecision?: (d: { topic: string; outcome: string; grondslag: string; purpose: string }) => void;
  /**
   * Whether a failed write surely wrote nothing unless it says it is in doubt (true for the transactional
   * producer, the default). A plain producer's failed write may still have landed: its keys stay reserved.
   */
  atomicWrites?: boolean;
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
    // Object.assign onto the fresh literal, not a spread: V8 (Node 20) takes a slow path for a spread followed by
    // properties the source lacks, ≈ 1 µs each (measured), and these run once per event.
    const record = base.error
      ? auditRecord(
          Object.assign(common, {
            action: "REJECT" as const,
            reason: {
              code: base.error.code,
              detail: `${base.error.detail}${base.error.field ? ` (field ${base.error.field})` : ""}`,
            },
          }),
        )
      : auditRecord(Object.assign(common, { action: "COLLECT" as const, fields: base.fields ?? [] }));
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
    const { body, sha256, key, fields, subjects } = decision;
    return { ok: true, topic: decision.topic, body, sha256, key, fields, subjects, cmd, eventId, trace };
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
    const owner: Owner = { ...deps.owner, attempt: crypto.randomUUID() };
    const keyOf = (c: Checked): IdempotencyKey | undefined =>
      c.cmd.idempotencyKey ? { producer: c.cmd.producer, key: c.cmd.idempotencyKey } : undefined;
    const withIds = <E extends GatewayError>(e: E, c: Checked) =>
      Object.assign(e, { eventId: c.eventId, trace: c.trace, cmd: c.cmd });
    const conflict = (c: Checked) =>
      withIds(
        new GatewayError(
          "IDEMPOTENCY_CONFLICT",
          "this Idempotency-Key was used before with a different payload",
          "use a new Idempotency-Key for a new event; resend the same payload to retry",
        ),
        c,
      );
    const inProgress = (c: Checked, retryAfterSeconds: number) =>
      withIds(
        new GatewayError(
          "IDEMPOTENCY_IN_PROGRESS",
          "an earlier attempt under this Idempotency-Key is still being written, or whether it reached the bus " +
            "is not known yet",
          "retry after the Retry-After header's seconds, with the same Idempotency-Key and payload",
          { retryAfterSeconds },
        ),
        c,
      );

    // The first event of the batch under a key leads; a later one under the same key follows its outcome.
    const leaders = new Map<string, number>();
    const followers = new Map<number, number>();
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      const k = r && "body" in r ? keyOf(r) : undefined;
      if (!r || !("body" in r) || !k) continue;
      const id = idempotencyId(k.producer, k.key);
      const lead = leaders.get(id);
      if (lead === undefined) leaders.set(id, i);
      else if (!(results[lead] as Checked).sha256.equals(r.sha256)) results[i] = conflict(r);
      else followers.set(i, lead);
    }
    // Reserved before the write, so that no other attempt under the key writes too (test/faults: a client that
    // timed out and retried at the other gateway wrote an event twice while the first attempt was still waiting on
    // a broker that had been killed). Measured before the reservation, so the write's deadline is never later than
    // the reservation's age says.
    const reservedAt = Date.now();
    const reservations = [...leaders.values()].map((i) => {
      const c = results[i] as Checked;
      const k = keyOf(c)!;
      return {
        producer: k.producer,
        key: k.key,
        payloadSha256: c.sha256,
        eventId: c.eventId,
        topic: c.topic,
        traceId: c.trace.traceId,
      };
    });
    const reserved = await idempotency.reserve(owner, reservations);
    // One send per event (its canonical record and its COLLECT record): they share a flush with every other
    // event, but one that the broker refuses fails alone, and a transactional flush keeps each pair together.
    const writes: {
      index: number;
      checked: Checked;
      messages: TopicMessage[];
      key: IdempotencyKey | undefined;
    }[] = [];
    const released: IdempotencyKey[] = [];
    try {
      const unsettled: { index: number; prior: Prior & { state: "pending" } }[] = [];
      for (const [id, i] of leaders) {
        const c = results[i] as Checked;
        const prior = reserved.get(id);
        if (prior === "reserved") continue;
        if (prior === undefined) results[i] = inProgress(c, 1);
        else if (!prior.payloadSha256.equals(c.sha256)) results[i] = conflict(c);
        else if (prior.state === "committed")
          results[i] = { eventId: prior.eventId, topic: c.topic, duplicate: true, traceId: prior.traceId };
        else if (prior.ageMs < TAKEOVER_AFTER_MS && !prior.fenced)
          results[i] = inProgress(c, prior.ageMs < WRITE_START_MS ? 1 : 5);
        else unsettled.push({ index: i, prior });
      }
      if (unsettled.length > 0) {
        // An attempt that never settled and whose transaction is surely over: if its event was written, delivery
        // has read it and marked it committed once it has read to the topic's end. Taken over only then.
        const topics = [...new Set(unsettled.map((u) => u.prior.topic))];
        const caughtUp = new Set<string>();
        await Promise.all(
          topics.map(async (t) => {
            const ok = await deps.deliveredToEnd(t).catch((err: unknown) => {
              log.warn({ err, topic: t }, "could not tell whether delivery has read to the end of the topic");
              return false;
            });
            if (ok) caughtUp.add(t);
          }),
        );
        const won = await idempotency.takeOver(
          owner,
          unsettled
            .filter((u) => caughtUp.has(u.prior.topic))
            .map((u) => ({ ...keyOf(results[u.index] as Checked)!, attempt: u.prior.attempt })),
        );
        for (const u of unsettled) {
          const c = results[u.index] as Checked;
          const k = keyOf(c)!;
          if (won.has(idempotencyId(k.producer, k.key))) {
            log.warn(
              { topic: c.topic, eventId: c.eventId, ageMs: u.prior.ageMs, fenced: u.prior.fenced },
              "an earlier attempt under this idempotency key never settled and was not written: writing it now",
            );
          } else {
            // Delivery has not read to the end yet, or it just marked the event committed: the next retry knows.
            results[u.index] = inProgress(c, 1);
          }
        }
      }

      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        if (!r || !("body" in r) || followers.has(i)) continue;
        const k = keyOf(r);
        const schemaId = await schemaIds.idOf(subjectOf(canonicalTopic(r.topic)), rawSchema(r.topic));
        const canonical = boundCanonical(r, r.cmd, { eventId: r.eventId, trace: r.trace, schemaId });
        if (!canonical.ok) {
          results[i] = withIds(refusalError(canonical), r);
          if (k) released.push(k);
          continue;
        }
        writes.push({
          index: i,
          checked: r,
          key: k,
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
    } catch (err) {
      // Nothing of this batch was sent yet (every send below is settled, never thrown): free what it reserved or
      // took over (settle touches only this attempt's rows, so the other keys stay as they are).
      await idempotency.settle(owner, { committed: [], released: reservations }).catch((e: unknown) => {
        log.error({ err: e }, "releasing the keys of a failed publish failed: they are taken over later");
      });
      throw err;
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
    // Refusals are audited in the same flush as the accepted events of the batch. "Retry the same call" is no
    // refusal of the event: it is audited when an attempt is decided.
    const refusals = results.filter(
      (r): r is Refused => r instanceof GatewayError && r.code !== "IDEMPOTENCY_IN_PROGRESS",
    );
    const notAfter = reservedAt + WRITE_START_MS;
    const [refusalsWritten, ...written] = await Promise.allSettled([
      producer.send(refusals.map(rejectAudit)),
      ...writes.map((w) => producer.send(w.messages, w.key ? { notAfter } : {})),
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
    const committed: IdempotencyKey[] = [];
    const late: Refused[] = [];
    written.forEach((outcome, j) => {
      const w = writes[j];
      if (!w) return;
      if (outcome.status === "fulfilled") {
        fresh.push(w.checked);
        if (w.key) committed.push(w.key);
        return;
      }
      const err: unknown = outcome.reason;
      // Only a write that surely did not happen frees its key; one in doubt stays reserved until delivery tells.
      if (w.key && deps.atomicWrites !== false && !(err instanceof TransactionInDoubtError))
        released.push(w.key);
      if (!isRecordError(err)) {
        log.error({ err }, "writing to Kafka failed");
        results[w.index] = withIds(unavailable(err), w.checked);
        return;
      }
      // The broker will never take this event: refuse it (and audit that), like any other refusal.
      log.error({ err, topic: w.checked.topic }, "the broker refused an event's records");
      const refusal =
        err instanceof UnwritableRecordError && err.reason === "too-large"
          ? refusalError(tooLarge(w.messages.reduce((n, m) => Math.max(n, recordBytes(m.message)), 0)))
          : new GatewayError(
              "INTERNAL",
              "the bus refused the event's records",
              "retry later; if it persists, report the traceId",
              { cause: err },
            );
      const refused = withIds(refusal, w.checked);
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
    // The events are on the bus whatever happens here: a key that cannot be settled now stays reserved, and
    // delivery marks it committed when it reads the event (a released one that stays reserved is taken over later).
    await idempotency.settle(owner, { committed, released }).catch((err: unknown) => {
      log.error(
        { err, committed: committed.length, released: released.length },
        "settling idempotency keys failed",
      );
    });
    for (const [i, lead] of followers) {
      const l = results[lead];
      results[i] =
        l && "body" in l
          ? { eventId: l.eventId, topic: l.topic, duplicate: true, traceId: l.trace.traceId }
          : l instanceof GatewayError
            ? withIds(
                new GatewayError(l.code, l.detail, l.fix, {
                  ...(l.field === undefined ? {} : { field: l.field }),
                  ...(l.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: l.retryAfterSeconds }),
                }),
                results[i] as Checked,
              )
            : { ...(l as PublishReceipt), duplicate: true };
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
  const publish = createCoalescer<CoreCommand, PublishReceipt, GatewayError>({
    run: publishBatch,
    isRefusal: (r): r is GatewayError => r instanceof GatewayError,
    maxItems: 500,
    delayMs: 1,
  });

  return { publishBatch, publish };
}
