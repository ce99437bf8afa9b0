import { describe, expect, it } from "vitest";
import {
  canonicalTopic,
  continueTrace,
  deliveryTopic,
  errorCodes,
  formatTraceparent,
  fromWire,
  ingressTopic,
  isPublicTopicName,
  parseKafkaTopic,
  parseTraceparent,
  randomHex,
  rejectedTopic,
  deadLetterTopic,
  subjectOf,
  topicOfSubject,
  toWire,
  AUDIT_TOPIC,
} from "./index";

describe("topic names", () => {
  it("parse back to what built them, for party ids with and without a dot", () => {
    for (const party of ["uwv", "gemeente.0363", "uitlener.12345678"]) {
      expect(parseKafkaTopic(ingressTopic(party))).toEqual({ kind: "ingress", party });
      expect(parseKafkaTopic(rejectedTopic(party))).toEqual({ kind: "rejected", party });
      expect(parseKafkaTopic(deadLetterTopic(party))).toEqual({ kind: "deadletter", party });
      expect(parseKafkaTopic(deliveryTopic(party, "arbo.accident-reported"))).toEqual({
        kind: "delivery",
        party,
        topic: "arbo.accident-reported",
      });
    }
    expect(parseKafkaTopic(canonicalTopic("wtta.admission-revoked"))).toEqual({
      kind: "canonical",
      topic: "wtta.admission-revoked",
    });
    expect(parseKafkaTopic(AUDIT_TOPIC)).toEqual({ kind: "audit" });
    expect(topicOfSubject(subjectOf("events.wtta.admission-revoked"))).toBe("events.wtta.admission-revoked");
  });

  it("refuse names that are not ours", () => {
    for (const name of [
      "events.Arbo.x",
      "deliver.uwv",
      "deliver.uwv.arbo",
      "ingress.",
      "other.topic",
      "events.a.b.c",
    ]) {
      expect(parseKafkaTopic(name), name).toBeUndefined();
    }
    expect(topicOfSubject("events.x-key")).toBeUndefined();
  });

  it("public names are two kebab-case segments and never an internal name", () => {
    expect(isPublicTopicName("arbo.accident-reported")).toBe(true);
    for (const bad of [
      "events.accident",
      "audit.log",
      "arbo",
      "arbo.accident.reported",
      "Arbo.x",
      `a.${"b".repeat(100)}`,
    ]) {
      expect(isPublicTopicName(bad), bad).toBe(false);
    }
  });
});

describe("framing", () => {
  it("round-trips the schema id and body, and refuses unframed bytes", () => {
    const framed = toWire(42, Buffer.from("body"));
    expect(framed.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 42]));
    expect(fromWire(framed)).toEqual({ schemaId: 42, body: Buffer.from("body") });
    expect(fromWire(Buffer.from([1, 0, 0, 0, 42, 1]))).toBeUndefined();
    expect(fromWire(Buffer.from([0, 0, 0]))).toBeUndefined();
  });
});

describe("traceparent", () => {
  const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  it("continues a valid trace with a new span", () => {
    expect(parseTraceparent(valid)).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      sampled: true,
    });
    const next = continueTrace(valid);
    expect(next.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(next.spanId).not.toBe("00f067aa0ba902b7");
    expect(formatTraceparent(next)).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled).toBe(false);
  });

  it("accepts a future version with extra fields, and refuses what the W3C rules refuse", () => {
    expect(parseTraceparent(`01${valid.slice(2)}-what-comes-next`)?.traceId).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    for (const bad of [
      `ff${valid.slice(2)}`,
      `${valid}-extra`,
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      valid.toUpperCase(),
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      `${valid}${" ".repeat(600)}`,
      "",
    ]) {
      expect(parseTraceparent(bad), bad).toBeUndefined();
      expect(continueTrace(bad).traceId).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

describe("random ids", () => {
  it("draws distinct ids of the asked length across many refills of the pool, never all zeros", () => {
    // 20,000 span ids are 160,000 bytes: the 4 KiB pool is refilled about 40 times.
    const ids = Array.from({ length: 20_000 }, () => randomHex(8));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.some((id) => /^0+$/.test(id))).toBe(false);
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(Array.from({ length: 1_000 }, () => continueTrace(undefined).traceId)).size).toBe(1_000);
  });

  it("spreads its digits evenly (a pool read at a stale or zeroed place would not)", () => {
    const counts = new Map<string, number>();
    const text = Array.from({ length: 4_000 }, () => randomHex(16)).join("");
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(16);
    // 128,000 digits, 8,000 expected of each (standard deviation 87): ±400 is 4.6 of them.
    for (const [digit, n] of counts) expect(Math.abs(n - 8_000), digit).toBeLessThan(400);
  });

  it("refuses a length it cannot draw", () => {
    expect(() => randomHex(0)).toThrow(RangeError);
    expect(() => randomHex(65)).toThrow(RangeError);
  });
});

describe("error codes", () => {
  it("retriable codes are exactly the 429s and 5xx, and the 409 of a key whose first attempt is in progress", () => {
    // 409 for a retry that overlaps its first attempt, as the IETF Idempotency-Key draft says, with Retry-After.
    for (const [code, meta] of Object.entries(errorCodes)) {
      expect(meta.retriable, code).toBe(
        meta.status === 429 || meta.status >= 500 || code === "IDEMPOTENCY_IN_PROGRESS",
      );
    }
  });
});
