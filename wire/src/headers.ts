/**
 * Header names on the wire. Three sets, because three audiences write them:
 * - `HTTP_HEADERS`: what a party sends with an HTTP call (the OpenAPI document is the reference);
 * - `INGRESS_HEADERS`: what a party sets on a record it produces to `ingress.<party>`;
 * - `BUS_HEADERS`: what the gateway writes on canonical, delivery and rejected records.
 */
export const HTTP_HEADERS = {
  grondslag: "Grondslag",
  purpose: "Doelbinding",
  idempotencyKey: "Idempotency-Key",
  traceparent: "traceparent",
  lastEventId: "Last-Event-ID",
  apiVersion: "API-Version",
} as const;

export const INGRESS_HEADERS = {
  topic: "grondslag-topic",
  grondslag: "grondslag",
  purpose: "doelbinding",
  idempotencyKey: "idempotency-key",
  traceparent: "traceparent",
} as const;

export const BUS_HEADERS = {
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

export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined;

/** A Kafka header's first value as text, or undefined when absent. */
export function header(headers: KafkaHeaders, name: string): string | undefined {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}
