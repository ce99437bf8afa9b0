import type { Topic, TopicMap } from "./generated/types";

// Made-up but well-formed events, one per topic, for tests and demos. The BSNs pass the elfproef and are not
// known to belong to anyone; KvK numbers 9000000x are fictitious.
const examples: { readonly [T in Topic]: () => TopicMap[T] } = {
  "wtta.admission-granted": () => ({
    eventTime: new Date("2026-01-05T09:00:00.000Z"),
    subjectKvk: "90000001",
    tradeName: "Voorbeeld Uitzendbureau B.V.",
    admissionNumber: "WTTA-2026-000123",
    admissionKind: "PROVISIONAL",
    validFrom: "2026-01-05",
    provisionalUntil: "2026-07-05",
    securityDepositCents: 5_000_000,
    inspectionReport: null,
    establishedAbroad: false,
    countryOfEstablishment: "NL",
  }),
  "wtta.admission-revoked": () => ({
    eventTime: new Date("2026-09-01T10:00:00.000Z"),
    subjectKvk: "90000001",
    tradeName: "Voorbeeld Uitzendbureau B.V.",
    admissionNumber: "WTTA-2026-000123",
    effectiveDate: "2026-09-15",
    reasons: ["SECURITY_DEPOSIT", "NEGATIVE_INSPECTION"],
    decisionReference: "SZW/TOEL/2026/4711",
    explanation: null,
  }),
  "inspectie.report-filed": () => ({
    eventTime: new Date("2026-06-20T14:30:00.000Z"),
    subjectKvk: "90000001",
    reportId: "SNA-2026-0815",
    inspectionDate: "2026-06-18",
    announced: true,
    filesSampled: 25,
    outcome: "NON_COMPLIANT",
    findings: [
      {
        normArea: "WAGES",
        severity: "MAJOR",
        description: "Overtime paid below the collective agreement rate.",
      },
      {
        normArea: "HOUSING",
        severity: "MINOR",
        description: "Housing register incomplete for one location.",
      },
    ],
  }),
  "arbo.accident-reported": () => ({
    eventTime: new Date("2026-03-02T08:15:00.000Z"),
    subjectKvk: "90000001",
    reportReference: "MELD-2026-0042",
    accidentTime: new Date("2026-03-01T13:40:00.000Z"),
    severity: "SERIOUS",
    inlener: { kvk: "90000101", name: "Kassenbedrijf De Voorbeeldhof B.V." },
    location: {
      street: "Tuinbouwweg",
      houseNumber: "12",
      postalCode: "5961AB",
      municipalityCode: "GM1507",
      workplace: "greenhouse, harvesting trolley rail",
    },
    victim: {
      bsn: "111222333",
      name: "Jan Voorbeeld",
      dateOfBirth: "1994-05-17",
      nationality: "PL",
      occupation: "harvester",
      agencyWorker: true,
    },
    injury: { nature: "FRACTURE", bodyPart: "left leg", hospitalised: true, hospitalisedDays: 3 },
    circumstances: "Trolley left the rail while being moved between rows.",
  }),
  "arbo.return-verified": () => ({
    eventTime: new Date("2026-03-20T11:00:00.000Z"),
    subjectKvk: "90000001",
    accidentReportReference: "MELD-2026-0042",
    inlenerKvk: "90000101",
    workerBsn: "111222333",
    verifiedOn: "2026-03-19",
    measures: ["EQUIPMENT_SAFEGUARDED", "INSTRUCTION_GIVEN"],
    measuresDescription: "Rail end stops fitted; instruction given in Polish.",
    workResumed: true,
  }),
  "huisvesting.violation-found": () => ({
    eventTime: new Date("2026-04-10T12:00:00.000Z"),
    subjectKvk: "90000002",
    subjectRole: "LANDLORD",
    caseReference: "SCH-WGV-2026-17",
    inspectionDate: "2026-04-09",
    announced: false,
    dwelling: {
      street: "Havenstraat",
      houseNumber: "8A",
      postalCode: "3111AB",
      municipalityCode: "GM0606",
      occupants: 11,
      floorAreaM2: 84.5,
      qualityMark: "NONE",
    },
    violations: ["OVERCROWDING", "NO_WRITTEN_TENANCY", "RENT_TIED_TO_EMPLOYMENT"],
    notes: null,
  }),
  "lsi.signal-raised": () => ({
    eventTime: new Date("2026-05-05T07:30:00.000Z"),
    subjectKvk: "90000002",
    signalReference: "LSI-BD-2026-300",
    kind: "G_ACCOUNT_DEFAULT",
    municipalityCode: "GM0606",
    persons: [{ bsn: "123456782", role: "DIRECTOR" }],
    summary: "No deposits on the g-rekening for three months while invoicing continued.",
  }),
  "loonaangifte.registration-gap": () => ({
    eventTime: new Date("2026-02-01T03:00:00.000Z"),
    subjectKvk: "90000001",
    gapKind: "NO_ADDRESS",
    worker: { bsn: "123456782", registration: "NON_RESIDENT", employedSince: "2025-11-03" },
    municipality: { code: "GM1507", name: "Horst aan de Maas" },
    payrollPeriod: { start: "2026-01-01", end: "2026-01-31" },
  }),
};

/** A fresh, valid example event for the topic (a new object on every call, so tests may change it). */
export function exampleEvent<T extends Topic>(topic: T): TopicMap[T] {
  return examples[topic]();
}
