import crypto from "node:crypto";
import { defineAgency, deskAction, Poison, Store } from "@grondslag/agency";
import { databaseUrl } from "@grondslag/infra";
import { endOffsets, readUntil, testCredentialsFile, testKafka, testStack } from "@grondslag/infra/test";
import { exampleEvent, type TopicMap } from "@grondslag/schemas";
import { createClient } from "@grondslag/sdk";
import { BUS_HEADERS, deadLetterTopic, deliveryTopic } from "@grondslag/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startAgency, type AgencyState, type RunningAgency } from "../src/agency-harness";
import { startGateway } from "../src/gateway-harness";

/**
 * The agency runtime on the real stack (Kafka, registry, PostgreSQL, the real gateway): two probe agencies, SVB on
 * Kafka (it reacts to an LSI signal with a joint AMU case) and the Arbeidsinspectie on HTTP (it records the case).
 * The specs prove what every agency service relies on: reactions flow on both transports, a redelivered event
 * changes nothing, a poison or undecodable delivery is parked in the party's dead-letter topic while the service
 * keeps consuming, a replay handles what was parked once the cause is fixed, and an outbox row left behind by a crash
 * (before or after the gateway took it) is published exactly once.
 */
const stack = testStack();
const credentials = testCredentialsFile();

const svbProbe = defineAgency({
  service: "probe-svb",
  party: "svb",
  transport: "kafka",
  migrations: (s) => [
    `CREATE TABLE IF NOT EXISTS ${s}.seen (signal_ref text PRIMARY KEY, event_id text NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${s}.switch (id int PRIMARY KEY, broken boolean NOT NULL)`,
    `INSERT INTO ${s}.switch VALUES (1, true) ON CONFLICT DO NOTHING`,
  ],
  subscriptions: {
    "lsi.signal-raised": async (ctx, d) => {
      const ref = d.value.signalReference;
      if (!ref || !d.value.subjectKvk) throw new Poison("a signal without signalReference or subjectKvk");
      if (d.value.summary?.startsWith("POISON")) throw new Poison("the probe refuses POISON signals");
      const [sw] = await ctx.query<{ broken: boolean }>(
        `SELECT broken FROM ${ctx.schema}.switch WHERE id = 1`,
      );
      if (d.value.summary?.startsWith("FLAKY") && sw?.broken) throw new Error("the probe's switch is broken");
      await ctx.query(`INSERT INTO ${ctx.schema}.seen VALUES ($1, $2)`, [ref, d.eventId]);
      await ctx.publish("amu.case-opened", {
        eventTime: ctx.now().toISOString(),
        subjectKvk: d.value.subjectKvk,
        caseReference: `AMU-${ref}`,
        partners: ["SVB"],
        concerns: ["CROSS_BORDER"],
        summary: null,
      });
    },
  },
  desk: {
    fix: deskAction({
      summary: "Mends the switch that makes FLAKY signals fail.",
      input: z.object({}),
      run: async (ctx) => {
        await ctx.query(`UPDATE ${ctx.schema}.switch SET broken = false`);
        return { fixed: true };
      },
    }),
  },
  state: async (ctx) => ({
    seen: await ctx.query(
      `SELECT signal_ref AS "ref", event_id AS "eventId" FROM ${ctx.schema}.seen ORDER BY 1`,
    ),
  }),
});

