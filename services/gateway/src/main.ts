// The gateway process: reads env, builds clients, listens, and shuts down cleanly on SIGTERM/SIGINT.
import type { Catalogue } from "@grondslag/contracts";
import type { Server } from "node:http";
import pino from "pino";
import { Registry } from "prom-client";
import { createApp } from "./app";
import { catalogueKeyStore, directoryKeyStore, withDevelopmentKeys, type KeyStore } from "./auth";
import { coreMetrics } from "./core/metrics";
import { readEnv } from "./env";
import { createGateway, type GatewayHooks } from "./gateway";

const env = (() => {
  try {
    return readEnv();
  } catch (err) {
    // A refused environment is the operator's to fix: say what, without a stack trace.
    process.stderr.write(`gateway: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
})();
const log = pino({ level: env.LOG_LEVEL, base: { service: "gateway" } });

/**
 * Keys from the parties registry in the contracts in force (reloaded with them, so a removed key stops verifying
 * without a restart), then, for parties without a registered key, the token CLI's directory. readEnv allows that
 * directory only with GRONDSLAG_ENV=development and a loopback GATEWAY_HOST.
 */
function keyStore(catalogue: () => Catalogue): KeyStore {
  const registered = catalogueKeyStore(catalogue);
  if (!env.DEV_KEYS_DIR) return registered;
  log.warn(
    { dir: env.DEV_KEYS_DIR, env: env.GRONDSLAG_ENV, host: env.GATEWAY_HOST },
    "accepting development keys for parties without a registered key: never in production",
  );
  return withDevelopmentKeys(registered, directoryKeyStore(env.DEV_KEYS_DIR));
}

async function main() {
  const metrics = new Registry();
  const hooks: GatewayHooks = {};
  const http: { server?: Server } = {};
  let stopping = false;
  const stop = (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, "stopping: no new requests, flushing accepted events");
    http.server?.close();
    gateway
      .stop()
      .then(() => process.exit(exitCode))
      .catch((err: unknown) => {
        log.error({ err }, "stopping failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  const gateway = createGateway(
    {
      brokers: env.KAFKA_BROKERS.split(",").map((b) => b.trim()),
      kafkaUser: env.GATEWAY_KAFKA_USER,
      kafkaPassword: env.GATEWAY_KAFKA_PASSWORD,
      registryUrl: env.REGISTRY_URL,
      registryAuth: { username: env.REGISTRY_USERNAME, password: env.REGISTRY_PASSWORD },
      databaseUrl: env.DATABASE_URL,
      dbSchema: env.GATEWAY_DB_SCHEMA,
      pseudonymKey: Buffer.from(env.PSEUDONYM_KEY, "base64"),
      contractsDir: env.CONTRACTS_DIR,
    },
    log,
    () => new Date(),
    hooks,
  );
  Object.assign(
    hooks,
    coreMetrics(metrics, {
      admin: gateway.admin,
      groups: gateway.groups,
      catalogue: gateway.catalogue.current,
    }),
    {
      onFatal: (err: Error) => {
        log.fatal({ err }, "a Kafka worker stopped for good; exiting so the supervisor restarts the gateway");
        stop("worker crash", 1);
      },
    },
  );
  await gateway.start();
  const app = createApp({
    publisher: gateway.publisher,
    subscriptions: gateway.subscriptions,
    readiness: gateway.readiness,
    registry: gateway.registryView,
    auth: {
      keyStore: keyStore(gateway.catalogue.current),
      audience: env.JWT_AUDIENCE,
      issuers: env.JWT_ISSUERS.split(",").map((s) => s.trim()),
    },
    log,
    now: () => new Date(),
    metrics,
  });
  http.server = app.listen(env.GATEWAY_PORT, env.GATEWAY_HOST, () => {
    log.info({ url: `http://${env.GATEWAY_HOST}:${env.GATEWAY_PORT}` }, "gateway listening");
  });
}

main().catch((err: unknown) => {
  log.fatal({ err }, "gateway failed to start");
  process.exit(1);
});
