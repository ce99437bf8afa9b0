/** What a value looks like as JSON: dates and timestamps are ISO-8601 strings. */
export type JsonForm<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? JsonForm<U>[]
    : T extends object
      ? { [K in keyof T]: JsonForm<T[K]> }
      : T;

/** A consumer receives only the fields its contract allows: any field, at any depth, may be absent. */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A delivered event's value: the JSON form of the topic's event, projected to the fields you may receive. */
export type Projected<T> = DeepPartial<JsonForm<T>>;

/**
 * The topics a client knows: public topic name → the topic's event type, e.g. `{ "arbo.accident-reported":
 * AccidentReported }` (a `Record<string, unknown>`; an interface such as the generated `TopicMap` works too).
 */
export type TopicTypes = object;

/** One delivered event, the same shape on every path (long poll, stream, Kafka). */
export interface Delivery<T> {
  eventId: string;
  topic: string;
  /** The party that published it. */
  producer: string;
  /** The legal basis under which you receive it. */
  grondslag: string;
  purpose: string;
  /** W3C trace context of the delivery, when the path carries one (Kafka does; see the README for HTTP). */
  traceparent: string | undefined;
  value: Projected<T>;
  /** Where to commit up to (HTTP: the cursor; Kafka: `<partition>:<offset>`). */
  cursor: string;
}

export interface PublishOptions {
  /** The legal basis (`Grondslag`), an id from the contracts. */
  grondslag: string;
  /** The purpose (`Doelbinding`). */
  purpose: string;
  /** Makes retries safe; generated (a UUID) when absent and reused on every retry. */
  idempotencyKey?: string;
  /** W3C trace context to continue; a new trace otherwise. */
  traceparent?: string;
}

export interface PublishReceipt {
  eventId: string;
  topic: string;
  /** True when an earlier call with the same idempotency key already published this event. */
  duplicate: boolean;
  traceId: string;
  /** The key sent (yours, or the generated one). */
  idempotencyKey: string;
}
