// `npm run audit:verify`: recomputes every hash chain of the audit store and checks every signed checkpoint, live
// (the service's database) or offline from a plain-format pg_dump. Names the first altered, deleted or reordered
// record and exits 1; 0 when everything verifies; 2 on a usage error.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { JWK } from "jose";
import pg from "pg";
import { publicPart } from "./checkpoint";
import { AuditStore } from "./db";
import { dumpSource } from "./dump";
import { verifyChains, type VerifySource } from "./verify";

const USAGE = `usage: npm run audit:verify -- [--dump <pg_dump.sql>] [--key <checkpoint public JWK file>] [--json]
  live:    AUDIT_DATABASE_URL, AUDIT_DB_SCHEMA (default audit)
  key:     --key, or AUDIT_CHECKPOINT_PUBLIC_KEY / AUDIT_CHECKPOINT_KEY (a JWK; its public part is used)`;

function keyFrom(args: { key?: string | undefined }): JWK | undefined {
  const text = args.key
    ? readFileSync(args.key, "utf8")
    : (process.env.AUDIT_CHECKPOINT_PUBLIC_KEY ?? process.env.AUDIT_CHECKPOINT_KEY);
  return text ? publicPart(JSON.parse(text) as JWK) : undefined;
}

function databaseUrl(): string {
  const url = process.env.AUDIT_DATABASE_URL;
  if (!url) {
    throw new Error(
      "set AUDIT_DATABASE_URL to the audit database (npm start prints it), or verify a dump with --dump <file>",
    );
  }
  return url;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { dump: { type: "string" }, key: { type: "string" }, json: { type: "boolean" } },
    }).values;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const key = keyFrom(args);
  let source: VerifySource;
  let close = async () => {};
  let where: string;
  if (args.dump) {
    source = dumpSource(readFileSync(args.dump, "utf8"));
    where = `dump ${args.dump}`;
  } else {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
    close = () => pool.end();
    const store = new AuditStore(pool, { schema: process.env.AUDIT_DB_SCHEMA ?? "audit" });
    source = {
      partitions: () => store.partitions(),
      rows: (p) => store.partitionRows(p),
      checkpoints: () => store.checkpoints(1_000_000),
    };
    where = `database schema ${store.s}`;
  }
  try {
    const report = await verifyChains(source, key);
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      process.stdout.write(
        `${where}: ${report.records} records in ${report.heads.length} partitions, ${report.checkpoints.checked} checkpoints checked${key ? "" : " (no key given: signatures NOT checked)"}\n`,
      );
      const first = report.faults[0];
      if (first) {
        process.stdout.write(`FAILED: ${first.detail}\n`);
        for (const f of report.faults.slice(1)) process.stdout.write(`  also: ${f.detail}\n`);
      } else process.stdout.write("verified: every chain and every checkpoint signature holds\n");
    }
    return report.ok ? 0 : 1;
  } finally {
    await close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`audit:verify: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
