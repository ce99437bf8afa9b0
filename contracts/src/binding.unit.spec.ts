import { exampleEvent } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { loadCatalogue, overlaySources, parseSource, readCatalogueSource } from "./load";
import { bindingViolation, checkProduce } from "./match";
import { formatProblem } from "./problems";
import { reservedIdReason } from "./rules";

const catalogue = loadCatalogue();
const at = new Date("2026-06-01T12:00:00Z");

const housing = (municipalityCode: string) => {
  const event = exampleEvent("huisvesting.violation-found");
  return { ...event, dwelling: { ...event.dwelling, municipalityCode } };
};
const schiedamFiles = (payload: unknown) =>
  checkProduce(catalogue, {
    topic: "huisvesting.violation-found",
    party: "gemeente.schiedam",
    grondslag: "wet-goed-verhuurderschap",
    purpose: "huisvestingstoezicht",
    at,
    payload,
  });

describe("producer bindings in the real contracts", () => {
  it("let Schiedam file housing violations in Schiedam", () => {
    expect(schiedamFiles(housing("GM0606"))).toMatchObject({ ok: true });
  });

  it("refuse Schiedam's housing violation about a dwelling in Horst aan de Maas", () => {
    expect(schiedamFiles(housing("GM1507"))).toEqual({
      ok: false,
      code: "BINDING_VIOLATED",
      detail:
        "dwelling.municipalityCode is not your own gemeentecode GM0606: gemeente.schiedam may publish on huisvesting.violation-found only about itself",
      field: "dwelling.municipalityCode",
    });
  });

  it("refuse a missing, null or non-string bound field, and a payload that is not an object", () => {
    const event = exampleEvent("huisvesting.violation-found");
    const { municipalityCode: _gone, ...withoutCode } = event.dwelling;
    for (const payload of [
      { ...event, dwelling: withoutCode },
      { ...event, dwelling: { ...event.dwelling, municipalityCode: null } },
      { ...event, dwelling: { ...event.dwelling, municipalityCode: 606 } },
      { ...event, dwelling: "GM0606" },
      undefined,
      "GM0606",
    ]) {
      expect(schiedamFiles(payload)).toMatchObject({ ok: false, code: "BINDING_VIOLATED" });
    }
  });

  it("do not reach prototype members through a bound path", () => {
    const entry = { party: "x", grondslag: "g", purposes: ["p"], bind: { constructor: "kind" as const } };
    const party = catalogue.parties["gemeente.schiedam"];
    if (!party) throw new Error("the seed has gemeente.schiedam");
    expect(bindingViolation(entry, party, {})).toEqual({
      field: "constructor",
      attribute: "kind",
      expected: "gemeente",
    });
  });

  it("refuse an uitlener's accident report and return check about another company", () => {
    for (const topic of ["arbo.accident-reported", "arbo.return-verified"] as const) {
      const request = {
        topic,
        party: "uitlener.90000001",
        grondslag: "meld-vergewisplicht-uitleners",
        purpose: topic === "arbo.accident-reported" ? "ongevalsmelding" : "vergewisplicht",
        at,
      };
      const own = exampleEvent(topic);
      expect(checkProduce(catalogue, { ...request, payload: own })).toMatchObject({ ok: true });
      expect(checkProduce(catalogue, { ...request, payload: { ...own, subjectKvk: "90000002" } })).toEqual({
        ok: false,
        code: "BINDING_VIOLATED",
        // The other company's KvK is not repeated: the detail reaches the audit log.
        detail: `subjectKvk is not your own kvk 90000001: uitlener.90000001 may publish on ${topic} only about itself`,
        field: "subjectKvk",
      });
    }
  });

  it("leave the nationwide inspection bodies unbound", () => {
    expect(
      checkProduce(catalogue, {
        topic: "huisvesting.violation-found",
        party: "inspectie.snf",
        grondslag: "waadi-wtta-gegevensuitwisseling",
        purpose: "normenkader-toetsing",
        at,
        payload: housing("GM1507"),
      }),
    ).toMatchObject({ ok: true });
  });
});

describe("the bind key", () => {
  it("takes party.<attribute> only", () => {
    const fixtures = new URL("../test-fixtures/_base", import.meta.url).pathname;
    const base = readCatalogueSource(fixtures);
    const topic = (bind: string) =>
      overlaySources(base, {
        files: new Map([
          [
            "topics/loonaangifte.registration-gap.yaml",
            {
              shown: "t.yaml",
              text: `schema: loonaangifte.registration-gap\nowner: uwv\nretention: P90D\nproducers:\n  - party: uwv\n    grondslag: wet-brp\n    purposes: [brp-adreskwaliteit]\n    bind: ${bind}\nconsumers: []\n`,
            },
          ],
        ]),
      });
    expect(parseSource(topic("{ subjectKvk: kvk }")).problems.map(formatProblem)).toEqual([
      "t.yaml:producers[0].bind.subjectKvk: must be party.<attribute>, one of party.id, party.kind, party.gemeentecode, party.kvk, party.oin",
    ]);
    expect(parseSource(topic("{ subjectKvk: party.kvk }")).problems).toEqual([]);
  });
});

describe("reserved party ids", () => {
  it("are the Kafka super user, the anonymous principal and the platform's grondslag.* principals", () => {
    for (const id of [
      "admin",
      "anonymous",
      "grondslag",
      "grondslag.gateway",
      "grondslag.audit",
      "grondslag.x",
    ]) {
      expect(reservedIdReason(id), id).toBeDefined();
    }
    for (const id of ["nla", "grondslagen", "gemeente.grondslag", "administratie"]) {
      expect(reservedIdReason(id), id).toBeUndefined();
    }
  });

  it("cannot be Kafka's User:ANONYMOUS either: ids are lower case", () => {
    const text = "- id: ANONYMOUS\n  name: Anonymous\n  kind: toezichthouder\n  keys: []\n";
    const base = readCatalogueSource(new URL("../test-fixtures/_base", import.meta.url).pathname);
    const source = overlaySources(base, { files: new Map([["parties.yaml", { text, shown: "p.yaml" }]]) });
    expect(parseSource(source).problems.map(formatProblem)).toEqual([
      "p.yaml:[0].id: must be lower-case words joined by '-' and '.', e.g. gemeente.horst-aan-de-maas",
    ]);
  });
});
