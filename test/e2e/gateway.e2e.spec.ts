import crypto from "node:crypto";
import csr from "@kafkajs/confluent-schema-registry";
import { readCredential } from "@grondslag/contracts/provision";
import { basicAuth } from "@grondslag/infra";
import {
  readToEnd,
  readUntil,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueName,
} from "@grondslag/infra/test";
import { encodeEvent, exampleEvent } from "@grondslag/schemas";
import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../src/gateway-harness";

const stack = testStack();
const credentials = testCredentialsFile();
const as = (name: string) => ({ name, password: readCredential(credentials, name) });
const registry = new csr.SchemaRegistry({ host: stack.registry.url, auth: stack.registry.gateway });
const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

const UITLENER = "uitlener.90000001";
const accidentHeaders = { Grondslag: "arbowet-art9", Doelbinding: "ongevalsmelding" };

describe("the gateway end to end, over HTTP and Kafka, against the real stack", () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    gw = await startGateway(stack, credentials);
  });
  afterAll(() => gw.stop());

  const publishAccident = async (reportReference: string, extra: Record<string, string> = {}) =>
    gw.call("POST", "/v1/topics/arbo.accident-reported/events", {
      token: await gw.token(UITLENER),
      headers: { ...accidentHeaders, "Idempotency-Key": uniqueName("idem"), ...extra },
      body: { ...exampleEvent("arbo.accident-reported"), reportReference },
    });

  it("serves its OpenAPI document without authentication, readable cross-origin", async () => {
    const res = await gw.call("GET", "/v1/openapi.json", { headers: { Origin: "https://example.org" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("api-version")).toMatch(/^\d+\.\d+\.\d+$/);
    expect((res.body as { openapi: string }).openapi).toMatch(/^3\./);
  });

  it("an accident reported by an uitlener reaches nla with every field and uwv without the health fields", async () => {
    // A long-lived stack may hold a backlog in nla's mailbox (a benchmark, earlier runs): start it at the end, so the
    // polls below page through this test's events only. (The mailbox group is idle until the first poll.)
    const admin = testKafka(stack).admin();
    await admin.connect();
    try {
      // Real end offsets: kafkajs' resetOffsets commits -1, which its consumer then reads as "no offset".
      const ends = await admin.fetchTopicOffsets("deliver.nla.arbo.accident-reported");
      await admin.setOffsets({
        groupId: "grondslag.gateway.http.nla.arbo.accident-reported",
        topic: "deliver.nla.arbo.accident-reported",
        partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
      });
    } finally {
      await admin.disconnect();
    }
    const ref = uniqueName("ref");
    const res = await publishAccident(ref);
    expect(res.status).toBe(202);
    const { eventId } = res.body as { eventId: string };

    // nla reads over the HTTP subscription API…
    const nlaToken = await gw.token("nla");
    let forNla: Record<string, unknown> | undefined;
    const deadline = Date.now() + 45_000;
    while (!forNla && Date.now() < deadline) {
      const poll = await gw.call("GET", "/v1/topics/arbo.accident-reported/deliveries?max=100&wait=10", {
        token: nlaToken,
        headers: { Doelbinding: "ongevalsonderzoek" },
      });
      expect(poll.status).toBe(200);
      const { events } = poll.body as {
        events: { eventId: string; cursor: string; data: Record<string, unknown> }[];
      };
      forNla = events.find((e) => e.eventId === eventId)?.data;
      const last = events[events.length - 1];
      if (last) {
        const commit = await gw.call("PUT", "/v1/topics/arbo.accident-reported/deliveries/cursor", {
          token: nlaToken,
          headers: { Doelbinding: "ongevalsonderzoek" },
          body: { cursor: last.cursor },
        });
        expect(commit.status).toBeLessThan(300);
      }
    }
    expect(forNla).toBeDefined();
    expect(forNla).toHaveProperty("injury");
    expect(forNla).toHaveProperty("victim.name");
    expect(forNla).toHaveProperty("reportReference", ref);

    // …and uwv with its own Kafka principal on its delivery topic, through the broker's ACLs.
    const uwv = await readUntil(stack, {
      topic: "deliver.uwv.arbo.accident-reported",
      user: as("uwv"),
      map: async (m) =>
        header(m, "grondslag-event-id") === eventId && m.value
          ? ((await registry.decode(m.value)) as Record<string, unknown>)
          : undefined,
      found: (seen) => seen.length > 0,
    });
    expect(uwv[0]).not.toHaveProperty("injury");
    expect(uwv[0]).not.toHaveProperty("circumstances");
    expect(Object.keys(uwv[0]?.victim as object).sort()).toEqual(["agencyWorker", "bsn"]);
  });

  it("a municipality that subscribes to accidents gets 403, and the refusal is audited", async () => {
    const traceId = crypto.randomBytes(16).toString("hex");
    const res = await gw.call("GET", "/v1/topics/arbo.accident-reported/deliveries?max=1", {
      token: await gw.token("gemeente.schiedam"),
      headers: { Doelbinding: "huisvestingstoezicht", traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: "NOT_A_CONSUMER", status: 403 });
    expect((res.body as { fix: string }).fix).toBeTruthy();
    const audited = await readUntil(stack, {
      topic: "audit.log",
      map: (m) => {
        const r = JSON.parse(m.value?.toString() ?? "{}") as {
          traceId?: string;
          action?: string;
          reasonCode?: string;
          recipient?: string;
        };
        return r.traceId === traceId ? r : undefined;
      },
      found: (seen) => seen.length > 0,
    });
    expect(audited[0]).toMatchObject({
      action: "REJECT",
      reasonCode: "NOT_A_CONSUMER",
      recipient: "gemeente.schiedam",
    });
  });

  it("forged, expired and wrong-audience tokens get 401; a missing token too", async () => {
    const body = exampleEvent("arbo.accident-reported");
    const path = "/v1/topics/arbo.accident-reported/events";
    const tokens = {
      forged: await gw.token(UITLENER, { forged: true }),
      expired: await gw.token(UITLENER, { ttlSeconds: 60, now: new Date(Date.now() - 3600_000) }),
      wrongAudience: await gw.token(UITLENER, { audience: "another-api" }),
    };
    for (const [kind, token] of Object.entries(tokens)) {
      const res = await gw.call("POST", path, { token, headers: accidentHeaders, body });
      expect(res.status, kind).toBe(401);
      expect(res.body, kind).toMatchObject({ code: "UNAUTHENTICATED" });
      expect(res.headers.get("www-authenticate"), kind).toMatch(/^Bearer/);
    }
    const none = await gw.call("POST", path, { headers: accidentHeaders, body });
    expect(none.status).toBe(401);
  });

  it("a wrong purpose gets 403 naming the rule and the purposes allowed", async () => {
    const res = await publishAccident(uniqueName("ref"), { Doelbinding: "lsi-samenwerking" });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "PURPOSE_NOT_ALLOWED" });
    expect((res.body as { detail: string }).detail).toContain("ongevalsmelding");
  });

  it("a schema violation gets 400 with the field path", async () => {
    const event = exampleEvent("arbo.accident-reported");
    const res = await gw.call("POST", "/v1/topics/arbo.accident-reported/events", {
      token: await gw.token(UITLENER),
      headers: accidentHeaders,
      body: { ...event, location: { ...event.location, postalCode: 3111 } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "SCHEMA_VIOLATION", field: "location.postalCode" });
  });

  it("a malformed Avro record on an ingress topic lands in rejected.<party>, and the next valid one passes", async () => {
    const party = as(UITLENER);
    const { id } = (await (
      await fetch(`${stack.registry.url}/subjects/events.arbo.accident-reported-value/versions/latest`, {
        headers: { authorization: basicAuth(stack.registry.gateway) },
      })
    ).json()) as { id: number };
    // The registry wire format: magic byte 0, the schema id, the Avro body.
    const withId = (body: Buffer) => {
      const b = Buffer.alloc(5 + body.length);
      b.writeInt32BE(id, 1);
      body.copy(b, 5);
      return b;
    };
    // eventTime, subjectKvk, then a string that claims to be 2^40 bytes long.
    const hostile = withId(
      Buffer.from([0x02, 0x10, ...Buffer.from("90000001"), 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]),
    );
    const ref = uniqueName("ingress");
    const valid = withId(
      encodeEvent("arbo.accident-reported", {
        ...exampleEvent("arbo.accident-reported"),
        reportReference: ref,
      }),
    );
    const headers = {
      "grondslag-topic": "arbo.accident-reported",
      grondslag: "arbowet-art9",
      doelbinding: "ongevalsmelding",
    };
    const producer = testKafka(stack, party).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: `ingress.${UITLENER}`,
      acks: -1,
      messages: [
        { key: "90000001", value: hostile, headers },
        { key: "90000001", value: valid, headers: { ...headers, "idempotency-key": ref } },
      ],
    });
    await producer.disconnect();

    const rejected = await readUntil(stack, {
      topic: `rejected.${UITLENER}`,
      user: party,
      map: (m) =>
        m.value?.equals(hostile)
          ? { code: header(m, "grondslag-reason-code"), fix: header(m, "grondslag-reason-fix") }
          : undefined,
      found: (seen) => seen.length > 0,
    });
    expect(rejected[0]?.code).toBe("MALFORMED_RECORD");
    expect(rejected[0]?.fix).toBeTruthy();
    const nla = await readUntil(stack, {
      topic: "deliver.nla.arbo.accident-reported",
      user: as("nla"),
      map: async (m) =>
        m.value
          ? ((await registry.decode(m.value)) as { reportReference?: string }).reportReference
          : undefined,
      found: (seen) => seen.includes(ref),
    });
    expect(nla).toContain(ref);
  });

  it("a registration-gap event reaches only the municipality it concerns", async () => {
    const res = await gw.call("POST", "/v1/topics/loonaangifte.registration-gap/events", {
      token: await gw.token("uwv"),
      headers: {
        Grondslag: "wet-brp",
        Doelbinding: "brp-adreskwaliteit",
        "Idempotency-Key": uniqueName("gap"),
      },
      body: exampleEvent("loonaangifte.registration-gap"),
    });
    expect(res.status).toBe(202);
    const { eventId } = res.body as { eventId: string };
    await readUntil(stack, {
      topic: "deliver.gemeente.horst-aan-de-maas.loonaangifte.registration-gap",
      user: as("gemeente.horst-aan-de-maas"),
      map: (m) => header(m, "grondslag-event-id"),
      found: (seen) => seen.includes(eventId),
    });
    // One event's deliveries are written together: once Horst has it, Schiedam would have it too.
    const schiedam = await readToEnd(stack, {
      topic: "deliver.gemeente.schiedam.loonaangifte.registration-gap",
      user: as("gemeente.schiedam"),
      map: (m) => header(m, "grondslag-event-id"),
    });
    expect(schiedam).not.toContain(eventId);
  });
});
