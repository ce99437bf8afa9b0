import { readStackFile, stackConfigSchema, type StackConfig } from "./config";
import { readInfraEnv, type InfraEnv } from "./env";
import { ensureDatabases } from "./postgres";
import type { Progress } from "./proc";
import { downNative, upNative } from "./stack";

export interface Stack {
  config: StackConfig;
  /** Stops exactly what `acquireStack` started; a no-op for a stack that was already running or is external. */
  release(): Promise<void>;
}

/**
 * The one switch between stacks: GRONDSLAG_INFRA = native (default: jars on this machine), docker (testcontainers
 * runs docker-compose.yml; needs a Docker engine) or external (addresses from env). Tests, `npm start` and
 * `contracts:apply` all get their stack here.
 */
export async function acquireStack(progress: Progress, env: InfraEnv = readInfraEnv()): Promise<Stack> {
  switch (env.GRONDSLAG_INFRA) {
    case "native": {
      const { config, started } = await upNative(progress, env);
      return {
        config,
        release: async () => {
          await downNative(progress, started);
        },
      };
    }
    case "external": {
      const config = externalConfig(env);
      await ensureDatabases(config.postgres);
      return { config, release: async () => {} };
    }
    case "docker": {
      const { upDocker } = await import("./docker");
      return upDocker(progress, env);
    }
  }
}

export function externalConfig(env: InfraEnv): StackConfig {
  const registry = new URL(env.GRONDSLAG_REGISTRY_URL ?? "");
  return stackConfigSchema.parse({
    mode: "external",
    kafka: {
      brokers: (env.GRONDSLAG_KAFKA_BROKERS ?? "").split(",").map((b) => b.trim()),
      admin: {
        mechanism: "plain",
        username: env.GRONDSLAG_KAFKA_ADMIN_USER,
        password: env.GRONDSLAG_KAFKA_ADMIN_PASSWORD,
      },
      userMechanism: "scram-sha-256",
      version: "external",
    },
    registry: {
      url: registry.toString().replace(/\/$/, ""),
      nativeUrl: registry.toString().replace(/\/ccompat\/v7\/?$/, "/registry/v3"),
      version: "external",
      admin: { username: env.GRONDSLAG_REGISTRY_ADMIN_USER, password: env.GRONDSLAG_REGISTRY_ADMIN_PASSWORD },
      gateway: {
        username: env.GRONDSLAG_REGISTRY_GATEWAY_USER,
        password: env.GRONDSLAG_REGISTRY_GATEWAY_PASSWORD,
      },
    },
    postgres: { url: env.GRONDSLAG_PG_URL, database: env.GRONDSLAG_PG_DATABASE },
  });
}

/** The stack a running `infra:up` (or an external one) provides, without starting anything. */
export function currentStackConfig(env: InfraEnv = readInfraEnv()): StackConfig {
  if (env.GRONDSLAG_INFRA === "external") return externalConfig(env);
  const cfg = readStackFile();
  if (!cfg) throw new Error("the local stack has not been started: run `npm run infra:up` first");
  return cfg;
}
