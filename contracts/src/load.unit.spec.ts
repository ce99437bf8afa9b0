import { describeFields, rawSchema, topics } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { loadCatalogue, overlaySources, parseSource, readCatalogueSource } from "./load";
import { checkProduce, consumersOf, matchParty, partiesMatching, producerEntry } from "./match";
import { isWithin, parseInstant, retentionMs } from "./model";
import { ContractError, formatProblem } from "./problems";
import { evaluateRowFilter } from "./row-filter";
import { exampleEvent } from "@grondslag/schemas";
import { fileURLToPath } from "node:url";

const catalogue = loadCatalogue();
const now = new Date("2026-06-01T12:00:00Z");
const ids = (topic: (typeof topics)[number], at = now): string[] =>
  consumersOf(catalogue, topic, at).map((d) => d.party.id);

describe("the real contracts", () => {
  it("cover every topic of the catalogue", () => {
    expect(Object.keys(catalogue.topics).sort()).toEqual([...topics].sort());
  });

  it("are deep-frozen, with null-prototype lookups", () => {
    const contract = catalogue.topics["arbo.accident-reported"];
    expect(Object.isFrozen(catalogue)).toBe(true);
    expect(Object.isFrozen(contract?.consumers[0]?.fields)).toBe(true);
    expect(() => (contract?.consumers as unknown as unknown[]).push({})).toThrow(TypeError);
    expect(catalogue.parties["constructor"]).toBeUndefined();
    expect(catalogue.parties["__proto__"]).toBeUndefined();
  });

  it("send the accident report whole to the Arbeidsinspectie and without health data to UWV, and not to gemeenten", () => {
    expect(ids("arbo.accident-reported")).toEqual(["nla", "uwv"]);
    const [nla, uwv] = consumersOf(catalogue, "arbo.accident-reported", now);
    const all = rawSchema("arbo.accident-reported").fields.map((f) => f.name);
    expect(nla?.entry.fields).toEqual(all);
    expect(nla?.legalBasis.allowsSpecialCategory).toBe(true);
    const special = describeFields(rawSchema("arbo.accident-reported")).filter((f) => f.specialCategory);
    for (const path of uwv?.entry.fields ?? []) {
      expect(
        special.some(
          (f) => f.path === path || f.path.startsWith(`${path}.`) || path.startsWith(`${f.path}.`),
        ),
      ).toBe(false);
    }
    expect(uwv?.legalBasis.allowsSpecialCategory).toBe(false);
  });

  it("carry no registration gap while the payroll feedback loop is only being explored (planned, no date)", () => {
    expect(consumersOf(catalogue, "loonaangifte.registration-gap", now)).toEqual([]);
    const decision = checkProduce(catalogue, {
      topic: "loonaangifte.registration-gap",
      party: "uwv",
      grondslag: "brp-feedbackcyclus-loonaangifte",
      purpose: "brp-adreskwaliteit",
      at: now,
      payload: exampleEvent("loonaangifte.registration-gap"),
    });
    expect(decision).toMatchObject({ ok: false, code: "LEGAL_BASIS_NOT_IN_FORCE" });
    expect(!decision.ok && decision.detail).toContain("planned, with no date of entry into force");
  });

  it("send each gemeente only the temporary stay addresses in its own municipality", () => {
    const deliveries = consumersOf(catalogue, "loonaangifte.registration-gap", now);
    const event = exampleEvent("loonaangifte.registration-gap"); // GM1507, Horst aan de Maas
    const rows = catalogue.topics["loonaangifte.registration-gap"]?.consumers[0]?.rowFilter;
    const horst = catalogue.parties["gemeente.horst-aan-de-maas"];
    const schiedam = catalogue.parties["gemeente.schiedam"];
    expect(deliveries).toEqual([]);
    expect(horst && evaluateRowFilter(rows, event, horst)).toBe(true);
    expect(schiedam && evaluateRowFilter(rows, event, schiedam)).toBe(false);
  });

  it("respect validity windows of entries and of legal bases", () => {
    // The Wtta and its admission register apply from 1 January 2026 (Amsterdam time).
    expect(ids("wtta.admission-granted", new Date("2025-12-31T22:59:59Z"))).toEqual([]);
    expect(ids("wtta.admission-granted", new Date("2025-12-31T23:00:00Z"))).toContain("nla");
    // The SVB entry on LSI signals starts in 2023.
    expect(ids("lsi.signal-raised", new Date("2022-06-01T00:00:00Z"))).not.toContain("svb");
    expect(ids("lsi.signal-raised")).toContain("svb");
  });

  it("find producer entries by pattern, only for known parties", () => {
    expect(producerEntry(catalogue, "arbo.accident-reported", "uitlener.90000001", now)?.grondslag).toBe(
      "meld-vergewisplicht-uitleners",
    );
    expect(producerEntry(catalogue, "arbo.accident-reported", "inlener.90000101", now)?.grondslag).toBe(
      "arbowet-art9",
    );
    expect(producerEntry(catalogue, "arbo.accident-reported", "uitlener.12345678", now)).toBeUndefined();
    expect(producerEntry(catalogue, "arbo.accident-reported", "gemeente.schiedam", now)).toBeUndefined();
    expect(
      producerEntry(catalogue, "arbo.return-verified", "uitlener.90000001", new Date("2025-06-01")),
    ).toBeUndefined();
  });

  it("decide on a publish request with a reason that says how to fix it", () => {
    const request = {
      topic: "arbo.accident-reported",
      party: "uitlener.90000001",
      grondslag: "meld-vergewisplicht-uitleners",
      purpose: "ongevalsmelding",
      at: now,
      payload: exampleEvent("arbo.accident-reported"),
    };
    expect(checkProduce(catalogue, request)).toMatchObject({
      ok: true,
      legalBasis: { id: "meld-vergewisplicht-uitleners" },
    });
    expect(checkProduce(catalogue, { ...request, topic: "arbo.unknown" })).toMatchObject({
      code: "UNKNOWN_TOPIC",
    });
    expect(checkProduce(catalogue, { ...request, party: "uitlener.1" })).toMatchObject({
      code: "UNKNOWN_PARTY",
    });
    expect(checkProduce(catalogue, { ...request, party: "nla" })).toMatchObject({ code: "NOT_A_PRODUCER" });
    expect(checkProduce(catalogue, { ...request, grondslag: "suwi-art64" })).toEqual({
      ok: false,
      code: "GRONDSLAG_MISMATCH",
      detail:
        "uitlener.90000001 publishes on arbo.accident-reported under grondslag meld-vergewisplicht-uitleners, not suwi-art64",
    });
    expect(checkProduce(catalogue, { ...request, purpose: "lsi-samenwerking" })).toEqual({
      ok: false,
      code: "PURPOSE_NOT_ALLOWED",
      detail:
        "purpose lsi-samenwerking is not in the contract for uitlener.90000001 on arbo.accident-reported; allowed: ongevalsmelding",
    });
  });
});

