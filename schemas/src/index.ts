import type avro from "avsc";
import { typeForSchema, type AvroRecordSchema } from "./avro";
import { KEY_FIELD } from "./conventions";
import { recordSchemas, schemas, topics } from "./generated/schemas";
import type { Topic, TopicMap } from "./generated/types";

export * from "./avro";
export * from "./generated/types";
export { recordSchemas, topics };
export { exampleEvent } from "./examples";
export { checkSchema, KEY_FIELD, NAMESPACE_PREFIX, TIME_FIELD } from "./conventions";
export { describeFields, hasFieldPath, namedTypes, unwrap, type FieldInfo } from "./fields";
export {
  identifierProblems,
  identifierValidators,
  isValidBsn,
  isValidGemeentecode,
  isValidKvk,
  type IdentifierProblem,
} from "./identifiers";

const topicSet: ReadonlySet<string> = new Set(topics);

export function isTopic(value: string): value is Topic {
  return topicSet.has(value);
}

/** Freezes a value and everything reachable from it (parsed contracts and schemas are read-only data). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The topic's schema as written in `schemas/avro/<topic>.avsc`, `x-` attributes included (frozen). */
export function rawSchema(topic: Topic): AvroRecordSchema {
  return deepFreeze(schemas[topic]);
}

const types = new Map<Topic, avro.Type>();

/** The topic's parsed Avro type (our logical types, unwrapped nullable unions); parsed once, then cached. */
export function loadSchema(topic: Topic): avro.Type {
  let type = types.get(topic);
  if (!type) {
    type = typeForSchema(rawSchema(topic));
    types.set(topic, type);
  }
  return type;
}

/** Avro binary of an event, checked against the topic's schema (throws when the value does not fit). */
export function encodeEvent<T extends Topic>(topic: T, value: TopicMap[T]): Buffer {
  return loadSchema(topic).toBuffer(value);
}

/** Decodes an event written with the topic's current schema. */
export function decodeEvent<T extends Topic>(topic: T, buffer: Buffer): TopicMap[T] {
  return loadSchema(topic).fromBuffer(buffer) as TopicMap[T];
}

/** The Kafka key of an event: its subject company's KvK number, so one company's events stay in order. */
export function partitionKey<T extends Topic>(_topic: T, value: TopicMap[T]): string {
  return value[KEY_FIELD];
}
