import { describe, expect, it } from "vitest";
import {
  addDays,
  amuDecision,
  configFromEnv,
  DEFAULT_CONFIG,
  dueRevocations,
  dutchDate,
  endHiring,
  onAccidentReported,
  onAdmissionGranted,
  onAdmissionRevoked,
  onReturnVerified,
  onSignal,
  overdueChecks,
  parseAccidentReport,
  parseAdmissionGranted,
  parseAdmissionRevoked,
  parseAmuCase,
  parseInspectionReport,
  parseReturnVerified,
  parseSignal,
  parseViolation,
  type AccidentCase,
  type AccidentReport,
  type AccidentState,
  type AdmissionRow,
  type HiringPair,
  type PendingVerification,
  type Received,
  type SignalRow,
} from "./rules";
import type { AccidentReported, ReturnVerified } from "@grondslag/schemas";

const UITLENER = "90000002";
const INLENER = "90000101";
const BSN = "111222333";
const config = DEFAULT_CONFIG;

const delivered = (over: Partial<Received<AccidentReported>> = {}): Received<AccidentReported> => ({
  eventTime: "2026-03-02T09:00:00.000Z",
  subjectKvk: INLENER,
  reportReference: "INL-2026-001",
  accidentTime: "2026-03-02T07:30:00.000Z",
  severity: "SERIOUS",
  inlener: { kvk: INLENER, name: "Kassenbedrijf De Voorbeeldhof B.V." },
  location: { municipalityCode: "GM1507" },
  victim: { bsn: BSN, agencyWorker: true },
  ...over,
});

function report(over: Partial<Received<AccidentReported>> = {}): AccidentReport {
  const p = parseAccidentReport(delivered(over));
  if (!p.ok) throw new Error(p.reason);
  return p.value;
}

const empty: AccidentState = {
  existingCase: null,
  reportSeen: false,
  admission: null,
  pendingVerifications: [],
};
const now = new Date("2026-03-02T10:00:00.000Z");

function openCase(over: Partial<AccidentCase> = {}): AccidentCase {
  const d = onAccidentReported({
    report: report({ subjectKvk: UITLENER, reportReference: "UIT-1" }),
    producer: "uitlener.90000002",
    newCaseRef: "NLA-OV-1",
    now,
    state: empty,
    config,
  });
  return { ...d.upsertCase!, ...over };
}

const pair = (over: Partial<HiringPair> = {}): HiringPair => ({
  inlenerKvk: INLENER,
  uitlenerKvk: UITLENER,
  firstSeen: "2026-03-02T10:00:00.000Z",
  lastSeen: "2026-03-02T10:00:00.000Z",
  endedOn: null,
  ...over,
});

const revocation = (over: Partial<AdmissionRow> = {}): AdmissionRow => ({
  uitlenerKvk: UITLENER,
  status: "REVOKED",
  admissionNumber: "WTTA-2026-0002",
  decidedAt: "2026-04-01T08:00:00.000Z",
  effectiveDate: "2026-04-01",
  decisionReference: "SZW-INTR-7",
  actedAt: null,
  ...over,
});

