import fs from "node:fs";
import path from "node:path";
import { readStackFile, writeStackConfig, type StackConfig } from "./config";
import { readInfraEnv, type InfraEnv } from "./env";
import {
  defaultLayout,
  KAFKA_VERSION,
  kafkaAdminCredentials,
  kafkaNodeLogs,
  kafkaNodeRunning,
  readClusterFile,
  runningKafka,
  startKafkaNode,
  stopKafkaNode,
  waitKafkaReady,
  type KafkaLayout,
} from "./kafka";
import { ensureDatabases, jdbc, postgresVersion, redact, registryDatabase } from "./postgres";
import { stopByPidFile, type Progress } from "./proc";
import { STATE_DIR } from "./paths";
import {
  registryAccounts,
  registryRunning,
  startRegistry,
  stopRegistry,
  waitRegistryReady,
  type RegistryPorts,
} from "./registry";

/** A part of the stack: `kafka` (the single node), `kafka-<id>` (a cluster's node) or `registry`. */
export type Part = "kafka" | `kafka-${number}` | "registry";

export interface UpResult {
  config: StackConfig;
  /** What this call started (and so what a matching `down` may stop). */
  started: Part[];
}

/** Everything that tells one native stack from another: where its state lives and where it listens. */
export interface StackSpec {
  stateDir: string;
  kafka: KafkaLayout;
  registry: RegistryPorts;
  postgres: StackConfig["postgres"];
  registryJava?: string | undefined;
}

/** The cluster sizes `--brokers` accepts: one node, or three (a quorum that survives the loss of one). */
export const CLUSTER_SIZES = [1, 3] as const;

const partOf = (layout: KafkaLayout, id: number): Part =>
  layout.nodes.length === 1 ? "kafka" : `kafka-${id}`;

export function stackConfigOf(spec: StackSpec): StackConfig {
  const registryBase = `http://127.0.0.1:${spec.registry.port}/apis`;
  return {
    mode: "native",
    kafka: {
      brokers: spec.kafka.nodes.map((n) => `127.0.0.1:${n.port}`),
      admin: kafkaAdminCredentials(spec.stateDir),
      userMechanism: "scram-sha-256",
      version: KAFKA_VERSION,
    },
    registry: {
      url: `${registryBase}/ccompat/v7`,
      nativeUrl: `${registryBase}/registry/v3`,
      version: "unknown",
      ...registryAccounts(spec.stateDir),
    },
    postgres: spec.postgres,
  };
}

/** The default stack (`infra:up`) with `brokers` nodes, from the environment's ports. */
export function defaultSpec(env: InfraEnv, brokers: number): StackSpec {
  return {
    stateDir: STATE_DIR,
    kafka: defaultLayout(brokers, {
      port: env.GRONDSLAG_KAFKA_PORT,
      controllerPort: env.GRONDSLAG_KAFKA_CONTROLLER_PORT,
      extraFrom: env.GRONDSLAG_KAFKA_EXTRA_PORTS_FROM ?? env.GRONDSLAG_KAFKA_PORT + 8,
    }),
    registry: { port: env.GRONDSLAG_REGISTRY_PORT, managementPort: env.GRONDSLAG_REGISTRY_MANAGEMENT_PORT },
    postgres: { url: env.GRONDSLAG_PG_URL, database: env.GRONDSLAG_PG_DATABASE },
    registryJava: env.GRONDSLAG_REGISTRY_JAVA,
  };
}

/**
 * The size of the default stack to bring up: what runs if anything does (so `npm test` and `npm start` reuse a
 * running cluster), else `requested`, else one node. A `requested` size that disagrees with what runs is refused.
 */
export function stackSize(running: number | undefined, requested: number | undefined): number {
  if (requested !== undefined && !(CLUSTER_SIZES as readonly number[]).includes(requested)) {
    throw new Error(
      `--brokers ${requested}: the local stack runs 1 node or a cluster of 3 (a quorum that survives one loss). ` +
        "Use --brokers 1 or --brokers 3.",
    );
  }
  if (running !== undefined && requested !== undefined && running !== requested) {
    throw new Error(
      `the stack already runs with ${running} Kafka node${running === 1 ? "" : "s"}; --brokers ${requested} ` +
        `disagrees. Stop it first (npm run infra:down), then npm run infra:up -- --brokers ${requested}; or leave ` +
        "the flag out to use what runs.",
    );
  }
  return running ?? requested ?? 1;
}

/**
 * Brings a native stack up: starts only what is not running, waits for real readiness (every node registered).
 * Writes `<stateDir>/stack.json`.
 */
export async function upStack(spec: StackSpec, progress: Progress): Promise<UpResult> {
  const config = stackConfigOf(spec);
  const started: Part[] = [];
  const created = await ensureDatabases(config.postgres);
  if (created.length > 0) progress(`created PostgreSQL database(s): ${created.join(", ")}`);

  // Start every JVM before waiting on any: on 2 cores their boots overlap well enough.
  for (const node of spec.kafka.nodes) {
    if (await startKafkaNode(spec.kafka, node.id, progress)) started.push(partOf(spec.kafka, node.id));
  }
  if (
    await startRegistry(spec.registry, jdbc(config.postgres, registryDatabase(config.postgres)), {
      java: spec.registryJava,
      progress,
      stateDir: spec.stateDir,
    })
  ) {
    started.push("registry");
  }
  await waitKafkaReady(config.kafka.brokers, config.kafka.admin, progress, {
    nodes: spec.kafka.nodes.length,
    logs: spec.kafka.nodes.map((n) => kafkaNodeLogs(spec.kafka, n.id)).join(", "),
  });
  config.registry.version = await waitRegistryReady(
    config.registry.url,
    config.registry.nativeUrl,
    config.registry.admin,
    progress,
    spec.stateDir,
  );
  writeStackConfig(config, spec.stateDir);
  return { config, started };
}

