import { testKafka, testStack, uniqueName } from "@grondslag/infra/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kafkajsAbortedFilterInForce } from "./kafkajs-aborted";
import "./kafka";

// Two transactions interleaved on one partition and both aborted, as two gateways' writes were when a broker of three
// died under them (CI: 38 ingress events read twice from a canonical topic). kafkajs' own filter handed a
// read_committed consumer b1 and b2 (A aborted first) or a1, a2 and a3 (B first), depending on where it began.
const stack = testStack();
const kafka = testKafka(stack);
const admin = kafka.admin();

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

/** Writes a1 b1 a2 b2 a3 (offsets 0-4) in transactions A and B, aborts both in `order`, then one committed record. */
async function interleavedAborts(order: "A first" | "B first"): Promise<string> {
  const topic = uniqueName("kafkajs-aborted");
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = (id: string) =>
    kafka.producer({ transactionalId: uniqueName(id), idempotent: true, maxInFlightRequests: 1 });
  const [a, b, plain] = [producer("aborted-a"), producer("aborted-b"), kafka.producer()];
  await Promise.all([a.connect(), b.connect(), plain.connect()]);
  try {
    const ta = await a.transaction();
    await ta.send({ topic, messages: [{ value: "a1" }] });
    const tb = await b.transaction();
    await tb.send({ topic, messages: [{ value: "b1" }] });
    await ta.send({ topic, messages: [{ value: "a2" }] });
    await tb.send({ topic, messages: [{ value: "b2" }] });
    await ta.send({ topic, messages: [{ value: "a3" }] });
    for (const t of order === "A first" ? [ta, tb] : [tb, ta]) await t.abort();
    await plain.send({ topic, messages: [{ value: "committed" }] });
  } finally {
    await Promise.all([a.disconnect(), b.disconnect(), plain.disconnect()]);
  }
  return topic;
}

/** What a kafkajs consumer (read_committed, its default) reads of `topic` from `offset` up to the committed record. */
async function readFrom(topic: string, offset: number): Promise<string[]> {
  const groupId = uniqueName("kafkajs-aborted");
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: String(offset) }] });
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: ({ message }) => {
        seen.push(String(message.value));
        if (String(message.value) === "committed") resolve();
        return Promise.resolve();
      },
    });
  });
  await Promise.race([
    done,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no committed record from ${offset}`)), 30_000),
    ),
  ]);
  await consumer.disconnect();
  return seen;
}

describe("kafkajs' consumers skip aborted transactions (the kit's filter in its place)", () => {
  it("is in force in this process", () => {
    expect(kafkajsAbortedFilterInForce()).toBe(true);
  });

  for (const order of ["A first", "B first"] as const) {
    it(`hides two interleaved aborted transactions from every start offset, ${order}`, async () => {
      const topic = await interleavedAborts(order);
      try {
        for (let offset = 0; offset <= 4; offset++) {
          expect(await readFrom(topic, offset), `from offset ${offset}`).toEqual(["committed"]);
        }
      } finally {
        await admin.deleteTopics({ topics: [topic] });
      }
    });
  }
});