const nlaProbe = defineAgency({
  service: "probe-nla",
  party: "nla",
  transport: "http",
  migrations: (s) => [
    `CREATE TABLE IF NOT EXISTS ${s}.cases (case_ref text NOT NULL, event_id text NOT NULL)`,
  ],
  subscriptions: {
    "amu.case-opened": async (ctx, d) => {
      await ctx.query(`INSERT INTO ${ctx.schema}.cases VALUES ($1, $2)`, [d.value.caseReference, d.eventId]);
    },
  },
  state: async (ctx) => ({
    cases: await ctx.query(
      `SELECT case_ref AS "ref", event_id AS "eventId" FROM ${ctx.schema}.cases ORDER BY 1`,
    ),
  }),
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- specs read answers
interface Letter {
  reason: string;
  party: string;
  delivery?: { value?: { signalReference?: string } };
}

describe("the agency runtime (real gateway, real stack)", () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let svb: RunningAgency;
  let nla: RunningAgency;
  let signal: (summary: string) => Promise<string>;

  beforeAll(async () => {
    gw = await startGateway(stack, credentials, { ingressParties: ["svb", "nla"] });
    svb = await startAgency(svbProbe, stack, credentials, gw);
    nla = await startAgency(nlaProbe, stack, credentials, gw);
    const bd = createClient<TopicMap>({ baseUrl: gw.base, token: () => gw.token("belastingdienst") });
    signal = async (summary) => {
      const ref = `LSI-T-${crypto.randomBytes(4).toString("hex")}`;
      await bd.publish(
        "lsi.signal-raised",
        { ...exampleEvent("lsi.signal-raised"), signalReference: ref, summary },
        { grondslag: "suwi-art64", purpose: "lsi-samenwerking" },
      );
      return ref;
    };
  });

  afterAll(async () => {
    await Promise.allSettled([svb?.stop(), nla?.stop()]);
    await gw?.stop();
  });

  const seen = (s: AgencyState, ref: string) => (s.state.seen as Json[]).filter((r) => r.ref === ref);
  const cases = (s: AgencyState, ref: string) =>
    (s.state.cases as Json[]).filter((r) => r.ref === `AMU-${ref}`);

  it("reacts on Kafka, publishes through its outbox, and the reaction reaches an HTTP agency", async () => {
    const ref = await signal("a signal about sham posting");
    const s = await svb.until((x) => seen(x, ref).length === 1, "the signal handled");
    const outbox = (s.outbox as Json[]).filter((o) => o.topic === "amu.case-opened");
    expect(outbox.length).toBeGreaterThan(0);
    await nla.until((x) => cases(x, ref).length === 1, "the AMU case delivered over HTTP");
    const after = await svb.until(
      (x) => (x.outbox as Json[]).every((o) => o.state !== "pending"),
      "the outbox handed to the gateway",
    );
    expect((after.outbox as Json[]).every((o) => o.state === "sent")).toBe(true);
  });

  it("a redelivered event changes nothing: the consumer group rewound, the event comes again, no second effect", async () => {
    const ref = await signal("a signal that will be redelivered");
    const first = await svb.until((x) => seen(x, ref).length === 1, "the signal handled");
    const handled = first.handled;
    const outboxBefore = (first.outbox as Json[]).length;
    // Rewind svb's group to before the event and restart the service: Kafka hands the event out again.
    const group = `${svb.groupPrefix}.lsi.signal-raised`;
    const topic = deliveryTopic("svb", "lsi.signal-raised");
    await svb.stop({ keepSchema: true });
    const admin = testKafka(stack).admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const rewound = (committed?.partitions ?? []).map((p) => ({
      partition: p.partition,
      offset: String(Math.max(0, Number(p.offset) - 1)),
    }));
    await admin.setOffsets({ groupId: group, topic, partitions: rewound });
    await admin.disconnect();
    svb = await startAgency(svbProbe, stack, credentials, gw, {
      schema: svb.schema,
      groupPrefix: svb.groupPrefix,
    });
    const metrics = async () => (await fetch(`${svb.url}/metrics`)).text();
    const deadline = Date.now() + 30_000;
    while (
      !/agency_deliveries_total\{topic="lsi.signal-raised",outcome="duplicate"\} [1-9]/.test(await metrics())
    ) {
      if (Date.now() > deadline) throw new Error("the rewound event was not handed out again within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const again = (await svb.desk<AgencyState>("GET", "/v1/state")).body;
    expect(seen(again, ref)).toHaveLength(1);
    expect(again.handled).toBe(handled);
    expect((again.outbox as Json[]).length).toBe(outboxBefore);
  });

  it("a poison delivery goes to deadletter.svb with its reason, and the service keeps consuming", async () => {
    const from = await endOffsets(stack, [deadLetterTopic("svb")]);
    const bad = await signal("POISON: the probe cannot handle this one");
    const good = await signal("a good signal right after the poison");
    const s = await svb.until((x) => seen(x, good).length === 1, "the next signal handled");
    expect(seen(s, bad)).toHaveLength(0);
    const letter = (s.deadLetters as Json[]).find((l) => l.reason === "the probe refuses POISON signals");
    expect(letter).toBeDefined();
    const parked = await readUntil(stack, {
      topic: deadLetterTopic("svb"),
      from,
      map: (m) => JSON.parse(m.value?.toString() ?? "{}") as Letter,
      found: (xs) => xs.some((x) => x.delivery?.value?.signalReference === bad),
    });
    const body = parked.find((x) => x.delivery?.value?.signalReference === bad)!;
    expect(body.reason).toBe("the probe refuses POISON signals");
    expect(body.party).toBe("svb");
  });

  it("a delivery record that does not decode is parked with the reason, and the next one is handled", async () => {
    // Bytes in the delivery topic that no schema reads: what a broken or foreign producer would leave there.
    const producer = testKafka(stack).producer();
    await producer.connect();
    const eventId = crypto.randomUUID();
    await producer.send({
      topic: deliveryTopic("svb", "lsi.signal-raised"),
      messages: [
        {
          value: Buffer.from([0, 0, 0, 0x7f, 0xff, 1, 2, 3]),
          headers: { [BUS_HEADERS.eventId]: eventId, [BUS_HEADERS.topic]: "lsi.signal-raised" },
        },
      ],
    });
    await producer.disconnect();
    const good = await signal("a good signal after the undecodable record");
    const s = await svb.until((x) => seen(x, good).length === 1, "the next signal handled");
    const letter = (s.deadLetters as Json[]).find((l) => l.eventId === eventId);
    expect(letter?.reason).toMatch(/^undecodable delivery: its value does not decode/);
  });

  it("the replay handles a dead letter once its cause is fixed, and only once", async () => {
    const ref = await signal("FLAKY: fails while the switch is broken");
    const parked = await svb.until(
      (x) =>
        (x.deadLetters as Json[]).some(
          (l) => l.reason === "the handler failed: the probe's switch is broken",
        ),
      "the flaky signal parked",
    );
    expect(seen(parked, ref)).toHaveLength(0);
    expect((await svb.desk("POST", "/v1/desk/fix", {})).status).toBe(200);
    const replay = await svb.desk<Json>("POST", "/v1/dead-letters/replay");
    expect(replay.status).toBe(200);
    expect(replay.body.handled).toBeGreaterThanOrEqual(1);
    const s = await svb.until((x) => seen(x, ref).length === 1, "the flaky signal handled by the replay");
    // The poison letter of the earlier spec is still poison: parked again, not handled.
    expect(replay.body.dead).toBeGreaterThanOrEqual(1);
    await nla.until((x) => cases(x, ref).length === 1, "the replayed signal's reaction delivered");
    const again = await svb.desk<Json>("POST", "/v1/dead-letters/replay");
    expect(again.body.handled).toBe(0);
    const after = (await svb.desk<AgencyState>("GET", "/v1/state")).body;
    expect(seen(after, ref)).toHaveLength(1);
    expect(s.handled).toBeLessThanOrEqual(after.handled);
  });

  it("outbox rows left by a crash, before and after the gateway took them, are each published exactly once", async () => {
    // The crash: nla's service stopped after committing two outbox rows; the first never reached the gateway, the
    // second did (its publication answered, the bookkeeping lost).
    const kafkaNla = await startAgency(
      defineAgency({
        service: "probe-nla-crash",
        party: "nla",
        transport: "kafka",
        subscriptions: {},
      }),
      stack,
      credentials,
      gw,
    );
    await kafkaNla.stop({ keepSchema: true });
    const store = new Store(databaseUrl(stack.postgres), kafkaNla.schema);
    const refs = [
      `CRASH-${crypto.randomBytes(3).toString("hex")}`,
      `CRASH-${crypto.randomBytes(3).toString("hex")}`,
    ];
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    const at = new Date().toISOString();
    const value = (ref: string) => ({
      eventTime: at,
      subjectKvk: "90000002",
      caseReference: `AMU-${ref}`,
      partners: ["NLA"],
      concerns: ["LABOUR_LAW"],
      summary: null,
    });
    for (const [i, ref] of refs.entries()) {
      await store.query(
        `INSERT INTO ${kafkaNla.schema}.outbox (id, topic, value, grondslag, purpose, kafka_key)
         VALUES ($1, 'amu.case-opened', $2, 'suwi-art64', 'lsi-samenwerking', '90000002')`,
        [ids[i], JSON.stringify(value(ref))],
      );
    }
    // The second one the gateway already has, under the same idempotency key (the outbox id).
    const nlaHttp = createClient<TopicMap>({ baseUrl: gw.base, token: () => gw.token("nla") });
    const first = await nlaHttp.publish("amu.case-opened", value(refs[1]!) as never, {
      grondslag: "suwi-art64",
      purpose: "lsi-samenwerking",
      idempotencyKey: ids[1]!,
    });
    await store.close();
    // The restart publishes what was pending; the gateway answers the repeated key with the first event.
    const restarted = await startAgency(
      defineAgency({ service: "probe-nla-crash", party: "nla", transport: "kafka", subscriptions: {} }),
      stack,
      credentials,
      gw,
      { schema: kafkaNla.schema, groupPrefix: kafkaNla.groupPrefix, env: { AGENCY_PORT: "0" } },
    );
    try {
      await restarted.until(
        (x) => (x.outbox as Json[]).every((o) => o.state === "sent"),
        "both rows handed to the gateway",
      );
      // The nla probe (HTTP) receives each case exactly once, the second one under the first publication's id.
      const s = await nla.until(
        (x) => refs.every((r) => cases(x, r).length >= 1),
        "both crash cases delivered",
      );
      for (const r of refs) expect(cases(s, r)).toHaveLength(1);
      expect(cases(s, refs[1]!)[0]!.eventId).toBe(first.eventId);
    } finally {
      await restarted.stop();
    }
  });

  it("the desk API names the rule and the fix: no token, an unknown action, invalid input", async () => {
    const none = await fetch(`${svb.url}/v1/state`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(((await none.json()) as Json).code).toBe("UNAUTHENTICATED");
    const unknown = await svb.desk<Json>("POST", "/v1/desk/nope", {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.fix).toMatch(/fix/);
    const invalid = await svb.desk<Json>("POST", "/v1/desk/fix", [1, 2]);
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe("INVALID_REQUEST");
    const listed = await svb.desk<Json>("GET", "/v1/desk");
    expect((listed.body.actions as Json[]).map((a) => a.name as string)).toEqual(["fix"]);
    const doc = await fetch(`${svb.url}/v1/openapi.json`);
    expect(doc.headers.get("api-version")).toBe("1.0.0");
  });
});
