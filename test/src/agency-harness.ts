import crypto from "node:crypto";
import type { Agency } from "@grondslag/agency";
import { databaseUrl, type StackConfig } from "@grondslag/infra";
import { dropDbSchema, startGroupsAtEnd, uniqueDbSchema } from "@grondslag/infra/test";
import { readCredential } from "@grondslag/provision";
import { deadLetterTopic, deliveryTopic, rejectedTopic } from "@grondslag/wire";
import pino from "pino";
import type { startGateway } from "./gateway-harness";

type Gateway = Awaited<ReturnType<typeof startGateway>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- specs read answers
type Json = Record<string, any>;

/** `GET /v1/state` of an agency service. */
export interface AgencyState {
  service: string;
  party: string;
  transport: string;
  handled: number;
  state: Json;
  outbox: Json[];
  deadLetters: Json[];
}

export interface RunningAgency {
  url: string;
  party: string;
  schema: string;
  groupPrefix: string;
  deskToken: string;
  /** `GET /v1/state` (or any desk path), as the service's operator. */
  desk<T = Json>(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Waits until `found(state)` holds, polling `GET /v1/state`, or throws after `timeoutMs` with the last state. */
  until(found: (state: AgencyState) => boolean, what: string, timeoutMs?: number): Promise<AgencyState>;
  stop(opts?: { keepSchema?: boolean }): Promise<void>;
  agency: Agency;
}

/**
 * An agency service in this process, on the real stack and the spec's gateway: its own database schema and consumer
 * groups (started at the current end of its topics, so a used stack's history is not handled again), the party's
 * own Kafka credentials, and a development key in the gateway's key directory.
 */
export async function startAgency(
  agency: Agency,
  stack: StackConfig,
  credentialsFile: string,
  gw: Gateway,
  opts: { party?: string; schema?: string; groupPrefix?: string; env?: Record<string, string> } = {},
): Promise<RunningAgency> {
  const party = opts.party ?? agency.spec.party;
  if (!party) throw new Error(`${agency.spec.service} serves several parties: name one`);
  const schema = opts.schema ?? uniqueDbSchema(agency.spec.service.replace(/-/g, "_"));
  const groupPrefix = opts.groupPrefix ?? `${party}.t-${crypto.randomBytes(4).toString("hex")}`;
  const deskToken = crypto.randomBytes(24).toString("base64url");
  if (!opts.groupPrefix) {
    const topics = Object.keys(agency.spec.subscriptions);
    await startGroupsAtEnd(stack, {
      ...(agency.spec.transport === "kafka"
        ? Object.fromEntries(topics.map((t) => [`${groupPrefix}.${t}`, [deliveryTopic(party, t)]]))
        : {}),
      ...(agency.spec.transport === "kafka" ? { [`${groupPrefix}.rejected`]: [rejectedTopic(party)] } : {}),
      [`${groupPrefix}.replay`]: [deadLetterTopic(party)],
    });
  }
  const running = await agency.start({
    env: {
      GRONDSLAG_ENV: "development",
      LOG_LEVEL: "warn",
      AGENCY_PARTY: party,
      AGENCY_PORT: "0",
      GATEWAY_URL: gw.base,
      KAFKA_BROKERS: stack.kafka.brokers.join(","),
      AGENCY_KAFKA_PASSWORD: readCredential(credentialsFile, party),
      DATABASE_URL: databaseUrl(stack.postgres),
      AGENCY_DB_SCHEMA: schema,
      AGENCY_GROUP_PREFIX: groupPrefix,
      DESK_TOKEN: deskToken,
      AGENCY_KEYS_DIR: gw.keysDir,
      AGENCY_POLL_SECONDS: "2",
      AGENCY_OUTBOX_SWEEP_MS: "200",
      ...opts.env,
    },
    log: pino({ level: "warn" }),
    onFatal: (err, reason) => {
      throw new Error(`${agency.spec.service} stopped for good: ${reason}: ${err.message}`);
    },
  });
  const desk: RunningAgency["desk"] = async (method, urlPath, body) => {
    const res = await fetch(`${running.url}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${deskToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as never };
  };
  return {
    url: running.url,
    party,
    schema,
    groupPrefix,
    deskToken,
    agency,
    desk,
    async until(found, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        const r = await desk("GET", "/v1/state");
        last = r.body;
        if (r.status === 200 && found(r.body as AgencyState)) return r.body as AgencyState;
        if (Date.now() > deadline) {
          throw new Error(
            `${agency.spec.service} (${party}): ${what}: not after ${timeoutMs} ms; last state ${JSON.stringify(last).slice(0, 2000)}`,
          );
        }
        await new Promise((r2) => setTimeout(r2, 100));
      }
    },
    async stop(o = {}) {
      await running.stop("spec done");
      if (!o.keepSchema) await dropDbSchema(stack, schema);
    },
  };
}
