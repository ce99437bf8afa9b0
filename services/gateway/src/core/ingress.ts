import { isTopic, loadSchema, rawSchema } from "@grondslag/schemas";
import type { Consumer, IHeaders, KafkaMessage } from "kafkajs";
import type { Logger } from "pino";
import { GatewayError } from "../errors";
import { assertSafeAvro, AvroGuardError, DEFAULT_AVRO_LIMITS, type AvroLimits } from "./avro-guard";
import {
  batchWorker,
  MAX_RECORD_BYTES,
  recordBytes,
  type BatchingProducer,
  type TopicMessage,
  type WorkBatch,
} from "@grondslag/kit";
import type { CoreCommand, createPublisher } from "./publisher";
import type { SchemaIds } from "@grondslag/kit";
import {
  BUS_HEADERS as H,
  canonicalTopic,
  expectKafkaTopic,
  fromWire,
  header,
  INGRESS_HEADERS,
  ingressTopic,
  rejectedTopic,
  subjectOf,
} from "@grondslag/wire";

export interface IngressDeps {
  consumer: Consumer;
  producer: BatchingProducer;
  publisher: ReturnType<typeof createPublisher>;
  schemaIds: SchemaIds;
  log: Logger;
  limits?: AvroLimits;
  /** Largest record accepted, in bytes, before any decoding. */
  maxRecordBytes?: number;
  onFatal?: (err: Error) => void;
  /** Partitions handled at once (batches of one partition stay in order); default 1. */
  partitionsConcurrently?: number;
}

/**
 * A refusal echoes the party's own headers (idempotency-key, traceparent, anything else it set) so it can match
 * the refusal to what it sent; bounded, because the party chooses them: at most this many headers, each value cut
 * at this many bytes, and this many bytes in all. What does not fit is counted in `grondslag-echo-dropped`.
 */
export const ECHO_LIMITS = { headers: 32, valueBytes: 1024, totalBytes: 8 * 1024 } as const;
const ECHO_DROPPED = "grondslag-echo-dropped";
const INGRESS_IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;
const VALUE_OMITTED = "grondslag-value-omitted";

const malformed = (detail: string, fix: string, field?: string) =>
  new GatewayError("MALFORMED_RECORD", detail, fix, field ? { field } : undefined);

/**
 * Consumes every party's ingress topic and runs each record through the same checks as an HTTP publish. The party
 * is the topic's owner: Kafka ACLs let only `User:<party>` write `ingress.<party>`. Nothing a party writes can stop
 * the worker: records are size-checked, then walked by the Avro guard before avsc sees them; refusals go to
 * `rejected.<party>` (the original bytes, the reason in headers) and to the audit log, and the offset moves on.
 */
