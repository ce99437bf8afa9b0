import { readAuditRecord } from "@grondslag/kit";
import crypto from "node:crypto";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { isInForce, loadCatalogue, partiesMatching } from "@grondslag/contracts";
import { readCredential } from "@grondslag/provision";
import { ingressTopic, rejectedTopic } from "@grondslag/wire";
import { basicAuth } from "@grondslag/infra";
import { encodeEvent, exampleEvent, type Topic } from "@grondslag/schemas";
import { readUntil, testCredentialsFile, testKafka, testStack, uniqueName } from "@grondslag/infra/test";
import avro from "avsc";
import type { IHeaders, KafkaMessage } from "kafkajs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createApp } from "../app";
import { directoryKeyStore, ensureDevKeyPair, signToken } from "../auth";
import { createGateway, type Gateway } from "../gateway";
import { testGatewayConfig } from "../test-config";
import { ECHO_LIMITS } from "./ingress";
import { BUS_HEADERS as H, header, toWire } from "@grondslag/wire";

// The ingress outage, replayed against the real stack: one record whose long strings hold invalid UTF-8 must not
// stop anyone else's events, nor the gateway.
const stack = testStack();
const credentials = testCredentialsFile();
const as = (name: string) => ({ name, password: readCredential(credentials, name) });
const catalogue = loadCatalogue();
const UITLENER = "uitlener.90000001";

const newTrace = () => {
  const traceId = crypto.randomBytes(16).toString("hex");
  return { traceId, traceparent: `00-${traceId}-${crypto.randomBytes(8).toString("hex")}-01` };
};

async function canonicalId(topic: Topic): Promise<number> {
  const res = await fetch(`${stack.registry.url}/subjects/events.${topic}-value/versions/latest`, {
    headers: { authorization: basicAuth(stack.registry.gateway) },
  });
  return ((await res.json()) as { id: number }).id;
}

