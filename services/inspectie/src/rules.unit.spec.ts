import { describe, expect, it } from "vitest";
import {
  DeskRefusal,
  fileReport,
  inspectsHousing,
  isInspectionBody,
  onAdmissionGranted,
  outcomeOf,
  overdueInspections,
  parseAdmission,
  recordHousingInspection,
  type FileReportInput,
  type HousingInspectionInput,
  type ScheduledInspection,
  type Uitlener,
} from "./rules";

const KVK = "90000002";
const at = (iso: string) => new Date(iso);

const provisional: Uitlener = {
  subjectKvk: KVK,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "WTTA-2026-000124",
  admissionKind: "PROVISIONAL",
  validFrom: "2026-01-12",
  provisionalUntil: "2026-07-12",
  reliesOnReport: null,
};

const reportInput = (over: Partial<FileReportInput> = {}): FileReportInput => ({
  subjectKvk: KVK,
  reportId: "SNA-2026-0816",
  inspectionDate: "2026-06-18",
  announced: true,
  filesSampled: 25,
  findings: [],
  ...over,
});

const housingInput = (over: Partial<HousingInspectionInput> = {}): HousingInspectionInput => ({
  subjectKvk: KVK,
  subjectRole: "EMPLOYER",
  caseReference: "SNF-2026-0042",
  inspectionDate: "2026-04-09",
  announced: false,
  dwelling: {
    street: "Havenstraat",
    houseNumber: "8A",
    postalCode: "3111AB",
    municipalityCode: "GM0606",
    occupants: 11,
    floorAreaM2: 84.5,
  },
  violations: ["OVERCROWDING"],
  ...over,
});

describe("wtta.admission-granted (ch. 2.1)", () => {
  it("ch. 2.1: the SNA records an admitted uitlener and schedules the follow-up inspection, due before provisionalUntil", () => {
    const d = onAdmissionGranted(provisional, "inspectie.sna", { uitleners: [], inspections: [] });
    expect(d.outcome).toBe("scheduled");
    expect(d.uitlener).toEqual(provisional);
    expect(d.schedule).toEqual({
      inspectionRef: "FOLLOWUP-WTTA-2026-000124",
      subjectKvk: KVK,
      admissionNumber: "WTTA-2026-000124",
      dueBy: "2026-07-11",
      status: "SCHEDULED",
      reportId: null,
    });
  });

  it("ch. 4: SNF and AKF record the admitted uitlener but schedule no normenkader inspection", () => {
    for (const body of ["inspectie.snf", "inspectie.akf"] as const) {
      const d = onAdmissionGranted(provisional, body, { uitleners: [], inspections: [] });
      expect(d).toMatchObject({ outcome: "recorded", schedule: null });
    }
  });

  it("ch. 2.1: the same admission delivered twice schedules once", () => {
    const first = onAdmissionGranted(provisional, "inspectie.sna", { uitleners: [], inspections: [] });
    const again = onAdmissionGranted(provisional, "inspectie.sna", {
      uitleners: [first.uitlener],
      inspections: [first.schedule!],
    });
    expect(again).toMatchObject({ outcome: "duplicate", schedule: null, closes: null });
  });

  it("ch. 2.1: the definitive admission closes a follow-up still open, with the report it relies on", () => {
    const first = onAdmissionGranted(provisional, "inspectie.sna", { uitleners: [], inspections: [] });
    const definitive: Uitlener = {
      ...provisional,
      admissionKind: "DEFINITIVE",
      validFrom: "2026-07-13",
      provisionalUntil: null,
      reliesOnReport: "SNF-2026-0100",
    };
    const d = onAdmissionGranted(definitive, "inspectie.sna", {
      uitleners: [first.uitlener],
      inspections: [first.schedule!],
    });
    expect(d).toMatchObject({ outcome: "recorded", schedule: null });
    expect(d.closes).toMatchObject({ status: "DONE", reportId: "SNF-2026-0100" });
  });

  it("ch. 2.1: an admission in the feed needs its KvK, number, kind, validFrom and (provisional) provisionalUntil", () => {
    const good = {
      subjectKvk: KVK,
      tradeName: "Tweede Voorbeeld Flexwerk B.V.",
      admissionNumber: "WTTA-2026-000124",
      admissionKind: "PROVISIONAL" as const,
      validFrom: "2026-01-12",
      provisionalUntil: "2026-07-12",
      inspectionReport: null,
    };
    expect(parseAdmission(good)).toEqual(provisional);
    expect(parseAdmission({ ...good, provisionalUntil: null })).toMatch(/provisionalUntil/);
    expect(parseAdmission({ ...good, admissionNumber: undefined })).toMatch(/admissionNumber/);
    expect(parseAdmission({ ...good, subjectKvk: "12" })).toMatch(/KvK/);
    expect(
      parseAdmission({
        ...good,
        admissionKind: "DEFINITIVE",
        provisionalUntil: null,
        inspectionReport: { inspectionBody: "inspectie.sna", reportId: "R9", inspectionDate: "2026-06-01" },
      }),
    ).toMatchObject({ admissionKind: "DEFINITIVE", provisionalUntil: null, reliesOnReport: "R9" });
  });

  it("ch. 2.1: a scheduled inspection is overdue the day after its due day, not on it", () => {
    const s: ScheduledInspection = {
      inspectionRef: "F",
      subjectKvk: KVK,
      admissionNumber: "N",
      dueBy: "2026-07-11",
      status: "SCHEDULED",
      reportId: null,
    };
    expect(overdueInspections([s], "2026-07-11")).toEqual([]);
    expect(overdueInspections([s], "2026-07-12")).toEqual([s]);
    expect(overdueInspections([{ ...s, status: "DONE" }], "2026-08-01")).toEqual([]);
  });
});