describe("nla: accident reports and the return check", () => {
  it("ch. 2.3: a SERIOUS report opens a case with a return-check deadline of the configured days after the accident", () => {
    const d = onAccidentReported({
      report: report(),
      producer: "inlener.90000101",
      newCaseRef: "NLA-OV-1",
      now,
      state: empty,
      config,
    });
    expect(d.duplicate).toBe(false);
    expect(d.joinedExisting).toBe(false);
    expect(d.upsertCase).toMatchObject({
      caseRef: "NLA-OV-1",
      inlenerKvk: INLENER,
      severity: "SERIOUS",
      checkDeadline: "2026-03-16",
      checkStatus: "OPEN",
    });
    expect(d.report).toMatchObject({ producer: "inlener.90000101", reportReference: "INL-2026-001" });
  });

  it("ch. 2.3: the inlener's own report of a lent worker names no uitlener; the uitlener's report of the same accident joins the case and adds it", () => {
    // The inlener reports with its own KvK as subject (Arbowet); the uitlener reports with its own.
    const first = onAccidentReported({
      report: report(),
      producer: "inlener.90000101",
      newCaseRef: "NLA-OV-1",
      now,
      state: empty,
      config,
    });
    expect(first.upsertCase?.uitlenerKvk).toBeNull();
    expect(first.pair).toBeNull();
    const second = onAccidentReported({
      report: report({ subjectKvk: UITLENER, reportReference: "UIT-77" }),
      producer: "uitlener.90000002",
      newCaseRef: "NLA-OV-2",
      now,
      state: { ...empty, existingCase: first.upsertCase },
      config,
    });
    expect(second.joinedExisting).toBe(true);
    expect(second.upsertCase?.caseRef).toBe("NLA-OV-1");
    expect(second.upsertCase?.uitlenerKvk).toBe(UITLENER);
    expect(second.report?.caseRef).toBe("NLA-OV-1");
    expect(second.pair).toMatchObject({ inlenerKvk: INLENER, uitlenerKvk: UITLENER });
  });

  it("ch. 2.3: a report of another accident time is another accident, not the same case", () => {
    const first = openCase();
    const d = onAccidentReported({
      report: report({ accidentTime: "2026-03-02T07:31:00.000Z", reportReference: "INL-2" }),
      producer: "inlener.90000101",
      newCaseRef: "NLA-OV-2",
      now,
      state: { ...empty, existingCase: first },
      config,
    });
    expect(d.joinedExisting).toBe(false);
    expect(d.upsertCase?.caseRef).toBe("NLA-OV-2");
  });

  it("ch. 2.3: the same report again (same reporter, same reference) changes nothing", () => {
    const d = onAccidentReported({
      report: report(),
      producer: "inlener.90000101",
      newCaseRef: "NLA-OV-9",
      now,
      state: { ...empty, reportSeen: true },
      config,
    });
    expect(d.duplicate).toBe(true);
    expect(d.upsertCase).toBeNull();
    expect(d.report).toBeNull();
  });

  it("ch. 2.3: a FATAL report of an accident first reported as SERIOUS makes the case FATAL", () => {
    const d = onAccidentReported({
      report: report({ severity: "FATAL", reportReference: "UIT-2", subjectKvk: UITLENER }),
      producer: "uitlener.90000002",
      newCaseRef: "x",
      now,
      state: { ...empty, existingCase: openCase() },
      config,
    });
    expect(d.upsertCase?.severity).toBe("FATAL");
  });

  it("ch. 2.3: the deadline counts Dutch calendar days: an accident at 23:30 UTC on 31 March is on 1 April in the Netherlands", () => {
    expect(dutchDate(new Date("2026-03-31T23:30:00.000Z"))).toBe("2026-04-01");
    const d = onAccidentReported({
      report: report({ accidentTime: "2026-03-31T23:30:00.000Z" }),
      producer: "inlener.90000101",
      newCaseRef: "c",
      now,
      state: empty,
      config: { ...config, returnCheckDays: 10 },
    });
    expect(d.upsertCase?.checkDeadline).toBe("2026-04-11");
  });

  it("ch. 2.3: a report without a valid victim BSN, inlener KvK or severity is refused, and the reason holds no BSN", () => {
    const bad = parseAccidentReport(delivered({ victim: { bsn: "123456789" } }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.reason).toMatch(/elfproef/);
      expect(bad.reason).not.toMatch(/123456789/);
    }
    expect(parseAccidentReport(delivered({ inlener: { name: "x" } })).ok).toBe(false);
    expect(parseAccidentReport(delivered({ severity: undefined })).ok).toBe(false);
    expect(parseAccidentReport(delivered({ location: { municipalityCode: "0606" } })).ok).toBe(false);
  });

  it("aanbeveling 2.1.G: a check verified on the deadline day closes the return check on time", () => {
    const c = openCase();
    const v = verification({ verifiedOn: c.checkDeadline, workResumed: true });
    const d = onReturnVerified({ verification: v, theCase: c, now });
    expect(d.updatedCase).toMatchObject({
      checkStatus: "VERIFIED",
      verifiedOn: "2026-03-16",
      workResumed: true,
    });
    expect(d.flags).toEqual([]);
    expect(d.pair).toMatchObject({ inlenerKvk: INLENER, uitlenerKvk: UITLENER });
  });

  it("aanbeveling 2.1.G: work resumed with a verification the day after the deadline is flagged as resumed before verification", () => {
    const c = openCase();
    const d = onReturnVerified({
      verification: verification({ verifiedOn: addDays(c.checkDeadline, 1), workResumed: true }),
      theCase: c,
      now,
    });
    expect(d.updatedCase?.checkStatus).toBe("VERIFIED_LATE");
    expect(d.flags).toEqual([
      { caseRef: c.caseRef, kind: "WORK_RESUMED_BEFORE_VERIFICATION", flaggedAt: now.toISOString() },
    ]);
  });

  it("aanbeveling 2.1.G: a late verification without resumed work is late but not flagged", () => {
    const c = openCase();
    const d = onReturnVerified({
      verification: verification({ verifiedOn: addDays(c.checkDeadline, 5), workResumed: false }),
      theCase: c,
      now,
    });
    expect(d.updatedCase?.checkStatus).toBe("VERIFIED_LATE");
    expect(d.flags).toEqual([]);
    expect(d.pair).toBeNull();
  });

  it("aanbeveling 2.1.G: a second check for a verified case changes nothing", () => {
    const c = openCase({ checkStatus: "VERIFIED", verifiedOn: "2026-03-05" });
    const d = onReturnVerified({ verification: verification(), theCase: c, now });
    expect(d.duplicate).toBe(true);
    expect(d.updatedCase).toBeNull();
  });

  it("aanbeveling 2.1.G: a check that arrives before its accident report is kept, and applied when the report opens the case", () => {
    const early = onReturnVerified({
      verification: verification({ verifiedOn: "2026-03-20", workResumed: true }),
      theCase: null,
      now,
    });
    expect(early.pending).toMatchObject({ workerBsn: BSN, receivedAt: now.toISOString() });
    const d = onAccidentReported({
      report: report({ subjectKvk: UITLENER, reportReference: "UIT-1" }),
      producer: "uitlener.90000002",
      newCaseRef: "NLA-OV-5",
      now,
      state: { ...empty, pendingVerifications: [early.pending!] },
      config,
    });
    expect(d.upsertCase).toMatchObject({ checkStatus: "VERIFIED_LATE", verifiedOn: "2026-03-20" });
    expect(d.flags.map((f) => f.kind)).toEqual(["WORK_RESUMED_BEFORE_VERIFICATION"]);
    expect(d.appliedVerifications).toHaveLength(1);
  });

  it("aanbeveling 2.1.G: a verification without workResumed or with a malformed date is refused", () => {
    expect(parseReturnVerified({ ...received(), workResumed: undefined }).ok).toBe(false);
    expect(parseReturnVerified({ ...received(), verifiedOn: "16-03-2026" }).ok).toBe(false);
    expect(parseReturnVerified({ ...received(), inlenerKvk: "123" }).ok).toBe(false);
    expect(parseReturnVerified(received()).ok).toBe(true);
  });

  it("ch. 2.3: the sweep flags an open check past its deadline while the inlener still hires from the uitlener, once", () => {
    const c = openCase();
    const onDeadline = overdueChecks({
      cases: [c],
      pairs: [pair()],
      now: new Date("2026-03-16T20:00:00.000Z"),
    });
    expect(onDeadline.flags).toEqual([]); // 16 March is still on time (21:00 in the Netherlands)
    const after = new Date("2026-03-17T08:00:00.000Z");
    const d = overdueChecks({ cases: [c], pairs: [pair()], now: after });
    expect(d.overdue.map((x) => x.checkStatus)).toEqual(["OVERDUE"]);
    expect(d.flags).toEqual([
      { caseRef: c.caseRef, kind: "DEADLINE_PASSED_WHILE_HIRING", flaggedAt: after.toISOString() },
    ]);
    expect(overdueChecks({ cases: d.overdue, pairs: [pair()], now: after }).flags).toEqual([]);
  });

  it("ch. 2.3: no flag when the inlener no longer hires from the uitlener, or the victim was not lent", () => {
    const after = new Date("2026-04-01T08:00:00.000Z");
    expect(
      overdueChecks({ cases: [openCase()], pairs: [pair({ endedOn: "2026-03-10" })], now: after }).flags,
    ).toEqual([]);
    expect(
      overdueChecks({ cases: [openCase({ uitlenerKvk: null })], pairs: [pair()], now: after }).flags,
    ).toEqual([]);
  });

  it("ch. 2.3: a verification after an OVERDUE flag still closes the check, late", () => {
    const c = openCase({ checkStatus: "OVERDUE" });
    const d = onReturnVerified({ verification: verification({ verifiedOn: "2026-03-25" }), theCase: c, now });
    expect(d.updatedCase?.checkStatus).toBe("VERIFIED_LATE");
  });

  it("configuration: NLA_RETURN_CHECK_DAYS sets the period; a non-number is refused with the fix", () => {
    expect(configFromEnv({})).toEqual(DEFAULT_CONFIG);
    expect(configFromEnv({ NLA_RETURN_CHECK_DAYS: "7", NLA_AMU_WINDOW_DAYS: "90" })).toEqual({
      returnCheckDays: 7,
      amuWindowDays: 90,
    });
    expect(() => configFromEnv({ NLA_RETURN_CHECK_DAYS: "two weeks" })).toThrow(/whole number of days/);
    expect(() => configFromEnv({ NLA_RETURN_CHECK_DAYS: "0" })).toThrow(/fix the environment/);
  });
});

