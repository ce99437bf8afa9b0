import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import type { StackConfig } from "./config";
import { readInfraEnv, type InfraEnv } from "./env";
import {
  kafkaNodeLogs,
  kafkaNodeRunning,
  runningKafka,
  startKafkaNode,
  waitKafkaReady,
  type KafkaLayout,
  type KafkaPorts,
} from "./kafka";
import { kafkaClient } from "./client";
import { jdbc, registryDatabase } from "./postgres";
import { isAlive, waitFor, type Progress } from "./proc";
import { STATE_DIR } from "./paths";
import {
  registryRunning,
  startRegistry,
  stopRegistry,
  waitRegistryReady,
  type RegistryPorts,
} from "./registry";
import { downStack, upStack, type StackSpec } from "./stack";

/** Where private stacks live: `infra/.state/stacks/<name>/` (git-ignored, like the default stack's state). */
export const PRIVATE_STACKS_DIR = path.join(STATE_DIR, "stacks");

export interface PrivateStackOptions {
  /** Lower-case letters, digits and dashes; names the state dir and the PostgreSQL databases. */
  name: string;
  /** 1 (default) or 3 KRaft nodes. */
  brokers?: 1 | 3;
  /** Fixed ports; default free ones the OS hands out (a node has two, the registry two). */
  ports?: { kafka: KafkaPorts[]; registry: RegistryPorts };
  progress?: Progress;
  /** PostgreSQL server and registry Java, from the environment by default. */
  env?: InfraEnv;
}

/**
 * A stack of its own for fault specs: its own state dir, ports and databases, the same SASL, ACL and registry
 * set-up as `infra:up`. Brokers are indexed from 0 in the order of `config.kafka.brokers`; broker i is KRaft node i + 1.
 */
export interface PrivateStack {
  name: string;
  stateDir: string;
  config: StackConfig;
  /** Where `contracts:apply` (applyContracts) keeps this stack's SCRAM passwords. */
  credentialsFile: string;
  brokers: number;
  /** The index of the broker with KRaft node id `nodeId` (as metadata names leaders). */
  brokerIndex(nodeId: number): number;
  /** Each broker's pid, undefined for one that is down. */
  brokerPids(): (number | undefined)[];
  /** `kill -9` of broker i; resolves with its pid once the process is gone. */
  killBroker(i?: number): Promise<number>;
  /** Starts broker i again on the same data dir and ports; resolves once it is registered (`waitBrokerReady`). */
  startBroker(i?: number): Promise<void>;
  /** Resolves once broker i answers the super user itself and the cluster lists it with a controller. */
  waitBrokerReady(i?: number, timeoutMs?: number): Promise<void>;
  /**
   * Resolves once every partition of every topic has its full replica set in sync (a restarted broker has caught
   * up), with the milliseconds it waited.
   */
  waitInSync(timeoutMs?: number): Promise<number>;
  /** `kill -9` of the registry; resolves with its pid once the process is gone. */
  killRegistry(): Promise<number>;
  /** Starts the registry again (schemas are in PostgreSQL); resolves when it is ready. */
  startRegistry(): Promise<void>;
  /** Stops what this stack started (every node, the registry); drops its state dir and databases unless `keep`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;

/**
 * Private stacks take ports from 20000-27999: below the kernel's ephemeral range (32768-60999), so a client's
 * outgoing connection cannot hold a killed broker's port when it starts again, and clear of the fixed ports the
 * stacks of `infra:up` use (x8080-x8081, x9092-x9093, x9100-x9103).
 */
const PRIVATE_PORTS = { from: 20_000, to: 28_000 };

/**
 * The kernel's ephemeral port range (`[low, high]`, both included), from which it picks the local port of every
 * outgoing connection: Linux's default when /proc does not say.
 */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = fs
      .readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux, or no /proc: the default below
  }
  return [32_768, 60_999];
}

function listenOn(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(undefined));
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
}

