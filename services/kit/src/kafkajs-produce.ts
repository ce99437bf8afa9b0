// kafkajs (2.2.4) builds a produce request by copying every record's bytes six times and more: into a record batch
// encoder that grows by doubling (a zero-filled buffer and a copy each time), into the batch, into the batch with
// its offset, into the partition's entry, the topic's, and the request's. It checksums the batch one byte at a
// time, hashes each key with a 64-bit Long object per step, and groups messages by partition by copying the
// partition's array for every message (quadratic in a flush). On the gateway's Kafka paths these were 12 % of the
// CPU with the garbage they leave (bench profile, `BENCH_PROFILE_DIR`).
//
// This module puts in kafkajs' place, with the same bytes and the same partitions:
// - the produce request (`kafkajs/src/protocol/requests/produce/v3/request.js`, which versions 4 to 7 reuse): each
//   record encoded once (kafkajs-record.ts), then the whole request body written into one exactly sized buffer,
//   the record batch's CRC-32C computed in place. Compressed batches go to kafkajs' own request, unchanged, and so
//   does a message with a timestamp of its own (the gateway sets none; kafkajs sorts those as strings).
// - the grouping of messages by partition (`kafkajs/src/producer/groupMessagesPerPartition.js`), in one pass.
// - `createPartitioner`, for `kafka.producer({ createPartitioner })`: kafkajs' default partitioner (Kafka's Java
//   one: murmur2 of the key), with the hash in 32-bit integer arithmetic.
// `kafkajs-produce.unit.spec.ts` checks each byte for byte (or partition for partition) against kafkajs' own.
import crypto from "node:crypto";
import { createRequire } from "node:module";
import type { ICustomPartitioner, PartitionerArgs } from "kafkajs";
import { patchKafkajsModule } from "./kafkajs-patch";
import { encodeRecord } from "./kafkajs-record";

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}
interface LongValue {
  getHighBits(): number;
  getLowBits(): number;
}
const Long = require("kafkajs/src/utils/long.js") as {
  fromValue(v: unknown): LongValue;
  fromInt(v: number): LongValue;
};
const Encoder = require("kafkajs/src/protocol/encoder.js") as { prototype: KafkajsEncoder };
const { Types: Compression } = require("kafkajs/src/protocol/message/compression/index.js") as {
  Types: { None: number };
};
const { Produce: PRODUCE_API_KEY } = require("kafkajs/src/protocol/requests/apiKeys.js") as {
  Produce: number;
};

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), eight bytes a step ("slicing by 8"): table k holds the
// CRC of a byte followed by k zero bytes.
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** CRC-32C of `buf` from `start` to `end`, unsigned (what a Kafka record batch carries). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = CRC_TABLES;
  let crc = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      t[7 * 256 + (lo & 0xff)]! ^
      t[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      t[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + buf[i + 4]!]! ^
      t[2 * 256 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Kafka's murmur2 (the Java client's `Utils.murmur2`), signed 32-bit, of a key's bytes (a string as UTF-8). */
export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last one to three bytes, highest first (the Java switch that falls through).
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) h = Math.imul(h ^ data[whole]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * kafkajs' DefaultPartitioner, the same partition for every message: the message's own partition if it names one,
 * else murmur2 of its key (the Java client's choice, so other clients agree), else round-robin over the partitions
 * that have a leader, from a random start per topic.
 */
export const createPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const count = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) return (murmur2(message.key) & 0x7fffffff) % count;
    let counter = counters.get(topic);
    if (counter === undefined) counter = crypto.randomBytes(4).readUInt32BE(0);
    counter = (counter + 1) | 0;
    counters.set(topic, counter);
    let available = 0;
    for (const p of partitionMetadata) if (p.leader >= 0) available++;
    if (available === 0) return (counter & 0x7fffffff) % count;
    let n = (counter & 0x7fffffff) % available;
    for (const p of partitionMetadata) if (p.leader >= 0 && n-- === 0) return p.partitionId;
    return (counter & 0x7fffffff) % count;
  };
};

