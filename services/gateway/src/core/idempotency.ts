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
 * How long a reserved event may wait in the producer's queue before its Kafka transaction begins. One that waited
 * longer is not written (the caller gets 503 and retries): so every attempt's transaction begins within this long
 * of its reservation, which bounds when its outcome is settled.
 */
export const WRITE_START_MS = 10_000;
/** The gateway producer's transaction timeout: the coordinator aborts a transaction still open after it. */
export const TRANSACTION_TIMEOUT_MS = 30_000;
/**
 * When a reservation whose attempt never settled (its gateway died, or its commit's outcome was unknown) may be
 * taken over: its transaction began within WRITE_START_MS, and the coordinator ends any transaction open longer
 * than TRANSACTION_TIMEOUT_MS (checking every 10 s by Kafka's default), with 10 s to spare.
 */
export const TAKEOVER_AFTER_MS = WRITE_START_MS + TRANSACTION_TIMEOUT_MS + 20_000;

/** An earlier attempt's row: committed (the event is on its topic), or reserved by an attempt not settled yet. */
export type Prior = FirstPublish &
  (
    | { readonly state: "committed" }
    | {
        readonly state: "pending";
        /** The attempt that holds the reservation. */
        readonly attempt: string;
        readonly topic: string;
        /** Milliseconds since the reservation, by PostgreSQL's clock. */
        readonly ageMs: number;
        /** The owner's successor fenced its Kafka producer: its transaction is settled, committed or aborted. */
        readonly fenced: boolean;
      }
  );

/** A key to reserve for an attempt, with what a retry must match. */
export type Reservation = IdempotencyKey & FirstPublish & { readonly topic: string };

/** Who reserves: the attempt (one publish batch), and the gateway instance and process that write it. */
export interface Owner {
  readonly attempt: string;
  readonly instance: string;
  readonly incarnation: string;
}

/**
 * Where keys are reserved and their outcome kept. It must survive a restart (a retried POST must not publish twice),
 * so it is not memory; the gateway's is PostgreSQL (`pgIdempotencyStore`).
 *
 * A key is reserved (pending) before its event is written to Kafka, and settled after: committed on the broker's
 * ack, released when the write surely did not happen. A key whose attempt never settled stays pending; delivery
 * marks it committed when it reads the event from the canonical topic, and a retry may take it over once the
 * attempt's transaction is surely over and delivery has read past everything written to the topic (the publisher
 * decides that). So no two attempts under one key are ever both written.
 */
