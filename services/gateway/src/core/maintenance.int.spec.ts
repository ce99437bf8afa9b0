import { databaseUrl } from "@grondslag/infra";
import { dropDbSchema, testStack, uniqueDbSchema } from "@grondslag/infra/test";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "./db";
import { createMaintenance } from "./maintenance";

const stack = testStack();
const DAY = 24 * 3600_000;

/** Polls `probe` until it holds, or fails naming `what` after `ms`. */
async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("upkeep of the idempotency table (real PostgreSQL)", () => {
  const schema = uniqueDbSchema("maint");
  const pool = new pg.Pool({ connectionString: databaseUrl(stack.postgres), max: 4 });
  const t = `${schema}.idempotency`;
  const stats = async () => {
    const { rows } = await pool.query<{ dead: string; vacuums: string }>(
      `SELECT n_dead_tup AS dead, vacuum_count + autovacuum_count AS vacuums
         FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'idempotency'`,
      [schema],
    );
    return { dead: Number(rows[0]?.dead ?? 0), vacuums: Number(rows[0]?.vacuums ?? 0) };
  };
  /** `n` rows of `state`, accepted `ageMs` ago, under keys `<prefix>-<i>`. */
  const insert = (prefix: string, n: number, state: "pending" | "committed", ageMs: number) =>
    pool.query(
      `INSERT INTO ${t} (producer, key, payload_sha256, event_id, topic, trace_id, created_at, state, attempt)
       SELECT 'uitlener.90000001', $1 || '-' || i, '\\x00', gen_random_uuid(), 'arbo.accident-reported',
              md5(i::text), now() - $2::float8 * interval '1 millisecond', $3, gen_random_uuid()
         FROM generate_series(1, $4::int) AS i`,
      [prefix, ageMs, state, n],
    );
  /** The upkeep of this spec's schema, a week's retention, its own log silent. */
  const upkeep = (opts: Partial<Parameters<typeof createMaintenance>[0]> = {}) =>
    createMaintenance({
      pool,
      dbSchema: schema,
      log: pino({ level: "silent" }),
      retentionMs: 7 * DAY,
      ...opts,
    });
  const count = async (where: string) =>
    Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${t} WHERE ${where}`)).rows[0]?.n);

  beforeAll(async () => {
    await migrate(pool, schema);
  });
  afterAll(async () => {
    await pool.end();
    await dropDbSchema(stack, schema);
  });

  it("purges committed keys past the retention in chunks, keeps recent and pending ones, and vacuums once dead rows pile up", async () => {
    const { rows: indexes } = await pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'idempotency'",
      [schema],
    );
    // The purge's range scan: without it every round would read the whole table.
    expect(indexes.map((i) => i.indexname)).toContain("idempotency_created");
    await insert("old", 2_500, "committed", 8 * DAY);
    await insert("recent", 300, "committed", 3600_000);
    await insert("stuck", 40, "pending", 8 * DAY);
    const m = upkeep({ purgeChunk: 1_000, vacuumAfterDeadRows: 2_000 });

    // No dead rows yet: the purge alone (three chunks), no VACUUM.
    const first = await m.runOnce();
    expect(first).toMatchObject({ ran: true, purged: 2_500, vacuumed: false });
    expect(await count("key LIKE 'old-%'")).toBe(0);
    expect(await count("key LIKE 'recent-%'")).toBe(300);
    // A pending key's outcome is settled by delivery or a takeover, never by age.
    expect(await count("key LIKE 'stuck-%'")).toBe(40);

    // What settling publishes leaves behind: an UPDATE per key, a dead row each.
    await insert("live", 3_000, "pending", 0);
    const settler = await pool.connect();
    try {
      await settler.query(`UPDATE ${t} SET state = 'committed' WHERE key LIKE 'live-%'`);
      // Statistics reach pg_stat_user_tables when a session reports them: this one now, not in up to 10 s.
      await settler.query("SELECT pg_stat_force_next_flush()");
    } finally {
      settler.release();
    }
    await until("the dead rows in the statistics", 30_000, async () => (await stats()).dead >= 3_000);
    const before = await stats();
    const second = await m.runOnce();
    expect(second.ran).toBe(true);
    expect(second.vacuumed).toBe(true);
    expect(second.deadRows).toBeGreaterThanOrEqual(3_000);
    await until("the VACUUM in the statistics", 30_000, async () => (await stats()).vacuums > before.vacuums);
    expect(await count("true")).toBe(300 + 40 + 3_000);
    await m.stop();
  });

  it("skips a round while another gateway holds the upkeep lock, and runs once it is free", async () => {
    await insert("expired", 10, "committed", 8 * DAY);
    const m = upkeep();
    const other = await pool.connect();
    try {
      await other.query("SELECT pg_advisory_lock(hashtext($1))", [`grondslag.gateway.maintenance.${schema}`]);
      expect(await m.runOnce()).toMatchObject({ ran: false, purged: 0 });
      expect(await count("key LIKE 'expired-%'")).toBe(10);
      await other.query("SELECT pg_advisory_unlock(hashtext($1))", [
        `grondslag.gateway.maintenance.${schema}`,
      ]);
    } finally {
      other.release();
    }
    expect(await m.runOnce()).toMatchObject({ ran: true, purged: 10 });
    expect(await count("key LIKE 'expired-%'")).toBe(0);
  });
});
