import { Kafka, logLevel, type Consumer, type KafkaConfig } from "kafkajs";

/** A kafkajs client, or the config to build one (the party's own SCRAM user; WARN logs unless it says otherwise). */
export type KafkaSource = Kafka | KafkaConfig;

export function kafkaOf(source: KafkaSource): Kafka {
  if (source instanceof Kafka) return source;
  return new Kafka({ logLevel: logLevel.WARN, ...source });
}

/** Connects, subscribes and runs `consumer`; resolves once it joined its group (so what is written next is read). */
export async function runJoined(
  consumer: Consumer,
  topic: string,
  fromBeginning: boolean,
  run: Parameters<Consumer["run"]>[0],
): Promise<void> {
  const joined = new Promise<void>((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      off();
      resolve();
    });
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning });
  await consumer.run(run);
  await joined;
}
