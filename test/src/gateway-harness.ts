import crypto from "node:crypto";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { readCredential } from "@grondslag/contracts/provision";
import { createApp } from "@grondslag/gateway/app";
import { directoryKeyStore, ensureDevKeyPair, signToken } from "@grondslag/gateway/auth";
import { createGateway } from "@grondslag/gateway/gateway";
import { openApiDocument } from "@grondslag/gateway/openapi";
import { databaseUrl, type StackConfig } from "@grondslag/infra";
import { createResponseValidator } from "@grondslag/sdk/testing";
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

/**
 * The real gateway, in this process: its core on the real stack, its HTTP app on an ephemeral port, tokens from a
 * dev key directory of its own. Every response a spec receives is validated against the OpenAPI document.
 */
export async function startGateway(stack: StackConfig, credentialsFile: string) {
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
      dbSchema: "gateway",
      pseudonymKey: crypto.randomBytes(32),
      contractsDir: undefined,
    },
    log,
  );
  await gateway.start();
  const app = createApp({
    publisher: gateway.publisher,
    subscriptions: gateway.subscriptions,
    readiness: gateway.readiness,
    registry: gateway.registryView,
    auth: { keyStore: directoryKeyStore(keysDir), audience: AUDIENCE, issuers: [ISSUER] },
    log,
    now: () => new Date(),
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.stop();
      fs.rmSync(keysDir, { recursive: true, force: true });
      fs.rmSync(strangerDir, { recursive: true, force: true });
    },
  };
}