type Grouped = Record<number, unknown[]>;
type GroupArgs = {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
};

/** kafkajs' grouping of a topic's messages by partition, in order, in one pass. */
export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupArgs) {
  const result: Grouped = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

interface ProduceMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, unknown>;
  timestamp?: number | string | null;
  partition?: number;
}
interface PartitionData {
  partition: number;
  messages: ProduceMessage[];
  firstSequence?: number;
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: PartitionData[] }[];
}
interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<KafkajsEncoder>;
}

// Produce request v3 (KIP-98) => transactional_id acks timeout [topic [partition record_set]], where record_set is
// one record batch (v2): base offset, length, leader epoch, magic 2, CRC-32C of what follows, attributes, last
// offset delta, first and max timestamp, producer id and epoch, first sequence, the records.
const BATCH_HEAD = 8 + 4 + 4 + 1 + 4; // base offset, length, leader epoch, magic, crc
const BATCH_BODY_HEAD = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4; // attributes … first sequence, record count
const TRANSACTIONAL = 16;

/** The request body kafkajs' produce v3 writes, in one buffer; `undefined` where it must be kafkajs' own. */
function encodeProduce(args: ProduceArgs, now: number): KafkajsEncoder | undefined {
  const { acks, timeout, topicData } = args;
  const transactionalId = args.transactionalId ?? null;
  const producerId = Long.fromValue(args.producerId ?? Long.fromInt(-1));
  const producerEpoch = args.producerEpoch ?? 0;
  const attributes = transactionalId ? TRANSACTIONAL : 0;
  const txnBytes = transactionalId === null ? 0 : Buffer.byteLength(transactionalId, "utf8");
  let size = 2 + txnBytes + 2 + 4 + 4;
  const encoded: { topicBytes: number; records: KafkajsEncoder[][] }[] = [];
  for (const { topic, partitions } of topicData) {
    const topicBytes = Buffer.byteLength(topic, "utf8");
    size += 2 + topicBytes + 4;
    const perPartition: KafkajsEncoder[][] = [];
    for (const { messages } of partitions) {
      if (messages.length === 0) return undefined;
      const records: KafkajsEncoder[] = [];
      size += 4 + 4 + BATCH_HEAD + BATCH_BODY_HEAD;
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i]!;
        if (message.timestamp !== null && message.timestamp !== undefined) return undefined;
        // Each field by name (what kafkajs' record encoder reads), not `{ ...message, offsetDelta }`: V8 takes a
        // slow path for a spread followed by properties the source lacks, ≈ 1 µs a record.
        const record = encodeRecord({
          key: message.key,
          value: message.value,
          headers: message.headers,
          offsetDelta: i,
          timestampDelta: 0,
        });
        records.push(record);
        size += record.offset;
      }
      perPartition.push(records);
    }
    encoded.push({ topicBytes, records: perPartition });
  }
  // Every byte is written below (the end is checked): a pooled buffer leaks nothing of what it held before.
  const buf = Buffer.allocUnsafe(size);
  let at = buf.writeInt16BE(transactionalId === null ? -1 : txnBytes, 0);
  if (transactionalId !== null) at += buf.write(transactionalId, at, txnBytes, "utf8");
  at = buf.writeInt16BE(acks, at);
  at = buf.writeInt32BE(timeout, at);
  at = buf.writeInt32BE(topicData.length, at);
  const stamp = Long.fromValue(now);
  topicData.forEach(({ topic, partitions }, t) => {
    const { topicBytes, records: perPartition } = encoded[t]!;
    at = buf.writeInt16BE(topicBytes, at);
    at += buf.write(topic, at, topicBytes, "utf8");
    at = buf.writeInt32BE(partitions.length, at);
    partitions.forEach(({ partition, firstSequence = 0 }, p) => {
      const records = perPartition[p]!;
      let recordBytes = 0;
      for (const r of records) recordBytes += r.offset;
      const batchBytes = BATCH_HEAD + BATCH_BODY_HEAD + recordBytes;
      at = buf.writeInt32BE(partition, at);
      at = buf.writeInt32BE(batchBytes, at);
      at = buf.writeInt32BE(0, at); // base offset (int64 0): the broker assigns offsets
      at = buf.writeInt32BE(0, at);
      at = buf.writeInt32BE(batchBytes - 12, at); // the length of what follows it
      at = buf.writeInt32BE(0, at); // partition leader epoch
      at = buf.writeInt8(2, at); // magic
      const crcAt = at;
      at += 4;
      const bodyStart = at;
      at = buf.writeInt16BE(attributes, at);
      at = buf.writeInt32BE(records.length - 1, at); // last offset delta
      for (let k = 0; k < 2; k++) {
        // first and max timestamp: the same, since no message brings its own
        at = buf.writeInt32BE(stamp.getHighBits(), at);
        at = buf.writeInt32BE(stamp.getLowBits(), at);
      }
      at = buf.writeInt32BE(producerId.getHighBits(), at);
      at = buf.writeInt32BE(producerId.getLowBits(), at);
      at = buf.writeInt16BE(producerEpoch, at);
      at = buf.writeInt32BE(firstSequence, at);
      at = buf.writeInt32BE(records.length, at);
      for (const r of records) at += r.buf.copy(buf, at, 0, r.offset);
      buf.writeUInt32BE(crc32c(buf, bodyStart, at), crcAt);
    });
  });
  if (at !== size) throw new Error(`the produce request wrote ${at} bytes of the ${size} it measured`);
  const e = Object.create(Encoder.prototype) as KafkajsEncoder;
  e.buf = buf;
  e.offset = size;
  return e;
}

