import { describe, expect, it } from "vitest";
import {
  addMonths,
  DeskRefusal,
  dutchDay,
  grantAdmission,
  onArrearsSignalled,
  onHousingViolation,
  onReportFiled,
  parseArrears,
  parseHousing,
  parseReport,
  refuseApplication,
  reviewAdmission,
  revokeAtDesk,
  topUpDeposit,
  type Admission,
  type ArrearsInput,
  type EventDecision,
  type GrantInput,
  type Ground,
  type HousingInput,
  type ReportInput,
  type ReportRecord,
} from "./rules";

const KVK = "90000002";
const TRADE_NAME = "Tweede Voorbeeld Flexwerk B.V.";
const at = (iso: string) => new Date(iso);

const provisionalInput = (over: Partial<GrantInput> = {}): GrantInput => ({
  subjectKvk: KVK,
  tradeName: TRADE_NAME,
  admissionKind: "PROVISIONAL",
  validFrom: "2026-01-12",
  securityDepositCents: 5_000_000,
  establishedAbroad: false,
  countryOfEstablishment: "NL",
  admissionNumber: "WTTA-2026-000124",
  ...over,
});

function admitted(over: Partial<Admission> = {}): Admission {
  const { admission } = grantAdmission(
    provisionalInput(),
    { admissions: [], reports: [], nextSequence: 1 },
    at("2026-01-12T09:00:00Z"),
  );
  return { ...admission, ...over };
}

/** A tiny in-memory state that applies decisions the way src/agency.ts does in its tables. */
class World {
  admissions: Admission[];
  grounds: Ground[] = [];
  reports: ReportRecord[] = [];
  constructor(...admissions: Admission[]) {
    this.admissions = admissions;
  }
  apply(d: EventDecision): EventDecision {
    this.grounds = this.grounds.map((g) => {
      const r = d.resolved.find(
        (x) => x.reference === g.reference && g.admissionNumber === d.admissionNumber,
      );
      return r ? { ...g, resolvedOn: r.resolvedOn } : g;
    });
    this.grounds.push(...d.newGrounds);
    if (d.report) this.reports.push(d.report);
    if (d.admission) {
      const a = d.admission;
      this.admissions = this.admissions.map((x) => (x.admissionNumber === a.admissionNumber ? a : x));
    }
    return d;
  }
  report(r: Partial<ReportInput>, now: string, body = "inspectie.sna"): EventDecision {
    const input: ReportInput = {
      subjectKvk: KVK,
      reportId: "SNA-2026-0816",
      inspectionDate: "2026-06-18",
      outcome: "COMPLIANT",
      severities: [],
      ...r,
    };
    return this.apply(onReportFiled(input, body, this, at(now)));
  }
  arrears(s: Partial<ArrearsInput>, now: string): EventDecision {
    const input: ArrearsInput = {
      subjectKvk: KVK,
      signalReference: "BD-WTTA-2026-0091",
      kinds: ["LOONHEFFING_UNPAID", "G_REKENING_DRAWN"],
      periodStart: "2026-02-01",
      periodEnd: "2026-04-30",
      signalledOn: dutchDay(at(now)),
      ...s,
    };
    return this.apply(onArrearsSignalled(input, this, at(now)));
  }
  housing(h: Partial<HousingInput>, now: string): EventDecision {
    const input: HousingInput = {
      subjectKvk: KVK,
      inspectionDate: "2026-04-09",
      municipalityCode: "GM0606",
      violations: ["OVERCROWDING"],
      eventTime: `${h.inspectionDate ?? "2026-04-09"}T12:00:00.000Z`,
      ...h,
    };
    return this.apply(onHousingViolation(input, this, at(now)));
  }
}

function revoked(d: { publish: { topic: string; value: unknown }[] }) {
  const r = d.publish.find((p) => p.topic === "wtta.admission-revoked");
  const reg = d.publish.find((p) => p.topic === "wtta.register-updated");
  return {
    reasons: (r?.value as { reasons?: string[] } | undefined)?.reasons,
    register: (reg?.value as { registerStatus?: string } | undefined)?.registerStatus,
  };
}

