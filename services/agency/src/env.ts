import { baseEnv, commaList, isLoopback, port } from "@grondslag/kit";
import { z } from "zod";

/**
 * The environment of every agency service. Secrets (the party's Kafka password, the desk token) come from the
 * environment, never from a file in the repository; the party's signing key lives in `AGENCY_KEYS_DIR`.
 */
export const agencyEnv = baseEnv
  .extend({
    /** Which party this instance is (parties.yaml); required when the service serves several (gemeente, uitlener). */
    AGENCY_PARTY: z.string().min(1).optional(),
    AGENCY_HOST: z.string().min(1).default("127.0.0.1"),
    AGENCY_PORT: port,
    /** The gateway's base URL (HTTP API, and the registry window for the Kafka transport). */
    GATEWAY_URL: z.url(),
    /** The bus's brokers: the Kafka transport, and the dead-letter topic of every service. */
    KAFKA_BROKERS: commaList,
    /** The party's own SCRAM password (its user is its party id). */
    AGENCY_KAFKA_PASSWORD: z.string().min(1),
    DATABASE_URL: z.string().min(1),
    /** Default: the service's name with `-` as `_`, plus the party's suffix for a multi-party service. */
    AGENCY_DB_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "lower-case letters, digits and _ only")
      .optional(),
    /** Consumer groups start with this (a party's groups must start with `<party>.`); default `<party>.<service>`. */
    AGENCY_GROUP_PREFIX: z.string().min(1).optional(),
    /** The bearer token of the desk API (POST /desk/…, GET /state, dead letters): at least 24 characters. */
    DESK_TOKEN: z.string().min(24, "at least 24 characters"),
    /** Where the party's signing key pair is (`<party>.private.jwk.json`); generated there in development. */
    AGENCY_KEYS_DIR: z.string().min(1),
    AGENCY_TOKEN_ISSUER: z.string().min(1).default("grondslag-dev"),
    CONTRACTS_DIR: z.string().min(1).optional(),
    /** HTTP transport: how long one long poll waits for an event (seconds, 1–30). */
    AGENCY_POLL_SECONDS: z.coerce.number().int().min(1).max(30).default(10),
    /** How often the outbox is swept for rows a crash or an outage left behind (ms). */
    AGENCY_OUTBOX_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  })
  .superRefine((env, ctx) => {
    if (
      env.GRONDSLAG_ENV !== "development" &&
      isLoopback(env.AGENCY_HOST) === false &&
      env.DESK_TOKEN.length < 32
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["DESK_TOKEN"],
        message: "a desk listening beyond loopback in production needs a token of at least 32 characters",
      });
    }
  });

export type AgencyEnv = z.infer<typeof agencyEnv>;
