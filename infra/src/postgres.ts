import pg from "pg";
import type { StackConfig } from "./config";

/**
 * The PostgreSQL server is the machine's own (it runs before a session starts); the stack only makes sure the
 * project's databases exist. The registry keeps its schemas in `<database>_registry`, so schema ids survive restarts
 * as long as the Kafka data that refers to them does.
 */
export async function ensureDatabases(pgConfig: StackConfig["postgres"]): Promise<string[]> {
  const client = new pg.Client({ connectionString: pgConfig.url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${redact(pgConfig.url)}. Start it (on Debian: ` +
        `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set GRONDSLAG_PG_URL.`,
      { cause: err },
    );
  }
  try {
    const created: string[] = [];
    for (const db of [pgConfig.database, registryDatabase(pgConfig)]) {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [db]);
      if (rowCount === 0) {
        // Identifiers cannot be bound as parameters; env.ts restricts the name to [a-z0-9_].
        await client.query(`CREATE DATABASE "${db}"`);
        created.push(db);
      }
    }
    return created;
  } finally {
    await client.end();
  }
}

export const registryDatabase = (pgConfig: StackConfig["postgres"]) => `${pgConfig.database}_registry`;

export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
    return rows[0]?.server_version ?? "unknown";
  } finally {
    await client.end();
  }
}

/** JDBC wants host, port and database in its URL and the user apart. */
export function jdbc(pgConfig: StackConfig["postgres"], database: string) {
  const u = new URL(pgConfig.url);
  return {
    jdbcUrl: `jdbc:postgresql://${u.hostname}:${u.port || "5432"}/${database}`,
    username: decodeURIComponent(u.username || "postgres"),
    password: decodeURIComponent(u.password),
  };
}

export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
