/** The Confluent wire format the registry clients speak: magic byte 0, 4-byte big-endian schema id, Avro body. */
export function toWire(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0;
  out.writeInt32BE(schemaId, 1);
  body.copy(out, 5);
  return out;
}

export function fromWire(buf: Buffer): { schemaId: number; body: Buffer } | undefined {
  if (buf.length < 5 || buf[0] !== 0) return undefined;
  return { schemaId: buf.readInt32BE(1), body: buf.subarray(5) };
}

/** Kafka header names the gateway writes on canonical, delivery and rejected topics. */
export const H = {
  eventId: "grondslag-event-id",
  topic: "grondslag-topic",
  producer: "grondslag-producer",
  grondslag: "grondslag-legal-basis",
  purpose: "grondslag-purpose",
  traceparent: "traceparent",
  /** The registry id the value is encoded with (also in the wire bytes; a header lets tools route without parsing). */
  schemaId: "grondslag-schema-id",
  idempotencyKey: "grondslag-idempotency-key",
  reasonCode: "grondslag-reason-code",
  reasonDetail: "grondslag-reason-detail",
  reasonFix: "grondslag-reason-fix",
  reasonField: "grondslag-reason-field",
} as const;

export function header(
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
  name: string,
) {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}