describe("loading", () => {
  it("throws one error listing every problem", () => {
    const fixtures = fileURLToPath(new URL("../test-fixtures/", import.meta.url));
    expect(() => loadCatalogue(`${fixtures}unknown-field`)).toThrow(ContractError);
    try {
      loadCatalogue(`${fixtures}unknown-field`);
    } catch (err) {
      // Alone (without _base), the fixture lacks the other files: each missing file is reported, and the field.
      expect((err as ContractError).problems.map(formatProblem)).toEqual([
        "contracts/test-fixtures/unknown-field/legal-bases.yaml:(root): file is missing",
        "contracts/test-fixtures/unknown-field/purposes.yaml:(root): file is missing",
        "contracts/test-fixtures/unknown-field/parties.yaml:(root): file is missing",
        "contracts/test-fixtures/unknown-field/topics/arbo.accident-reported.yaml:consumers[1].fields[3]: victim.shoeSize is not a field of arbo.accident-reported",
      ]);
    }
  });

  it("reports a bad item and keeps the good ones", () => {
    const fixtures = fileURLToPath(new URL("../test-fixtures/", import.meta.url));
    const base = readCatalogueSource(`${fixtures}_base`);
    const parties = `
- id: nla
  name: Nederlandse Arbeidsinspectie
  kind: toezichthouder
  keys: [{ kty: OKP, crv: Ed25519, x: abc, d: secret }]
- id: gemeente.x
  name: X
  kind: gemeente
  keys: []
- id: uitlener.90000001
  name: U
  kind: uitlener
  kvk: "90000002"
  keys: []
`;
    const source = overlaySources(base, {
      files: new Map([["parties.yaml", { text: parties, shown: "p.yaml" }]]),
    });
    const { draft, problems } = parseSource(source);
    expect(problems.map((p) => `${p.file}:${p.path}: ${p.message}`)).toEqual([
      "p.yaml:[0].keys[0].d: private key material must never be committed",
      "p.yaml:[1].gemeentecode: a gemeente carries its gemeentecode",
      "p.yaml:[2].kvk: an uitlener's id is uitlener.<kvk>: kvk must match",
    ]);
    expect(draft.parties).toEqual([]);
    expect([...(draft.ids.parties ?? [])]).toEqual(["nla", "gemeente.x", "uitlener.90000001"]);
  });
});

