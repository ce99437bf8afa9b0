import { describe, expect, it } from "vitest";
import {
  arrearsReference,
  onAdmissionRevoked,
  recordAdmissionGranted,
  recordAdmissionRefused,
  recordAmuCase,
  recordDeposit,
  recordSignal,
  revocationSignalReference,
  signalArrears,
  type AdmissionRow,
  type ArrearsRow,
  type DepositRow,
} from "./rules";

const NOW = new Date("2026-06-15T10:00:00.000Z");
const UITLENER = "90000002";
const INLENER = "90000101";
const INLENER_2 = "90000102";

const admitted: AdmissionRow = {
  uitlenerKvk: UITLENER,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "T-2026-0002",
  status: "ADMITTED",
  admissionKind: "PROVISIONAL",
  validFrom: "2026-01-01",
  provisionalUntil: "2026-07-01",
  effectiveDate: null,
  decisionReference: null,
  reasons: [],
};

function deposit(over: Partial<DepositRow> = {}): DepositRow {
  return {
    depositReference: "D-1",
    inlenerKvk: INLENER,
    uitlenerKvk: UITLENER,
    amountCents: 350_000,
    invoiceTotalCents: 1_000_000,
    periodStart: "2026-03-01",
    periodEnd: "2026-03-31",
    recordedAt: "2026-04-02T09:00:00.000Z",
    ...over,
  };
}

const arrears: ArrearsRow = {
  signalReference: "BD-ARR-1",
  uitlenerKvk: UITLENER,
  kinds: ["LOONHEFFING_UNPAID", "G_REKENING_DRAWN"],
  periodStart: "2026-03-01",
  periodEnd: "2026-03-31",
  arrearsCents: 4_200_000,
  signalledAt: "2026-05-01T09:00:00.000Z",
};

const revocation = {
  eventTime: "2026-06-15T09:00:00.000Z",
  subjectKvk: UITLENER,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "T-2026-0002",
  effectiveDate: "2026-06-16",
  reasons: ["TAX_ARREARS", "NEGATIVE_INSPECTION"] as ("TAX_ARREARS" | "NEGATIVE_INSPECTION")[],
  decisionReference: "SZW-INT-7",
  explanation: null,
};

describe("the register", () => {
  it("ch. 2.1: an admission from the openbaar register is recorded as admitted", () => {
    const d = recordAdmissionGranted({
      subjectKvk: UITLENER,
      admissionNumber: "T-1",
      admissionKind: "PROVISIONAL",
    });
    expect(d).toMatchObject({
      outcome: "recorded",
      admission: { uitlenerKvk: UITLENER, status: "ADMITTED" },
    });
  });

  it("ch. 2.1: an admission without a KvK number or admission number is poison", () => {
    expect(recordAdmissionGranted({ admissionNumber: "T-1" })).toMatchObject({ outcome: "poison" });
    expect(recordAdmissionGranted({ subjectKvk: "123", admissionNumber: "T-1" })).toMatchObject({
      outcome: "poison",
    });
    expect(recordAdmissionGranted({ subjectKvk: UITLENER })).toMatchObject({ outcome: "poison" });
  });

  it("ch. 2.1: a refusal (weigeringsgrond) is recorded once per decision", () => {
    const value = { subjectKvk: UITLENER, decisionReference: "SZW-W-1", reasons: ["BIBOB" as const] };
    const first = recordAdmissionRefused(value, undefined, NOW);
    expect(first).toMatchObject({ outcome: "recorded", refusal: { reasons: ["BIBOB"] } });
    if (first.outcome === "poison") throw new Error("unexpected");
    expect(recordAdmissionRefused(value, first.refusal, NOW)).toMatchObject({ outcome: "duplicate" });
    expect(recordAdmissionRefused({ subjectKvk: UITLENER }, undefined, NOW)).toMatchObject({
      outcome: "poison",
    });
  });
});

