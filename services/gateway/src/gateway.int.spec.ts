import crypto from "node:crypto";
import csr from "@kafkajs/confluent-schema-registry";
import { readCredential } from "@grondslag/contracts/provision";
import { basicAuth, databaseUrl, waitFor } from "@grondslag/infra";
import { encodeEvent, exampleEvent } from "@grondslag/schemas";
import {
  readToEnd,
  readUntil,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueName,
} from "@grondslag/infra/test";
import type { KafkaMessage } from "kafkajs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayError } from "./errors";
import { createGateway, type Gateway, type GatewayConfig } from "./gateway";
import { H, header, toWire } from "./core/wire";
import type { PublishCommand } from "./ports";

const stack = testStack();
const credentials = testCredentialsFile();
const as = (name: string) => ({ name, password: readCredential(credentials, name) });
const registry = new csr.SchemaRegistry({ host: stack.registry.url, auth: stack.registry.gateway });

/** A delivered record: its event id and its value decoded with the schema it was written with. */
async function delivered(message: KafkaMessage) {
  if (!message.value) return undefined;
  return {
    eventId: header(message.headers, H.eventId),
    schemaIdHeader: header(message.headers, H.schemaId),
    wireSchemaId: message.value.readInt32BE(1),
    value: (await registry.decode(message.value)) as Record<string, unknown>,
  };
}