describe("file-report (ch. 2.1)", () => {
  it("ch. 2.1: the outcome follows from the findings: any finding is NON_COMPLIANT, none COMPLIANT, unless not assessable", () => {
    const minor = {
      normArea: "HOUSING" as const,
      severity: "MINOR" as const,
      description: "Register incomplete.",
    };
    expect(outcomeOf([], false)).toBe("COMPLIANT");
    expect(outcomeOf([minor], false)).toBe("NON_COMPLIANT");
    expect(outcomeOf([], true)).toBe("NOT_ASSESSABLE");
    expect(outcomeOf([minor], true)).toBe("NOT_ASSESSABLE");
  });

  it("ch. 2.1: filing a report publishes inspectie.report-filed and closes the scheduled inspection", () => {
    const scheduled = onAdmissionGranted(provisional, "inspectie.sna", {
      uitleners: [],
      inspections: [],
    }).schedule!;
    const findings = [
      {
        normArea: "ADMINISTRATION" as const,
        severity: "MINOR" as const,
        description: "Two files lack a copy ID.",
      },
    ];
    const d = fileReport(
      reportInput({ findings }),
      { reports: [], inspections: [scheduled] },
      at("2026-06-20T14:30:00Z"),
    );
    expect(d.publish).toEqual([
      {
        topic: "inspectie.report-filed",
        value: {
          eventTime: "2026-06-20T14:30:00.000Z",
          subjectKvk: KVK,
          reportId: "SNA-2026-0816",
          inspectionDate: "2026-06-18",
          announced: true,
          filesSampled: 25,
          outcome: "NON_COMPLIANT",
          findings,
        },
      },
    ]);
    expect(d.closes).toMatchObject({
      inspectionRef: "FOLLOWUP-WTTA-2026-000124",
      status: "DONE",
      reportId: "SNA-2026-0816",
    });
    expect(d.report).toMatchObject({ outcome: "NON_COMPLIANT", findings: 1 });
  });

  it("ch. 2.1: a report on an applicant that is not admitted yet is filed without closing anything", () => {
    const d = fileReport(
      reportInput({ subjectKvk: "90000003" }),
      { reports: [], inspections: [] },
      at("2026-06-20T14:30:00Z"),
    );
    expect(d.closes).toBeNull();
    expect(d.publish[0]!.value.outcome).toBe("COMPLIANT");
  });

  it("ch. 2.1: a report number used before, an inspection day in the future or a bad KvK is refused", () => {
    const now = at("2026-06-20T14:30:00Z");
    const first = fileReport(reportInput(), { reports: [], inspections: [] }, now);
    expect(() => fileReport(reportInput(), { reports: [first.report], inspections: [] }, now)).toThrow(
      /filed before/,
    );
    // The inspection may be today (Dutch day), not tomorrow.
    expect(
      fileReport(reportInput({ inspectionDate: "2026-06-20" }), { reports: [], inspections: [] }, now).report
        .inspectionDate,
    ).toBe("2026-06-20");
    expect(() =>
      fileReport(reportInput({ inspectionDate: "2026-06-21" }), { reports: [], inspections: [] }, now),
    ).toThrow(/future/);
    expect(() =>
      fileReport(reportInput({ subjectKvk: "9000002X" }), { reports: [], inspections: [] }, now),
    ).toThrow(/KvK/);
    expect(() =>
      fileReport(reportInput({ filesSampled: -1 }), { reports: [], inspections: [] }, now),
    ).toThrow(/steekproef/);
  });

  it("ch. 2.1: a refusal names the rule and the fix, never the KvK number", () => {
    try {
      fileReport(
        reportInput({ inspectionDate: "2030-01-01" }),
        { reports: [], inspections: [] },
        at("2026-06-20T14:30:00Z"),
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DeskRefusal);
      expect((e as DeskRefusal).fix).toMatch(/report/);
      expect((e as Error).message).toMatch(/^ch\. 2\.1 inspectiedatum:/);
      expect((e as Error).message).not.toContain(KVK);
    }
  });
});

