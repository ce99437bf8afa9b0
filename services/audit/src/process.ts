// The audit service's process, on the kit's service skeleton: validated env, one logger, /healthz, /readyz and
// /metrics, and a clean stop (HTTP first, then the consumer, a last checkpoint, the pool).
import { loadCatalogue, type Catalogue } from "@grondslag/contracts";
import {
  catalogueKeyStore,
  createService,
  createTokenVerifier,
  directoryKeyStore,
  Pseudonymiser,
  withDevelopmentKeys,
  type KeyStore,
} from "@grondslag/kit";
import { publicKeyFile } from "@grondslag/sdk";
import type { Logger } from "pino";
import { createAuditApp } from "./app";
import { auditEnv, type AuditEnv } from "./env";
import { AuditQueries } from "./queries";
import { createAudit, type AuditService } from "./service";
import type { VerifyReport } from "./verify";

function keyStore(env: AuditEnv, log: Logger, catalogue: () => Catalogue): KeyStore {
  const registered = catalogueKeyStore(catalogue);
  if (!env.DEV_KEYS_DIR) return registered;
  log.warn(
    { dir: env.DEV_KEYS_DIR, env: env.GRONDSLAG_ENV, host: env.AUDIT_HOST },
    "accepting development keys for parties without a registered key: never in production",
  );
  return withDevelopmentKeys(registered, directoryKeyStore(env.DEV_KEYS_DIR, publicKeyFile));
}

let running: AuditService | undefined;

export const auditProcess = createService({
  name: "audit",
  env: auditEnv,
  listen: (env) => ({ host: env.AUDIT_HOST, port: env.AUDIT_PORT }),
  async start({ env, log, metrics, fatal }) {
    const catalogue = loadCatalogue(env.CONTRACTS_DIR);
    const audit = createAudit(
      {
        brokers: env.KAFKA_BROKERS.split(",").map((b) => b.trim()),
        kafkaSasl: {
          mechanism: "scram-sha-256",
          username: env.AUDIT_KAFKA_USER,
          password: env.AUDIT_KAFKA_PASSWORD,
        },
        groupId: env.AUDIT_GROUP,
        databaseUrl: env.AUDIT_DATABASE_URL,
        migrateDatabaseUrl: env.AUDIT_MIGRATE_DATABASE_URL,
        dbSchema: env.AUDIT_DB_SCHEMA,
        writerRole: env.AUDIT_DB_WRITER_ROLE,
        checkpointKey: env.AUDIT_CHECKPOINT_KEY,
        checkpointIntervalMs: env.AUDIT_CHECKPOINT_INTERVAL_MS,
      },
      log,
      { onFatal: (err) => fatal(err, "the audit.log consumer stopped for good") },
    );
    await audit.start();
    running = audit;
    let verified: Promise<VerifyReport & { at: string }> | undefined;
    let verifiedAt = 0;
    const readiness = {
      names: ["postgres", "consumer"],
      check: async () => {
        await audit.store.pool.query("SELECT 1");
        return { checks: { postgres: true, consumer: audit.crashed() === undefined } };
      },
    };
    const http = createAuditApp({
      queries: new AuditQueries(audit.store.pool, env.AUDIT_DB_SCHEMA),
      checkpoints: (limit) => audit.store.checkpoints(limit),
      checkpointKey: audit.signer.publicJwk,
      verification: () => {
        // One verification at a time, at most every 5 s: it reads the whole store.
        if (!verified || Date.now() - verifiedAt > 5_000) {
          verifiedAt = Date.now();
          verified = audit.verify().then((r) => ({ ...r, at: new Date().toISOString() }));
          verified.catch(() => {
            verified = undefined;
          });
        }
        return verified;
      },
      verifier: createTokenVerifier({
        keyStore: keyStore(env, log, () => catalogue),
        audience: env.JWT_AUDIENCE,
        issuers: env.JWT_ISSUERS.split(",").map((s) => s.trim()),
        now: () => new Date(),
      }),
      isAuditor: (party) => catalogue.parties[party]?.kind === "auditor",
      pseudonymiser: new Pseudonymiser(Buffer.from(env.PSEUDONYM_KEY, "base64")),
      log,
      metrics,
      readiness,
    });
    return { http, readiness };
  },
  stop: async () => {
    await running?.stop();
    running = undefined;
  },
});
