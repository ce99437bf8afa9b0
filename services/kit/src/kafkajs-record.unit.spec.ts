import crypto from "node:crypto";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { rng } from "./rng.fixture";
import {
  encodeRecord,
  kafkajsOwnRecordEncoder,
  kafkajsRecordEncoderInForce,
  type RecordInput,
} from "./kafkajs-record";

const require = createRequire(import.meta.url);
const own = kafkajsOwnRecordEncoder();
const bytes = (e: { buf: Buffer; offset: number }) => Buffer.from(e.buf.subarray(0, e.offset));

// Lengths around the varint boundaries (zig-zag doubles them: a byte holds lengths up to 63, two up to 8,191).
const LENGTHS = [0, 1, 63, 64, 65, 200, 8_191, 8_192, 8_193, 20_000];
const TEXTS = ["", "a", "90000001", "ë", "€uro", "日本語", "😀 emoji", "x".repeat(64), "é".repeat(40)];

function randomBytesLike(r: () => number): Buffer | string | null | undefined {
  const pick = r();
  if (pick < 0.1) return null;
  if (pick < 0.15) return undefined;
  if (pick < 0.5) return TEXTS[Math.floor(r() * TEXTS.length)]!.repeat(1 + Math.floor(r() * 3));
  const n = LENGTHS[Math.floor(r() * LENGTHS.length)]!;
  return crypto.randomBytes(n);
}

function randomRecord(r: () => number): RecordInput {
  const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
  const count = Math.floor(r() * 12);
  for (let i = 0; i < count; i++) {
    const name = `${TEXTS[Math.floor(r() * TEXTS.length)]}-${i}`;
    const value = () =>
      r() < 0.5 ? TEXTS[Math.floor(r() * TEXTS.length)]! : crypto.randomBytes(Math.floor(r() * 300));
    headers[name] = r() < 0.2 ? [value(), value(), value()] : value();
  }
  const deltas = [0, 1, -1, 63, 64, -64, -65, 2 ** 20, 2 ** 31 - 1, -(2 ** 31)];
  const stamps = [0, 1, -1, 999, -1000, 2 ** 31, 2 ** 40 + 7, -(2 ** 45), Number.MAX_SAFE_INTEGER];
  return {
    offsetDelta: r() < 0.5 ? Math.floor(r() * 1_000) : deltas[Math.floor(r() * deltas.length)]!,
    timestampDelta: r() < 0.5 ? Math.floor(r() * 10_000) : stamps[Math.floor(r() * stamps.length)]!,
    key: randomBytesLike(r),
    value: randomBytesLike(r),
    headers,
  };
}

describe("kafkajs record encoder (kafkajs-record.ts)", () => {
  it("is what kafkajs' producers use in this process, and kafkajs' own is kept", () => {
    expect(kafkajsRecordEncoderInForce()).toBe(true);
    expect(require("kafkajs/src/protocol/recordBatch/record/v0/index.js")).toBe(encodeRecord);
    expect(typeof own).toBe("function");
  });

  it("writes the bytes kafkajs' own encoder writes, for 3,000 records across every varint boundary", () => {
    const seed = 20261204;
    const r = rng(seed);
    let compared = 0;
    for (let i = 0; i < 3_000; i++) {
      const record = randomRecord(r);
      const ours = bytes(encodeRecord(record));
      const theirs = bytes(own!(record));
      // Buffer.equals, not a deep comparison (3,000 records of up to 40 KB): the first difference is in the message.
      if (!ours.equals(theirs)) {
        const at = [...theirs].findIndex((b, j) => ours[j] !== b);
        expect.fail(`seed ${seed}, case ${i}: ${ours.length} bytes against ${theirs.length}, first at ${at}`);
      }
      compared++;
    }
    expect(compared).toBe(3_000);
  });

  it("a canonical event's record: the same bytes, and an encoder kafkajs' record batch can copy", () => {
    const record: RecordInput = {
      key: "90000001",
      value: crypto.randomBytes(260),
      offsetDelta: 17,
      timestampDelta: 3,
      headers: {
        "grondslag-event-id": crypto.randomUUID(),
        "grondslag-topic": "arbo.accident-reported",
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      },
    };
    const ours = encodeRecord(record);
    expect(bytes(ours)).toEqual(bytes(own!(record)));
    // What RecordBatch's writeArray does with each record: an Encoder's `buffer`, exactly the record's bytes.
    const Encoder = require("kafkajs/src/protocol/encoder.js") as new () => {
      writeEncoder(e: unknown): { buffer: Buffer };
    };
    expect(ours).toBeInstanceOf(Encoder);
    expect(new Encoder().writeEncoder(ours).buffer).toEqual(bytes(own!(record)));
  });

  it("leaves what it does not expect to kafkajs' own encoder: the same bytes, or the same error", () => {
    const unusual: RecordInput[] = [
      { key: "k", value: "v", timestampDelta: 2 ** 60 },
      { key: "k", value: "v", headers: { n: 42 as unknown as string } },
      { key: 7 as unknown as string, value: "v" },
    ];
    for (const record of unusual) {
      let expected: Buffer | Error;
      try {
        expected = bytes(own!(record));
      } catch (err) {
        expected = err as Error;
      }
      if (expected instanceof Error) expect(() => encodeRecord(record)).toThrow(expected.message);
      else expect(bytes(encodeRecord(record))).toEqual(expected);
    }
  });
});
