import type pg from "pg";
import type { Logger } from "pino";

/**
 * Upkeep of the gateway's `idempotency` table, which every publish writes twice (the reservation, then its
 * settlement, an UPDATE that leaves a dead row behind: `state` is in the pending-rows index, so it is never a
 * heap-only update).
 *
 * - **Retention.** A committed key is answered for `retentionMs` after its event was accepted (default 7 days), then
 *   deleted, in chunks. Pending keys are never deleted here: their outcome is settled by delivery or a takeover.
 * - **Dead rows.** Measured (bench, PostgreSQL 15 with `autovacuum = off`, as on the development machines): after
 *   907,000 dead rows HTTP batch publishing fell from 8,479 to 3,487 events/s and Kafka ingress from 6,269 to 3,993;
 *   one `VACUUM` brought both back. So once the table holds more dead rows than `vacuumAfterDeadRows` and a tenth of
 *   its live ones, the gateway vacuums it itself, whether or not autovacuum runs (autovacuum's default waits for a
 *   fifth). VACUUM takes no lock that stops reads or writes.
 *
 * One gateway at a time does this (an advisory lock; the others skip the round). Nothing here is on a request's path.
 */
export interface MaintenanceOptions {
  pool: pg.Pool;
  dbSchema: string;
  log: Logger;
  /** How long a committed idempotency key is kept (and a repeat answered with the first event). */
  retentionMs: number;
  /** Dead rows before a VACUUM (and at least a tenth of the live rows). */
  vacuumAfterDeadRows?: number;
  /** Rows deleted per statement, so no statement holds many row locks or runs for long. */
  purgeChunk?: number;
}

export interface MaintenanceRound {
  /** False when another gateway held the lock: this round did nothing. */
  ran: boolean;
  purged: number;
  vacuumed: boolean;
  deadRows: number;
  liveRows: number;
}

export const DEFAULT_RETENTION_MS = 7 * 24 * 3600_000;

export function createMaintenance(opts: MaintenanceOptions) {
  const { pool, dbSchema, log } = opts;
  if (!/^[a-z_][a-z0-9_]*$/.test(dbSchema)) throw new Error(`not a valid schema name: ${dbSchema}`);
  const table = `${dbSchema}.idempotency`;
  const lockName = `grondslag.gateway.maintenance.${dbSchema}`;
  const vacuumAfter = opts.vacuumAfterDeadRows ?? 50_000;
  const chunk = opts.purgeChunk ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let warnedAutovacuum = false;

  async function round(): Promise<MaintenanceRound> {
    const client = await pool.connect();
    try {
      // No round may hold a connection for long (a VACUUM behind a lock, say): this session's statements give up
      // after five minutes. Reset before the connection goes back to the pool, whose other users expect no limit.
      await client.query("SET statement_timeout = 300000");
      const { rows: lock } = await client.query<{ ok: boolean }>(
        "SELECT pg_try_advisory_lock(hashtext($1)) AS ok",
        [lockName],
      );
      if (!lock[0]?.ok) return { ran: false, purged: 0, vacuumed: false, deadRows: 0, liveRows: 0 };
      try {
        let purged = 0;
        for (;;) {
          const { rowCount } = await client.query(
            `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM ${table}
                WHERE created_at < now() - $1::float8 * interval '1 millisecond' AND state = 'committed'
                LIMIT $2::int))`,
            [opts.retentionMs, chunk],
          );
          purged += rowCount ?? 0;
          if ((rowCount ?? 0) < chunk) break;
        }
        if (purged > 0)
          log.info(
            { purged, retentionHours: opts.retentionMs / 3600_000 },
            "purged expired idempotency keys",
          );
        const { rows } = await client.query<{ dead: string; live: string; autovacuum: string }>(
          `SELECT coalesce(n_dead_tup, 0) AS dead, coalesce(n_live_tup, 0) AS live,
                  current_setting('autovacuum') AS autovacuum
             FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'idempotency'`,
          [dbSchema],
        );
        const deadRows = Number(rows[0]?.dead ?? 0);
        const liveRows = Number(rows[0]?.live ?? 0);
        if (rows[0]?.autovacuum === "off" && !warnedAutovacuum) {
          warnedAutovacuum = true;
          log.warn(
            { table },
            "PostgreSQL's autovacuum is off: the gateway vacuums its idempotency table itself once its dead " +
              "rows pile up (turn autovacuum on for every other table)",
          );
        }
        let vacuumed = false;
        if (deadRows >= vacuumAfter && deadRows >= liveRows / 10) {
          const started = Date.now();
          // Not in a transaction (VACUUM cannot be): a statement of its own on this connection.
          await client.query(`VACUUM (ANALYZE) ${table}`);
          vacuumed = true;
          log.info({ deadRows, liveRows, ms: Date.now() - started }, "vacuumed the idempotency table");
        }
        return { ran: true, purged, vacuumed, deadRows, liveRows };
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockName]);
      }
    } finally {
      await client.query("RESET statement_timeout").then(
        () => client.release(),
        (err: unknown) => client.release(err instanceof Error ? err : true),
      );
    }
  }

  const api = {
    /** One round now (tests, and the timer): at most one runs at a time in this process. */
    async runOnce(): Promise<MaintenanceRound> {
      while (running) await running.catch(() => {});
      const r = round();
      running = r;
      try {
        return await r;
      } finally {
        running = undefined;
      }
    },
    /** A round every `intervalMs`, the first one soon after start. A failed round is logged and retried next time. */
    start(intervalMs: number): void {
      if (intervalMs <= 0 || timer) return;
      const tick = () => {
        api
          .runOnce()
          .catch((err: unknown) => log.warn({ err }, "idempotency table upkeep failed; retried next round"))
          .finally(() => {
            if (timer) timer = setTimeout(tick, intervalMs).unref();
          });
      };
      timer = setTimeout(tick, Math.min(intervalMs, 5_000)).unref();
    },
    /** No more rounds; waits up to 5 s for one under way (shutdown is not held up by a long VACUUM). */
    async stop(): Promise<void> {
      const t = timer;
      timer = undefined;
      clearTimeout(t);
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([
        running?.catch(() => {}),
        new Promise((r) => (waited = setTimeout(r, 5_000).unref())),
      ]);
      clearTimeout(waited);
    },
  };
  return api;
}
