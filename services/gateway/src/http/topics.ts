/** Public topic names: lower-case, dotted (`arbo.accident-reported`). */
const PUBLIC_TOPIC = /^[a-z]+(\.[a-z-]+)+$/;

/** Kafka topics only the gateway touches; a caller naming one gets the same answer as for a made-up name. */
const INTERNAL_PREFIXES = ["events.", "deliver.", "ingress.", "rejected.", "audit."];

export function isPublicTopicName(name: string): boolean {
  return name.length <= 100 && PUBLIC_TOPIC.test(name) && !INTERNAL_PREFIXES.some((p) => name.startsWith(p));
}
