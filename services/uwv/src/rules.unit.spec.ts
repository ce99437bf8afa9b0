import type { AccidentReported } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import {
  addMonths,
  onAccidentReported,
  onAdmissionGranted,
  onAdmissionRevoked,
  onPayrollRecorded,
  parseAccidentReport,
  parseAdmissionGranted,
  parseAdmissionRevoked,
  parseAmuCase,
  parsePayroll,
  type AccidentReport,
  type AdmissionRow,
  type PayrollInput,
  type PayrollRecord,
  type Received,
} from "./rules";

const UITLENER = "90000002";
const INLENER = "90000101";
const BSN_A = "111222333";
const BSN_B = "123456782";
const BSN_C = "100000009";
const now = new Date("2026-04-01T09:00:00.000Z");

const view = (over: Partial<Received<AccidentReported>> = {}): Received<AccidentReported> => ({
  eventTime: "2026-03-02T09:00:00.000Z",
  subjectKvk: INLENER,
  reportReference: "INL-1",
  accidentTime: "2026-03-02T07:30:00.000Z",
  inlener: { kvk: INLENER, name: "Kassenbedrijf De Voorbeeldhof B.V." },
  location: { municipalityCode: "GM1507" },
  victim: { bsn: BSN_A, agencyWorker: true },
  ...over,
});
function report(
  over: Partial<Received<AccidentReported>> = {},
  producer = "inlener.90000101",
): AccidentReport {
  const p = parseAccidentReport(view(over), producer);
  if (!p.ok) throw new Error(p.reason);
  return p.value;
}

const line = (over: Partial<PayrollInput> = {}): PayrollInput => ({
  uitlenerKvk: UITLENER,
  workerBsn: BSN_A,
  registration: "NON_RESIDENT",
  brpAddressKnown: true,
  stayMunicipalityCode: "GM1507",
  stayMunicipalityName: "Horst aan de Maas",
  employedSince: "2026-02-01",
  periodStart: "2026-03-01",
  periodEnd: "2026-03-31",
  ...over,
});
function record(over: Partial<PayrollInput> = {}): PayrollRecord {
  const p = parsePayroll(line(over), now);
  if (!p.ok) throw new Error(p.reason);
  return p.value;
}
const revocation = (over: Partial<AdmissionRow> = {}): AdmissionRow => ({
  uitlenerKvk: UITLENER,
  status: "REVOKED",
  decidedAt: "2026-04-01T08:00:00.000Z",
  effectiveDate: "2026-04-01",
  decisionReference: "SZW-INTR-7",
  reviewedAt: null,
  ...over,
});

describe("uwv: accidents (who, where, when)", () => {
  it("ch. 2.3: an accident of a lent worker is recorded with an expected Ziektewet claim", () => {
    const d = onAccidentReported({ report: report(), existing: null, reportSeen: false, now });
    expect(d.accident).toMatchObject({
      inlenerKvk: INLENER,
      agencyWorker: true,
      expectedBenefit: "ZIEKTEWET",
    });
    expect(d.accident?.uitlenerKvk).toBeNull(); // the inlener reports with its own KvK
    expect(d.report).toEqual({ producer: "inlener.90000101", reportReference: "INL-1" });
  });

  it("ch. 2.3: the uitlener's report of the same accident joins the record and names the uitlener", () => {
    const first = onAccidentReported({ report: report(), existing: null, reportSeen: false, now }).accident!;
    const d = onAccidentReported({
      report: report({ subjectKvk: UITLENER, reportReference: "UIT-1" }, "uitlener.90000002"),
      existing: first,
      reportSeen: false,
      now,
    });
    expect(d.joinedExisting).toBe(true);
    expect(d.accident?.uitlenerKvk).toBe(UITLENER);
  });

  it("ch. 2.3: the inlener's own employee's accident expects no UWV claim yet; the same report twice is recorded once", () => {
    const own = onAccidentReported({
      report: report({ victim: { bsn: BSN_A, agencyWorker: false } }),
      existing: null,
      reportSeen: false,
      now,
    });
    expect(own.accident?.expectedBenefit).toBe("NONE_EXPECTED_YET");
    expect(onAccidentReported({ report: report(), existing: null, reportSeen: true, now })).toEqual({
      accident: null,
      report: null,
      joinedExisting: false,
    });
  });

  it("ch. 2.3: a report without a valid victim BSN is refused, and the reason holds no BSN", () => {
    const p = parseAccidentReport(view({ victim: { bsn: "123456789" } }), "inlener.90000101");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).not.toContain("123456789");
    expect(parseAccidentReport(view({ accidentTime: "yesterday" }), "inlener.90000101").ok).toBe(false);
  });
});