/** kafkajs' produce request v3 (and so 4 to 7), its body in one buffer. */
export function produceRequest(args: ProduceArgs): ProduceRequest {
  const own = produce.original();
  const uncompressed = (args.compression ?? Compression.None) === Compression.None;
  if (!uncompressed && own) return own(args);
  return {
    apiKey: PRODUCE_API_KEY,
    apiVersion: 3,
    apiName: "Produce",
    expectResponse: () => args.acks !== 0,
    encode: async () => {
      const body = uncompressed ? encodeProduce(args, Date.now()) : undefined;
      if (body) return body;
      if (!own)
        throw new TypeError("a produce request kafkajs' own encoder is needed for, and it is not loaded");
      return own(args).encode();
    },
  };
}

const produce = patchKafkajsModule({
  name: "grondslag.kit.produceRequest",
  module: "kafkajs/src/protocol/requests/produce/v3/request.js",
  // Version 4's request keeps the v3 request it found when it was loaded (at a producer's first send), and 5 to 7
  // build on 4.
  dependent: "kafkajs/src/protocol/requests/produce/v4/request.js",
  replacement: produceRequest,
  warning:
    "kafkajs was loaded before @grondslag/kit: its producers keep their own produce request (slower, same bytes). " +
    "Import @grondslag/kit (or its kafkajs-produce module) before kafkajs.",
  code: "GRONDSLAG_KAFKAJS_PRODUCE",
});

const grouping = patchKafkajsModule({
  name: "grondslag.kit.groupMessagesPerPartition",
  module: "kafkajs/src/producer/groupMessagesPerPartition.js",
  dependent: "kafkajs/src/producer/sendMessages.js",
  replacement: groupMessagesPerPartition,
  warning:
    "kafkajs was loaded before @grondslag/kit: its producers keep their own grouping by partition (slower, same " +
    "result). Import @grondslag/kit (or its kafkajs-produce module) before kafkajs.",
  code: "GRONDSLAG_KAFKAJS_GROUPING",
});

/** kafkajs' own produce request and grouping (undefined where this module could not take their place). */
export function kafkajsOwnProduce() {
  return { request: produce.original(), group: grouping.original() };
}

/** Whether kafkajs' producers in this process use this module's produce request and grouping. */
export function kafkajsProduceInForce(): boolean {
  return produce.inForce() && grouping.inForce();
}
