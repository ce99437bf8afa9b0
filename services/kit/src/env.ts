import { BlockList, isIP } from "node:net";
import { z } from "zod";

/**
 * Environment variables, validated once at start. Every problem is reported together, named by variable, so an
 * operator fixes them in one go; a service that gets an `EnvError` exits with code 2 (see `createService`).
 */
export class EnvError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid ${service} environment:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

export function readEnv<S extends z.ZodType>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new EnvError(
      service,
      parsed.error.issues.map((i) => `${i.path.join(".") || "(environment)"}: ${i.message}`),
    );
  }
  return parsed.data;
}

/** Variables every service reads; a service's own schema extends these (`baseEnv.extend({ … })`). */
export const baseEnv = z.object({
  /** Development relaxes what production must never allow (development keys); anything unset is production. */
  GRONDSLAG_ENV: z.enum(["development", "production"]).default("production"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** A comma-separated list (`KAFKA_BROKERS=a:9092,b:9092`), trimmed, without empty items. */
export const commaList = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** A port number (0 = any free port, for tests). */
export const port = z.coerce.number().int().min(0).max(65535);

/** Base64 of at least `bytes` random bytes (a key). */
export const base64Key = (bytes: number) =>
  z
    .string()
    .refine((s) => Buffer.from(s, "base64").length >= bytes, `must be base64 of at least ${bytes} bytes`);

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");
loopback.addSubnet("::ffff:127.0.0.0", 104, "ipv6");

/**
 * Does a service listening on `host` listen on this machine only? Only literal loopback addresses and `localhost`
 * count: another name may resolve anywhere, and 0.0.0.0 or :: listen on every interface.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost") return true;
  const family = isIP(h);
  return family !== 0 && loopback.check(h, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Development keys (`DEV_KEYS_DIR`) let anyone who can write that directory speak for any party, so a service
 * accepts them only with GRONDSLAG_ENV=development and only when it listens on loopback. A `superRefine` for a
 * service's env schema; `who` names the service in the message ("the gateway"), `hostVar` its host variable.
 */
export function devKeysOnlyInDevelopment<K extends string>(who: string, hostVar: K) {
  return (
    env: { DEV_KEYS_DIR?: string | undefined; GRONDSLAG_ENV: string } & Record<K, string>,
    ctx: z.RefinementCtx,
  ): void => {
    if (env.DEV_KEYS_DIR === undefined) return;
    if (env.GRONDSLAG_ENV !== "development") {
      ctx.addIssue({
        code: "custom",
        path: ["DEV_KEYS_DIR"],
        message: `development keys are refused when GRONDSLAG_ENV is ${env.GRONDSLAG_ENV}: unset DEV_KEYS_DIR, or set GRONDSLAG_ENV=development on a development machine`,
      });
    }
    const host = env[hostVar];
    if (!isLoopback(host)) {
      ctx.addIssue({
        code: "custom",
        path: ["DEV_KEYS_DIR"],
        message: `development keys are refused when ${who} listens on ${host}: listen on 127.0.0.1 (${hostVar}) or unset DEV_KEYS_DIR`,
      });
    }
  };
}