describe("uwv: the polisadministratie and the feedbackcyclus loonaangifteketen", () => {
  it("ch. 3: a payroll line with a wrong BSN, gemeentecode or period is refused without echoing the BSN", () => {
    const bad = parsePayroll(line({ workerBsn: "123456789" }), now);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).not.toContain("123456789");
    expect(parsePayroll(line({ stayMunicipalityCode: "1507" }), now).ok).toBe(false);
    expect(parsePayroll(line({ periodStart: "2026-04-01" }), now).ok).toBe(false);
    expect(parsePayroll(line({ employedSince: "2026-04-01" }), now).ok).toBe(false);
  });

  it("ch. 3: an older declaration does not move the worker's last payroll period back", () => {
    const existing = record();
    const d = onPayrollRecorded({
      record: record({ periodStart: "2026-02-01", periodEnd: "2026-02-28" }),
      existing,
      admission: null,
      signalRaised: false,
      now,
    });
    expect(d.record.lastPeriodEnd).toBe("2026-03-31");
  });

  it("aanbeveling 3.1.F: after a revocation a BSN in the latest declaration without a BRP address is a NO_ADDRESS gap for its municipality", () => {
    const d = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      payroll: [
        record({
          workerBsn: BSN_B,
          brpAddressKnown: false,
          registration: "RESIDENT",
          stayMunicipalityCode: "GM0606",
          stayMunicipalityName: "Schiedam",
        }),
      ],
      signalRaised: false,
      now,
    });
    expect(d.findings.map((f) => [f.kind, f.municipalityCode])).toEqual([["NO_ADDRESS", "GM0606"]]);
    expect(d.publish).toEqual([
      {
        topic: "loonaangifte.registration-gap",
        value: {
          eventTime: now.toISOString(),
          subjectKvk: UITLENER,
          gapKind: "NO_ADDRESS",
          worker: { bsn: BSN_B, registration: "RESIDENT", employedSince: "2026-02-01" },
          municipality: { code: "GM0606", name: "Schiedam" },
          payrollPeriod: { start: "2026-03-01", end: "2026-03-31" },
        },
      },
    ]);
    expect(d.admission?.reviewedAt).toBe(now.toISOString());
  });

  it("aanbeveling 3.1.F: a non-resident with a stay address who is not in the uitlener's latest declaration any more is a payroll departure", () => {
    const d = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      payroll: [
        record({ workerBsn: BSN_A }),
        record({
          workerBsn: BSN_C,
          periodStart: "2026-01-01",
          periodEnd: "2026-01-31",
          employedSince: "2026-01-01",
        }),
      ],
      signalRaised: false,
      now,
    });
    expect(d.findings.map((f) => [f.kind, f.topic])).toEqual([
      ["PAYROLL_DEPARTURE", "loonaangifte.payroll-departure"],
    ]);
    expect(d.publish).toEqual([
      {
        topic: "loonaangifte.payroll-departure",
        value: {
          eventTime: now.toISOString(),
          subjectKvk: UITLENER,
          person: { bsn: BSN_C },
          stayMunicipalityCode: "GM1507",
          lastPayrollPeriodEnd: "2026-01-31",
        },
      },
    ]);
  });

  it("ch. 3: a non-resident on the payroll for more than four months is NON_RESIDENT_TOO_LONG; exactly four months is not", () => {
    expect(addMonths("2025-10-31", 4)).toBe("2026-02-28");
    const tooLong = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      payroll: [record({ employedSince: "2025-11-30" })],
      signalRaised: false,
      now,
    });
    expect(tooLong.findings.map((f) => f.kind)).toEqual(["NON_RESIDENT_TOO_LONG"]);
    const exactly = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      payroll: [record({ employedSince: "2025-12-01", periodEnd: "2026-04-01", periodStart: "2026-03-01" })],
      signalRaised: false,
      now,
    });
    expect(exactly.findings).toEqual([]);
  });

  it("aanbeveling 3.1.F: a resident with an address, and a departed non-resident without a stay address, are not reported", () => {
    const d = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      payroll: [
        record({ registration: "RESIDENT" }),
        record({
          workerBsn: BSN_C,
          brpAddressKnown: false,
          periodStart: "2026-01-01",
          periodEnd: "2026-01-31",
          employedSince: "2026-01-01",
        }),
      ],
      signalRaised: false,
      now,
    });
    expect(d.findings).toEqual([]);
    expect(d.publish).toEqual([]);
  });

  it("aanbeveling 3.1.F: an uitlener UWV has no payroll of records the revocation and reports nothing; the same decision twice is reviewed once", () => {
    const d = onAdmissionRevoked({
      revocation: revocation(),
      current: null,
      payroll: [],
      signalRaised: false,
      now,
    });
    expect(d.admission).toMatchObject({ status: "REVOKED", reviewedAt: now.toISOString() });
    expect(d.publish).toEqual([]);
    const again = onAdmissionRevoked({
      revocation: revocation(),
      current: d.admission,
      payroll: [record()],
      signalRaised: false,
      now,
    });
    expect(again).toEqual({ admission: null, findings: [], reports: [], signal: null, publish: [] });
  });

  it("ch. 6.1: wages declared for a period past the revocation's effective date raise one UNADMITTED_LENDING signal without persons", () => {
    const rev = revocation({ effectiveDate: "2026-03-15" });
    const d = onAdmissionRevoked({
      revocation: rev,
      current: null,
      payroll: [record()],
      signalRaised: false,
      now,
    });
    const signals = d.publish.filter((p) => p.topic === "lsi.signal-raised");
    expect(signals).toHaveLength(1);
    expect(signals[0]!.value).toMatchObject({
      subjectKvk: UITLENER,
      kind: "UNADMITTED_LENDING",
      persons: [],
      signalReference: "UWV-LA-SZW-INTR-7",
    });
    expect(d.signal?.signalReference).toBe("UWV-LA-SZW-INTR-7");
    // A later payroll line for the same uitlener does not raise a second one.
    const later = onPayrollRecorded({
      record: record({ workerBsn: BSN_B }),
      existing: null,
      admission: d.admission,
      signalRaised: true,
      now,
    });
    expect(later.publish).toEqual([]);
  });

  it("ch. 6.1: a period ending on the effective date raises no signal; a payroll line recorded after the revocation for a later period does", () => {
    const onTheDay = onAdmissionRevoked({
      revocation: revocation({ effectiveDate: "2026-03-31" }),
      current: null,
      payroll: [record()],
      signalRaised: false,
      now,
    });
    expect(onTheDay.signal).toBeNull();
    const d = onPayrollRecorded({
      record: record({ periodStart: "2026-04-01", periodEnd: "2026-04-30" }),
      existing: record(),
      admission: revocation({ effectiveDate: "2026-03-31", reviewedAt: now.toISOString() }),
      signalRaised: false,
      now,
    });
    expect(d.signal).not.toBeNull();
    expect(d.publish.map((p) => p.topic)).toEqual(["lsi.signal-raised"]);
    expect(
      onPayrollRecorded({ record: record(), existing: null, admission: null, signalRaised: false, now })
        .publish,
    ).toEqual([]);
  });

  it("ch. 2.1: a revocation without effective date is refused; a later grant re-admits, an older one does not", () => {
    expect(
      parseAdmissionRevoked({ subjectKvk: UITLENER, decisionReference: "x", eventTime: now.toISOString() })
        .ok,
    ).toBe(false);
    const r = parseAdmissionRevoked({
      subjectKvk: UITLENER,
      decisionReference: "x",
      effectiveDate: "2026-04-01",
      eventTime: now.toISOString(),
    });
    expect(r.ok).toBe(true);
    const g = parseAdmissionGranted({ subjectKvk: UITLENER, eventTime: "2026-01-01T00:00:00.000Z" });
    if (!g.ok) throw new Error(g.reason);
    expect(onAdmissionGranted(g.value, revocation())).toBeNull();
    expect(
      onAdmissionGranted({ ...g.value, decidedAt: "2026-05-01T00:00:00.000Z" }, revocation())?.status,
    ).toBe("ADMITTED");
  });
});

describe("uwv: joint AMU cases", () => {
  it("ch. 6: a case naming UWV among its partners is recorded as UWV's; one without, as not", () => {
    const mine = parseAmuCase(
      {
        subjectKvk: UITLENER,
        caseReference: "AMU-NLA-1",
        eventTime: now.toISOString(),
        partners: ["NLA", "UWV"],
        concerns: ["LABOUR_LAW"],
      },
      "nla",
    );
    expect(mine.ok && mine.value).toMatchObject({ uwvPartner: true, openedBy: "nla" });
    const other = parseAmuCase(
      {
        subjectKvk: UITLENER,
        caseReference: "AMU-2",
        eventTime: now.toISOString(),
        partners: ["NLA", "SVB"],
      },
      "nla",
    );
    expect(other.ok && other.value.uwvPartner).toBe(false);
    expect(parseAmuCase({ subjectKvk: UITLENER, eventTime: now.toISOString() }, "nla").ok).toBe(false);
  });
});
