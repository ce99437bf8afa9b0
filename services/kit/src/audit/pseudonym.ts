import crypto from "node:crypto";
import { describeFields, rawSchema, type DataSubject, type Topic } from "@grondslag/schemas";

/**
 * Keyed pseudonyms: HMAC-SHA256 over `<type>:<value>`. Without the key nobody can test a guessed BSN against the log
 * (a BSN has only ~10^8 valid values, so a plain hash would be reversible). The audit service holds the same key
 * to answer "who received data about person X" (AVG art. 15).
 */
export class Pseudonymiser {
  private readonly key: Buffer;
  constructor(key: Buffer) {
    if (key.length < 32) throw new Error("the pseudonym key must be at least 32 bytes");
    this.key = key;
  }
  pseudonym(type: DataSubject["type"], value: string): string {
    return crypto.createHmac("sha256", this.key).update(`${type}:${value}`).digest("base64url");
  }
}

const identifierPaths = new Map<Topic, { path: string[]; type: DataSubject["type"] }[]>();

function pathsFor(topic: Topic) {
  let paths = identifierPaths.get(topic);
  if (!paths) {
    paths = describeFields(rawSchema(topic)).flatMap((f) =>
      f.identifier === "bsn" || f.identifier === "kvk"
        ? [{ path: f.path.split("."), type: f.identifier }]
        : [],
    );
    identifierPaths.set(topic, paths);
  }
  return paths;
}

/** Every value at a dotted path, looking through arrays and maps (which add no path segment). */
export function valuesAt(value: unknown, path: readonly string[]): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, path));
  if (path.length === 0) return [value];
  if (typeof value !== "object") return [];
  const [head, ...rest] = path;
  const obj = value as Record<string, unknown>;
  if (head !== undefined && head in obj) return valuesAt(obj[head], rest);
  // A map's values: no path segment of their own.
  return Object.values(obj).flatMap((v) => (typeof v === "object" ? valuesAt(v, path) : []));
}

/** Pseudonyms of the persons (BSN) and companies (KvK) an event is about, deduplicated. */
export function subjectsOf(topic: Topic, event: unknown, p: Pseudonymiser): DataSubject[] {
  const seen = new Map<string, DataSubject>();
  for (const { path, type } of pathsFor(topic)) {
    for (const v of valuesAt(event, path)) {
      if (typeof v !== "string" || v === "") continue;
      const pseudonym = p.pseudonym(type, v);
      seen.set(`${type}:${pseudonym}`, { type, pseudonym });
    }
  }
  return [...seen.values()];
}
