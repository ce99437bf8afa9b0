import { describe, expect, it } from "vitest";
import { auditMessage, auditRecordSchema, type AuditRecord } from "./audit";
import * as audit from "./audit";

// Limits as the record builder documents them; spelled out so the spec holds code without them to account.
const LIMIT = 256;
const DETAIL_LIMIT = 1024;

describe("audit records are bounded where every record passes", () => {
  it("cuts a refused call's unbounded values to their limits, marking that they were cut", () => {
    // An ingress REJECT as the publisher builds it: the topic, legal basis and purpose are the sender's headers.
    const record: AuditRecord = {
      v: 1,
      id: "5f0c7a3e-1b2d-4c3e-8f9a-0b1c2d3e4f50",
      time: "2026-03-02T08:00:00.000Z",
      action: "REJECT",
      topic: `arbo.${"t".repeat(10_000)}`,
      eventId: "00000000-0000-0000-0000-000000000000",
      producer: "uitlener.90000001",
      recipient: null,
      grondslag: "g".repeat(100_000),
      purpose: "p".repeat(300),
      fields: [],
      reasonCode: "UNKNOWN_TOPIC",
      reasonDetail: `there is no public topic ${"d".repeat(50_000)}`,
      channel: "kafka",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      schemaId: null,
      subjects: [],
    };
    const message = auditMessage(record, "k".repeat(1000));
    const written = auditRecordSchema.parse(JSON.parse(String(message.message.value)));
    expect(written.topic).toHaveLength(LIMIT);
    expect(written.topic).toMatch(/^arbo\.t+…\[truncated, 10005 chars\]$/);
    expect(written.grondslag).toHaveLength(LIMIT);
    expect(written.grondslag).toMatch(/…\[truncated, 100000 chars\]$/);
    expect(written.purpose).toHaveLength(LIMIT);
    expect(written.reasonDetail).toHaveLength(DETAIL_LIMIT);
    expect(String(message.message.key)).toHaveLength(LIMIT);
    expect(String(message.message.value).length).toBeLessThan(4096);
    // What fits is written as it is.
    expect(written).toMatchObject({
      producer: "uitlener.90000001",
      recipient: null,
      reasonCode: "UNKNOWN_TOPIC",
    });
  });

  it("leaves values within the limit alone and never exceeds the limit", () => {
    expect(audit.AUDIT_FIELD_LIMITS).toEqual({ default: LIMIT, reasonDetail: DETAIL_LIMIT });
    expect(audit.truncate("arbowet-art9", 256)).toBe("arbowet-art9");
    for (const n of [256, 257, 1000, 99_999]) {
      expect(audit.truncate("x".repeat(n), 256).length).toBeLessThanOrEqual(256);
    }
  });
});
