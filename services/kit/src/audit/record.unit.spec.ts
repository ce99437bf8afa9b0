import avro from "avsc";
import { describe, expect, it } from "vitest";
import { fromWire } from "@grondslag/wire";
import {
  AUDIT_FIELD_LIMITS,
  AUDIT_RECORD_SCHEMA,
  auditMessage,
  auditRecord,
  auditRecordId,
  decodeAuditRecord,
  encodeAuditRecord,
  NO_EVENT,
  truncate,
} from "./record";

// Limits as the record builder documents them; spelled out so the spec holds code without them to account.
const LIMIT = 256;
const DETAIL_LIMIT = 1024;
const trace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
const time = new Date("2026-03-02T08:00:00.000Z");

describe("the one audit record builder", () => {
  it("records NUL in a party's text as U+FFFD: PostgreSQL text cannot hold it, and the store would stop on it", () => {
    const r = auditRecord({
      action: "REJECT",
      topic: "arbo.accident\u0000reported",
      producer: "uwv",
      grondslag: "x\u0000",
      channel: "http",
      trace: { traceId: "0".repeat(32), spanId: "1".repeat(16) },
      time: new Date(0),
      reason: { code: "UNKNOWN_TOPIC", detail: "no topic 'arbo.accident\u0000reported'" },
    });
    expect(JSON.stringify(r)).not.toContain("\\u0000");
    expect(r.topic).toBe("arbo.accident\uFFFDreported");
    expect(r.grondslag).toBe("x\uFFFD");
    expect(r.reasonDetail).toBe("no topic 'arbo.accident\uFFFDreported'");
  });

  it("builds COLLECT, DISCLOSE and REJECT with ids that name the same action the same way", () => {
    const collect = auditRecord({
      action: "COLLECT",
      topic: "arbo.accident-reported",
      eventId: "e1",
      producer: "uitlener.90000001",
      grondslag: "arbowet-art9",
      purpose: "toezicht-arbeidsomstandigheden",
      fields: ["victim.bsn"],
      channel: "http",
      trace,
      time,
      schemaId: 7,
    });
    expect(collect).toMatchObject({
      v: 1,
      action: "COLLECT",
      recipient: null,
      reasonCode: null,
      schemaId: 7,
    });
    expect(collect.id).toBe(auditRecordId("e1", "COLLECT", null, null));

    const disclose = auditRecord({
      action: "DISCLOSE",
      topic: "arbo.accident-reported",
      eventId: "e1",
      producer: "uitlener.90000001",
      recipient: "uwv",
      fields: ["victim.bsn"],
      channel: "delivery",
      trace,
      time,
    });
    expect(disclose.id).toBe(auditRecordId("e1", "DISCLOSE", "uwv", null));
    expect(disclose.id).not.toBe(auditRecordId("e1", "DISCLOSE", "nla", null));

    const refusedEvent = auditRecord({
      action: "REJECT",
      topic: "arbo.accident-reported",
      eventId: "e2",
      producer: "uitlener.90000001",
      reason: { code: "SCHEMA_VIOLATION", detail: "victim.bsn is not a BSN" },
      channel: "kafka",
      trace,
      time,
    });
    expect(refusedEvent).toMatchObject({ fields: [], reasonCode: "SCHEMA_VIOLATION", recipient: null });
    expect(refusedEvent.id).toBe(auditRecordId("e2", "REJECT", null, "SCHEMA_VIOLATION"));

    // A refused read concerns no event: one record per call, told apart by its span.
    const refusedRead = auditRecord({
      action: "REJECT",
      topic: "arbo.accident-reported",
      producer: "",
      recipient: "svb",
      reason: { code: "NOT_A_CONSUMER", detail: "svb consumes no arbo.accident-reported" },
      channel: "http",
      trace,
      time,
    });
    expect(refusedRead.eventId).toBe(NO_EVENT);
    expect(refusedRead.id).toBe(
      auditRecordId(`${trace.traceId}:${trace.spanId}`, "REJECT", "svb", "NOT_A_CONSUMER"),
    );
  });
});

