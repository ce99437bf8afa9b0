import fs from "node:fs";
import path from "node:path";
import { loadCatalogue } from "@grondslag/contracts";
import { createService } from "@grondslag/kit";
import { ensureKeyPair, privateKeyFile, tokenSigner } from "@grondslag/sdk";
import type { JWK } from "jose";
import { createDeskApp } from "./app";
import { agencyEnv, type AgencyEnv } from "./env";
import { AgencyRuntime } from "./runtime";
import { Store } from "./store";
import type { AgencySpec } from "./types";

/** The party an instance is: fixed by the service, or `AGENCY_PARTY` (which must then be one the service serves). */
function partyOf(spec: AgencySpec, env: AgencyEnv): string {
  if (spec.party) {
    if (env.AGENCY_PARTY && env.AGENCY_PARTY !== spec.party) {
      throw new Error(
        `${spec.service} is always ${spec.party}; AGENCY_PARTY=${env.AGENCY_PARTY} is not it: unset it`,
      );
    }
    return spec.party;
  }
  if (!env.AGENCY_PARTY)
    throw new Error(`${spec.service} serves several parties: set AGENCY_PARTY to the one this instance is`);
  return env.AGENCY_PARTY;
}

async function signingKey(env: AgencyEnv, party: string): Promise<JWK> {
  // Development generates the party's key pair once (the gateway reads the public half from the same directory);
  // elsewhere the key must have been issued and registered in the contracts.
  if (env.GRONDSLAG_ENV === "development")
    return (await ensureKeyPair(env.AGENCY_KEYS_DIR, party)).privateJwk;
  const file = path.join(env.AGENCY_KEYS_DIR, privateKeyFile(party));
  if (!fs.existsSync(file)) {
    throw new Error(
      `no signing key for ${party} at ${file}: install the party's private JWK there (its public key registered in parties.yaml)`,
    );
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as JWK;
}

/**
 * An agency service from its spec: the kit's service skeleton (validated env, logger, metrics, ops endpoints,
 * graceful stop) around the agency runtime and its desk API. `main()` is the process entry point; `start()` runs it
 * in this process (tests).
 */
export function defineAgency(spec: AgencySpec) {
  let runtime: AgencyRuntime | undefined;
  let store: Store | undefined;
  const service = createService({
    name: spec.service,
    env: agencyEnv,
    listen: (env) => ({ host: env.AGENCY_HOST, port: env.AGENCY_PORT }),
    async start({ env, log, metrics }) {
      const party = partyOf(spec, env);
      const catalogue = loadCatalogue(env.CONTRACTS_DIR);
      if (!catalogue.parties[party])
        throw new Error(`${party} is not a party in the contracts (parties.yaml)`);
      const schema =
        env.AGENCY_DB_SCHEMA ??
        (spec.party ? spec.service : `${spec.service}_${party.split(".").slice(1).join("_")}`).replace(
          /[^a-z0-9_]/g,
          "_",
        );
      store = new Store(env.DATABASE_URL, schema);
      const privateJwk = await signingKey(env, party);
      runtime = new AgencyRuntime(
        spec,
        {
          party,
          gatewayUrl: env.GATEWAY_URL,
          brokers: env.KAFKA_BROKERS,
          kafkaPassword: env.AGENCY_KAFKA_PASSWORD,
          groupPrefix: env.AGENCY_GROUP_PREFIX ?? `${party}.${spec.service}`,
          token: tokenSigner({ party, privateJwk, issuer: env.AGENCY_TOKEN_ISSUER, ttlSeconds: 300 }),
          pollSeconds: env.AGENCY_POLL_SECONDS,
          outboxSweepMs: env.AGENCY_OUTBOX_SWEEP_MS,
        },
        store,
        catalogue,
        log.child({ party }),
        metrics,
      );
      await runtime.start();
      const rt = runtime;
      const readiness = {
        names: ["postgres", "consumers"],
        check: async () => {
          await rt.store.query("SELECT 1");
          const failure = rt.failure();
          return {
            checks: { postgres: true, consumers: failure === undefined },
            ...(failure ? { reasons: [failure.message] } : {}),
          };
        },
      };
      log.info(
        { party, transport: spec.transport, schema, topics: Object.keys(spec.subscriptions) },
        `${spec.service} started`,
      );
      return {
        http: createDeskApp({ runtime: rt, deskToken: env.DESK_TOKEN, metrics, readiness }),
        readiness,
      };
    },
    async stop() {
      await runtime?.stop();
      await store?.close();
      runtime = undefined;
      store = undefined;
    },
  });
  return {
    spec,
    start: service.start,
    main: service.main,
    /** The running runtime (in-process tests: drain the outbox, replay). */
    runtime: () => runtime,
  };
}

export type Agency = ReturnType<typeof defineAgency>;