export interface IdempotencyStore {
  /**
   * Reserves `entries` for `owner`. The answer holds, by `idempotencyId(producer, key)`, `"reserved"` for each key
   * now this attempt's, or the earlier attempt's row. A key absent from it was reserved by a concurrent attempt at
   * the same moment (in progress).
   */
  reserve(owner: Owner, entries: readonly Reservation[]): Promise<Map<string, "reserved" | Prior>>;
  /** Takes over pending reservations from the attempts named; the ids of those now `owner`'s. */
  takeOver(
    owner: Owner,
    from: readonly (IdempotencyKey & { readonly attempt: string })[],
  ): Promise<Set<string>>;
  /** Settles `owner`'s reservations: `committed` written, `released` surely not written (the key is free again). */
  settle(
    owner: Owner,
    outcome: { committed: readonly IdempotencyKey[]; released: readonly IdempotencyKey[] },
  ): Promise<void>;
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

const keyArrays = (keys: readonly IdempotencyKey[]) => [keys.map((k) => k.producer), keys.map((k) => k.key)];

/** The `idempotency` table of the gateway's schema (created by `migrate`): one query per call. */
export function pgIdempotencyStore(pool: pg.Pool, dbSchema: string): IdempotencyStore {
  const t = `${dbSchema}.idempotency`;
  return {
    async reserve(owner, entries) {
      if (entries.length === 0) return new Map();
      // The main query's snapshot does not see the CTE's inserts: the rows it returns are the earlier attempts'.
      const { rows } = await pool.query<{
        mine: boolean;
        producer: string;
        key: string;
        event_id: string;
        payload_sha256: Buffer;
        trace_id: string;
        state: "pending" | "committed";
        attempt: string | null;
        topic: string;
        age_ms: number | null;
        fenced: boolean;
      }>(
        `WITH req AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::uuid[], $5::text[], $6::text[])
             AS r(producer, key, payload_sha256, event_id, topic, trace_id)
         ), ins AS (
           INSERT INTO ${t} (producer, key, payload_sha256, event_id, topic, trace_id,
                             state, attempt, instance, incarnation, reserved_at)
           SELECT producer, key, payload_sha256, event_id, topic, trace_id, 'pending', $7::uuid, $8, $9, now()
             FROM req
           ON CONFLICT DO NOTHING
           RETURNING producer, key
         )
         SELECT true AS mine, producer, key, NULL::uuid AS event_id, NULL::bytea AS payload_sha256,
                NULL AS trace_id, 'pending' AS state, NULL::uuid AS attempt, '' AS topic, NULL::float8 AS age_ms,
                false AS fenced
           FROM ins
         UNION ALL
         SELECT false, i.producer, i.key, i.event_id, i.payload_sha256, i.trace_id, i.state, i.attempt, i.topic,
                extract(epoch FROM now() - i.reserved_at) * 1000, i.fenced
           FROM ${t} i JOIN req USING (producer, key)`,
        [
          ...keyArrays(entries),
          entries.map((e) => e.payloadSha256),
          entries.map((e) => e.eventId),
          entries.map((e) => e.topic),
          entries.map((e) => e.traceId),
          owner.attempt,
          owner.instance,
          owner.incarnation,
        ],
      );
      const out = new Map<string, "reserved" | Prior>();
      for (const r of rows) {
        const id = idempotencyId(r.producer, r.key);
        if (r.mine) {
          out.set(id, "reserved");
          continue;
        }
        const first = { eventId: r.event_id, payloadSha256: r.payload_sha256, traceId: r.trace_id };
        out.set(
          id,
          r.state === "committed" || r.attempt === null
            ? { ...first, state: "committed" }
            : {
                ...first,
                state: "pending",
                attempt: r.attempt,
                topic: r.topic,
                ageMs: Number(r.age_ms ?? 0),
                fenced: r.fenced,
              },
        );
      }
      return out;
    },

    async takeOver(owner, from) {
      if (from.length === 0) return new Set();
      const { rows } = await pool.query<{ producer: string; key: string }>(
        `UPDATE ${t} i SET attempt = $4::uuid, instance = $5, incarnation = $6, reserved_at = now(), fenced = false
           FROM unnest($1::text[], $2::text[], $3::uuid[]) AS f(producer, key, attempt)
          WHERE i.producer = f.producer AND i.key = f.key AND i.attempt = f.attempt AND i.state = 'pending'
          RETURNING i.producer, i.key`,
        [...keyArrays(from), from.map((f) => f.attempt), owner.attempt, owner.instance, owner.incarnation],
      );
      return new Set(rows.map((r) => idempotencyId(r.producer, r.key)));
    },

    async settle(owner, { committed, released }) {
      if (committed.length === 0 && released.length === 0) return;
      await pool.query(
        `WITH done AS (
           UPDATE ${t} i SET state = 'committed'
             FROM unnest($1::text[], $2::text[]) AS c(producer, key)
            WHERE i.producer = c.producer AND i.key = c.key AND i.attempt = $5::uuid AND i.state = 'pending'
         )
         DELETE FROM ${t} i USING unnest($3::text[], $4::text[]) AS r(producer, key)
          WHERE i.producer = r.producer AND i.key = r.key AND i.attempt = $5::uuid AND i.state = 'pending'`,
        [...keyArrays(committed), ...keyArrays(released), owner.attempt],
      );
    },
  };
}

/**
 * Marks committed the pending reservations of events delivery read from a canonical topic (the attempt that wrote
 * them could not settle them: its gateway died after the commit, or the commit's answer was lost). Cheap: only
 * pending rows are indexed by event id, and there are few of them.
 */
export async function markCommitted(
  pool: pg.Pool,
  dbSchema: string,
  eventIds: readonly string[],
): Promise<void> {
  const ids = eventIds.filter((id) => UUID.test(id));
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE ${dbSchema}.idempotency SET state = 'committed'
      WHERE state = 'pending' AND event_id = ANY($1::uuid[])`,
    [ids],
  );
}

/**
 * Fences the reservations of earlier processes of `instance` (a restart under the same GATEWAY_INSTANCE_ID). Called
 * once this process's transactional producer has connected: its InitProducerId ended every transaction the earlier
 * ones left open, so their reservations are settled in Kafka and may be resolved without waiting.
 */
export async function fenceEarlierIncarnations(
  pool: pg.Pool,
  dbSchema: string,
  owner: Pick<Owner, "instance" | "incarnation">,
): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE ${dbSchema}.idempotency SET fenced = true
      WHERE state = 'pending' AND NOT fenced AND instance = $1 AND incarnation <> $2`,
    [owner.instance, owner.incarnation],
  );
  return rowCount ?? 0;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
