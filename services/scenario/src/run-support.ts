import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadCatalogue, producerEntry, type Catalogue } from "@grondslag/contracts";
import { kafkaClient, STATE_DIR, type StackConfig } from "@grondslag/infra";
import type { Topic, TopicMap } from "@grondslag/schemas";
import { createClient, DEV_ISSUER, ensureKeyPair, RefusalError, tokenSigner } from "@grondslag/sdk";
import { deadLetterTopic, deliveryTopic, rejectedTopic } from "@grondslag/wire";
import pg from "pg";
import { AGENCIES, groupPrefixOf, schemaOf, type AgencyInstance } from "./agencies";
import type { AgencyState, DeskClient } from "./chain-run";

/** The agencies' desk token for this stack, generated once (mode 0600, git-ignored under infra/.state). */
export function deskTokenOf(): string {
  const file = path.join(STATE_DIR, "desk-token");
  if (!fs.existsSync(file))
    fs.writeFileSync(file, crypto.randomBytes(24).toString("base64url"), { mode: 0o600 });
  return fs.readFileSync(file, "utf8").trim();
}

export function deskClient(token: string, bus: { base: string; keysDir: string }): DeskClient {
  const portOf = new Map(AGENCIES.map((a) => [a.party, a.port]));
  const call: DeskClient["call"] = async (party, method, urlPath, body) => {
    const port = portOf.get(party);
    if (port === undefined) throw new Error(`no agency service runs as ${party}`);
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    call,
    async publish(party, topic, value) {
      const { privateJwk } = await ensureKeyPair(bus.keysDir, party);
      const client = createClient<Record<string, unknown>>({
        baseUrl: bus.base,
        token: tokenSigner({ party, privateJwk, issuer: DEV_ISSUER, ttlSeconds: 300 }),
      });
      const entry = producerEntry(loadCatalogue(), topic as Topic, party);
      if (!entry) throw new Error(`${party} is no producer of ${topic} in force`);
      const receipt = await client.publish(topic, value, {
        grondslag: entry.grondslag,
        purpose: entry.purposes[0] ?? "",
      });
      return receipt.eventId;
    },
    async state(party) {
      const r = await call(party, "GET", "/v1/state");
      if (r.status !== 200) throw new Error(`${party} GET /v1/state: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as AgencyState;
    },
  };
}

/**
 * Each `npm start` tells the chain from its beginning: the agencies this run starts get a fresh state (their schemas
 * dropped; the runtime recreates them) and their consumer groups start at the current end of their topics, so what
 * earlier runs or the test suite left on a shared stack is neither handled again nor mixed into this run's story. When
 * this run also started the gateway, the parties' HTTP mailboxes start at the end too. Production services never do
 * this: their state and offsets are the record of what they handled.
 */
export async function resetAgencies(
  config: StackConfig,
  catalogue: Catalogue,
  agencies: readonly AgencyInstance[],
  opts: { mailboxes: boolean; owner: string },
): Promise<void> {
  if (agencies.length === 0) return;
  const db = new pg.Client({ connectionString: opts.owner });
  await db.connect();
  try {
    for (const a of agencies) await db.query(`DROP SCHEMA IF EXISTS ${schemaOf(a)} CASCADE`);
  } finally {
    await db.end();
  }
  const admin = kafkaClient(config.kafka).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const groups: [string, string][] = [];
    for (const a of agencies) {
      const prefix = groupPrefixOf(a);
      for (const contract of Object.values(catalogue.topics)) {
        if (!contract) continue;
        const topic = deliveryTopic(a.party, contract.topic);
        if (!existing.has(topic)) continue;
        groups.push([`${prefix}.${contract.topic}`, topic]);
        if (opts.mailboxes && a.transport === "http")
          groups.push([`grondslag.gateway.http.${a.party}.${contract.topic}`, topic]);
      }
      if (existing.has(rejectedTopic(a.party))) groups.push([`${prefix}.rejected`, rejectedTopic(a.party)]);
      if (existing.has(deadLetterTopic(a.party))) groups.push([`${prefix}.replay`, deadLetterTopic(a.party)]);
    }
    for (const [groupId, topic] of groups) {
      const ends = await admin.fetchTopicOffsets(topic);
      await admin
        .setOffsets({
          groupId,
          topic,
          partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
        })
        .catch((err: unknown) => {
          // A group someone else holds open (a gateway left running) keeps its offsets: say so and go on.
          process.stderr.write(`  note: ${groupId} keeps its offsets (${(err as Error).message})\n`);
        });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * The deliberately refused attempt: the uitlener that lost its admission asks for the Arbeidsinspectie's accident
 * reports (injury and severity included), which no contract lets it read. The gateway must refuse it: 403
 * NOT_A_CONSUMER, recorded as a REJECT in the audit log.
 */
export async function refusedAttempt(
  base: string,
  keysDir: string,
): Promise<{ ok: boolean; line: string; code?: string; detail?: string }> {
  const party = "uitlener.90000002";
  const { privateJwk } = await ensureKeyPair(keysDir, party);
  const client = createClient<TopicMap>({
    baseUrl: base,
    token: tokenSigner({ party, privateJwk, issuer: DEV_ISSUER, ttlSeconds: 300 }),
  });
  try {
    await client.poll("arbo.accident-reported", { purpose: "handhaving-arbeidsomstandigheden" });
    return { ok: false, line: `${party} read arbo.accident-reported: the gateway let it through` };
  } catch (err) {
    if (err instanceof RefusalError && err.code === "NOT_A_CONSUMER") {
      return {
        ok: true,
        code: err.code,
        detail: err.detail,
        line: `${party} asks for the Arbeidsinspectie's accident reports: refused, ${err.status} ${err.code} — ${err.detail}`,
      };
    }
    return { ok: false, line: `${party} read attempt failed otherwise: ${(err as Error).message}` };
  }
}
