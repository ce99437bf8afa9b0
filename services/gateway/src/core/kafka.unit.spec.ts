import type { Producer, ProducerBatch } from "kafkajs";
import { describe, expect, it } from "vitest";
import { BatchingProducer, chunkByBytes } from "./kafka";

const msg = (topic: string, bytes: number) => ({ topic, message: { value: Buffer.alloc(bytes) } });

describe("BatchingProducer", () => {
  it("splits a large flush into in-order writes under the byte limit, and settles every caller once all are acked", async () => {
    const writes: ProducerBatch[] = [];
    const producer = {
      sendBatch: (b: ProducerBatch) => (writes.push(b), Promise.resolve([])),
    } as unknown as Producer;
    const batching = new BatchingProducer(producer, {
      lingerMs: 1,
      maxMessages: 10_000,
      maxRequestBytes: 10_000,
    });
    const items = Array.from({ length: 50 }, (_, i) => msg(i % 2 ? "a" : "b", 1_000));
    await Promise.all([batching.send(items.slice(0, 25)), batching.send(items.slice(25))]);
    expect(writes.length).toBeGreaterThan(1);
    const sent = writes.flatMap((w) => w.topicMessages?.flatMap((t) => t.messages) ?? []);
    expect(sent).toHaveLength(50);
    for (const w of writes) {
      const bytes = (w.topicMessages ?? [])
        .flatMap((t) => t.messages)
        .reduce((n, m) => n + (m.value as Buffer).length, 0);
      expect(bytes).toBeLessThanOrEqual(10_000);
    }
  });

  it("rejects every caller of a flush whose write fails", async () => {
    const producer = { sendBatch: () => Promise.reject(new Error("broker down")) } as unknown as Producer;
    const batching = new BatchingProducer(producer, { lingerMs: 1, maxMessages: 100 });
    await expect(batching.send([msg("a", 10)])).rejects.toThrow("broker down");
  });

  it("keeps order across chunks and sends an oversized message alone", () => {
    const items = [msg("a", 5), msg("a", 50), msg("a", 5)];
    const chunks = chunkByBytes(items, 60);
    expect(chunks.flat()).toEqual(items);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