describe("helpers", () => {
  it("match one segment per *", () => {
    expect(matchParty("uitlener.*", "uitlener.90000001")).toBe(true);
    expect(matchParty("uitlener.*", "uitlener")).toBe(false);
    expect(matchParty("uitlener.*", "uitlener.a.b")).toBe(false);
    expect(matchParty("nla", "nla")).toBe(true);
    expect(matchParty("gemeente.*", "gemeenten.x")).toBe(false);
    expect(partiesMatching(catalogue, "inspectie.*").map((p) => p.id)).toEqual([
      "inspectie.akf",
      "inspectie.sna",
      "inspectie.snf",
    ]);
  });

  it("match a loaded catalogue's parties once per pattern, and an unfrozen registry afresh every time", () => {
    // A loaded catalogue is deep-frozen: its list is made once, frozen, and the same on every call.
    const first = partiesMatching(catalogue, "gemeente.*");
    expect(partiesMatching(catalogue, "gemeente.*")).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first.map((p) => p.id)).toEqual(
      Object.keys(catalogue.parties)
        .filter((id) => id.startsWith("gemeente."))
        .sort((a, b) => a.localeCompare(b)),
    );
    // A parties map that can still change (a hand-made catalogue) is never cached: a party added is seen.
    const parties: Record<string, (typeof catalogue.parties)[string]> = { ...catalogue.parties };
    const open = { ...catalogue, parties };
    expect(partiesMatching(open, "gemeente.*").map((p) => p.id)).toEqual(first.map((p) => p.id));
    parties["gemeente.aaa"] = { ...first[0]!, id: "gemeente.aaa" };
    expect(partiesMatching(open, "gemeente.*").map((p) => p.id)).toEqual([
      "gemeente.aaa",
      ...first.map((p) => p.id),
    ]);
  });

  it("read a bare date as midnight in Amsterdam, summer and winter", () => {
    expect(new Date(parseInstant("2026-01-01")).toISOString()).toBe("2025-12-31T23:00:00.000Z");
    expect(new Date(parseInstant("2023-07-01")).toISOString()).toBe("2023-06-30T22:00:00.000Z");
    expect(parseInstant("2026-02-30")).toBeNaN();
    expect(
      isWithin({ validFrom: "2026-01-01", validTo: "2026-02-01" }, new Date("2026-01-31T22:59:59Z")),
    ).toBe(true);
    expect(
      isWithin({ validFrom: "2026-01-01", validTo: "2026-02-01" }, new Date("2026-01-31T23:00:00Z")),
    ).toBe(false);
  });

  it("convert retention to milliseconds", () => {
    expect(retentionMs("P90D")).toBe(90 * 86_400_000);
    expect(retentionMs("P1Y")).toBe(365 * 86_400_000);
    expect(retentionMs("PT12H")).toBe(12 * 3_600_000);
    expect(retentionMs(604_800_000)).toBe(604_800_000);
    expect(() => retentionMs("1 year")).toThrow();
  });
});