describe("grant-admission (ch. 2.1)", () => {
  it("ch. 2.1: a provisional admission needs a deposit of € 50,000 and runs six months from its validFrom", () => {
    const d = grantAdmission(
      provisionalInput(),
      { admissions: [], reports: [], nextSequence: 1 },
      at("2026-01-12T09:00:00Z"),
    );
    expect(d.admission).toMatchObject({
      status: "PROVISIONAL",
      provisionalUntil: "2026-07-12",
      securityDepositCents: 5_000_000,
    });
    expect(d.publish.map((p) => p.topic)).toEqual(["wtta.admission-granted", "wtta.register-updated"]);
    expect(d.publish[0]!.value).toEqual({
      eventTime: "2026-01-12T09:00:00.000Z",
      subjectKvk: KVK,
      tradeName: TRADE_NAME,
      admissionNumber: "WTTA-2026-000124",
      admissionKind: "PROVISIONAL",
      validFrom: "2026-01-12",
      provisionalUntil: "2026-07-12",
      securityDepositCents: 5_000_000,
      inspectionReport: null,
      establishedAbroad: false,
      countryOfEstablishment: "NL",
    });
    expect(d.publish[1]!.value).toMatchObject({
      registerStatus: "PROVISIONALLY_ADMITTED",
      effectiveDate: "2026-01-12",
    });
  });

  it("ch. 2.1: a deposit one cent short of € 50,000 is refused; exactly € 50,000 is enough", () => {
    const state = { admissions: [], reports: [], nextSequence: 7 };
    expect(() =>
      grantAdmission(
        provisionalInput({ securityDepositCents: 4_999_999 }),
        state,
        at("2026-01-12T09:00:00Z"),
      ),
    ).toThrow(/waarborgsom voorlopige toelating/);
    const ok = grantAdmission(
      provisionalInput({ admissionNumber: undefined }),
      state,
      at("2026-01-12T09:00:00Z"),
    );
    expect(ok.admission.admissionNumber).toBe("WTTA-2026-000007");
  });

  it("ch. 2.1: six months from the 31st of August ends on the last day of February", () => {
    expect(addMonths("2026-08-31", 6)).toBe("2027-02-28");
    expect(addMonths("2027-08-31", 6)).toBe("2028-02-29");
    expect(addMonths("2026-01-05", 6)).toBe("2026-07-05");
  });

  it("ch. 2.1: an uitlener holds one admission: a second grant, a taken number or a bad KvK is refused", () => {
    const a = admitted();
    const now = at("2026-02-01T09:00:00Z");
    expect(() =>
      grantAdmission(provisionalInput(), { admissions: [a], reports: [], nextSequence: 2 }, now),
    ).toThrow(/one admission per uitlener/);
    expect(() =>
      grantAdmission(
        provisionalInput({ subjectKvk: "90000001" }),
        { admissions: [a], reports: [], nextSequence: 2 },
        now,
      ),
    ).toThrow(/register number/);
    expect(() =>
      grantAdmission(
        provisionalInput({ subjectKvk: "9000002" }),
        { admissions: [], reports: [], nextSequence: 2 },
        now,
      ),
    ).toThrow(/KvK/);
  });

  it("ch. 2.1: a refusal message names the rule and the fix, never the trade name or the KvK number", () => {
    try {
      grantAdmission(
        provisionalInput({ securityDepositCents: 0 }),
        { admissions: [], reports: [], nextSequence: 1 },
        at("2026-01-12T09:00:00Z"),
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DeskRefusal);
      const msg = (e as Error).message;
      expect(msg).toMatch(/^ch\. 2\.1 waarborgsom voorlopige toelating:/);
      expect((e as DeskRefusal).fix).toMatch(/lodge € 50,000/);
      expect((e as DeskRefusal).fix).not.toContain(KVK);
      expect(msg).not.toContain(KVK);
      expect(msg).not.toContain(TRADE_NAME);
    }
  });

  it("ch. 2.1: a foreign uitlener's country and establishedAbroad must agree", () => {
    const state = { admissions: [], reports: [], nextSequence: 1 };
    expect(() =>
      grantAdmission(provisionalInput({ countryOfEstablishment: "PL" }), state, at("2026-01-12T09:00:00Z")),
    ).toThrow(/buitenlandse uitleners/);
    expect(
      grantAdmission(
        provisionalInput({ countryOfEstablishment: "PL", establishedAbroad: true }),
        state,
        at("2026-01-12T09:00:00Z"),
      ).admission.establishedAbroad,
    ).toBe(true);
  });

  it("ch. 2.1: a definitive admission at the desk needs € 100,000 and a recent compliant inspection report", () => {
    const compliant: ReportRecord = {
      reportId: "SNA-2026-0001",
      subjectKvk: KVK,
      inspectionBody: "inspectie.sna",
      inspectionDate: "2026-03-01",
      outcome: "COMPLIANT",
      majorFindings: 0,
      minorFindings: 0,
    };
    const input = provisionalInput({ admissionKind: "DEFINITIVE", securityDepositCents: 10_000_000 });
    const now = at("2026-04-01T09:00:00Z");
    expect(() => grantAdmission(input, { admissions: [], reports: [], nextSequence: 1 }, now)).toThrow(
      /missing: NO_RECENT_INSPECTION/,
    );
    expect(() =>
      grantAdmission(
        { ...input, securityDepositCents: 9_999_999 },
        { admissions: [], reports: [compliant], nextSequence: 1 },
        now,
      ),
    ).toThrow(/missing: SECURITY_DEPOSIT/);
    // Older than six months is not recent.
    expect(() =>
      grantAdmission(
        input,
        { admissions: [], reports: [compliant], nextSequence: 1 },
        at("2026-09-02T09:00:00Z"),
      ),
    ).toThrow(/NO_RECENT_INSPECTION/);
    // A later negative report overrides an earlier compliant one.
    const negative = {
      ...compliant,
      reportId: "SNA-2026-0002",
      inspectionDate: "2026-03-20",
      outcome: "NON_COMPLIANT" as const,
    };
    expect(() =>
      grantAdmission(input, { admissions: [], reports: [compliant, negative], nextSequence: 1 }, now),
    ).toThrow(/NEGATIVE_INSPECTION/);
    const d = grantAdmission(input, { admissions: [], reports: [compliant], nextSequence: 1 }, now);
    expect(d.admission).toMatchObject({ status: "DEFINITIVE", provisionalUntil: null });
    expect(d.publish[0]!.value).toMatchObject({
      admissionKind: "DEFINITIVE",
      provisionalUntil: null,
      inspectionReport: {
        inspectionBody: "inspectie.sna",
        reportId: "SNA-2026-0001",
        inspectionDate: "2026-03-01",
      },
    });
    expect(d.publish[1]!.value).toMatchObject({ registerStatus: "ADMITTED" });
  });
});

