import { BlockList, isIP } from "node:net";
import { z } from "zod";

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");
loopback.addSubnet("::ffff:127.0.0.0", 104, "ipv6");

/**
 * Does the gateway listen on this machine only? Only literal loopback addresses and `localhost` count: another
 * name may resolve anywhere, and 0.0.0.0 or :: listen on every interface.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost") return true;
  const family = isIP(h);
  return family !== 0 && loopback.check(h, family === 4 ? "ipv4" : "ipv6");
}

/** The gateway's environment, validated once; every problem is reported together. See .env.example. */
const schema = z
  .object({
    /** Development relaxes what production must never allow (development keys); anything unset is production. */
    GRONDSLAG_ENV: z.enum(["development", "production"]).default("production"),
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
    /**
     * Directory of dev public keys written by `npm run token`. Anyone who can write there can speak for any party
     * without a registered key, so only with GRONDSLAG_ENV=development and a gateway that listens on loopback.
     */
    DEV_KEYS_DIR: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  })
  .superRefine((env, ctx) => {
    if (env.DEV_KEYS_DIR === undefined) return;
    if (env.GRONDSLAG_ENV !== "development") {
      ctx.addIssue({
        code: "custom",
        path: ["DEV_KEYS_DIR"],
        message: `development keys are refused when GRONDSLAG_ENV is ${env.GRONDSLAG_ENV}: unset DEV_KEYS_DIR, or set GRONDSLAG_ENV=development on a development machine`,
      });
    }
    if (!isLoopback(env.GATEWAY_HOST)) {
      ctx.addIssue({
        code: "custom",
        path: ["DEV_KEYS_DIR"],
        message: `development keys are refused when the gateway listens on ${env.GATEWAY_HOST}: listen on 127.0.0.1 (GATEWAY_HOST) or unset DEV_KEYS_DIR`,
      });
    }
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
