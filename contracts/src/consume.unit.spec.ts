import { exampleEvent } from "@grondslag/schemas";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  buildCatalogue,
  lintSource,
  loadCatalogue,
  overlaySources,
  parseSource,
  readCatalogueSource,
} from "./load";
import { checkConsume, deliveryDecision } from "./match";
import { formatProblem } from "./problems";

const real = loadCatalogue();
const at = new Date("2026-06-01T12:00:00Z");
const base = readCatalogueSource(fileURLToPath(new URL("../test-fixtures/_base", import.meta.url)));

/** The base catalogue, with uwv receiving accident reports only during March 2026 (Amsterdam dates). */
function uwvInMarch() {
  const topic = (base.files.get("topics/arbo.accident-reported.yaml")?.text ?? "").replace(
    "    fields: [eventTime, subjectKvk, victim.bsn]\n",
    "    fields: [eventTime, subjectKvk, victim.bsn]\n    validFrom: 2026-03-01\n    validTo: 2026-04-01\n",
  );
  const source = overlaySources(base, {
    files: new Map([["topics/arbo.accident-reported.yaml", { text: topic, shown: "t.yaml" }]]),
  });
  expect(lintSource(source).problems.map(formatProblem)).toEqual([]);
  return buildCatalogue(parseSource(source).draft);
}

describe("checkConsume: may a party read a topic, for this purpose, now", () => {
  const signals = { topic: "lsi.signal-raised", purpose: "lsi-samenwerking", at };

  it("accepts a consumer in force for its purpose, with the entry that decides its fields and rows", () => {
    const d = checkConsume(real, { ...signals, party: "gemeente.schiedam" });
    expect(d).toMatchObject({
      ok: true,
      party: { id: "gemeente.schiedam" },
      legalBasis: { id: "suwi-art64" },
    });
    if (!d.ok) return;
    expect(d.entry.party).toBe("gemeente.*");
    expect(d.entry.fields).toContain("persons");
    expect(d.entry.rowFilter).toEqual({ field: "municipalityCode", equals: { party: "gemeentecode" } });
  });

  it("NOT_A_CONSUMER: a party the contract does not name as a consumer", () => {
    // The Arbeidsinspectie produces accident reports; the uitlener that files one does not receive them.
    expect(
      checkConsume(real, {
        topic: "arbo.accident-reported",
        party: "uitlener.90000001",
        purpose: "ongevalsmelding",
        at,
      }),
    ).toEqual({
      ok: false,
      code: "NOT_A_CONSUMER",
      detail: "uitlener.90000001 is not a consumer of arbo.accident-reported under any contract in force",
    });
  });

  it("NOT_A_CONSUMER: before the consumer entry's window opens", () => {
    // The SVB's entry starts on 2023-01-01, at midnight in Amsterdam.
    const svb = { ...signals, party: "svb" };
    expect(checkConsume(real, { ...svb, at: new Date("2022-12-31T22:59:59Z") })).toMatchObject({
      ok: false,
      code: "NOT_A_CONSUMER",
    });
    expect(checkConsume(real, { ...svb, at: new Date("2022-12-31T23:00:00Z") })).toMatchObject({ ok: true });
  });

  it("NOT_A_CONSUMER: after the consumer entry's window closed", () => {
    const catalogue = uwvInMarch();
    const uwv = { topic: "arbo.accident-reported", party: "uwv", purpose: "lsi-samenwerking" };
    expect(checkConsume(catalogue, { ...uwv, at: new Date("2026-03-15T12:00:00Z") })).toMatchObject({
      ok: true,
    });
    expect(checkConsume(catalogue, { ...uwv, at: new Date("2026-04-10T12:00:00Z") })).toMatchObject({
      ok: false,
      code: "NOT_A_CONSUMER",
    });
  });

  it("PURPOSE_NOT_ALLOWED: a purpose the consumer entry does not list, naming those it does", () => {
    expect(checkConsume(real, { ...signals, party: "uwv", purpose: "ongevalsonderzoek" })).toEqual({
      ok: false,
      code: "PURPOSE_NOT_ALLOWED",
      detail: `purpose "ongevalsonderzoek" is not in uwv's contract for lsi.signal-raised`,
      allowedPurposes: ["lsi-samenwerking"],
    });
  });

  it("GRONDSLAG_MISMATCH: a legal basis other than the consumer entry's, when one is named", () => {
    const uwv = { ...signals, party: "uwv" };
    expect(checkConsume(real, { ...uwv, grondslag: "wet-brp" })).toEqual({
      ok: false,
      code: "GRONDSLAG_MISMATCH",
      detail: "uwv receives lsi.signal-raised under grondslag suwi-art64, not wet-brp",
      allowedGrondslag: "suwi-art64",
    });
    expect(checkConsume(real, { ...uwv, grondslag: "suwi-art64" })).toMatchObject({ ok: true });
  });

  it("UNKNOWN_TOPIC and UNKNOWN_PARTY: no contract, no party in the registry", () => {
    expect(checkConsume(real, { ...signals, topic: "events.lsi.signal-raised", party: "uwv" })).toEqual({
      ok: false,
      code: "UNKNOWN_TOPIC",
      detail: "no contract for topic events.lsi.signal-raised",
    });
    expect(checkConsume(real, { ...signals, party: "gemeente.atlantis" })).toEqual({
      ok: false,
      code: "UNKNOWN_PARTY",
      detail: "unknown party gemeente.atlantis",
    });
  });

  it("decides on the instant it is given, so an unknown instant is inside no window", () => {
    expect(checkConsume(real, { ...signals, party: "nla", at: new Date(Number.NaN) })).toMatchObject({
      ok: false,
      code: "NOT_A_CONSUMER",
    });
  });
});