describe("top-up-deposit (ch. 2.1)", () => {
  it("ch. 2.1: the deposit is topped up to € 100,000 for the definitive admission", () => {
    const a = admitted();
    const half = topUpDeposit({ subjectKvk: KVK, amountCents: 4_999_999 }, [a]);
    expect(half).toMatchObject({
      definitiveDepositReached: false,
      admission: { securityDepositCents: 9_999_999 },
    });
    const full = topUpDeposit({ subjectKvk: KVK, amountCents: 1 }, [half.admission]);
    expect(full).toMatchObject({
      definitiveDepositReached: true,
      admission: { securityDepositCents: 10_000_000 },
    });
  });

  it("ch. 2.1: a top-up for an uitlener without an admission in force, or of no money, is refused", () => {
    expect(() => topUpDeposit({ subjectKvk: KVK, amountCents: 100 }, [])).toThrow(/no admission in force/);
    expect(() =>
      topUpDeposit({ subjectKvk: KVK, amountCents: 100 }, [admitted({ status: "REVOKED" })]),
    ).toThrow(/no admission in force/);
    expect(() => topUpDeposit({ subjectKvk: KVK, amountCents: 0 }, [admitted()])).toThrow(/positive/);
  });
});

describe("the six-month review (ch. 2.1)", () => {
  const compliant: ReportRecord = {
    reportId: "SNA-2026-0816",
    subjectKvk: KVK,
    inspectionBody: "inspectie.sna",
    inspectionDate: "2026-06-18",
    outcome: "COMPLIANT",
    majorFindings: 0,
    minorFindings: 0,
  };

  it("ch. 2.1: a provisional admission becomes definitive after six months, once the deposit is € 100,000 and a recent report is compliant", () => {
    const a = admitted({ securityDepositCents: 10_000_000 });
    // On its last day (provisionalUntil) nothing is due yet.
    expect(reviewAdmission(a, { grounds: [], reports: [compliant] }, at("2026-07-12T12:00:00Z"))).toBeNull();
    const d = reviewAdmission(a, { grounds: [], reports: [compliant] }, at("2026-07-13T06:00:00Z"))!;
    expect(d.outcome).toBe("definitive");
    expect(d.admission).toMatchObject({ status: "DEFINITIVE", provisionalUntil: null });
    expect(d.publish[0]).toMatchObject({
      topic: "wtta.admission-granted",
      value: {
        admissionKind: "DEFINITIVE",
        validFrom: "2026-07-13",
        provisionalUntil: null,
        securityDepositCents: 10_000_000,
        inspectionReport: { inspectionBody: "inspectie.sna", reportId: "SNA-2026-0816" },
      },
    });
    expect(d.publish[1]).toMatchObject({
      topic: "wtta.register-updated",
      value: { registerStatus: "ADMITTED", effectiveDate: "2026-07-13" },
    });
  });

  it("ch. 2.1: the day boundary is the Dutch calendar day (22:30 UTC on the last day is already the next day in summer)", () => {
    const a = admitted({ securityDepositCents: 10_000_000 });
    expect(dutchDay(at("2026-07-12T22:30:00Z"))).toBe("2026-07-13");
    expect(reviewAdmission(a, { grounds: [], reports: [compliant] }, at("2026-07-12T21:30:00Z"))).toBeNull();
    expect(
      reviewAdmission(a, { grounds: [], reports: [compliant] }, at("2026-07-12T22:30:00Z"))?.outcome,
    ).toBe("definitive");
  });

  it("ch. 2.1: a provisional admission whose deposit was not topped up is revoked after six months (SECURITY_DEPOSIT)", () => {
    const d = reviewAdmission(admitted(), { grounds: [], reports: [compliant] }, at("2026-07-13T06:00:00Z"))!;
    expect(d.outcome).toBe("revoked");
    expect(revoked(d)).toEqual({ reasons: ["SECURITY_DEPOSIT"], register: "NOT_ADMITTED" });
    expect(d.newGrounds.map((g) => g.kind)).toEqual(["SECURITY_DEPOSIT"]);
  });

  it("ch. 2.1: a provisional admission past provisionalUntil without a recent compliant report is revoked (NO_RECENT_INSPECTION)", () => {
    const a = admitted({ securityDepositCents: 10_000_000 });
    const none = reviewAdmission(a, { grounds: [], reports: [] }, at("2026-07-13T06:00:00Z"))!;
    expect(revoked(none).reasons).toEqual(["NO_RECENT_INSPECTION"]);
    const old = { ...compliant, inspectionDate: "2026-01-12" };
    const stale = reviewAdmission(a, { grounds: [], reports: [old] }, at("2026-07-13T06:00:00Z"))!;
    expect(revoked(stale).reasons).toEqual(["NO_RECENT_INSPECTION"]);
    const both = reviewAdmission(admitted(), { grounds: [], reports: [] }, at("2026-07-13T06:00:00Z"))!;
    expect(revoked(both).reasons).toEqual(["NO_RECENT_INSPECTION", "SECURITY_DEPOSIT"]);
  });

  it("ch. 2.1: a remedy period that expires without a compliant report revokes, not on its last day but the day after", () => {
    const w = new World(admitted());
    w.report(
      { outcome: "NON_COMPLIANT", severities: ["MINOR"], inspectionDate: "2026-03-02" },
      "2026-03-03T09:00:00Z",
    );
    const a = w.admissions[0]!;
    expect(w.grounds[0]!.remedyUntil).toBe("2026-06-02");
    expect(reviewAdmission(a, w, at("2026-06-02T10:00:00Z"))).toBeNull();
    const d = reviewAdmission(a, w, at("2026-06-03T10:00:00Z"))!;
    expect(d.outcome).toBe("revoked");
    expect(revoked(d).reasons).toEqual(["NEGATIVE_INSPECTION"]);
  });

  it("ch. 2.1: a revoked admission is not reviewed again", () => {
    expect(
      reviewAdmission(
        admitted({ status: "REVOKED" }),
        { grounds: [], reports: [] },
        at("2027-01-01T00:00:00Z"),
      ),
    ).toBeNull();
  });
});