describe("gateway core against the real stack", () => {
  let gateway: Gateway;
  const uitlener = "uitlener.90000001";
  const config: GatewayConfig = {
    brokers: stack.kafka.brokers,
    kafkaUser: "grondslag.gateway",
    kafkaPassword: readCredential(credentials, "grondslag.gateway"),
    registryUrl: stack.registry.url,
    registryAuth: stack.registry.gateway,
    databaseUrl: databaseUrl(stack.postgres),
    dbSchema: "gateway",
    pseudonymKey: crypto.randomBytes(32),
    contractsDir: undefined,
  };

  beforeAll(async () => {
    gateway = createGateway(config, pino({ level: "warn" }));
    await gateway.start();
  });
  afterAll(() => gateway.stop());

  const accident = (reportReference: string): PublishCommand => ({
    topic: "arbo.accident-reported",
    producer: uitlener,
    grondslag: "arbowet-art9",
    purpose: "ongevalsmelding",
    idempotencyKey: uniqueName("idem"),
    traceparent: undefined,
    payload: { ...exampleEvent("arbo.accident-reported"), reportReference },
    channel: "http",
  });

  it("delivers an accident to nla with every field and to uwv without the health fields", async () => {
    const receipt = await gateway.publisher.publish(accident(uniqueName("ref")));
    const nla = await readUntil(stack, {
      topic: "deliver.nla.arbo.accident-reported",
      user: as("nla"),
      map: delivered,
      found: (seen) => seen.some((d) => d.eventId === receipt.eventId),
    });
    const nlaRecord = nla.find((d) => d.eventId === receipt.eventId);
    expect(nlaRecord?.schemaIdHeader).toBe(String(nlaRecord?.wireSchemaId));
    const forNla = nlaRecord?.value;
    expect(forNla).toHaveProperty("injury");
    expect(forNla).toHaveProperty("victim.name");

    const uwv = await readUntil(stack, {
      topic: "deliver.uwv.arbo.accident-reported",
      user: as("uwv"),
      map: delivered,
      found: (seen) => seen.some((d) => d.eventId === receipt.eventId),
    });
    const forUwv = uwv.find((d) => d.eventId === receipt.eventId)?.value;
    expect(forUwv).toBeDefined();
    expect(forUwv).not.toHaveProperty("injury");
    expect(forUwv).not.toHaveProperty("circumstances");
    expect(Object.keys(forUwv?.victim as object).sort()).toEqual(["agencyWorker", "bsn"]);
  });

  it("a retry with the same idempotency key returns the first receipt and publishes nothing new", async () => {
    const cmd = accident(uniqueName("ref"));
    const first = await gateway.publisher.publish(cmd);
    const again = await gateway.publisher.publish(cmd);
    expect(again).toMatchObject({ eventId: first.eventId, duplicate: true });
    await expect(
      gateway.publisher.publish({
        ...cmd,
        payload: { ...(cmd.payload as object), reportReference: "other" },
      }),
    ).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
    });
  });

  it("refuses with the rule that refused: producer, legal basis, purpose, schema path, identifier", async () => {
    const base = accident(uniqueName("ref"));
    const refusal = async (cmd: PublishCommand) =>
      gateway.publisher.publish(cmd).then(
        () => undefined,
        (e: unknown) => e as GatewayError,
      );
    expect((await refusal({ ...base, producer: "gemeente.schiedam" }))?.code).toBe("NOT_A_PRODUCER");
    expect((await refusal({ ...base, grondslag: "wet-brp" }))?.code).toBe("LEGAL_BASIS_NOT_ALLOWED");
    expect((await refusal({ ...base, purpose: "lsi-samenwerking" }))?.code).toBe("PURPOSE_NOT_ALLOWED");
    expect((await refusal({ ...base, topic: "events.arbo.accident-reported" }))?.code).toBe("UNKNOWN_TOPIC");
    const badSeverity = await refusal({
      ...base,
      payload: { ...(base.payload as object), severity: "MINOR" },
    });
    expect(badSeverity).toMatchObject({ code: "SCHEMA_VIOLATION", field: "severity" });
    const victim = { ...(base.payload as { victim: object }).victim, bsn: "123456789" };
    const badBsn = await refusal({ ...base, payload: { ...(base.payload as object), victim } });
    expect(badBsn).toMatchObject({ code: "INVALID_IDENTIFIER", field: "victim.bsn" });
  });

  it("a malformed record on an ingress topic lands in rejected.<party> and the next valid one passes", async () => {
    const party = as(uitlener);
    const producer = testKafka(stack, party).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const ref = uniqueName("ingress");
    const { id } = await fetch(
      `${stack.registry.url}/subjects/events.arbo.accident-reported-value/versions/latest`,
      { headers: { authorization: basicAuth(stack.registry.gateway) } },
    ).then((r) => r.json() as Promise<{ id: number }>);
    const headers = {
      "grondslag-topic": "arbo.accident-reported",
      grondslag: "arbowet-art9",
      doelbinding: "ongevalsmelding",
    };
    // A record that claims a 500-million-element array: it must not reach avsc's decoder.
    const hostile = toWire(
      id,
      Buffer.from([
        0x02,
        0x10,
        ...Array.from("9000000", (c) => c.charCodeAt(0)),
        0x80,
        0xe8,
        0xc8,
        0xdc,
        0x03,
      ]),
    );
    const valid = toWire(
      id,
      encodeEvent("arbo.accident-reported", {
        ...exampleEvent("arbo.accident-reported"),
        reportReference: ref,
      }),
    );
    await producer.send({
      topic: `ingress.${uitlener}`,
      acks: -1,
      messages: [
        { key: "90000001", value: hostile, headers: { ...headers, "idempotency-key": uniqueName("bad") } },
        { key: "90000001", value: valid, headers: { ...headers, "idempotency-key": uniqueName("good") } },
      ],
    });
    await producer.disconnect();

    const rejected = await readUntil(stack, {
      topic: `rejected.${uitlener}`,
      user: party,
      map: (m) => (m.value?.equals(hostile) ? header(m.headers, H.reasonCode) : undefined),
      found: (seen) => seen.length > 0,
    });
    expect(rejected[0]).toBe("MALFORMED_RECORD");
    const nla = await readUntil(stack, {
      topic: "deliver.nla.arbo.accident-reported",
      user: as("nla"),
      map: delivered,
      found: (seen) => seen.some((d) => d.value.reportReference === ref),
    });
    expect(nla.some((d) => d.value.reportReference === ref)).toBe(true);
  });

  it("a registration gap reaches only the municipality it concerns", async () => {
    const receipt = await gateway.publisher.publish({
      topic: "loonaangifte.registration-gap",
      producer: "uwv",
      grondslag: "wet-brp",
      purpose: "brp-adreskwaliteit",
      idempotencyKey: uniqueName("gap"),
      traceparent: undefined,
      payload: exampleEvent("loonaangifte.registration-gap"),
      channel: "http",
    });
    await readUntil(stack, {
      topic: "deliver.gemeente.horst-aan-de-maas.loonaangifte.registration-gap",
      user: as("gemeente.horst-aan-de-maas"),
      map: delivered,
      found: (seen) => seen.some((d) => d.eventId === receipt.eventId),
    });
    // Both deliveries of one event are written together: once Horst has it, Schiedam would have it too.
    const schiedam = await readToEnd(stack, {
      topic: "deliver.gemeente.schiedam.loonaangifte.registration-gap",
      user: as("gemeente.schiedam"),
      map: (m) => header(m.headers, H.eventId),
    });
    expect(schiedam).not.toContain(receipt.eventId);
  });

  it("audits COLLECT and DISCLOSE with pseudonyms, never the raw BSN", async () => {
    const cmd = accident(uniqueName("ref"));
    const bsn = (cmd.payload as { victim: { bsn: string } }).victim.bsn;
    const receipt = await gateway.publisher.publish(cmd);
    const records = await readUntil(stack, {
      topic: "audit.log",
      map: (m) => {
        const text = m.value?.toString() ?? "";
        return text.includes(receipt.eventId) ? text : undefined;
      },
      found: (seen) => seen.filter((t) => t.includes('"DISCLOSE"')).length >= 2,
    });
    const parsed = records.map(
      (t) => JSON.parse(t) as { action: string; recipient: string | null; subjects: unknown[] },
    );
    expect(parsed.map((r) => `${r.action}:${r.recipient ?? "-"}`).sort()).toEqual([
      "COLLECT:-",
      "DISCLOSE:nla",
      "DISCLOSE:uwv",
    ]);
    expect(parsed.every((r) => r.subjects.length > 0)).toBe(true);
    for (const t of records) expect(t).not.toContain(bsn);
  });

  it("replaying every canonical topic from the start (a crash before any commit) discloses nothing twice", async () => {
    const receipt = await gateway.publisher.publish(accident(uniqueName("ref")));
    await readUntil(stack, {
      topic: "deliver.nla.arbo.accident-reported",
      user: as("nla"),
      map: (m) => header(m.headers, H.eventId),
      found: (seen) => seen.includes(receipt.eventId),
    });
    // New consumer groups start at the beginning of every canonical topic: the worst replay there is.
    const groupPrefix = `grondslag.gateway.${uniqueName("replay")}`;
    const replay = createGateway({ ...config, groupPrefix, workers: ["delivery"] }, pino({ level: "warn" }));
    await replay.start();
    const admin = testKafka(stack).admin();
    await admin.connect();
    try {
      await waitFor(
        "the replay to reach the end of the canonical topics",
        async () => {
          const committed = await admin.fetchOffsets({ groupId: `${groupPrefix}.deliver` });
          for (const t of committed) {
            const ends = await admin.fetchTopicOffsets(t.topic);
            for (const e of ends) {
              const at = t.partitions.find((p) => p.partition === e.partition)?.offset ?? "-1";
              if (e.high !== e.low && at !== e.high) return undefined;
            }
          }
          return committed.length > 0 ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
    } finally {
      await admin.disconnect();
      await replay.stop();
    }
    const deliveries = await readToEnd(stack, {
      topic: "deliver.nla.arbo.accident-reported",
      user: as("nla"),
      map: (m) => header(m.headers, H.eventId),
    });
    expect(deliveries.filter((id) => id === receipt.eventId)).toHaveLength(1);
    const disclosures = await readToEnd(stack, {
      topic: "audit.log",
      map: (m) => {
        const r = JSON.parse(m.value?.toString() ?? "{}") as {
          eventId?: string;
          action?: string;
          recipient?: string;
        };
        return r.eventId === receipt.eventId && r.action === "DISCLOSE" && r.recipient === "nla"
          ? r
          : undefined;
      },
    });
    expect(disclosures).toHaveLength(1);
  });
});
