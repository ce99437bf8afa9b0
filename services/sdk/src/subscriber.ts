import { BUS_HEADERS, deliveryTopic, header } from "@grondslag/wire";
import { RefusalError } from "./errors";
import { RecentIds } from "./dedupe";
import { kafkaOf, runJoined, type KafkaSource } from "./kafka";
import type { Delivery, TopicTypes } from "./types";
import { RegistryWindow, type RegistryWindowOptions } from "./window";

export interface KafkaSubscriberOptions {
  kafka: KafkaSource;
  /** Your party id; you read `deliver.<party>.<topic>`. */
  party: string;
  /** The gateway's registry window: your projected schemas are fetched by the id in each record. */
  registry: RegistryWindowOptions;
  /** Event ids remembered per topic to drop redeliveries. Default 10 000. */
  dedupeCapacity?: number;
}

/** A delivery record the subscriber could not decode, as it came from Kafka. */
export interface UndecodableRecord {
  topic: string;
  partition: number;
  offset: string;
  headers: Record<string, string>;
  value: Buffer | null;
  /** Why it could not be decoded (no personal data: the value is not quoted). */
  reason: string;
}

export interface KafkaSubscription {
  stop(): Promise<void>;
}

export interface KafkaSubscriber<Topics extends TopicTypes> {
  /**
   * Reads your projected view of `topic`. Each record is decoded with the schema its id names (your projection),
   * into the same JSON form as over HTTP. Offsets are committed after `eachDelivery` resolves (at least once); an
   * event id this subscriber already handed out is dropped. Resolves once the consumer joined its group.
   */
  subscribe<K extends keyof Topics & string>(
    topic: K,
    opts: {
      eachDelivery: (d: Delivery<Topics[K]>) => void | Promise<void>;
      /** Default `<party>.sdk.<topic>`; a party's groups must start with `<party>.`. */
      groupId?: string;
      /** For a group without committed offsets: from the oldest record (default true) or only new ones. */
      fromBeginning?: boolean;
      /**
       * A record that cannot be decoded (no event id, or bytes the registry's schema does not read). Without this
       * option it throws, and kafkajs retries it for ever (the partition stalls); with it, the record is handed
       * here once (park it in your dead-letter topic) and its offset is committed, so the partition goes on.
       */
      onUndecodable?: (record: UndecodableRecord) => void | Promise<void>;
    },
  ): Promise<KafkaSubscription>;
  close(): Promise<void>;
}

export function createKafkaSubscriber<Topics extends TopicTypes = Record<string, unknown>>(
  opts: KafkaSubscriberOptions,
): KafkaSubscriber<Topics> {
  const kafka = kafkaOf(opts.kafka);
  const window = new RegistryWindow(opts.registry);
  const live = new Set<KafkaSubscription>();
  return {
    async subscribe(topic, s) {
      const recent = new RecentIds(opts.dedupeCapacity);
      const consumer = kafka.consumer({ groupId: s.groupId ?? `${opts.party}.sdk.${topic}` });
      await runJoined(consumer, deliveryTopic(opts.party, topic), s.fromBeginning ?? true, {
        eachMessage: async ({ topic: kafkaTopic, partition, message }) => {
          const eventId = header(message.headers, BUS_HEADERS.eventId);
          const undecodable = async (reason: string) => {
            if (!s.onUndecodable)
              throw new Error(`undecodable delivery at ${partition}:${message.offset}: ${reason}`);
            const headers: Record<string, string> = {};
            for (const name of Object.keys(message.headers ?? {})) {
              const v = header(message.headers, name);
              if (v !== undefined) headers[name] = v;
            }
            await s.onUndecodable({
              topic: kafkaTopic,
              partition,
              offset: message.offset,
              headers,
              value: message.value,
              reason,
            });
          };
          if (eventId === undefined) return undecodable("the record has no grondslag-event-id header");
          if (recent.has(eventId)) return;
          if (!message.value) return undecodable("the record has no value");
          let value: Delivery<never>["value"];
          try {
            value = (await window.decode(message.value)) as Delivery<never>["value"];
          } catch (err) {
            // A passing refusal of the window (401, 429, 503) is not the record's fault: let kafkajs retry it. A schema
            // id the window does not know (404) or bytes that do not read are the record's.
            if ((err instanceof RefusalError && err.retriable) || !s.onUndecodable) throw err;
            return undecodable(
              `its value does not decode: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
          await s.eachDelivery({
            eventId,
            topic: header(message.headers, BUS_HEADERS.topic) ?? topic,
            producer: header(message.headers, BUS_HEADERS.producer) ?? "",
            grondslag: header(message.headers, BUS_HEADERS.grondslag) ?? "",
            purpose: header(message.headers, BUS_HEADERS.purpose) ?? "",
            traceparent: header(message.headers, BUS_HEADERS.traceparent),
            value,
            cursor: `${partition}:${message.offset}`,
          });
          // Only a handled event counts as handed out: one whose handler threw comes again (kafkajs retries it).
          recent.remember(eventId);
        },
      });
      const sub: KafkaSubscription = {
        stop: async () => {
          live.delete(sub);
          await consumer.disconnect();
        },
      };
      live.add(sub);
      return sub;
    },
    async close() {
      await Promise.all([...live].map((s) => s.stop()));
    },
  };
}
