import { loadCatalogue } from "@grondslag/contracts";
import { waitFor } from "@grondslag/infra";
import {
  dropDbSchema,
  endOffsets,
  startGroupsAtEnd,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueDbSchema,
  uniqueName,
  type Offsets,
} from "@grondslag/infra/test";
import { exampleEvent, type Topic } from "@grondslag/schemas";
import { canonicalTopic } from "@grondslag/wire";
import type { Admin } from "kafkajs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway, type GatewayConfig } from "./gateway";
import type { PublishCommand } from "./ports";
import { testGatewayConfig } from "./test-config";

const stack = testStack();
const credentials = testCredentialsFile();
const LSI: Topic = "lsi.signal-raised";
const ACCIDENT: Topic = "arbo.accident-reported";
const log = pino({ level: "silent" });
const WAIT = { timeoutMs: 60_000 };

const signal = (): PublishCommand => ({
  topic: LSI,
  producer: "nla",
  grondslag: "suwi-art64",
  purpose: "lsi-samenwerking",
  idempotencyKey: uniqueName("lanes-lsi"),
  traceparent: undefined,
  payload: exampleEvent(LSI),
  channel: "http",
});
const accident = (): PublishCommand => ({
  topic: ACCIDENT,
  producer: "uitlener.90000001",
  grondslag: "meld-vergewisplicht-uitleners",
  purpose: "ongevalsmelding",
  idempotencyKey: uniqueName("lanes-acc"),
  traceparent: undefined,
  payload: { ...exampleEvent(ACCIDENT), reportReference: uniqueName("ref") },
  channel: "http",
});

/** Has `groupId` committed at least `ends` on every partition of `topic`? */
async function readTo(admin: Admin, groupId: string, topic: string, ends: Offsets): Promise<boolean> {
  const [read] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const at = new Map((read?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  return (ends[topic] ?? []).every((e) => (at.get(e.partition) ?? -1n) >= BigInt(e.offset));
}

async function placeOfIn(admin: Admin, groupId: string, topic: Topic): Promise<Record<number, string>> {
  const [read] = await admin.fetchOffsets({ groupId, topics: [canonicalTopic(topic)] });
  return Object.fromEntries((read?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

describe("delivery lanes (GATEWAY_URGENT_TOPICS)", () => {
  const prefix = uniqueName("grondslag.gateway.lanes");
  const schemas = [uniqueDbSchema("lanes1"), uniqueDbSchema("lanes2")];
  const canonical = Object.keys(loadCatalogue().topics).map((t) => canonicalTopic(t as Topic));
  const admin = testKafka(stack).admin();
  const running: Gateway[] = [];
  const disclosed: { gateway: number; topic: string; eventId: string }[] = [];
  const placeOf = (groupId: string, topic: Topic) => placeOfIn(admin, groupId, topic);
  const gatewayOf = (n: number, overrides: Partial<GatewayConfig>) => {
    const g = createGateway(
      testGatewayConfig(stack, credentials, {
        groupPrefix: prefix,
        dbSchema: schemas[n]!,
        workers: ["delivery"],
        instanceId: uniqueName(`lanes${n}`),
        ...overrides,
      }),
      log,
      () => new Date(),
      { onDisclosure: (d) => disclosed.push({ gateway: n, topic: d.topic, eventId: d.eventId }) },
    );
    running.push(g);
    return g;
  };

  beforeAll(async () => {
    await admin.connect();
    await startGroupsAtEnd(stack, { [`${prefix}.deliver`]: canonical });
  });

  afterAll(async () => {
    for (const g of running) await g.stop().catch(() => {});
    await admin.disconnect();
    for (const s of schemas) await dropDbSchema(stack, s);
  });

  it("a topic moved into the urgent lane starts where the bulk lane left it, and both lanes deliver", async () => {
    // A gateway without lanes delivers a signal, and stops.
    const before = gatewayOf(0, {});
    await before.start();
    expect(before.deliveryGroupOf(LSI)).toBe(`${prefix}.deliver`);
    const first = await before.publisher.publish(signal());
    await waitFor(
      "the first signal disclosed",
      () => Promise.resolve(disclosed.some((d) => d.eventId === first.eventId) ? true : undefined),
      WAIT,
    );
    const afterFirst = await endOffsets(stack, [canonicalTopic(LSI)]);
    await waitFor(
      "the bulk group past the first signal",
      async () =>
        (await readTo(admin, `${prefix}.deliver`, canonicalTopic(LSI), afterFirst)) ? true : undefined,
      WAIT,
    );
    await before.stop();
    const bulkAtStop = await placeOf(`${prefix}.deliver`, LSI);

    // The same groups with lsi.* in a lane of its own, and a database schema of its own: had the urgent group
    // started at the topic's beginning, nothing would keep it from disclosing the first signal again.
    const lanes = gatewayOf(1, { urgentTopics: ["lsi.*"] });
    await lanes.start();
    expect(lanes.deliveryGroupOf(LSI)).toBe(`${prefix}.deliver-urgent`);
    expect(lanes.deliveryGroupOf(ACCIDENT)).toBe(`${prefix}.deliver`);
    expect(lanes.groups).toContain(`${prefix}.deliver-urgent`);
    const second = await lanes.publisher.publish(signal());
    const report = await lanes.publisher.publish(accident());
    const both = () =>
      [second.eventId, report.eventId].every((id) =>
        disclosed.some((d) => d.gateway === 1 && d.eventId === id),
      );
    await waitFor(
      "the second signal and the accident report disclosed",
      () => Promise.resolve(both() ? true : undefined),
      WAIT,
    );
    expect(disclosed.filter((d) => d.gateway === 1 && d.eventId === first.eventId)).toEqual([]);
    // Each topic is read by its lane's group only: the bulk group's place on the signal topic stays where it was.
    const ends = await endOffsets(stack, [canonicalTopic(LSI)]);
    await waitFor(
      "the urgent group past the second signal",
      async () =>
        (await readTo(admin, `${prefix}.deliver-urgent`, canonicalTopic(LSI), ends)) ? true : undefined,
      WAIT,
    );
    expect(await placeOf(`${prefix}.deliver`, LSI)).toEqual(bulkAtStop);
    expect(Object.values(await placeOf(`${prefix}.deliver-urgent`, ACCIDENT)).every((o) => o === "-1")).toBe(
      true,
    );
  });
});