export function createIngress(deps: IngressDeps) {
  const { consumer, producer, schemaIds, log } = deps;
  const limits = deps.limits ?? DEFAULT_AVRO_LIMITS;
  const maxBytes = deps.maxRecordBytes ?? 1024 * 1024;

  async function toCommand(party: string, partition: number, message: KafkaMessage): Promise<CoreCommand> {
    const h = message.headers;
    const topic = header(h, INGRESS_HEADERS.topic) ?? "";
    const base: CoreCommand = {
      topic,
      producer: party,
      grondslag: header(h, INGRESS_HEADERS.grondslag) ?? "",
      purpose: header(h, INGRESS_HEADERS.purpose) ?? "",
      // Without a key of the party's own, the record's position is one: a batch replayed after a crash (before
      // its offsets were committed) then publishes nothing twice.
      idempotencyKey: header(h, INGRESS_HEADERS.idempotencyKey) ?? `ingress:${partition}:${message.offset}`,
      traceparent: header(h, INGRESS_HEADERS.traceparent),
      payload: undefined,
      channel: "kafka",
    };
    const refuse = (refusal: GatewayError): CoreCommand => ({ ...base, refusal });
    if (!isTopic(topic)) {
      return refuse(
        new GatewayError(
          "UNKNOWN_TOPIC",
          `header ${INGRESS_HEADERS.topic} names no public topic`,
          "set it to the topic, e.g. arbo.accident-reported",
        ),
      );
    }
    for (const [name, value] of [
      [INGRESS_HEADERS.grondslag, base.grondslag],
      [INGRESS_HEADERS.purpose, base.purpose],
    ] as const) {
      if (!value) {
        return refuse(
          new GatewayError(
            "MISSING_HEADER",
            `header ${name} is missing`,
            `set the ${name} header from your contract`,
          ),
        );
      }
    }
    const key = header(h, INGRESS_HEADERS.idempotencyKey);
    if (key !== undefined && !INGRESS_IDEMPOTENCY_KEY.test(key)) {
      // The same rule as over HTTP: the key is stored and indexed, so it is bounded.
      return refuse(
        new GatewayError(
          "INVALID_REQUEST",
          `header ${INGRESS_HEADERS.idempotencyKey} must be 1 to 255 printable ASCII characters`,
          "use a UUID or your own stable reference for the event",
          { field: INGRESS_HEADERS.idempotencyKey },
        ),
      );
    }
    const value = message.value;
    if (!value || value.length === 0) {
      // A tombstone is no event; it is not "too large" either.
      return refuse(
        malformed(
          "the record has no value",
          "send the event as the record's value, in the registry wire format",
        ),
      );
    }
    if (value.length > maxBytes) {
      return refuse(
        new GatewayError(
          "PAYLOAD_TOO_LARGE",
          `record is larger than ${maxBytes} bytes`,
          "send one event per record",
        ),
      );
    }
    const wire = fromWire(value);
    if (!wire)
      return refuse(
        malformed(
          "not in the registry wire format (magic byte 0, schema id)",
          "encode with a Confluent-compatible serializer",
        ),
      );
    const canonicalId = await schemaIds.idOf(subjectOf(canonicalTopic(topic)), rawSchema(topic));
    if (wire.schemaId !== canonicalId) {
      return refuse(
        malformed(
          `schema id ${wire.schemaId} is not the registered schema of ${topic}`,
          `encode with the latest schema of subject ${subjectOf(canonicalTopic(topic))}`,
        ),
      );
    }
    const type = loadSchema(topic);
    try {
      assertSafeAvro(type, wire.body, limits);
      return { ...base, payload: type.fromBuffer(wire.body) as unknown };
    } catch (err) {
      const detail =
        err instanceof AvroGuardError ? err.message : "the record does not decode with the topic's schema";
      return refuse(
        malformed(
          detail,
          `encode the value with the schema of ${topic}`,
          err instanceof AvroGuardError ? err.path : undefined,
        ),
      );
    }
  }

  function rejection(party: string, message: KafkaMessage, error: GatewayError): TopicMessage {
    const reasons: IHeaders = {
      [H.reasonCode]: error.code,
      [H.reasonDetail]: error.detail,
      [H.reasonFix]: error.fix,
      ...(error.field ? { [H.reasonField]: error.field } : {}),
      [H.topic]: header(message.headers, INGRESS_HEADERS.topic) ?? "",
      "grondslag-ingress-offset": message.offset,
    };
    const headers: IHeaders = {};
    let dropped = 0;
    let total = 0;
    for (const [name, raw] of Object.entries(message.headers ?? {})) {
      if (raw === undefined || name in reasons || name === ECHO_DROPPED || name === VALUE_OMITTED) continue;
      const values = Array.isArray(raw) ? raw : [raw];
      const kept: Buffer[] = [];
      for (const v of values) {
        const b = Buffer.isBuffer(v) ? v : Buffer.from(v);
        const cut = b.subarray(0, ECHO_LIMITS.valueBytes);
        if (
          Object.keys(headers).length >= ECHO_LIMITS.headers ||
          total + name.length + cut.length > ECHO_LIMITS.totalBytes
        ) {
          dropped++;
          continue;
        }
        total += name.length + cut.length;
        kept.push(cut);
      }
      if (kept.length > 0) headers[name] = kept.length === 1 ? kept[0] : kept;
    }
    Object.assign(headers, reasons);
    if (dropped > 0) headers[ECHO_DROPPED] = String(dropped);
    // The party's own bytes back to the party: nothing it did not already have. Unless they no longer fit beside
    // the reason headers: then the reason goes back alone.
    const out: TopicMessage = {
      topic: rejectedTopic(party),
      message: { key: message.key, value: message.value, headers },
    };
    if (recordBytes(out.message) > MAX_RECORD_BYTES) {
      out.message = {
        key: message.key,
        value: null,
        headers: { ...headers, [VALUE_OMITTED]: "too large to echo" },
      };
    }
    return out;
  }

  async function reject(party: string, refused: { message: KafkaMessage; error: GatewayError }[]) {
    // One send each: a refusal the broker will not take must not hold back the others.
    await Promise.all(refused.map((r) => producer.send([rejection(party, r.message, r.error)])));
    for (const r of refused) {
      log.info({ party, code: r.error.code, offset: r.message.offset }, "ingress record refused");
    }
  }

  async function handle(batch: WorkBatch) {
    const { party } = expectKafkaTopic(batch.topic, "ingress");
    const messages = batch.messages;
    const commands: CoreCommand[] = [];
    for (const m of messages) commands.push(await toCommand(party, batch.partition, m));
    const results = await deps.publisher.publishBatch(commands);
    const refused: { message: KafkaMessage; error: GatewayError }[] = [];
    results.forEach((r, i) => {
      const m = messages[i];
      if (!(r instanceof GatewayError) || !m) return;
      // A bus outage is not the party's fault, nor an earlier attempt of this record not settled yet (a replay
      // after a gateway died mid-batch): fail the batch so it is retried, nothing is lost.
      if (r.code === "UNAVAILABLE" || r.code === "IDEMPOTENCY_IN_PROGRESS") throw r;
      refused.push({ message: m, error: r });
    });
    await reject(party, refused);
  }

  /** A record that could not be handled at all: refused (and audited) as INTERNAL, so its partition moves on. */
  async function poison(batch: WorkBatch, message: KafkaMessage) {
    const { party } = expectKafkaTopic(batch.topic, "ingress");
    const error = new GatewayError(
      "INTERNAL",
      "the gateway could not process this record",
      "check the record against the topic's schema; if it is valid, report the ingress offset",
    );
    const h = message.headers;
    const [audited] = await deps.publisher.publishBatch([
      {
        topic: header(h, INGRESS_HEADERS.topic) ?? "",
        producer: party,
        grondslag: header(h, INGRESS_HEADERS.grondslag) ?? "",
        purpose: header(h, INGRESS_HEADERS.purpose) ?? "",
        idempotencyKey: undefined,
        traceparent: header(h, INGRESS_HEADERS.traceparent),
        payload: undefined,
        channel: "kafka",
        refusal: error,
      },
    ]);
    if (audited instanceof GatewayError && audited.code === "UNAVAILABLE") throw audited;
    await reject(party, [{ message, error }]);
  }

  const worker = batchWorker({
    consumer,
    handle,
    poison,
    log,
    onFatal: deps.onFatal,
    partitionsConcurrently: deps.partitionsConcurrently ?? 1,
  });
  return {
    start: (parties: string[]) => worker.start(parties.map(ingressTopic)),
    stop: worker.stop,
    crashed: worker.crashed,
  };
}
