import fs from "node:fs";
import path from "node:path";
import { readStackFile, writeStackConfig, type StackConfig } from "./config";
import { readInfraEnv, type InfraEnv } from "./env";
import {
  KAFKA_VERSION,
  kafkaAdminCredentials,
  kafkaRunning,
  startKafka,
  stopKafka,
  waitKafkaReady,
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
} from "./registry";

export interface UpResult {
  config: StackConfig;
  /** What this call started (and so what a matching `down` may stop). */
  started: ("kafka" | "registry")[];
}

function nativeConfig(env: InfraEnv): StackConfig {
  const registryBase = `http://127.0.0.1:${env.GRONDSLAG_REGISTRY_PORT}/apis`;
  return {
    mode: "native",
    kafka: {
      brokers: [`127.0.0.1:${env.GRONDSLAG_KAFKA_PORT}`],
      admin: kafkaAdminCredentials(),
      userMechanism: "scram-sha-256",
      version: KAFKA_VERSION,
    },
    registry: {
      url: `${registryBase}/ccompat/v7`,
      nativeUrl: `${registryBase}/registry/v3`,
      version: "unknown",
      ...registryAccounts(),
    },
    postgres: { url: env.GRONDSLAG_PG_URL, database: env.GRONDSLAG_PG_DATABASE },
  };
}

/**
 * Brings the native stack up: starts only what is not running, waits for real readiness, and writes
 * infra/.state/stack.json for everything else to read. Idempotent: a second call starts nothing and fetches nothing.
 */
export async function upNative(progress: Progress, env: InfraEnv = readInfraEnv()): Promise<UpResult> {
  const config = nativeConfig(env);
  const started: UpResult["started"] = [];
  const created = await ensureDatabases(config.postgres);
  if (created.length > 0) progress(`created PostgreSQL database(s): ${created.join(", ")}`);

  // Start both JVMs before waiting on either: on 2 cores their boots overlap well enough.
  if (
    await startKafka(
      { port: env.GRONDSLAG_KAFKA_PORT, controllerPort: env.GRONDSLAG_KAFKA_CONTROLLER_PORT },
      progress,
    )
  ) {
    started.push("kafka");
  }
  if (
    await startRegistry(
      { port: env.GRONDSLAG_REGISTRY_PORT, managementPort: env.GRONDSLAG_REGISTRY_MANAGEMENT_PORT },
      jdbc(config.postgres, registryDatabase(config.postgres)),
      { java: env.GRONDSLAG_REGISTRY_JAVA, progress },
    )
  ) {
    started.push("registry");
  }
  await waitKafkaReady(config.kafka.brokers, config.kafka.admin, progress);
  config.registry.version = await waitRegistryReady(
    config.registry.url,
    config.registry.nativeUrl,
    config.registry.admin,
    progress,
  );
  writeStackConfig(config);
  return { config, started };
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

/** Stops what the native stack started, by the pids it recorded; never touches PostgreSQL (not ours). */
export async function downNative(
  progress: Progress,
  which: UpResult["started"] = ["kafka", "registry"],
): Promise<string[]> {
  const stopped: string[] = [];
  // The registry first: it holds no Kafka connections, but stopping it first keeps the order the reverse of up.
  if (which.includes("registry") && (await stopRegistry())) stopped.push("registry");
  if (which.includes("kafka") && (await stopKafka())) stopped.push("kafka");
  if (stopped.length > 0) progress(`stopped: ${stopped.join(", ")}`);
  return stopped;
}

export interface StatusLine {
  part: string;
  state: "running" | "stopped" | "unreachable";
  detail: string;
}

export async function statusNative(env: InfraEnv = readInfraEnv()): Promise<StatusLine[]> {
  // A stack.json from before the registry had accounts does not parse: status still reports what runs.
  let cfg: StackConfig;
  try {
    cfg = readStackFile() ?? nativeConfig(env);
  } catch {
    cfg = nativeConfig(env);
  }
  const lines: StatusLine[] = [];
  const kpid = kafkaRunning();
  lines.push({
    part: `kafka ${KAFKA_VERSION}`,
    state: kpid ? "running" : "stopped",
    detail: kpid ? `pid ${kpid}, SASL on ${cfg.kafka.brokers.join(",")}` : "",
  });
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
