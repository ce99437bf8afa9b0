import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { lintCatalogue } from "./lint";
import { lintSource, overlaySources, readCatalogueSource } from "./load";
import { formatProblem, rules, type RuleId } from "./problems";

const fixtures = fileURLToPath(new URL("../test-fixtures/", import.meta.url));
const base = readCatalogueSource(`${fixtures}_base`);
const F = "contracts/test-fixtures";

function lintFixture(rule: string): { rule: RuleId; line: string }[] {
  const source = overlaySources(base, readCatalogueSource(fixtures + rule));
  return lintSource(source).problems.map((p) => ({ rule: p.rule, line: formatProblem(p) }));
}

// One failing fixture per rule, and exactly the problems it should cause: the rule fires, and nothing else does.
const expected: Record<RuleId, string[]> = {
  syntax: [`${F}/syntax/parties.yaml:(root): YAML: Map keys must be unique at line 4, column 3`],
  format: [
    `${F}/format/topics/arbo.accident-reported.yaml:retention: must be an ISO-8601 duration such as P1Y or P30D, or a positive number of milliseconds`,
    `${F}/format/topics/arbo.accident-reported.yaml:consumers[1].fields: is required`,
    `${F}/format/topics/arbo.accident-reported.yaml:consumers[1]: Unrecognized key: "field"`,
  ],
  "duplicate-id": [
    `${F}/duplicate-id/purposes.yaml:[4].id: purpose ongevalsonderzoek is already defined at ${F}/duplicate-id/purposes.yaml:[1]`,
  ],
  "unknown-legal-basis": [
    `${F}/unknown-legal-basis/topics/arbo.accident-reported.yaml:producers[0].grondslag: unknown legal basis arbowet-art99`,
  ],
  "unknown-purpose": [
    `${F}/unknown-purpose/topics/arbo.accident-reported.yaml:consumers[0].purposes[0]: unknown purpose ongevalsanalyse`,
  ],
  "unknown-party": [`${F}/unknown-party/topics/arbo.accident-reported.yaml:owner: unknown party nvwa`],
  "unknown-schema": [
    `${F}/unknown-schema/topics/loonaangifte.registration-found.yaml:(root): no schema schemas/avro/loonaangifte.registration-found.avsc for this topic file`,
  ],
  "unknown-field": [
    `${F}/unknown-field/topics/arbo.accident-reported.yaml:consumers[1].fields[3]: victim.shoeSize is not a field of arbo.accident-reported`,
  ],
  "purpose-not-carried": [
    `${F}/purpose-not-carried/topics/arbo.accident-reported.yaml:consumers[1].purposes[1]: purpose ongevalsonderzoek is not carried by grondslag suwi-art64 (it is carried by arbowet-art9)`,
  ],
  "special-category": [
    `${F}/special-category/topics/arbo.accident-reported.yaml:consumers[1].fields[3]: injury, injury.nature, injury.bodyPart, injury.hospitalised, injury.hospitalisedDays: special-category data (health, AVG art. 9), which grondslag suwi-art64 does not allow`,
  ],
  "special-category-back-door": [
    `${F}/special-category-back-door/topics/arbo.accident-reported.yaml:consumers[1].fields[2]: severity beside victim.bsn reveals health data (AVG art. 9), which grondslag suwi-art64 does not allow: drop severity or the identity`,
  ],
  "planned-basis": [
    `${F}/planned-basis/topics/loonaangifte.registration-gap.yaml:producers[0].validFrom: starts 2026-01-01 under grondslag wet-brp, which is planned, with no date of entry into force: a planned law carries nothing before it takes effect`,
  ],
  "reporter-identity": [
    `${F}/reporter-identity/topics/huisvesting.landlord-reported.yaml:consumers[0].fields[3]: reporter.name is the reporter's identity, and uitlener.90000001 can be the landlord or employer reported on: it must never reach them`,
    `${F}/reporter-identity/topics/huisvesting.landlord-reported.yaml:consumers[0].fields[4]: description is the reporter's identity, and uitlener.90000001 can be the landlord or employer reported on: it must never reach them`,
  ],
  "source-citation": [
    `${F}/source-citation/topics/arbo.accident-reported.yaml:description: cite the source passage this flow rests on: its chapter (\`Seed, ch. 2.1\`) and a few of its own words`,
  ],
  "empty-window": [
    `${F}/empty-window/topics/arbo.accident-reported.yaml:consumers[1].validTo: validTo 2025-01-01 is not after validFrom 2026-01-01`,
  ],
  "overlapping-window": [
    `${F}/overlapping-window/topics/arbo.accident-reported.yaml:consumers[2].party: nla also matched by consumers[0] with an overlapping validity window`,
  ],
  "pattern-matches-nobody": [
    `${F}/pattern-matches-nobody/topics/arbo.accident-reported.yaml:producers[0].party: pattern werkgever.* matches no party in parties.yaml`,
  ],
  "row-filter": [
    `${F}/row-filter/topics/loonaangifte.registration-gap.yaml:consumers[0].rowFilter.equals.party: party gemeente.horst-aan-de-maas has no kvk, so it would never receive anything`,
    `${F}/row-filter/topics/loonaangifte.registration-gap.yaml:consumers[0].rowFilter.equals.party: party gemeente.schiedam has no kvk, so it would never receive anything`,
  ],
  binding: [
    `${F}/binding/topics/arbo.accident-reported.yaml:producers[0].bind.subjectKvk: party uitlener.90000001 has no gemeentecode, so it could never publish here`,
    `${F}/binding/topics/arbo.accident-reported.yaml:producers[0].bind.severity: severity is not a single string field: a binding compares it with the party's kvk`,
    `${F}/binding/topics/arbo.accident-reported.yaml:producers[0].bind["victim.shoeSize"]: victim.shoeSize is not a field of arbo.accident-reported`,
  ],
  "reserved-id": [
    `${F}/reserved-id/parties.yaml:[5].id: party id admin is reserved: it is the Kafka super user`,
    `${F}/reserved-id/parties.yaml:[6].id: party id grondslag.gateway is reserved: grondslag.* is the platform's own (the gateway grondslag.gateway, the audit service grondslag.audit, their consumer groups)`,
  ],
  "overlapping-id": [
    `${F}/overlapping-id/parties.yaml:[5].id: party id uwv.noord starts with uwv.: uwv may use every consumer group named uwv.<anything>, uwv.noord's included`,
  ],
};

describe("contract lint", () => {
  it("passes the real contracts in contracts/data", () => {
    expect(lintCatalogue().map(formatProblem)).toEqual([]);
  });

  it("passes the fixtures' base catalogue", () => {
    expect(lintSource(base).problems.map(formatProblem)).toEqual([]);
  });

  it("has a fixture for every rule", () => {
    expect(Object.keys(expected).sort()).toEqual(Object.keys(rules).sort());
  });

  it.each(Object.entries(expected))("fires %s on its fixture, and nothing else", (rule, lines) => {
    const problems = lintFixture(rule);
    expect(problems.map((p) => p.line)).toEqual(lines);
    expect(new Set(problems.map((p) => p.rule))).toEqual(new Set([rule]));
  });
});
