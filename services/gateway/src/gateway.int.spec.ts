import { readAuditRecord } from "@grondslag/kit";
import crypto from "node:crypto";
import csr from "@kafkajs/confluent-schema-registry";
import { readCredential } from "@grondslag/provision";
import { AUDIT_TOPIC, canonicalTopic, deliveryTopic, ingressTopic, rejectedTopic } from "@grondslag/wire";
import { basicAuth, databaseUrl, deleteScramUsers, upsertScramUsers, waitFor } from "@grondslag/infra";
import { encodeEvent, exampleEvent } from "@grondslag/schemas";
import {
  dropDbSchema,
  endOffsets,
  readToEnd,
  readUntil,
  startGroupAt,
  startGroupsAtEnd,
  testCredentialsFile,
  testKafka,
  testStack,
  uniqueDbSchema,
  uniqueName,
  type Offsets,
} from "@grondslag/infra/test";
import kafkajs, { type KafkaMessage } from "kafkajs";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayError } from "./errors";
import { createGateway, type Gateway, type GatewayConfig } from "./gateway";
import { eventIdFor } from "./core/idempotency";
import { testGatewayConfig } from "./test-config";
import { Pseudonymiser, type AuditRecord } from "@grondslag/kit";
import { BUS_HEADERS as H, header, toWire } from "@grondslag/wire";
import type { PublishCommand } from "./ports";

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const stack = testStack();
const credentials = testCredentialsFile();
const as = (name: string) => ({ name, password: readCredential(credentials, name) });
const registry = new csr.SchemaRegistry({ host: stack.registry.url, auth: stack.registry.gateway });

const ACCIDENT = "arbo.accident-reported";
const GAP = "loonaangifte.registration-gap";
const LSI = "lsi.signal-raised";
const UITLENER = "uitlener.90000001";
const TOPICS = [
  AUDIT_TOPIC,
  canonicalTopic(ACCIDENT),
  canonicalTopic(LSI),
  `deliver.nla.${ACCIDENT}`,
  `deliver.uwv.${ACCIDENT}`,
  `deliver.gemeente.horst-aan-de-maas.${LSI}`,
  `deliver.gemeente.schiedam.${LSI}`,
  rejectedTopic(UITLENER),
];

/** A delivered record: its event id, span, Kafka position and its value decoded with the schema it was written with. */
async function delivered(message: KafkaMessage, partition: number) {
  if (!message.value) return undefined;
  return {
    eventId: header(message.headers, H.eventId),
    spanId: header(message.headers, H.traceparent)?.split("-")[2],
    schemaIdHeader: header(message.headers, H.schemaId),
    wireSchemaId: message.value.readInt32BE(1),
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    value: (await registry.decode(message.value)) as Record<string, unknown>,
  };
}

type Positioned = AuditRecord & { partition: number; offset: string; timestamp: number; text: string };
function auditRecord(message: KafkaMessage, partition: number): Positioned | undefined {
  // The raw bytes as text: a raw BSN anywhere in a record would show in them.
  const text = message.value?.toString() ?? "";
  const r = readAuditRecord(message.value);
  return r && { ...r, partition, offset: message.offset, timestamp: Number(message.timestamp), text };
}

/** Every leaf path of a decoded record (`victim.bsn`), sorted: the exact field set a consumer sees. */
function leafPaths(value: unknown, prefix = ""): string[] {
  if (
    value === null ||
    typeof value !== "object" ||
    value instanceof Date ||
    Array.isArray(value) ||
    Buffer.isBuffer(value)
  ) {
    return [prefix];
  }
  return Object.entries(value as Record<string, unknown>)
    .flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k))
    .sort();
}

const pick = (offsets: Offsets, topics: readonly string[]): Offsets =>
  Object.fromEntries(topics.map((t) => [t, offsets[t] ?? []]));

const newTrace = () => {
  const traceId = crypto.randomBytes(16).toString("hex");
  return { traceId, traceparent: `00-${traceId}-${crypto.randomBytes(8).toString("hex")}-01` };
};

