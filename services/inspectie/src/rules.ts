/**
 * The rules of a private inspection body (inspectie-instelling): SNA for the normenkader of uitleners, SNF and AKF for
 * the housing of labour migrants. Pure functions from what a desk action or a delivery brings, plus the body's state
 * as plain objects, to a decision (state changes and events to publish) as plain data; src/agency.ts applies it.
 *
 * Sources: the seed (Jaarrapportage arbeidsmigranten 2023), ch. 2.1 (the admission's normenkader and the
 * inspectie-instellingen), ch. 4 (SNF and AKF, housing) and ch. 6.1 (unannounced inspections).
 */
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidGemeentecode,
  isValidKvk,
  type AdmissionGranted,
  type AdmissionKind,
  type Dwelling,
  type FindingSeverity,
  type HousingRole,
  type InspectionOutcome,
  type IsoDate,
  type NormArea,
  type QualityMark,
  type ReportFiled,
  type ViolationFound,
  type ViolationKind,
} from "@grondslag/schemas";

// ---------------------------------------------------------------------------------------------------------------
// JSON forms and dates

/** The JSON form of an event (timestamps as ISO instants, dates `YYYY-MM-DD`), and what a party receives:
 * that form projected to its view, any field at any depth absent (the SDK's types, through the runtime). */