describe("inspectie.report-filed (ch. 2.1)", () => {
  it("ch. 2.1: a non-compliant report with MINOR findings only opens a remedy period of three months", () => {
    const w = new World(admitted());
    const d = w.report({ outcome: "NON_COMPLIANT", severities: ["MINOR", "MINOR"] }, "2026-06-20T14:30:00Z");
    expect(d.outcome).toBe("remedy");
    expect(d.publish).toEqual([]);
    expect(d.newGrounds[0]).toMatchObject({ kind: "INSPECTION_MINOR", remedyUntil: "2026-09-18" });
  });

  it("ch. 2.1: a non-compliant report with a MAJOR finding revokes (NEGATIVE_INSPECTION)", () => {
    const w = new World(admitted());
    const d = w.report({ outcome: "NON_COMPLIANT", severities: ["MINOR", "MAJOR"] }, "2026-06-20T14:30:00Z");
    expect(d.outcome).toBe("revoked");
    expect(revoked(d)).toEqual({ reasons: ["NEGATIVE_INSPECTION"], register: "NOT_ADMITTED" });
    expect(d.publish[0]!.value).toMatchObject({
      subjectKvk: KVK,
      admissionNumber: "WTTA-2026-000124",
      effectiveDate: "2026-06-20",
      decisionReference: "SZW/TOEL/INTR/WTTA-2026-000124",
    });
    expect(w.admissions[0]!.status).toBe("REVOKED");
  });

  it("ch. 2.1: a non-compliant report without findings to weigh revokes like a MAJOR one", () => {
    const w = new World(admitted());
    expect(w.report({ outcome: "NON_COMPLIANT", severities: [] }, "2026-06-20T14:30:00Z").outcome).toBe(
      "revoked",
    );
  });

  it("ch. 2.1: a report that could not assess the normenkader counts as a missing report, with a remedy period", () => {
    const w = new World(admitted());
    const d = w.report({ outcome: "NOT_ASSESSABLE" }, "2026-06-20T14:30:00Z");
    expect(d.outcome).toBe("remedy");
    expect(d.newGrounds[0]!.kind).toBe("INSPECTION_NOT_ASSESSABLE");
    const second = w.report(
      { reportId: "SNA-2026-0900", outcome: "NOT_ASSESSABLE", inspectionDate: "2026-07-01" },
      "2026-07-02T09:00:00Z",
    );
    expect(revoked(second).reasons).toEqual(["NO_RECENT_INSPECTION"]);
  });

  it("ch. 2.1: a second negative report within 24 months revokes, even when the first was remedied", () => {
    const w = new World(admitted());
    w.report(
      { reportId: "R1", outcome: "NON_COMPLIANT", severities: ["MINOR"], inspectionDate: "2026-03-02" },
      "2026-03-03T09:00:00Z",
    );
    const fixed = w.report(
      { reportId: "R2", outcome: "COMPLIANT", inspectionDate: "2026-04-15" },
      "2026-04-16T09:00:00Z",
    );
    expect(fixed.outcome).toBe("resolved");
    expect(w.grounds[0]!.resolvedOn).toBe("2026-04-15");
    const d = w.report(
      { reportId: "R3", outcome: "NON_COMPLIANT", severities: ["MINOR"], inspectionDate: "2026-06-01" },
      "2026-06-02T09:00:00Z",
    );
    expect(d.outcome).toBe("revoked");
    expect(d.note).toMatch(/second negative inspection report/);
    // The remedied report is no longer an established ground; the new one is.
    expect(revoked(d).reasons).toEqual(["NEGATIVE_INSPECTION"]);
  });

  it("ch. 2.1: a compliant report remedies the open report grounds, so the remedy period no longer revokes", () => {
    const w = new World(admitted());
    w.report(
      { reportId: "R1", outcome: "NON_COMPLIANT", severities: ["MINOR"], inspectionDate: "2026-03-02" },
      "2026-03-03T09:00:00Z",
    );
    w.report({ reportId: "R2", outcome: "COMPLIANT", inspectionDate: "2026-05-15" }, "2026-05-16T09:00:00Z");
    expect(reviewAdmission(w.admissions[0]!, w, at("2026-06-03T10:00:00Z"))).toBeNull();
  });

  it("ch. 2.1: the same report delivered twice counts once", () => {
    const w = new World(admitted());
    w.report({ outcome: "NON_COMPLIANT", severities: ["MINOR"] }, "2026-06-20T14:30:00Z");
    const again = w.report({ outcome: "NON_COMPLIANT", severities: ["MINOR"] }, "2026-06-20T14:31:00Z");
    expect(again.outcome).toBe("duplicate");
    expect(w.grounds).toHaveLength(1);
    expect(w.admissions[0]!.status).toBe("PROVISIONAL");
  });

  it("ch. 2.1: a report about a KvK that was never admitted is kept (it may support an application), with no admission to act on", () => {
    const w = new World();
    const d = w.report(
      { subjectKvk: "90000009", outcome: "NON_COMPLIANT", severities: ["MAJOR"] },
      "2026-06-20T14:30:00Z",
    );
    expect(d).toMatchObject({ outcome: "no-admission", publish: [], newGrounds: [], admissionNumber: null });
    expect(d.report).toMatchObject({ subjectKvk: "90000009", majorFindings: 1 });
  });
});