describe("signal-arrears", () => {
  const input = {
    uitlenerKvk: UITLENER,
    kinds: ["LOONHEFFING_UNPAID" as const, "G_REKENING_DRAWN" as const],
    periodStart: "2026-03-01",
    periodEnd: "2026-03-31",
    arrearsCents: 4_200_000,
  };

  it("ch. 2.1: unpaid loonheffing and a drawn g-rekening of an admitted uitlener are signalled to the admission authority", () => {
    const d = signalArrears(input, { admission: admitted, existing: undefined }, NOW);
    if (d.outcome === "refused") throw new Error(d.reason);
    expect(d.outcome).toBe("signalled");
    expect(d.publish).toEqual([
      {
        topic: "fiscaal.arrears-signalled",
        value: {
          eventTime: NOW.toISOString(),
          subjectKvk: UITLENER,
          signalReference: arrearsReference(UITLENER, "2026-03-01", "2026-03-31"),
          kinds: ["G_REKENING_DRAWN", "LOONHEFFING_UNPAID"],
          periodStart: "2026-03-01",
          periodEnd: "2026-03-31",
          arrearsCents: 4_200_000,
        },
      },
    ]);
    expect(d.arrears.kinds).toEqual(["G_REKENING_DRAWN", "LOONHEFFING_UNPAID"]);
  });

  it("ch. 2.1: an uitlener with no admission on record, or one already revoked, gets no arrears signal", () => {
    expect(signalArrears(input, { admission: undefined, existing: undefined }, NOW)).toMatchObject({
      outcome: "refused",
      reason: "no admission of this uitlener is on record",
    });
    const revoked = { ...admitted, status: "REVOKED" as const, effectiveDate: "2026-06-01" };
    expect(signalArrears(input, { admission: revoked, existing: undefined }, NOW)).toMatchObject({
      outcome: "refused",
      reason: "the uitlener's admission is already revoked",
    });
  });

  it("ch. 2.1: a tax period must have ended before its arrears are signalled (the last day itself is too early)", () => {
    const state = { admission: admitted, existing: undefined };
    expect(signalArrears({ ...input, periodEnd: "2026-06-15" }, state, NOW)).toMatchObject({
      outcome: "refused",
      reason: "the tax period has not ended yet",
    });
    expect(signalArrears({ ...input, periodEnd: "2026-06-14" }, state, NOW)).toMatchObject({
      outcome: "signalled",
    });
  });

  it("ch. 2.1: an empty kind list, an inverted period, a negative amount or a bad KvK number is refused", () => {
    const state = { admission: admitted, existing: undefined };
    expect(signalArrears({ ...input, kinds: [] }, state, NOW)).toMatchObject({ outcome: "refused" });
    expect(signalArrears({ ...input, periodStart: "2026-04-01" }, state, NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(signalArrears({ ...input, arrearsCents: -1 }, state, NOW)).toMatchObject({ outcome: "refused" });
    const bad = signalArrears({ ...input, uitlenerKvk: "9000000X" }, state, NOW);
    expect(bad).toMatchObject({ outcome: "refused" });
    expect(JSON.stringify(bad)).not.toContain("9000000X");
  });

  it("ch. 2.1: the same signal reference twice is one signal; reused for another uitlener it is refused", () => {
    const state = { admission: admitted, existing: { ...arrears, signalReference: "R-1" } };
    expect(signalArrears({ ...input, signalReference: "R-1" }, state, NOW)).toMatchObject({
      outcome: "duplicate",
      publish: [],
    });
    const other = { ...state, existing: { ...arrears, uitlenerKvk: "90000001" } };
    expect(signalArrears({ ...input, signalReference: "R-1" }, other, NOW)).toMatchObject({
      outcome: "refused",
    });
  });
});

describe("record-g-account-deposit", () => {
  const input = {
    inlenerKvk: INLENER,
    uitlenerKvk: UITLENER,
    amountCents: 350_000,
    invoiceTotalCents: 1_000_000,
    periodStart: "2026-03-01",
    periodEnd: "2026-03-31",
  };

  it("ch. 2.1: an inlener's deposit on the uitlener's g-rekening is recorded with its invoice sum", () => {
    const d = recordDeposit(input, { admission: admitted, existing: undefined, deposits: [] }, NOW);
    expect(d).toMatchObject({
      outcome: "recorded",
      deposit: { inlenerKvk: INLENER, uitlenerKvk: UITLENER, amountCents: 350_000 },
      review: null,
    });
  });

  it("ch. 2.1: a deposit for a period on or after the day the uitlener lost its admission opens a review at once", () => {
    const revoked = {
      ...admitted,
      status: "REVOKED" as const,
      effectiveDate: "2026-03-31",
      decisionReference: "SZW-INT-7",
    };
    const state = { admission: revoked, existing: undefined, deposits: [] };
    const on = recordDeposit(input, state, NOW);
    expect(on).toMatchObject({
      review: { inlenerKvk: INLENER, cause: "DEPOSIT_AFTER_REVOCATION", causeReference: "SZW-INT-7" },
    });
    const before = recordDeposit({ ...input, periodEnd: "2026-03-30" }, state, NOW);
    expect(before).toMatchObject({ outcome: "recorded", review: null });
  });

  it("ch. 2.1: an inlener that is its own uitlener, a zero deposit, an invoice below the deposit or an inverted period is refused", () => {
    const state = { admission: admitted, existing: undefined, deposits: [] };
    expect(recordDeposit({ ...input, inlenerKvk: UITLENER }, state, NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(recordDeposit({ ...input, amountCents: 0 }, state, NOW)).toMatchObject({ outcome: "refused" });
    expect(recordDeposit({ ...input, invoiceTotalCents: 100 }, state, NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(recordDeposit({ ...input, periodEnd: "2026-02-01" }, state, NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(recordDeposit({ ...input, inlenerKvk: "1234" }, state, NOW)).toMatchObject({ outcome: "refused" });
  });

  it("ch. 2.1: the same deposit twice is one deposit; a reused reference for a different one is refused", () => {
    const existing = deposit({ depositReference: "D-9" });
    const state = { admission: admitted, existing, deposits: [existing] };
    expect(recordDeposit({ ...input, depositReference: "D-9" }, state, NOW)).toMatchObject({
      outcome: "duplicate",
    });
    expect(recordDeposit({ ...input, depositReference: "D-9", amountCents: 1 }, state, NOW)).toMatchObject({
      outcome: "refused",
    });
  });
});

describe("the revocation", () => {
  it("ch. 2.1: the inleners of a revoked uitlener are flagged for inlenersaansprakelijkheid and a G_ACCOUNT_DEFAULT signal is raised", () => {
    const deposits = [
      deposit({ depositReference: "D-1" }),
      deposit({ depositReference: "D-2", periodStart: "2026-04-01", periodEnd: "2026-04-30" }),
      deposit({ depositReference: "D-3", inlenerKvk: INLENER_2, amountCents: 100_000 }),
      deposit({ depositReference: "D-4", uitlenerKvk: "90000001", inlenerKvk: "90000199" }),
    ];
    const d = onAdmissionRevoked(
      revocation,
      { admission: admitted, deposits, arrears: [arrears], reviewsForDecision: [] },
      NOW,
    );
    if (d.outcome === "poison") throw new Error(d.reason);
    expect(d.outcome).toBe("applied");
    expect(d.admission).toMatchObject({
      status: "REVOKED",
      effectiveDate: "2026-06-16",
      decisionReference: "SZW-INT-7",
    });
    expect(d.reviews.map((r) => [r.inlenerKvk, r.depositedCents, r.indemnified])).toEqual([
      [INLENER, 700_000, true],
      [INLENER_2, 100_000, false],
    ]);
    expect(d.publish).toHaveLength(1);
    const signal = d.publish[0];
    expect(signal?.topic).toBe("lsi.signal-raised");
    expect(signal?.value).toMatchObject({
      subjectKvk: UITLENER,
      signalReference: revocationSignalReference("SZW-INT-7"),
      kind: "G_ACCOUNT_DEFAULT",
      municipalityCode: null,
      persons: [],
    });
    expect(JSON.stringify(signal?.value)).toContain("2 inlener(s) under review");
  });

  it("ch. 2.1: the 35% indemnity holds only when every deposit is at least 35% of its known invoice sum", () => {
    const exact = deposit({ amountCents: 350_000, invoiceTotalCents: 1_000_000 });
    const below = deposit({ amountCents: 349_999, invoiceTotalCents: 1_000_000 });
    const unknown = deposit({ invoiceTotalCents: null });
    const run = (deposits: DepositRow[]) => {
      const d = onAdmissionRevoked(
        revocation,
        { admission: admitted, deposits, arrears: [], reviewsForDecision: [] },
        NOW,
      );
      if (d.outcome === "poison") throw new Error(d.reason);
      return d.reviews[0];
    };
    expect(run([exact])?.indemnified).toBe(true);
    expect(run([below])?.indemnified).toBe(false);
    expect(run([exact, unknown])).toMatchObject({ indemnified: false, invoicedCents: null });
  });

  it("ch. 2.1: a revocation without a fiscal ground flags the inleners but raises no G_ACCOUNT_DEFAULT signal", () => {
    const d = onAdmissionRevoked(
      { ...revocation, reasons: ["NEGATIVE_INSPECTION"] },
      { admission: admitted, deposits: [deposit()], arrears: [], reviewsForDecision: [] },
      NOW,
    );
    expect(d).toMatchObject({ outcome: "applied", publish: [] });
    if (d.outcome === "poison") throw new Error(d.reason);
    expect(d.reviews).toHaveLength(1);
  });

  it("ch. 2.1: an unknown uitlener revoked for tax arrears is recorded and signalled, with no inleners to flag", () => {
    const d = onAdmissionRevoked(
      revocation,
      { admission: undefined, deposits: [], arrears: [], reviewsForDecision: [] },
      NOW,
    );
    expect(d).toMatchObject({ outcome: "applied", reviews: [], admission: { status: "REVOKED" } });
    if (d.outcome === "poison") throw new Error(d.reason);
    expect(d.publish).toHaveLength(1);
  });

  it("ch. 2.1: the same revocation decision twice opens no second review and no second signal", () => {
    const handled = { ...admitted, status: "REVOKED" as const, decisionReference: "SZW-INT-7" };
    expect(
      onAdmissionRevoked(
        revocation,
        { admission: handled, deposits: [deposit()], arrears: [arrears], reviewsForDecision: [] },
        NOW,
      ),
    ).toMatchObject({ outcome: "duplicate", reviews: [], publish: [] });
  });

  it("ch. 2.1: a revocation without KvK number, decision or effective date is poison", () => {
    const state = { admission: admitted, deposits: [], arrears: [], reviewsForDecision: [] };
    expect(onAdmissionRevoked({ ...revocation, subjectKvk: undefined }, state, NOW)).toMatchObject({
      outcome: "poison",
    });
    expect(onAdmissionRevoked({ ...revocation, decisionReference: undefined }, state, NOW)).toMatchObject({
      outcome: "poison",
    });
    expect(onAdmissionRevoked({ ...revocation, effectiveDate: "16-06-2026" }, state, NOW)).toMatchObject({
      outcome: "poison",
    });
  });
});

describe("the partners' signals and cases", () => {
  it("ch. 6.1: an LSI signal is recorded once per reference, its persons counted", () => {
    const value = {
      subjectKvk: UITLENER,
      signalReference: "NLA-1",
      kind: "UNADMITTED_LENDING" as const,
      persons: [{ bsn: "111222333", role: "WORKER" as const }],
      summary: "x",
    };
    const first = recordSignal(value, undefined, NOW);
    expect(first).toMatchObject({
      outcome: "recorded",
      signal: { personCount: 1, kind: "UNADMITTED_LENDING" },
    });
    if (first.outcome === "poison") throw new Error("unexpected");
    expect(recordSignal(value, first.signal, NOW)).toMatchObject({ outcome: "duplicate" });
    expect(recordSignal({ subjectKvk: UITLENER }, undefined, NOW)).toMatchObject({ outcome: "poison" });
  });

  it("ch. 6: a joint AMU case is recorded once per case reference", () => {
    const value = {
      subjectKvk: UITLENER,
      caseReference: "AMU-1",
      partners: ["NLA" as const, "BELASTINGDIENST" as const],
    };
    const first = recordAmuCase(value, undefined, NOW);
    expect(first).toMatchObject({ outcome: "recorded", amuCase: { partners: ["NLA", "BELASTINGDIENST"] } });
    if (first.outcome === "poison") throw new Error("unexpected");
    expect(recordAmuCase(value, first.amuCase, NOW)).toMatchObject({ outcome: "duplicate" });
    expect(recordAmuCase({ caseReference: "AMU-1" }, undefined, NOW)).toMatchObject({ outcome: "poison" });
  });
});