async function produce(party: string, messages: { key: string; value: Buffer; headers: IHeaders }[]) {
  const producer = testKafka(stack, as(party)).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: ingressTopic(party), acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** The topic's example event, with every field the producer entry binds set to the party's own attribute. */
function ownEvent(topic: Topic, bind: Record<string, string> | undefined, party: Record<string, unknown>) {
  const event = structuredClone(exampleEvent(topic)) as unknown as Record<string, unknown>;
  for (const [field, attribute] of Object.entries(bind ?? {})) {
    const path = field.split(".");
    let at = event;
    for (const seg of path.slice(0, -1)) at = at[seg] as Record<string, unknown>;
    at[path[path.length - 1] ?? ""] = party[attribute];
  }
  return event;
}

/** Every party that produces some topic under an entry in force, with one topic it may publish and the headers its contract asks for. */
function producingParties() {
  const out = new Map<string, { topic: Topic; grondslag: string; purpose: string; event: unknown }>();
  for (const contract of Object.values(catalogue.topics)) {
    if (!contract) continue;
    // Only entries in force now: a planned basis without a date (the payroll feedback loop) carries nothing.
    for (const p of contract.producers.filter((e) => isInForce(catalogue, e, new Date()))) {
      for (const party of partiesMatching(catalogue, p.party)) {
        if (!out.has(party.id)) {
          out.set(party.id, {
            topic: contract.topic,
            grondslag: p.grondslag,
            purpose: p.purposes[0] ?? "",
            // A producer writes only about itself (the entry's `bind`), else the gateway refuses the event.
            event: ownEvent(contract.topic, p.bind, party),
          });
        }
      }
    }
  }
  return out;
}

describe("Kafka ingress under a poisoned record (the outage, replayed)", () => {
  let gateway: Gateway;
  let server: ReturnType<ReturnType<typeof createApp>["listen"]>;
  let base: string;
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-ingress-keys-"));

  beforeAll(async () => {
    const log = pino({ level: "warn" });
    gateway = createGateway(testGatewayConfig(stack, credentials), log);
    await gateway.start();
    const app = createApp({
      publisher: gateway.publisher,
      subscriptions: gateway.subscriptions,
      readiness: gateway.readiness,
      auth: {
        keyStore: directoryKeyStore(keysDir),
        audience: "grondslag-gateway",
        issuers: ["grondslag-dev"],
      },
      log,
      now: () => new Date(),
      rateLimit: false,
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.stop();
    fs.rmSync(keysDir, { recursive: true, force: true });
  });

  it("refuses the record on rejected.<party> with its reason; everyone's next event is delivered; ready throughout", async () => {
    // Watch readiness and memory for the whole test.
    const notReady: string[] = [];
    let maxRss = 0;
    let watching = true;
    onTestFinished(() => {
      watching = false;
    });
    const watcher = (async () => {
      while (watching) {
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
        const res = await fetch(`${base}/readyz`);
        if (res.status !== 200) notReady.push(`${res.status} ${await res.text()}`);
        else await res.text();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // The tester's record: a valid arbo.accident-reported whose two long strings are invalid UTF-8 (≈400 KB).
    const accidentId = await canonicalId("arbo.accident-reported");
    const example = exampleEvent("arbo.accident-reported");
    const body = encodeEvent("arbo.accident-reported", {
      ...example,
      circumstances: "x".repeat(200_003),
      location: { ...example.location, workplace: "y".repeat(200_000) },
    });
    for (const [fill, n, bad] of [
      ["x", 200_003, 0xff],
      ["y", 200_000, 0xfe],
    ] as const) {
      const at = body.indexOf(Buffer.alloc(n, fill));
      expect(at).toBeGreaterThan(0);
      body.fill(bad, at, at + n);
    }
    const poisoned = toWire(accidentId, body);
    expect(poisoned.length).toBeGreaterThan(400_000);
    const poisonKey = uniqueName("poison");
    const poisonTrace = newTrace();
    const contract = {
      "grondslag-topic": "arbo.accident-reported",
      grondslag: "meld-vergewisplicht-uitleners",
      doelbinding: "ongevalsmelding",
    };
    await produce(UITLENER, [
      {
        key: "90000001",
        value: poisoned,
        headers: {
          ...contract,
          "idempotency-key": poisonKey,
          traceparent: poisonTrace.traceparent,
          "x-party-ref": "melding-42",
          "x-large": "z".repeat(5_000),
        },
      },
    ]);

    // At the same time: HTTP publishes of other requests, and the next valid event of every producing party.
    const expected = new Map<string, string>(); // traceId → what
    const tokens = new Map<string, string>();
    for (const party of ["uitlener.90000001", "uitlener.90000002"]) {
      const { privateJwk } = await ensureDevKeyPair(keysDir, party);
      tokens.set(
        party,
        await signToken(privateJwk, {
          party,
          issuer: "grondslag-dev",
          audience: "grondslag-gateway",
          ttlSeconds: 300,
          now: new Date(),
        }),
      );
    }
    const http = Promise.all(
      ["uitlener.90000001", "uitlener.90000002", "uitlener.90000001", "uitlener.90000002"].map(
        async (party, i) => {
          const t = newTrace();
          expected.set(t.traceId, `HTTP publish ${i} by ${party}`);
          const res = await fetch(`${base}/v1/topics/arbo.accident-reported/events`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${tokens.get(party) ?? ""}`,
              "content-type": "application/json",
              Grondslag: "meld-vergewisplicht-uitleners",
              Doelbinding: "ongevalsmelding",
              "Idempotency-Key": uniqueName("http"),
              traceparent: t.traceparent,
            },
            body: JSON.stringify({
              ...example,
              subjectKvk: party.slice("uitlener.".length),
              reportReference: uniqueName("http"),
            }),
          });
          return { status: res.status, body: await res.text() };
        },
      ),
    );
    const ingress = Promise.all(
      [...producingParties()].map(async ([party, p]) => {
        const t = newTrace();
        expected.set(t.traceId, `ingress event of ${party} on ${p.topic}`);
        const value = toWire(await canonicalId(p.topic), encodeEvent(p.topic, p.event as never));
        const key = String((p.event as { subjectKvk: string }).subjectKvk);
        await produce(party, [
          {
            key,
            value,
            headers: {
              "grondslag-topic": p.topic,
              grondslag: p.grondslag,
              doelbinding: p.purpose,
              "idempotency-key": uniqueName("next"),
              traceparent: t.traceparent,
            },
          },
        ]);
      }),
    );
    const [answers] = await Promise.all([http, ingress]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);

    // The poisoned record is refused with the guard's reason, the party's own headers echoed (bounded).
    const [refusal] = await readUntil(stack, {
      topic: rejectedTopic(UITLENER),
      user: as(UITLENER),
      map: (m: KafkaMessage) => (header(m.headers, "idempotency-key") === poisonKey ? m : undefined),
      found: (seen) => seen.length > 0,
      timeoutMs: 60_000,
    });
    expect(header(refusal?.headers, H.reasonCode)).toBe("MALFORMED_RECORD");
    expect(header(refusal?.headers, H.reasonDetail)).toBe("string is not valid UTF-8 at location.workplace");
    expect(header(refusal?.headers, H.reasonField)).toBe("location.workplace");
    expect(header(refusal?.headers, "traceparent")).toBe(poisonTrace.traceparent);
    expect(header(refusal?.headers, "x-party-ref")).toBe("melding-42");
    expect(header(refusal?.headers, "x-large")).toBe("z".repeat(ECHO_LIMITS.valueBytes));
    expect(refusal?.value?.equals(poisoned)).toBe(true);

    // Everyone's next event reaches its consumers: a DISCLOSE on the audit log in its trace.
    const disclosed = await readUntil(stack, {
      topic: "audit.log",
      map: (m) => {
        const r = readAuditRecord(m.value);
        return r?.action === "DISCLOSE" && expected.has(r.traceId) ? r.traceId : undefined;
      },
      found: (seen) => [...expected.keys()].every((t) => seen.includes(t)),
      timeoutMs: 40_000,
    }).catch((err: unknown) => {
      throw new Error(`not every next event was delivered: ${String(err)}`);
    });
    expect(new Set(disclosed).size).toBe(expected.size);

    watching = false;
    await watcher;
    expect(notReady).toEqual([]);
    expect(maxRss).toBeLessThan(300 * 1024 * 1024);
  });

  it("refuses a record claiming 500 million array items with the guard's own reason and field", async () => {
    const party = "inspectie.sna";
    const topic = "inspectie.report-filed";
    // The findings array, empty, is one 0 byte where the first block's count would be: claim 500,000,000 items
    // there instead (found where the encodings with and without a finding first differ).
    const empty = encodeEvent(topic, { ...exampleEvent(topic), findings: [] });
    const withOne = encodeEvent(topic, exampleEvent(topic));
    let at = 0;
    while (empty[at] === withOne[at]) at++;
    const count = avro.Type.forSchema("long").toBuffer(500_000_000);
    const hostile = toWire(
      await canonicalId(topic),
      Buffer.concat([empty.subarray(0, at), count, empty.subarray(at)]),
    );
    const key = uniqueName("hostile");
    await produce(party, [
      {
        key: "90000001",
        value: hostile,
        headers: {
          "grondslag-topic": topic,
          grondslag: "waadi-wtta-gegevensuitwisseling",
          doelbinding: "normenkader-toetsing",
          "idempotency-key": key,
        },
      },
    ]);
    const [refusal] = await readUntil(stack, {
      topic: rejectedTopic(party),
      user: as(party),
      map: (m: KafkaMessage) => (header(m.headers, "idempotency-key") === key ? m : undefined),
      found: (seen) => seen.length > 0,
      timeoutMs: 60_000,
    });
    expect(header(refusal?.headers, H.reasonCode)).toBe("MALFORMED_RECORD");
    expect(header(refusal?.headers, H.reasonDetail)).toBe("more than 10000 items at findings");
    expect(header(refusal?.headers, H.reasonField)).toBe("findings");
  });
});