function received(): Received<ReturnVerified> {
  return {
    eventTime: "2026-03-10T09:00:00.000Z",
    subjectKvk: UITLENER,
    accidentReportReference: "UIT-1",
    inlenerKvk: INLENER,
    workerBsn: BSN,
    verifiedOn: "2026-03-10",
    measures: ["EQUIPMENT_SAFEGUARDED"],
    measuresDescription: "Machine afgeschermd",
    workResumed: true,
  };
}

function verification(over: Partial<PendingVerification> = {}): PendingVerification {
  const p = parseReturnVerified(received());
  if (!p.ok) throw new Error(p.reason);
  return { ...p.value, ...over };
}

describe("nla: inleners of a non-admitted uitlener", () => {
  it("ch. 2.1: after a revocation takes effect every inlener still hiring from the uitlener gets an enforcement action, and one UNADMITTED_LENDING signal without persons is raised", () => {
    const other = pair({ inlenerKvk: "90000102" });
    const d = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      pairs: [pair(), other, pair({ inlenerKvk: "90000103", endedOn: "2026-03-20" })],
      now: new Date("2026-04-01T09:00:00.000Z"),
    });
    expect(d.enforcement.map((e) => [e.inlenerKvk, e.cause, e.action])).toEqual([
      ["90000101", "HIRING_AFTER_REVOCATION", "BESTUURLIJKE_BOETE_ONDERZOEK"],
      ["90000102", "HIRING_AFTER_REVOCATION", "BESTUURLIJKE_BOETE_ONDERZOEK"],
    ]);
    expect(d.admission?.actedAt).not.toBeNull();
    expect(d.publish).toHaveLength(1);
    const sig = d.publish[0]!;
    expect(sig.topic).toBe("lsi.signal-raised");
    expect(sig.value).toMatchObject({
      subjectKvk: UITLENER,
      kind: "UNADMITTED_LENDING",
      persons: [],
      municipalityCode: null,
      signalReference: "NLA-TOEL-SZW-INTR-7",
    });
    expect(d.signals).toEqual([expect.objectContaining({ producer: "nla", subjectKvk: UITLENER })]);
  });

  it("ch. 2.1: a revocation taking effect later is kept; the sweep acts on it on its effective date, not the day before", () => {
    const rev = revocation({ effectiveDate: "2026-04-15" });
    const d = onAdmissionRevoked({
      revocation: rev,
      current: null,
      pairs: [pair()],
      now: new Date("2026-04-01T09:00:00Z"),
    });
    expect(d.admission).toMatchObject({ status: "REVOKED", actedAt: null });
    expect(d.enforcement).toEqual([]);
    expect(d.publish).toEqual([]);
    expect(
      dueRevocations({ admissions: [d.admission!], pairs: [pair()], now: new Date("2026-04-14T12:00:00Z") }),
    ).toEqual([]);
    const due = dueRevocations({
      admissions: [d.admission!],
      pairs: [pair()],
      now: new Date("2026-04-15T06:00:00Z"),
    });
    expect(due).toHaveLength(1);
    expect(due[0]!.enforcement.map((e) => e.inlenerKvk)).toEqual([INLENER]);
  });

  it("ch. 2.1: the same revocation again, once acted on, changes nothing", () => {
    const d = onAdmissionRevoked({
      revocation: revocation(),
      current: revocation({ actedAt: "2026-04-01T09:00:00.000Z" }),
      pairs: [pair()],
      now: new Date("2026-04-02T09:00:00Z"),
    });
    expect(d).toEqual({ admission: null, enforcement: [], signals: [], publish: [] });
  });

  it("ch. 2.1: a revocation of an uitlener no inlener is known to hire from raises no signal", () => {
    const d = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      pairs: [],
      now: new Date("2026-04-01T09:00:00Z"),
    });
    expect(d.admission?.actedAt).not.toBeNull();
    expect(d.enforcement).toEqual([]);
    expect(d.publish).toEqual([]);
  });

  it("ch. 2.1: an accident at an inlener after the uitlener's revocation took effect is an enforcement action for that inlener", () => {
    const d = onAccidentReported({
      report: report({
        subjectKvk: UITLENER,
        reportReference: "UIT-9",
        accidentTime: "2026-04-03T08:00:00.000Z",
      }),
      producer: "uitlener.90000002",
      newCaseRef: "c",
      now,
      state: { ...empty, admission: revocation({ actedAt: "2026-04-01T09:00:00Z" }) },
      config,
    });
    expect(d.enforcement).toEqual([
      expect.objectContaining({ inlenerKvk: INLENER, cause: "ACCIDENT_AFTER_REVOCATION" }),
    ]);
    const before = onAccidentReported({
      report: report({
        subjectKvk: UITLENER,
        reportReference: "UIT-8",
        accidentTime: "2026-03-31T08:00:00.000Z",
      }),
      producer: "uitlener.90000002",
      newCaseRef: "c",
      now,
      state: { ...empty, admission: revocation() },
      config,
    });
    expect(before.enforcement).toEqual([]);
  });

  it("ch. 2.1: a grant older than the revocation on record does not undo it; a newer grant does", () => {
    const g = parseAdmissionGranted({
      eventTime: "2026-01-05T08:00:00.000Z",
      subjectKvk: UITLENER,
      admissionNumber: "WTTA-2026-0002",
    });
    if (!g.ok) throw new Error(g.reason);
    expect(onAdmissionGranted(g.value, revocation())).toBeNull();
    expect(
      onAdmissionGranted({ ...g.value, decidedAt: "2026-06-01T00:00:00.000Z" }, revocation()),
    ).toMatchObject({
      status: "ADMITTED",
    });
  });

  it("ch. 2.1: a revocation without effective date or decision reference is refused", () => {
    expect(
      parseAdmissionRevoked({ subjectKvk: UITLENER, decisionReference: "x", eventTime: now.toISOString() })
        .ok,
    ).toBe(false);
    expect(
      parseAdmissionRevoked({
        subjectKvk: UITLENER,
        effectiveDate: "2026-04-01",
        eventTime: now.toISOString(),
      }).ok,
    ).toBe(false);
    expect(
      parseAdmissionRevoked({
        subjectKvk: UITLENER,
        effectiveDate: "2026-04-01",
        decisionReference: "x",
        eventTime: now.toISOString(),
      }).ok,
    ).toBe(true);
  });

  it("ch. 2.1: end-hiring needs a pair on record and a day not before it was first seen", () => {
    expect(endHiring(null, "2026-04-01").ok).toBe(false);
    expect(endHiring(pair(), "2026-01-01").ok).toBe(false);
    const ok = endHiring(pair(), "2026-03-20");
    expect(ok.ok && ok.value.endedOn).toBe("2026-03-20");
  });
});

