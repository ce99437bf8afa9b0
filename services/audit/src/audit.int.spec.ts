import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { testStack } from "@grondslag/infra/test";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventRecords, isolatedAudit } from "./audit.fixture";
import { publicPart } from "./checkpoint";
import { AuditStore } from "./db";
import { createAudit, type AuditService } from "./service";
import { verifyChains } from "./verify";

const run = promisify(execFile);
const stack = testStack();
const REPO = new URL("../../../", import.meta.url).pathname;

async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("audit service: audit.log into PostgreSQL, append-only, hash-chained (real stack)", () => {
  let fx: Awaited<ReturnType<typeof isolatedAudit>>;
  let audit: AuditService;
  const sent: string[] = [];

  beforeAll(async () => {
    fx = await isolatedAudit(stack);
    audit = createAudit(fx.config, pino({ level: "warn" }));
    await audit.start();
  });
  afterAll(async () => {
    await audit?.stop();
    await fx?.cleanup();
  });

  const stored = () => audit.store.count();
  const storedIs = (n: number) =>
    until(`${n} records stored`, 30_000, async () => ((await stored()) === n ? n : undefined));

  it("stores every record once, also when it is delivered again", async () => {
    const batch = Array.from({ length: 50 }, () => eventRecords()).flat();
    await fx.send(batch);
    sent.push(...batch.map((r) => r.id));
    await storedIs(batch.length);
    await fx.send(batch.slice(0, 20));
    await until("the redelivery seen", 30_000, () => (audit.stats().skipped >= 20 ? true : undefined));
    expect(await stored()).toBe(batch.length);
  });

  it("sets aside a value that is no audit record, and goes on", async () => {
    await fx.sendRaw(Buffer.from('{"not":"avro"}'));
    const more = eventRecords();
    await fx.send(more);
    sent.push(...more.map((r) => r.id));
    await storedIs(sent.length);
    const rows = await until("the unreadable value set aside", 30_000, async () => {
      const r = await audit.store.pool.query<{ reason: string }>(
        `SELECT reason FROM ${fx.config.dbSchema}.unreadable`,
      );
      return r.rows.length > 0 ? r.rows : undefined;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.reason).toMatch(/not an audit record/);
  });

  it("the writer role cannot UPDATE or DELETE, and the trigger refuses the owner too", async () => {
    const s = fx.config.dbSchema;
    await expect(audit.store.pool.query(`UPDATE ${s}.records SET topic = 'x'`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(audit.store.pool.query(`DELETE FROM ${s}.records`)).rejects.toThrow(/permission denied/);
    await fx.owner(async (c) => {
      await expect(c.query(`UPDATE ${s}.records SET topic = 'x'`)).rejects.toThrow(/append-only: UPDATE/);
      await expect(c.query(`DELETE FROM ${s}.records`)).rejects.toThrow(/append-only: DELETE/);
      await expect(c.query(`TRUNCATE ${s}.records`)).rejects.toThrow(/append-only: TRUNCATE/);
    });
  });

  it("catches up after its PostgreSQL access was cut, losing nothing", async () => {
    const role = fx.config.writerRole;
    await fx.owner(async (c) => {
      await c.query(`ALTER ROLE ${role} NOLOGIN`);
      await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
    });
    const before = audit.stats().inserted;
    const during = Array.from({ length: 30 }, () => eventRecords()).flat();
    await fx.send(during);
    sent.push(...during.map((r) => r.id));
    // Observable: the database refuses the role, the worker retries the batch, nothing is stored meanwhile.
    const owner = new pg.Pool({ connectionString: fx.ownerUrl, max: 1 });
    const ownerStore = new AuditStore(owner, { schema: fx.config.dbSchema });
    try {
      const failures = audit.stats().storeFailures;
      await until("retries while PostgreSQL refuses", 30_000, () =>
        audit.stats().storeFailures >= failures + 3 ? true : undefined,
      );
      expect(audit.stats().inserted).toBe(before);
      await fx.owner((c) => c.query(`ALTER ROLE ${role} LOGIN`));
      await until("caught up", 60_000, async () =>
        (await ownerStore.count()) === sent.length ? true : undefined,
      );
    } finally {
      await owner.end();
    }
    const report = await audit.verify();
    expect(report.faults).toEqual([]);
  });

  describe("tamper evidence", () => {
    let publicKeyFile: string;
    const verifyCli = (args: string[]) =>
      run("npx", ["tsx", "services/audit/src/verify-cli.ts", ...args], {
        cwd: REPO,
        env: { ...process.env, AUDIT_DATABASE_URL: fx.ownerUrl, AUDIT_DB_SCHEMA: fx.config.dbSchema },
      }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );

    beforeAll(async () => {
      expect(await audit.checkpoint()).toBeDefined();
      publicKeyFile = join(tmpdir(), `${fx.config.dbSchema}.public.jwk.json`);
      writeFileSync(publicKeyFile, JSON.stringify(publicPart(fx.config.checkpointKey)));
    });

    /** Verification of the store as `tamper` left it, inside a transaction rolled back afterwards. */
    async function tampered(tamper: (c: pg.PoolClient, s: string) => Promise<unknown>) {
      const pool = new pg.Pool({ connectionString: fx.ownerUrl, max: 1 });
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        // The owner, around the service's role and the trigger: what an insider with the database could do.
        await c.query("SET LOCAL session_replication_role = replica");
        await tamper(c, fx.config.dbSchema);
        const store = new AuditStore(c as unknown as pg.Pool, { schema: fx.config.dbSchema });
        return await verifyChains(
          {
            partitions: () => store.partitions(),
            rows: (p) => store.partitionRows(p),
            checkpoints: () => store.checkpoints(),
          },
          publicPart(fx.config.checkpointKey),
        );
      } finally {
        await c.query("ROLLBACK");
        c.release();
        await pool.end();
      }
    }

    const row = async (c: pg.PoolClient, s: string, seq: number) =>
      (
        await c.query<{ id: string; partition: number }>(
          `SELECT id, partition FROM ${s}.records WHERE partition = 0 AND seq = $1`,
          [seq],
        )
      ).rows[0]!;

    it("live and from a dump, the untouched store verifies (signatures checked)", async () => {
      const live = await verifyCli(["--key", publicKeyFile]);
      expect(live.out).toMatch(/verified/);
      expect(live.code).toBe(0);
      const dump = join(tmpdir(), `${fx.config.dbSchema}.sql`);
      await run("pg_dump", ["--schema", fx.config.dbSchema, "-f", dump, fx.ownerUrl]);
      const offline = await verifyCli(["--dump", dump, "--key", publicKeyFile]);
      expect(offline.out).toMatch(new RegExp(`${sent.length} records`));
      expect(offline.code).toBe(0);
    });

    it("a changed row is named", async () => {
      const report = await tampered(async (c, s) => {
        const r = await row(c, s, 3);
        await c.query(`UPDATE ${s}.records SET recipient = 'someone-else' WHERE id = $1`, [r.id]);
        return r;
      });
      expect(report.ok).toBe(false);
      expect(report.faults[0]).toMatchObject({ kind: "altered", partition: 0, seq: 3 });
    });

    it("a changed row with its hash recomputed is caught by the next link", async () => {
      const report = await tampered(async (c, s) => {
        await c.query(`UPDATE ${s}.records SET hash = repeat('a', 64) WHERE partition = 0 AND seq = 2`);
      });
      expect(report.faults[0]).toMatchObject({ kind: "altered", partition: 0, seq: 2 });
    });

    it("a deleted row is named", async () => {
      const report = await tampered(async (c, s) => {
        await c.query(`DELETE FROM ${s}.records WHERE partition = 0 AND seq = 4`);
      });
      expect(report.faults[0]).toMatchObject({ kind: "deleted", partition: 0, seq: 4 });
      expect(report.faults[0]!.detail).toMatch(/position 4 is missing/);
    });

    it("two swapped rows are named", async () => {
      let moved = "";
      const report = await tampered(async (c, s) => {
        moved = (await row(c, s, 5)).id;
        await c.query(`UPDATE ${s}.records SET seq = -1 WHERE partition = 0 AND seq = 5`);
        await c.query(`UPDATE ${s}.records SET seq = 5 WHERE partition = 0 AND seq = 6`);
        await c.query(`UPDATE ${s}.records SET seq = 6 WHERE partition = 0 AND seq = -1`);
      });
      expect(report.faults[0]).toMatchObject({ kind: "reordered", partition: 0, seq: 5 });
      // The record now at 5 was 6: it still links to the one it followed, which the fault names (now at 6).
      expect(report.faults[0]!.detail).toContain(`it follows ${moved}, now at position 6`);
    });

    it("a deleted tail is caught by the signed checkpoint", async () => {
      const report = await tampered(async (c, s) => {
        await c.query(
          `DELETE FROM ${s}.records WHERE partition = 0 AND seq = (SELECT max(seq) FROM ${s}.records WHERE partition = 0)`,
        );
      });
      expect(report.faults[0]).toMatchObject({ kind: "truncated", partition: 0 });
    });

    it("npm run audit:verify fails live and from a dump, naming the deleted record, exit 1", async () => {
      await fx.owner(async (c) => {
        await c.query("SET session_replication_role = replica");
        await c.query(`DELETE FROM ${fx.config.dbSchema}.records WHERE partition = 1 AND seq = 2`);
      });
      const live = await verifyCli(["--key", publicKeyFile]);
      expect(live.code).toBe(1);
      expect(live.out).toMatch(/FAILED: partition 1: the record at position 2 is missing/);
      const dump = join(tmpdir(), `${fx.config.dbSchema}-tampered.sql`);
      await run("pg_dump", ["--schema", fx.config.dbSchema, "-f", dump, fx.ownerUrl]);
      const offline = await verifyCli(["--dump", dump, "--key", publicKeyFile]);
      expect(offline.code).toBe(1);
      expect(offline.out).toMatch(/FAILED: partition 1: the record at position 2 is missing/);
    });
  });
});