describe("record-housing-inspection (ch. 4, ch. 6.1)", () => {
  it("ch. 6.1: an unannounced SNF inspection that finds overcrowding publishes huisvesting.violation-found with the SNF mark", () => {
    const d = recordHousingInspection(
      housingInput(),
      "inspectie.snf",
      { housing: [] },
      at("2026-04-10T12:00:00Z"),
    );
    expect(d.publish).toEqual([
      {
        topic: "huisvesting.violation-found",
        value: {
          eventTime: "2026-04-10T12:00:00.000Z",
          subjectKvk: KVK,
          subjectRole: "EMPLOYER",
          caseReference: "SNF-2026-0042",
          inspectionDate: "2026-04-09",
          announced: false,
          dwelling: {
            street: "Havenstraat",
            houseNumber: "8A",
            postalCode: "3111AB",
            municipalityCode: "GM0606",
            occupants: 11,
            floorAreaM2: 84.5,
            qualityMark: "SNF",
          },
          violations: ["OVERCROWDING"],
          notes: null,
        },
      },
    ]);
    expect(d.inspection).toEqual({
      caseReference: "SNF-2026-0042",
      subjectKvk: KVK,
      inspectionDate: "2026-04-09",
      municipalityCode: "GM0606",
      violations: ["OVERCROWDING"],
    });
  });

  it("ch. 4: an AKF location without violations is recorded and nothing is published", () => {
    const d = recordHousingInspection(
      housingInput({ violations: [], caseReference: "AKF-1" }),
      "inspectie.akf",
      { housing: [] },
      at("2026-04-10T12:00:00Z"),
    );
    expect(d.publish).toEqual([]);
    expect(d.inspection.violations).toEqual([]);
  });

  it("ch. 4: the SNA inspects no housing: it is not a producer of huisvesting.violation-found", () => {
    expect(inspectsHousing("inspectie.sna")).toBe(false);
    expect(() =>
      recordHousingInspection(housingInput(), "inspectie.sna", { housing: [] }, at("2026-04-10T12:00:00Z")),
    ).toThrow(/only SNF and AKF/);
  });

  it("ch. 4: a case recorded before, a bad gemeentecode or a visit in the future is refused", () => {
    const now = at("2026-04-10T12:00:00Z");
    const first = recordHousingInspection(housingInput(), "inspectie.snf", { housing: [] }, now);
    expect(() =>
      recordHousingInspection(housingInput(), "inspectie.snf", { housing: [first.inspection] }, now),
    ).toThrow(/recorded before/);
    expect(() =>
      recordHousingInspection(
        housingInput({ dwelling: { ...housingInput().dwelling, municipalityCode: "0606" } }),
        "inspectie.snf",
        { housing: [] },
        now,
      ),
    ).toThrow(/gemeentecode/);
    expect(() =>
      recordHousingInspection(
        housingInput({ inspectionDate: "2026-04-11" }),
        "inspectie.snf",
        { housing: [] },
        now,
      ),
    ).toThrow(/past calendar day/);
  });

  it("ch. 4: a refusal never repeats the address", () => {
    try {
      recordHousingInspection(
        housingInput({ dwelling: { ...housingInput().dwelling, municipalityCode: "X" } }),
        "inspectie.snf",
        { housing: [] },
        at("2026-04-10T12:00:00Z"),
      );
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toMatch(/Havenstraat|3111AB/);
    }
  });

  it("ch. 4: the party a service runs as must be one of the three inspection bodies", () => {
    expect(isInspectionBody("inspectie.snf")).toBe(true);
    expect(isInspectionBody("gemeente.schiedam")).toBe(false);
  });
});
