/**
 * UWV's domain rules, pure: the input is what UWV receives (the delivered value in its JSON form, projected to UWV's
 * view, every field optional) or a desk input, plus UWV's current state as plain rows; the output is a decision
 * (rows to write, events to publish) as plain data. The wiring in `agency.ts` applies it in one transaction.
 *
 * Seed: the seed (Jaarrapportage arbeidsmigranten 2023), ch. 2.3 (accidents of lent workers), ch. 3 (the
 * feedbackcyclus loonaangifteketen, aanbeveling 3.1.F; the four-month registration rule) and ch. 6 (LSI, AMU).
 */
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidBsn,
  isValidGemeentecode,
  isValidKvk,
  type AccidentReported,
  type AdmissionGranted,
  type AdmissionRevoked,
  type AmuConcern,
  type AmuPartner,
  type BrpRegistration,
  type JointCaseOpened,
  type PayrollDepartureFound,
  type RegistrationGapFound,
  type RegistrationGapKind,
  type SignalRaised,
} from "@grondslag/schemas";

/** The JSON form of an event (timestamps as ISO instants, dates `YYYY-MM-DD`), and what a party receives:
 * that form projected to its view, any field at any depth absent (the SDK's types, through the runtime). */
export type JsonForm<T> = JsonForm_<T>;
export type Received<T> = Projected<T>;

/** A delivery or desk input the service cannot use: the reason names the rule and the fix, never a BSN. */
export interface Refusal {
  readonly ok: false;
  readonly reason: string;
}
export type Parsed<T> = { readonly ok: true; readonly value: T } | Refusal;
const refuse = (reason: string): Refusal => ({ ok: false, reason });