describe("fiscaal.arrears-signalled (ch. 2.1)", () => {
  for (const kind of ["LOONHEFFING_UNPAID", "OMZETBELASTING_UNPAID", "G_REKENING_DRAWN"] as const) {
    it(`ch. 2.1: the Belastingdienst's signal ${kind} alone revokes the admission (TAX_ARREARS)`, () => {
      const w = new World(admitted());
      const d = w.arrears({ kinds: [kind] }, "2026-05-04T08:00:00Z");
      expect(d.outcome).toBe("revoked");
      expect(revoked(d)).toEqual({ reasons: ["TAX_ARREARS"], register: "NOT_ADMITTED" });
    });
  }

  it("ch. 2.1: a tax signal about an uitlener without an admission in force is recorded, not acted on", () => {
    const never = new World();
    expect(never.arrears({ subjectKvk: "90000009" }, "2026-05-04T08:00:00Z")).toMatchObject({
      outcome: "no-admission",
      publish: [],
    });
    const gone = new World(admitted({ status: "REVOKED" }));
    expect(gone.arrears({}, "2026-05-04T08:00:00Z").outcome).toBe("no-admission");
  });
});

describe("huisvesting.violation-found (ch. 2.1, ch. 4)", () => {
  it("ch. 2.1: one housing violation by the uitlener is a recorded ground, not yet a revocation", () => {
    const w = new World(admitted());
    const d = w.housing({}, "2026-04-10T12:00:00Z");
    expect(d).toMatchObject({ outcome: "recorded", publish: [] });
    expect(d.newGrounds[0]).toMatchObject({ kind: "HOUSING_VIOLATION", observedOn: "2026-04-09" });
    expect(d.newGrounds[0]!.summary).not.toMatch(/straat|Havenstraat/);
  });

  it("ch. 2.1: housing violations found on two days within 24 months revoke (NORMENKADER)", () => {
    const w = new World(admitted());
    w.housing({}, "2026-04-10T12:00:00Z");
    // Another body reporting the same day's finding is not a repeat.
    const sameDay = w.housing({ eventTime: "2026-04-09T15:00:00.000Z" }, "2026-04-10T13:00:00Z");
    expect(sameDay.outcome).toBe("recorded");
    const d = w.housing({ inspectionDate: "2026-09-01", municipalityCode: "GM1507" }, "2026-09-02T12:00:00Z");
    expect(d.outcome).toBe("revoked");
    expect(revoked(d)).toEqual({ reasons: ["NORMENKADER"], register: "NOT_ADMITTED" });
  });

  it("ch. 2.1: a housing violation older than 24 months no longer counts towards a repeat", () => {
    const a = admitted({ validFrom: "2024-01-01", status: "DEFINITIVE", provisionalUntil: null });
    const w = new World(a);
    w.housing({ inspectionDate: "2024-03-01" }, "2024-03-02T12:00:00Z");
    const d = w.housing({ inspectionDate: "2026-03-02" }, "2026-03-03T12:00:00Z");
    expect(d.outcome).toBe("recorded");
  });

  it("ch. 4: the same violation delivered twice counts once; one about another company is recorded only", () => {
    const w = new World(admitted());
    w.housing({}, "2026-04-10T12:00:00Z");
    expect(w.housing({}, "2026-04-10T12:00:05Z").outcome).toBe("duplicate");
    expect(
      w.housing({ subjectKvk: "90000777", inspectionDate: "2026-05-01" }, "2026-05-01T12:00:00Z").outcome,
    ).toBe("no-admission");
    expect(w.grounds).toHaveLength(1);
  });
});