const sig = (producer: string, over: Partial<SignalRow> = {}): SignalRow => ({
  producer,
  signalReference: `${producer}-1`,
  subjectKvk: UITLENER,
  kind: "UNADMITTED_LENDING",
  municipalityCode: null,
  raisedAt: "2026-04-01T09:00:00.000Z",
  ...over,
});

describe("nla: LSI signals and the joint AMU case", () => {
  const at = new Date("2026-04-02T09:00:00.000Z");

  it("ch. 6: signals of two distinct partners about one KvK open one joint AMU case, partners and concerns from the signals", () => {
    const d = onSignal({
      signal: sig("belastingdienst", { kind: "G_ACCOUNT_DEFAULT" }),
      alreadyRecorded: false,
      signalsAboutKvk: [sig("nla")],
      existingAmuCase: null,
      now: at,
      config,
    });
    expect(d.record?.producer).toBe("belastingdienst");
    expect(d.publish).toHaveLength(1);
    expect(d.publish[0]).toMatchObject({
      topic: "amu.case-opened",
      value: {
        subjectKvk: UITLENER,
        caseReference: "AMU-NLA-90000002-20260402",
        partners: ["NLA", "BELASTINGDIENST"],
        concerns: ["LABOUR_LAW", "TAX_EVASION"],
      },
    });
  });

  it("ch. 6: two signals of the same partner are one partner: no case", () => {
    const d = amuDecision({
      subjectKvk: UITLENER,
      signals: [sig("nla"), sig("nla", { signalReference: "nla-2" })],
      existingCase: null,
      now: at,
      config,
    });
    expect(d.amuCase).toBeNull();
  });

  it("ch. 6: a municipality's signal is recorded but is no AMU partner", () => {
    const d = onSignal({
      signal: sig("gemeente.schiedam", { kind: "HOUSING_ABUSE", municipalityCode: "GM0606" }),
      alreadyRecorded: false,
      signalsAboutKvk: [sig("nla")],
      existingAmuCase: null,
      now: at,
      config,
    });
    expect(d.record).not.toBeNull();
    expect(d.publish).toEqual([]);
  });

  it("ch. 6: a signal older than the window does not count; one on the window's first day does", () => {
    const old = sig("uwv", { raisedAt: new Date(at.getTime() - 181 * 86_400_000).toISOString() });
    expect(
      amuDecision({ subjectKvk: UITLENER, signals: [sig("nla"), old], existingCase: null, now: at, config })
        .amuCase,
    ).toBeNull();
    const edge = sig("uwv", { raisedAt: new Date(at.getTime() - 180 * 86_400_000).toISOString() });
    expect(
      amuDecision({ subjectKvk: UITLENER, signals: [sig("nla"), edge], existingCase: null, now: at, config })
        .amuCase,
    ).not.toBeNull();
  });

  it("ch. 6: once a case is on record for the KvK (nla's or a partner's) no second one is opened", () => {
    const d = amuDecision({
      subjectKvk: UITLENER,
      signals: [sig("nla"), sig("svb", { kind: "SHAM_POSTING" }), sig("uwv")],
      existingCase: {
        subjectKvk: UITLENER,
        caseReference: "AMU-BD-1",
        openedBy: "belastingdienst",
        partners: ["BELASTINGDIENST", "NLA"],
        concerns: ["TAX_EVASION"],
        openedAt: at.toISOString(),
      },
      now: at,
      config,
    });
    expect(d.publish).toEqual([]);
  });

  it("ch. 6: signals about another KvK do not count; only OTHER kinds give the concern LABOUR_LAW", () => {
    expect(
      amuDecision({
        subjectKvk: UITLENER,
        signals: [sig("nla"), sig("uwv", { subjectKvk: "90000001" })],
        existingCase: null,
        now: at,
        config,
      }).amuCase,
    ).toBeNull();
    const d = amuDecision({
      subjectKvk: UITLENER,
      signals: [sig("uwv", { kind: "OTHER" }), sig("svb", { kind: "OTHER" })],
      existingCase: null,
      now: at,
      config,
    });
    expect(d.amuCase).toMatchObject({ partners: ["UWV", "SVB"], concerns: ["LABOUR_LAW"] });
  });

  it("ch. 6.1: the same signal delivered again is recorded once and opens nothing", () => {
    const d = onSignal({
      signal: sig("uwv"),
      alreadyRecorded: true,
      signalsAboutKvk: [sig("nla")],
      existingAmuCase: null,
      now: at,
      config,
    });
    expect(d).toEqual({ record: null, amuCase: null, publish: [] });
  });

  it("ch. 6.1: a signal without a KvK or kind is refused", () => {
    expect(parseSignal({ signalReference: "x", kind: "OTHER", eventTime: at.toISOString() }, "uwv").ok).toBe(
      false,
    );
    expect(
      parseSignal({ subjectKvk: UITLENER, signalReference: "x", eventTime: at.toISOString() }, "uwv").ok,
    ).toBe(false);
    expect(
      parseSignal(
        {
          subjectKvk: UITLENER,
          signalReference: "x",
          kind: "OTHER",
          eventTime: at.toISOString(),
          municipalityCode: "X",
        },
        "uwv",
      ).ok,
    ).toBe(false);
  });

  it("ch. 6: a partner's AMU case is recorded with its partners", () => {
    const p = parseAmuCase(
      {
        subjectKvk: UITLENER,
        caseReference: "AMU-BD-1",
        eventTime: at.toISOString(),
        partners: ["BELASTINGDIENST", "NLA"],
      },
      "belastingdienst",
    );
    expect(p.ok && p.value).toMatchObject({
      openedBy: "belastingdienst",
      partners: ["BELASTINGDIENST", "NLA"],
    });
  });

  it("ch. 6.1: housing violations and inspection reports are recorded; one without its reference is refused", () => {
    const v = parseViolation(
      {
        subjectKvk: UITLENER,
        caseReference: "GM0606-2026-12",
        inspectionDate: "2026-03-20",
        dwelling: { municipalityCode: "GM0606", occupants: 14 },
        violations: ["OVERCROWDING"],
      },
      "gemeente.schiedam",
      at,
    );
    expect(v.ok && v.value).toMatchObject({ municipalityCode: "GM0606", violations: ["OVERCROWDING"] });
    expect(
      parseViolation({ subjectKvk: UITLENER, inspectionDate: "2026-03-20" }, "gemeente.schiedam", at).ok,
    ).toBe(false);
    const r = parseInspectionReport(
      {
        subjectKvk: UITLENER,
        reportId: "SNA-1",
        inspectionDate: "2026-03-25",
        outcome: "NON_COMPLIANT",
        findings: [
          { normArea: "WAGES", severity: "MAJOR", description: "x" },
          { normArea: "OTHER", severity: "MINOR" },
        ],
      },
      "inspectie.sna",
      at,
    );
    expect(r.ok && r.value.majorFindings).toBe(1);
    expect(
      parseInspectionReport(
        { subjectKvk: UITLENER, inspectionDate: "2026-03-25", outcome: "COMPLIANT" },
        "inspectie.sna",
        at,
      ).ok,
    ).toBe(false);
  });
});
