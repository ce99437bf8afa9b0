import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadCatalogue, producerEntry, type Catalogue } from "@grondslag/contracts";
import { kafkaClient, STATE_DIR, type StackConfig } from "@grondslag/infra";
import { startGroupsAtEnd } from "@grondslag/infra/test";
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

export function deskClient(
  token: string,
  bus: { base: string; keysDir: string; catalogue?: Catalogue },
): DeskClient {
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
      const entry = producerEntry(bus.catalogue ?? loadCatalogue(), topic as Topic, party);
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
  const existing = new Set(await admin.listTopics().finally(() => admin.disconnect()));
  const groups: Record<string, string[]> = {};
  for (const a of agencies) {
    const prefix = groupPrefixOf(a);
    for (const contract of Object.values(catalogue.topics)) {
      if (!contract) continue;
      const topic = deliveryTopic(a.party, contract.topic);
      if (!existing.has(topic)) continue;
      groups[`${prefix}.${contract.topic}`] = [topic];
      if (opts.mailboxes && a.transport === "http")
        groups[`grondslag.gateway.http.${a.party}.${contract.topic}`] = [topic];
    }
    if (existing.has(rejectedTopic(a.party))) groups[`${prefix}.rejected`] = [rejectedTopic(a.party)];
    if (existing.has(deadLetterTopic(a.party))) groups[`${prefix}.replay`] = [deadLetterTopic(a.party)];
  }
  // One offset commit per group, without joining it (a join would wait for a rebalance per group).
  await startGroupsAtEnd(config, groups);
}

/**
 * Waits until the gateway's workers have read every canonical and ingress record written so far (their groups'
 * committed offsets at the topics' ends). A shared stack holds what earlier runs or the test suite left: the gateway
 * delivers that backlog first (nothing it acknowledged is skipped), and only then do this run's agencies start at the
 * end of their delivery topics, so the chain's story is not mixed with it.
 */
export async function gatewayCaughtUp(
  config: StackConfig,
  progress: (line: string) => void,
  timeoutMs = 180_000,
): Promise<void> {
  const admin = kafkaClient(config.kafka).admin();
  await admin.connect();
  try {
    const all = await admin.listTopics();
    const watch: [string, string[]][] = [
      ["grondslag.gateway.deliver", all.filter((t) => t.startsWith("events."))],
      ["grondslag.gateway.ingress", all.filter((t) => t.startsWith("ingress."))],
    ];
    const deadline = Date.now() + timeoutMs;
    let reported = 0;
    for (;;) {
      let lag = 0;
      for (const [groupId, topics] of watch) {
        const committed = await admin.fetchOffsets({ groupId, topics });
        for (const topic of topics) {
          const ends = await admin.fetchTopicOffsets(topic);
          const at = new Map(
            (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
              p.partition,
              Number(p.offset),
            ]),
          );
          for (const e of ends)
            lag += Math.max(0, Number(e.high) - Math.max(at.get(e.partition) ?? 0, Number(e.low)));
        }
      }
      if (lag === 0) return;
      if (Date.now() > deadline) {
        progress(`the gateway still has ${lag} records to read after ${timeoutMs / 1000} s: going on`);
        return;
      }
      if (Date.now() - reported > 5_000) {
        progress(`the gateway is delivering what the stack held before this run: ${lag} records to go …`);
        reported = Date.now();
      }
      await new Promise((r) => setTimeout(r, 500));
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
