// The gateway process, on the kit's service skeleton: validated env, one logger, /healthz, /readyz and /metrics,
// and a clean stop on SIGTERM/SIGINT (HTTP closes first, then the core flushes what it accepted).
import type { Catalogue } from "@grondslag/contracts";
import { createService } from "@grondslag/kit";
import type { Logger } from "pino";
import { createApp } from "./app";
import { catalogueKeyStore, directoryKeyStore, withDevelopmentKeys, type KeyStore } from "./auth";
import { coreMetrics } from "./core/metrics";
import { gatewayEnv, type GatewayEnv } from "./env";
import { createGateway, type GatewayHooks } from "./gateway";

/**
 * Keys from the parties registry in the contracts in force (reloaded with them, so a removed key stops verifying
 * without a restart), then, for parties without a registered key, the token CLI's directory. The environment
 * allows that directory only with GRONDSLAG_ENV=development and a loopback GATEWAY_HOST.
 */
function keyStore(env: GatewayEnv, log: Logger, catalogue: () => Catalogue): KeyStore {
  const registered = catalogueKeyStore(catalogue);
  if (!env.DEV_KEYS_DIR) return registered;
  log.warn(
    { dir: env.DEV_KEYS_DIR, env: env.GRONDSLAG_ENV, host: env.GATEWAY_HOST },
    "accepting development keys for parties without a registered key: never in production",
  );
  return withDevelopmentKeys(registered, directoryKeyStore(env.DEV_KEYS_DIR));
}

let gateway: ReturnType<typeof createGateway> | undefined;

createService({
  name: "gateway",
  env: gatewayEnv,
  listen: (env) => ({ host: env.GATEWAY_HOST, port: env.GATEWAY_PORT }),
  async start({ env, log, metrics, fatal }) {
    const hooks: GatewayHooks = {};
    const gw = createGateway(
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
        groupPrefix: env.GATEWAY_GROUP_PREFIX,
        ...(env.GATEWAY_INSTANCE_ID ? { instanceId: env.GATEWAY_INSTANCE_ID } : {}),
        workers: env.GATEWAY_WORKERS,
        ...(env.GATEWAY_INGRESS_PARTIES ? { ingressParties: env.GATEWAY_INGRESS_PARTIES } : {}),
        ...(env.GATEWAY_URGENT_TOPICS ? { urgentTopics: env.GATEWAY_URGENT_TOPICS } : {}),
        ...(env.GATEWAY_PARTITIONS_CONCURRENTLY
          ? { partitionsConcurrently: env.GATEWAY_PARTITIONS_CONCURRENTLY }
          : {}),
        idempotencyRetentionMs: env.GATEWAY_IDEMPOTENCY_RETENTION_HOURS * 3600_000,
        maintenanceSeconds: env.GATEWAY_DB_MAINTENANCE_SECONDS,
      },
      log,
      () => new Date(),
      hooks,
    );
    gateway = gw;
    Object.assign(
      hooks,
      coreMetrics(metrics, { admin: gw.admin, groups: gw.groups, catalogue: gw.catalogue.current }),
      { onFatal: (err: Error) => fatal(err, "a Kafka worker stopped for good") },
    );
    await gw.start();
    const http = createApp({
      publisher: gw.publisher,
      subscriptions: gw.subscriptions,
      readiness: gw.readiness,
      registry: gw.registryView,
      auth: {
        keyStore: keyStore(env, log, gw.catalogue.current),
        audience: env.JWT_AUDIENCE,
        issuers: env.JWT_ISSUERS.split(",").map((s) => s.trim()),
      },
      log,
      now: () => new Date(),
      metrics,
      rateLimit:
        env.GATEWAY_RATE_PER_SECOND === 0
          ? false
          : { perSecond: env.GATEWAY_RATE_PER_SECOND, burst: env.GATEWAY_RATE_BURST },
      limits: {
        streamsPerParty: env.GATEWAY_STREAMS_PER_PARTY,
        longPollsPerParty: env.GATEWAY_LONG_POLLS_PER_PARTY,
        streamSeconds: env.GATEWAY_STREAM_SECONDS,
        streamKeepAliveSeconds: env.GATEWAY_STREAM_KEEPALIVE_SECONDS,
      },
    });
    return { http, readiness: gw.readiness };
  },
  stop: async () => {
    await gateway?.stop();
  },
}).main();