describe("the chain: a temp agency loses its admission (ch. 2.1)", () => {
  it("ch. 2.1: housing violation, then a non-compliant report with minor findings, then the tax signal revokes with every established ground", () => {
    const w = new World(admitted());
    expect(w.housing({}, "2026-04-10T12:00:00Z").outcome).toBe("recorded");
    expect(
      w.report(
        { outcome: "NON_COMPLIANT", severities: ["MINOR"], reportId: "SNA-2026-0816" },
        "2026-06-20T14:30:00Z",
      ).outcome,
    ).toBe("remedy");
    expect(w.admissions[0]!.status).toBe("PROVISIONAL");
    const d = w.arrears({}, "2026-06-25T08:00:00Z");
    expect(d.outcome).toBe("revoked");
    expect(revoked(d)).toEqual({
      reasons: ["NORMENKADER", "NEGATIVE_INSPECTION", "TAX_ARREARS"],
      register: "NOT_ADMITTED",
    });
    const explanation = (d.publish[0]!.value as { explanation: string }).explanation;
    expect(explanation).toContain("SNA-2026-0816");
    expect(explanation).toContain("BD-WTTA-2026-0091");
    expect(explanation).not.toContain(TRADE_NAME);
    // After the revocation the uitlener holds no admission to act on.
    expect(w.housing({ inspectionDate: "2026-07-01" }, "2026-07-02T12:00:00Z").outcome).toBe("no-admission");
  });
});

