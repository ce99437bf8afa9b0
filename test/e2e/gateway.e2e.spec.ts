import { ingressTopic, rejectedTopic } from "@grondslag/wire";
import { readAuditRecord } from "@grondslag/kit";
import crypto from "node:crypto";
import csr from "@kafkajs/confluent-schema-registry";
import { basicAuth } from "@grondslag/infra";
import {
  endOffsets,
  readToEnd,
  readUntil,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueName,
  type Offsets,
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

const UITLENER = "uitlener.90000001";
// The party whose ingress topic this spec's gateway reads: the int spec's gateway reads uitlener.90000001's.
const KAFKA_UITLENER = "uitlener.90000002";
const accidentHeaders = { Grondslag: "meld-vergewisplicht-uitleners", Doelbinding: "ongevalsmelding" };
const ACCIDENT = "arbo.accident-reported";

interface Audit {
  traceId: string;
  action: string;
  topic: string;
  producer: string;
  recipient: string | null;
  reasonCode: string | null;
  channel: string;
  fields: string[];
  text: string;
}
const audit = (m: KafkaMessage): Audit | undefined => {
  // The raw bytes as text: a raw BSN anywhere in a record would show in them.
  const text = m.value?.toString() ?? "";
  const r = readAuditRecord(m.value);
  return r && { ...r, text };
};

/** Every leaf path of a decoded record (`victim.bsn`), sorted: the exact field set a consumer sees. */
function leafPaths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object" || value instanceof Date || Array.isArray(value)) {
    return [prefix];
  }
  return Object.entries(value as Record<string, unknown>)
    .flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k))
    .sort();
}

const newTrace = () => {
  const traceId = crypto.randomBytes(16).toString("hex");
  return { traceId, traceparent: `00-${traceId}-${crypto.randomBytes(8).toString("hex")}-01` };
};

