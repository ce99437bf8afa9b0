import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import type { StackConfig } from "../config";
import { readInfraEnv } from "../env";
import { kafkaRunning, startKafka, waitKafkaReady } from "../kafka";
import { STATE_DIR } from "../paths";
import { jdbc, registryDatabase } from "../postgres";
import { isAlive, portOpen, run, waitFor, type Progress } from "../proc";
import { registryRunning, startRegistry, waitRegistryReady } from "../registry";

/**
 * What a fault spec needs of the stack beyond its addresses: the broker(s) and the registry as processes it may
 * kill and start again. The native single-node stack is one implementation (`nativeFaultStack`); a private
 * multi-broker stack offers the same handles, so the fault specs take the stack as a parameter.
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

async function killAndWait(pid: number, what: string): Promise<void> {
  process.kill(pid, "SIGKILL");
  await waitFor(`${what} (pid ${pid}) to be gone`, () => Promise.resolve(isAlive(pid) ? undefined : true), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
}

/**
 * The native stack `infra:up` runs (one KRaft node, Apicurio), as fault handles: each kill is `kill -9` of the pid
 * the stack recorded, each start the same start `infra:up` does (same ports, same data directory).
 */
export function nativeFaultStack(config: StackConfig, progress: Progress = () => {}): FaultStack {
  const env = readInfraEnv();
  if (config.mode !== "native") throw new Error(`fault specs need the native stack, not ${config.mode}`);
  return {
    config,
    brokers: 1,
    async killBroker(index = 0) {
      if (index !== 0) throw new Error(`the native stack has one broker, not ${index + 1}`);
      const pid = kafkaRunning();
      if (pid === undefined) throw new Error("the stack's broker does not run");
      await killAndWait(pid, "the broker");
    },
    async startBroker(index = 0) {
      if (index !== 0) throw new Error(`the native stack has one broker, not ${index + 1}`);
      // A killed JVM's port can linger for a moment; startKafka refuses a taken port.
      await waitFor(
        "the broker's port to be free",
        async () => ((await portOpen(env.GRONDSLAG_KAFKA_PORT)) ? undefined : true),
        {
          timeoutMs: 30_000,
          intervalMs: 50,
        },
      );
      await startKafka(
        { port: env.GRONDSLAG_KAFKA_PORT, controllerPort: env.GRONDSLAG_KAFKA_CONTROLLER_PORT },
        progress,
      );
      await waitKafkaReady(config.kafka.brokers, config.kafka.admin, progress);
    },
    async killRegistry() {
      const pid = registryRunning();
      if (pid === undefined) throw new Error("the stack's registry does not run");
      await killAndWait(pid, "the registry");
    },
    async startRegistry() {
      await waitFor(
        "the registry's port to be free",
        async () => ((await portOpen(env.GRONDSLAG_REGISTRY_PORT)) ? undefined : true),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      await startRegistry(
        { port: env.GRONDSLAG_REGISTRY_PORT, managementPort: env.GRONDSLAG_REGISTRY_MANAGEMENT_PORT },
        jdbc(config.postgres, registryDatabase(config.postgres)),
        { java: env.GRONDSLAG_REGISTRY_JAVA, progress },
      );
      await waitRegistryReady(
        config.registry.url,
        config.registry.nativeUrl,
        config.registry.admin,
        progress,
      );
    },
  };
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
