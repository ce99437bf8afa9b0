import { isTransient as kitTransient } from "@grondslag/kit";
import pg from "pg";

/**
 * The runtime's own tables, in the service's schema beside its state tables:
 *
 * - `inbox`: one row per event id handled. The row is written in the same transaction as the handler's state
 *   changes and outbox rows, so an event either has all its effects or none, and a redelivered event (a crash after
 *   commit but before the offset or cursor was committed, a replay, a second gateway) finds its row and changes
 *   nothing.
 * - `outbox`: what the service publishes, written in that same transaction and published after commit with the row's
 *   id as idempotency key, so a crash between the commit and the publication, or between the publication and its
 *   bookkeeping, neither loses the event nor publishes it twice (the gateway answers a repeated key with the first
 *   event). The gateway's verdict is kept on the row: `published` (HTTP: accepted, with the event id), `sent` (Kafka
 *   ingress: the broker has it; a refusal arrives later on `rejected.<party>`), `refused` (code and detail), or
 *   `failed` (the SDK could not even encode it: a bug, never retried).
 * - `dead_letters`: one row per event parked in `deadletter.<party>`, with the reason; no payload (that is in the
 *   topic, which only the party reads). Replay marks it.
 */
export function runtimeMigrations(s: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.inbox (
       event_id text PRIMARY KEY,
       topic text NOT NULL,
       producer text NOT NULL,
       handled_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.outbox (
       seq bigserial PRIMARY KEY,
       id uuid NOT NULL UNIQUE,
       topic text NOT NULL,
       value jsonb NOT NULL,
       grondslag text NOT NULL,
       purpose text NOT NULL,
       kafka_key text,
       traceparent text,
       caused_by text,
       state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'published', 'refused', 'failed')),
       attempts int NOT NULL DEFAULT 0,
       event_id text,
       refusal_code text,
       refusal_detail text,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX IF NOT EXISTS outbox_pending ON ${s}.outbox (seq) WHERE state = 'pending'`,
    `CREATE TABLE IF NOT EXISTS ${s}.dead_letters (
       event_id text PRIMARY KEY,
       topic text NOT NULL,
       reason text NOT NULL,
       attempts int NOT NULL DEFAULT 1,
       parked_at timestamptz NOT NULL DEFAULT now(),
       replayed_at timestamptz,
       replay_outcome text
     )`,
  ];
}

/** A schema name the service may use unquoted: lower-case letters, digits and underscores. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Worth trying again as it is: the database or the bus was away, or two transactions collided. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  // 40001 serialization failure, 40P01 deadlock: the same transaction succeeds when run again.
  if (code === "40001" || code === "40P01") return true;
  return kitTransient(err);
}

export type Query = <R extends pg.QueryResultRow = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<R[]>;

export class Store {
  readonly pool: pg.Pool;

  constructor(
    databaseUrl: string,
    readonly schema: string,
    max = 3,
  ) {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`"${schema}" is not a usable schema name`);
    this.pool = new pg.Pool({ connectionString: databaseUrl, max });
    // An idle client that loses its server emits here; without a listener it would crash the process.
    this.pool.on("error", () => undefined);
  }

  /** Runs the runtime's and the service's migrations, in one transaction under an advisory lock (two instances). */
  async migrate(serviceMigrations: readonly string[]): Promise<void> {
    await this.transaction(async (q) => {
      await q("SELECT pg_advisory_xact_lock(hashtext($1))", [`grondslag.agency.${this.schema}`]);
      for (const sql of [...runtimeMigrations(this.schema), ...serviceMigrations]) await q(sql);
    });
  }

  /** One transaction: committed when `fn` resolves, rolled back when it throws. */
  async transaction<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client is no longer the pool's to watch: a server that goes away mid-transaction emits 'error'
    // on the client itself, an uncaught exception without a listener (PostgreSQL stopping crashed the agency:
    // test/faults, postgres-down). The query in flight fails too, so the transaction is retried as transient.
    let broken = false;
    const onError = () => {
      broken = true;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const q: Query = async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) =>
        (await client.query<R>(sql, params)).rows;
      const result = await fn(q);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  query: Query = async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) =>
    (await this.pool.query<R>(sql, params)).rows;

  async close(): Promise<void> {
    await this.pool.end();
  }
}