describe("the gateway end to end, over HTTP and Kafka, against the real stack", () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  /** Where the topics this spec reads ended when it began: it reads nothing older, however used the stack. */
  let since: Offsets;
  /** The first audit record of a trace, read from where this spec began. */
  const firstAuditOf = async (traceId: string) =>
    (
      await readUntil(stack, {
        topic: "audit.log",
        from: since,
        map: (m) => {
          const r = audit(m);
          return r?.traceId === traceId ? r : undefined;
        },
        found: (seen) => seen.length > 0,
      })
    )[0];

  beforeAll(async () => {
    since = await endOffsets(stack, [
      "audit.log",
      `deliver.nla.${ACCIDENT}`,
      `deliver.uwv.${ACCIDENT}`,
      "deliver.gemeente.horst-aan-de-maas.lsi.signal-raised",
      "deliver.gemeente.schiedam.lsi.signal-raised",
      rejectedTopic(KAFKA_UITLENER),
    ]);
    gw = await startGateway(stack, credentials, { ingressParties: [KAFKA_UITLENER] });
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

  it("an accident reported by an uitlener reaches nla and uwv with exactly the fields their contracts name", async () => {
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
    expect(forNla).toHaveProperty("reportReference", ref);
    // nla's contract names every field of the schema.
    expect(leafPaths(forNla)).toEqual(leafPaths(exampleEvent(ACCIDENT)));

    // …and uwv with its own Kafka principal on its delivery topic, through the broker's ACLs.
    const uwv = await readUntil(stack, {
      topic: "deliver.uwv.arbo.accident-reported",
      user: as("uwv"),
      from: since,
      map: async (m) =>
        header(m, "grondslag-event-id") === eventId && m.value
          ? ((await registry.decode(m.value)) as Record<string, unknown>)
          : undefined,
      found: (seen) => seen.length > 0,
    });
    expect(leafPaths(uwv[0])).toEqual([
      "accidentTime",
      "eventTime",
      "inlener.kvk",
      "inlener.name",
      "location.municipalityCode",
      "reportReference",
      "subjectKvk",
      "victim.agencyWorker",
      "victim.bsn",
    ]);
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
      from: since,
      map: (m) => {
        const r = readAuditRecord(m.value);
        return r?.traceId === traceId ? r : undefined;
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

  it("a wrong purpose gets 403 naming the rule and the purposes allowed, and the refusal is audited", async () => {
    const trace = newTrace();
    const res = await publishAccident(uniqueName("ref"), {
      Doelbinding: "lsi-samenwerking",
      traceparent: trace.traceparent,
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "PURPOSE_NOT_ALLOWED", traceId: trace.traceId });
    expect((res.body as { detail: string }).detail).toContain("ongevalsmelding");
    const record = await firstAuditOf(trace.traceId);
    expect(record).toMatchObject({
      action: "REJECT",
      topic: ACCIDENT,
      producer: UITLENER,
      recipient: null,
      reasonCode: "PURPOSE_NOT_ALLOWED",
      channel: "http",
      fields: [],
    });
    expect(record?.text).not.toContain(exampleEvent(ACCIDENT).victim.bsn);
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

  it("a malformed Avro record on an ingress topic lands in rejected.<party>, is audited, and the next valid one passes", async () => {
    const party = as(KAFKA_UITLENER);
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
        // The contract binds subjectKvk to the producing uitlener's own KvK.
        subjectKvk: KAFKA_UITLENER.slice("uitlener.".length),
        reportReference: ref,
      }),
    );
    const headers = {
      "grondslag-topic": "arbo.accident-reported",
      grondslag: "meld-vergewisplicht-uitleners",
      doelbinding: "ongevalsmelding",
    };
    const trace = newTrace();
    const producer = testKafka(stack, party).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: ingressTopic(KAFKA_UITLENER),
      acks: -1,
      messages: [
        { key: "90000001", value: hostile, headers: { ...headers, traceparent: trace.traceparent } },
        { key: "90000001", value: valid, headers: { ...headers, "idempotency-key": ref } },
      ],
    });
    await producer.disconnect();

    const rejected = await readUntil(stack, {
      topic: rejectedTopic(KAFKA_UITLENER),
      user: party,
      from: since,
      map: (m) =>
        m.value?.equals(hostile)
          ? { code: header(m, "grondslag-reason-code"), fix: header(m, "grondslag-reason-fix") }
          : undefined,
      found: (seen) => seen.length > 0,
    });
    expect(rejected[0]?.code).toBe("MALFORMED_RECORD");
    expect(rejected[0]?.fix).toBeTruthy();
    const record = await firstAuditOf(trace.traceId);
    expect(record).toMatchObject({
      action: "REJECT",
      topic: ACCIDENT,
      producer: KAFKA_UITLENER,
      recipient: null,
      reasonCode: "MALFORMED_RECORD",
      channel: "kafka",
    });
    const nla = await readUntil(stack, {
      topic: "deliver.nla.arbo.accident-reported",
      user: as("nla"),
      from: since,
      map: async (m) =>
        m.value
          ? ((await registry.decode(m.value)) as { reportReference?: string }).reportReference
          : undefined,
      found: (seen) => seen.includes(ref),
    });
    expect(nla).toContain(ref);
  });

  it("refuses a registration gap: its legal basis is planned, with no date, so not in force", async () => {
    const res = await gw.call("POST", "/v1/topics/loonaangifte.registration-gap/events", {
      token: await gw.token("uwv"),
      headers: {
        Grondslag: "brp-feedbackcyclus-loonaangifte",
        Doelbinding: "brp-adreskwaliteit",
        "Idempotency-Key": uniqueName("gap"),
      },
      body: exampleEvent("loonaangifte.registration-gap"),
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "LEGAL_BASIS_NOT_IN_FORCE" });
  });

  it("an LSI signal reaches only the municipality it concerns", async () => {
    const res = await gw.call("POST", "/v1/topics/lsi.signal-raised/events", {
      token: await gw.token("nla"),
      headers: {
        Grondslag: "suwi-art64",
        Doelbinding: "lsi-samenwerking",
        "Idempotency-Key": uniqueName("lsi"),
      },
      body: exampleEvent("lsi.signal-raised"), // GM0606, Schiedam
    });
    expect(res.status).toBe(202);
    const { eventId } = res.body as { eventId: string };
    await readUntil(stack, {
      topic: "deliver.gemeente.schiedam.lsi.signal-raised",
      user: as("gemeente.schiedam"),
      from: since,
      map: (m) => header(m, "grondslag-event-id"),
      found: (seen) => seen.includes(eventId),
    });
    // One event's deliveries are written together: once Schiedam has it, Horst would have it too.
    const horst = await readToEnd(stack, {
      topic: "deliver.gemeente.horst-aan-de-maas.lsi.signal-raised",
      user: as("gemeente.horst-aan-de-maas"),
      from: since,
      map: (m) => header(m, "grondslag-event-id"),
    });
    expect(horst).not.toContain(eventId);
  });
});