describe("refuse-application and revoke-admission (ch. 2.1)", () => {
  const refuse = {
    subjectKvk: "90000003",
    tradeName: "Derde Voorbeeld Personeelsdiensten B.V.",
    applicationReference: "SZW/AANVR/2026/0815",
    applicationKind: "PROVISIONAL" as const,
    reasons: ["BIBOB" as const],
  };

  it("ch. 2.1: an application is refused on a weigeringsgrond such as Bibob (wtta.admission-refused)", () => {
    const d = refuseApplication(refuse, { admissions: [], refusals: [] }, at("2026-04-14T09:00:00Z"));
    expect(d.publish).toEqual([
      {
        topic: "wtta.admission-refused",
        value: {
          eventTime: "2026-04-14T09:00:00.000Z",
          subjectKvk: "90000003",
          tradeName: "Derde Voorbeeld Personeelsdiensten B.V.",
          applicationReference: "SZW/AANVR/2026/0815",
          applicationKind: "PROVISIONAL",
          reasons: ["BIBOB"],
          decisionReference: "SZW/TOEL/WEIG/SZW/AANVR/2026/0815",
          explanation: null,
        },
      },
    ]);
    expect(() =>
      refuseApplication(refuse, { admissions: [], refusals: [d.refusal] }, at("2026-04-14T09:00:00Z")),
    ).toThrow(/refused already/);
    expect(() =>
      refuseApplication(
        { ...refuse, reasons: [] },
        { admissions: [], refusals: [] },
        at("2026-04-14T09:00:00Z"),
      ),
    ).toThrow(/at least one ground/);
  });

  it("ch. 2.1: a provisional holder's definitive application may be refused (negative report); a new provisional one may not", () => {
    const a = admitted();
    const now = at("2026-07-01T09:00:00Z");
    const base = { ...refuse, subjectKvk: KVK, tradeName: TRADE_NAME };
    expect(() => refuseApplication(base, { admissions: [a], refusals: [] }, now)).toThrow(
      /no such application to refuse/,
    );
    const d = refuseApplication(
      { ...base, applicationKind: "DEFINITIVE", reasons: ["NEGATIVE_INSPECTION", "NEGATIVE_INSPECTION"] },
      { admissions: [a], refusals: [] },
      now,
    );
    expect(d.refusal.reasons).toEqual(["NEGATIVE_INSPECTION"]);
  });

  it("ch. 2.1: with the Wet Bibob an admission granted earlier is revoked, with every other established ground as well", () => {
    const w = new World(admitted());
    w.housing({}, "2026-04-10T12:00:00Z");
    const d = w.apply(
      revokeAtDesk(
        {
          subjectKvk: KVK,
          reason: "BIBOB",
          reference: "BIBOB-2026-3",
          summary: "Bibob advice: serious risk",
        },
        w,
        at("2026-05-01T09:00:00Z"),
      ),
    );
    expect(revoked(d)).toEqual({ reasons: ["NORMENKADER", "BIBOB"], register: "NOT_ADMITTED" });
    expect(() =>
      revokeAtDesk(
        { subjectKvk: KVK, reason: "BIBOB", reference: "x", summary: "x" },
        w,
        at("2026-05-02T09:00:00Z"),
      ),
    ).toThrow(/no admission in force/);
  });
});

