// kafkajs (2.2.4) encodes each record header in an encoder of its own: a zero-filled 512-byte buffer per header,
// copied into the record's buffer afterwards. A canonical event carries seven headers and its COLLECT record more,
// so every published event cost some twenty such buffers: the record encoder was 17 % of the gateway's CPU on the
// HTTP batch path, its headers 8 %, and garbage collection 13 % (bench profile, `BENCH_PROFILE_DIR`).
//
// This module puts an encoder of the same bytes in kafkajs' place (`kafkajs/src/protocol/recordBatch/record/v0`),
// writing the headers straight into the record's one buffer, sized up front. The layout is Kafka's record format
// (v2 record batches, KIP-98): length, attributes, timestamp delta, offset delta, key, value, headers, each a
// zig-zag varint or varint-prefixed bytes. `kafkajs-record.unit.spec.ts` checks it byte for byte against kafkajs'
// own encoder. Like kafkajs-aborted, it must be evaluated before kafkajs loads its produce request module.
import { createRequire } from "node:module";
import { patchKafkajsModule } from "./kafkajs-patch";

const require = createRequire(import.meta.url);

/** kafkajs' Encoder as this module uses it: the bytes written are `buf` up to `offset`. */
interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}
interface EncoderClass {
  prototype: KafkajsEncoder;
}

type Bytes = Buffer | string | null | undefined;
export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Bytes;
  value?: Bytes;
  headers?: Record<string, unknown>;
}

const Encoder = require("kafkajs/src/protocol/encoder.js") as EncoderClass;

// Zig-zag (so small negative numbers stay short) and LEB128: seven bits a byte, low first, the high bit set on all
// but the last. In float arithmetic so that a 64-bit field (the timestamp delta) is exact for every safe integer.
const zigZag = (v: number) => (v >= 0 ? v * 2 : -v * 2 - 1);
function varSize(u: number): number {
  let n = 1;
  while (u >= 128) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}
function writeVar(buf: Buffer, at: number, u: number): number {
  while (u >= 128) {
    buf[at++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[at++] = u;
  return at;
}
/** A varint length and the bytes; -1 for null (as Kafka's record format has it). */
const bytesSize = (b: Buffer | string | null | undefined) => {
  if (b === null || b === undefined) return 1;
  const n = typeof b === "string" ? Buffer.byteLength(b, "utf8") : b.length;
  return varSize(n * 2) + n;
};
function writeBytes(buf: Buffer, at: number, b: Buffer | string | null | undefined): number {
  if (b === null || b === undefined) return writeVar(buf, at, 1);
  if (typeof b === "string") {
    const n = Buffer.byteLength(b, "utf8");
    at = writeVar(buf, at, n * 2);
    return at + buf.write(b, at, n, "utf8");
  }
  at = writeVar(buf, at, b.length * 2);
  b.copy(buf, at);
  return at + b.length;
}
const isBytes = (b: unknown): b is Buffer | string | null | undefined =>
  b === null || b === undefined || typeof b === "string" || Buffer.isBuffer(b);
const isSmallInt = (n: unknown): n is number =>
  typeof n === "number" && Number.isSafeInteger(n) && n >= -(2 ** 31) && n < 2 ** 31;

/**
 * One Kafka record (format v2), headers included, in one exactly sized buffer: the bytes kafkajs' own encoder
 * writes. What kafkajs takes but this does not expect (a timestamp delta that is no safe integer, a key, value or
 * header value that is neither a string nor a Buffer) goes to kafkajs' own encoder, so it behaves as before.
 */
export function encodeRecord(record: RecordInput): KafkajsEncoder {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = record;
  // Every value of a header given as an array is a header of its own, in order (as kafkajs does).
  const pairs: [string, Buffer | string][] = [];
  let usual =
    isSmallInt(offsetDelta) && Number.isSafeInteger(timestampDelta) && isBytes(key) && isBytes(value);
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    for (const each of Array.isArray(v) ? (v as unknown[]) : [v]) {
      if (typeof each === "string" || Buffer.isBuffer(each)) pairs.push([name, each]);
      else usual = false;
    }
  }
  // kafkajs' own, for what this does not expect (`patch` is set when this module loads, before any record is encoded).
  const own = patch.original();
  if (!usual && own) return own(record);
  if (!usual) throw new TypeError("a record kafkajs' own encoder is needed for, and it is not loaded");
  let headersSize = varSize(pairs.length * 2);
  for (const [name, v] of pairs) headersSize += bytesSize(name) + bytesSize(v);
  const ts = zigZag(timestampDelta);
  const od = zigZag(offsetDelta);
  const bodySize = 1 + varSize(ts) + varSize(od) + bytesSize(key) + bytesSize(value) + headersSize;
  const size = varSize(bodySize * 2) + bodySize;
  // Every byte is written below (checked at the end): a pooled buffer leaks nothing of what it held before.
  const buf = Buffer.allocUnsafe(size);
  let at = writeVar(buf, 0, bodySize * 2);
  buf[at++] = 0; // attributes: none are used in a record
  at = writeVar(buf, at, ts);
  at = writeVar(buf, at, od);
  at = writeBytes(buf, at, key);
  at = writeBytes(buf, at, value);
  at = writeVar(buf, at, pairs.length * 2);
  for (const [name, v] of pairs) {
    at = writeBytes(buf, at, name);
    at = writeBytes(buf, at, v);
  }
  if (at !== size) throw new Error(`encodeRecord wrote ${at} bytes of the ${size} it measured`);
  const e = Object.create(Encoder.prototype) as KafkajsEncoder;
  e.buf = buf;
  e.offset = size;
  return e;
}

const patch = patchKafkajsModule({
  name: "grondslag.kit.encodeRecord",
  module: "kafkajs/src/protocol/recordBatch/record/v0/index.js",
  // The produce request keeps the encoder it found when it was loaded (lazily, at a producer's first send).
  dependent: "kafkajs/src/protocol/requests/produce/v3/request.js",
  replacement: encodeRecord,
  warning:
    "kafkajs was loaded before @grondslag/kit: its producers keep their own record encoder (slower, same bytes). " +
    "Import @grondslag/kit (or its kafkajs-record module) before kafkajs.",
  code: "GRONDSLAG_KAFKAJS_RECORD",
});

/** kafkajs' own record encoder (undefined when this module could not take its place). */
export function kafkajsOwnRecordEncoder(): ((r: RecordInput) => KafkajsEncoder) | undefined {
  return patch.original();
}

/** Whether kafkajs' producers in this process encode records with `encodeRecord`. */
export function kafkajsRecordEncoderInForce(): boolean {
  return patch.inForce();
}
