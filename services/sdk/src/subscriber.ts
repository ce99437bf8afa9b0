import { BUS_HEADERS, deliveryTopic, header } from "@grondslag/wire";
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
        eachMessage: async ({ partition, message }) => {
          const eventId = header(message.headers, BUS_HEADERS.eventId);
          if (!message.value || eventId === undefined || recent.has(eventId)) return;
          const value = (await window.decode(message.value)) as Delivery<never>["value"];
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
