import { describeFields, exampleEvent, rawSchema, type Topic } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { loadCatalogue } from "./load";
import { checkProduce, consumersOf } from "./match";
import { evaluateRowFilter } from "./row-filter";

// The flows catalogue v2 (issue 10) adds, checked against the real contracts: who receives what, and what the seed
// gives no basis for stays out.
const catalogue = loadCatalogue();
const now = new Date("2026-06-01T12:00:00Z");
const ids = (topic: Topic, at = now): string[] => consumersOf(catalogue, topic, at).map((d) => d.party.id);
const receivers = (topic: Topic, event: unknown, at = now): string[] =>
  consumersOf(catalogue, topic, at)
    .filter((d) => evaluateRowFilter(d.entry.rowFilter, JSON.parse(JSON.stringify(event)), d.party))
    .map((d) => d.party.id);
const personal = (topic: Topic): string[] =>
  describeFields(rawSchema(topic))
    .filter((f) => f.field["x-personal"] !== undefined)
    .map((f) => f.path);

describe("catalogue v2", () => {
  it("feeds the public register to inleners only, with no personal data beyond the uitlener's KvK number", () => {
    expect(ids("wtta.register-updated")).toEqual(["inlener.90000101"]);
    expect(ids("wtta.register-updated", new Date("2025-12-31T12:00:00Z"))).toEqual([]);
    expect(personal("wtta.register-updated")).toEqual(["subjectKvk"]);
  });

  it("sends the Belastingdienst's arrears signal to the admission authority only, from the Wtta's date", () => {
    expect(ids("fiscaal.arrears-signalled")).toEqual(["szw.toelating"]);
    const publish = (at: Date, eventTime: Date) =>
      checkProduce(catalogue, {
        topic: "fiscaal.arrears-signalled",
        party: "belastingdienst",
        grondslag: "waadi-wtta-gegevensuitwisseling",
        purpose: "signalering-toelating",
        at,
        payload: { ...exampleEvent("fiscaal.arrears-signalled"), eventTime },
      });
    expect(publish(now, now)).toMatchObject({ ok: true });
    const early = new Date("2025-11-01T12:00:00Z");
    expect(publish(early, early)).toMatchObject({ ok: false, code: "LEGAL_BASIS_NOT_IN_FORCE" });
  });

  it("gives a municipality the RNI stay addresses in it, without contact details", () => {
    const event = exampleEvent("brp.stay-address-provided");
    expect(receivers("brp.stay-address-provided", event)).toEqual(["gemeente.horst-aan-de-maas"]);
    expect(personal("brp.stay-address-provided").some((p) => /contact|mail|phone/i.test(p))).toBe(false);
  });

  it("takes stay address changes from the experiment municipalities for their own area, to BZK only, for four years", () => {
    expect(ids("brp.stay-address-changed")).toEqual(["bzk.rvig"]);
    const publish = (party: string, municipalityCode: string, at = now) =>
      checkProduce(catalogue, {
        topic: "brp.stay-address-changed",
        party,
        grondslag: "brp-experiment-abo",
        purpose: "brp-adreskwaliteit",
        at,
        payload: { ...exampleEvent("brp.stay-address-changed"), municipalityCode, eventTime: at },
      });
    expect(publish("gemeente.schiedam", "GM0606")).toMatchObject({ ok: true });
    expect(publish("gemeente.schiedam", "GM1507")).toMatchObject({ ok: false, code: "BINDING_VIOLATED" });
    expect(publish("gemeente.schiedam", "GM0606", new Date("2027-10-02T12:00:00Z"))).toMatchObject({
      ok: false,
    });
    expect(ids("brp.stay-address-changed", new Date("2027-10-02T12:00:00Z"))).toEqual([]);
  });

  it("refuses the payroll departure and the worker notice: no law carries them yet", () => {
    const cases = [
      ["loonaangifte.payroll-departure", "uwv", "brp-feedbackcyclus-loonaangifte", "brp-adreskwaliteit"],
      [
        "informatie.worker-notice-issued",
        "szw.toelating",
        "brp-informatie-arbeidsmigranten",
        "informatie-arbeidsmigrant",
      ],
    ] as const;
    for (const [topic, party, grondslag, purpose] of cases) {
      expect(consumersOf(catalogue, topic, now)).toEqual([]);
      const decision = checkProduce(catalogue, {
        topic,
        party,
        grondslag,
        purpose,
        at: now,
        payload: exampleEvent(topic),
      });
      expect(decision).toMatchObject({ ok: false, code: "LEGAL_BASIS_NOT_IN_FORCE" });
    }
  });

  it("names no worker in the notice: language and contact channel only", () => {
    const fields = personal("informatie.worker-notice-issued");
    expect(fields).toEqual(["subjectKvk", "language", "contact.channel", "contact.address"]);
    expect(
      describeFields(rawSchema("informatie.worker-notice-issued")).some(
        (f) => f.field["x-personal"] === "bsn",
      ),
    ).toBe(false);
  });

  it("shares joint AMU cases among the partners, the SVB from 2023", () => {
    expect(ids("amu.case-opened").sort()).toEqual(["belastingdienst", "nla", "svb", "uwv"]);
    expect(ids("amu.case-opened", new Date("2022-06-01T12:00:00Z")).sort()).toEqual([
      "belastingdienst",
      "nla",
      "uwv",
    ]);
  });
});
