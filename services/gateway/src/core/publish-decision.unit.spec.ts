import { loadCatalogue } from "@grondslag/contracts";
import { decodeEvent, exampleEvent, KEY_FIELD } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { MAX_RECORD_BYTES, Pseudonymiser, recordBytes } from "@grondslag/kit";
import {
  boundCanonical,
  decidePublish,
  MAX_CANONICAL_BYTES,
  type PublishAccepted,
  type PublishRequest,
} from "./publish-decision";
import { BUS_HEADERS as H, fromWire } from "@grondslag/wire";

const catalogue = loadCatalogue();
const pseudonymiser = new Pseudonymiser(Buffer.alloc(32, 7));
const at = new Date("2026-06-01T12:00:00Z");
const trace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true };
const ids = { eventId: "5f0c7a3e-1b2d-4c3e-8f9a-0b1c2d3e4f50", trace, schemaId: 42 };

/** An uitlener's accident report as the contract allows it; each case changes one thing. */
const report = (over: Partial<PublishRequest> = {}): PublishRequest => ({
  topic: "arbo.accident-reported",
  producer: "uitlener.90000001",
  grondslag: "meld-vergewisplicht-uitleners",
  purpose: "ongevalsmelding",
  payload: exampleEvent("arbo.accident-reported"),
  at,
  ...over,
});
const decide = (over: Partial<PublishRequest> = {}) => decidePublish(catalogue, report(over), pseudonymiser);
const accepted = (over: Partial<PublishRequest> = {}): PublishAccepted => {
  const d = decide(over);
  if (!d.ok) throw new Error(`expected acceptance, got ${d.code}: ${d.detail}`);
  return d;
};

describe("the publish decision accepts", () => {
  it("an event its producer entry allows: canonical Avro, keyed by the company, schema fields, pseudonymised subjects", () => {
    const d = accepted();
    expect(d.topic).toBe("arbo.accident-reported");
    expect(decodeEvent("arbo.accident-reported", d.body)).toEqual(exampleEvent("arbo.accident-reported"));
    expect(d.sha256.toString("hex")).toMatch(/^[0-9a-f]{64}$/);
    expect(d.key).toBe(exampleEvent("arbo.accident-reported")[KEY_FIELD]);
    expect(d.fields).toContain("victim.bsn");
    expect(d.fields).toContain("injury.nature");
    expect(d.fields).not.toContain("victim");
    expect(d.subjects).toContainEqual({
      type: "bsn",
      pseudonym: pseudonymiser.pseudonym("bsn", "111222333"),
    });
    // No raw identifier in what the audit record will name.
    expect(JSON.stringify(d.subjects)).not.toContain("111222333");
  });

  it("the same event the same way: the decision reads no clock and no randomness", () => {
    const a = accepted();
    const b = accepted();
    expect(a.body.equals(b.body)).toBe(true);
    expect(a.sha256.equals(b.sha256)).toBe(true);
  });
});