describe("audit records on the wire", () => {
  it("decodes NUL in a record an older gateway wrote as U+FFFD, so the store can take it", () => {
    const raw = avro.Type.forSchema(AUDIT_RECORD_SCHEMA as unknown as avro.Schema);
    const good = encodeAuditRecord(
      auditRecord({
        action: "REJECT",
        topic: "t",
        producer: "uwv",
        channel: "http",
        trace,
        time,
        reason: { code: "UNKNOWN_TOPIC", detail: "d" },
      }),
      42,
    );
    const body = raw.fromBuffer(good.subarray(5)) as Record<string, unknown>;
    const withNul = Buffer.concat([good.subarray(0, 5), raw.toBuffer({ ...body, topic: "t\u0000x" })]);
    expect(decodeAuditRecord(withNul).topic).toBe("t\uFFFDx");
  });

  it("are the registered Avro schema in the registry's framing, readable by any Avro tool", () => {
    const record = auditRecord({
      action: "COLLECT",
      topic: "arbo.accident-reported",
      eventId: "e1",
      producer: "uitlener.90000001",
      fields: ["victim.bsn"],
      channel: "http",
      trace,
      time,
      subjects: [{ type: "bsn", pseudonym: "abc" }],
    });
    const bytes = encodeAuditRecord(record, 42);
    const framed = fromWire(bytes);
    expect(framed?.schemaId).toBe(42);
    // A plain avsc type from the .avsc alone (no project code) reads the body.
    const plain = avro.Type.forSchema(AUDIT_RECORD_SCHEMA as unknown as avro.Schema);
    expect(plain.fromBuffer(framed?.body ?? Buffer.alloc(0))).toMatchObject({
      action: "COLLECT",
      time: time.getTime(),
      subjects: [{ type: "bsn", pseudonym: "abc" }],
    });
    expect(decodeAuditRecord(bytes)).toEqual(record);
    expect(() => decodeAuditRecord(Buffer.from('{"v":1}'))).toThrow(/framing/);
  });

  it("cut a refused call's unbounded values to their limits, marking that they were cut", () => {
    // An ingress REJECT: the topic, legal basis and purpose are the sender's headers.
    const record = auditRecord({
      action: "REJECT",
      topic: `arbo.${"t".repeat(10_000)}`,
      eventId: NO_EVENT,
      producer: "uitlener.90000001",
      grondslag: "g".repeat(100_000),
      purpose: "p".repeat(300),
      reason: { code: "UNKNOWN_TOPIC", detail: `there is no public topic ${"d".repeat(50_000)}` },
      channel: "kafka",
      trace,
      time,
    });
    const message = auditMessage(record, 1, "k".repeat(1000));
    const written = decodeAuditRecord(message.message.value);
    expect(written.topic).toHaveLength(LIMIT);
    expect(written.topic).toMatch(/^arbo\.t+…\[truncated, 10005 chars\]$/);
    expect(written.grondslag).toHaveLength(LIMIT);
    expect(written.grondslag).toMatch(/…\[truncated, 100000 chars\]$/);
    expect(written.purpose).toHaveLength(LIMIT);
    expect(written.reasonDetail).toHaveLength(DETAIL_LIMIT);
    expect(message.message.key).toHaveLength(LIMIT);
    expect(message.message.value.length).toBeLessThan(4096);
    expect(written).toMatchObject({
      producer: "uitlener.90000001",
      recipient: null,
      reasonCode: "UNKNOWN_TOPIC",
    });
  });

  it("leave values within the limit alone and never exceed the limit", () => {
    expect(AUDIT_FIELD_LIMITS).toEqual({ default: LIMIT, reasonDetail: DETAIL_LIMIT });
    expect(truncate("arbowet-art9", 256)).toBe("arbowet-art9");
    for (const n of [256, 257, 1000, 99_999]) {
      expect(truncate("x".repeat(n), 256).length).toBeLessThanOrEqual(256);
    }
  });
});