/**
 * Brings the default native stack up (infra/.state/stack.json for everything else to read). Idempotent: a second
 * call starts nothing and fetches nothing. `brokers` (1 or 3) is for a stack that is not running yet; without it a
 * running stack is reused whatever its size, and a stopped one starts as a single node.
 */
export async function upNative(
  progress: Progress,
  env: InfraEnv = readInfraEnv(),
  opts: { brokers?: number } = {},
): Promise<UpResult> {
  const size = stackSize(runningKafka(STATE_DIR)?.size, opts.brokers);
  return upStack(defaultSpec(env, size), progress);
}

/** Where `npm start` records the services it runs (`<name>.pid`, `<name>.log`), so `infra:down` can stop them. */
export const SERVICES_DIR = path.join(STATE_DIR, "services");

/** Stops the services `npm start` launched, by their recorded pids. */
export async function stopServices(): Promise<string[]> {
  if (!fs.existsSync(SERVICES_DIR)) return [];
  const stopped: string[] = [];
  for (const f of fs.readdirSync(SERVICES_DIR).filter((n) => n.endsWith(".pid"))) {
    if (await stopByPidFile(path.join(SERVICES_DIR, f))) stopped.push(f.slice(0, -".pid".length));
  }
  return stopped;
}

/** Both Kafka layouts a state dir may hold: the single node, and the cluster last started there. */
function layoutsOf(stateDir: string): KafkaLayout[] {
  const cluster = readClusterFile(stateDir);
  return [{ stateDir, nodes: [{ id: 1, port: 0, controllerPort: 0 }] }, ...(cluster ? [cluster] : [])];
}

/**
 * Stops what a native stack started, by the pids it recorded (`which`: those parts only; default all, every node
 * of either size); never touches PostgreSQL (not ours).
 */
export async function downStack(
  stateDir: string,
  progress: Progress,
  which?: readonly Part[],
): Promise<Part[]> {
  const stopped: Part[] = [];
  const wanted = (p: Part) => which === undefined || which.includes(p);
  // The registry first: it holds no Kafka connections, but stopping it first keeps the order the reverse of up.
  if (wanted("registry") && (await stopRegistry(stateDir))) stopped.push("registry");
  for (const layout of layoutsOf(stateDir)) {
    // In parallel: a cluster's nodes stopped one by one each move leadership to the others first.
    const parts = layout.nodes
      .map((n) => ({ id: n.id, part: partOf(layout, n.id) }))
      .filter((n) => wanted(n.part));
    const done = await Promise.all(
      parts.map(async (n) => ((await stopKafkaNode(layout, n.id)) ? n.part : undefined)),
    );
    stopped.push(...done.filter((p): p is Part => p !== undefined));
  }
  if (stopped.length > 0) progress(`stopped: ${stopped.join(", ")}`);
  return stopped;
}

/** Stops what the default native stack started. */
export async function downNative(progress: Progress, which?: readonly Part[]): Promise<Part[]> {
  return downStack(STATE_DIR, progress, which);
}

export interface StatusLine {
  part: string;
  state: "running" | "stopped" | "unreachable";
  detail: string;
}

export async function statusNative(env: InfraEnv = readInfraEnv()): Promise<StatusLine[]> {
  const running = runningKafka(STATE_DIR);
  const spec = defaultSpec(env, running?.size ?? 1);
  // A stack.json from before the registry had accounts does not parse: status still reports what runs.
  let cfg: StackConfig;
  try {
    cfg = readStackFile() ?? stackConfigOf(spec);
  } catch {
    cfg = stackConfigOf(spec);
  }
  const lines: StatusLine[] = [];
  const layout = running && running.size > 1 ? (readClusterFile(STATE_DIR) ?? spec.kafka) : spec.kafka;
  for (const node of layout.nodes) {
    const pid = kafkaNodeRunning(layout, node.id);
    const single = layout.nodes.length === 1;
    lines.push({
      part: `kafka ${KAFKA_VERSION}${single ? "" : ` node ${node.id}/${layout.nodes.length}`}`,
      state: pid ? "running" : "stopped",
      detail: pid
        ? `pid ${pid}, SASL on ${single ? cfg.kafka.brokers.join(",") : `127.0.0.1:${node.port}`}`
        : single
          ? ""
          : `127.0.0.1:${node.port} (start it again: npm run infra:up)`,
    });
  }
  const rpid = registryRunning();
  lines.push({
    part: `registry ${cfg.registry.version}`,
    state: rpid ? "running" : "stopped",
    detail: rpid ? `pid ${rpid}, ${cfg.registry.url} (basic auth)` : "",
  });
  try {
    const v = await postgresVersion(cfg.postgres.url);
    lines.push({
      part: `postgresql ${v}`,
      state: "running",
      detail: `${redact(cfg.postgres.url)} (not ours)`,
    });
  } catch (err) {
    lines.push({ part: "postgresql", state: "unreachable", detail: (err as Error).message });
  }
  return lines;
}
