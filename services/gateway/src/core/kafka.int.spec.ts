import { readCredential } from "@grondslag/provision";
import { ingressTopic } from "@grondslag/wire";
import { waitFor } from "@grondslag/infra";
import { testCredentialsFile, testKafka, testStack, uniqueName, within } from "@grondslag/infra/test";
import kafkajs, { type Consumer } from "kafkajs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createGateway } from "../gateway";
import { testGatewayConfig } from "../test-config";
import { BatchingProducer, UnwritableRecordError } from "@grondslag/kit";

const stack = testStack();
const credentials = testCredentialsFile();

/** Every record of `topics` up to their ends, read in the given isolation level (control records are not records). */
async function readAll(
  topics: string[],
  readUncommitted: boolean,
): Promise<{ topic: string; value: string }[]> {
  const admin = testKafka(stack).admin();
  await admin.connect();
  const remaining = new Map<string, bigint>();
  for (const topic of topics) {
    for (const e of await admin.fetchTopicOffsets(topic)) {
      if (e.high !== e.low) remaining.set(`${topic}|${e.partition}`, BigInt(e.high));
    }
  }
  await admin.disconnect();
  const seen: { topic: string; value: string }[] = [];
  const consumer = testKafka(stack).consumer({ groupId: uniqueName("admin.test"), readUncommitted });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await within(
      30_000,
      "reading to the end",
      new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const key = `${payload.topic}|${payload.partition}`;
          const high = remaining.get(key);
          if (high !== undefined && BigInt(payload.lastOffset) + 1n >= high) remaining.delete(key);
          if (remaining.size === 0) resolve();
        });
        consumer
          .run({
            eachMessage: ({ topic, message }) => {
              seen.push({ topic, value: message.value?.toString() ?? "" });
              return Promise.resolve();
            },
          })
          .catch(reject);
      }),
    );
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

describe("BatchingProducer against the real broker", () => {
  it("an event and its audit record are visible together or not at all; the broker's refusal fails only its caller", async () => {
    const events = uniqueName("h2-txn-events");
    const audit = uniqueName("h2-txn-audit");
    const kafka = testKafka(stack);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: events, numPartitions: 1 },
        { topic: audit, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    const producer = kafka.producer({
      transactionalId: uniqueName("h2-txn"),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      // Our own bound lifted above the broker's, so the broker itself refuses the large record: MESSAGE_TOO_LARGE.
      const batching = new BatchingProducer(producer, {
        lingerMs: 20,
        maxMessages: 100,
        transactional: true,
        maxRecordBytes: 4 * 1024 * 1024,
      });
      const pair = [
        { topic: events, message: { key: "90000001", value: "event-A" } },
        { topic: audit, message: { key: "90000001", value: "COLLECT-A" } },
      ];
      const outcomes = await Promise.allSettled([
        batching.send(pair),
        batching.send([{ topic: events, message: { key: "90000001", value: Buffer.alloc(1_200_000, 1) } }]),
      ]);
      expect(outcomes[0].status).toBe("fulfilled");
      expect(outcomes[1].status).toBe("rejected");
      const refused = (outcomes[1] as PromiseRejectedResult).reason as unknown;
      expect(refused).toBeInstanceOf(UnwritableRecordError);
      expect(refused).toMatchObject({ reason: "too-large" });

      const committed = await readAll([events, audit], false);
      const uncommitted = await readAll([events, audit], true);
      // The shared transaction wrote the pair, then failed on the large record and was aborted; the pair was then
      // written again on its own. A read_uncommitted reader sees both copies: the aborted write did happen.
      expect(uncommitted.filter((r) => r.value === "event-A")).toHaveLength(2);
      expect(uncommitted.filter((r) => r.value === "COLLECT-A")).toHaveLength(2);
      // A read_committed reader (kafkajs' default, the gateway's and the audit service's) sees each exactly once.
      expect(committed.map((r) => r.value).sort()).toEqual(["COLLECT-A", "event-A"]);

      // The producer is still usable after the abort (kafkajs issue 430 territory: no "ongoing transaction").
      await batching.send([{ topic: events, message: { key: "90000001", value: "event-B" } }]);
      expect((await readAll([events], false)).map((r) => r.value)).toEqual(["event-A", "event-B"]);
    } finally {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [events, audit] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

describe("readiness of the Kafka workers", () => {
  it("a worker whose lag stands still while records wait makes the gateway unready, with the reason", async () => {
    const groupPrefix = `grondslag.gateway.${uniqueName("stall")}`;
    const gatewayUser = {
      name: "grondslag.gateway",
      password: readCredential(credentials, "grondslag.gateway"),
    };
    const gateway = createGateway(
      testGatewayConfig(stack, credentials, {
        kafkaUser: gatewayUser.name,
        kafkaPassword: gatewayUser.password,
        groupPrefix,
        workers: ["ingress"],
        stallMs: 1_500,
      }),
      pino({ level: "silent" }),
    );
    await gateway.start();
    // A second member of the gateway's ingress group that takes partitions and never finishes a record: a stalled
    // worker, as the outage's was.
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    let stuck: Consumer | undefined;
    try {
      const topic = ingressTopic("uitlener.90000002");
      stuck = testKafka(stack, gatewayUser).consumer({ groupId: `${groupPrefix}.ingress` });
      await stuck.connect();
      await stuck.subscribe({ topics: [topic], fromBeginning: true });
      const assigned = new Promise<void>((resolve) =>
        stuck?.on(stuck.events.GROUP_JOIN, ({ payload }) => {
          if ((payload.memberAssignment[topic] ?? []).length > 0) resolve();
        }),
      );
      await stuck.run({ eachMessage: () => released });
      await within(60_000, "the stuck member to get a partition of the ingress topic", assigned);
      const producer = testKafka(stack, {
        name: "uitlener.90000002",
        password: readCredential(credentials, "uitlener.90000002"),
      }).producer();
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: [0, 1, 2].map((partition) => ({ partition, value: "not an event" })),
      });
      await producer.disconnect();

      const unready = await waitFor(
        "readiness to report the stall",
        async () => {
          const checks = await gateway.readiness.check();
          return checks.checks.workers === false ? checks : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(unready.checks.kafka).toBe(true);
      expect(unready.reasons?.join("\n")).toMatch(
        new RegExp(
          `${groupPrefix}\\.ingress stalled: .*${topic.replace(/\./g, "\\.")}\\[\\d\\] at offset \\d+ with \\d+ waiting`,
        ),
      );

      release();
      await waitFor(
        "readiness to recover once the member moves on",
        async () => ((await gateway.readiness.check()).checks.workers === true ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } finally {
      release();
      await stuck?.disconnect();
      await gateway.stop();
    }
  });
});
