import { deliveryTopic } from "@grondslag/wire";
import crypto from "node:crypto";
import fs from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { consumersOf } from "@grondslag/contracts";
import { createApp } from "@grondslag/gateway/app";
import { directoryKeyStore, ensureDevKeyPair, signToken } from "@grondslag/gateway/auth";
import { createGateway, type GatewayConfig, type GatewayHooks } from "@grondslag/gateway/gateway";
import { openApiDocument } from "@grondslag/gateway/openapi";
import { databaseUrl, type StackConfig } from "@grondslag/infra";
import { dropDbSchema, startGroupsAtEnd, uniqueDbSchema, uniqueName } from "@grondslag/infra/test";
import { createResponseValidator } from "@grondslag/http-kit/testing";
import { refuseMalformedHttp } from "@grondslag/kit";
import { readCredential } from "@grondslag/provision";
import pino from "pino";

export const AUDIENCE = "grondslag-gateway";
export const ISSUER = "grondslag-dev";

export interface CallOptions {
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface GatewayOptions {
  /** Consumer groups (default `grondslag.gateway.e2e-<random>`: the gateway's ACLs cover `grondslag.gateway.`). */
  groupPrefix?: string;
  /** PostgreSQL schema (default `e2e_<random>`, dropped at stop). */
  dbSchema?: string;
  /** Which parties' ingress topics it reads (default all); give each spec's gateway its own parties. */
  ingressParties?: readonly string[];
  workers?: GatewayConfig["workers"];
  hooks?: GatewayHooks;
  /** The pseudonym key (default random); an audit service that looks persons up holds the same. */
  pseudonymKey?: Buffer;
}

/**
 * The real gateway, in this process: its core on the real stack, its HTTP app on an ephemeral port, tokens from a
 * dev key directory of its own. Every response a spec receives is validated against the OpenAPI document.
 *
 * Each gateway is isolated from every other on the stack (other specs running in parallel, a gateway left running
 * by `npm start`): consumer groups and a database schema of its own, the groups started at the current end of their
 * topics, so a used stack's backlog is neither replayed nor read. Its pseudonym key is random, so its audit records
 * differ from another gateway's for the same event.
 */
export async function startGateway(stack: StackConfig, credentialsFile: string, opts: GatewayOptions = {}) {
  const groupPrefix = opts.groupPrefix ?? uniqueName("grondslag.gateway.e2e");
  const dbSchema = opts.dbSchema ?? uniqueDbSchema("e2e");
  const pseudonymKey = opts.pseudonymKey ?? crypto.randomBytes(32);
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-keys-"));
  const strangerDir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-forger-"));
  const log = pino({ level: "warn" });
  const gateway = createGateway(
    {
      brokers: stack.kafka.brokers,
      kafkaUser: "grondslag.gateway",
      kafkaPassword: readCredential(credentialsFile, "grondslag.gateway"),
      registryUrl: stack.registry.url,
      registryAuth: stack.registry.gateway,
      databaseUrl: databaseUrl(stack.postgres),
      dbSchema,
      pseudonymKey,
      contractsDir: undefined,
      groupPrefix,
      ...(opts.ingressParties ? { ingressParties: opts.ingressParties } : {}),
      ...(opts.workers ? { workers: opts.workers } : {}),
    },
    log,
    () => new Date(),
    opts.hooks,
  );
  const { canonical, ingress } = gateway.kafkaTopics();
  const [deliverGroup, ingressGroup] = gateway.groups as [string, string];
  const catalogue = gateway.catalogue.current();
  // The HTTP subscription API's mailboxes too: a fresh mailbox group would start at the beginning of a backlog.
  const mailboxes = Object.fromEntries(
    gateway
      .kafkaTopics()
      .topics.flatMap((topic) =>
        consumersOf(catalogue, topic, new Date()).map((d) => [
          `${groupPrefix}.http.${d.party.id}.${topic}`,
          [deliveryTopic(d.party.id, topic)],
        ]),
      ),
  );
  await startGroupsAtEnd(stack, { [deliverGroup]: canonical, [ingressGroup]: ingress, ...mailboxes });
  await gateway.start();
  const appDeps = {
    publisher: gateway.publisher,
    subscriptions: gateway.subscriptions,
    readiness: gateway.readiness,
    registry: gateway.registryView,
    auth: { keyStore: directoryKeyStore(keysDir), audience: AUDIENCE, issuers: [ISSUER] },
    log,
    now: () => new Date(),
  };
  const servers: Server[] = [];
  /** Another HTTP app over the same core (e.g. with a tight rate limit), on an ephemeral port; stopped at stop(). */
  async function listen(overrides: Partial<Parameters<typeof createApp>[0]> = {}): Promise<string> {
    const server = refuseMalformedHttp(createApp({ ...appDeps, ...overrides }).listen(0, "127.0.0.1"));
    servers.push(server);
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const base = await listen();
  const validator = await createResponseValidator(openApiDocument());

  async function token(
    party: string,
    opts: { audience?: string; ttlSeconds?: number; now?: Date; forged?: boolean } = {},
  ): Promise<string> {
    const { privateJwk } = await ensureDevKeyPair(opts.forged ? strangerDir : keysDir, party);
    if (opts.forged) await ensureDevKeyPair(keysDir, party); // the party has a real key; the forger has another
    return signToken(privateJwk, {
      party,
      issuer: ISSUER,
      audience: opts.audience ?? AUDIENCE,
      ttlSeconds: opts.ttlSeconds ?? 300,
      now: opts.now ?? new Date(),
    });
  }

  async function call(method: string, urlPath: string, opts: CallOptions = {}): Promise<Reply> {
    const res = await fetch(`${base}${urlPath}`, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body === undefined ? {} : { "content-type": "application/json" }),
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    });
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    const body: unknown = /json/.test(type) && text ? JSON.parse(text) : text;
    validator.assert({
      method,
      path: urlPath,
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body,
    });
    return { status: res.status, headers: res.headers, body };
  }

  return {
    base,
    token,
    call,
    gateway,
    listen,
    /** Where the parties' development key pairs are (the gateway trusts their public keys). */
    keysDir,
    groupPrefix,
    dbSchema,
    async stop() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections(); // an open stream or a kept-alive socket must not hold the stop
            }),
        ),
      );
      await gateway.stop();
      await dropDbSchema(stack, dbSchema);
      fs.rmSync(keysDir, { recursive: true, force: true });
      fs.rmSync(strangerDir, { recursive: true, force: true });
    },
  };
}
