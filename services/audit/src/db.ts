import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { GrondslagError } from "@grondslag/kit";
import { GENESIS, type ChainHead, type StoredRecord } from "./chain";

/**
 * The audit store in PostgreSQL. The database owner migrates (tables, the append-only trigger, the writer role and
 * its grants); the service runs as the writer role, which may INSERT and SELECT only. The trigger refuses UPDATE,
 * DELETE and TRUNCATE to everyone, the owner included, so a change needs a deliberate act around it (disabling the
 * trigger as owner), which the hash chains and signed checkpoints then expose.
 */

const IDENT = /^[a-z_][a-z0-9_]*$/;

export interface StoreNames {
  /** PostgreSQL schema of the audit tables (`audit`). */
  schema: string;
  /** The service's role: INSERT and SELECT only (`<database>_audit_writer`). */
  writerRole: string;
}

function check(names: StoreNames): void {
  for (const n of [names.schema, names.writerRole]) {
    if (!IDENT.test(n)) throw new Error(`not a valid PostgreSQL identifier: ${n}`);
  }
}

export const APPEND_ONLY_TABLES = ["records", "checkpoints", "queries", "unreadable"] as const;

/** Idempotent; run as the database owner. */
export async function migrate(owner: pg.Pool | pg.Client, names: StoreNames): Promise<void> {
  check(names);
  const s = names.schema;
  const w = names.writerRole;
  await owner.query(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${w}') THEN CREATE ROLE ${w} LOGIN; END IF;
    END $$;
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.records (
      partition int NOT NULL,
      seq bigint NOT NULL,
      kafka_offset bigint NOT NULL,
      id text NOT NULL UNIQUE,
      time_ms bigint NOT NULL,
      action text NOT NULL,
      topic text NOT NULL,
      event_id text NOT NULL,
      producer text NOT NULL,
      recipient text,
      grondslag text,
      purpose text,
      fields jsonb NOT NULL,
      reason_code text,
      reason_detail text,
      channel text NOT NULL,
      trace_id text NOT NULL,
      span_id text NOT NULL,
      schema_id int,
      subjects jsonb NOT NULL,
      prev_hash text NOT NULL,
      hash text NOT NULL,
      stored_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (partition, seq)
    );
    CREATE INDEX IF NOT EXISTS records_event ON ${s}.records (event_id);
    -- BRIN: records arrive in about time order, and a BRIN index costs next to nothing to keep up at ingest.
    CREATE INDEX IF NOT EXISTS records_time ON ${s}.records USING brin (time_ms);
    CREATE INDEX IF NOT EXISTS records_subjects ON ${s}.records USING gin (subjects jsonb_path_ops);
    CREATE TABLE IF NOT EXISTS ${s}.checkpoints (
      id bigserial PRIMARY KEY,
      created_at timestamptz NOT NULL DEFAULT now(),
      total bigint NOT NULL,
      jws text NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.queries (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      auditor text NOT NULL,
      token_id text,
      purpose text NOT NULL,
      query text NOT NULL,
      parameters jsonb NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.unreadable (
      partition int NOT NULL,
      kafka_offset bigint NOT NULL,
      reason text NOT NULL,
      value_base64 text,
      stored_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (partition, kafka_offset)
    );
    CREATE OR REPLACE FUNCTION ${s}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
      RAISE EXCEPTION 'the audit store is append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit records are evidence: never change or delete them; append a correction instead';
    END $f$;
    GRANT USAGE ON SCHEMA ${s} TO ${w};
  `);
  for (const t of APPEND_ONLY_TABLES) {
    await owner.query(`
      DROP TRIGGER IF EXISTS ${t}_append_only ON ${s}.${t};
      CREATE TRIGGER ${t}_append_only BEFORE UPDATE OR DELETE ON ${s}.${t}
        FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change();
      DROP TRIGGER IF EXISTS ${t}_no_truncate ON ${s}.${t};
      CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${s}.${t}
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change();
      REVOKE ALL ON ${s}.${t} FROM ${w};
      GRANT SELECT, INSERT ON ${s}.${t} TO ${w};
    `);
  }
  await owner.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${w}`);
}

export interface Row {
  partition: number;
  seq: string;
  kafka_offset: string;
  id: string;
  time_ms: string;
  action: string;
  topic: string;
  event_id: string;
  producer: string;
  recipient: string | null;
  grondslag: string | null;
  purpose: string | null;
  fields: string[];
  reason_code: string | null;
  reason_detail: string | null;
  channel: string;
  trace_id: string;
  span_id: string;
  schema_id: number | null;
  subjects: { type: string; pseudonym: string }[];
  prev_hash: string;
  hash: string;
}

export function fromRow(r: Row): StoredRecord {
  return {
    partition: r.partition,
    seq: Number(r.seq),
    kafkaOffset: String(r.kafka_offset),
    id: r.id,
    time: Number(r.time_ms),
    action: r.action,
    topic: r.topic,
    eventId: r.event_id,
    producer: r.producer,
    recipient: r.recipient,
    grondslag: r.grondslag,
    purpose: r.purpose,
    fields: r.fields,
    reasonCode: r.reason_code,
    reasonDetail: r.reason_detail,
    channel: r.channel,
    traceId: r.trace_id,
    spanId: r.span_id,
    schemaId: r.schema_id,
    subjects: r.subjects,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Any failure to store decoded records is the database's (away, refusing the role's login, a concurrent writer on
 * the same chain), never the records': the batch is retried until it is stored, and no valid audit record is ever
 * set aside.
 */
/**
 * SQLSTATEs that say a record's own data cannot be stored: a data exception (class 22: a character the encoding
 * lacks, a value out of range), a not-null or check constraint, a value over a limit (class 54: an index row too
 * large). Retrying such a record would hold its partition, and every later audit record, for good (a NUL in a
 * refused topic name did, before records made it storable): it is set aside instead. Anything else is the store's
 * or the operator's to fix (a lost connection, a missing grant, a full disk): held and retried, nothing set aside.
 */
const RECORD_FAULT = /^(22|23502|23514|54)/;

/** Whether `err` is PostgreSQL refusing a record for its own data (see RECORD_FAULT). */
export function isRecordFault(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && RECORD_FAULT.test(code);
}

/** A failed store call: a record fault is thrown as not retriable (set aside), anything else as UNAVAILABLE. */
function storeFailure(err: unknown): never {
  if (isRecordFault(err)) {
    throw GrondslagError.of(
      "INTERNAL",
      `the audit store cannot hold this record (SQLSTATE ${(err as { code: string }).code}: ${
        err instanceof Error ? err.message : String(err)
      })`,
      { cause: err, fix: "the record is kept in the unreadable table with its bytes; report it as a bug" },
    );
  }
  retriable(err);
}

function retriable(err: unknown): never {
  throw GrondslagError.of(
    "UNAVAILABLE",
    `the audit store did not take the batch (${err instanceof Error ? err.message : String(err)}): retried`,
    {
      cause: err,
      fix: "make PostgreSQL reachable for the audit service's role; ingest resumes where it stopped",
    },
  );
}

const COPY_SPECIAL = /[\\\t\n\r]/;

/** A value in COPY's text format: `\\N` for NULL; backslash, tab, newline and carriage return escaped. */
export function copyText(v: string | null): string {
  if (v === null) return "\\N";
  if (!COPY_SPECIAL.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

export class AuditStore {
  readonly s: string;
  constructor(
    /** A pool; verification also runs on one client (a transaction of a spec). */
    readonly pool: pg.Pool,
    names: Pick<StoreNames, "schema">,
  ) {
    if (!IDENT.test(names.schema)) throw new Error(`not a valid PostgreSQL identifier: ${names.schema}`);
    this.s = names.schema;
  }

  /**
   * Appends one partition's records in one transaction: those whose id is stored already are skipped (a
   * redelivery), the rest extend the chain from its stored head. `build` gets the head and the new records and
   * returns the rows to insert (multi-row, through unnest).
   */
  async append<T extends { id: string }>(
    partition: number,
    records: T[],
    build: (head: ChainHead, fresh: T[]) => StoredRecord[],
  ): Promise<{ inserted: number; skipped: number }> {
    const client = await this.pool.connect().catch(retriable);
    // A checked-out client emits a lost server's 'error' itself (the pool watches only idle ones): without a
    // listener PostgreSQL going away mid-batch is an uncaught exception (test/faults, postgres-down, found the same
    // in the agency runtime). The query in flight fails too; the batch is retried.
    let broken = false;
    const onError = () => {
      broken = true;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const head = await this.headOf(client, partition);
      const ids = records.map((r) => r.id);
      const known = new Set(
        (
          await client.query<{ id: string }>(`SELECT id FROM ${this.s}.records WHERE id = ANY($1::text[])`, [
            ids,
          ])
        ).rows.map((r) => r.id),
      );
      const fresh: T[] = [];
      for (const r of records) {
        if (known.has(r.id)) continue;
        known.add(r.id);
        fresh.push(r);
      }
      const rows = build(head, fresh);
      if (rows.length > 0) await this.insertRows(client, rows);
      await client.query("COMMIT");
      return { inserted: rows.length, skipped: records.length - rows.length };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      storeFailure(err);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  async headOf(q: pg.ClientBase | pg.Pool, partition: number): Promise<ChainHead> {
    const { rows } = await q.query<{ seq: string; hash: string }>(
      `SELECT seq, hash FROM ${this.s}.records WHERE partition = $1 ORDER BY seq DESC LIMIT 1`,
      [partition],
    );
    const top = rows[0];
    return top
      ? { partition, count: Number(top.seq), hash: top.hash }
      : { partition, count: 0, hash: GENESIS };
  }

  /** Every partition's head, as the stored rows give it (the checkpoint signs these). */
  async heads(): Promise<ChainHead[]> {
    const { rows } = await this.pool.query<{ partition: number; seq: string; hash: string }>(
      `SELECT DISTINCT ON (partition) partition, seq, hash FROM ${this.s}.records ORDER BY partition, seq DESC`,
    );
    return rows.map((r) => ({ partition: r.partition, count: Number(r.seq), hash: r.hash }));
  }

  /** One COPY for the batch: the fastest way into PostgreSQL, and one round trip. */
  private async insertRows(client: pg.PoolClient, rows: StoredRecord[]): Promise<void> {
    const lines = rows.map((r) =>
      [
        String(r.partition),
        String(r.seq),
        r.kafkaOffset,
        copyText(r.id),
        String(r.time),
        copyText(r.action),
        copyText(r.topic),
        copyText(r.eventId),
        copyText(r.producer),
        copyText(r.recipient),
        copyText(r.grondslag),
        copyText(r.purpose),
        copyText(JSON.stringify(r.fields)),
        copyText(r.reasonCode),
        copyText(r.reasonDetail),
        copyText(r.channel),
        copyText(r.traceId),
        copyText(r.spanId),
        r.schemaId === null ? "\\N" : String(r.schemaId),
        copyText(JSON.stringify(r.subjects)),
        r.prevHash,
        r.hash,
      ].join("\t"),
    );
    const stream = client.query(
      copyFrom(
        `COPY ${this.s}.records (partition, seq, kafka_offset, id, time_ms, action, topic, event_id, producer,
           recipient, grondslag, purpose, fields, reason_code, reason_detail, channel, trace_id, span_id, schema_id,
           subjects, prev_hash, hash) FROM STDIN`,
      ),
    );
    await pipeline(Readable.from([`${lines.join("\n")}\n`]), stream);
  }

  async unreadable(partition: number, offset: string, reason: string, value: Buffer | null): Promise<void> {
    await this.pool
      .query(
        `INSERT INTO ${this.s}.unreadable (partition, kafka_offset, reason, value_base64) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [partition, offset, reason.slice(0, 1024), value ? value.toString("base64") : null],
      )
      .catch(retriable);
  }

  /** One partition's rows in chain order, streamed in pages (verification). */
  async *partitionRows(partition: number, pageSize = 5000): AsyncGenerator<StoredRecord> {
    let after = 0;
    for (;;) {
      const { rows } = await this.pool.query<Row>(
        `SELECT * FROM ${this.s}.records WHERE partition = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [partition, after, pageSize],
      );
      for (const r of rows) yield fromRow(r);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async partitions(): Promise<number[]> {
    const { rows } = await this.pool.query<{ partition: number }>(
      `SELECT DISTINCT partition FROM ${this.s}.records ORDER BY partition`,
    );
    return rows.map((r) => r.partition);
  }

  async addCheckpoint(total: number, jws: string): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.s}.checkpoints (total, jws) VALUES ($1, $2)`, [total, jws]);
  }

  async checkpoints(limit = 100): Promise<{ id: number; createdAt: string; total: number; jws: string }[]> {
    const { rows } = await this.pool.query<{ id: string; created_at: Date; total: string; jws: string }>(
      `SELECT id, created_at, total, jws FROM ${this.s}.checkpoints ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      createdAt: r.created_at.toISOString(),
      total: Number(r.total),
      jws: r.jws,
    }));
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.s}.records`);
    return Number(rows[0]?.n ?? 0);
  }
}
