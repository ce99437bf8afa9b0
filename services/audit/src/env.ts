import { base64Key, baseEnv, devKeysOnlyInDevelopment, port } from "@grondslag/kit";
import { z } from "zod";

const jwkJson = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a JWK as JSON" });
    return z.NEVER;
  }
});

/** The audit service's environment, validated once; every problem is reported together. */
export const auditEnv = baseEnv
  .extend({
    AUDIT_HOST: z.string().default("127.0.0.1"),
    AUDIT_PORT: port.default(8089),
    KAFKA_BROKERS: z.string().min(1),
    AUDIT_KAFKA_USER: z.string().default("grondslag.audit"),
    AUDIT_KAFKA_PASSWORD: z.string().min(1),
    /** The consumer group; under the principal's ACL prefix `grondslag.audit.`. */
    AUDIT_GROUP: z.string().default("grondslag.audit.store"),
    /** The writer role's connection: INSERT and SELECT only. */
    AUDIT_DATABASE_URL: z.string().min(1),
    /** The owner's connection, to migrate at start (development); without it the schema must exist. */
    AUDIT_MIGRATE_DATABASE_URL: z.string().min(1).optional(),
    AUDIT_DB_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default("audit"),
    AUDIT_DB_WRITER_ROLE: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default("grondslag_audit_writer"),
    /** The checkpoint signing key: a private JWK (Ed25519 or P-256) as JSON. */
    AUDIT_CHECKPOINT_KEY: jwkJson,
    AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(0).default(10_000),
    /** Base64 of at least 32 random bytes: the gateway's pseudonym key, for person lookups. */
    PSEUDONYM_KEY: base64Key(32),
    CONTRACTS_DIR: z.string().optional(),
    JWT_AUDIENCE: z.string().default("grondslag-audit"),
    JWT_ISSUERS: z.string().default("grondslag-dev"),
    /** Development public keys (as the token CLI writes them): only with GRONDSLAG_ENV=development on loopback. */
    DEV_KEYS_DIR: z.string().min(1).optional(),
  })
  .superRefine(devKeysOnlyInDevelopment("the audit service", "AUDIT_HOST"));

export type AuditEnv = z.infer<typeof auditEnv>;
