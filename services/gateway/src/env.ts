import {
  base64Key,
  baseEnv,
  commaList,
  devKeysOnlyInDevelopment,
  port,
  readEnv as readServiceEnv,
} from "@grondslag/kit";
import { z } from "zod";

/** The gateway's environment, validated once; every problem is reported together. See .env.example. */
export const gatewayEnv = baseEnv
  .extend({
    GATEWAY_HOST: z.string().default("127.0.0.1"),
    GATEWAY_PORT: port.default(8088),
    KAFKA_BROKERS: z.string().min(1),
    GATEWAY_KAFKA_USER: z.string().default("grondslag.gateway"),
    GATEWAY_KAFKA_PASSWORD: z.string().min(1),
    REGISTRY_URL: z.url(),
    /** The gateway's registry account (HTTP basic); `infra:up` writes it to infra/.state/stack.json. */
    REGISTRY_USERNAME: z.string().default("gateway"),
    REGISTRY_PASSWORD: z.string().min(1),
    DATABASE_URL: z.string().min(1),
    GATEWAY_DB_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default("gateway"),
    /** Base64 of at least 32 random bytes; the audit service holds the same key. */
    PSEUDONYM_KEY: base64Key(32),
    CONTRACTS_DIR: z.string().optional(),
    JWT_AUDIENCE: z.string().default("grondslag-gateway"),
    JWT_ISSUERS: z.string().default("grondslag-dev"),
    /**
     * Directory of dev public keys written by `npm run token`. Anyone who can write there can speak for any party
     * without a registered key, so only with GRONDSLAG_ENV=development and a gateway that listens on loopback.
     */
    DEV_KEYS_DIR: z.string().min(1).optional(),
    /**
     * The Kafka workers this instance runs (`delivery,ingress`, the default; `none` for an HTTP-only instance).
     * `delivery` is both delivery lanes; `delivery-urgent` or `delivery-bulk` runs one (GATEWAY_URGENT_TOPICS).
     */
    GATEWAY_WORKERS: z
      .string()
      .default("delivery,ingress")
      .transform((s) => (s.trim() === "none" ? [] : s.split(",").map((w) => w.trim())))
      .pipe(z.array(z.enum(["delivery", "delivery-urgent", "delivery-bulk", "ingress"]))),
    /**
     * Topics delivered in a lane of their own (`lsi.*,wtta.admission-revoked`: names, or prefixes ending in `*`), so
     * a bulk topic's backlog is not in front of them. The same on every instance sharing GATEWAY_GROUP_PREFIX.
     */
    GATEWAY_URGENT_TOPICS: commaList.optional(),
    /** Consumer groups and transactional ids start with this (within the gateway's ACLs: `grondslag.gateway.`). */
    GATEWAY_GROUP_PREFIX: z
      .string()
      .regex(
        /^grondslag\.gateway(\.[a-z0-9-]+)*$/,
        "must be grondslag.gateway or start with grondslag.gateway.",
      )
      .default("grondslag.gateway"),
    /** This instance's stable name among those sharing the prefix: its transactional id (see GatewayConfig). */
    GATEWAY_INSTANCE_ID: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/, "lower-case letters, digits and hyphens")
      .optional(),
    /** The parties whose ingress topics this instance reads (default every producing party). */
    GATEWAY_INGRESS_PARTIES: commaList.optional(),
    /** Partitions each Kafka worker handles at once (see GatewayConfig.partitionsConcurrently). */
    GATEWAY_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(64).optional(),
    /** Per party and instance: requests per second and burst. `0` turns the limit off (benchmarks only). */
    GATEWAY_RATE_PER_SECOND: z.coerce.number().min(0).default(100),
    GATEWAY_RATE_BURST: z.coerce.number().int().min(1).default(200),
    /** Open server-sent-event streams and long polls a party may hold on this instance. */
    GATEWAY_STREAMS_PER_PARTY: z.coerce.number().int().min(1).default(4),
    GATEWAY_LONG_POLLS_PER_PARTY: z.coerce.number().int().min(1).default(8),
    /** How long one stream lasts before the gateway ends it (the client resumes), and its heartbeat interval. */
    GATEWAY_STREAM_SECONDS: z.coerce.number().int().min(1).default(300),
    GATEWAY_STREAM_KEEPALIVE_SECONDS: z.coerce.number().int().min(1).default(25),
    /**
     * Hours a committed Idempotency-Key is kept, a repeat of it answered with the first event (default 168, a
     * week); then it is purged and the key may be used again. Retries of one event must fall within it.
     */
    GATEWAY_IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().min(1).default(168),
    /** Seconds between rounds of upkeep of the idempotency table (purge, VACUUM when needed); 0 turns it off. */
    GATEWAY_DB_MAINTENANCE_SECONDS: z.coerce.number().int().min(0).default(30),
  })
  .superRefine(devKeysOnlyInDevelopment("the gateway", "GATEWAY_HOST"));

export type GatewayEnv = z.infer<typeof gatewayEnv>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return readServiceEnv("gateway", gatewayEnv, env);
}
