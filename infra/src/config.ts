import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { STATE_DIR } from "./paths";

/**
 * Where the running stack listens and how an administrator reaches it. Written by `infra:up` (native) to
 * infra/.state/stack.json, or built from env (external) or from testcontainers (docker). Everything that needs
 * the stack (tests, `contracts:apply`, `npm start`) reads this one shape.
 */
const registryCredential = z.object({ username: z.string().min(1), password: z.string().min(1) });

export const stackConfigSchema = z.object({
  mode: z.enum(["native", "docker", "external"]),
  kafka: z.object({
    brokers: z.array(z.string()).min(1),
    /** The super user: provisioning only. Parties and services get SCRAM users of their own. */
    admin: z.object({ mechanism: z.literal("plain"), username: z.string(), password: z.string() }),
    /** SASL mechanism parties and services use. */
    userMechanism: z.literal("scram-sha-256"),
    version: z.string(),
  }),
  registry: z.object({
    /** Base of the Confluent-compatible API (…/apis/ccompat/v7). */
    url: z.string().url(),
    /** Base of Apicurio's own API, for what the Confluent API lacks (version info). */
    nativeUrl: z.string().url(),
    version: z.string(),
    /**
     * HTTP basic credentials; the registry refuses anonymous callers. `admin` (role sr-admin) is for provisioning
     * and tests that register; `gateway` (sr-readonly) is the gateway's. Parties have none: they read through the
     * gateway's `/v1/registry` subset.
     */
    admin: registryCredential,
    gateway: registryCredential,
  }),
  postgres: z.object({ url: z.string(), database: z.string() }),
});
export type StackConfig = z.infer<typeof stackConfigSchema>;

const STACK_FILE = path.join(STATE_DIR, "stack.json");

/** Writes `config` to the default stack's stack.json, or to `<stateDir>/stack.json` of another (private) stack. */
export function writeStackConfig(config: StackConfig, stateDir = STATE_DIR): void {
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(path.join(stateDir, "stack.json"), JSON.stringify(config, null, 2) + "\n", {
    mode: 0o600,
  });
}

/** The native stack's config as `infra:up` left it, or undefined before the first `infra:up`. */
export function readStackFile(): StackConfig | undefined {
  if (!fs.existsSync(STACK_FILE)) return undefined;
  return stackConfigSchema.parse(JSON.parse(fs.readFileSync(STACK_FILE, "utf8")));
}

/** The URL of the project's database on the server that `url` names. */
export function databaseUrl(pg: StackConfig["postgres"]): string {
  const u = new URL(pg.url);
  u.pathname = `/${pg.database}`;
  return u.toString();
}

/**
 * Generated SCRAM passwords of the parties and services `contracts:apply` provisions on the local stack (mode 0600,
 * git-ignored). A real deployment keeps these in its secret store instead.
 */
export const CREDENTIALS_FILE = path.join(STATE_DIR, "credentials.json");
