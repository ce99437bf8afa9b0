import type pg from "pg";

/**
 * The gateway's own state in PostgreSQL: idempotency keys and the disclosures already made. Both must survive a
 * restart (a retried POST or a redelivered canonical event must not publish or disclose twice), so neither may
 * live only in memory. Migrations are idempotent and run at start.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  await pool.query(`
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
    CREATE TABLE IF NOT EXISTS ${schema}.disclosures (
      event_id uuid NOT NULL,
      recipient text NOT NULL,
      delivered_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (event_id, recipient)
    );
  `);
}
