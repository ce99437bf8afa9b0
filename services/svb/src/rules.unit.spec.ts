import { describe, expect, it } from "vitest";
import {
  onAdmissionRevoked,
  recordAdmissionGranted,
  recordAmuCase,
  recordPostingCase,
  recordSignal,
  revocationSignalReference,
  type AdmissionRow,
  type PostingCaseRow,
} from "./rules";

const NOW = new Date("2026-06-15T10:00:00.000Z");
const UITLENER = "90000002";
const OTHER_UITLENER = "90000001";
const BSN_A = "100023757";
const BSN_B = "100039595";
const BSN_C = "100126704";

const admitted: AdmissionRow = {
  uitlenerKvk: UITLENER,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "T-2026-0002",
  status: "ADMITTED",
  establishedAbroad: false,
  countryOfEstablishment: "NL",
  effectiveDate: null,
  decisionReference: null,
  reasons: [],
};

function posting(over: Partial<PostingCaseRow>): PostingCaseRow {
  return {
    caseReference: "SVB-1",
    uitlenerKvk: UITLENER,
    workerBsn: BSN_A,
    country: "PL",
    periodStart: "2026-01-01",
    periodEnd: "2026-12-31",
    a1Reference: null,
    recordedAt: "2026-01-02T09:00:00.000Z",
    ...over,
  };
}

const revocation = {
  eventTime: "2026-06-15T09:00:00.000Z",
  subjectKvk: UITLENER,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "T-2026-0002",
  effectiveDate: "2026-06-16",
  reasons: ["NEGATIVE_INSPECTION" as const],
  decisionReference: "SZW-INT-7",
  explanation: null,
};

describe("the register", () => {
  it("ch. 2.1: an admission is recorded with the uitlener's country of establishment", () => {
    expect(
      recordAdmissionGranted({
        subjectKvk: UITLENER,
        admissionNumber: "T-1",
        establishedAbroad: true,
        countryOfEstablishment: "PL",
      }),
    ).toMatchObject({ outcome: "recorded", admission: { status: "ADMITTED", countryOfEstablishment: "PL" } });
    expect(recordAdmissionGranted({ admissionNumber: "T-1" })).toMatchObject({ outcome: "poison" });
  });
});

