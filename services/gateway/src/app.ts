import express, { type Express } from "express";
import type { Logger } from "pino";
import { Gauge, Registry } from "prom-client";
import { apiVersionHeader, httpMetrics, problemHandler, serveOpenApi } from "@grondslag/http-kit/http";
import { apiVersion } from "@grondslag/http-kit/openapi";
import { mountOps } from "@grondslag/kit";
import { createTokenVerifier, type TokenVerifierOptions } from "./auth/verify";
import { GatewayError } from "./errors";
import {
  auditRefusals,
  authenticate,
  jsonBody,
  mapError,
  rateLimit,
  requestContext,
  singletonHeaders,
  topicGuard,
} from "./http/edge";
import { openApiDocument } from "./http/openapi";
import { createConcurrencyLimiter, createRateLimiter, type RateLimit } from "./http/rate-limit";
import { mountRegistry, type RegistryView } from "./http/registry";
import {
  batchHeaders,
  commitCursor,
  defaultLimits,
  pollDeliveries,
  publishEvent,
  publishEventBatch,
  publishHeaders,
  type HttpLimits,
} from "./http/routes";
import type { Publisher, Readiness, Subscriptions } from "./ports";

export type { HttpLimits } from "./http/routes";
export type { RateLimit } from "./http/rate-limit";

export interface AppDeps {
  publisher: Publisher;
  subscriptions: Subscriptions;
  readiness: Readiness;
  /** Token verification: the key store (parties registry or dev keys), audience, trusted issuers, lifetimes. */
  auth: Omit<TokenVerifierOptions, "now">;
  log: Logger;
  now: () => Date;
  /** Where HTTP metrics go and `/metrics` reads from; pass the one the core registers its metrics in. */
  metrics?: Registry;
  /** Per party, per instance. Default 100 requests/s, bursts of 200. `false` turns it off (benchmarks). */
  rateLimit?: RateLimit | false;
  limits?: Partial<HttpLimits>;
  /** The parties' read-only registry window (`/v1/registry`); without it those routes answer UNAVAILABLE. */
  registry?: RegistryView;
}

export const defaultRateLimit: RateLimit = { perSecond: 100, burst: 200 };

/**
 * The gateway's HTTP edge: authenticates, parses and maps; the core (the ports) decides and audits. Every route is
 * in `openapi/openapi.yaml`, which a unit test enforces. Never listens: main.ts does.
 */
export function createApp(deps: AppDeps): Express {
  const log = deps.log.child({ component: "http" });
  const doc = openApiDocument();
  const limits: HttpLimits = { ...defaultLimits, ...deps.limits };
  const registry = deps.metrics ?? new Registry();
  const verifier = createTokenVerifier({ ...deps.auth, now: deps.now });
  const rate = deps.rateLimit === false ? undefined : (deps.rateLimit ?? defaultRateLimit);
  const limiter = rate === undefined ? undefined : createRateLimiter(rate, deps.now);
  const held = {
    streams: createConcurrencyLimiter(limits.streamsPerParty),
    longPolls: createConcurrencyLimiter(limits.longPollsPerParty),
  };
  for (const [name, l] of [
    ["gateway_http_open_streams", held.streams],
    ["gateway_http_long_polls", held.longPolls],
  ] as const) {
    new Gauge({
      name,
      help: `${name === "gateway_http_open_streams" ? "Server-sent-event streams" : "Long polls"} open on this instance.`,
      registers: [registry],
      collect() {
        this.set(l.held());
      },
    });
  }

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  // ADR /core/no-trailing-slash: `/healthz/` is not `/healthz`.
  app.set("strict routing", true);
  app.set("case sensitive routing", true);

  app.use(apiVersionHeader(apiVersion(doc)));
  app.use(httpMetrics(registry, { prefix: "gateway_http" }));
  app.use(requestContext(log));
  app.use(singletonHeaders);

  const caller = [authenticate(verifier), rateLimit(limiter, rate?.perSecond ?? 0), topicGuard];

  app.get("/v1/openapi.json", serveOpenApi(doc));
  app.post(
    "/v1/topics/:topic/events",
    ...caller,
    publishHeaders,
    ...jsonBody(limits.eventBytes),
    publishEvent(deps.publisher),
  );
  app.post(
    "/v1/topics/:topic/event-batches",
    ...caller,
    batchHeaders,
    ...jsonBody(limits.batchBytes),
    publishEventBatch(deps.publisher, limits),
  );
  app.get(
    "/v1/topics/:topic/deliveries",
    ...caller,
    pollDeliveries(deps.subscriptions, limits, deps.now, held),
  );
  app.put(
    "/v1/topics/:topic/deliveries/cursor",
    ...caller,
    ...jsonBody(limits.cursorBytes),
    commitCursor(deps.subscriptions),
  );
  mountRegistry(app, {
    caller: [authenticate(verifier), rateLimit(limiter, rate?.perSecond ?? 0)],
    view: deps.registry,
  });
  mountOps(app, { metrics: registry, readiness: deps.readiness });

  app.use((req) => {
    throw new GatewayError(
      "NOT_FOUND",
      `${req.method} ${req.path.slice(0, 200)} is not a resource of this API`,
      "See /v1/openapi.json for the API's resources.",
    );
  });
  app.use(auditRefusals(deps.subscriptions));
  app.use(problemHandler({ map: mapError, log }));
  return app;
}
