import { DockerComposeEnvironment, Wait } from "testcontainers";
import { stackConfigSchema } from "./config";
import type { InfraEnv } from "./env";
import type { Stack } from "./harness";
import { REPO_ROOT } from "./paths";
import type { Progress } from "./proc";
import { registryAccounts } from "./registry";

/**
 * GRONDSLAG_INFRA=docker: the compose file's official images through testcontainers. Needs a Docker engine, which
 * this project's development and CI machines do not have; those use the native stack.
 */
export async function upDocker(progress: Progress, env: InfraEnv): Promise<Stack> {
  progress("starting docker-compose.yml through testcontainers …");
  const password = env.GRONDSLAG_KAFKA_ADMIN_PASSWORD ?? "admin-dev-secret";
  // The same accounts as the native registry's (infra/.state/registry-accounts.json), handed to the container.
  const accounts = registryAccounts();
  const compose = await new DockerComposeEnvironment(REPO_ROOT, "docker-compose.yml")
    .withEnvironment({
      GRONDSLAG_KAFKA_ADMIN_PASSWORD: password,
      GRONDSLAG_REGISTRY_ADMIN_PASSWORD: accounts.admin.password,
      GRONDSLAG_REGISTRY_GATEWAY_PASSWORD: accounts.gateway.password,
    })
    .withWaitStrategy("kafka-1", Wait.forLogMessage(/Kafka Server started/))
    // Anonymous callers get 401: wait on the unauthenticated system info instead.
    .withWaitStrategy("registry-1", Wait.forHttp("/apis/registry/v3/system/info", 8080))
    .withWaitStrategy("postgres-1", Wait.forHealthCheck())
    .up(["kafka", "postgres", "registry"]);
  const config = stackConfigSchema.parse({
    mode: "docker",
    kafka: {
      brokers: ["127.0.0.1:19092"],
      admin: { mechanism: "plain", username: "admin", password },
      userMechanism: "scram-sha-256",
      version: "4.1.1 (apache/kafka image)",
    },
    registry: {
      url: "http://127.0.0.1:18080/apis/ccompat/v7",
      nativeUrl: "http://127.0.0.1:18080/apis/registry/v3",
      version: "3.3.3 (apicurio/apicurio-registry image)",
      ...accounts,
    },
    postgres: { url: "postgres://postgres@127.0.0.1:15432/postgres", database: "grondslag" },
  });
  return { config, release: async () => void (await compose.down()) };
}
