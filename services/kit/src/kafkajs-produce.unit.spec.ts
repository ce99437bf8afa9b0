import crypto from "node:crypto";
import { createRequire } from "node:module";
import kafkajs, { type PartitionMetadata } from "kafkajs";
import { describe, expect, it } from "vitest";
import { rng } from "./rng.fixture";
import {
  crc32c,
  createPartitioner,
  groupMessagesPerPartition,
  kafkajsOwnProduce,
  kafkajsProduceInForce,
  murmur2,
  produceRequest,
  type ProduceArgs,
} from "./kafkajs-produce";

const require = createRequire(import.meta.url);
const own = kafkajsOwnProduce();
const theirCrc = require("kafkajs/src/protocol/recordBatch/crc32C/index.js") as (b: Buffer) => number;
const theirMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2.js") as (
  k: Buffer | string,
) => number;
const Long = require("kafkajs/src/utils/long.js") as { fromValue(v: unknown): unknown };
const { Types: Compression } = require("kafkajs/src/protocol/message/compression/index.js") as {
  Types: { None: number; GZIP: number };
};
type Encoder = { buf: Buffer; offset: number };
const bytes = (e: Encoder) => Buffer.from(e.buf.subarray(0, e.offset));

const TEXTS = ["", "a", "90000001", "ë", "€uro", "日本語", "😀", "x".repeat(70)];

function randomArgs(r: () => number): ProduceArgs {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const value = () => (r() < 0.3 ? pick(TEXTS) : crypto.randomBytes(Math.floor(r() * 2_000)));
  const topics = 1 + Math.floor(r() * 3);
  return {
    acks: pick([-1, 0, 1]),
    timeout: pick([30_000, 1, 2 ** 31 - 1]),
    transactionalId: pick([null, undefined, "", "grondslag.gateway.tx.ëén", "tx"]),
    producerId: pick([undefined, Long.fromValue(-1), Long.fromValue(4242), Long.fromValue(2 ** 40 + 3)]),
    producerEpoch: pick([undefined, 0, 7, 32_767]),
    compression: Compression.None,
    topicData: Array.from({ length: topics }, (_, t) => ({
      topic: `${pick(TEXTS)}topic-${t}`,
      partitions: Array.from({ length: 1 + Math.floor(r() * 4) }, (_, p) => ({
        partition: p * 3 + Math.floor(r() * 3),
        ...(r() < 0.5 ? { firstSequence: Math.floor(r() * 2 ** 31) } : {}),
        messages: Array.from({ length: 1 + Math.floor(r() * 60) }, () => ({
          key: r() < 0.2 ? null : pick(TEXTS),
          value: r() < 0.05 ? null : value(),
          headers: r() < 0.3 ? {} : { "grondslag-event-id": crypto.randomUUID(), [pick(TEXTS)]: value() },
        })),
      })),
    })),
  };
}

/** Both encodings at the same instant (the record batch carries the time of the encoding). */
async function both(args: ProduceArgs) {
  const realNow = Date.now;
  const frozen = realNow();
  Date.now = () => frozen;
  try {
    const ours = produceRequest(args);
    const theirs = own.request!(args);
    return { ours, theirs, oursBytes: bytes(await ours.encode()), theirsBytes: bytes(await theirs.encode()) };
  } finally {
    Date.now = realNow;
  }
}

