import crypto from "node:crypto";
import type pg from "pg";

/** A producer's `Idempotency-Key`: keys are per producer, so two producers never share one. */
export interface IdempotencyKey {
  readonly producer: string;
  readonly key: string;
}

/** What the first publish under a key left behind: a retry with the same payload gets its receipt. */
export interface FirstPublish {
  readonly eventId: string;
  readonly payloadSha256: Buffer;
  readonly traceId: string;
}

/**
 * Where first publishes are kept. It must survive a restart (a retried POST must not publish twice), so it is not
 * memory; the gateway's is PostgreSQL (`pgIdempotencyStore`).
 */
export interface IdempotencyStore {
  /** The first publishes recorded under any of `keys`, by `idempotencyId(producer, key)`. */
  find(keys: readonly IdempotencyKey[]): Promise<Map<string, FirstPublish>>;
  /** Records first publishes; a key already recorded keeps its first. */
  record(entries: readonly (IdempotencyKey & FirstPublish & { readonly topic: string })[]): Promise<void>;
}

/** One string per producer and key, for maps. */
export const idempotencyId = (producer: string, key: string): string => `${producer}\n${key}`;

/** A deterministic event id for an idempotency key: a retry that raced its own first attempt gets the same id. */
export function eventIdFor(cmd: { producer: string; idempotencyKey: string | undefined }): string {
  if (!cmd.idempotencyKey) return crypto.randomUUID();
  const h = crypto.createHash("sha256").update(`${cmd.producer}\n${cmd.idempotencyKey}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50; // version 5-style (name-based, SHA)
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The `idempotency` table of the gateway's schema (created by `migrate`): one query per lookup or insert. */
export function pgIdempotencyStore(pool: pg.Pool, dbSchema: string): IdempotencyStore {
  return {
    async find(keys) {
      if (keys.length === 0) return new Map();
      const { rows } = await pool.query<{
        producer: string;
        key: string;
        event_id: string;
        payload_sha256: Buffer;
        trace_id: string;
      }>(
        `SELECT producer, key, event_id, payload_sha256, trace_id FROM ${dbSchema}.idempotency
          WHERE (producer, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [keys.map((k) => k.producer), keys.map((k) => k.key)],
      );
      return new Map(
        rows.map((r) => [
          idempotencyId(r.producer, r.key),
          { eventId: r.event_id, payloadSha256: r.payload_sha256, traceId: r.trace_id },
        ]),
      );
    },

    async record(entries) {
      if (entries.length === 0) return;
      await pool.query(
        `INSERT INTO ${dbSchema}.idempotency (producer, key, payload_sha256, event_id, topic, trace_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::uuid[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING`,
        [
          entries.map((e) => e.producer),
          entries.map((e) => e.key),
          entries.map((e) => e.payloadSha256),
          entries.map((e) => e.eventId),
          entries.map((e) => e.topic),
          entries.map((e) => e.traceId),
        ],
      );
    },
  };
}
