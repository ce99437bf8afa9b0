import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import type { StackConfig } from "../config";
import { STATE_DIR } from "../paths";
import { portOpen, run, waitFor, type Progress } from "../proc";

/**
 * What a fault spec needs of the stack beyond its addresses: the broker(s) and the registry as processes it may
 * kill and start again. A private stack (`startPrivateStack`, one node or three) provides them: the fault specs take
 * the stack as a parameter, and never kill the stack the other specs share.
 */
export interface FaultStack {
  config: StackConfig;
  /** How many brokers the stack runs; `killBroker`/`startBroker` take an index below it. */
  brokers: number;
  /** SIGKILL of one broker process; resolves when it is gone. */
  killBroker(index?: number): Promise<void>;
  /** Starts that broker again on its data directory; resolves when it answers metadata requests. */
  startBroker(index?: number): Promise<void>;
  /** SIGKILL of the schema registry; resolves when it is gone. */
  killRegistry(): Promise<void>;
  /** Starts the registry again (its schemas are in PostgreSQL); resolves when it is ready. */
  startRegistry(): Promise<void>;
}

const PG_BIN = process.env.GRONDSLAG_FAULTS_PG_BIN ?? "/usr/lib/postgresql/15/bin";
/** Private PostgreSQL instances' data, under the stack's git-ignored state. */
export const FAULTS_PG_DIR = path.join(STATE_DIR, "faults-pg");

export interface PrivatePostgres {
  port: number;
  /** The superuser's URL of `database` on this instance. */
  url(database?: string): string;
  /** Is the server accepting connections. */
  running(): boolean;
  /** `pg_ctl stop -m immediate`: the server dies as in a crash (WAL recovery at the next start). */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops this instance and removes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server of the fault specs' own (never the machine's on 5432, which other sessions use), on `port`,
 * its data under `infra/.state/faults-pg/<port>` owned by the `postgres` user. Run as root: initdb and pg_ctl run
 * as `postgres` through `runuser`. Trust authentication on 127.0.0.1 only.
 */
export async function startPrivatePostgres(opts: {
  port: number;
  databases?: string[];
  progress?: Progress;
}): Promise<PrivatePostgres> {
  const progress = opts.progress ?? (() => {});
  if (await portOpen(opts.port))
    throw new Error(`port ${opts.port} is taken: choose another for the private PostgreSQL`);
  const dir = path.join(FAULTS_PG_DIR, String(opts.port));
  const data = path.join(dir, "data");
  const logFile = path.join(dir, "server.log");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const asPostgres = (cmd: string, args: string[]) => run("runuser", ["-u", "postgres", "--", cmd, ...args]);
  spawnSync("chown", ["-R", "postgres:postgres", dir]);
  progress(`initdb of a private PostgreSQL in ${dir} …`);
  await asPostgres(path.join(PG_BIN, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  fs.appendFileSync(
    path.join(data, "postgresql.conf"),
    [
      `port = ${opts.port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "max_connections = 200",
      "fsync = on",
      "",
    ].join("\n"),
  );
  let up = false;
  const url = (database = "postgres") => `postgres://postgres@127.0.0.1:${opts.port}/${database}`;
  async function start() {
    await asPostgres(path.join(PG_BIN, "pg_ctl"), ["-D", data, "-l", logFile, "-w", "-t", "60", "start"]);
    await waitFor(
      `the private PostgreSQL on ${opts.port}`,
      async () => {
        const c = new pg.Client({ connectionString: url() });
        await c.connect();
        await c.end();
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    up = true;
  }
  await start();
  const admin = new pg.Client({ connectionString: url() });
  await admin.connect();
  try {
    for (const db of opts.databases ?? []) await admin.query(`CREATE DATABASE ${db}`);
  } finally {
    await admin.end();
  }
  return {
    port: opts.port,
    url,
    running: () => up,
    async crash() {
      up = false;
      await asPostgres(path.join(PG_BIN, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    },
    start,
    async destroy() {
      if (fs.existsSync(path.join(data, "postmaster.pid"))) {
        await asPostgres(path.join(PG_BIN, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]).catch(() =>
          asPostgres(path.join(PG_BIN, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]),
        );
      }
      up = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