describe("kafkajs produce path (kafkajs-produce.ts)", () => {
  it("is what kafkajs' producers use in this process, and kafkajs' own is kept", () => {
    expect(kafkajsProduceInForce()).toBe(true);
    expect(require("kafkajs/src/protocol/requests/produce/v3/request.js")).toBe(produceRequest);
    expect(require("kafkajs/src/producer/groupMessagesPerPartition.js")).toBe(groupMessagesPerPartition);
    expect(typeof own.request).toBe("function");
    expect(typeof own.group).toBe("function");
  });

  it("writes the produce request kafkajs writes, byte for byte, for 400 random requests", async () => {
    const seed = 20261204;
    const r = rng(seed);
    for (let i = 0; i < 400; i++) {
      const args = randomArgs(r);
      const { ours, theirs, oursBytes, theirsBytes } = await both(args);
      expect({ ...ours, encode: undefined, expectResponse: ours.expectResponse() }).toEqual({
        ...theirs,
        encode: undefined,
        expectResponse: theirs.expectResponse(),
      });
      if (!oursBytes.equals(theirsBytes)) {
        const at = [...theirsBytes].findIndex((b, j) => oursBytes[j] !== b);
        expect.fail(
          `seed ${seed}, case ${i}: ${oursBytes.length} bytes against ${theirsBytes.length}, first at ${at}`,
        );
      }
    }
  });

  it("leaves compressed batches and messages with timestamps to kafkajs' own request: the same bytes", async () => {
    const r = rng(7);
    const compressed = { ...randomArgs(r), compression: Compression.GZIP };
    const stamped = randomArgs(r);
    stamped.topicData[0]!.partitions[0]!.messages[0]!.timestamp = "1733000000000";
    for (const args of [compressed, stamped]) {
      const { oursBytes, theirsBytes } = await both(args);
      expect(oursBytes.equals(theirsBytes)).toBe(true);
    }
  });

  it("CRC-32C: kafkajs' checksum for every length up to 300 and large buffers, and for any slice", () => {
    for (let n = 0; n <= 300; n++) {
      const b = crypto.randomBytes(n);
      expect(crc32c(b)).toBe(theirCrc(b));
    }
    const big = crypto.randomBytes(1 << 20);
    expect(crc32c(big)).toBe(theirCrc(big));
    expect(crc32c(big, 13, 70_001)).toBe(theirCrc(big.subarray(13, 70_001)));
    // The check value of the polynomial (RFC 3720, iSCSI): "123456789" → 0xE3069283.
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
  });

  it("murmur2: kafkajs' (and the Java client's) hash for 20,000 keys", () => {
    const r = rng(11);
    for (let i = 0; i < 20_000; i++) {
      const key =
        r() < 0.5 ? crypto.randomBytes(Math.floor(r() * 70)) : String(Math.floor(r() * 1e9)).padStart(8, "0");
      expect(murmur2(key)).toBe(theirMurmur2(key));
    }
    for (const text of TEXTS) expect(murmur2(text)).toBe(theirMurmur2(text));
  });

  it("partitions as kafkajs' default partitioner: by key, by the message's own partition, round-robin", () => {
    const metadata = (n: number, leaderless: number[] = []) =>
      Array.from({ length: n }, (_, i) => ({
        partitionId: i,
        leader: leaderless.includes(i) ? -1 : 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
      })) as PartitionMetadata[];
    const ours = createPartitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    const r = rng(3);
    for (let i = 0; i < 5_000; i++) {
      const partitionMetadata = metadata(1 + Math.floor(r() * 12));
      const message = { key: String(Math.floor(r() * 1e8)), value: null };
      expect(ours({ topic: "t", partitionMetadata, message })).toBe(
        theirs({ topic: "t", partitionMetadata, message }),
      );
    }
    expect(ours({ topic: "t", partitionMetadata: metadata(3), message: { value: "v", partition: 2 } })).toBe(
      2,
    );
    // Without key: every partition with a leader in turn, none without.
    const seen = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const p = ours({ topic: "u", partitionMetadata: metadata(6, [1, 4]), message: { value: "v" } });
      seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual([0, 2, 3, 5]);
    expect([...seen.values()]).toEqual([150, 150, 150, 150]);
  });

  it("groups messages by partition as kafkajs does, in order", () => {
    const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }];
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: String(i), value: String(i) }));
    const partitioner = ({ message }: { message: unknown }) => Number((message as { key: string }).key) % 3;
    const args = { topic: "t", partitionMetadata, messages, partitioner };
    expect(groupMessagesPerPartition(args)).toEqual(own.group!(args));
    expect(groupMessagesPerPartition({ ...args, partitionMetadata: [] })).toEqual({});
  });
});
