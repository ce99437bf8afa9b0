import { randomUUID } from "node:crypto";
import {
  canonicalTopic,
  continueTrace,
  formatTraceparent,
  header,
  INGRESS_HEADERS,
  ingressTopic,
  rejectedTopic,
  subjectOf,
  type KafkaHeaders,
} from "@grondslag/wire";
import { RefusalError, refusalFromHeaders } from "./errors";
import { kafkaOf, runJoined, type KafkaSource } from "./kafka";
import type { PublishOptions, TopicTypes } from "./types";
import { RegistryWindow, type RegistryWindowOptions } from "./window";

export interface IngressPublisherOptions {
  kafka: KafkaSource;
  /** Your party id; you may write only `ingress.<party>`. */
  party: string;
  /** The gateway's registry window (base URL and your bearer token or token source). */
  registry: RegistryWindowOptions;
}

export interface IngressReceipt {
  idempotencyKey: string;
  traceparent: string;
  partition: number;
  offset: string;
}

/** A refused ingress record from `rejected.<party>`, with the headers you sent that identify it. */
export class IngressRefusalError extends RefusalError {
  readonly idempotencyKey: string | undefined;
  /** The public topic you named (`grondslag-topic`). */
  readonly topic: string | undefined;
  readonly traceparent: string | undefined;
  /** The record's value as you sent it. */
  readonly value: Buffer | null;

  constructor(headers: KafkaHeaders, value: Buffer | null) {
    const r = refusalFromHeaders(headers);
    super({ code: r.code, detail: r.detail, fix: r.fix, field: r.field, traceId: r.traceId });
    this.name = "IngressRefusalError";
    this.idempotencyKey = header(headers, INGRESS_HEADERS.idempotencyKey);
    this.topic = header(headers, INGRESS_HEADERS.topic);
    this.traceparent = header(headers, INGRESS_HEADERS.traceparent);
    this.value = value;
  }
}

export interface IngressPublisher<Topics extends TopicTypes> {
  /**
   * Encodes `value` with the latest schema of `events.<topic>-value` (through the window), and writes it to
   * `ingress.<party>` with the required headers, acks=all. Resolves when the broker has it; the gateway's verdict
   * comes later (a refusal on `rejected.<party>`, see `watchRefusals`).
   */
  publish<K extends keyof Topics & string>(
    topic: K,
    value: Topics[K],
    opts: PublishOptions & { key?: string },
  ): Promise<IngressReceipt>;
  /** Reads `rejected.<party>` (group `<party>.<suffix>`) and hands each refusal to `onRefusal` as a typed error. */
  watchRefusals(opts: {
    onRefusal: (err: IngressRefusalError) => void | Promise<void>;
    /** Default `<party>.sdk.rejected`; a party's groups must start with `<party>.`. */
    groupId?: string;
    /** Default false: only refusals after the group first joined. */
    fromBeginning?: boolean;
  }): Promise<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}

export function createIngressPublisher<Topics extends TopicTypes = Record<string, unknown>>(
  opts: IngressPublisherOptions,
): IngressPublisher<Topics> {
  const kafka = kafkaOf(opts.kafka);
  const window = new RegistryWindow(opts.registry);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  let connected: Promise<void> | undefined;
  const consumers = new Set<{ stop(): Promise<void> }>();

  return {
    async publish(topic, value, o) {
      const idempotencyKey = o.idempotencyKey ?? randomUUID();
      const traceparent = formatTraceparent(continueTrace(o.traceparent));
      const id = await window.latestId(subjectOf(canonicalTopic(topic)));
      const framed = await window.encode(id, value);
      connected ??= producer.connect().catch((err: unknown) => {
        connected = undefined;
        throw err;
      });
      await connected;
      // The bus keys events by the company they concern (`subjectKvk`); the same key keeps them in order here.
      const subject = (value as { subjectKvk?: unknown }).subjectKvk;
      const key = o.key ?? (typeof subject === "string" ? subject : idempotencyKey);
      const [meta] = await producer.send({
        topic: ingressTopic(opts.party),
        acks: -1,
        messages: [
          {
            key,
            value: framed,
            headers: {
              [INGRESS_HEADERS.topic]: topic,
              [INGRESS_HEADERS.grondslag]: o.grondslag,
              [INGRESS_HEADERS.purpose]: o.purpose,
              [INGRESS_HEADERS.idempotencyKey]: idempotencyKey,
              [INGRESS_HEADERS.traceparent]: traceparent,
            },
          },
        ],
      });
      return {
        idempotencyKey,
        traceparent,
        partition: meta?.partition ?? -1,
        offset: meta?.baseOffset ?? meta?.offset ?? "",
      };
    },

    async watchRefusals(w) {
      const consumer = kafka.consumer({ groupId: w.groupId ?? `${opts.party}.sdk.rejected` });
      await runJoined(consumer, rejectedTopic(opts.party), w.fromBeginning ?? false, {
        eachMessage: async ({ message }) => {
          await w.onRefusal(new IngressRefusalError(message.headers, message.value));
        },
      });
      const handle = {
        stop: async () => {
          consumers.delete(handle);
          await consumer.disconnect();
        },
      };
      consumers.add(handle);
      return handle;
    },

    async close() {
      await Promise.all([...consumers].map((c) => c.stop()));
      if (connected) await producer.disconnect();
      connected = undefined;
    },
  };
}
