import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generate } from "./codegen/generate";
import {
  checkSchema,
  decodeEvent,
  describeFields,
  encodeEvent,
  exampleEvent,
  identifierProblems,
  isoDateToDays,
  isTopic,
  loadSchema,
  partitionKey,
  rawSchema,
  topics,
  typeForSchema,
  type AvroRecordSchema,
} from "./index";

const avroDir = fileURLToPath(new URL("../avro/", import.meta.url));
const generatedDir = fileURLToPath(new URL("./generated/", import.meta.url));

describe("the event catalogue", () => {
  it("has one schema per topic of the design, and nothing else", () => {
    expect([...topics].sort()).toEqual(
      [
        "arbo.accident-notified",
        "arbo.accident-reported",
        "arbo.return-verified",
        // Catalogue v2 (issue 10): the seed's flows 4, 7, 13, 14, 16, 18 and 19.
        "amu.case-opened",
        "brp.stay-address-changed",
        "brp.stay-address-provided",
        "fiscaal.arrears-signalled",
        "informatie.worker-notice-issued",
        "loonaangifte.payroll-departure",
        "wtta.register-updated",
        "huisvesting.landlord-reported",
        "huisvesting.violation-found",
        "inspectie.report-filed",
        "loonaangifte.registration-gap",
        "lsi.signal-raised",
        "wtta.admission-granted",
        "wtta.admission-refused",
        "wtta.admission-revoked",
      ].sort(),
    );
    expect(isTopic("arbo.accident-reported")).toBe(true);
    expect(isTopic("arbo.unknown")).toBe(false);
  });

  it("matches the generated files (npm run gen)", () => {
    const sources = readdirSync(avroDir).map((name) => ({
      name,
      text: readFileSync(avroDir + name, "utf8"),
    }));
    const recordsDir = fileURLToPath(new URL("../records/", import.meta.url));
    const records = readdirSync(recordsDir).map((name) => ({
      name,
      text: readFileSync(recordsDir + name, "utf8"),
    }));
    for (const file of generate(sources, records)) {
      expect(readFileSync(generatedDir + file.name, "utf8"), file.name).toBe(file.text);
    }
  });

  it.each(topics)("%s follows the conventions and round-trips its example", (topic) => {
    expect(checkSchema(topic, rawSchema(topic))).toEqual([]);
    const event = exampleEvent(topic);
    expect(identifierProblems(rawSchema(topic), event)).toEqual([]);
    expect(decodeEvent(topic, encodeEvent(topic, event))).toEqual(event);
    expect(partitionKey(topic, event)).toBe(event.subjectKvk);
  });

  it("keeps custom attributes in the raw schema (avsc itself drops them)", () => {
    const fields = describeFields(rawSchema("arbo.accident-reported"));
    const byPath = new Map(fields.map((f) => [f.path, f]));
    expect(byPath.get("victim.bsn")).toMatchObject({ personal: "bsn", identifier: "bsn" });
    expect(byPath.get("injury.nature")?.specialCategory).toBe("health");
    expect(byPath.get("injury")).toMatchObject({ specialCategory: "health", isRecord: true });
    expect(byPath.get("injury.hospitalisedDays")).toMatchObject({
      specialCategory: "health",
      nullable: true,
    });
    expect(byPath.get("victim.name")?.specialCategory).toBeUndefined();
    expect(JSON.stringify(loadSchema("arbo.accident-reported").schema({ exportAttrs: true }))).not.toContain(
      "x-",
    );
  });

  it("marks special-category data only in the accident report", () => {
    const special = topics.filter((t) => describeFields(rawSchema(t)).some((f) => f.specialCategory));
    expect(special).toEqual(["arbo.accident-reported"]);
  });

  it("carries a municipality code a row filter can use in the registration gap", () => {
    const code = describeFields(rawSchema("loonaangifte.registration-gap")).find(
      (f) => f.path === "municipality.code",
    );
    expect(code).toMatchObject({ identifier: "gemeentecode", nullable: false, repeated: false });
  });

  it("describes fields inside arrays without an index segment", () => {
    const paths = describeFields(rawSchema("lsi.signal-raised")).map((f) => f.path);
    expect(paths).toContain("persons.bsn");
    const bsn = describeFields(rawSchema("lsi.signal-raised")).find((f) => f.path === "persons.bsn");
    expect(bsn?.repeated).toBe(true);
  });

  it("returns frozen schemas", () => {
    const schema = rawSchema("wtta.admission-granted");
    expect(Object.isFrozen(schema)).toBe(true);
    expect(Object.isFrozen(schema.fields[0])).toBe(true);
  });
});

