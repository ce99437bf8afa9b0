import { createRequire } from "node:module";
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer, ProducerBatch } from "kafkajs";
import { describe, expect, it } from "vitest";
import { GrondslagError } from "@grondslag/wire";
import {
  batchWorker,
  BatchingProducer,
  chunkByBytes,
  isTransient,
  kafkajsLevel,
  recordBytes,
  StallWatch,
  TransactionInDoubtError,
  UnwritableRecordError,
  WriteNotStartedError,
} from "./kafka";

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

/** What kafkajs throws when the broker refuses a record: a protocol error it does not retry, wrapped. */
function brokerRefusal(type: string) {
  const root = Object.assign(new Error(`broker: ${type}`), {
    name: "KafkaJSProtocolError",
    retriable: false,
    type,
  });
  return Object.assign(new Error(root.message, { cause: root }), { name: "KafkaJSNonRetriableError" });
}

const poisonMark = Buffer.from("poison");
const hasPoison = (b: ProducerBatch) =>
  (b.topicMessages ?? []).some((t) => t.messages.some((m) => m.value === poisonMark));

describe("BatchingProducer: one record never fails another's", () => {
  it("on a broker refusal of a shared write, retries each caller alone: only the culprit fails", async () => {
    const writes: ProducerBatch[] = [];
    const producer = {
      sendBatch: (b: ProducerBatch) => {
        writes.push(b);
        return hasPoison(b) ? Promise.reject(brokerRefusal("MESSAGE_TOO_LARGE")) : Promise.resolve([]);
      },
    } as unknown as Producer;
    const batching = new BatchingProducer(producer, { lingerMs: 5, maxMessages: 100 });
    const outcomes = await Promise.allSettled([
      batching.send([msg("a", 10)]),
      batching.send([{ topic: "b", message: { value: poisonMark } }]),
      batching.send([msg("c", 10), msg("audit", 10)]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const culprit = (outcomes[1] as PromiseRejectedResult).reason as unknown;
    expect(culprit).toBeInstanceOf(UnwritableRecordError);
    expect(culprit).toMatchObject({ reason: "too-large" });
    // One shared write, then one per caller.
    expect(writes).toHaveLength(4);
  });

  it("refuses a record over the bound before it is queued, so the others' write never holds it", async () => {
    const writes: ProducerBatch[] = [];
    const producer = {
      sendBatch: (b: ProducerBatch) => (writes.push(b), Promise.resolve([])),
    } as unknown as Producer;
    const batching = new BatchingProducer(producer, { lingerMs: 5, maxMessages: 100, maxRecordBytes: 1_000 });
    const outcomes = await Promise.allSettled([
      batching.send([msg("a", 10)]),
      batching.send([msg("b", 2_000)]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ reason: "too-large" });
    expect(writes).toHaveLength(1);
    expect(writes[0]?.topicMessages?.map((t) => t.topic)).toEqual(["a"]);
  });

  it("fails every caller of a bus outage at once, without a write per caller", async () => {
    let writes = 0;
    const outage = Object.assign(new Error("retries exceeded"), { name: "KafkaJSNumberOfRetriesExceeded" });
    const producer = { sendBatch: () => (writes++, Promise.reject(outage)) } as unknown as Producer;
    const batching = new BatchingProducer(producer, { lingerMs: 5, maxMessages: 100 });
    const outcomes = await Promise.allSettled([batching.send([msg("a", 1)]), batching.send([msg("b", 1)])]);
    expect(outcomes.every((o) => o.status === "rejected" && o.reason === outage)).toBe(true);
    expect(writes).toBe(1);
  });

  it("writes a flush as one transaction: committed when every chunk is acked, aborted otherwise", async () => {
    const log: string[] = [];
    const producer = {
      transaction: () =>
        Promise.resolve({
          sendBatch: (b: ProducerBatch) => {
            log.push(`send ${b.topicMessages?.map((t) => t.topic).join("+")}`);
            return hasPoison(b) ? Promise.reject(brokerRefusal("INVALID_RECORD")) : Promise.resolve([]);
          },
          commit: () => (log.push("commit"), Promise.resolve()),
          abort: () => (log.push("abort"), Promise.resolve()),
          isActive: () => true,
        }),
    } as unknown as Producer;
    const batching = new BatchingProducer(producer, { lingerMs: 5, maxMessages: 100, transactional: true });
    await batching.send([msg("events", 1), msg("audit", 1)]);
    expect(log).toEqual(["send events+audit", "commit"]);
    log.length = 0;
    const outcomes = await Promise.allSettled([
      batching.send([msg("events", 1), msg("audit", 1)]),
      batching.send([{ topic: "x", message: { value: poisonMark } }]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
    expect(log).toEqual(["send events+audit+x", "abort", "send events+audit", "commit", "send x", "abort"]);
  });

  it("a commit that was not answered is in doubt: never written again, whatever refused it", async () => {
    const log: string[] = [];
    let active = true;
    const producer = {
      transaction: () =>
        Promise.resolve({
          sendBatch: () => (log.push("send"), Promise.resolve([])),
          // The commit was sent; the answer is a refusal kafkajs does not retry. kafkajs has left the transaction.
          commit: () => (
            log.push("commit"),
            (active = false),
            Promise.reject(brokerRefusal("INVALID_TXN_STATE"))
          ),
          abort: () => (log.push("abort"), Promise.resolve()),
          isActive: () => active,
        }),
    } as unknown as Producer;
    const batching = new BatchingProducer(producer, { lingerMs: 5, maxMessages: 100, transactional: true });
    const outcomes = await Promise.allSettled([
      batching.send([msg("events", 1)]),
      batching.send([msg("audit", 1)]),
    ]);
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(TransactionInDoubtError);
    }
    // One write, no retry of each caller alone (a record refusal would have been retried so).
    expect(log).toEqual(["send", "commit"]);
  });

  it("takes a producer-state refusal for an outage, not the records' fault, and renews the producer", async () => {
    // OUT_OF_ORDER_SEQUENCE_NUMBER after a leader failed over refused valid ingress events as INTERNAL (test/faults).
    const log: string[] = [];
    let refuse = true;
    const producer = {
      transaction: () =>
        Promise.resolve({
          sendBatch: () =>
            (log.push("send"), refuse)
              ? Promise.reject(brokerRefusal("OUT_OF_ORDER_SEQUENCE_NUMBER"))
              : Promise.resolve([]),
          commit: () => (log.push("commit"), Promise.resolve()),
          abort: () => (log.push("abort"), Promise.resolve()),
          isActive: () => true,
        }),
    } as unknown as Producer;
    const batching = new BatchingProducer(producer, {
      lingerMs: 5,
      maxMessages: 100,
      transactional: true,
      renew: (old) => (log.push("renew"), (refuse = false), Promise.resolve(old)),
    });
    const outcomes = await Promise.allSettled([
      batching.send([msg("events", 1)]),
      batching.send([msg("audit", 1)]),
    ]);
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      expect((o as PromiseRejectedResult).reason).not.toBeInstanceOf(UnwritableRecordError);
      expect(isTransient((o as PromiseRejectedResult).reason)).toBe(false);
    }
    // One shared write, not one per caller; the next write begins on a renewed producer.
    expect(log).toEqual(["send", "abort"]);
    await batching.send([msg("events", 1)]);
    expect(log).toEqual(["send", "abort", "renew", "send", "commit"]);
  });

  it("refuses, unwritten, a caller whose write cannot begin by its deadline", async () => {
    const log: string[] = [];
    const producer = {
      transaction: () =>
        Promise.resolve({
          sendBatch: () => (log.push("send"), Promise.resolve([])),
          commit: () => (log.push("commit"), Promise.resolve()),
          abort: () => Promise.resolve(),
          isActive: () => true,
        }),
    } as unknown as Producer;
    const batching = new BatchingProducer(producer, { lingerMs: 5, maxMessages: 100, transactional: true });
    await expect(batching.send([msg("events", 1)], { notAfter: Date.now() - 1 })).rejects.toBeInstanceOf(
      WriteNotStartedError,
    );
    expect(log).toEqual([]);
    await batching.send([msg("events", 1)], { notAfter: Date.now() + 60_000 });
    expect(log).toEqual(["send", "commit"]);
  });
});

describe("recordBytes", () => {
  // kafkajs' own encoder of a record batch (format v2), to hold the bound against the bytes the broker measures.
  const require = createRequire(import.meta.url);
  const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0") as {
    RecordBatch: (o: { records: unknown[] }) => Promise<{ buffer: Buffer }>;
  };
  const Record = require("kafkajs/src/protocol/recordBatch/record/v0") as (o: object) => unknown;

  it.each([
    { key: "90000001", value: Buffer.alloc(100), headers: { a: "b" } },
    { key: null, value: Buffer.alloc(600_000, 1), headers: {} },
    { key: "k", value: Buffer.alloc(10), headers: { multi: ["x", "y"], "é-naam": "wáárde" } },
  ])("never undercounts what one record takes in a batch of its own (%#)", async (m) => {
    const encoded = await RecordBatch({
      records: [Record({ key: m.key, value: m.value, headers: m.headers, timestampDelta: 0 })],
    });
    const actual = encoded.buffer.length;
    const bound = recordBytes(m);
    expect(bound).toBeGreaterThanOrEqual(actual);
    expect(bound - actual).toBeLessThan(128);
  });
});

describe("kafkajsLevel", () => {
  const ERROR = 1;
  const WARN = 2;
  it("keeps kafkajs' own level for what an operator must see", () => {
    expect(
      kafkajsLevel(ERROR, {
        message: "Crash: KafkaJSNonRetriableError",
        error: "Topic authorization failed",
      }),
    ).toBe("error");
    expect(kafkajsLevel(WARN, { message: "Connection timeout" })).toBe("warn");
  });

  it("sends the routine retries of back-to-back transactions, and the exactly-once warning, to debug", () => {
    expect(
      kafkajsLevel(ERROR, {
        message: "Response AddPartitionsToTxn(key: 24, version: 1)",
        error:
          "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing",
      }),
    ).toBe("debug");
    expect(
      kafkajsLevel(ERROR, {
        message:
          "Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing",
      }),
    ).toBe("debug");
    expect(
      kafkajsLevel(WARN, {
        message: "Limiting retries for the idempotent producer may invalidate EoS guarantees",
      }),
    ).toBe("debug");
  });
});

describe("isTransient", () => {
  it("tells the bus's failures from the record's", () => {
    expect(isTransient(Object.assign(new Error("x"), { name: "KafkaJSNumberOfRetriesExceeded" }))).toBe(true);
    expect(isTransient(new GrondslagError("UNAVAILABLE", "d", 503, true))).toBe(true);
    expect(isTransient(Object.assign(new Error("pg"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("pg"), { code: "57P01" }))).toBe(true);
    expect(isTransient(new TypeError("fetch failed"))).toBe(true);
    // node-postgres when the server goes away mid-query: no SQLSTATE, only the message.
    expect(isTransient(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransient(new Error("Client has encountered a connection error and is not queryable"))).toBe(
      true,
    );
    expect(isTransient(brokerRefusal("MESSAGE_TOO_LARGE"))).toBe(false);
    expect(isTransient(new GrondslagError("INTERNAL", "d", 500, true))).toBe(false);
    expect(isTransient(new TypeError("Cannot read properties of undefined"))).toBe(false);
  });
});

describe("batchWorker", () => {
  const message = (offset: number) => ({ offset: String(offset), value: Buffer.from("v") }) as KafkaMessage;

  function fakeConsumer() {
    let eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
    const commits: string[] = [];
    const consumer = {
      events: { CRASH: "crash", END_BATCH_PROCESS: "end" },
      on: () => () => undefined,
      connect: () => Promise.resolve(),
      subscribe: () => Promise.resolve(),
      run: (o: { eachBatch: typeof eachBatch }) => ((eachBatch = o.eachBatch), Promise.resolve()),
      commitOffsets: (o: { offset: string }[]) => (
        commits.push(...o.map((x) => x.offset)),
        Promise.resolve()
      ),
    } as unknown as Consumer;
    const deliver = async (messages: KafkaMessage[]) => {
      await eachBatch?.({
        batch: {
          topic: "ingress.p",
          partition: 0,
          messages,
          lastOffset: () => messages[messages.length - 1]?.offset ?? "0",
        },
        resolveOffset: () => undefined,
        heartbeat: () => Promise.resolve(),
        isRunning: () => true,
        isStale: () => false,
      } as unknown as EachBatchPayload);
    };
    return { consumer, commits, deliver };
  }

  it("sets aside the one record whose handling fails, commits, and moves on", async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    const handled: string[] = [];
    const poisoned: string[] = [];
    const worker = batchWorker({
      consumer,
      handle: (b) => {
        if (b.messages.some((m) => m.offset === "11")) return Promise.reject(new TypeError("a bug"));
        handled.push(...b.messages.map((m) => m.offset));
        return Promise.resolve();
      },
      poison: (_b, m) => (poisoned.push(m.offset), Promise.resolve()),
    });
    await worker.start(["ingress.p"]);
    await deliver([message(10), message(11), message(12)]);
    expect(handled).toEqual(["10", "12"]);
    expect(poisoned).toEqual(["11"]);
    expect(commits).toEqual(["13"]);
    expect(worker.crashed()).toBeUndefined();
  });

  it("hands kafkajs a membership refusal of a commit unwrapped, so it rejoins instead of crashing for good", async () => {
    const { consumer, deliver } = fakeConsumer();
    const root = Object.assign(new Error("The coordinator is not aware of this member"), {
      name: "KafkaJSProtocolError",
      type: "UNKNOWN_MEMBER_ID",
      retriable: false,
    });
    (consumer as unknown as { commitOffsets: () => Promise<void> }).commitOffsets = () =>
      Promise.reject(
        Object.assign(new Error(root.message, { cause: root }), { name: "KafkaJSNonRetriableError" }),
      );
    const worker = batchWorker({
      consumer,
      handle: () => Promise.resolve(),
      poison: () => Promise.resolve(),
    });
    await worker.start(["ingress.p"]);
    await expect(deliver([message(1)])).rejects.toBe(root);
  });

  it("retries a bus outage in place, without setting anything aside, until it passes", async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    let calls = 0;
    const worker = batchWorker({
      consumer,
      handle: () =>
        ++calls <= 3
          ? Promise.reject(new GrondslagError("UNAVAILABLE", "bus down", 503, true))
          : Promise.resolve(),
      poison: () => Promise.reject(new Error("nothing may be set aside")),
      backoff: { minMs: 1, maxMs: 2 },
    });
    await worker.start(["ingress.p"]);
    await deliver([message(5), message(6)]);
    expect(calls).toBe(4);
    expect(commits).toEqual(["7"]);
  });
});

describe("StallWatch", () => {
  function fakeAdmin(state: { committed: string; high: string }) {
    return {
      fetchOffsets: () =>
        Promise.resolve([{ topic: "t", partitions: [{ partition: 0, offset: state.committed }] }]),
      fetchTopicOffsets: () =>
        Promise.resolve([{ partition: 0, low: "0", high: state.high, offset: state.high }]),
    } as unknown as Admin;
  }

  it("reports a group whose committed offset stands still while records wait, and recovers", async () => {
    const state = { committed: "3", high: "5" };
    let now = 0;
    const watch = new StallWatch(
      () => fakeAdmin(state),
      "g",
      10_000,
      () => now,
    );
    expect(await watch.check(["t"])).toBeUndefined();
    now = 9_000;
    expect(await watch.check(["t"])).toBeUndefined();
    now = 12_000;
    expect(await watch.check(["t"])).toBe("g stalled: t[0] at offset 3 with 2 waiting, no progress for 12 s");
    state.committed = "4";
    expect(await watch.check(["t"])).toBeUndefined();
    state.committed = "5";
    now = 60_000;
    expect(await watch.check(["t"])).toBeUndefined();
  });
});
