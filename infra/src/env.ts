import { z } from "zod";

/**
 * The infra package's environment, validated once. Every variable is listed with its meaning in .env.example.
 * `native` runs the stack from fetched jars on this machine, `docker` through testcontainers and the compose file,
 * `external` uses addresses given here (a shared dev cluster, CI services).
 */
const schema = z.object({
  GRONDSLAG_INFRA: z.enum(["native", "docker", "external"]).default("native"),
  GRONDSLAG_KAFKA_PORT: z.coerce.number().int().min(1).max(65535).default(19092),
  GRONDSLAG_KAFKA_CONTROLLER_PORT: z.coerce.number().int().min(1).max(65535).default(19093),
  /**
   * A cluster's nodes 2.. listen on two ports each from here (broker, controller): node 2 on this and the next,
   * node 3 on the two after. Default GRONDSLAG_KAFKA_PORT + 8 (19100 for the default 19092).
   */
  GRONDSLAG_KAFKA_EXTRA_PORTS_FROM: z.coerce.number().int().min(1).max(65535).optional(),
  GRONDSLAG_REGISTRY_PORT: z.coerce.number().int().min(1).max(65535).default(18080),
  GRONDSLAG_REGISTRY_MANAGEMENT_PORT: z.coerce.number().int().min(1).max(65535).default(18081),
  GRONDSLAG_REGISTRY_JAVA: z.string().optional(),
  GRONDSLAG_PG_URL: z.string().default("postgres://postgres@127.0.0.1:5432/postgres"),
  GRONDSLAG_PG_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "a lower-case SQL identifier")
    .default("grondslag"),
  // Only for GRONDSLAG_INFRA=external:
  GRONDSLAG_KAFKA_BROKERS: z.string().optional(),
  GRONDSLAG_KAFKA_ADMIN_USER: z.string().optional(),
  GRONDSLAG_KAFKA_ADMIN_PASSWORD: z.string().optional(),
  GRONDSLAG_REGISTRY_URL: z.string().url().optional(),
  GRONDSLAG_REGISTRY_ADMIN_USER: z.string().optional(),
  GRONDSLAG_REGISTRY_ADMIN_PASSWORD: z.string().optional(),
  GRONDSLAG_REGISTRY_GATEWAY_USER: z.string().optional(),
  GRONDSLAG_REGISTRY_GATEWAY_PASSWORD: z.string().optional(),
});

export type InfraEnv = z.infer<typeof schema>;

export function readInfraEnv(env: NodeJS.ProcessEnv = process.env): InfraEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid environment for the local stack:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.GRONDSLAG_INFRA === "external") {
    const missing = (
      [
        "GRONDSLAG_KAFKA_BROKERS",
        "GRONDSLAG_KAFKA_ADMIN_USER",
        "GRONDSLAG_KAFKA_ADMIN_PASSWORD",
        "GRONDSLAG_REGISTRY_URL",
        "GRONDSLAG_REGISTRY_ADMIN_USER",
        "GRONDSLAG_REGISTRY_ADMIN_PASSWORD",
        "GRONDSLAG_REGISTRY_GATEWAY_USER",
        "GRONDSLAG_REGISTRY_GATEWAY_PASSWORD",
      ] as const
    ).filter((k) => !e[k]);
    if (missing.length > 0) {
      throw new Error(`GRONDSLAG_INFRA=external needs ${missing.join(", ")} (see .env.example)`);
    }
  }
  return e;
}