describe("what the handlers need from a delivery", () => {
  it("ch. 2.1: a report without reportId, outcome or a finding's severity cannot be used (poison)", () => {
    const good = {
      subjectKvk: KVK,
      reportId: "SNA-1",
      inspectionDate: "2026-06-18",
      outcome: "NON_COMPLIANT" as const,
      findings: [{ normArea: "WAGES" as const, severity: "MINOR" as const, description: "x" }],
    };
    expect(parseReport(good)).toMatchObject({ severities: ["MINOR"] });
    expect(parseReport({ ...good, reportId: undefined })).toBe("reportId missing");
    expect(parseReport({ ...good, outcome: undefined })).toBe("outcome missing");
    expect(parseReport({ ...good, inspectionDate: "2026-02-30" })).toMatch(/inspectionDate/);
    expect(parseReport({ ...good, findings: [{ normArea: "WAGES" }] })).toMatch(/severity/);
    expect(parseReport({ ...good, subjectKvk: "123" })).toMatch(/KvK/);
  });

  it("ch. 2.1: a tax signal needs its reference and at least one kind", () => {
    const now = at("2026-05-04T08:00:00Z");
    const good = {
      subjectKvk: KVK,
      signalReference: "BD-1",
      kinds: ["G_REKENING_DRAWN" as const],
      eventTime: "2026-05-03T23:30:00Z",
    };
    expect(parseArrears(good, now)).toMatchObject({ signalledOn: "2026-05-04", periodStart: null });
    expect(parseArrears({ ...good, kinds: [] }, now)).toMatch(/kinds/);
    expect(parseArrears({ ...good, signalReference: undefined }, now)).toMatch(/signalReference/);
  });

  it("ch. 4: a housing violation needs the municipality, the day and what was found (the view has no address)", () => {
    const good = {
      subjectKvk: KVK,
      inspectionDate: "2026-04-09",
      eventTime: "2026-04-10T12:00:00.000Z",
      dwelling: { municipalityCode: "GM0606", occupants: 11, qualityMark: "NONE" as const },
      violations: ["OVERCROWDING" as const],
    };
    expect(parseHousing(good)).toEqual({
      subjectKvk: KVK,
      inspectionDate: "2026-04-09",
      municipalityCode: "GM0606",
      violations: ["OVERCROWDING"],
      eventTime: "2026-04-10T12:00:00.000Z",
    });
    expect(parseHousing({ ...good, dwelling: {} })).toMatch(/municipalityCode/);
    expect(parseHousing({ ...good, violations: [] })).toMatch(/violations/);
  });
});
