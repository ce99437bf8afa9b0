import { exampleEvent, rawSchema } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import type { Party, RowFilter } from "./model";
import { checkRowFilter, evaluateRowFilter } from "./row-filter";

const schiedam: Party = {
  id: "gemeente.schiedam",
  name: "Gemeente Schiedam",
  kind: "gemeente",
  gemeentecode: "GM0606",
  keys: [],
};
const horst: Party = {
  id: "gemeente.horst-aan-de-maas",
  name: "Horst",
  kind: "gemeente",
  gemeentecode: "GM1507",
  keys: [],
};
const nla: Party = { id: "nla", name: "Nederlandse Arbeidsinspectie", kind: "toezichthouder", keys: [] };

const gap = exampleEvent("loonaangifte.registration-gap"); // municipality GM1507
const own: RowFilter = { field: "municipality.code", equals: { party: "gemeentecode" } };

describe("evaluateRowFilter", () => {
  it("passes only the gemeente whose code the event carries", () => {
    expect(evaluateRowFilter(own, gap, horst)).toBe(true);
    expect(evaluateRowFilter(own, gap, schiedam)).toBe(false);
  });

  it("fails closed for a party without the attribute, and for missing or null fields", () => {
    expect(evaluateRowFilter(own, gap, nla)).toBe(false);
    expect(evaluateRowFilter(own, { ...gap, municipality: null }, horst)).toBe(false);
    expect(evaluateRowFilter(own, {}, horst)).toBe(false);
    const signal = { ...exampleEvent("lsi.signal-raised"), municipalityCode: null };
    expect(
      evaluateRowFilter({ field: "municipalityCode", equals: { party: "gemeentecode" } }, signal, schiedam),
    ).toBe(false);
  });

  it("compares with literals and lists of literals", () => {
    expect(evaluateRowFilter({ field: "gapKind", equals: "NO_ADDRESS" }, gap, nla)).toBe(true);
    expect(evaluateRowFilter({ field: "gapKind", equals: "NON_RESIDENT_TOO_LONG" }, gap, nla)).toBe(false);
    expect(evaluateRowFilter({ field: "municipality.code", in: ["GM0606", "GM1507"] }, gap, nla)).toBe(true);
    expect(evaluateRowFilter({ field: "municipality.code", in: ["GM0606"] }, gap, nla)).toBe(false);
    const accident = exampleEvent("arbo.accident-reported");
    expect(evaluateRowFilter({ field: "victim.agencyWorker", equals: true }, accident, nla)).toBe(true);
    expect(evaluateRowFilter({ field: "injury.hospitalisedDays", equals: 3 }, accident, nla)).toBe(true);
  });

  it("combines conditions with all and any", () => {
    const all: RowFilter = { all: [own, { field: "gapKind", equals: "NO_ADDRESS" }] };
    expect(evaluateRowFilter(all, gap, horst)).toBe(true);
    expect(evaluateRowFilter(all, { ...gap, gapKind: "NON_RESIDENT_TOO_LONG" }, horst)).toBe(false);
    const any: RowFilter = { any: [own, { field: "gapKind", equals: "NON_RESIDENT_TOO_LONG" }] };
    expect(evaluateRowFilter(any, gap, schiedam)).toBe(false);
    expect(evaluateRowFilter(any, gap, horst)).toBe(true);
  });

  it("lets everything through when there is no filter", () => {
    expect(evaluateRowFilter(undefined, gap, schiedam)).toBe(true);
  });

  it("does not fall for prototype properties", () => {
    expect(evaluateRowFilter({ field: "constructor", equals: "x" }, gap, nla)).toBe(false);
    expect(evaluateRowFilter({ field: "municipality.code.length", equals: 6 }, gap, nla)).toBe(false);
  });
});

describe("checkRowFilter", () => {
  const schema = rawSchema("loonaangifte.registration-gap");

  it("accepts the municipality filter for gemeenten", () => {
    expect(checkRowFilter(own, schema, [schiedam, horst])).toEqual([]);
  });

  it("reports unknown fields, non-scalar fields, literals of the wrong type and missing party attributes", () => {
    const filter: RowFilter = {
      all: [
        { field: "municipality.zip", equals: "x" },
        { field: "municipality", equals: "GM0606" },
        { field: "gapKind", in: ["NO_ADDRESS", "LOST"] },
        { field: "municipality.code", equals: 606 },
        { field: "municipality.code", equals: { party: "gemeentecode" } },
      ],
    };
    expect(checkRowFilter(filter, schema, [schiedam, nla])).toEqual([
      {
        path: ["all", 0, "field"],
        rule: "unknown-field",
        message: "municipality.zip is not a field of the schema",
      },
      {
        path: ["all", 1, "field"],
        rule: "row-filter",
        message: "municipality is not a single scalar field: a row filter compares one value",
      },
      { path: ["all", 2, "in", 1], rule: "row-filter", message: '"LOST" can never equal gapKind' },
      { path: ["all", 3, "equals"], rule: "row-filter", message: "606 can never equal municipality.code" },
      {
        path: ["all", 4, "equals", "party"],
        rule: "row-filter",
        message: "party nla has no gemeentecode, so it would never receive anything",
      },
    ]);
  });

  it("refuses fields inside arrays", () => {
    expect(
      checkRowFilter({ field: "persons.bsn", equals: "123456782" }, rawSchema("lsi.signal-raised"), []),
    ).toEqual([
      {
        path: ["field"],
        rule: "row-filter",
        message: "persons.bsn is not a single scalar field: a row filter compares one value",
      },
    ]);
  });
});