export type JsonForm<T> = JsonForm_<T>;
export type Delivered<T> = Projected<T>;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: unknown): value is IsoDate {
  if (typeof value !== "string") return false;
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

/** The calendar day in the Netherlands at an instant. */
export function dutchDay(at: Date): IsoDate {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Amsterdam" }).format(at);
}

export function addDays(day: IsoDate, days: number): IsoDate {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------------
// Parties

/** The inspection bodies this service can be (contracts/data/parties.yaml). */
export const INSPECTION_BODIES = ["inspectie.sna", "inspectie.snf", "inspectie.akf"] as const;
export type InspectionBody = (typeof INSPECTION_BODIES)[number];

export function isInspectionBody(party: string): party is InspectionBody {
  return (INSPECTION_BODIES as readonly string[]).includes(party);
}

/**
 * Whether the body inspects housing and may report housing violations. Seed, ch. 4.3: "De Stichting Normering
 * Flexwonen (SNF) en het Agrarisch Keurmerk Flexwonen (AKF) hebben allebei een eigen keurmerk"; the catalogue lets
 * inspectie.snf and inspectie.akf produce `huisvesting.violation-found`, not inspectie.sna.
 */
export function inspectsHousing(body: InspectionBody): boolean {
  return body === "inspectie.snf" || body === "inspectie.akf";
}

/**
 * Whether the body inspects uitleners against the normenkader and so schedules the follow-up inspection a provisional
 * admission needs. Seed, ch. 6.1: "Het private keurmerk van de Stichting Normering Arbeid (SNA), ter voorkoming van
 * fraude en illegaliteit in de uitzendbranche"; the housing bodies follow the admissions too, for their locations,
 * but do not schedule the normenkader inspection.
 */
export function schedulesFollowUp(body: InspectionBody): boolean {
  return body === "inspectie.sna";
}

/** The quality mark a housing body awards. */
export function markOf(body: InspectionBody): QualityMark | null {
  return body === "inspectie.snf" ? "SNF" : body === "inspectie.akf" ? "AKF" : null;
}

// ---------------------------------------------------------------------------------------------------------------
// State

/** An admitted uitlener as the register feed told it (a row of `uitleners`). */
export interface Uitlener {
  subjectKvk: string;
  tradeName: string;
  admissionNumber: string;
  admissionKind: AdmissionKind;
  validFrom: IsoDate;
  provisionalUntil: IsoDate | null;
  /** The report a definitive admission relies on, if the feed names one. */
  reliesOnReport: string | null;
}

export type InspectionStatus = "SCHEDULED" | "DONE";

/** A scheduled inspection (a row of `inspections`): the follow-up a provisional admission needs before it ends. */
export interface ScheduledInspection {
  inspectionRef: string;
  subjectKvk: string;
  admissionNumber: string;
  /** Last day the inspection should take place: the day before provisionalUntil. */
  dueBy: IsoDate;
  status: InspectionStatus;
  reportId: string | null;
}

/** A filed report (a row of `reports`). */
export interface FiledReport {
  reportId: string;
  subjectKvk: string;
  inspectionDate: IsoDate;
  outcome: InspectionOutcome;
  findings: number;
}

/** A recorded housing inspection (a row of `housing_inspections`); its dwelling is the body's own record. */
export interface HousingInspection {
  caseReference: string;
  subjectKvk: string;
  inspectionDate: IsoDate;
  municipalityCode: string;
  violations: ViolationKind[];
}

/**
 * A desk action the rules refuse: the rule that refused it (the message) and how to fix the request (`fix`). The
 * runtime answers it as a 400 problem with both. Never personal data.
 */
export class DeskRefusal extends Error {
  constructor(
    readonly rule: string,
    message: string,
    readonly fix: string,
  ) {
    super(`${rule}: ${message}`);
    this.name = "DeskRefusal";
  }
}

export type Publication =
  | { topic: "inspectie.report-filed"; value: JsonForm<ReportFiled> }
  | { topic: "huisvesting.violation-found"; value: JsonForm<ViolationFound> };

// ---------------------------------------------------------------------------------------------------------------
// Consumed: wtta.admission-granted

export function parseAdmission(d: Delivered<JsonForm<AdmissionGranted>>): Uitlener | string {
  if (typeof d.subjectKvk !== "string" || !isValidKvk(d.subjectKvk))
    return "subjectKvk missing or not a KvK number";
  if (typeof d.admissionNumber !== "string" || d.admissionNumber.length === 0)
    return "admissionNumber missing";
  if (d.admissionKind !== "PROVISIONAL" && d.admissionKind !== "DEFINITIVE") return "admissionKind missing";
  if (!isIsoDate(d.validFrom)) return "validFrom missing or not a calendar day";
  if (d.admissionKind === "PROVISIONAL" && !isIsoDate(d.provisionalUntil))
    return "provisionalUntil missing on a provisional admission";
  return {
    subjectKvk: d.subjectKvk,
    tradeName: typeof d.tradeName === "string" ? d.tradeName : "",
    admissionNumber: d.admissionNumber,
    admissionKind: d.admissionKind,
    validFrom: d.validFrom,
    provisionalUntil: d.admissionKind === "PROVISIONAL" ? (d.provisionalUntil as IsoDate) : null,
    reliesOnReport: typeof d.inspectionReport?.reportId === "string" ? d.inspectionReport.reportId : null,
  };
}

export interface AdmissionDecision {
  outcome: "scheduled" | "recorded" | "duplicate";
  uitlener: Uitlener;
  schedule: ScheduledInspection | null;
  /** The follow-up a definitive admission makes moot, closed with the report the admission relies on. */
  closes: ScheduledInspection | null;
}

/**
 * `wtta.admission-granted`. Seed, ch. 2.1: "Onderdeel van de toelatingsvoorwaarden is een recent rapport van een
 * inspectie-instelling", and the definitive admission comes "in beginsel zes maanden na de ingangsdatum van de
 * voorlopige toelating". Every body records the admitted uitlener. For a provisional admission the normenkader body
 * (SNA) schedules the follow-up inspection, due by the day before provisionalUntil, so that the report the definitive
 * admission needs exists in time. The same admission delivered again schedules nothing new; a definitive admission
 * updates the record and closes a follow-up still open for that admission number (with the report it relies on).
 */
export function onAdmissionGranted(
  u: Uitlener,
  body: InspectionBody,
  state: { uitleners: readonly Uitlener[]; inspections: readonly ScheduledInspection[] },
): AdmissionDecision {
  const known = state.uitleners.find(
    (x) => x.admissionNumber === u.admissionNumber && x.admissionKind === u.admissionKind,
  );
  if (known) return { outcome: "duplicate", uitlener: known, schedule: null, closes: null };
  const inspectionRef = `FOLLOWUP-${u.admissionNumber}`;
  if (u.admissionKind === "DEFINITIVE") {
    const open = state.inspections.find((i) => i.inspectionRef === inspectionRef && i.status === "SCHEDULED");
    return {
      outcome: "recorded",
      uitlener: u,
      schedule: null,
      closes: open ? { ...open, status: "DONE", reportId: u.reliesOnReport } : null,
    };
  }
  if (
    !schedulesFollowUp(body) ||
    u.provisionalUntil === null ||
    state.inspections.some((i) => i.inspectionRef === inspectionRef)
  )
    return { outcome: "recorded", uitlener: u, schedule: null, closes: null };
  return {
    outcome: "scheduled",
    uitlener: u,
    schedule: {
      inspectionRef,
      subjectKvk: u.subjectKvk,
      admissionNumber: u.admissionNumber,
      dueBy: addDays(u.provisionalUntil, -1),
      status: "SCHEDULED",
      reportId: null,
    },
    closes: null,
  };
}

/** Scheduled inspections past their due day on `today` (for the desk's overview; nothing is published). */
export function overdueInspections(
  inspections: readonly ScheduledInspection[],
  today: IsoDate,
): ScheduledInspection[] {
  return inspections.filter((i) => i.status === "SCHEDULED" && i.dueBy < today);
}

// ---------------------------------------------------------------------------------------------------------------
// Desk: file-report

export interface FindingInput {
  normArea: NormArea;
  severity: FindingSeverity;
  description: string;
}

export interface FileReportInput {
  subjectKvk: string;
  reportId: string;
  inspectionDate: IsoDate;
  announced: boolean;
  filesSampled: number;
  findings: FindingInput[];
  /** The administration could not be assessed (e.g. not available): NOT_ASSESSABLE whatever was found. */
  notAssessable?: boolean | undefined;
}

/**
 * The outcome from the findings. Seed, ch. 2.1: a report "waarmee de uitlener onderbouwt dat hij voldoet aan het
 * normenkader (bestaande uit een set eisen waaraan uitleners moeten voldoen voor een toelating)": any finding means a
 * norm is not met (NON_COMPLIANT), none means COMPLIANT, unless the normenkader could not be assessed.
 */
export function outcomeOf(findings: readonly FindingInput[], notAssessable: boolean): InspectionOutcome {
  if (notAssessable) return "NOT_ASSESSABLE";
  return findings.length > 0 ? "NON_COMPLIANT" : "COMPLIANT";
}

export interface FileReportDecision {
  report: FiledReport;
  /** The scheduled inspection this report closes, if any. */
  closes: ScheduledInspection | null;
  publish: Extract<Publication, { topic: "inspectie.report-filed" }>[];
}

/**
 * Desk `file-report`. Seed, ch. 2.1: "een recent rapport van een inspectie-instelling waarmee de uitlener onderbouwt
 * dat hij voldoet aan het normenkader"; ch. 6.1: the SNA "kondigt haar inspecties altijd vooraf aan ... Wel is het zo
 * dat bij een inspectie een steekproef wordt gedaan van een aantal dossiers". Publishes `inspectie.report-filed` with
 * the outcome from the findings and closes the uitlener's scheduled inspection (the oldest open one). A report may
 * concern an applicant that is not admitted yet (its report supports the application). Refused: a report number used
 * before, an inspection day in the future, a bad KvK, a negative sample, a finding that names nothing.
 */
export function fileReport(
  input: FileReportInput,
  state: { reports: readonly FiledReport[]; inspections: readonly ScheduledInspection[] },
  now: Date,
): FileReportDecision {
  if (!isValidKvk(input.subjectKvk))
    throw new DeskRefusal(
      "ch. 2.1 KvK",
      "subjectKvk is not a KvK number.",
      "give the uitlener's eight-digit KvK number",
    );
  if (input.reportId.trim().length === 0)
    throw new DeskRefusal("ch. 2.1 rapport", "reportId is empty.", "give the report's number");
  if (state.reports.some((r) => r.reportId === input.reportId))
    throw new DeskRefusal(
      "ch. 2.1 rapport",
      `report ${input.reportId} was filed before.`,
      "a report is filed once; give a new report number for a new inspection",
    );
  if (!isIsoDate(input.inspectionDate))
    throw new DeskRefusal(
      "ch. 2.1 inspectiedatum",
      "inspectionDate is not a calendar day.",
      "give YYYY-MM-DD",
    );
  const today = dutchDay(now);
  if (input.inspectionDate > today)
    throw new DeskRefusal(
      "ch. 2.1 inspectiedatum",
      "inspectionDate lies in the future.",
      "file the report after the inspection took place",
    );
  if (!Number.isSafeInteger(input.filesSampled) || input.filesSampled < 0)
    throw new DeskRefusal(
      "ch. 6.1 steekproef",
      "filesSampled is not a count.",
      "give the number of files checked",
    );
  if (input.findings.some((f) => f.description.trim().length === 0))
    throw new DeskRefusal(
      "ch. 2.1 bevinding",
      "a finding has no description.",
      "describe what was found, about the company, never naming workers",
    );
  const outcome = outcomeOf(input.findings, input.notAssessable === true);
  const closes =
    state.inspections
      .filter((i) => i.subjectKvk === input.subjectKvk && i.status === "SCHEDULED")
      .sort((a, b) => (a.dueBy < b.dueBy ? -1 : a.dueBy > b.dueBy ? 1 : 0))[0] ?? null;
  return {
    report: {
      reportId: input.reportId,
      subjectKvk: input.subjectKvk,
      inspectionDate: input.inspectionDate,
      outcome,
      findings: input.findings.length,
    },
    closes: closes ? { ...closes, status: "DONE", reportId: input.reportId } : null,
    publish: [
      {
        topic: "inspectie.report-filed",
        value: {
          eventTime: now.toISOString(),
          subjectKvk: input.subjectKvk,
          reportId: input.reportId,
          inspectionDate: input.inspectionDate,
          announced: input.announced,
          filesSampled: input.filesSampled,
          outcome,
          findings: input.findings.map((f) => ({ ...f })),
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Desk: record-housing-inspection (SNF, AKF)

export interface HousingInspectionInput {
  subjectKvk: string;
  subjectRole: HousingRole;
  caseReference: string;
  inspectionDate: IsoDate;
  announced: boolean;
  dwelling: Omit<Dwelling, "qualityMark" | "floorAreaM2"> & {
    floorAreaM2?: number | null | undefined;
    qualityMark?: QualityMark | undefined;
  };
  violations: ViolationKind[];
  notes?: string | null | undefined;
}

export interface HousingDecision {
  inspection: HousingInspection;
  publish: Publication[];
}

/**
 * Desk `record-housing-inspection`. Seed, ch. 6.1: "Meer onaangekondigde inspecties/controles door gemeenten, SNF, AKF
 * en SNA" (aanbeveling 6.1.E), "De SNF controleert 100% van de huisvestingslocaties", "Het AKF controleert 100% van
 * de door haar gecertificeerde huisvestingslocaties"; ch. 2.1: the admission norms cover "kwalitatief goede
 * huisvesting". Records the inspection; when violations were found, publishes `huisvesting.violation-found` (SNF and
 * AKF are its producers under the Wtta; SNA is not). The quality mark defaults to the body's own.
 */
export function recordHousingInspection(
  input: HousingInspectionInput,
  body: InspectionBody,
  state: { housing: readonly HousingInspection[] },
  now: Date,
): HousingDecision {
  if (!inspectsHousing(body))
    throw new DeskRefusal(
      "ch. 4 keurmerk huisvesting",
      `${body} does not inspect housing: only SNF and AKF report housing violations.`,
      "record the inspection at inspectie.snf or inspectie.akf, or at the municipality",
    );
  if (!isValidKvk(input.subjectKvk))
    throw new DeskRefusal(
      "ch. 4 KvK",
      "subjectKvk is not a KvK number.",
      "give the responsible company's KvK number",
    );
  if (!isValidGemeentecode(input.dwelling.municipalityCode))
    throw new DeskRefusal(
      "ch. 4 gemeentecode",
      "dwelling.municipalityCode is not a gemeentecode.",
      "give GM and four digits, e.g. GM0606",
    );
  if (input.caseReference.trim().length === 0)
    throw new DeskRefusal("ch. 4 zaaknummer", "caseReference is empty.", "give the case number");
  if (state.housing.some((h) => h.caseReference === input.caseReference))
    throw new DeskRefusal(
      "ch. 4 zaaknummer",
      `case ${input.caseReference} was recorded before.`,
      "record each inspection once; give a new case number for a new visit",
    );
  if (!isIsoDate(input.inspectionDate) || input.inspectionDate > dutchDay(now))
    throw new DeskRefusal(
      "ch. 4 controledatum",
      "inspectionDate is not a past calendar day.",
      "give the day of the visit as YYYY-MM-DD",
    );
  if (!Number.isSafeInteger(input.dwelling.occupants) || input.dwelling.occupants < 0)
    throw new DeskRefusal(
      "ch. 4 bewoners",
      "dwelling.occupants is not a count.",
      "give the number of occupants found",
    );
  const violations = [...new Set(input.violations)];
  const inspection: HousingInspection = {
    caseReference: input.caseReference,
    subjectKvk: input.subjectKvk,
    inspectionDate: input.inspectionDate,
    municipalityCode: input.dwelling.municipalityCode,
    violations,
  };
  if (violations.length === 0) return { inspection, publish: [] };
  const dwelling: Dwelling = {
    street: input.dwelling.street,
    houseNumber: input.dwelling.houseNumber,
    postalCode: input.dwelling.postalCode,
    municipalityCode: input.dwelling.municipalityCode,
    occupants: input.dwelling.occupants,
    floorAreaM2: input.dwelling.floorAreaM2 ?? null,
    qualityMark: input.dwelling.qualityMark ?? markOf(body) ?? "NONE",
  };
  return {
    inspection,
    publish: [
      {
        topic: "huisvesting.violation-found",
        value: {
          eventTime: now.toISOString(),
          subjectKvk: input.subjectKvk,
          subjectRole: input.subjectRole,
          caseReference: input.caseReference,
          inspectionDate: input.inspectionDate,
          announced: input.announced,
          dwelling,
          violations,
          notes: input.notes ?? null,
        },
      },
    ],
  };
}
