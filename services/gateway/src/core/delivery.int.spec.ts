import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadCatalogue, projectSchema } from "@grondslag/contracts";
import { readCredential } from "@grondslag/provision";
import { deliveryTopic, subjectOf } from "@grondslag/wire";
import { basicAuth, databaseUrl, REPO_ROOT } from "@grondslag/infra";
import { exampleEvent, rawSchema } from "@grondslag/schemas";
import { readUntil, testCredentialsFile, testStack, uniqueName } from "@grondslag/infra/test";
import type { KafkaMessage } from "kafkajs";
import pg from "pg";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createGateway } from "../gateway";
import { testGatewayConfig } from "../test-config";
import { BUS_HEADERS as H, header } from "@grondslag/wire";

const stack = testStack();
// This spec registers a view of its own and removes it again: that takes the provisioning account.
const admin = basicAuth(stack.registry.admin);
const credentials = testCredentialsFile();
const as = (name: string) => ({ name, password: readCredential(credentials, name) });
// A topic no other spec publishes, so the stock gateways of a parallel run deliver nothing this spec must tell
// apart, and this spec's gateway (its own catalogue, dedupe tables and group) touches no other spec's events.
const TOPIC = "huisvesting.violation-found";
const KVK = "90000002";
const VIEWER = "szw.toelating";

/** The contracts of TOPIC alone, with szw.toelating's view losing subjectKvk (the canonical key). */
function contractsWithoutKeyForViewer(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-contracts-"));
  fs.cpSync(path.join(REPO_ROOT, "contracts", "data"), dir, { recursive: true });
  for (const f of fs.readdirSync(path.join(dir, "topics"))) {
    if (f !== `${TOPIC}.yaml`) fs.rmSync(path.join(dir, "topics", f));
  }
  const file = path.join(dir, "topics", `${TOPIC}.yaml`);
  const text = fs.readFileSync(file, "utf8");
  const at = text.indexOf(`  - party: ${VIEWER}`);
  const key = text.indexOf("      - subjectKvk\n", at);
  expect(at).toBeGreaterThan(0);
  expect(key).toBeGreaterThan(at);
  fs.writeFileSync(file, text.slice(0, key) + text.slice(key + "      - subjectKvk\n".length));
  return dir;
}

describe("delivery keys follow the consumer's view", () => {
  it("a view without the key field gets a keyed pseudonym on the Kafka key, stable per company; one with it gets the KvK", async () => {
    const dir = contractsWithoutKeyForViewer();
    const catalogue = loadCatalogue(dir);
    const entry = catalogue.topics[TOPIC]?.consumers.find((c) => c.party === VIEWER);
    expect(entry?.fields).not.toContain("subjectKvk");
    // Provisioning registers each view; this view is the test's own, so the test registers it (BACKWARD allows a
    // field fewer) and removes it again afterwards.
    const subject = subjectOf(deliveryTopic(VIEWER, TOPIC));
    const schema = projectSchema(rawSchema(TOPIC), entry?.fields ?? []);
    const registered = await fetch(`${stack.registry.url}/subjects/${subject}/versions`, {
      method: "POST",
      headers: { "content-type": "application/vnd.schemaregistry.v1+json", authorization: admin },
      body: JSON.stringify({ schemaType: "AVRO", schema: JSON.stringify(schema) }),
    });
    expect(registered.status).toBe(200);
    const viewId = ((await registered.json()) as { id: number }).id;
    const dbSchema = `gateway_${uniqueName("keys").replace(/-/g, "_")}`;
    const pool = new pg.Pool({ connectionString: databaseUrl(stack.postgres), max: 1 });

    const gateway = createGateway(
      testGatewayConfig(stack, credentials, {
        dbSchema,
        contractsDir: dir,
        groupPrefix: `grondslag.gateway.${uniqueName("keys")}`,
        workers: ["delivery"],
      }),
      pino({ level: "warn" }),
    );
    await gateway.start();
    try {
      const publish = () =>
        gateway.publisher.publish({
          topic: TOPIC,
          producer: "inspectie.snf",
          grondslag: "waadi-wtta-gegevensuitwisseling",
          purpose: "normenkader-toetsing",
          idempotencyKey: uniqueName("key"),
          traceparent: undefined,
          payload: { ...exampleEvent(TOPIC), subjectKvk: KVK },
          channel: "http",
        });
      const [a, b] = [await publish(), await publish()];
      const ours = new Set([a.eventId, b.eventId]);
      // Other gateways of the run may deliver the same events under the stock contracts: this gateway's
      // deliveries are the ones encoded with the view it was given.
      const viewer = await readUntil(stack, {
        topic: deliveryTopic(VIEWER, TOPIC),
        user: as(VIEWER),
        map: (m: KafkaMessage) =>
          ours.has(header(m.headers, H.eventId) ?? "") && m.value?.readInt32BE(1) === viewId ? m : undefined,
        found: (seen) => new Set(seen.map((m) => header(m.headers, H.eventId))).size === 2,
        timeoutMs: 90_000,
      });
      const keys = viewer.map((m) => m.key?.toString() ?? "");
      expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(keys.every((k) => k === keys[0])).toBe(true);
      for (const m of viewer) {
        expect(m.key?.includes(KVK)).toBe(false);
        expect(m.value?.includes(KVK)).toBe(false);
      }
      const nla = await readUntil(stack, {
        topic: `deliver.nla.${TOPIC}`,
        user: as("nla"),
        map: (m: KafkaMessage) => (ours.has(header(m.headers, H.eventId) ?? "") ? m : undefined),
        found: (seen) => seen.length >= 2,
        timeoutMs: 60_000,
      });
      expect(nla.map((m) => m.key?.toString()).every((k) => k === KVK)).toBe(true);
    } finally {
      await gateway.stop();
      const versions = (await (
        await fetch(`${stack.registry.url}/subjects/${subject}/versions`, {
          headers: { authorization: admin },
        })
      ).json()) as number[];
      for (const v of versions) {
        const res = await fetch(`${stack.registry.url}/subjects/${subject}/versions/${v}`, {
          headers: { authorization: admin },
        });
        const { id } = (await res.json()) as { id: number };
        if (id !== viewId) continue;
        await fetch(`${stack.registry.url}/subjects/${subject}/versions/${v}`, {
          method: "DELETE",
          headers: { authorization: admin },
        });
        await fetch(`${stack.registry.url}/subjects/${subject}/versions/${v}?permanent=true`, {
          method: "DELETE",
          headers: { authorization: admin },
        });
      }
      fs.rmSync(dir, { recursive: true, force: true });
      await pool.query(`DROP SCHEMA IF EXISTS ${dbSchema} CASCADE`).finally(() => pool.end());
    }
  });
});
