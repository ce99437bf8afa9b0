import { ingressTopic, rejectedTopic } from "@grondslag/wire";
import { readAuditRecord } from "@grondslag/kit";
import csr from "@kafkajs/confluent-schema-registry";
import { basicAuth } from "@grondslag/infra";
import {
  readToEnd,
  readUntil,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueName,
} from "@grondslag/infra/test";
import { readCredential } from "@grondslag/provision";
import { encodeEvent, exampleEvent } from "@grondslag/schemas";
import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../src/gateway-harness";

const stack = testStack();
const credentials = testCredentialsFile();
const as = (name: string) => ({ name, password: readCredential(credentials, name) });
const registry = new csr.SchemaRegistry({ host: stack.registry.url, auth: stack.registry.gateway });
const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

const SCHIEDAM = "gemeente.schiedam";
const HORST_DELIVERIES = "deliver.gemeente.horst-aan-de-maas.huisvesting.violation-found";
const housingHeaders = { Grondslag: "wet-goed-verhuurderschap", Doelbinding: "huisvestingstoezicht" };

/** A housing violation with its own case reference, in the municipality `code`. */
function violation(caseReference: string, municipalityCode: string) {
  const event = exampleEvent("huisvesting.violation-found");
  return { ...event, caseReference, dwelling: { ...event.dwelling, municipalityCode } };
}

describe("a producer publishes only about itself (contract bindings), over HTTP and Kafka", () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    gw = await startGateway(stack, credentials);
  });
  afterAll(() => gw.stop());

  it("refuses Schiedam's housing violation about Horst aan de Maas on both paths, and nothing reaches Horst", async () => {
    const overHttp = uniqueName("SCH-HTTP");
    const overKafka = uniqueName("SCH-KAFKA");
    const control = uniqueName("SNF-HORST");

    // HTTP: refused with the binding's code, naming the field.
    const res = await gw.call("POST", "/v1/topics/huisvesting.violation-found/events", {
      token: await gw.token(SCHIEDAM),
      headers: { ...housingHeaders, "Idempotency-Key": uniqueName("idem") },
      body: violation(overHttp, "GM1507"),
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      code: "BINDING_VIOLATED",
      detail:
        "dwelling.municipalityCode is not your own gemeentecode GM0606: gemeente.schiedam may publish on huisvesting.violation-found only about itself",
    });

    // Kafka ingress: the same record comes back on rejected.<party> with the same code.
    const { id } = await fetch(
      `${stack.registry.url}/subjects/events.huisvesting.violation-found-value/versions/latest`,
      { headers: { authorization: basicAuth(stack.registry.gateway) } },
    ).then((r) => r.json() as Promise<{ id: number }>);
    const value = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0]),
      encodeEvent("huisvesting.violation-found", violation(overKafka, "GM1507")),
    ]);
    value.writeInt32BE(id, 1);
    const producer = testKafka(stack, as(SCHIEDAM)).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({
        topic: ingressTopic(SCHIEDAM),
        acks: -1,
        messages: [
          {
            key: "90000002",
            value,
            headers: {
              "grondslag-topic": "huisvesting.violation-found",
              grondslag: housingHeaders.Grondslag,
              doelbinding: housingHeaders.Doelbinding,
              "idempotency-key": uniqueName("idem"),
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const rejected = await readUntil(stack, {
      topic: rejectedTopic(SCHIEDAM),
      user: as(SCHIEDAM),
      map: (m) => (m.value?.equals(value) ? header(m, "grondslag-reason-code") : undefined),
      found: (seen) => seen.length > 0,
    });
    expect(rejected).toEqual(["BINDING_VIOLATED"]);

    // Both refusals are audited with the code, and neither was collected.
    const audited = await readUntil(stack, {
      topic: "audit.log",
      map: (m) => {
        const r = readAuditRecord(m.value);
        return r?.producer === SCHIEDAM && r.reasonCode === "BINDING_VIOLATED" ? r : undefined;
      },
      found: (seen) => seen.some((r) => r.channel === "http") && seen.some((r) => r.channel === "kafka"),
    });
    expect(audited.every((r) => r.action === "REJECT")).toBe(true);

    // A control event that Horst may receive (SNF inspects nationwide), published after both refusals: once
    // Horst has it, anything collected before it would be there too.
    const ok = await gw.call("POST", "/v1/topics/huisvesting.violation-found/events", {
      token: await gw.token("inspectie.snf"),
      headers: {
        Grondslag: "waadi-wtta-gegevensuitwisseling",
        Doelbinding: "normenkader-toetsing",
        "Idempotency-Key": uniqueName("idem"),
      },
      body: violation(control, "GM1507"),
    });
    expect(ok.status).toBe(202);
    const caseOf = async (m: KafkaMessage) =>
      m.value
        ? String(((await registry.decode(m.value)) as { caseReference: string }).caseReference)
        : undefined;
    await readUntil(stack, {
      topic: HORST_DELIVERIES,
      user: as("gemeente.horst-aan-de-maas"),
      map: caseOf,
      found: (seen) => seen.includes(control),
    });
    const horst = await readToEnd(stack, {
      topic: HORST_DELIVERIES,
      user: as("gemeente.horst-aan-de-maas"),
      map: caseOf,
    });
    expect(horst).toContain(control);
    expect(horst).not.toContain(overHttp);
    expect(horst).not.toContain(overKafka);
  });

  it("still lets Schiedam file housing violations in Schiedam", async () => {
    const res = await gw.call("POST", "/v1/topics/huisvesting.violation-found/events", {
      token: await gw.token(SCHIEDAM),
      headers: { ...housingHeaders, "Idempotency-Key": uniqueName("idem") },
      body: violation(uniqueName("SCH-OWN"), "GM0606"),
    });
    expect(res.status).toBe(202);
  });
});
