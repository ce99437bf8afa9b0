import { Kafka, logLevel, type Consumer, type KafkaConfig } from "kafkajs";

/** A kafkajs client, or the config to build one (the party's own SCRAM user; WARN logs unless it says otherwise). */
export type KafkaSource = Kafka | KafkaConfig;

export function kafkaOf(source: KafkaSource): Kafka {
  // Duck-typed: the caller's kafkajs may be another copy than the SDK's.
  if (typeof (source as Partial<Kafka>).producer === "function") return source as Kafka;
  return new Kafka({ logLevel: logLevel.WARN, ...(source as KafkaConfig) });
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