const isIsoDate = (v: unknown): v is string =>
  typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`));
const isInstant = (v: unknown): v is string => typeof v === "string" && !Number.isNaN(Date.parse(v));
const nonEmpty = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";

const amsterdam = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Amsterdam",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});
/** The Dutch calendar date (YYYY-MM-DD) of an instant. */
export const dutchDate = (instant: Date): string => amsterdam.format(instant);

/** A YYYY-MM-DD date plus `months` calendar months (the day clamped to the month's last day). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const first = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, last));
  return first.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------------
// State rows

export type ExpectedBenefit = "ZIEKTEWET" | "NONE_EXPECTED_YET";

export interface AccidentRow {
  inlenerKvk: string;
  /** The uitlener that lent the victim, when a report names one. */
  uitlenerKvk: string | null;
  victimBsn: string;
  accidentTime: string;
  municipalityCode: string | null;
  agencyWorker: boolean;
  expectedBenefit: ExpectedBenefit;
  recordedAt: string;
}

export interface PayrollRecord {
  uitlenerKvk: string;
  workerBsn: string;
  registration: BrpRegistration;
  /** Whether the BRP holds an address (or a temporary stay address, tijdelijk verblijfsadres) for the worker. */
  brpAddressKnown: boolean;
  /** The stay municipality: from the BRP when known, else where the employer reports the worker lives or works. */
  stayMunicipalityCode: string;
  stayMunicipalityName: string;
  employedSince: string;
  /** The last payroll period (aangiftetijdvak) in which the uitlener declared wages for the worker. */
  lastPeriodStart: string;
  lastPeriodEnd: string;
  recordedAt: string;
}

export interface AdmissionRow {
  uitlenerKvk: string;
  status: "ADMITTED" | "REVOKED";
  decidedAt: string;
  effectiveDate: string | null;
  decisionReference: string | null;
  /** When the payroll of the uitlener was compared after the revocation (null: not yet). */
  reviewedAt: string | null;
}

export type FindingKind = RegistrationGapKind | "PAYROLL_DEPARTURE";

/** What the feedback cycle would report; the outbox row records whether the gateway took it. */
export interface Finding {
  decisionReference: string;
  uitlenerKvk: string;
  workerBsn: string;
  kind: FindingKind;
  topic: "loonaangifte.registration-gap" | "loonaangifte.payroll-departure";
  municipalityCode: string;
  foundAt: string;
}

export interface OwnSignal {
  signalReference: string;
  subjectKvk: string;
  kind: "UNADMITTED_LENDING";
  raisedAt: string;
}

export interface AmuCaseRow {
  caseReference: string;
  subjectKvk: string;
  openedBy: string;
  partners: AmuPartner[];
  concerns: AmuConcern[];
  /** Whether UWV is one of the case's partners. */
  uwvPartner: boolean;
  openedAt: string;
}

export type Publication =
  | { topic: "loonaangifte.registration-gap"; value: JsonForm<RegistrationGapFound> }
  | { topic: "loonaangifte.payroll-departure"; value: JsonForm<PayrollDepartureFound> }
  | { topic: "lsi.signal-raised"; value: JsonForm<SignalRaised> };

// ---------------------------------------------------------------------------------------------------------------
// arbo.accident-reported (UWV's view: who, where, when; no severity, no injury)

export interface AccidentReport {
  producer: string;
  reportReference: string;
  subjectKvk: string;
  accidentTime: string;
  inlenerKvk: string;
  victimBsn: string;
  agencyWorker: boolean;
  municipalityCode: string | null;
}

/** Checks what UWV needs from its view of an accident report; the reason never holds the BSN. */
export function parseAccidentReport(v: Received<AccidentReported>, producer: string): Parsed<AccidentReport> {
  const rule = "arbo.accident-reported (ch. 2.3, UWV's view)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!nonEmpty(v.reportReference)) return refuse(`${rule}: reportReference is missing`);
  if (!isInstant(v.accidentTime)) return refuse(`${rule}: accidentTime is missing or not an instant`);
  if (!nonEmpty(v.inlener?.kvk) || !isValidKvk(v.inlener.kvk))
    return refuse(`${rule}: inlener.kvk is missing or not eight digits`);
  if (!nonEmpty(v.victim?.bsn) || !isValidBsn(v.victim.bsn))
    return refuse(`${rule}: victim.bsn is missing or fails the elfproef`);
  const code = v.location?.municipalityCode ?? null;
  if (code !== null && !isValidGemeentecode(code))
    return refuse(`${rule}: location.municipalityCode is not a gemeentecode (GM and four digits)`);
  return {
    ok: true,
    value: {
      producer,
      reportReference: v.reportReference,
      subjectKvk: v.subjectKvk,
      accidentTime: new Date(v.accidentTime).toISOString(),
      inlenerKvk: v.inlener.kvk,
      victimBsn: v.victim.bsn,
      agencyWorker: v.victim.agencyWorker === true,
      municipalityCode: code,
    },
  };
}

export interface AccidentDecision {
  /** The accident to write (new, or the existing one with the uitlener a second report names). */
  accident: AccidentRow | null;
  /** The report to record as seen (null: the same report again). */
  report: { producer: string; reportReference: string } | null;
  joinedExisting: boolean;
}

/**
 * Seed, ch. 2.3: "het aantal bedrijfsongevallen onder uitzendkrachten relatief hoog is"; UWV receives who, where and
 * when of a reportable accident as an LSI partner (Wet SUWI art. 64, ch. 6.1). One accident is one row (same inlener,
 * victim and accident time: the inlener's and the uitlener's reports join). For a lent worker UWV expects a
 * Ziektewet claim: a temp worker whose agency contract ends on sickness falls back on UWV (vangnet), which is UWV's
 * own task and not in the seed; for the inlener's own employee the employer pays wages during sickness first.
 */
export function onAccidentReported(input: {
  report: AccidentReport;
  existing: AccidentRow | null;
  reportSeen: boolean;
  now: Date;
}): AccidentDecision {
  const { report, existing } = input;
  if (input.reportSeen) return { accident: null, report: null, joinedExisting: false };
  const lender = report.agencyWorker && report.subjectKvk !== report.inlenerKvk ? report.subjectKvk : null;
  const seen = { producer: report.producer, reportReference: report.reportReference };
  if (
    existing &&
    existing.inlenerKvk === report.inlenerKvk &&
    existing.victimBsn === report.victimBsn &&
    new Date(existing.accidentTime).getTime() === new Date(report.accidentTime).getTime()
  ) {
    const agencyWorker = existing.agencyWorker || report.agencyWorker;
    return {
      accident: {
        ...existing,
        uitlenerKvk: existing.uitlenerKvk ?? lender,
        agencyWorker,
        expectedBenefit: agencyWorker ? "ZIEKTEWET" : "NONE_EXPECTED_YET",
      },
      report: seen,
      joinedExisting: true,
    };
  }
  return {
    accident: {
      inlenerKvk: report.inlenerKvk,
      uitlenerKvk: lender,
      victimBsn: report.victimBsn,
      accidentTime: report.accidentTime,
      municipalityCode: report.municipalityCode,
      agencyWorker: report.agencyWorker,
      expectedBenefit: report.agencyWorker ? "ZIEKTEWET" : "NONE_EXPECTED_YET",
      recordedAt: input.now.toISOString(),
    },
    report: seen,
    joinedExisting: false,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Desk record-payroll: the polisadministratie, per uitlener

export interface PayrollInput {
  uitlenerKvk: string;
  workerBsn: string;
  registration: BrpRegistration;
  brpAddressKnown: boolean;
  stayMunicipalityCode: string;
  stayMunicipalityName: string;
  employedSince: string;
  periodStart: string;
  periodEnd: string;
}

/** Checks a payroll line; a wrong BSN, KvK or gemeentecode is refused without echoing it. */
export function parsePayroll(input: PayrollInput, now: Date): Parsed<PayrollRecord> {
  const rule = "record-payroll (ch. 3, polisadministratie)";
  if (!isValidKvk(input.uitlenerKvk)) return refuse(`${rule}: uitlenerKvk must be eight digits`);
  if (!isValidBsn(input.workerBsn)) return refuse(`${rule}: workerBsn fails the elfproef; check the number`);
  if (!isValidGemeentecode(input.stayMunicipalityCode))
    return refuse(`${rule}: stayMunicipalityCode must be a gemeentecode (GM and four digits)`);
  if (!nonEmpty(input.stayMunicipalityName)) return refuse(`${rule}: stayMunicipalityName is empty`);
  for (const [name, v] of [
    ["employedSince", input.employedSince],
    ["periodStart", input.periodStart],
    ["periodEnd", input.periodEnd],
  ] as const) {
    if (!isIsoDate(v)) return refuse(`${rule}: ${name} must be a YYYY-MM-DD date`);
  }
  if (input.periodStart > input.periodEnd) return refuse(`${rule}: periodStart lies after periodEnd`);
  if (input.employedSince > input.periodEnd)
    return refuse(`${rule}: employedSince lies after the period; wages cannot be declared before employment`);
  return {
    ok: true,
    value: {
      uitlenerKvk: input.uitlenerKvk,
      workerBsn: input.workerBsn,
      registration: input.registration,
      brpAddressKnown: input.brpAddressKnown,
      stayMunicipalityCode: input.stayMunicipalityCode,
      stayMunicipalityName: input.stayMunicipalityName,
      employedSince: input.employedSince,
      lastPeriodStart: input.periodStart,
      lastPeriodEnd: input.periodEnd,
      recordedAt: now.toISOString(),
    },
  };
}

export interface PayrollDecision {
  record: PayrollRecord;
  signal: OwnSignal | null;
  publish: Publication[];
}

/**
 * Seed, ch. 6.1: the LSI partners exchange data "ten behoeve van de voorkoming en bestrijding van ... het niet
 * naleven van de arbeidswetten" (Wet SUWI art. 64), and ch. 2.1: uitleners may not lend "zonder een toelating". A
 * payroll line keeps the worker's latest period (an older declaration does not move it back). When the uitlener's
 * admission is revoked and it declares wages for a period that runs past the effective date, it still employs
 * workers without admission: UWV raises one LSI signal UNADMITTED_LENDING about the uitlener, without persons.
 */
export function onPayrollRecorded(input: {
  record: PayrollRecord;
  existing: PayrollRecord | null;
  admission: AdmissionRow | null;
  signalRaised: boolean;
  now: Date;
}): PayrollDecision {
  const { existing } = input;
  const newer = existing === null || input.record.lastPeriodEnd >= existing.lastPeriodEnd;
  const record = newer
    ? input.record
    : { ...existing, registration: input.record.registration, brpAddressKnown: input.record.brpAddressKnown };
  const signal = input.signalRaised ? null : unadmittedLending(input.admission, [record], input.now);
  return { record, signal: signal?.row ?? null, publish: signal ? [signal.publication] : [] };
}

function unadmittedLending(admission: AdmissionRow | null, records: readonly PayrollRecord[], now: Date) {
  if (
    admission?.status !== "REVOKED" ||
    admission.effectiveDate === null ||
    admission.decisionReference === null
  )
    return null;
  const effective = admission.effectiveDate;
  const after = records.filter((r) => r.uitlenerKvk === admission.uitlenerKvk && r.lastPeriodEnd > effective);
  if (after.length === 0) return null;
  const at = now.toISOString();
  const signalReference = `UWV-LA-${admission.decisionReference}`;
  const value: JsonForm<SignalRaised> = {
    eventTime: at,
    subjectKvk: admission.uitlenerKvk,
    signalReference,
    kind: "UNADMITTED_LENDING",
    municipalityCode: null,
    persons: [],
    summary:
      `Loonaangifte over een tijdvak na ${effective}, de datum waarop de toelating is ingetrokken ` +
      `(besluit ${admission.decisionReference}): ${after.length} werknemer(s) nog in de polisadministratie.`,
  };
  return {
    row: {
      signalReference,
      subjectKvk: admission.uitlenerKvk,
      kind: "UNADMITTED_LENDING" as const,
      raisedAt: at,
    },
    publication: { topic: "lsi.signal-raised" as const, value },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// wtta.admission-granted / wtta.admission-revoked

export function parseAdmissionGranted(v: Received<AdmissionGranted>): Parsed<AdmissionRow> {
  const rule = "wtta.admission-granted (ch. 2.1)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!isInstant(v.eventTime)) return refuse(`${rule}: eventTime is missing or not an instant`);
  return {
    ok: true,
    value: {
      uitlenerKvk: v.subjectKvk,
      status: "ADMITTED",
      decidedAt: new Date(v.eventTime).toISOString(),
      effectiveDate: null,
      decisionReference: null,
      reviewedAt: null,
    },
  };
}

/** Seed, ch. 2.1 (the public register): a grant records the uitlener as admitted, unless a later decision is on record. */
export function onAdmissionGranted(grant: AdmissionRow, current: AdmissionRow | null): AdmissionRow | null {
  return current && current.decidedAt > grant.decidedAt ? null : grant;
}

export function parseAdmissionRevoked(v: Received<AdmissionRevoked>): Parsed<AdmissionRow> {
  const rule = "wtta.admission-revoked (ch. 2.1)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!isIsoDate(v.effectiveDate))
    return refuse(`${rule}: effectiveDate is missing or not a YYYY-MM-DD date`);
  if (!nonEmpty(v.decisionReference)) return refuse(`${rule}: decisionReference is missing`);
  if (!isInstant(v.eventTime)) return refuse(`${rule}: eventTime is missing or not an instant`);
  return {
    ok: true,
    value: {
      uitlenerKvk: v.subjectKvk,
      status: "REVOKED",
      decidedAt: new Date(v.eventTime).toISOString(),
      effectiveDate: v.effectiveDate,
      decisionReference: v.decisionReference,
      reviewedAt: null,
    },
  };
}

export interface RevocationDecision {
  admission: AdmissionRow | null;
  findings: Finding[];
  /** Each finding with the event that reports it (the same events are in `publish`). */
  reports: { finding: Finding; publication: Publication }[];
  signal: OwnSignal | null;
  publish: Publication[];
}

/** Months after which a non-resident on the payroll should be registered as resident (ch. 3: "vier maanden"). */
export const RESIDENT_AFTER_MONTHS = 4;

/**
 * Seed, ch. 3 "Feedbackcyclus loonaangifteketen" (aanbeveling 3.1.F): "Door een periodieke vergelijking kan worden
 * vastgesteld van welke BSN's in de loonaangifteketen nog geen tijdelijk verblijfsadres is vastgesteld. Ook kan
 * bepaald worden welke niet-ingezetenen met een verblijfsadres niet meer voorkomen in de loonaangifteketen"; and
 * "Als zij verwachten langer dan vier maanden in Nederland te verblijven, moeten zij zich laten inschrijven als
 * ingezetene". A revocation makes UWV compare the uitlener's payroll with the BRP:
 * - a worker in the uitlener's latest declaration without a BRP address: registration gap NO_ADDRESS;
 * - a non-resident in the latest declaration employed for more than four months: NON_RESIDENT_TOO_LONG;
 * - a non-resident with a stay address who is not in the latest declaration any more: payroll departure.
 * Each goes to the municipality concerned (and the departure to RvIG). Both topics have no law in force yet, so the
 * gateway refuses them: the outbox records that, and the findings stay in UWV's state as what would be reported.
 * It also raises the LSI signal of `onPayrollRecorded` when the payroll runs past the effective date. The same
 * decision again changes nothing.
 */
export function onAdmissionRevoked(input: {
  revocation: AdmissionRow;
  current: AdmissionRow | null;
  payroll: readonly PayrollRecord[];
  signalRaised: boolean;
  now: Date;
}): RevocationDecision {
  const { revocation: rev, now } = input;
  const nothing: RevocationDecision = {
    admission: null,
    findings: [],
    reports: [],
    signal: null,
    publish: [],
  };
  if (input.current?.decisionReference === rev.decisionReference && input.current.reviewedAt !== null)
    return nothing;
  if (input.current && input.current.decidedAt > rev.decidedAt) return nothing;
  const at = now.toISOString();
  const records = input.payroll.filter((r) => r.uitlenerKvk === rev.uitlenerKvk);
  const latest = records.reduce<string | null>(
    (m, r) => (m === null || r.lastPeriodEnd > m ? r.lastPeriodEnd : m),
    null,
  );
  const reports: { finding: Finding; publication: Publication }[] = [];
  const decision = rev.decisionReference!;
  for (const r of [...records].sort((a, b) => a.workerBsn.localeCompare(b.workerBsn))) {
    const inLatest = r.lastPeriodEnd === latest;
    let gap: RegistrationGapKind | null = null;
    if (inLatest && !r.brpAddressKnown) gap = "NO_ADDRESS";
    else if (
      inLatest &&
      r.registration === "NON_RESIDENT" &&
      addMonths(r.employedSince, RESIDENT_AFTER_MONTHS) < r.lastPeriodEnd
    )
      gap = "NON_RESIDENT_TOO_LONG";
    if (gap !== null) {
      reports.push({
        finding: {
          decisionReference: decision,
          uitlenerKvk: r.uitlenerKvk,
          workerBsn: r.workerBsn,
          kind: gap,
          topic: "loonaangifte.registration-gap",
          municipalityCode: r.stayMunicipalityCode,
          foundAt: at,
        },
        publication: {
          topic: "loonaangifte.registration-gap",
          value: {
            eventTime: at,
            subjectKvk: r.uitlenerKvk,
            gapKind: gap,
            worker: { bsn: r.workerBsn, registration: r.registration, employedSince: r.employedSince },
            municipality: { code: r.stayMunicipalityCode, name: r.stayMunicipalityName },
            payrollPeriod: { start: r.lastPeriodStart, end: r.lastPeriodEnd },
          },
        },
      });
    }
    if (!inLatest && r.registration === "NON_RESIDENT" && r.brpAddressKnown) {
      reports.push({
        finding: {
          decisionReference: decision,
          uitlenerKvk: r.uitlenerKvk,
          workerBsn: r.workerBsn,
          kind: "PAYROLL_DEPARTURE",
          topic: "loonaangifte.payroll-departure",
          municipalityCode: r.stayMunicipalityCode,
          foundAt: at,
        },
        publication: {
          topic: "loonaangifte.payroll-departure",
          value: {
            eventTime: at,
            subjectKvk: r.uitlenerKvk,
            person: { bsn: r.workerBsn },
            stayMunicipalityCode: r.stayMunicipalityCode,
            lastPayrollPeriodEnd: r.lastPeriodEnd,
          },
        },
      });
    }
  }
  const signal = input.signalRaised ? null : unadmittedLending(rev, records, now);
  const publish: Publication[] = reports.map((r) => r.publication);
  if (signal) publish.push(signal.publication);
  return {
    admission: { ...rev, reviewedAt: at },
    findings: reports.map((r) => r.finding),
    reports,
    signal: signal?.row ?? null,
    publish,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// amu.case-opened

/**
 * Seed, ch. 6: in the AMU "werken de Belastingdienst, het UWV en de Arbeidsinspectie samen aan complexe zaken waarbij
 * uitzendbureaus zijn betrokken". A joint case is recorded once (by reference), with whether UWV is a partner in it.
 */
export function parseAmuCase(v: Received<JointCaseOpened>, producer: string): Parsed<AmuCaseRow> {
  const rule = "amu.case-opened (ch. 6)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!nonEmpty(v.caseReference)) return refuse(`${rule}: caseReference is missing`);
  if (!isInstant(v.eventTime)) return refuse(`${rule}: eventTime is missing or not an instant`);
  const partners = (v.partners ?? []).filter((p): p is AmuPartner => typeof p === "string");
  return {
    ok: true,
    value: {
      caseReference: v.caseReference,
      subjectKvk: v.subjectKvk,
      openedBy: producer,
      partners,
      concerns: (v.concerns ?? []).filter((c): c is AmuConcern => typeof c === "string"),
      uwvPartner: partners.includes("UWV"),
      openedAt: new Date(v.eventTime).toISOString(),
    },
  };
}
