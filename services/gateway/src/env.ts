import { z } from "zod";

/** The gateway's environment, validated once; every problem is reported together. See .env.example. */
const schema = z.object({
  GATEWAY_HOST: z.string().default("127.0.0.1"),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8088),
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
  PSEUDONYM_KEY: z
    .string()
    .refine((s) => Buffer.from(s, "base64").length >= 32, "must be base64 of at least 32 bytes"),
  CONTRACTS_DIR: z.string().optional(),
  JWT_AUDIENCE: z.string().default("grondslag-gateway"),
  JWT_ISSUERS: z.string().default("grondslag-dev"),
  /** Directory of dev public keys written by `npm run token`; unset in production. */
  DEV_KEYS_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
});

export type GatewayEnv = z.infer<typeof schema>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid gateway environment:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