describe("gateway core against the real stack", () => {
  let gateway: Gateway;
  /** Where every topic this spec reads ended when it began: it reads nothing older, however used the stack. */
  let since: Offsets;
  // Groups, database schema and pseudonym key of this spec's own: other gateways on the stack (the e2e spec's,
  // one left running by `npm start`) deliver the same canonical events, but write other pseudonyms, so a count of
  // this gateway's records stays exact.
  const config: GatewayConfig = testGatewayConfig(stack, credentials, {
    dbSchema: uniqueDbSchema("int"),
    groupPrefix: uniqueName("grondslag.gateway.int"),
    ingressParties: [UITLENER],
    instanceId: uniqueName("int"),
  });
  /** While set, the gateway "dies" between its Kafka write and settling its idempotency keys. */
  let settleFails = false;
  /** While set, PostgreSQL fails a takeover (after the batch's other keys were reserved). */
  let takeOverFails = false;
  const db = new pg.Pool({ connectionString: databaseUrl(stack.postgres), max: 2 });
  /** A key reserved by an attempt that never settled, as a dead process leaves it. */
  async function unsettled(
    cmd: PublishCommand,
    like: string,
    opts: { ageSeconds: number; instance?: string; fenced?: boolean },
  ) {
    await db.query(
      `INSERT INTO ${config.dbSchema}.idempotency
         (producer, key, payload_sha256, event_id, topic, trace_id, state, attempt, instance, incarnation,
          reserved_at, fenced)
       SELECT producer, $2, payload_sha256, $3, topic, trace_id, 'pending', $4, $5, 'earlier',
              now() - make_interval(secs => $6), $7
         FROM ${config.dbSchema}.idempotency WHERE producer = $1 AND key = $8`,
      [
        cmd.producer,
        cmd.idempotencyKey,
        eventIdFor(cmd),
        crypto.randomUUID(),
        opts.instance ?? "gone",
        opts.ageSeconds,
        opts.fenced ?? false,
        like,
      ],
    );
  }
  const rowState = async (cmd: PublishCommand) =>
    (
      await db.query<{ state: string }>(
        `SELECT state FROM ${config.dbSchema}.idempotency WHERE producer = $1 AND key = $2`,
        [cmd.producer, cmd.idempotencyKey],
      )
    ).rows[0]?.state;
  /**
   * The canonical records of `eventId` written since the spec began. A commit's markers are written just after it
   * is answered, so a read_committed reader may not see the records yet: with `atLeast`, it first waits until it
   * does, then reads to the (committed) end of now.
   */
  const canonicalCopies = async (topic: string, eventId: string, atLeast = 1) => {
    const opts = {
      topic: canonicalTopic(topic),
      from: since,
      map: (m: KafkaMessage) => (header(m.headers, H.eventId) === eventId ? m.offset : undefined),
    };
    if (atLeast > 0)
      await readUntil(stack, { ...opts, found: (seen) => seen.length >= atLeast, timeoutMs: 20_000 });
    return (await readToEnd(stack, opts)).length;
  };
  const pseudonymiser = new Pseudonymiser(config.pseudonymKey);
  const ours = (r: AuditRecord, kvk = "90000001") =>
    r.subjects.some((s) => s.pseudonym === pseudonymiser.pseudonym("kvk", kvk));

  /** Starts a gateway whose groups begin at the current end of what it reads. */
  async function startAtEnd(g: Gateway) {
    const { canonical, ingress } = g.kafkaTopics();
    const [deliverGroup, ingressGroup] = g.groups as [string, string];
    await startGroupsAtEnd(stack, { [deliverGroup]: canonical, [ingressGroup]: ingress });
    await g.start();
  }

  beforeAll(async () => {
    gateway = createGateway(config, pino({ level: "warn" }), undefined, {
      idempotency: (store) => ({
        ...store,
        takeOver: (owner, from) =>
          takeOverFails ? Promise.reject(new Error("PostgreSQL went away")) : store.takeOver(owner, from),
        settle: (owner, outcome) =>
          settleFails
            ? Promise.reject(new Error("the process died before it settled"))
            : store.settle(owner, outcome),
      }),
    });
    const { canonical, ingress } = gateway.kafkaTopics();
    const [deliverGroup, ingressGroup] = gateway.groups as [string, string];
    since = await endOffsets(stack, [...new Set([...TOPICS, ...canonical, ...ingress])]);
    await startGroupAt(stack, deliverGroup, pick(since, canonical));
    await startGroupAt(stack, ingressGroup, pick(since, ingress));
    await gateway.start();
  });
  afterAll(async () => {
    await gateway.stop();
    await dropDbSchema(stack, config.dbSchema);
    await db.end();
  });

  const accident = (reportReference: string): PublishCommand => ({
    topic: ACCIDENT,
    producer: UITLENER,
    grondslag: "meld-vergewisplicht-uitleners",
    purpose: "ongevalsmelding",
    idempotencyKey: uniqueName("idem"),
    traceparent: undefined,
    payload: { ...exampleEvent(ACCIDENT), reportReference },
    channel: "http",
  });

  /** This gateway's audit records of one event, once `found` holds for them. */
  const auditOf = (eventId: string, found: (seen: Positioned[]) => boolean) =>
    readUntil(stack, {
      topic: AUDIT_TOPIC,
      from: since,
      map: (m, p) => {
        const r = auditRecord(m, p);
        return r?.eventId === eventId && ours(r) ? r : undefined;
      },
      found,
    });

  it("each consumer decodes exactly its contract's fields from its delivery topic, with its own credentials", async () => {
    const receipt = await gateway.publisher.publish(accident(uniqueName("ref")));
    const nla = await readUntil(stack, {
      topic: `deliver.nla.${ACCIDENT}`,
      user: as("nla"),
      from: since,
      map: delivered,
      found: (seen) => seen.some((d) => d.eventId === receipt.eventId),
    });
    const nlaRecord = nla.find((d) => d.eventId === receipt.eventId);
    expect(nlaRecord?.schemaIdHeader).toBe(String(nlaRecord?.wireSchemaId));
    // nla's contract names every field of the schema.
    expect(leafPaths(nlaRecord?.value)).toEqual(leafPaths(exampleEvent(ACCIDENT)));

    const uwv = await readUntil(stack, {
      topic: `deliver.uwv.${ACCIDENT}`,
      user: as("uwv"),
      from: since,
      map: delivered,
      found: (seen) => seen.some((d) => d.eventId === receipt.eventId),
    });
    const uwvRecord = uwv.find((d) => d.eventId === receipt.eventId);
    expect(uwvRecord?.schemaIdHeader).toBe(String(uwvRecord?.wireSchemaId));
    expect(leafPaths(uwvRecord?.value)).toEqual([
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

  it("two attempts under one key at the same moment write the event once", async () => {
    // Two coalesced batches at once, as a client that timed out and retried while its first attempt still waited
    // on the bus (test/faults found 79 events written twice that way after a broker kill).
    const cmd = accident(uniqueName("ref"));
    const [a, b] = await Promise.all([
      gateway.publisher.publishBatch([cmd]),
      gateway.publisher.publishBatch([cmd]),
    ]);
    const outcomes = [a[0], b[0]].map((r) =>
      r && "code" in r ? r.code : r?.duplicate ? "duplicate" : "written",
    );
    expect(outcomes).toContain("written");
    expect(outcomes.filter((o) => o === "written")).toHaveLength(1);
    expect(outcomes.every((o) => ["written", "duplicate", "IDEMPOTENCY_IN_PROGRESS"].includes(o))).toBe(true);
    expect(await canonicalCopies(ACCIDENT, eventIdFor(cmd))).toBe(1);
    // The retry then gets the first receipt.
    await expect(gateway.publisher.publish(cmd)).resolves.toMatchObject({
      eventId: eventIdFor(cmd),
      duplicate: true,
    });
  });

  it("a key whose attempt never settled: in progress while it may still be written, then written once", async () => {
    const first = accident(uniqueName("ref"));
    await gateway.publisher.publish(first);
    const cmd = { ...first, idempotencyKey: uniqueName("idem") };
    await unsettled(cmd, first.idempotencyKey!, { ageSeconds: 1 });
    await expect(gateway.publisher.publish(cmd)).rejects.toMatchObject({
      code: "IDEMPOTENCY_IN_PROGRESS",
      retryAfterSeconds: 1,
    });
    expect(await canonicalCopies(ACCIDENT, eventIdFor(cmd), 0)).toBe(0);
    // Past TAKEOVER_AFTER_MS its transaction is surely over, and delivery has read to the end without it.
    await db.query(
      `UPDATE ${config.dbSchema}.idempotency SET reserved_at = now() - interval '1 minute 30 seconds'
        WHERE producer = $1 AND key = $2`,
      [cmd.producer, cmd.idempotencyKey],
    );
    await expect(gateway.publisher.publish(cmd)).resolves.toMatchObject({
      eventId: eventIdFor(cmd),
      duplicate: false,
    });
    expect(await rowState(cmd)).toBe("committed");
    await expect(gateway.publisher.publish(cmd)).resolves.toMatchObject({ duplicate: true });
    expect(await canonicalCopies(ACCIDENT, eventIdFor(cmd))).toBe(1);
  });

  it("a batch that fails before its write frees the keys it reserved: the retry writes at once", async () => {
    const first = accident(uniqueName("ref"));
    await gateway.publisher.publish(first);
    const stale = { ...first, idempotencyKey: uniqueName("idem") };
    await unsettled(stale, first.idempotencyKey!, { ageSeconds: 120 });
    const fresh = accident(uniqueName("ref"));
    takeOverFails = true;
    await expect(gateway.publisher.publishBatch([fresh, stale])).rejects.toThrow("PostgreSQL went away");
    takeOverFails = false;
    expect(await rowState(fresh)).toBeUndefined();
    await expect(gateway.publisher.publish(fresh)).resolves.toMatchObject({ duplicate: false });
    expect(await canonicalCopies(ACCIDENT, eventIdFor(fresh))).toBe(1);
  });

  it("a restart of an instance resolves the keys its earlier process left unsettled, without waiting", async () => {
    // Reserved before this process started, by the same instance: start() fenced it (the fresh transactional
    // producer ended whatever that process had open). The reservation is seconds old, yet it is resolved now.
    const first = accident(uniqueName("ref"));
    await gateway.publisher.publish(first);
    const cmd = { ...first, idempotencyKey: uniqueName("idem") };
    await unsettled(cmd, first.idempotencyKey!, {
      ageSeconds: 2,
      instance: config.instanceId!,
      fenced: true,
    });
    await expect(gateway.publisher.publish(cmd)).resolves.toMatchObject({ duplicate: false });
    expect(await canonicalCopies(ACCIDENT, eventIdFor(cmd))).toBe(1);
  });

  it("delivery settles the key of an event whose gateway died after writing it; the retry gets its receipt", async () => {
    const cmd = accident(uniqueName("ref"));
    settleFails = true;
    const receipt = await gateway.publisher.publish(cmd).finally(() => (settleFails = false));
    expect(receipt).toMatchObject({ duplicate: false });
    await waitFor(
      "delivery to mark the key committed",
      async () => ((await rowState(cmd)) === "committed" ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 50,
      },
    );
    await expect(gateway.publisher.publish(cmd)).resolves.toMatchObject({
      eventId: receipt.eventId,
      duplicate: true,
    });
    expect(await canonicalCopies(ACCIDENT, receipt.eventId)).toBe(1);
  });

  it("refuses with the rule that refused, and audits each refusal as a REJECT without the raw BSN", async () => {
    const base = accident(uniqueName("ref"));
    const bsn = (base.payload as { victim: { bsn: string } }).victim.bsn;
    const victim = { ...(base.payload as { victim: object }).victim, bsn: "123456789" };
    const cases: { cmd: PublishCommand; code: string; field?: string }[] = [
      { cmd: { ...base, producer: "gemeente.schiedam" }, code: "NOT_A_PRODUCER" },
      { cmd: { ...base, grondslag: "wet-brp" }, code: "LEGAL_BASIS_NOT_ALLOWED" },
      { cmd: { ...base, purpose: "lsi-samenwerking" }, code: "PURPOSE_NOT_ALLOWED" },
      { cmd: { ...base, topic: canonicalTopic(ACCIDENT) }, code: "UNKNOWN_TOPIC" },
      {
        cmd: { ...base, payload: { ...(base.payload as object), severity: "MINOR" } },
        code: "SCHEMA_VIOLATION",
        field: "severity",
      },
      {
        cmd: { ...base, payload: { ...(base.payload as object), victim } },
        code: "INVALID_IDENTIFIER",
        field: "victim.bsn",
      },
    ];
    const traces = new Map<string, (typeof cases)[number]>();
    for (const c of cases) {
      const trace = newTrace();
      traces.set(trace.traceId, c);
      const err = await gateway.publisher
        .publish({ ...c.cmd, idempotencyKey: uniqueName("idem"), traceparent: trace.traceparent })
        .then(
          () => undefined,
          (e: unknown) => e as GatewayError,
        );
      expect(err, c.code).toMatchObject({ code: c.code, ...(c.field ? { field: c.field } : {}) });
    }
    const rejects = await readUntil(stack, {
      topic: AUDIT_TOPIC,
      from: since,
      map: auditRecord,
      found: (seen) => [...traces.keys()].every((t) => seen.some((r) => r?.traceId === t)),
    }).then((seen) => seen.filter((r) => traces.has(r.traceId)));
    expect(rejects).toHaveLength(cases.length);
    for (const r of rejects) {
      const c = traces.get(r.traceId);
      expect(r, c?.code).toMatchObject({
        action: "REJECT",
        topic: c?.cmd.topic,
        producer: c?.cmd.producer,
        reasonCode: c?.code,
        recipient: null,
        channel: "http",
        fields: [],
      });
      expect(r.text, c?.code).not.toContain(bsn);
      expect(r.text, c?.code).not.toContain("123456789");
    }
  });

  it("a refused record on an ingress topic lands in rejected.<party>, is audited as a REJECT, and the next valid one passes", async () => {
    const party = as(UITLENER);
    const producer = testKafka(stack, party).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const ref = uniqueName("ingress");
    const { id } = await fetch(`${stack.registry.url}/subjects/events.${ACCIDENT}-value/versions/latest`, {
      headers: { authorization: basicAuth(stack.registry.gateway) },
    }).then((r) => r.json() as Promise<{ id: number }>);
    const headers = {
      "grondslag-topic": ACCIDENT,
      grondslag: "meld-vergewisplicht-uitleners",
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
    const event = { ...exampleEvent(ACCIDENT), reportReference: ref };
    const valid = toWire(id, encodeEvent(ACCIDENT, event));
    const malformed = newTrace();
    const wrongPurpose = newTrace();
    await producer.send({
      topic: ingressTopic(UITLENER),
      acks: -1,
      messages: [
        {
          key: "90000001",
          value: hostile,
          headers: { ...headers, "idempotency-key": uniqueName("bad"), traceparent: malformed.traceparent },
        },
        {
          // Well formed, with a BSN in it, under a purpose the producer entry does not name.
          key: "90000001",
          value: valid,
          headers: {
            ...headers,
            doelbinding: "lsi-samenwerking",
            "idempotency-key": uniqueName("purpose"),
            traceparent: wrongPurpose.traceparent,
          },
        },
        { key: "90000001", value: valid, headers: { ...headers, "idempotency-key": uniqueName("good") } },
      ],
    });
    await producer.disconnect();

    const rejected = await readUntil(stack, {
      topic: rejectedTopic(UITLENER),
      user: party,
      from: since,
      map: (m) => (m.value?.equals(hostile) ? header(m.headers, H.reasonCode) : undefined),
      found: (seen) => seen.length > 0,
    });
    expect(rejected[0]).toBe("MALFORMED_RECORD");
    const audited = await readUntil(stack, {
      topic: AUDIT_TOPIC,
      from: since,
      map: (m, p) => {
        const r = auditRecord(m, p);
        return r && [malformed.traceId, wrongPurpose.traceId].includes(r.traceId) ? r : undefined;
      },
      found: (seen) => new Set(seen.map((r) => r.traceId)).size === 2,
    });
    const common = {
      action: "REJECT",
      topic: ACCIDENT,
      producer: UITLENER,
      recipient: null,
      channel: "kafka",
    };
    expect(audited.find((r) => r.traceId === malformed.traceId)).toMatchObject({
      ...common,
      reasonCode: "MALFORMED_RECORD",
    });
    expect(audited.find((r) => r.traceId === wrongPurpose.traceId)).toMatchObject({
      ...common,
      reasonCode: "PURPOSE_NOT_ALLOWED",
      purpose: "lsi-samenwerking",
    });
    for (const r of audited) expect(r.text).not.toContain(event.victim.bsn);

    const nla = await readUntil(stack, {
      topic: `deliver.nla.${ACCIDENT}`,
      user: as("nla"),
      from: since,
      map: delivered,
      found: (seen) => seen.some((d) => d.value.reportReference === ref),
    });
    expect(nla.some((d) => d.value.reportReference === ref)).toBe(true);
  });

  it("refuses a registration gap: the payroll feedback loop is only being explored, no law yet", async () => {
    await expect(
      gateway.publisher.publish({
        topic: GAP,
        producer: "uwv",
        grondslag: "brp-feedbackcyclus-loonaangifte",
        purpose: "brp-adreskwaliteit",
        idempotencyKey: uniqueName("gap"),
        traceparent: undefined,
        payload: exampleEvent(GAP),
        channel: "http",
      }),
    ).rejects.toMatchObject({ code: "LEGAL_BASIS_NOT_IN_FORCE" });
  });

  it("an LSI signal reaches only the municipality it concerns", async () => {
    const receipt = await gateway.publisher.publish({
      topic: LSI,
      producer: "nla",
      grondslag: "suwi-art64",
      purpose: "lsi-samenwerking",
      idempotencyKey: uniqueName("lsi"),
      traceparent: undefined,
      payload: exampleEvent(LSI), // GM0606, Schiedam
      channel: "http",
    });
    await readUntil(stack, {
      topic: `deliver.gemeente.schiedam.${LSI}`,
      user: as("gemeente.schiedam"),
      from: since,
      map: delivered,
      found: (seen) => seen.some((d) => d.eventId === receipt.eventId),
    });
    // Both deliveries of one event are written together: once Schiedam has it, Horst would have it too.
    const horst = await readToEnd(stack, {
      topic: `deliver.gemeente.horst-aan-de-maas.${LSI}`,
      user: as("gemeente.horst-aan-de-maas"),
      from: since,
      map: (m) => header(m.headers, H.eventId),
    });
    expect(horst).not.toContain(receipt.eventId);
  });

  it("audits COLLECT and DISCLOSE with pseudonyms, never the raw BSN", async () => {
    const cmd = accident(uniqueName("ref"));
    const bsn = (cmd.payload as { victim: { bsn: string } }).victim.bsn;
    const receipt = await gateway.publisher.publish(cmd);
    const records = await auditOf(
      receipt.eventId,
      (seen) => seen.filter((r) => r.action === "DISCLOSE").length >= 2,
    );
    expect(records.map((r) => `${r.action}:${r.recipient ?? "-"}`).sort()).toEqual([
      "COLLECT:-",
      "DISCLOSE:nla",
      "DISCLOSE:uwv",
    ]);
    expect(records.every((r) => r.subjects.length > 0)).toBe(true);
    expect(records.find((r) => r.action === "COLLECT")?.subjects).toContainEqual({
      type: "bsn",
      pseudonym: pseudonymiser.pseudonym("bsn", bsn),
    });
    for (const r of records) expect(r.text).not.toContain(bsn);
  });

  it("a delivery's DISCLOSE record is on audit.log before the delivery is", async () => {
    const receipt = await gateway.publisher.publish(accident(uniqueName("ref")));
    // The moment nla can read its delivery, the audit log's end offsets must already cover the DISCLOSE record.
    let auditEndsAtDelivery: Offsets | undefined;
    const [seen] = await readUntil(stack, {
      topic: `deliver.nla.${ACCIDENT}`,
      user: as("nla"),
      from: since,
      map: async (m, p) => {
        if (header(m.headers, H.eventId) !== receipt.eventId) return undefined;
        auditEndsAtDelivery ??= await endOffsets(stack, [AUDIT_TOPIC]);
        return delivered(m, p);
      },
      found: (s) => s.length > 0,
    });
    const disclose = (
      await auditOf(receipt.eventId, (s) => s.some((r) => r.action === "DISCLOSE" && r.recipient === "nla"))
    ).find((r) => r.action === "DISCLOSE" && r.recipient === "nla");
    expect(seen).toBeDefined();
    expect(disclose).toBeDefined();
    // The delivery carries the DISCLOSE record's span: it is the delivery that record announces.
    expect(seen?.spanId).toBe(disclose?.spanId);
    const end = auditEndsAtDelivery?.[AUDIT_TOPIC]?.find((e) => e.partition === disclose?.partition);
    expect(BigInt(disclose?.offset ?? "-1")).toBeLessThan(BigInt(end?.offset ?? "0"));
    // Kafka's CreateTime is stamped when the client sends: the audit write was sent (and acknowledged) first.
    expect(disclose?.timestamp).toBeLessThanOrEqual(seen?.timestamp ?? 0);
  });

  it("a gateway that cannot write audit.log delivers nothing", { timeout: 150_000 }, async () => {
    // A principal of its own with everything the delivery worker needs except WRITE on audit.log. It may DESCRIBE
    // audit.log, so its writes get past metadata and are refused per partition by the broker: a write of DISCLOSE
    // records and deliveries in one request would then append the deliveries (seen failing so), while with only
    // metadata refused kafkajs fails the whole request. Resources without the trailing dot ("events", not
    // "events.") and operations provisioning never derives: its reconciliation and the provisioning spec, which
    // may run beside this one, count every ACL on a managed topic name as theirs.
    const user = {
      name: uniqueName("grondslag.test.noaudit"),
      password: crypto.randomBytes(18).toString("hex"),
    };
    const acls = [
      {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: "events",
        pattern: ResourcePatternTypes.PREFIXED,
      },
      {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: "deliver",
        pattern: ResourcePatternTypes.PREFIXED,
      },
      {
        resourceType: AclResourceTypes.GROUP,
        resourceName: `${user.name}.`,
        pattern: ResourcePatternTypes.PREFIXED,
      },
      {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: "audit",
        pattern: ResourcePatternTypes.PREFIXED,
        operation: AclOperationTypes.DESCRIBE,
      },
    ].map((a) => ({
      resourceType: a.resourceType,
      resourceName: a.resourceName,
      resourcePatternType: a.pattern,
      principal: `User:${user.name}`,
      host: "*",
      operation: a.operation ?? AclOperationTypes.ALL,
      permissionType: AclPermissionTypes.ALLOW,
    }));
    const admin = testKafka(stack).admin();
    await admin.connect();
    await upsertScramUsers(stack, [user]);
    await admin.createAcls({ acl: acls });
    // A new SCRAM user takes a moment to reach the broker's credential cache; until then kafkajs retries its
    // login with back-off, which cost 45 s at start.
    await waitFor(
      "the new principal to log in",
      async () => {
        const probe = testKafka(stack, user).admin();
        await probe.connect();
        await probe.disconnect();
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const fatal: Error[] = [];
    const blindSchema = uniqueDbSchema("int_noaudit");
    const blind = createGateway(
      {
        ...config,
        kafkaUser: user.name,
        kafkaPassword: user.password,
        groupPrefix: user.name,
        dbSchema: blindSchema,
        workers: ["delivery"],
        stallMs: 3000,
      },
      pino({ level: "silent" }),
      () => new Date(),
      { onFatal: (err) => fatal.push(err) },
    );
    try {
      await startAtEnd(blind);
      const receipt = await gateway.publisher.publish(accident(uniqueName("ref")));
      // This spec's own gateway delivers the event (with its DISCLOSE records); wait for those. The blind gateway
      // may not write audit.log: it must hold the event rather than deliver it or set it aside (which would lose
      // its deliveries), and say so by turning unready once its worker stands still with the record waiting.
      await auditOf(receipt.eventId, (s) => s.filter((r) => r.action === "DISCLOSE").length >= 2);
      const unready = await waitFor(
        "the gateway without audit rights to report its delivery worker stalled",
        async () => {
          const c = await blind.readiness.check();
          return c.checks.workers === false ? c : undefined;
        },
        { timeoutMs: 45_000, intervalMs: 500 },
      );
      expect(JSON.stringify(unready)).toMatch(/deliver/);
      expect(fatal).toEqual([]);

      // Every delivery of the event on every delivery topic carries the span of a DISCLOSE record (from any
      // gateway); the blind gateway's would carry a span no audit record names.
      const disclosures = await readToEnd(stack, {
        topic: AUDIT_TOPIC,
        from: since,
        map: (m, p) => {
          const r = auditRecord(m, p);
          return r?.eventId === receipt.eventId && r.action === "DISCLOSE" ? r.spanId : undefined;
        },
      });
      for (const consumer of ["nla", "uwv"]) {
        const deliveries = await readToEnd(stack, {
          topic: deliveryTopic(consumer, ACCIDENT),
          user: as(consumer),
          from: since,
          map: delivered,
        }).then((all) => all.filter((d) => d.eventId === receipt.eventId));
        expect(deliveries.length, consumer).toBeGreaterThan(0);
        for (const d of deliveries) expect(disclosures, consumer).toContain(d.spanId);
      }
    } finally {
      await blind.stop();
      await dropDbSchema(stack, blindSchema);
      await admin.deleteAcls({
        filters: acls.map(
          ({
            resourceType,
            resourceName,
            resourcePatternType,
            principal,
            host,
            operation,
            permissionType,
          }) => ({
            resourceType,
            resourceName,
            resourcePatternType,
            principal,
            host,
            operation,
            permissionType,
          }),
        ),
      });
      await admin.disconnect();
      await deleteScramUsers(stack, [user.name]);
    }
  });

  it(
    "replaying every canonical topic from this spec's start (a crash before any commit) discloses nothing twice",
    { timeout: 150_000 },
    async () => {
      const cmd = accident(uniqueName("ref"));
      const bsn = (cmd.payload as { victim: { bsn: string } }).victim.bsn;
      const receipt = await gateway.publisher.publish(cmd);
      await auditOf(receipt.eventId, (s) => s.filter((r) => r.action === "DISCLOSE").length >= 2);
      // A new consumer group for the delivery worker, started where this spec's gateway started: the worst replay
      // of everything this gateway has delivered. (From the very beginning, a used stack's whole history would
      // count, with nothing of it in this spec's database schema.)
      const groupPrefix = uniqueName("grondslag.gateway.int-replay");
      const replay = createGateway(
        { ...config, groupPrefix, workers: ["delivery"] },
        pino({ level: "warn" }),
      );
      const canonical = replay.kafkaTopics().canonical;
      const group = `${groupPrefix}.deliver`;
      const admin = testKafka(stack).admin();
      await admin.connect();
      try {
        await startGroupAt(stack, group, pick(since, canonical));
        const target = await endOffsets(stack, canonical);
        let behind: string[] = [];
        await replay.start();
        await waitFor(
          "the replay to reach the end of every canonical topic",
          async () => {
            // Named topics: without them kafkajs 2.2.4 returns only topics the group has committed, which can
            // look finished before the canonical topic of this event is replayed at all.
            const committed = await admin.fetchOffsets({ groupId: group, topics: canonical });
            behind = [];
            for (const t of committed) {
              for (const e of target[t.topic] ?? []) {
                const at = t.partitions.find((p) => p.partition === e.partition)?.offset ?? "-1";
                if (BigInt(at) < BigInt(e.offset))
                  behind.push(`${t.topic}:${e.partition} at ${at} of ${e.offset}`);
              }
            }
            return behind.length === 0 && committed.length === canonical.length ? true : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 500, onTimeout: () => `behind: ${behind.join(", ")}` },
        );
      } finally {
        await admin.disconnect();
        await replay.stop();
      }

      const canonicalRecords = await readToEnd(stack, {
        topic: canonicalTopic(ACCIDENT),
        from: since,
        map: (m) => (header(m.headers, H.eventId) === receipt.eventId ? m.offset : undefined),
      });
      expect(canonicalRecords).toHaveLength(1);
      const audit = await readToEnd(stack, {
        topic: AUDIT_TOPIC,
        from: since,
        map: (m, p) => {
          const r = auditRecord(m, p);
          return r?.eventId === receipt.eventId && ours(r) ? r : undefined;
        },
      });
      expect(audit.map((r) => `${r.action}:${r.recipient ?? "-"}`).sort()).toEqual([
        "COLLECT:-",
        "DISCLOSE:nla",
        "DISCLOSE:uwv",
      ]);
      for (const r of audit) expect(r.text).not.toContain(bsn);
      for (const consumer of ["nla", "uwv"]) {
        const span = audit.find((r) => r.action === "DISCLOSE" && r.recipient === consumer)?.spanId;
        const deliveries = await readToEnd(stack, {
          topic: deliveryTopic(consumer, ACCIDENT),
          user: as(consumer),
          from: since,
          map: delivered,
        }).then((all) => all.filter((d) => d.eventId === receipt.eventId));
        // Other gateways on the stack deliver the same event under spans of their own DISCLOSE records.
        expect(
          deliveries.filter((d) => d.spanId === span),
          consumer,
        ).toHaveLength(1);
      }
    },
  );
});
