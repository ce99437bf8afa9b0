import { readAuditRecord, type AuditRecord } from "@grondslag/kit";
import crypto from "node:crypto";
import { testCredentialsFile, testKafka, testStack, uniqueName, within } from "@grondslag/infra/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChildGateway, type ChildGateway } from "../core/child-gateway";

const stack = testStack();
const credentials = testCredentialsFile();

/**
 * The records on audit.log with the given trace ids, read from the log's end offsets as of `from` (never offset 0:
 * a long-lived stack holds many records), until one per trace id is there.
 */
async function auditedFrom(from: { partition: number; offset: string }[], traceIds: string[]) {
  const admin = testKafka(stack).admin();
  const groupId = uniqueName("admin.test-audit");
  await admin.connect();
  await admin.setOffsets({ groupId, topic: "audit.log", partitions: from }).finally(() => admin.disconnect());
  const consumer = testKafka(stack).consumer({ groupId });
  const found = new Map<string, AuditRecord>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: ["audit.log"] });
    await within(
      30_000,
      `REJECT records of traces ${traceIds.join(", ")}`,
      new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: ({ message }) => {
              const r = readAuditRecord(message.value);
              if (r && traceIds.includes(r.traceId)) found.set(r.traceId, r);
              if (found.size === traceIds.length) resolve();
              return Promise.resolve();
            },
          })
          .catch(reject);
      }),
    );
    return found;
  } finally {
    await consumer.disconnect();
  }
}

async function auditEnds() {
  const admin = testKafka(stack).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets("audit.log")).map((e) => ({
      partition: e.partition,
      offset: e.high,
    }));
  } finally {
    await admin.disconnect();
  }
}

const traced = () => {
  const traceId = crypto.randomBytes(16).toString("hex");
  return { traceId, traceparent: `00-${traceId}-b7ad6b7169203331-01` };
};

describe("every refusal at the HTTP edge is on audit.log (a gateway in its own process, on the real stack)", () => {
  let gw: ChildGateway;
  beforeAll(async () => {
    gw = await startChildGateway(stack, credentials, { heapMb: 512 });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it("internal topic names, an unknown topic, a refused cursor commit: each a REJECT with its trace id", async () => {
    const from = await auditEnds();
    const uwv = await gw.token("uwv");
    const uitlener = await gw.token("uitlener.90000001");
    const calls = [
      {
        name: "publish to events.*",
        path: "/v1/topics/events.arbo.accident-reported/events",
        method: "POST",
        token: uitlener,
        body: "{}",
        status: 404,
        code: "UNKNOWN_TOPIC",
        role: "producer",
      },
      {
        name: "subscribe to deliver.*",
        path: "/v1/topics/deliver.nla.arbo.accident-reported/deliveries",
        method: "GET",
        token: uwv,
        status: 404,
        code: "UNKNOWN_TOPIC",
        role: "recipient",
      },
      {
        name: "subscribe to __consumer_offsets",
        path: "/v1/topics/__consumer_offsets/deliveries",
        method: "GET",
        token: uwv,
        status: 404,
        code: "UNKNOWN_TOPIC",
        role: "recipient",
      },
      {
        name: "subscribe to audit.log",
        path: "/v1/topics/audit.log/deliveries",
        method: "GET",
        token: uwv,
        status: 404,
        code: "UNKNOWN_TOPIC",
        role: "recipient",
      },
      {
        name: "subscribe to an unknown public topic",
        path: "/v1/topics/arbo.no-such-topic/deliveries",
        method: "GET",
        token: uwv,
        status: 404,
        code: "UNKNOWN_TOPIC",
        role: "recipient",
      },
      {
        name: "commit a cursor never handed out",
        path: "/v1/topics/arbo.accident-reported/deliveries/cursor",
        method: "PUT",
        token: await gw.token("gemeente.schiedam"),
        body: JSON.stringify({ cursor: "not-a-cursor" }),
        status: 400,
        code: "SCHEMA_VIOLATION",
        role: "recipient",
      },
    ];
    const traces: string[] = [];
    for (const c of calls) {
      const t = traced();
      traces.push(t.traceId);
      const res = await fetch(`${gw.base}${c.path}`, {
        method: c.method,
        headers: {
          authorization: `Bearer ${c.token}`,
          traceparent: t.traceparent,
          grondslag: "meld-vergewisplicht-uitleners",
          doelbinding: "lsi-samenwerking",
          ...(c.body ? { "content-type": "application/json" } : {}),
        },
        ...(c.body ? { body: c.body } : {}),
      });
      const problem = (await res.json()) as { code: string; traceId: string };
      expect([c.name, res.status, problem.code]).toEqual([c.name, c.status, c.code]);
      expect(problem.traceId).toBe(t.traceId);
    }
    const audited = await auditedFrom(from, traces);
    calls.forEach((c, i) => {
      const r = audited.get(traces[i] ?? "");
      expect(r, c.name).toMatchObject({ action: "REJECT", reasonCode: c.code });
      if (c.role === "producer") expect(r?.producer, c.name).toBe("uitlener.90000001");
      else expect(r?.recipient, c.name).toMatch(/^(uwv|gemeente\.schiedam)$/);
    });
    expect(audited.get(traces[3] ?? "")?.topic).toBe("audit.log");
  });

  it("a refused call's oversized header values are bounded on the audit log", async () => {
    const from = await auditEnds();
    const t = traced();
    const res = await fetch(`${gw.base}/v1/topics/arbo.accident-reported/events`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await gw.token("uitlener.90000001")}`,
        traceparent: t.traceparent,
        grondslag: "g".repeat(6000),
        doelbinding: "ongevalsmelding",
        "content-type": "application/json",
      },
      body: "{}",
    });
    expect(res.status).toBe(400);
    const r = (await auditedFrom(from, [t.traceId])).get(t.traceId);
    expect(r?.reasonCode).toBe("INVALID_REQUEST");
    expect(r?.grondslag?.length).toBeLessThanOrEqual(256);
    expect(r?.grondslag).toMatch(/…\[truncated, 6000 chars\]$/);
  });
});

describe("a refusal that cannot be audited is not given", () => {
  let gw: ChildGateway;
  beforeAll(async () => {
    // A gateway instance whose producer may not write audit.log: a party's principal, which the broker's ACLs keep
    // off the gateway's topics (so it runs no Kafka workers).
    gw = await startChildGateway(stack, credentials, { heapMb: 512, kafkaUser: "uwv", workers: [] });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it("answers 503 UNAVAILABLE with Retry-After, not the 404, when the REJECT cannot be written", async () => {
    const res = await fetch(`${gw.base}/v1/topics/events.arbo.accident-reported/deliveries`, {
      headers: { authorization: `Bearer ${await gw.token("uwv")}`, doelbinding: "lsi-samenwerking" },
      signal: AbortSignal.timeout(45_000),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("UNAVAILABLE");
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});