describe("record-posting-case", () => {
  const input = {
    uitlenerKvk: UITLENER,
    workerBsn: BSN_A,
    country: "pl",
    periodStart: "2026-01-01",
    periodEnd: "2026-12-31",
    a1Reference: "A1-PL-123",
  };

  it("ch. 6.1: a posting case (A1 certificate) of a worker lent by an uitlener is recorded", () => {
    const d = recordPostingCase(input, { admission: admitted, casesOfWorker: [] }, "SVB-1", NOW);
    expect(d).toMatchObject({
      outcome: "recorded",
      postingCase: { caseReference: "SVB-1", country: "PL", workerBsn: BSN_A, a1Reference: "A1-PL-123" },
      review: null,
    });
  });

  it("ch. 6.1: a BSN failing the elfproef, a bad KvK number, the Netherlands as the other state or an inverted period is refused", () => {
    const state = { admission: admitted, casesOfWorker: [] };
    const badBsn = recordPostingCase({ ...input, workerBsn: "100023758" }, state, "SVB-1", NOW);
    expect(badBsn).toMatchObject({ outcome: "refused", reason: "workerBsn is not a valid BSN" });
    expect(JSON.stringify(badBsn)).not.toContain("100023758");
    expect(recordPostingCase({ ...input, uitlenerKvk: "9000" }, state, "SVB-1", NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(recordPostingCase({ ...input, country: "NL" }, state, "SVB-1", NOW)).toMatchObject({
      outcome: "refused",
      reason: "a posting crosses a border",
    });
    expect(recordPostingCase({ ...input, country: "POL" }, state, "SVB-1", NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(recordPostingCase({ ...input, periodEnd: "2025-12-31" }, state, "SVB-1", NOW)).toMatchObject({
      outcome: "refused",
    });
  });

  it("ch. 6.1: a second case for the same worker and uitlener overlapping an existing one is refused; one that follows it is not", () => {
    const existing = posting({ caseReference: "SVB-0", periodStart: "2025-07-01", periodEnd: "2026-01-01" });
    const state = { admission: admitted, casesOfWorker: [existing] };
    const overlap = recordPostingCase(input, state, "SVB-1", NOW);
    expect(overlap).toMatchObject({ outcome: "refused" });
    expect(JSON.stringify(overlap)).toContain("SVB-0");
    expect(recordPostingCase({ ...input, periodStart: "2026-01-02" }, state, "SVB-1", NOW)).toMatchObject({
      outcome: "recorded",
    });
    expect(recordPostingCase({ ...input, uitlenerKvk: OTHER_UITLENER }, state, "SVB-1", NOW)).toMatchObject({
      outcome: "recorded",
    });
  });

  it("ch. 2.1: a posting that runs on or after the day its uitlener lost its admission is reviewed at once", () => {
    const revoked = {
      ...admitted,
      status: "REVOKED" as const,
      effectiveDate: "2026-06-16",
      decisionReference: "SZW-INT-7",
    };
    const state = { admission: revoked, casesOfWorker: [] };
    expect(recordPostingCase({ ...input, periodEnd: "2026-06-16" }, state, "SVB-2", NOW)).toMatchObject({
      review: { caseReference: "SVB-2", cause: "POSTED_AFTER_REVOCATION", causeReference: "SZW-INT-7" },
    });
    expect(recordPostingCase({ ...input, periodEnd: "2026-06-15" }, state, "SVB-3", NOW)).toMatchObject({
      outcome: "recorded",
      review: null,
    });
  });
});

describe("the revocation", () => {
  const cases = [
    posting({ caseReference: "SVB-1", workerBsn: BSN_A, periodEnd: "2026-12-31" }),
    posting({ caseReference: "SVB-2", workerBsn: BSN_B, country: "RO", periodEnd: "2026-06-16" }),
    posting({ caseReference: "SVB-3", workerBsn: BSN_C, periodEnd: "2026-06-15" }),
    posting({ caseReference: "SVB-4", workerBsn: BSN_C, uitlenerKvk: OTHER_UITLENER }),
  ];

  it("ch. 2.1/6.1: the posting cases of a revoked uitlener that run on or after the effective date are reviewed and a SHAM_POSTING signal names the posted workers", () => {
    const d = onAdmissionRevoked(revocation, { admission: admitted, cases, reviewsForDecision: [] }, NOW);
    if (d.outcome === "poison") throw new Error(d.reason);
    expect(d.outcome).toBe("applied");
    expect(d.admission).toMatchObject({ status: "REVOKED", effectiveDate: "2026-06-16" });
    expect(d.reviews.map((r) => r.caseReference)).toEqual(["SVB-1", "SVB-2"]);
    expect(d.reviews.every((r) => r.status === "OPEN" && r.causeReference === "SZW-INT-7")).toBe(true);
    expect(d.publish).toHaveLength(1);
    expect(d.publish[0]?.value).toMatchObject({
      subjectKvk: UITLENER,
      signalReference: revocationSignalReference("SZW-INT-7"),
      kind: "SHAM_POSTING",
      municipalityCode: null,
      persons: [
        { bsn: BSN_A, role: "WORKER" },
        { bsn: BSN_B, role: "WORKER" },
      ],
    });
    expect(d.publish[0]?.value.summary).not.toContain(BSN_A);
  });

  it("ch. 2.1: a posting that ended the day before the revocation takes effect is not affected, and then no signal is raised", () => {
    const ended = [posting({ caseReference: "SVB-3", periodEnd: "2026-06-15" })];
    const d = onAdmissionRevoked(
      revocation,
      { admission: admitted, cases: ended, reviewsForDecision: [] },
      NOW,
    );
    expect(d).toMatchObject({ outcome: "applied", reviews: [], publish: [] });
  });

  it("ch. 2.1: an uitlener the SVB has no cases of is recorded as revoked and nothing else happens", () => {
    const d = onAdmissionRevoked(
      revocation,
      { admission: undefined, cases: [], reviewsForDecision: [] },
      NOW,
    );
    expect(d).toMatchObject({
      outcome: "applied",
      reviews: [],
      publish: [],
      admission: { status: "REVOKED" },
    });
  });

  it("ch. 2.1: the same revocation decision twice opens no second review and no second signal", () => {
    const handled = { ...admitted, status: "REVOKED" as const, decisionReference: "SZW-INT-7" };
    expect(
      onAdmissionRevoked(revocation, { admission: handled, cases, reviewsForDecision: [] }, NOW),
    ).toMatchObject({ outcome: "duplicate", reviews: [], publish: [] });
  });

  it("ch. 2.1: a revocation without KvK number, decision or effective date is poison", () => {
    const state = { admission: admitted, cases, reviewsForDecision: [] };
    expect(onAdmissionRevoked({ ...revocation, subjectKvk: "x" }, state, NOW)).toMatchObject({
      outcome: "poison",
    });
    expect(onAdmissionRevoked({ ...revocation, decisionReference: "" }, state, NOW)).toMatchObject({
      outcome: "poison",
    });
    expect(onAdmissionRevoked({ ...revocation, effectiveDate: undefined }, state, NOW)).toMatchObject({
      outcome: "poison",
    });
  });
});

describe("the partners' signals and cases", () => {
  it("ch. 6.1: an LSI signal is recorded once per reference", () => {
    const value = {
      subjectKvk: UITLENER,
      signalReference: "BD-LSI-1",
      kind: "G_ACCOUNT_DEFAULT" as const,
      persons: [],
    };
    const first = recordSignal(value, undefined, NOW);
    expect(first).toMatchObject({ outcome: "recorded", signal: { personCount: 0 } });
    if (first.outcome === "poison") throw new Error("unexpected");
    expect(recordSignal(value, first.signal, NOW)).toMatchObject({ outcome: "duplicate" });
    expect(recordSignal({ signalReference: "x" }, undefined, NOW)).toMatchObject({ outcome: "poison" });
  });

  it("ch. 6: a joint AMU case is recorded once per case reference", () => {
    const value = { subjectKvk: UITLENER, caseReference: "AMU-1", concerns: ["CROSS_BORDER" as const] };
    const first = recordAmuCase(value, undefined, NOW);
    expect(first).toMatchObject({ outcome: "recorded", amuCase: { concerns: ["CROSS_BORDER"] } });
    if (first.outcome === "poison") throw new Error("unexpected");
    expect(recordAmuCase(value, first.amuCase, NOW)).toMatchObject({ outcome: "duplicate" });
    expect(recordAmuCase({ subjectKvk: UITLENER }, undefined, NOW)).toMatchObject({ outcome: "poison" });
  });
});
