import { base64Key, baseEnv, isLoopback, port, readEnv as readServiceEnv } from "@grondslag/kit";
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

export type GatewayEnv = z.infer<typeof gatewayEnv>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return readServiceEnv("gateway", gatewayEnv, env);
}
