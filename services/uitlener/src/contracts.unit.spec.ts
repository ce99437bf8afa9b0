import {
  checkConsume,
  checkProduce,
  deliveryDecision,
  loadCatalogue,
  producerEntry,
} from "@grondslag/contracts";
import type { Topic } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { agencyFor, inlenerAgency, uitlenerAgency } from "./agency";
import {
  isPoisoned,
  isRefusal,
  reportAccident,
  reportFromNotice,
  selfFromParty,
  verifyReturn,
  type ReportAccidentInput,
} from "./rules";

/**
 * What the rules publish, put to the contracts' own decisions (the gateway's `checkProduce`, the delivery worker's
 * `deliveryDecision`): every event passes its producer entry (grondslag, purpose, the `bind` to the party's own KvK)
 * and reaches the party it is meant for, and each role subscribes only to what its party may read.
 */
const catalogue = loadCatalogue();
const at = new Date("2026-03-02T10:00:00.000Z");
const inlener = selfFromParty(catalogue.parties["inlener.90000101"], "inlener.90000101");
const uitlener = selfFromParty(catalogue.parties["uitlener.90000002"], "uitlener.90000002");

function produces(party: string, topic: Topic, payload: object) {
  const entry = producerEntry(catalogue, topic, party, at);
  expect(entry, `${party} has a producer entry for ${topic}`).toBeDefined();
  return checkProduce(catalogue, {
    topic,
    party,
    grondslag: entry!.grondslag,
    purpose: entry!.purposes[0]!,
    at,
    payload,
  });
}

const input: ReportAccidentInput = {
  reportReference: "VDH-ARBO-2026-007",
  uitlenerKvk: "90000002",
  accidentTime: "2026-03-01T13:40:00.000Z",
  severity: "SERIOUS",
  worker: {
    bsn: "111222333",
    name: "Jan Voorbeeld",
    dateOfBirth: "1994-05-17",
    nationality: "PL",
    occupation: "harvester",
  },
  location: {
    street: "Tuinbouwweg",
    houseNumber: "12",
    postalCode: "5961AB",
    municipalityCode: "GM1507",
    workplace: "greenhouse",
  },
  injury: { nature: "FRACTURE", bodyPart: "left leg", hospitalised: true, hospitalisedDays: 3 },
  circumstances: "Trolley left the rail.",
};

describe("the events pass the gateway's decisions", () => {
  const made = reportAccident(inlener, input, { existing: undefined, placement: undefined }, at);
  if (isRefusal(made)) throw new Error(made.message);

  it("ch. 2.3: the inlener's Arbowet report passes arbowet-art9 and its bind (inlener.kvk is its own KvK)", () => {
    const d = produces("inlener.90000101", "arbo.accident-reported", made.report);
    expect(d).toMatchObject({ ok: true, entry: { grondslag: "arbowet-art9" } });
    const other = produces("inlener.90000101", "arbo.accident-reported", {
      ...made.report,
      inlener: { kvk: "90000102", name: "x" },
    });
    expect(other).toMatchObject({ ok: false, code: "BINDING_VIOLATED" });
  });

  it("ch. 2.3: the inlener's notice passes the meld- en vergewisplicht and reaches only the uitlener whose worker it was", () => {
    expect(produces("inlener.90000101", "arbo.accident-notified", made.notice)).toMatchObject({
      ok: true,
      entry: { grondslag: "meld-vergewisplicht-uitleners" },
    });
    const to = deliveryDecision(catalogue, "arbo.accident-notified", made.notice, at, at).map(
      (x) => x.party.id,
    );
    expect(to).toEqual(["uitlener.90000002"]);
  });

  it("ch. 2.3: the uitlener's own report and its verification pass their bind (subjectKvk is its own KvK)", () => {
    const r = reportFromNotice(
      uitlener,
      made.notice,
      {
        existing: undefined,
        worker: { ...input.worker, inlenerKvk: "90000101" },
        inlener: undefined,
      },
      at,
    );
    if (isPoisoned(r) || r.kind !== "reported") throw new Error("expected a report");
    expect(produces("uitlener.90000002", "arbo.accident-reported", r.report)).toMatchObject({
      ok: true,
      entry: { grondslag: "meld-vergewisplicht-uitleners" },
    });
    const toNla = deliveryDecision(catalogue, "arbo.accident-reported", r.report, at, at).map(
      (x) => x.party.id,
    );
    expect(toNla).toContain("nla");
    const later = new Date("2026-03-20T11:00:00.000Z");
    const v = verifyReturn(
      uitlener,
      {
        reportReference: r.task.reportReference,
        verifiedOn: "2026-03-19",
        measures: ["INSTRUCTION_GIVEN"],
        measuresDescription: "Instruction given in Polish.",
        workResumed: true,
      },
      r.task,
      later,
    );
    if (isRefusal(v)) throw new Error(v.message);
    expect(produces("uitlener.90000002", "arbo.return-verified", v.event)).toMatchObject({ ok: true });
    expect(produces("uitlener.90000001", "arbo.return-verified", v.event)).toMatchObject({
      ok: false,
      code: "BINDING_VIOLATED",
    });
  });
});

describe("each role subscribes to what its party may read", () => {
  it("ch. 2.1/2.3: an uitlener reads the notices only, an inlener the public register only; no wtta.* topic reaches an uitlener", () => {
    expect(agencyFor(catalogue, "uitlener.90000001")).toBe(uitlenerAgency);
    expect(agencyFor(catalogue, "uitlener.90000002")).toBe(uitlenerAgency);
    expect(agencyFor(catalogue, "inlener.90000101")).toBe(inlenerAgency);
    expect(() => agencyFor(catalogue, "nla")).toThrow(/uitlener or an inlener/);
    for (const [party, agency] of [
      ["uitlener.90000002", uitlenerAgency],
      ["inlener.90000101", inlenerAgency],
    ] as const) {
      for (const topic of Object.keys(agency.spec.subscriptions)) {
        const entry = catalogue.topics[topic as Topic]?.consumers.find(
          (c) => checkConsume(catalogue, { topic, party, purpose: c.purposes[0]!, at }).ok,
        );
        expect(entry, `${party} may read ${topic}`).toBeDefined();
      }
    }
    const wtta = Object.keys(catalogue.topics).filter((t) => t.startsWith("wtta."));
    expect(wtta.length).toBeGreaterThan(0);
    for (const topic of wtta) {
      const reads = catalogue.topics[topic as Topic]!.consumers.some(
        (c) => checkConsume(catalogue, { topic, party: "uitlener.90000002", purpose: c.purposes[0]!, at }).ok,
      );
      expect(reads, `uitlener reads ${topic}`).toBe(false);
    }
  });
});