describe("deliveryDecision: who receives one collected event, and as what", () => {
  const recipients = (d: ReturnType<typeof deliveryDecision>) => d.map((x) => x.party.id);
  const signal = exampleEvent("lsi.signal-raised"); // about Schiedam (GM0606)

  it("every consumer entry in force, each with its own fields and purposes (its projection)", () => {
    const d = deliveryDecision(
      uwvInMarch(),
      "arbo.accident-reported",
      {},
      new Date("2026-03-15T12:00:00Z"),
      new Date("2026-03-15T11:00:00Z"),
    );
    expect(d.map((x) => [x.party.id, x.fields, x.purpose, x.entry.grondslag])).toEqual([
      [
        "nla",
        [
          "eventTime",
          "subjectKvk",
          "reportReference",
          "accidentTime",
          "severity",
          "inlener",
          "location",
          "victim",
          "injury",
          "circumstances",
        ],
        "ongevalsonderzoek",
        "arbowet-art9",
      ],
      ["uwv", ["eventTime", "subjectKvk", "victim.bsn"], "lsi-samenwerking", "suwi-art64"],
    ]);
  });

  it("row filter: a municipality receives the signals about itself only", () => {
    const d = deliveryDecision(real, "lsi.signal-raised", signal, at, at);
    expect(recipients(d)).toContain("gemeente.schiedam");
    expect(recipients(d)).not.toContain("gemeente.horst-aan-de-maas");
    expect(recipients(d)).toEqual(expect.arrayContaining(["nla", "belastingdienst", "uwv", "svb"]));
    const horst = deliveryDecision(
      real,
      "lsi.signal-raised",
      { ...signal, municipalityCode: "GM1507" },
      at,
      at,
    );
    expect(recipients(horst)).toContain("gemeente.horst-aan-de-maas");
    expect(recipients(horst)).not.toContain("gemeente.schiedam");
  });

  it("row filter: an event without the filtered field reaches no municipality (fail closed)", () => {
    const d = deliveryDecision(real, "lsi.signal-raised", { ...signal, municipalityCode: null }, at, at);
    expect(recipients(d).filter((id) => id.startsWith("gemeente."))).toEqual([]);
  });

  it("not in force yet on the event's date: collected before the entry started, never backfilled", () => {
    const d = deliveryDecision(real, "lsi.signal-raised", signal, at, new Date("2022-12-31T12:00:00Z"));
    expect(recipients(d)).not.toContain("svb");
    expect(recipients(d)).toContain("nla");
  });

  it("expired by delivery: collected inside the entry's window, delivered after it closed", () => {
    const catalogue = uwvInMarch();
    const d = deliveryDecision(
      catalogue,
      "arbo.accident-reported",
      {},
      new Date("2026-04-10T12:00:00Z"),
      new Date("2026-03-15T12:00:00Z"),
    );
    expect(recipients(d)).toEqual(["nla"]);
  });

  it("an unknown collection time delivers to nobody", () => {
    expect(deliveryDecision(real, "lsi.signal-raised", signal, at, new Date(Number.NaN))).toEqual([]);
  });
});
