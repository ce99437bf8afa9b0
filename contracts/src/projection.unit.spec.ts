import {
  describeFields,
  encodeEvent,
  exampleEvent,
  rawSchema,
  typeForSchema,
  type AvroRecordSchema,
} from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { loadCatalogue } from "./load";
import { consumersOf } from "./match";
import {
  consumerView,
  deliveredFields,
  projectSchema,
  ProjectionError,
  schemaFingerprint,
} from "./projection";

const catalogue = loadCatalogue();
const at = new Date("2026-06-01T12:00:00Z");
const accident = rawSchema("arbo.accident-reported");

function view(topic: Parameters<typeof consumersOf>[1], party: string) {
  const delivery = consumersOf(catalogue, topic, at).find((d) => d.party.id === party);
  if (!delivery) throw new Error(`${party} is not a consumer of ${topic}`);
  return consumerView(topic, party, rawSchema(topic), delivery.entry.fields);
}

/** Every key path of a decoded value, arrays flattened, so a test can say exactly what arrived. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((v) => keyPaths(v, prefix)))];
  if (typeof value !== "object" || value === null || value instanceof Date) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...keyPaths(v, p)];
  });
}

describe("projection by avsc schema resolution", () => {
  it("gives the Arbeidsinspectie the whole accident report", () => {
    const event = exampleEvent("arbo.accident-reported");
    const decoded = view("arbo.accident-reported", "nla").decode(
      encodeEvent("arbo.accident-reported", event),
    );
    expect(decoded).toEqual(event);
  });

  it("gives UWV the accident without any health (special-category) field, nested fields trimmed", () => {
    const v = view("arbo.accident-reported", "uwv");
    const decoded = v.decode(encodeEvent("arbo.accident-reported", exampleEvent("arbo.accident-reported")));
    expect(decoded).toEqual({
      eventTime: new Date("2026-03-02T08:15:00.000Z"),
      subjectKvk: "90000001",
      reportReference: "MELD-2026-0042",
      accidentTime: new Date("2026-03-01T13:40:00.000Z"),
      inlener: { kvk: "90000101", name: "Kassenbedrijf De Voorbeeldhof B.V." },
      location: { municipalityCode: "GM1507" },
      victim: { bsn: "111222333", agencyWorker: true },
    });
    const special = describeFields(accident)
      .filter((f) => f.specialCategory)
      .map((f) => f.path);
    expect(special.length).toBeGreaterThan(0);
    expect(keyPaths(decoded).filter((p) => special.includes(p))).toEqual([]);
    // Nor the severity, which beside the BSN is health data (x-reveals).
    expect(keyPaths(decoded)).not.toContain("severity");
    // The reader schema itself holds no special-category field, so nothing can leak by a later decode either.
    expect(describeFields(v.schema).filter((f) => f.specialCategory)).toEqual([]);
    expect(JSON.stringify(v.schema)).not.toContain("x-special-category");
  });

  it("projects inside arrays of records and nullable records", () => {
    const inspection = projectSchema(rawSchema("inspectie.report-filed"), [
      "subjectKvk",
      "findings.normArea",
    ]);
    const type = typeForSchema(inspection);
    const writer = typeForSchema(rawSchema("inspectie.report-filed"));
    const decoded: unknown = type.fromBuffer(
      encodeEvent("inspectie.report-filed", exampleEvent("inspectie.report-filed")),
      type.createResolver(writer),
    );
    expect(decoded).toEqual({
      subjectKvk: "90000001",
      findings: [{ normArea: "WAGES" }, { normArea: "HOUSING" }],
    });

    const granted = rawSchema("wtta.admission-granted");
    const reader = typeForSchema(projectSchema(granted, ["inspectionReport.reportId"]));
    const resolver = reader.createResolver(typeForSchema(granted));
    const withReport = {
      ...exampleEvent("wtta.admission-granted"),
      inspectionReport: { inspectionBody: "inspectie.sna", reportId: "SNA-1", inspectionDate: "2026-01-02" },
    };
    expect(reader.fromBuffer(encodeEvent("wtta.admission-granted", withReport), resolver)).toEqual({
      inspectionReport: { reportId: "SNA-1" },
    });
    const without = exampleEvent("wtta.admission-granted");
    expect(reader.fromBuffer(encodeEvent("wtta.admission-granted", without), resolver)).toEqual({
      inspectionReport: null,
    });
  });

  it("keeps a record whole when it is named, even if a sub-field is named too", () => {
    const schema = projectSchema(accident, ["victim.bsn", "victim"]);
    expect(describeFields(schema).map((f) => f.path)).toEqual(
      describeFields(accident)
        .map((f) => f.path)
        .filter((p) => p === "victim" || p.startsWith("victim.")),
    );
  });

  it("fails closed on unknown paths, and never allows everything", () => {
    expect(() => projectSchema(accident, ["victim.shoeSize", "injury.*"])).toThrow(ProjectionError);
    expect(() => projectSchema(accident, ["victim.shoeSize"])).toThrow(
      "not fields of the schema: victim.shoeSize",
    );
    expect(() => projectSchema(accident, [])).toThrow(ProjectionError);
    expect(() => projectSchema(accident, ["*"])).toThrow(ProjectionError);
  });

  it("renames a named record used twice with different selections, and still resolves", () => {
    const writer: AvroRecordSchema = {
      type: "record",
      name: "Pair",
      namespace: "t",
      fields: [
        {
          name: "a",
          type: {
            type: "record",
            name: "Person",
            fields: [
              { name: "bsn", type: "string" },
              { name: "name", type: "string" },
            ],
          },
        },
        { name: "b", type: "Person" },
        { name: "c", type: ["null", "Person"], default: null },
      ],
    };
    const reader = projectSchema(writer, ["a.bsn", "b", "c.bsn"]);
    const names = JSON.stringify(reader).match(/"name":"t\.Person[^"]*"/g);
    expect(names).toEqual(['"name":"t.Person"', expect.stringMatching(/^"name":"t\.Person_[0-9a-f]{8}"$/)]);
    expect(projectSchema(writer, ["a.bsn", "b", "c.bsn"])).toEqual(reader);
    const w = typeForSchema(writer);
    const r = typeForSchema(reader);
    const value = { a: { bsn: "1", name: "A" }, b: { bsn: "2", name: "B" }, c: { bsn: "3", name: "C" } };
    expect(r.fromBuffer(w.toBuffer(value), r.createResolver(w))).toEqual({
      a: { bsn: "1" },
      b: { bsn: "2", name: "B" },
      c: { bsn: "3" },
    });
  });

  it("inlines a named type whose definition sits in a field that is not delivered", () => {
    const writer: AvroRecordSchema = {
      type: "record",
      name: "Two",
      fields: [
        { name: "first", type: { type: "enum", name: "Colour", symbols: ["RED", "BLUE"] } },
        { name: "second", type: "Colour" },
      ],
    };
    const reader = projectSchema(writer, ["second"]);
    const w = typeForSchema(writer);
    const r = typeForSchema(reader);
    expect(r.fromBuffer(w.toBuffer({ first: "RED", second: "BLUE" }), r.createResolver(w))).toEqual({
      second: "BLUE",
    });
  });
});

describe("view names and fingerprints", () => {
  it("names the registry subject after the delivery topic", () => {
    const uwv = view("arbo.accident-reported", "uwv");
    expect(uwv.subject).toBe("deliver.uwv.arbo.accident-reported-value");
    expect(uwv.deliveryTopic).toBe("deliver.uwv.arbo.accident-reported");
  });

  it("fingerprints are stable, and differ between views", () => {
    const uwv = view("arbo.accident-reported", "uwv");
    const nla = view("arbo.accident-reported", "nla");
    expect(uwv.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(view("arbo.accident-reported", "uwv").fingerprint).toBe(uwv.fingerprint);
    expect(nla.fingerprint).not.toBe(uwv.fingerprint);
    // The whole view is the writer's shape.
    expect(nla.fingerprint).toBe(schemaFingerprint(accident));
  });

  it("lists the leaf fields a consumer receives", () => {
    expect(deliveredFields(accident, ["victim.bsn", "location"]).map((f) => f.path)).toEqual([
      "location.street",
      "location.houseNumber",
      "location.postalCode",
      "location.municipalityCode",
      "location.workplace",
      "victim.bsn",
    ]);
  });
});
