// A gateway in a process of its own, for specs that must measure the gateway's process (RSS, CPU) or survive it
// hanging: built like main.ts (core, core metrics, HTTP app), configured by one JSON argument, and announcing
// `{"port":…}` on stdout once it listens. Not part of the product: only specs start it.
import crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Registry } from "prom-client";
import { createApp, type HttpLimits } from "./app";
import { directoryKeyStore } from "./auth";
import { coreMetrics } from "./core/metrics";
import { createGateway, type GatewayConfig, type GatewayHooks } from "./gateway";

interface ChildConfig {
  gateway: Omit<GatewayConfig, "pseudonymKey">;
  keysDir: string;
  limits?: Partial<HttpLimits>;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;
const log = pino({ level: "warn" });
const metrics = new Registry();
const hooks: GatewayHooks = {};
const gateway = createGateway(
  { ...config.gateway, pseudonymKey: crypto.randomBytes(32) },
  log,
  () => new Date(),
  hooks,
);
Object.assign(
  hooks,
  coreMetrics(metrics, {
    admin: gateway.admin,
    groups: gateway.groups,
    catalogue: gateway.catalogue.current,
  }),
);
await gateway.start();
const app = createApp({
  publisher: gateway.publisher,
  subscriptions: gateway.subscriptions,
  readiness: gateway.readiness,
  auth: {
    keyStore: directoryKeyStore(config.keysDir),
    audience: "grondslag-gateway",
    issuers: ["grondslag-dev"],
  },
  log,
  now: () => new Date(),
  metrics,
  rateLimit: false,
  ...(config.limits ? { limits: config.limits } : {}),
});
const server = app.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void gateway.stop().finally(() => process.exit(0));
});
