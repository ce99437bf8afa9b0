import {
  consumerView,
  deliveredFields,
  deliveryDecision,
  type Catalogue,
  type ConsumerView,
} from "@grondslag/contracts";
import { isTopic, KEY_FIELD, type AvroRecordSchema, type Topic } from "@grondslag/schemas";
import type { Consumer, KafkaMessage } from "kafkajs";
import type { Logger } from "pino";
import type pg from "pg";
import { GatewayError } from "../errors";
import { markCommitted } from "./idempotency";
import {
  auditRecord,
  batchWorker,
  subjectsOf,
  type AuditLog,
  type Pseudonymiser,
  type SchemaIds,
  MAX_RECORD_BYTES,
  recordBytes,
  UnwritableRecordError,
  type BatchingProducer,
  type TopicMessage,
  type WorkBatch,
} from "@grondslag/kit";
import {
  BUS_HEADERS as H,
  canonicalTopic,
  childSpan,
  continueTrace,
  expectKafkaTopic,
  formatTraceparent as traceparent,
  fromWire,
  header,
  toWire,
} from "@grondslag/wire";

export interface DeliveryDeps {
  catalogue: () => Catalogue;
  consumer: Consumer;
  producer: BatchingProducer;
  schemaIds: SchemaIds;
  pool: pg.Pool;
  dbSchema: string;
  pseudonymiser: Pseudonymiser;
  auditLog: AuditLog;
  now: () => Date;
  log: Logger;
  onDisclosure?: (d: { topic: string; recipient: string; grondslag: string; eventId: string }) => void;
  onFatal?: (err: Error) => void;
  /** Partitions handled at once (batches of one partition stay in order); default 1. */
  partitionsConcurrently?: number;
}

interface Planned {
  eventId: string;
  recipient: string;
  audit: TopicMessage;
  delivery: TopicMessage;
}

/**
 * Reads every canonical topic and hands each consumer in the contract its view: the fields its entry allows
 * (Avro schema resolution drops the rest: fail closed), only the rows its filter lets through. Per fetched batch:
 * the DISCLOSE records are written and acknowledged first, then the deliveries, then the dedupe rows, then the
 * offsets. A crash anywhere replays the batch; disclosures already recorded as delivered are skipped, so a replay
 * writes no delivery twice (the one window left, between a delivery's ack and its dedupe row, re-sends it with the
 * same event id header, and the audit record keeps its deterministic id).
 */