/** `n` distinct free loopback ports from the private range, all held open until each is known. */
export async function freePorts(n: number): Promise<number[]> {
  const held: net.Server[] = [];
  try {
    for (let attempt = 0; held.length < n; attempt++) {
      if (attempt > 1000)
        throw new Error(`no ${n} free ports in ${PRIVATE_PORTS.from}-${PRIVATE_PORTS.to - 1}`);
      const port = PRIVATE_PORTS.from + Math.floor(Math.random() * (PRIVATE_PORTS.to - PRIVATE_PORTS.from));
      const s = await listenOn(port);
      if (s) held.push(s);
    }
    return held.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

async function pgQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function killAndWait(pid: number, what: string): Promise<number> {
  process.kill(pid, "SIGKILL");
  await waitFor(`${what} (pid ${pid}) to be gone`, () => Promise.resolve(isAlive(pid) ? undefined : true), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
  return pid;
}

/**
 * Brings up a fresh private stack named `name` (what an earlier one of that name left, processes included, is
 * stopped and removed first). Nothing is provisioned: run `applyContracts(catalogue, stack.config,
 * { credentialsFile: stack.credentialsFile, dryRun: false })`. Stop it with `stop()`.
 */
export async function startPrivateStack(opts: PrivateStackOptions): Promise<PrivateStack> {
  if (!NAME.test(opts.name)) {
    throw new Error(
      `a private stack's name is lower-case letters, digits and dashes, not ${JSON.stringify(opts.name)}`,
    );
  }
  const env = opts.env ?? readInfraEnv();
  const progress = opts.progress ?? (() => {});
  const brokers = opts.brokers ?? 1;
  const stateDir = path.join(PRIVATE_STACKS_DIR, opts.name);
  const database = `grondslag_stack_${opts.name.replace(/-/g, "_")}`;
  const postgres = { url: env.GRONDSLAG_PG_URL, database };

  // A fresh start: what an earlier run of this name left (it may have crashed before its stop()).
  await removeStack(stateDir, postgres, progress);

  const ports = opts.ports ?? (await defaultPorts(brokers));
  if (ports.kafka.length !== brokers)
    throw new Error(`ports for ${ports.kafka.length} nodes given, ${brokers} asked`);
  const layout: KafkaLayout = { stateDir, nodes: ports.kafka.map((p, i) => ({ id: i + 1, ...p })) };
  const spec: StackSpec = {
    stateDir,
    kafka: layout,
    registry: ports.registry,
    postgres,
    registryJava: env.GRONDSLAG_REGISTRY_JAVA,
  };
  progress(`private stack ${opts.name}: ${brokers} node(s) on ${layout.nodes.map((n) => n.port).join(", ")}`);
  let config: StackConfig;
  try {
    ({ config } = await upStack(spec, progress));
  } catch (err) {
    await downStack(stateDir, progress);
    throw err;
  }
  const node = (i: number) => {
    const n = layout.nodes[i];
    if (!n) throw new Error(`private stack ${opts.name} has brokers 0..${brokers - 1}, not ${i}`);
    return n;
  };
  const stack: PrivateStack = {
    name: opts.name,
    stateDir,
    config,
    credentialsFile: path.join(stateDir, "credentials.json"),
    brokers,
    brokerIndex(nodeId) {
      const i = layout.nodes.findIndex((n) => n.id === nodeId);
      if (i < 0) throw new Error(`private stack ${opts.name} has no node ${nodeId}`);
      return i;
    },
    brokerPids: () => layout.nodes.map((n) => kafkaNodeRunning(layout, n.id)),
    async killBroker(i = 0) {
      const pid = kafkaNodeRunning(layout, node(i).id);
      if (pid === undefined) throw new Error(`broker ${i} of private stack ${opts.name} does not run`);
      return killAndWait(pid, `broker ${i}`);
    },
    async startBroker(i = 0) {
      await startKafkaNode(layout, node(i).id, progress);
      await stack.waitBrokerReady(i);
    },
    async waitBrokerReady(i = 0, timeoutMs = 90_000) {
      const n = node(i);
      await waitKafkaReady([`127.0.0.1:${n.port}`], config.kafka.admin, progress, {
        nodeId: n.id,
        timeoutMs,
        logs: kafkaNodeLogs(layout, n.id),
      });
    },
    async waitInSync(timeoutMs = 120_000) {
      const started = Date.now();
      await waitFor(
        `every replica of private stack ${opts.name} in sync`,
        async () => {
          const admin = kafkaClient(config.kafka, undefined, { retries: 0, connectionTimeout: 2000 }).admin();
          await admin.connect();
          try {
            const { topics } = await admin.fetchTopicMetadata();
            const lagging = topics.flatMap((t) =>
              t.partitions.filter((p) => p.leader < 0 || p.isr.length < p.replicas.length),
            );
            return lagging.length === 0 ? true : undefined;
          } finally {
            await admin.disconnect();
          }
        },
        { timeoutMs, intervalMs: 200, progress },
      );
      return Date.now() - started;
    },
    async killRegistry() {
      const pid = registryRunning(stateDir);
      if (pid === undefined) throw new Error(`the registry of private stack ${opts.name} does not run`);
      return killAndWait(pid, "the registry");
    },
    async startRegistry() {
      await startRegistry(spec.registry, jdbc(postgres, registryDatabase(postgres)), {
        java: spec.registryJava,
        progress,
        stateDir,
      });
      await waitRegistryReady(
        config.registry.url,
        config.registry.nativeUrl,
        config.registry.admin,
        progress,
        stateDir,
      );
    },
    async stop(o = {}) {
      await downStack(stateDir, progress);
      if (!o.keep) await removeStack(stateDir, postgres, progress);
    },
  };
  return stack;
}

async function defaultPorts(brokers: number): Promise<{ kafka: KafkaPorts[]; registry: RegistryPorts }> {
  const p = await freePorts(2 * brokers + 2);
  const at = (i: number) => p[i] ?? 0;
  return {
    kafka: Array.from({ length: brokers }, (_, i) => ({ port: at(2 * i), controllerPort: at(2 * i + 1) })),
    registry: { port: at(2 * brokers), managementPort: at(2 * brokers + 1) },
  };
}

/** Stops whatever runs from `stateDir` (by its pid files), removes it and drops the stack's two databases. */
async function removeStack(
  stateDir: string,
  postgres: StackConfig["postgres"],
  progress: Progress,
): Promise<void> {
  if (runningKafka(stateDir) !== undefined || registryRunning(stateDir) !== undefined) {
    progress(`stopping what an earlier private stack left running in ${stateDir}`);
  }
  await downStack(stateDir, progress);
  await stopRegistry(stateDir);
  for (const db of [postgres.database, registryDatabase(postgres)]) {
    // env.ts-style names only ([a-z0-9_]); FORCE ends sessions a killed registry may have left.
    await pgQuery(postgres.url, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  }
  fs.rmSync(stateDir, { recursive: true, force: true });
}
