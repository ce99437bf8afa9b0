/**
 * Topic names, both ways. A public topic is `<domain>.<event>` (two dotted segments, kebab-case), the name parties
 * use over HTTP and in the `grondslag-topic` header. On Kafka it lives under names only the gateway writes:
 *
 * | Kafka topic                  | holds                                                     | written by      |
 * | ---------------------------- | --------------------------------------------------------- | --------------- |
 * | `ingress.<party>`            | what a party produces natively, unchecked                 | the party       |
 * | `events.<topic>`             | the canonical, checked event                              | gateway         |
 * | `deliver.<party>.<topic>`    | one consumer's projected view                             | gateway         |
 * | `rejected.<party>`           | a party's refused ingress records, the reason in headers  | gateway         |
 * | `audit.log`                  | one audit record per COLLECT, DISCLOSE and REJECT         | gateway, others |
 * | `deadletter.<party>`         | deliveries the party's own service could not handle       | the party       |
 *
 * Registry subjects follow the TopicNameStrategy: `<kafka topic>-value`.
 */

/** `<domain>.<event>`: two segments of lower-case kebab-case words. */
export const PUBLIC_TOPIC = /^[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*$/;
/** Party ids: `uwv`, `gemeente.0363`, `uitlener.12345678` (a kind, optionally `.` and a number or code). */
export const PARTY_ID = /^[a-z]+(?:-[a-z]+)*(?:\.[a-z0-9-]+)?$/;

export const AUDIT_TOPIC = "audit.log";
export const CANONICAL_PREFIX = "events.";
export const DELIVERY_PREFIX = "deliver.";
export const INGRESS_PREFIX = "ingress.";
export const REJECTED_PREFIX = "rejected.";
export const DEADLETTER_PREFIX = "deadletter.";
/** Prefixes of the Kafka topics the gateway owns; a public name never starts with one. */
export const INTERNAL_PREFIXES = [
  CANONICAL_PREFIX,
  DELIVERY_PREFIX,
  INGRESS_PREFIX,
  REJECTED_PREFIX,
  DEADLETTER_PREFIX,
  "audit.",
] as const;

const MAX_NAME = 100;

/** Is `name` a well-formed public topic name (not necessarily one in the catalogue)? */
export function isPublicTopicName(name: string): boolean {
  return (
    name.length <= MAX_NAME && PUBLIC_TOPIC.test(name) && !INTERNAL_PREFIXES.some((p) => name.startsWith(p))
  );
}

export const canonicalTopic = (topic: string): string => `${CANONICAL_PREFIX}${topic}`;
export const ingressTopic = (party: string): string => `${INGRESS_PREFIX}${party}`;
export const rejectedTopic = (party: string): string => `${REJECTED_PREFIX}${party}`;
/** A party's own dead letters: deliveries its service could not handle, with the reason (read and written by it alone). */
export const deadLetterTopic = (party: string): string => `${DEADLETTER_PREFIX}${party}`;
export const deliveryTopic = (party: string, topic: string): string => `${DELIVERY_PREFIX}${party}.${topic}`;
/** The registry subject of a Kafka topic's values (TopicNameStrategy). */
export const subjectOf = (kafkaTopic: string): string => `${kafkaTopic}-value`;
/** The Kafka topic a `<topic>-value` subject names, or undefined for another subject. */
export const topicOfSubject = (subject: string): string | undefined =>
  subject.endsWith("-value") ? subject.slice(0, -"-value".length) : undefined;

/** What a Kafka topic name means: the inverse of the functions above. */
export type KafkaTopicName =
  | { kind: "canonical"; topic: string }
  | { kind: "ingress"; party: string }
  | { kind: "rejected"; party: string }
  | { kind: "delivery"; party: string; topic: string }
  | { kind: "deadletter"; party: string }
  | { kind: "audit" };

/**
 * Parses a Kafka topic name, or undefined when it is none of ours. A delivery topic's public topic is its last two
 * segments (public names have exactly two), so a party id may itself contain a dot.
 */
export function parseKafkaTopic(name: string): KafkaTopicName | undefined {
  if (name === AUDIT_TOPIC) return { kind: "audit" };
  const rest = (prefix: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : undefined);
  const canonical = rest(CANONICAL_PREFIX);
  if (canonical !== undefined)
    return PUBLIC_TOPIC.test(canonical) ? { kind: "canonical", topic: canonical } : undefined;
  const ingress = rest(INGRESS_PREFIX);
  if (ingress !== undefined) return PARTY_ID.test(ingress) ? { kind: "ingress", party: ingress } : undefined;
  const rejected = rest(REJECTED_PREFIX);
  if (rejected !== undefined)
    return PARTY_ID.test(rejected) ? { kind: "rejected", party: rejected } : undefined;
  const dead = rest(DEADLETTER_PREFIX);
  if (dead !== undefined) return PARTY_ID.test(dead) ? { kind: "deadletter", party: dead } : undefined;
  const delivery = rest(DELIVERY_PREFIX);
  if (delivery !== undefined) {
    const segments = delivery.split(".");
    if (segments.length < 3) return undefined;
    const topic = segments.slice(-2).join(".");
    const party = segments.slice(0, -2).join(".");
    return PUBLIC_TOPIC.test(topic) && PARTY_ID.test(party) ? { kind: "delivery", party, topic } : undefined;
  }
  return undefined;
}

/** Throws unless `name` is the kind of Kafka topic expected; returns its parts. */
export function expectKafkaTopic<K extends KafkaTopicName["kind"]>(
  name: string,
  kind: K,
): Extract<KafkaTopicName, { kind: K }> {
  const parsed = parseKafkaTopic(name);
  if (parsed?.kind !== kind) throw new Error(`"${name}" is not a ${kind} topic`);
  return parsed as Extract<KafkaTopicName, { kind: K }>;
}