export function createDelivery(deps: DeliveryDeps) {
  const { consumer, producer, schemaIds, pool, dbSchema, pseudonymiser, auditLog, now, log } = deps;
  /**
   * Each view, with the leaf fields it delivers (what its DISCLOSE records list): made once, not per event. Keyed
   * first by the entry's field list itself (the loaded catalogue's frozen array, the same for every event; a new
   * catalogue brings new arrays, and the old views go with the old ones), so no event joins the list into a key.
   */
  const views = new WeakMap<readonly string[], Map<string, { view: ConsumerView; delivered: string[] }>>();

  function viewFor(
    topic: Topic,
    party: string,
    writer: AvroRecordSchema,
    writerId: number,
    fields: readonly string[],
  ) {
    let byView = views.get(fields);
    if (!byView) {
      byView = new Map();
      views.set(fields, byView);
    }
    const key = `${topic}|${party}|${writerId}`;
    let v = byView.get(key);
    if (!v) {
      v = {
        view: consumerView(topic, party, writer, fields),
        delivered: deliveredFields(writer, fields).map((f) => f.path),
      };
      byView.set(key, v);
    }
    return v;
  }

  async function plan(topic: Topic, message: KafkaMessage): Promise<Planned[]> {
    const wire = message.value ? fromWire(message.value) : undefined;
    const eventId = header(message.headers, H.eventId);
    if (!wire || !eventId) {
      // Only the gateway writes canonical topics; anything else there is a bug to look at, not data to pass on.
      log.error(
        { topic, offset: message.offset },
        "canonical record without wire header or event id: skipped",
      );
      return [];
    }
    const writer = await schemaIds.writer(wire.schemaId);
    const full = writer.type.fromBuffer(wire.body) as Record<string, unknown>;
    const trace = continueTrace(header(message.headers, H.traceparent));
    const producerId = header(message.headers, H.producer) ?? "";
    const subjects = subjectsOf(topic, full, pseudonymiser);
    const kvk = typeof full[KEY_FIELD] === "string" ? full[KEY_FIELD] : (message.key?.toString() ?? "");
    const out: Planned[] = [];
    // The record's Kafka timestamp is its collection time: the publisher's producer stamps it (CreateTime) when
    // the event is collected. The decision (pure): an entry in force then and now (no backfill, no delivery after
    // expiry) whose row filter passes the event; its fields are the recipient's projection.
    const collectedAt = new Date(Number(message.timestamp));
    for (const d of deliveryDecision(deps.catalogue(), topic, full, now(), collectedAt)) {
      const { view, delivered: fields } = viewFor(topic, d.party.id, writer.schema, wire.schemaId, d.fields);
      const viewId = await schemaIds.idOf(view.subject, view.schema);
      const projected = view.decode(wire.body);
      const span = childSpan(trace);
      const purpose = d.purpose;
      const record = auditRecord({
        action: "DISCLOSE",
        topic,
        eventId,
        producer: producerId,
        recipient: d.party.id,
        grondslag: d.entry.grondslag,
        purpose,
        fields,
        channel: "delivery",
        trace: span,
        time: now(),
        schemaId: viewId,
        subjects,
      });
      const delivery: TopicMessage = {
        topic: view.deliveryTopic,
        message: {
          key: deliveryKey(d.party.id, topic, kvk, fields.includes(KEY_FIELD)),
          value: toWire(viewId, view.type.toBuffer(projected)),
          headers: {
            [H.eventId]: eventId,
            [H.topic]: topic,
            [H.producer]: producerId,
            [H.grondslag]: d.entry.grondslag,
            [H.purpose]: purpose,
            [H.traceparent]: traceparent(span),
            [H.schemaId]: String(viewId),
          },
        },
      };
      // Publishing bounds the canonical record so that its deliveries fit; this is the last line, for a view
      // whose encoding would still not: never let it into a shared write.
      const bytes = recordBytes(delivery.message);
      if (bytes > MAX_RECORD_BYTES) {
        log.error(
          { topic, eventId, recipient: d.party.id, bytes },
          "delivery record too large: not delivered",
        );
        continue;
      }
      out.push({ eventId, recipient: d.party.id, audit: auditLog.message(record), delivery });
    }
    return out;
  }

  /**
   * The delivery's Kafka key. The canonical key is the uitlener's KvK: a recipient whose view includes that field
   * gets it as is; any other gets a keyed pseudonym of it, per recipient and topic (so recipients cannot join on
   * it), which keeps every company's events in order on one partition and reveals nothing without the key.
   */
  function deliveryKey(recipient: string, topic: Topic, kvk: string, inView: boolean): string {
    return inView ? kvk : pseudonymiser.pseudonym("kvk", `delivery-key\n${recipient}\n${topic}\n${kvk}`);
  }

  async function alreadyDelivered(planned: Planned[]): Promise<Set<string>> {
    if (planned.length === 0) return new Set();
    const { rows } = await pool.query<{ event_id: string; recipient: string }>(
      `SELECT event_id, recipient FROM ${dbSchema}.disclosures
        WHERE (event_id, recipient) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
      [planned.map((p) => p.eventId), planned.map((p) => p.recipient)],
    );
    return new Set(rows.map((r) => `${r.event_id}|${r.recipient}`));
  }

  /**
   * A write the broker refuses for a reason other than a record's size (an ACL taken away from audit.log, say) is
   * no fault of the event: setting the event aside would lose its deliveries for good. It is held as an outage
   * instead: retried in place, while the stalled worker turns the gateway unready and an operator is alerted.
   */
  async function holdOnRefusal(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (err) {
      if (err instanceof UnwritableRecordError && err.reason === "too-large") throw err;
      throw new GatewayError("UNAVAILABLE", "the bus refused a delivery or its audit record", "retry", {
        cause: err,
      });
    }
  }

  async function handle(batch: WorkBatch) {
    const { topic } = expectKafkaTopic(batch.topic, "canonical");
    if (!isTopic(topic)) return;
    const planned: Planned[] = [];
    for (const m of batch.messages) planned.push(...(await plan(topic, m)));
    const done = await alreadyDelivered(planned);
    const todo = planned.filter((p) => !done.has(`${p.eventId}|${p.recipient}`));
    if (todo.length > 0) {
      // The disclosure is on the audit log before the consumer can see it.
      await holdOnRefusal(producer.send(todo.map((p) => p.audit)));
      await holdOnRefusal(producer.send(todo.map((p) => p.delivery)));
      await pool.query(
        `INSERT INTO ${dbSchema}.disclosures (event_id, recipient)
         SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING`,
        [todo.map((p) => p.eventId), todo.map((p) => p.recipient)],
      );
      for (const p of todo) {
        const grondslag = String(p.delivery.message.headers?.[H.grondslag] ?? "");
        deps.onDisclosure?.({ topic, recipient: p.recipient, grondslag, eventId: p.eventId });
      }
    }
    // Before the offsets: an idempotency key whose attempt could not settle (its gateway died after the commit) is
    // known committed from here on, and a retry's takeover relies on that once delivery has read to the end.
    await markCommitted(
      pool,
      dbSchema,
      batch.messages.flatMap((m) => header(m.headers, H.eventId) ?? []),
    );
  }

  // A canonical record no view can be made of (only the gateway writes them, so this is a bug to look at) is
  // logged with its offset by the worker and skipped; a registry or bus outage is retried instead.
  const poison = () => Promise.resolve();
  const worker = batchWorker({
    consumer,
    handle,
    poison,
    log,
    onFatal: deps.onFatal,
    partitionsConcurrently: deps.partitionsConcurrently ?? 1,
  });
  return {
    start: (topics: Topic[]) => worker.start(topics.map(canonicalTopic)),
    stop: worker.stop,
    crashed: worker.crashed,
  };
}
