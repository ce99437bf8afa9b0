/**
 * The admission authority's rules (the Minister van SZW, toelating uitleners, under the Waadi as amended by the
 * Wtta): pure functions from what a desk action or a delivery brings, plus the current state as plain objects, to a
 * decision (state changes and events to publish) as plain data. No I/O here: src/agency.ts loads the state, calls a
 * rule and applies its decision in one transaction.
 *
 * Sources: the seed (Jaarrapportage arbeidsmigranten 2023), ch. 2.1 (admission, waarborgsom, normenkader,
 * inspectie-instellingen, g-rekening, Bibob, the public register) and ch. 4 (housing).
 *
 * Where the seed leaves a number open, the rule names its choice as a constant below (a remedy period, how long a
 * report stays recent, the window for repeated housing violations).
 */
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidGemeentecode,
  isValidKvk,
  RevocationReason,
  type AdmissionGranted,
  type AdmissionKind,
  type AdmissionRefused,
  type AdmissionRevoked,
  type FindingSeverity,
  type InspectionOutcome,
  type IsoDate,
  type RefusalReason,
  type RegisterEntryUpdated,
  type RegisterStatus,
  type ReportFiled,
  type TaxArrearsSignalled,
  type ViolationFound,
  type TaxArrearsKind,
} from "@grondslag/schemas";

// ---------------------------------------------------------------------------------------------------------------
// Numbers

/** € 50,000 in cents: the waarborgsom of a provisional admission (ch. 2.1). */
export const PROVISIONAL_DEPOSIT_CENTS = 5_000_000;
/** € 100,000 in cents: the waarborgsom a definitive admission needs (ch. 2.1). */
export const DEFINITIVE_DEPOSIT_CENTS = 10_000_000;
/** "in beginsel zes maanden na de ingangsdatum van de voorlopige toelating" (ch. 2.1). */
export const PROVISIONAL_MONTHS = 6;
/** How old an inspection report may be and still count as "recent" (ch. 2.1 says only "recent"): six months. */
export const RECENT_REPORT_MONTHS = 6;
/** Remedy period (hersteltermijn) after a non-compliant report with minor findings only: three months. */
export const REMEDY_MONTHS = 3;
/** Window in which two housing violations count as repeated: 24 months. */
export const HOUSING_WINDOW_MONTHS = 24;
/** Window in which a second negative report revokes, even when the first one was remedied: 24 months. */
export const REPEAT_REPORT_WINDOW_MONTHS = 24;

// ---------------------------------------------------------------------------------------------------------------
// JSON forms and dates

/** The JSON form of an event (timestamps as ISO instants, dates `YYYY-MM-DD`), and what a party receives:
 * that form projected to its view, any field at any depth absent (the SDK's types, through the runtime). */
export type JsonForm<T> = JsonForm_<T>;
export type Delivered<T> = Projected<T>;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether a string is a real calendar day in `YYYY-MM-DD` form. */
export function isIsoDate(value: unknown): value is IsoDate {
  if (typeof value !== "string") return false;
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

/** The calendar day in the Netherlands at an instant: what "today" means for a Dutch authority. */
export function dutchDay(at: Date): IsoDate {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Amsterdam" }).format(at);
}

/** Adds whole months to a day; a day that does not exist in the target month becomes its last day (31 Aug + 6 = 28 Feb). */
export function addMonths(day: IsoDate, months: number): IsoDate {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, last));
  return target.toISOString().slice(0, 10);
}