describe("the publish decision refuses, naming the rule and the fix", () => {
  it("UNKNOWN_TOPIC: a topic without a schema", () => {
    expect(decide({ topic: "arbo.nothing-here" })).toEqual({
      ok: false,
      code: "UNKNOWN_TOPIC",
      detail: 'there is no public topic "arbo.nothing-here"',
      fix: "publish to one of the topics in GET /v1/openapi.json (e.g. arbo.accident-reported)",
    });
  });

  it("UNKNOWN_TOPIC: an internal Kafka topic, whatever follows its prefix", () => {
    for (const topic of [
      "events.arbo.accident-reported",
      "deliver.nla.arbo.accident-reported",
      "audit.log",
    ]) {
      expect(decide({ topic })).toMatchObject({ ok: false, code: "UNKNOWN_TOPIC" });
    }
  });

  it("NOT_A_PRODUCER: a party missing from the parties registry", () => {
    expect(decide({ producer: "uitlener.99999999" })).toEqual({
      ok: false,
      code: "NOT_A_PRODUCER",
      detail: "unknown party uitlener.99999999",
      fix: "authenticate as a party in the parties registry",
    });
  });

  it("NOT_A_PRODUCER: a party the contract names only as a consumer", () => {
    expect(decide({ producer: "nla", grondslag: "arbowet-art9", purpose: "ongevalsonderzoek" })).toEqual({
      ok: false,
      code: "NOT_A_PRODUCER",
      detail: "nla may not publish on arbo.accident-reported (at 2026-06-01T12:00:00.000Z)",
      fix: "only parties the topic's contract names as producers may publish; ask the contract owner",
    });
  });

  it("LEGAL_BASIS_NOT_IN_FORCE: before the producer entry's legal basis is in force (validity window)", () => {
    const returnCheck = {
      topic: "arbo.return-verified",
      grondslag: "meld-vergewisplicht-uitleners",
      purpose: "vergewisplicht",
      payload: exampleEvent("arbo.return-verified"),
    };
    // The legal basis starts on 2026-01-01, inclusive, at midnight in Amsterdam (23:00 UTC the day before).
    expect(decide({ ...returnCheck, at: new Date("2025-12-31T22:59:59.999Z") })).toMatchObject({
      ok: false,
      code: "LEGAL_BASIS_NOT_IN_FORCE",
      detail:
        "grondslag meld-vergewisplicht-uitleners (planned, intended to take effect from 2026-01-01) is not in force now, 2025-12-31T22:59:59.999Z: uitlener.90000001 may not publish on arbo.return-verified under it",
    });
    expect(decide({ ...returnCheck, at: new Date("2025-12-31T23:00:00Z") })).toMatchObject({ ok: true });
  });

  it("LEGAL_BASIS_NOT_IN_FORCE: an event dated before its legal basis takes effect, whatever the clock says", () => {
    const d = decide({
      topic: "arbo.return-verified",
      grondslag: "meld-vergewisplicht-uitleners",
      purpose: "vergewisplicht",
      payload: { ...exampleEvent("arbo.return-verified"), eventTime: "2025-11-20T10:00:00Z" },
    });
    expect(d).toMatchObject({
      ok: false,
      code: "LEGAL_BASIS_NOT_IN_FORCE",
      detail: expect.stringContaining(
        "is not in force on the event's date, 2025-11-20T10:00:00.000Z",
      ) as string,
      fix: expect.stringContaining("rule: a legal basis carries only events inside its validity") as string,
    });
  });

  it("LEGAL_BASIS_NOT_IN_FORCE: a planned basis the source gives no date, on any date", () => {
    expect(
      decide({
        topic: "loonaangifte.registration-gap",
        producer: "uwv",
        grondslag: "brp-feedbackcyclus-loonaangifte",
        purpose: "brp-adreskwaliteit",
        payload: exampleEvent("loonaangifte.registration-gap"),
      }),
    ).toMatchObject({
      ok: false,
      code: "LEGAL_BASIS_NOT_IN_FORCE",
      detail: expect.stringContaining("(planned, with no date of entry into force)") as string,
    });
  });

  it("LEGAL_BASIS_NOT_ALLOWED: a grondslag other than the producer entry's", () => {
    expect(decide({ grondslag: "suwi-art64" })).toEqual({
      ok: false,
      code: "LEGAL_BASIS_NOT_ALLOWED",
      detail:
        "uitlener.90000001 publishes on arbo.accident-reported under grondslag meld-vergewisplicht-uitleners, not suwi-art64",
      fix: "name the legal basis your producer entry in the contract gives, in the Grondslag header",
    });
  });

  it("PURPOSE_NOT_ALLOWED: a purpose the producer entry does not list", () => {
    expect(decide({ purpose: "ongevalsonderzoek" })).toEqual({
      ok: false,
      code: "PURPOSE_NOT_ALLOWED",
      detail:
        "purpose ongevalsonderzoek is not in the contract for uitlener.90000001 on arbo.accident-reported; allowed: ongevalsmelding",
      fix: "name one of the purposes your producer entry allows, in the Doelbinding header",
    });
  });

  it("BINDING_VIOLATED: an uitlener reporting an accident at another company", () => {
    const other = { ...exampleEvent("arbo.accident-reported"), subjectKvk: "90000002" };
    expect(decide({ payload: other })).toEqual({
      ok: false,
      code: "BINDING_VIOLATED",
      detail:
        "subjectKvk is not your own kvk 90000001: uitlener.90000001 may publish on arbo.accident-reported only about itself",
      fix: "publish only about yourself: the contract binds this field to your own KvK or gemeentecode (parties registry)",
    });
  });

  it("SCHEMA_VIOLATION: a required field missing, named as the field", () => {
    const { severity: _gone, ...payload } = exampleEvent("arbo.accident-reported");
    expect(decide({ payload })).toEqual({
      ok: false,
      code: "SCHEMA_VIOLATION",
      detail: "severity is missing",
      fix: "fix severity as the schema for arbo.accident-reported describes (GET /v1/openapi.json)",
      field: "severity",
    });
  });

  it("SCHEMA_VIOLATION: a nested field of the wrong type", () => {
    const event = exampleEvent("arbo.accident-reported");
    const payload = { ...event, injury: { ...event.injury, hospitalisedDays: "three" } };
    expect(decide({ payload })).toMatchObject({
      ok: false,
      code: "SCHEMA_VIOLATION",
      field: "injury.hospitalisedDays",
      detail: expect.stringMatching(
        /^injury\.hospitalisedDays does not match the schema \(expected /,
      ) as string,
    });
  });

  it("SCHEMA_VIOLATION: a payload that is no record at all, at the root", () => {
    // The LSI signal's producer entry for nla binds no field, so the schema is the first rule the payload meets.
    const signal = { topic: "lsi.signal-raised", producer: "nla", grondslag: "suwi-art64" };
    expect(decide({ ...signal, purpose: "lsi-samenwerking", payload: "a signal" })).toMatchObject({
      ok: false,
      code: "SCHEMA_VIOLATION",
      field: "(root)",
    });
  });

  it("INVALID_IDENTIFIER: a BSN that fails the elfproef, without repeating it", () => {
    const event = exampleEvent("arbo.accident-reported");
    const d = decide({ payload: { ...event, victim: { ...event.victim, bsn: "123456789" } } });
    expect(d).toEqual({
      ok: false,
      code: "INVALID_IDENTIFIER",
      detail: "victim.bsn is not a valid bsn",
      fix: "send a BSN of nine digits that passes the elfproef",
      field: "victim.bsn",
    });
  });

  it("checks the contract before the schema: a stranger learns nothing about the payload's shape", () => {
    expect(decide({ producer: "nla", purpose: "ongevalsonderzoek", payload: {} })).toMatchObject({
      code: "NOT_A_PRODUCER",
    });
  });
});

describe("the canonical record and its size bound", () => {
  it("carries the event's facts in headers and the registry's wire format as value", () => {
    const d = accepted();
    const r = boundCanonical(d, report(), ids);
    if (!r.ok) throw new Error(r.detail);
    expect(r.message.topic).toBe("events.arbo.accident-reported");
    expect(r.message.message.key).toBe("90000001");
    expect(r.message.message.headers).toEqual({
      [H.eventId]: ids.eventId,
      [H.topic]: "arbo.accident-reported",
      [H.producer]: "uitlener.90000001",
      [H.grondslag]: "meld-vergewisplicht-uitleners",
      [H.purpose]: "ongevalsmelding",
      [H.traceparent]: `00-${trace.traceId}-${trace.spanId}-01`,
      [H.schemaId]: "42",
    });
    const wire = fromWire(r.message.message.value as Buffer);
    expect(wire?.schemaId).toBe(42);
    expect(wire?.body.equals(d.body)).toBe(true);
  });

  it("RECORD_TOO_LARGE: an event whose record exceeds the bound, leaving room for a delivery's headers", () => {
    expect(MAX_CANONICAL_BYTES).toBeLessThan(MAX_RECORD_BYTES);
    const circumstances = "x".repeat(MAX_CANONICAL_BYTES);
    const payload = { ...exampleEvent("arbo.accident-reported"), circumstances };
    const d = accepted({ payload });
    const r = boundCanonical(d, report({ payload }), ids);
    expect(r).toMatchObject({
      ok: false,
      code: "RECORD_TOO_LARGE",
      fix: "send a smaller event: shorten its longest text fields",
    });
    if (r.ok) return;
    const bytes = Number(/takes (\d+) bytes/.exec(r.detail)?.[1]);
    expect(bytes).toBeGreaterThan(MAX_CANONICAL_BYTES);
    expect(r.detail).toBe(
      `the event takes ${bytes} bytes as a Kafka record, more than the ${MAX_CANONICAL_BYTES} the bus accepts`,
    );
  });

  it("accepts a record of exactly the bound, and refuses one byte more", () => {
    const event = exampleEvent("arbo.accident-reported");
    const sized = (extra: number) => {
      const payload = { ...event, circumstances: event.circumstances + "y".repeat(extra) };
      return boundCanonical(accepted({ payload }), report({ payload }), ids);
    };
    const small = sized(0);
    if (!small.ok) throw new Error(small.detail);
    // Avro writes a string's length as a varint: past 16383 bytes it takes three bytes, not one.
    const extra = MAX_CANONICAL_BYTES - recordBytes(small.message.message) - 2;
    const exact = sized(extra);
    if (!exact.ok) throw new Error(exact.detail);
    expect(recordBytes(exact.message.message)).toBe(MAX_CANONICAL_BYTES);
    expect(sized(extra + 1)).toMatchObject({ ok: false, code: "RECORD_TOO_LARGE" });
  });
});
