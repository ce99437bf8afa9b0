import type pg from "pg";

/**
 * The gateway's own state in PostgreSQL: idempotency keys and the disclosures already made. Both must survive a
 * restart (a retried POST or a redelivered canonical event must not publish or disclose twice), so neither may
 * live only in memory. Migrations are idempotent and run at start.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  // One statement list is one transaction; the lock keeps two gateways starting at once from racing on the DDL.
  await pool.query(`
    SELECT pg_advisory_xact_lock(hashtext('grondslag.gateway.migrate'));
    CREATE SCHEMA IF NOT EXISTS ${schema};
    CREATE TABLE IF NOT EXISTS ${schema}.idempotency (
      producer text NOT NULL,
      key text NOT NULL,
      payload_sha256 bytea NOT NULL,
      event_id uuid NOT NULL,
      topic text NOT NULL,
      trace_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (producer, key)
    );
    -- A key is reserved (pending) before its event is written and settled after (idempotency.ts). Rows from before
    -- reservations existed were written after the Kafka ack: committed.
    ALTER TABLE ${schema}.idempotency
      ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'committed',
      ADD COLUMN IF NOT EXISTS attempt uuid,
      ADD COLUMN IF NOT EXISTS instance text,
      ADD COLUMN IF NOT EXISTS incarnation text,
      ADD COLUMN IF NOT EXISTS reserved_at timestamptz,
      ADD COLUMN IF NOT EXISTS fenced boolean NOT NULL DEFAULT false;
    CREATE INDEX IF NOT EXISTS idempotency_pending_event ON ${schema}.idempotency (event_id)
      WHERE state = 'pending';
    -- The retention purge's range scan (maintenance.ts): rows are appended in time order, so it stays cheap.
    CREATE INDEX IF NOT EXISTS idempotency_created ON ${schema}.idempotency (created_at);
    CREATE TABLE IF NOT EXISTS ${schema}.disclosures (
      event_id uuid NOT NULL,
      recipient text NOT NULL,
      delivered_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (event_id, recipient)
    );
  `);
}