export function addDays(day: IsoDate, days: number): IsoDate {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------------
// State

export type AdmissionStatus = "PROVISIONAL" | "DEFINITIVE" | "REVOKED";

/** One admission of an uitlener (a row of `admissions`). At most one per KvK is in force (not REVOKED). */
export interface Admission {
  admissionNumber: string;
  subjectKvk: string;
  tradeName: string;
  status: AdmissionStatus;
  validFrom: IsoDate;
  /** Last day of the provisional admission; null once definitive or for a definitive admission. */
  provisionalUntil: IsoDate | null;
  securityDepositCents: number;
  establishedAbroad: boolean;
  countryOfEstablishment: string;
  /** The report a definitive admission relies on. */
  inspectionReport: { inspectionBody: string; reportId: string; inspectionDate: IsoDate } | null;
  revokedFrom: IsoDate | null;
  revocationReference: string | null;
}

/** An inspection report received (a row of `reports`), whether or not its uitlener is admitted. */
export interface ReportRecord {
  reportId: string;
  subjectKvk: string;
  inspectionBody: string;
  inspectionDate: IsoDate;
  outcome: InspectionOutcome;
  majorFindings: number;
  minorFindings: number;
}

/**
 * The facts a revocation can rest on (a row of `grounds`): each tied to an admission, with the reason it becomes in
 * the revocation decision. A ground is established from `observedOn`; `remedyUntil` is set for a report that gives a
 * remedy period, `resolvedOn` once a compliant report remedied it.
 */
export type GroundKind =
  | "HOUSING_VIOLATION"
  | "INSPECTION_MINOR"
  | "INSPECTION_MAJOR"
  | "INSPECTION_NOT_ASSESSABLE"
  | "TAX_ARREARS"
  | "NO_RECENT_INSPECTION"
  | "SECURITY_DEPOSIT"
  | "BIBOB"
  | "AT_OWN_REQUEST"
  | "OTHER";

export interface Ground {
  admissionNumber: string;
  subjectKvk: string;
  kind: GroundKind;
  /** The fact's own reference: a report id, a signal reference, a housing inspection's day and municipality. */
  reference: string;
  observedOn: IsoDate;
  remedyUntil: IsoDate | null;
  resolvedOn: IsoDate | null;
  /** A public, worker-free line for the decision's explanation. */
  summary: string;
}

const GROUND_REASON: Readonly<Record<GroundKind, RevocationReason>> = {
  HOUSING_VIOLATION: "NORMENKADER",
  INSPECTION_MINOR: "NEGATIVE_INSPECTION",
  INSPECTION_MAJOR: "NEGATIVE_INSPECTION",
  INSPECTION_NOT_ASSESSABLE: "NO_RECENT_INSPECTION",
  TAX_ARREARS: "TAX_ARREARS",
  NO_RECENT_INSPECTION: "NO_RECENT_INSPECTION",
  SECURITY_DEPOSIT: "SECURITY_DEPOSIT",
  BIBOB: "BIBOB",
  AT_OWN_REQUEST: "AT_OWN_REQUEST",
  OTHER: "OTHER",
};

/** The revocation reason a ground becomes in the decision. */
export function reasonOf(kind: GroundKind): RevocationReason {
  return GROUND_REASON[kind];
}

const REPORT_GROUNDS: ReadonlySet<GroundKind> = new Set([
  "INSPECTION_MINOR",
  "INSPECTION_MAJOR",
  "INSPECTION_NOT_ASSESSABLE",
]);

// ---------------------------------------------------------------------------------------------------------------
// Decisions

export type Publication =
  | { topic: "wtta.admission-granted"; value: JsonForm<AdmissionGranted> }
  | { topic: "wtta.register-updated"; value: JsonForm<RegisterEntryUpdated> }
  | { topic: "wtta.admission-revoked"; value: JsonForm<AdmissionRevoked> }
  | { topic: "wtta.admission-refused"; value: JsonForm<AdmissionRefused> };

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

/** What the authority did with a delivered event. */
export type EventOutcome =
  | "no-admission" // about a KvK without an admission in force: recorded, nothing to act on
  | "duplicate" // the same fact again (same reference): nothing new
  | "recorded" // kept (a compliant report, a ground that alone does not revoke)
  | "remedy" // a remedy period opened
  | "resolved" // a compliant report remedied an open ground
  | "revoked"; // the admission was revoked

export interface EventDecision {
  outcome: EventOutcome;
  /** Public, worker-free line for the record of the event. */
  note: string;
  /** The admission the event concerns, if one is in force. */
  admissionNumber: string | null;
  newGrounds: Ground[];
  /** References of grounds (of this admission) remedied on that day. */
  resolved: { reference: string; resolvedOn: IsoDate }[];
  report: ReportRecord | null;
  /** The admission as it is after the decision (revoked), when it changed. */
  admission: Admission | null;
  publish: Publication[];
}

function noAction(outcome: EventOutcome, note: string, admissionNumber: string | null): EventDecision {
  return {
    outcome,
    note,
    admissionNumber,
    newGrounds: [],
    resolved: [],
    report: null,
    admission: null,
    publish: [],
  };
}

/** The admission of a KvK that is in force (provisional or definitive), if any. */
export function admissionInForce(admissions: readonly Admission[], kvk: string): Admission | undefined {
  return admissions.find((a) => a.subjectKvk === kvk && a.status !== "REVOKED");
}

// ---------------------------------------------------------------------------------------------------------------
// Desk: grant-admission

export interface GrantInput {
  subjectKvk: string;
  tradeName: string;
  admissionKind: AdmissionKind;
  validFrom: IsoDate;
  securityDepositCents: number;
  establishedAbroad: boolean;
  countryOfEstablishment: string;
  /** The register number to use; generated when absent. */
  admissionNumber?: string | undefined;
}

export interface GrantDecision {
  admission: Admission;
  publish: Publication[];
}

/** Register number `WTTA-<year of validFrom>-<six digits>`. */
export function admissionNumberFor(validFrom: IsoDate, sequence: number): string {
  return `WTTA-${validFrom.slice(0, 4)}-${String(sequence).padStart(6, "0")}`;
}

/**
 * The latest report on a KvK inspected within RECENT_REPORT_MONTHS before `day` (and not after it). Seed, ch. 2.1:
 * "Onderdeel van de toelatingsvoorwaarden is een recent rapport van een inspectie-instelling waarmee de uitlener
 * onderbouwt dat hij voldoet aan het normenkader".
 */
export function latestRecentReport(
  reports: readonly ReportRecord[],
  kvk: string,
  day: IsoDate,
): ReportRecord | undefined {
  const since = addMonths(day, -RECENT_REPORT_MONTHS);
  return reports
    .filter((r) => r.subjectKvk === kvk && r.inspectionDate >= since && r.inspectionDate <= day)
    .sort((a, b) =>
      a.inspectionDate < b.inspectionDate ? 1 : a.inspectionDate > b.inspectionDate ? -1 : 0,
    )[0];
}

/**
 * What a definitive admission still lacks on `day`. Seed, ch. 2.1: the waarborgsom "die bij de aanvraag van een
 * definitieve toelating ... aangevuld moet worden tot een bedrag van 100.000 euro", and "een recent rapport van een
 * inspectie-instelling" showing the normenkader is met. Returns the refusal reasons (empty: the conditions hold) and
 * the report it relies on.
 */
export function definitiveConditions(
  depositCents: number,
  reports: readonly ReportRecord[],
  kvk: string,
  day: IsoDate,
): {
  missing: ("SECURITY_DEPOSIT" | "NO_RECENT_INSPECTION" | "NEGATIVE_INSPECTION")[];
  report: ReportRecord | null;
} {
  const missing: ("SECURITY_DEPOSIT" | "NO_RECENT_INSPECTION" | "NEGATIVE_INSPECTION")[] = [];
  if (depositCents < DEFINITIVE_DEPOSIT_CENTS) missing.push("SECURITY_DEPOSIT");
  const latest = latestRecentReport(reports, kvk, day);
  if (!latest) missing.push("NO_RECENT_INSPECTION");
  else if (latest.outcome !== "COMPLIANT") missing.push(negativeReason(latest));
  return { missing, report: latest?.outcome === "COMPLIANT" ? latest : null };
}

function negativeReason(r: ReportRecord): "NO_RECENT_INSPECTION" | "NEGATIVE_INSPECTION" {
  return r.outcome === "NOT_ASSESSABLE" ? "NO_RECENT_INSPECTION" : "NEGATIVE_INSPECTION";
}

/**
 * Desk `grant-admission`. Seed, ch. 2.1: "De minister van SZW wordt verantwoordelijk voor het verlenen van
 * toelating aan uitleners"; "Voor startende uitleners geldt bij de aanvraag van een voorlopige toelating een
 * waarborgsom van 50.000 euro"; the definitive admission "in beginsel zes maanden na de ingangsdatum van de voorlopige
 * toelating". A provisional admission needs € 50,000 and runs six months (provisionalUntil = validFrom + 6 months); a
 * definitive one needs € 100,000 and a recent compliant report. Publishes `wtta.admission-granted` and the register
 * entry (`wtta.register-updated`, PROVISIONALLY_ADMITTED or ADMITTED).
 */
export function grantAdmission(
  input: GrantInput,
  state: { admissions: readonly Admission[]; reports: readonly ReportRecord[]; nextSequence: number },
  now: Date,
): GrantDecision {
  if (!isValidKvk(input.subjectKvk))
    throw new DeskRefusal(
      "ch. 2.1 KvK",
      "subjectKvk is not a KvK number.",
      "give the uitlener's eight-digit KvK number",
    );
  if (!isIsoDate(input.validFrom))
    throw new DeskRefusal(
      "ch. 2.1 ingangsdatum",
      "validFrom is not a calendar day.",
      "give validFrom as YYYY-MM-DD",
    );
  if (
    !/^[A-Z]{2}$/.test(input.countryOfEstablishment) ||
    input.establishedAbroad !== (input.countryOfEstablishment !== "NL")
  )
    throw new DeskRefusal(
      "ch. 2.1 buitenlandse uitleners",
      "countryOfEstablishment and establishedAbroad disagree.",
      "give an ISO 3166-1 alpha-2 country; establishedAbroad is true exactly when it is not NL",
    );
  const current = admissionInForce(state.admissions, input.subjectKvk);
  if (current)
    throw new DeskRefusal(
      "ch. 2.1 one admission per uitlener",
      `the uitlener already holds admission ${current.admissionNumber} (${current.status}).`,
      "top up the deposit (top-up-deposit); a provisional admission becomes definitive by itself after six months",
    );
  const admissionNumber = input.admissionNumber ?? admissionNumberFor(input.validFrom, state.nextSequence);
  if (state.admissions.some((a) => a.admissionNumber === admissionNumber))
    throw new DeskRefusal(
      "ch. 2.1 register number",
      `admission number ${admissionNumber} is taken.`,
      "leave admissionNumber out to get a new one",
    );
  if (!Number.isSafeInteger(input.securityDepositCents) || input.securityDepositCents < 0)
    throw new DeskRefusal(
      "ch. 2.1 waarborgsom",
      "securityDepositCents is not an amount in cents.",
      "give whole cents",
    );

  let admission: Admission;
  if (input.admissionKind === "PROVISIONAL") {
    if (input.securityDepositCents < PROVISIONAL_DEPOSIT_CENTS)
      throw new DeskRefusal(
        "ch. 2.1 waarborgsom voorlopige toelating",
        "a provisional admission needs a deposit of € 50,000.",
        "lodge € 50,000 (5000000 cents), or refuse the application (refuse-application, SECURITY_DEPOSIT)",
      );
    admission = {
      admissionNumber,
      subjectKvk: input.subjectKvk,
      tradeName: input.tradeName,
      status: "PROVISIONAL",
      validFrom: input.validFrom,
      provisionalUntil: addMonths(input.validFrom, PROVISIONAL_MONTHS),
      securityDepositCents: input.securityDepositCents,
      establishedAbroad: input.establishedAbroad,
      countryOfEstablishment: input.countryOfEstablishment,
      inspectionReport: null,
      revokedFrom: null,
      revocationReference: null,
    };
  } else {
    const day = dutchDay(now);
    const { missing, report } = definitiveConditions(
      input.securityDepositCents,
      state.reports,
      input.subjectKvk,
      day,
    );
    if (missing.length > 0 || !report)
      throw new DeskRefusal(
        "ch. 2.1 voorwaarden definitieve toelating",
        `a definitive admission needs € 100,000 and a recent compliant inspection report; missing: ${missing.join(", ")}.`,
        `lodge the deposit and have a recent compliant report filed, or refuse the application (refuse-application, reasons ${missing.join(", ")})`,
      );
    admission = {
      admissionNumber,
      subjectKvk: input.subjectKvk,
      tradeName: input.tradeName,
      status: "DEFINITIVE",
      validFrom: input.validFrom,
      provisionalUntil: null,
      securityDepositCents: input.securityDepositCents,
      establishedAbroad: input.establishedAbroad,
      countryOfEstablishment: input.countryOfEstablishment,
      inspectionReport: {
        inspectionBody: report.inspectionBody,
        reportId: report.reportId,
        inspectionDate: report.inspectionDate,
      },
      revokedFrom: null,
      revocationReference: null,
    };
  }
  return { admission, publish: grantedEvents(admission, admission.validFrom, now) };
}

function grantedEvents(a: Admission, effective: IsoDate, now: Date): Publication[] {
  const eventTime = now.toISOString();
  const registerStatus: RegisterStatus = a.status === "PROVISIONAL" ? "PROVISIONALLY_ADMITTED" : "ADMITTED";
  return [
    {
      topic: "wtta.admission-granted",
      value: {
        eventTime,
        subjectKvk: a.subjectKvk,
        tradeName: a.tradeName,
        admissionNumber: a.admissionNumber,
        admissionKind: a.status === "PROVISIONAL" ? "PROVISIONAL" : "DEFINITIVE",
        validFrom: effective,
        provisionalUntil: a.provisionalUntil,
        securityDepositCents: a.securityDepositCents,
        inspectionReport: a.inspectionReport,
        establishedAbroad: a.establishedAbroad,
        countryOfEstablishment: a.countryOfEstablishment,
      },
    },
    {
      topic: "wtta.register-updated",
      value: {
        eventTime,
        subjectKvk: a.subjectKvk,
        tradeName: a.tradeName,
        admissionNumber: a.admissionNumber,
        registerStatus,
        effectiveDate: effective,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Desk: top-up-deposit

/**
 * Desk `top-up-deposit`. Seed, ch. 2.1: the waarborgsom of € 50,000 "die bij de aanvraag van een definitieve
 * toelating ... aangevuld moet worden tot een bedrag van 100.000 euro". Adds to the deposit of the admission in force;
 * nothing is published (the register shows the status, not the deposit): the definitive admission follows from the
 * six-month review (`reviewAdmission`).
 */
export function topUpDeposit(
  input: { subjectKvk: string; amountCents: number },
  admissions: readonly Admission[],
): { admission: Admission; definitiveDepositReached: boolean } {
  if (!isValidKvk(input.subjectKvk))
    throw new DeskRefusal(
      "ch. 2.1 KvK",
      "subjectKvk is not a KvK number.",
      "give the uitlener's eight-digit KvK number",
    );
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0)
    throw new DeskRefusal(
      "ch. 2.1 waarborgsom",
      "amountCents must be a positive whole number of cents.",
      "give the amount added, in cents",
    );
  const current = admissionInForce(admissions, input.subjectKvk);
  if (!current)
    throw new DeskRefusal(
      "ch. 2.1 waarborgsom",
      "the uitlener holds no admission in force.",
      "grant an admission first (grant-admission)",
    );
  const admission = { ...current, securityDepositCents: current.securityDepositCents + input.amountCents };
  return { admission, definitiveDepositReached: admission.securityDepositCents >= DEFINITIVE_DEPOSIT_CENTS };
}

// ---------------------------------------------------------------------------------------------------------------
// Desk: refuse-application

export interface RefuseInput {
  subjectKvk: string;
  tradeName: string;
  applicationReference: string;
  applicationKind: AdmissionKind;
  reasons: RefusalReason[];
  explanation?: string | null | undefined;
}

export interface RefusalRecord {
  applicationReference: string;
  subjectKvk: string;
  applicationKind: AdmissionKind;
  reasons: RefusalReason[];
  decisionReference: string;
  decidedOn: IsoDate;
}

/**
 * Desk `refuse-application`. Seed, ch. 2.1: the minister "toetst of de aanvrager aan alle voorwaarden voor toelating
 * voldoet en of er geen sprake is van een weigeringsgrond", and with the Wet Bibob "kan ... een toelating geweigerd
 * worden". Refuses an application (Bibob, a negative or missing report, no deposit, tax arrears) and publishes
 * `wtta.admission-refused`. A provisional application from an uitlener that is admitted already is not an
 * application to refuse (its admission is revoked instead); one application is refused once.
 */
export function refuseApplication(
  input: RefuseInput,
  state: { admissions: readonly Admission[]; refusals: readonly RefusalRecord[] },
  now: Date,
): { refusal: RefusalRecord; publish: Publication[] } {
  if (!isValidKvk(input.subjectKvk))
    throw new DeskRefusal(
      "ch. 2.1 KvK",
      "subjectKvk is not a KvK number.",
      "give the applicant's eight-digit KvK number",
    );
  if (input.reasons.length === 0)
    throw new DeskRefusal(
      "ch. 2.1 weigeringsgrond",
      "a refusal needs at least one ground.",
      "name the reasons",
    );
  if (state.refusals.some((r) => r.applicationReference === input.applicationReference))
    throw new DeskRefusal(
      "ch. 2.1 weigeringsgrond",
      `application ${input.applicationReference} is refused already.`,
      "each application is decided once; use a new application reference",
    );
  const current = admissionInForce(state.admissions, input.subjectKvk);
  if (current && (input.applicationKind === "PROVISIONAL" || current.status === "DEFINITIVE"))
    throw new DeskRefusal(
      "ch. 2.1 intrekking",
      `the applicant holds admission ${current.admissionNumber} (${current.status}); there is no such application to refuse.`,
      "revoke the admission instead (revoke-admission), or refuse only a definitive application of a provisional holder",
    );
  const day = dutchDay(now);
  const reasons = [...new Set(input.reasons)];
  const refusal: RefusalRecord = {
    applicationReference: input.applicationReference,
    subjectKvk: input.subjectKvk,
    applicationKind: input.applicationKind,
    reasons,
    decisionReference: `SZW/TOEL/WEIG/${input.applicationReference}`,
    decidedOn: day,
  };
  return {
    refusal,
    publish: [
      {
        topic: "wtta.admission-refused",
        value: {
          eventTime: now.toISOString(),
          subjectKvk: input.subjectKvk,
          tradeName: input.tradeName,
          applicationReference: input.applicationReference,
          applicationKind: input.applicationKind,
          reasons,
          decisionReference: refusal.decisionReference,
          explanation: input.explanation ?? null,
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Revocation: when the grounds suffice, and what the decision says

/** Grounds that count on `day`: not remedied, and housing violations within the window. */
export function establishedGrounds(grounds: readonly Ground[], day: IsoDate): Ground[] {
  const housingSince = addMonths(day, -HOUSING_WINDOW_MONTHS);
  return grounds.filter(
    (g) => g.resolvedOn === null && (g.kind !== "HOUSING_VIOLATION" || g.observedOn >= housingSince),
  );
}

/**
 * Whether the grounds of one admission warrant revocation on `day`, and which rule says so. Each trigger is its own
 * rule (seed, ch. 2.1):
 * - tax: "De g-rekening kan worden aangesproken als een uitlener de loonheffingen of de omzetbelasting niet betaalt";
 *   the normenkader covers "afdracht van loonheffing en omzetbelasting": any signal of unpaid tax or a drawn
 *   g-rekening revokes;
 * - report: a report with a MAJOR finding ("ernstige tekortkoming") revokes; MINOR findings only give a remedy period,
 *   and a second negative report within 24 months, or a remedy period that expires unremedied, revokes;
 * - housing: the norms "gaan onder andere over … kwalitatief goede huisvesting": housing violations found on two
 *   different days within 24 months revoke (one is recorded);
 * - the six-month review: no recent compliant report or a deposit not topped up revokes (`reviewAdmission`);
 * - Bibob, at the uitlener's own request, other: the desk's own decision.
 */
export function revocationTrigger(grounds: readonly Ground[], day: IsoDate): string | null {
  const open = establishedGrounds(grounds, day);
  const immediate: GroundKind[] = [
    "TAX_ARREARS",
    "INSPECTION_MAJOR",
    "NO_RECENT_INSPECTION",
    "SECURITY_DEPOSIT",
    "BIBOB",
    "AT_OWN_REQUEST",
    "OTHER",
  ];
  for (const kind of immediate) if (open.some((g) => g.kind === kind)) return `ground ${kind}`;
  const repeatSince = addMonths(day, -REPEAT_REPORT_WINDOW_MONTHS);
  const negative = grounds.filter((g) => REPORT_GROUNDS.has(g.kind) && g.observedOn >= repeatSince);
  if (negative.length >= 2) return "a second negative inspection report within 24 months";
  if (open.some((g) => REPORT_GROUNDS.has(g.kind) && g.remedyUntil !== null && g.remedyUntil < day))
    return "the remedy period expired without a compliant report";
  const housingDays = new Set(open.filter((g) => g.kind === "HOUSING_VIOLATION").map((g) => g.observedOn));
  if (housingDays.size >= 2) return "housing violations on two days within 24 months";
  return null;
}

/** The reasons of a revocation: every established ground, once each, in the schema's order. */
export function revocationReasons(grounds: readonly Ground[], day: IsoDate): RevocationReason[] {
  const present = new Set(establishedGrounds(grounds, day).map((g) => reasonOf(g.kind)));
  return RevocationReason.filter((r) => present.has(r));
}

/**
 * The revocation decision and its two events: `wtta.admission-revoked` (reasons = every established ground) and the
 * register entry NOT_ADMITTED (seed, ch. 2.1: "Inleners kunnen zelf kosteloos in een openbaar register controleren ...
 * of de uitlener met wie zij willen samenwerken, is toegelaten"). Effective the day of the decision.
 */
export function revoke(
  admission: Admission,
  grounds: readonly Ground[],
  now: Date,
  trigger: string,
): { admission: Admission; publish: Publication[] } {
  const day = dutchDay(now);
  const established = establishedGrounds(grounds, day);
  const reasons = revocationReasons(grounds, day);
  const decisionReference = `SZW/TOEL/INTR/${admission.admissionNumber}`;
  const explanation = `Revoked on ${trigger}. Grounds: ${established.map((g) => g.summary).join("; ")}.`;
  const revoked: Admission = {
    ...admission,
    status: "REVOKED",
    revokedFrom: day,
    revocationReference: decisionReference,
  };
  const eventTime = now.toISOString();
  return {
    admission: revoked,
    publish: [
      {
        topic: "wtta.admission-revoked",
        value: {
          eventTime,
          subjectKvk: admission.subjectKvk,
          tradeName: admission.tradeName,
          admissionNumber: admission.admissionNumber,
          effectiveDate: day,
          reasons,
          decisionReference,
          explanation: explanation.slice(0, 1000),
        },
      },
      {
        topic: "wtta.register-updated",
        value: {
          eventTime,
          subjectKvk: admission.subjectKvk,
          tradeName: admission.tradeName,
          admissionNumber: admission.admissionNumber,
          registerStatus: "NOT_ADMITTED",
          effectiveDate: day,
        },
      },
    ],
  };
}

/** Records new grounds against an admission and revokes when the grounds now suffice. */
function decideOnGrounds(
  admission: Admission,
  existing: readonly Ground[],
  newGrounds: Ground[],
  resolved: { reference: string; resolvedOn: IsoDate }[],
  now: Date,
  quiet: { outcome: EventOutcome; note: string },
  report: ReportRecord | null,
): EventDecision {
  const resolvedRefs = new Map(resolved.map((r) => [r.reference, r.resolvedOn]));
  const all = [
    ...existing.map((g) =>
      resolvedRefs.has(g.reference) ? { ...g, resolvedOn: resolvedRefs.get(g.reference)! } : g,
    ),
    ...newGrounds,
  ];
  const trigger = revocationTrigger(all, dutchDay(now));
  const base = { admissionNumber: admission.admissionNumber, newGrounds, resolved, report };
  if (trigger === null) return { ...base, ...quiet, admission: null, publish: [] };
  const r = revoke(admission, all, now, trigger);
  return {
    ...base,
    outcome: "revoked",
    note: `revoked: ${trigger}`,
    admission: r.admission,
    publish: r.publish,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Consumed: inspectie.report-filed

export interface ReportInput {
  subjectKvk: string;
  reportId: string;
  inspectionDate: IsoDate;
  outcome: InspectionOutcome;
  severities: FindingSeverity[];
}

/** What the report handler needs from the delivered view, or why it cannot use it (the handler's Poison). */
export function parseReport(d: Delivered<JsonForm<ReportFiled>>): ReportInput | string {
  if (typeof d.subjectKvk !== "string" || !isValidKvk(d.subjectKvk))
    return "subjectKvk missing or not a KvK number";
  if (typeof d.reportId !== "string" || d.reportId.length === 0) return "reportId missing";
  if (!isIsoDate(d.inspectionDate)) return "inspectionDate missing or not a calendar day";
  if (d.outcome !== "COMPLIANT" && d.outcome !== "NON_COMPLIANT" && d.outcome !== "NOT_ASSESSABLE")
    return "outcome missing";
  const findings = d.findings ?? [];
  const severities: FindingSeverity[] = [];
  for (const f of findings) {
    if (f?.severity !== "MINOR" && f?.severity !== "MAJOR") return "a finding without its severity";
    severities.push(f.severity);
  }
  return {
    subjectKvk: d.subjectKvk,
    reportId: d.reportId,
    inspectionDate: d.inspectionDate,
    outcome: d.outcome,
    severities,
  };
}

/**
 * `inspectie.report-filed`. Seed, ch. 2.1: "Onderdeel van de toelatingsvoorwaarden is een recent rapport van een
 * inspectie-instelling waarmee de uitlener onderbouwt dat hij voldoet aan het normenkader". Every report is kept (a
 * compliant one supports the definitive admission). About an admission in force: NON_COMPLIANT with MINOR findings
 * only opens a remedy period (REMEDY_MONTHS); a MAJOR finding (or no findings to weigh) revokes; NOT_ASSESSABLE counts
 * as a missing report and opens a remedy period too; a second negative report within 24 months revokes; COMPLIANT
 * remedies the open report grounds inspected before it.
 */
export function onReportFiled(
  r: ReportInput,
  inspectionBody: string,
  state: { admissions: readonly Admission[]; grounds: readonly Ground[]; reports: readonly ReportRecord[] },
  now: Date,
): EventDecision {
  const record: ReportRecord = {
    reportId: r.reportId,
    subjectKvk: r.subjectKvk,
    inspectionBody,
    inspectionDate: r.inspectionDate,
    outcome: r.outcome,
    majorFindings: r.severities.filter((s) => s === "MAJOR").length,
    minorFindings: r.severities.filter((s) => s === "MINOR").length,
  };
  if (state.reports.some((x) => x.reportId === r.reportId && x.subjectKvk === r.subjectKvk))
    return noAction("duplicate", `report ${r.reportId} was received before`, null);
  const admission = admissionInForce(state.admissions, r.subjectKvk);
  if (!admission)
    return {
      ...noAction("no-admission", `report ${r.reportId} kept; no admission in force`, null),
      report: record,
    };
  const grounds = state.grounds.filter((g) => g.admissionNumber === admission.admissionNumber);

  if (r.outcome === "COMPLIANT") {
    const resolved = establishedGrounds(grounds, dutchDay(now))
      .filter((g) => REPORT_GROUNDS.has(g.kind) && g.observedOn <= r.inspectionDate)
      .map((g) => ({ reference: g.reference, resolvedOn: r.inspectionDate }));
    return decideOnGrounds(
      admission,
      grounds,
      [],
      resolved,
      now,
      resolved.length > 0
        ? {
            outcome: "resolved",
            note: `compliant report ${r.reportId} remedies ${resolved.length} ground(s)`,
          }
        : { outcome: "recorded", note: `compliant report ${r.reportId}` },
      record,
    );
  }
  const minorOnly = r.severities.length > 0 && r.severities.every((s) => s === "MINOR");
  const kind: GroundKind =
    r.outcome === "NOT_ASSESSABLE"
      ? "INSPECTION_NOT_ASSESSABLE"
      : minorOnly
        ? "INSPECTION_MINOR"
        : "INSPECTION_MAJOR";
  const remedyUntil = kind === "INSPECTION_MAJOR" ? null : addMonths(r.inspectionDate, REMEDY_MONTHS);
  const ground: Ground = {
    admissionNumber: admission.admissionNumber,
    subjectKvk: r.subjectKvk,
    kind,
    reference: `report:${r.reportId}`,
    observedOn: r.inspectionDate,
    remedyUntil,
    resolvedOn: null,
    summary:
      kind === "INSPECTION_NOT_ASSESSABLE"
        ? `report ${r.reportId} (${r.inspectionDate}) could not assess the normenkader`
        : `report ${r.reportId} (${r.inspectionDate}) non-compliant, ${record.majorFindings} major and ${record.minorFindings} minor finding(s)`,
  };
  return decideOnGrounds(
    admission,
    grounds,
    [ground],
    [],
    now,
    { outcome: "remedy", note: `report ${r.reportId}: remedy period until ${remedyUntil ?? "-"}` },
    record,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Consumed: fiscaal.arrears-signalled

export interface ArrearsInput {
  subjectKvk: string;
  signalReference: string;
  kinds: TaxArrearsKind[];
  periodStart: IsoDate | null;
  periodEnd: IsoDate | null;
  signalledOn: IsoDate;
}

export function parseArrears(d: Delivered<JsonForm<TaxArrearsSignalled>>, now: Date): ArrearsInput | string {
  if (typeof d.subjectKvk !== "string" || !isValidKvk(d.subjectKvk))
    return "subjectKvk missing or not a KvK number";
  if (typeof d.signalReference !== "string" || d.signalReference.length === 0)
    return "signalReference missing";
  const kinds = (d.kinds ?? []).filter(
    (k): k is TaxArrearsKind =>
      k === "LOONHEFFING_UNPAID" || k === "OMZETBELASTING_UNPAID" || k === "G_REKENING_DRAWN",
  );
  if (kinds.length === 0) return "kinds missing: the signal says nothing";
  const at = typeof d.eventTime === "string" ? new Date(d.eventTime) : now;
  return {
    subjectKvk: d.subjectKvk,
    signalReference: d.signalReference,
    kinds,
    periodStart: isIsoDate(d.periodStart) ? d.periodStart : null,
    periodEnd: isIsoDate(d.periodEnd) ? d.periodEnd : null,
    signalledOn: dutchDay(Number.isNaN(at.getTime()) ? now : at),
  };
}

/**
 * `fiscaal.arrears-signalled`. Seed, ch. 2.1: the norms cover "afdracht van loonheffing en omzetbelasting", and "De
 * g-rekening kan worden aangesproken als een uitlener de loonheffingen of de omzetbelasting niet betaalt"
 * (aanbeveling 2.1.B). Unpaid loonheffing or omzetbelasting, or a drawn g-rekening, is a TAX_ARREARS ground that
 * revokes the admission in force, with every other established ground as a reason too.
 */
export function onArrearsSignalled(
  s: ArrearsInput,
  state: { admissions: readonly Admission[]; grounds: readonly Ground[] },
  now: Date,
): EventDecision {
  const admission = admissionInForce(state.admissions, s.subjectKvk);
  if (!admission)
    return noAction("no-admission", `signal ${s.signalReference} kept; no admission in force`, null);
  const grounds = state.grounds.filter((g) => g.admissionNumber === admission.admissionNumber);
  const reference = `signal:${s.signalReference}`;
  if (grounds.some((g) => g.reference === reference))
    return noAction(
      "duplicate",
      `signal ${s.signalReference} was received before`,
      admission.admissionNumber,
    );
  const period = s.periodStart && s.periodEnd ? ` over ${s.periodStart} to ${s.periodEnd}` : "";
  const ground: Ground = {
    admissionNumber: admission.admissionNumber,
    subjectKvk: s.subjectKvk,
    kind: "TAX_ARREARS",
    reference,
    observedOn: s.signalledOn,
    remedyUntil: null,
    resolvedOn: null,
    summary: `Belastingdienst signal ${s.signalReference}: ${s.kinds.join(", ")}${period}`,
  };
  return decideOnGrounds(
    admission,
    grounds,
    [ground],
    [],
    now,
    { outcome: "recorded", note: "tax signal" },
    null,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Consumed: huisvesting.violation-found (the view without the address)

export interface HousingInput {
  subjectKvk: string;
  inspectionDate: IsoDate;
  municipalityCode: string;
  violations: string[];
  eventTime: string;
}

export function parseHousing(d: Delivered<JsonForm<ViolationFound>>): HousingInput | string {
  if (typeof d.subjectKvk !== "string" || !isValidKvk(d.subjectKvk))
    return "subjectKvk missing or not a KvK number";
  if (!isIsoDate(d.inspectionDate)) return "inspectionDate missing or not a calendar day";
  const code = d.dwelling?.municipalityCode;
  if (typeof code !== "string" || !isValidGemeentecode(code))
    return "dwelling.municipalityCode missing or invalid";
  const violations: string[] = (d.violations ?? []).filter((v) => typeof v === "string");
  if (violations.length === 0) return "violations missing";
  if (typeof d.eventTime !== "string") return "eventTime missing";
  return {
    subjectKvk: d.subjectKvk,
    inspectionDate: d.inspectionDate,
    municipalityCode: code,
    violations,
    eventTime: d.eventTime,
  };
}

/**
 * `huisvesting.violation-found`. Seed, ch. 2.1: the admission norms "gaan onder andere over … kwalitatief goede
 * huisvesting"; ch. 4.1: "De Wet goed verhuurderschap ziet toe op een landelijke basisnorm voor goed
 * verhuurderschap". A housing violation by an admitted uitlener (as landlord, letting agent or housing employer) is a
 * NORMENKADER ground; violations found on two different days within 24 months revoke. The same finding reported
 * twice (same day, municipality and time) counts once.
 */
export function onHousingViolation(
  h: HousingInput,
  state: { admissions: readonly Admission[]; grounds: readonly Ground[] },
  now: Date,
): EventDecision {
  const admission = admissionInForce(state.admissions, h.subjectKvk);
  if (!admission) return noAction("no-admission", "housing violation kept; no admission in force", null);
  const grounds = state.grounds.filter((g) => g.admissionNumber === admission.admissionNumber);
  const reference = `housing:${h.municipalityCode}:${h.inspectionDate}:${h.eventTime}`;
  if (grounds.some((g) => g.reference === reference))
    return noAction("duplicate", "housing violation received before", admission.admissionNumber);
  const ground: Ground = {
    admissionNumber: admission.admissionNumber,
    subjectKvk: h.subjectKvk,
    kind: "HOUSING_VIOLATION",
    reference,
    observedOn: h.inspectionDate,
    remedyUntil: null,
    resolvedOn: null,
    summary: `housing violation (${h.violations.join(", ")}) found ${h.inspectionDate} in ${h.municipalityCode}`,
  };
  return decideOnGrounds(
    admission,
    grounds,
    [ground],
    [],
    now,
    { outcome: "recorded", note: "housing violation recorded; one alone does not revoke" },
    null,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Desk: revoke-admission (Bibob, own request, other)

/**
 * Desk `revoke-admission`. Seed, ch. 2.1: with the Wet Bibob "kan, in het geval van risico op malafide praktijken,
 * een toelating geweigerd worden of een eerder toegekende toelating worden ingetrokken". The authority's own ground
 * (BIBOB, AT_OWN_REQUEST or OTHER) revokes at once, with every other established ground as a reason too.
 */
export function revokeAtDesk(
  input: {
    subjectKvk: string;
    reason: "BIBOB" | "AT_OWN_REQUEST" | "OTHER";
    reference: string;
    summary: string;
  },
  state: { admissions: readonly Admission[]; grounds: readonly Ground[] },
  now: Date,
): EventDecision {
  if (!isValidKvk(input.subjectKvk))
    throw new DeskRefusal(
      "ch. 2.1 KvK",
      "subjectKvk is not a KvK number.",
      "give the uitlener's eight-digit KvK number",
    );
  const admission = admissionInForce(state.admissions, input.subjectKvk);
  if (!admission)
    throw new DeskRefusal(
      "ch. 2.1 intrekking",
      "the uitlener holds no admission in force.",
      "check the KvK number; a refused applicant is refused with refuse-application",
    );
  const ground: Ground = {
    admissionNumber: admission.admissionNumber,
    subjectKvk: input.subjectKvk,
    kind: input.reason,
    reference: `desk:${input.reference}`,
    observedOn: dutchDay(now),
    remedyUntil: null,
    resolvedOn: null,
    summary: input.summary,
  };
  const grounds = state.grounds.filter((g) => g.admissionNumber === admission.admissionNumber);
  return decideOnGrounds(admission, grounds, [ground], [], now, { outcome: "recorded", note: "" }, null);
}

// ---------------------------------------------------------------------------------------------------------------
// Timer: the six-month review and expired remedy periods

export interface ReviewDecision {
  admissionNumber: string;
  outcome: "definitive" | "revoked";
  admission: Admission;
  newGrounds: Ground[];
  publish: Publication[];
}

/**
 * The review of one admission on `now` (the timer's sweep). Seed, ch. 2.1: the waarborgsom "die bij de aanvraag van
 * een definitieve toelating (in beginsel zes maanden na de ingangsdatum van de voorlopige toelating) aangevuld moet
 * worden tot een bedrag van 100.000 euro", and "een recent rapport van een inspectie-instelling".
 * - A provisional admission is reviewed the day after provisionalUntil (its last day). With € 100,000 and the latest
 *   recent report compliant, it becomes definitive from that day: `wtta.admission-granted` DEFINITIVE and the register
 *   entry ADMITTED. Otherwise it is revoked with NO_RECENT_INSPECTION and/or SECURITY_DEPOSIT (and every other
 *   established ground).
 * - Any admission whose remedy period expired unremedied is revoked (`revocationTrigger`).
 * Returns null when nothing is due.
 */
export function reviewAdmission(
  admission: Admission,
  state: { grounds: readonly Ground[]; reports: readonly ReportRecord[] },
  now: Date,
): ReviewDecision | null {
  if (admission.status === "REVOKED") return null;
  const day = dutchDay(now);
  const grounds = state.grounds.filter((g) => g.admissionNumber === admission.admissionNumber);
  if (
    admission.status === "PROVISIONAL" &&
    admission.provisionalUntil !== null &&
    day > admission.provisionalUntil
  ) {
    const { missing, report } = definitiveConditions(
      admission.securityDepositCents,
      state.reports,
      admission.subjectKvk,
      day,
    );
    const trigger = revocationTrigger(grounds, day);
    if (missing.length === 0 && report && trigger === null) {
      const definitive: Admission = {
        ...admission,
        status: "DEFINITIVE",
        provisionalUntil: null,
        inspectionReport: {
          inspectionBody: report.inspectionBody,
          reportId: report.reportId,
          inspectionDate: report.inspectionDate,
        },
      };
      return {
        admissionNumber: admission.admissionNumber,
        outcome: "definitive",
        admission: definitive,
        newGrounds: [],
        publish: grantedEvents(definitive, addDays(admission.provisionalUntil, 1), now),
      };
    }
    const ground = (kind: "SECURITY_DEPOSIT" | "NO_RECENT_INSPECTION", summary: string): Ground => ({
      admissionNumber: admission.admissionNumber,
      subjectKvk: admission.subjectKvk,
      kind,
      reference: `review:${admission.provisionalUntil}:${kind}`,
      observedOn: day,
      remedyUntil: null,
      resolvedOn: null,
      summary,
    });
    const newGrounds: Ground[] = [];
    if (missing.includes("NO_RECENT_INSPECTION") || missing.includes("NEGATIVE_INSPECTION"))
      newGrounds.push(
        ground(
          "NO_RECENT_INSPECTION",
          "no recent compliant inspection report at the end of the provisional admission",
        ),
      );
    if (missing.includes("SECURITY_DEPOSIT"))
      newGrounds.push(
        ground(
          "SECURITY_DEPOSIT",
          "deposit not topped up to € 100,000 at the end of the provisional admission",
        ),
      );
    const all = [...grounds, ...newGrounds];
    const r = revoke(admission, all, now, trigger ?? "the end of the provisional admission");
    return {
      admissionNumber: admission.admissionNumber,
      outcome: "revoked",
      admission: r.admission,
      newGrounds,
      publish: r.publish,
    };
  }
  const trigger = revocationTrigger(grounds, day);
  if (trigger === null) return null;
  const r = revoke(admission, grounds, now, trigger);
  return {
    admissionNumber: admission.admissionNumber,
    outcome: "revoked",
    admission: r.admission,
    newGrounds: [],
    publish: r.publish,
  };
}