describe("logical types", () => {
  const type = loadSchema("wtta.admission-granted");

  it("accepts JSON forms of timestamps and dates and normalises them", () => {
    const json = { ...exampleEvent("wtta.admission-granted"), eventTime: "2026-01-05T10:00:00+01:00" };
    expect(type.isValid(json)).toBe(true);
    const clone = type.clone(json) as { eventTime: Date; validFrom: string };
    expect(clone.eventTime).toEqual(new Date("2026-01-05T09:00:00.000Z"));
    expect(clone.validFrom).toBe("2026-01-05");
    expect(type.isValid({ ...json, eventTime: 1767603600000 })).toBe(true);
  });

  it("rejects timestamps without an offset, and days that do not exist", () => {
    const base = exampleEvent("wtta.admission-granted");
    expect(type.isValid({ ...base, eventTime: "2026-01-05T10:00:00" })).toBe(false);
    expect(type.isValid({ ...base, eventTime: "yesterday" })).toBe(false);
    expect(type.isValid({ ...base, validFrom: "2026-02-30" })).toBe(false);
    expect(type.isValid({ ...base, validFrom: "5 januari 2026" })).toBe(false);
    expect(() => type.toBuffer({ ...base, eventTime: "yesterday" })).toThrow();
  });

  it("reads every ISO date as the Date round trip does: each day of 1899 to 2101, and days that do not exist", () => {
    // The reference: Date.UTC, and the day back as an ISO string (it rolls 2024-02-30 over to March).
    const reference = (s: string) => {
      const [y, mo, d] = s.split("-").map(Number) as [number, number, number];
      const ms = Date.UTC(y, mo - 1, d);
      return new Date(ms).toISOString().slice(0, 10) === s ? ms / 86_400_000 : undefined;
    };
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    let checked = 0;
    for (const y of [0, 1, 99, 100, 1600, 1899, 1900, 1970, 2000, 2023, 2024, 2100, 2101, 9999]) {
      for (let mo = 0; mo <= 13; mo++) {
        for (let d = 0; d <= 32; d++) {
          const s = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`;
          expect(isoDateToDays(s), s).toBe(reference(s));
          checked++;
        }
      }
    }
    for (let ms = Date.UTC(1899, 0, 1); ms <= Date.UTC(2101, 11, 31); ms += 86_400_000) {
      const s = new Date(ms).toISOString().slice(0, 10);
      expect(isoDateToDays(s)).toBe(ms / 86_400_000);
      checked++;
    }
    expect(checked).toBeGreaterThan(80_000);
    for (const bad of ["2026-1-05", "2026-01-05T00:00:00Z", " 2026-01-05", "２０２６-01-05", ""]) {
      expect(isoDateToDays(bad), bad).toBeUndefined();
    }
  });

  it("handles a nullable date", () => {
    const base = exampleEvent("wtta.admission-granted");
    const decoded = decodeEvent("wtta.admission-granted", encodeEvent("wtta.admission-granted", base));
    expect(decoded.provisionalUntil).toBe("2026-07-05");
    const none = { ...base, provisionalUntil: null };
    expect(
      decodeEvent("wtta.admission-granted", encodeEvent("wtta.admission-granted", none)).provisionalUntil,
    ).toBe(null);
  });

  it("reads a writer without logical types into Date and ISO day", () => {
    const writer = typeForSchema({
      type: "record",
      name: "T",
      fields: [
        { name: "t", type: "long" },
        { name: "d", type: "int" },
      ],
    });
    const reader = typeForSchema({
      type: "record",
      name: "T",
      fields: [
        { name: "t", type: { type: "long", logicalType: "timestamp-millis" } },
        { name: "d", type: { type: "int", logicalType: "date" } },
      ],
    });
    const value: unknown = reader.fromBuffer(writer.toBuffer({ t: 0, d: 1 }), reader.createResolver(writer));
    expect(value).toEqual({ t: new Date(0), d: "1970-01-02" });
  });
});

describe("checkSchema", () => {
  const valid = (): AvroRecordSchema => structuredClone(rawSchema("wtta.admission-revoked"));

  it("reports every problem with its path", () => {
    const s = valid() as unknown as { fields: Record<string, unknown>[]; namespace: string };
    s.namespace = "nl.grondslag.events.other";
    delete s.fields[2]?.doc;
    s.fields[7] = { name: "explanation", type: ["string", "null"], doc: "x" };
    s.fields.push({ name: "who", type: "string", doc: "d", "x-identifier": "bsn", "x-persnal": "bsn" });
    expect(checkSchema("wtta.admission-revoked", s)).toEqual([
      'namespace: must be "nl.grondslag.events.wtta"',
      "tradeName: every field needs a doc (English, with the Dutch term)",
      'explanation: unions must be ["null", T]: other unions do not map to one TypeScript type',
      'who: unknown attribute "x-persnal"',
      'who: a BSN is personal data: add "x-personal": "bsn"',
    ]);
  });

  it("requires the key and time fields", () => {
    const s = valid() as unknown as { fields: { name: string }[] };
    s.fields = s.fields.filter((f) => f.name !== "subjectKvk" && f.name !== "eventTime");
    expect(checkSchema("wtta.admission-revoked", s)).toEqual([
      '(root): every event carries the subject company\'s KvK number in a top-level "subjectKvk" field',
      'eventTime: every event carries "eventTime" as {"type": "long", "logicalType": "timestamp-millis"}',
    ]);
  });

  it("rejects invalid Avro and bad topic names", () => {
    expect(
      checkSchema("Bad_Topic", { type: "record", name: "X", fields: [{ name: "a", type: "nope" }] }),
    ).toEqual([
      '(root): topic name "Bad_Topic" must be <domain>.<event-in-kebab-case>',
      "(root): not a valid Avro schema: undefined type name: nope",
    ]);
  });
});
