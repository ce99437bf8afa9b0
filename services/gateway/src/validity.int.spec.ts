import crypto from "node:crypto";
import { readCredential } from "@grondslag/provision";
import {
  readToEnd,
  readUntil,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueName,
} from "@grondslag/infra/test";
import { encodeEvent, exampleEvent, rawSchema } from "@grondslag/schemas";
import kafkajs from "kafkajs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SchemaIds } from "@grondslag/kit";
import { BUS_HEADERS as H, canonicalTopic, header, subjectOf, toWire } from "@grondslag/wire";
import { createGateway, type Gateway } from "./gateway";
import { testGatewayConfig } from "./test-config";

const stack = testStack();
const credentials = testCredentialsFile();
const as = (name: string) => ({ name, password: readCredential(credentials, name) });
const TOPIC = "lsi.signal-raised";

describe("delivery follows the consumer entry's window at collection time (real stack)", () => {
  let gateway: Gateway;

  beforeAll(async () => {
    gateway = createGateway(testGatewayConfig(stack, credentials), pino({ level: "warn" }));
    await gateway.start();
  });
  afterAll(() => gateway.stop());

  it("an LSI signal collected in 2022 reaches nla but not the SVB, whose entry starts in 2023; one collected now reaches both", async () => {
    // A canonical record as the gateway writes it, collected (Kafka CreateTime) on 31 December 2022: what a
    // replay or a migrated backlog hands the delivery worker today.
    const oldId = crypto.randomUUID();
    const schemaId = await new SchemaIds(stack.registry.url, stack.registry.gateway).idOf(
      subjectOf(canonicalTopic(TOPIC)),
      rawSchema(TOPIC),
    );
    const producer = testKafka(stack).producer({
      allowAutoTopicCreation: false,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      await producer.send({
        topic: canonicalTopic(TOPIC),
        acks: -1,
        messages: [
          {
            key: "90000002",
            timestamp: String(Date.parse("2022-12-31T12:00:00Z")),
            value: toWire(schemaId, encodeEvent(TOPIC, exampleEvent(TOPIC))),
            headers: {
              [H.eventId]: oldId,
              [H.topic]: TOPIC,
              [H.producer]: "nla",
              [H.grondslag]: "suwi-art64",
              [H.purpose]: "lsi-samenwerking",
              [H.schemaId]: String(schemaId),
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const eventIds = (m: kafkajs.KafkaMessage) => header(m.headers, H.eventId);
    await readUntil(stack, {
      topic: `deliver.nla.${TOPIC}`,
      user: as("nla"),
      map: eventIds,
      found: (seen) => seen.includes(oldId),
    });
    // Both deliveries of one event are written together: once nla has it, the SVB would have it too.
    expect(
      await readToEnd(stack, { topic: `deliver.svb.${TOPIC}`, user: as("svb"), map: eventIds }),
    ).not.toContain(oldId);

    const fresh = await gateway.publisher.publish({
      topic: TOPIC,
      producer: "nla",
      grondslag: "suwi-art64",
      purpose: "lsi-samenwerking",
      idempotencyKey: uniqueName("lsi"),
      traceparent: undefined,
      payload: exampleEvent(TOPIC),
      channel: "http",
    });
    await readUntil(stack, {
      topic: `deliver.svb.${TOPIC}`,
      user: as("svb"),
      map: eventIds,
      found: (seen) => seen.includes(fresh.eventId),
    });
  });
});
