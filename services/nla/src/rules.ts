/**
 * The Nederlandse Arbeidsinspectie's domain rules, pure: the input is what the party receives (the delivered value
 * in its JSON form, every field optional because a consumer gets a projection) and the service's current state as
 * plain rows; the output is a decision (rows to write, events to publish) as plain data. No I/O here: the wiring in
 * `agency.ts` loads the rows, calls a rule and applies its decision in one transaction.
 *
 * Seed: the seed (Jaarrapportage arbeidsmigranten 2023), ch. 2.1 (toelatingsplicht and its supervision), ch. 2.3
 * (meld- en vergewisplicht, aanbeveling 2.1.G) and ch. 6 (LSI, AMU).
 */
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidBsn,
  isValidGemeentecode,
  isValidKvk,
  type AccidentReported,
  type AccidentSeverity,
  type AdmissionGranted,
  type AdmissionRevoked,
  type AmuConcern,
  type AmuPartner,
  type JointCaseOpened,
  type ReportFiled,
  type ReturnVerified,
  type SignalKind,
  type SignalRaised,
  type ViolationFound,
} from "@grondslag/schemas";

// ---------------------------------------------------------------------------------------------------------------
// What a party receives: the JSON form of the event (timestamps as ISO instants, dates as YYYY-MM-DD), projected.

/** The JSON form of an event (timestamps as ISO instants, dates `YYYY-MM-DD`), and what a party receives:
 * that form projected to its view, any field at any depth absent (the SDK's types, through the runtime). */
export type JsonForm<T> = JsonForm_<T>;
export type Received<T> = Projected<T>;

/** A delivery that the service cannot use and never will: the wiring throws `Poison(reason)` with it. */
export interface Refusal {
  readonly ok: false;
  /** Names the rule and the fix; never a BSN or a name. */
  readonly reason: string;
}
export type Parsed<T> = { readonly ok: true; readonly value: T } | Refusal;

const refuse = (reason: string): Refusal => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------------------------------
// Configuration

export interface NlaConfig {
  /** Days after the accident (Dutch calendar date) by which the uitlener's return check must be on record. */
  readonly returnCheckDays: number;
  /** Days a partner's LSI signal counts towards a joint AMU case. */
  readonly amuWindowDays: number;
}

/**
 * Defaults, justified in the README: 14 days for the return check (the check must come before the worker resumes
 * work, and after a serious accident a return within two weeks is possible, so a later deadline would only ever
 * find resumed work); 180 days for the AMU window (two signals half a year apart still describe one uitlener's
 * conduct; older signals stand on their own).
 */
export const DEFAULT_CONFIG: NlaConfig = { returnCheckDays: 14, amuWindowDays: 180 };

/** Reads the configuration from the environment (`NLA_RETURN_CHECK_DAYS`, `NLA_AMU_WINDOW_DAYS`). */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): NlaConfig {
  const days = (name: string, fallback: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new Error(
        `${name} must be a whole number of days from 1 to ${max}, got "${raw}": fix the environment`,
      );
    }
    return n;
  };
  return {
    returnCheckDays: days("NLA_RETURN_CHECK_DAYS", DEFAULT_CONFIG.returnCheckDays, 365),
    amuWindowDays: days("NLA_AMU_WINDOW_DAYS", DEFAULT_CONFIG.amuWindowDays, 730),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Dates. The seed's deadlines are Dutch calendar days, so an instant is read as a date in Europe/Amsterdam.

const amsterdam = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Amsterdam",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

/** The Dutch calendar date (YYYY-MM-DD) of an instant. */
export function dutchDate(instant: Date): string {
  return amsterdam.format(instant);
}

/** A YYYY-MM-DD date plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const isIsoDate = (v: unknown): v is string =>
  typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`));
const isInstant = (v: unknown): v is string => typeof v === "string" && !Number.isNaN(Date.parse(v));
const nonEmpty = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";

// ---------------------------------------------------------------------------------------------------------------
// State rows (the wiring maps them to and from the tables in agency.ts)

export type CheckStatus = "OPEN" | "VERIFIED" | "VERIFIED_LATE" | "OVERDUE";

export interface AccidentCase {
  caseRef: string;
  inlenerKvk: string;
  /** The uitlener that lent the victim, once a report names one (null: the victim was the inlener's own worker). */
  uitlenerKvk: string | null;
  victimBsn: string;
  /** ISO instant. */
  accidentTime: string;
  severity: AccidentSeverity;
  /** Last day (YYYY-MM-DD) on which the uitlener's return check is on time. */
  checkDeadline: string;
  checkStatus: CheckStatus;
  verifiedOn: string | null;
  workResumed: boolean | null;
  openedAt: string;
}

export interface ReportRow {
  /** The party that reported (inlener.<kvk> or uitlener.<kvk>). */
  producer: string;
  reportReference: string;
  caseRef: string;
  subjectKvk: string;
  receivedAt: string;
}

/** An inlener known to hire (lent) workers from an uitlener, learnt from the accident reports. */
export interface HiringPair {
  inlenerKvk: string;
  uitlenerKvk: string;
  firstSeen: string;
  lastSeen: string;
  /** Set when an inspector established that the inlener no longer hires from this uitlener (desk `end-hiring`). */
  endedOn: string | null;
}

export type FlagKind = "WORK_RESUMED_BEFORE_VERIFICATION" | "DEADLINE_PASSED_WHILE_HIRING";

export interface CaseFlag {
  caseRef: string;
  kind: FlagKind;
  flaggedAt: string;
}

/** A return check that arrived before any report of its accident (topics are not ordered against each other). */
export interface PendingVerification {
  subjectKvk: string;
  accidentReportReference: string;
  inlenerKvk: string;
  workerBsn: string;
  verifiedOn: string;
  workResumed: boolean;
  receivedAt: string;
}

export type AdmissionStatus = "ADMITTED" | "REVOKED";

export interface AdmissionRow {
  uitlenerKvk: string;
  status: AdmissionStatus;
  admissionNumber: string | null;
  /** ISO instant of the decision the status comes from (grant or revocation). */
  decidedAt: string;
  /** Revocation only: first day the uitlener is no longer admitted. */
  effectiveDate: string | null;
  decisionReference: string | null;
  /** Revocation only: when the inleners still hiring were acted on (null: not yet, the effective date lies ahead). */
  actedAt: string | null;
}

export type EnforcementCause = "HIRING_AFTER_REVOCATION" | "ACCIDENT_AFTER_REVOCATION";

/** "Inleners die gebruik maken van niet-toegelaten uitleners krijgen een bestuurlijke boete" (ch. 2.1). */
export interface EnforcementAction {
  inlenerKvk: string;
  uitlenerKvk: string;
  /** The revocation decision that made the uitlener non-admitted. */
  decisionReference: string;
  cause: EnforcementCause;
  action: "BESTUURLIJKE_BOETE_ONDERZOEK";
  recordedAt: string;
}

export interface SignalRow {
  producer: string;
  signalReference: string;
  subjectKvk: string;
  kind: SignalKind;
  municipalityCode: string | null;
  /** ISO instant the signal was raised (its eventTime). */
  raisedAt: string;
}

export interface AmuCaseRow {
  subjectKvk: string;
  caseReference: string;
  /** The party that opened it (nla, or a partner whose case nla received). */
  openedBy: string;
  partners: AmuPartner[];
  concerns: AmuConcern[];
  openedAt: string;
}

export interface HousingViolationRow {
  caseReference: string;
  producer: string;
  subjectKvk: string;
  inspectionDate: string;
  municipalityCode: string | null;
  violations: string[];
  receivedAt: string;
}

export interface InspectionReportRow {
  reportId: string;
  producer: string;
  subjectKvk: string;
  inspectionDate: string;
  outcome: string;
  majorFindings: number;
  receivedAt: string;
}

/** An event for the outbox: `value` is the JSON form of the topic's event; the legal basis is the producer entry. */
export type Publication =
  | { topic: "lsi.signal-raised"; value: JsonForm<SignalRaised> }
  | { topic: "amu.case-opened"; value: JsonForm<JointCaseOpened> };

// ---------------------------------------------------------------------------------------------------------------
// arbo.accident-reported

export interface AccidentReport {
  subjectKvk: string;
  reportReference: string;
  accidentTime: string;
  severity: AccidentSeverity;
  inlenerKvk: string;
  victimBsn: string;
  agencyWorker: boolean;
  municipalityCode: string | null;
}

/** Checks what the accident rules need from a delivered report; the victim's BSN never appears in the reason. */
export function parseAccidentReport(v: Received<AccidentReported>): Parsed<AccidentReport> {
  const rule = "arbo.accident-reported (ch. 2.3)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(
      `${rule}: subjectKvk is missing or not eight digits; the reporter must name the uitlener's KvK`,
    );
  if (!nonEmpty(v.reportReference))
    return refuse(`${rule}: reportReference is missing; the reporter must give its kenmerk melding`);
  if (!isInstant(v.accidentTime))
    return refuse(`${rule}: accidentTime is missing or not an instant; the report must say when it happened`);
  if (v.severity !== "SERIOUS" && v.severity !== "FATAL")
    return refuse(`${rule}: severity is missing or unknown; only SERIOUS and FATAL accidents are reportable`);
  if (!nonEmpty(v.inlener?.kvk) || !isValidKvk(v.inlener.kvk))
    return refuse(
      `${rule}: inlener.kvk is missing or not eight digits; the report must name the workplace's company`,
    );
  if (!nonEmpty(v.victim?.bsn) || !isValidBsn(v.victim.bsn))
    return refuse(
      `${rule}: victim.bsn is missing or fails the elfproef; the report must identify the victim`,
    );
  const code = v.location?.municipalityCode;
  if (code !== undefined && !isValidGemeentecode(code))
    return refuse(`${rule}: location.municipalityCode is not a gemeentecode (GM and four digits)`);
  return {
    ok: true,
    value: {
      subjectKvk: v.subjectKvk,
      reportReference: v.reportReference,
      accidentTime: new Date(v.accidentTime).toISOString(),
      severity: v.severity,
      inlenerKvk: v.inlener.kvk,
      victimBsn: v.victim.bsn,
      agencyWorker: v.victim.agencyWorker === true,
      municipalityCode: code ?? null,
    },
  };
}

/** The case key: one case per accident, whoever reports it. */
export function sameAccident(
  c: Pick<AccidentCase, "inlenerKvk" | "victimBsn" | "accidentTime">,
  r: AccidentReport,
) {
  return (
    c.inlenerKvk === r.inlenerKvk &&
    c.victimBsn === r.victimBsn &&
    new Date(c.accidentTime).getTime() === new Date(r.accidentTime).getTime()
  );
}

/** The uitlener a report names, or null when the victim was the inlener's own worker. */
export function lenderOf(r: AccidentReport): string | null {
  return r.agencyWorker && r.subjectKvk !== r.inlenerKvk ? r.subjectKvk : null;
}

export interface AccidentState {
  /** The case of the same accident, if one is open (looked up by inlener KvK, victim BSN and accident time). */
  existingCase: AccidentCase | null;
  /** Whether this reporter's report with this reference is already on record (a republished report). */
  reportSeen: boolean;
  /** The admission on record for the uitlener the report names. */
  admission: AdmissionRow | null;
  /** Return checks that arrived before a report of their accident, for this inlener and victim. */
  pendingVerifications: PendingVerification[];
}

export interface AccidentDecision {
  duplicate: boolean;
  /** A new case, or the existing one updated (its uitlener learnt from a second report, a pending check applied). */
  upsertCase: AccidentCase | null;
  joinedExisting: boolean;
  report: ReportRow | null;
  pair: { inlenerKvk: string; uitlenerKvk: string; seenAt: string } | null;
  enforcement: EnforcementAction[];
  flags: CaseFlag[];
  /** Pending verifications now applied to the case (to delete). */
  appliedVerifications: PendingVerification[];
}

/**
 * Seed, ch. 2.3: the uitlener "moet ... vaststellen of het veilig is om weer aan het werk te gaan bij dezelfde
 * inlener", and ch. 2.1 (aanbeveling 2.1.G): the uitlener reports "ernstige en/of dodelijke arbeidsongevallen" to
 * the Arbeidsinspectie. A SERIOUS or FATAL report opens a case with a deadline for the uitlener's return check; a
 * second report of the same accident (same inlener, victim and accident time: the inlener's Arbowet report and the
 * uitlener's report) joins it. The report also teaches which inlener hires from which uitlener; and an accident at an
 * inlener after the uitlener's revocation took effect is itself hiring from a non-admitted uitlener (ch. 2.1:
 * "Inleners die gebruik maken van niet-toegelaten uitleners krijgen een bestuurlijke boete").
 */
export function onAccidentReported(input: {
  report: AccidentReport;
  producer: string;
  newCaseRef: string;
  now: Date;
  state: AccidentState;
  config: NlaConfig;
}): AccidentDecision {
  const { report, producer, now, state, config } = input;
  const at = now.toISOString();
  const none: AccidentDecision = {
    duplicate: true,
    upsertCase: null,
    joinedExisting: false,
    report: null,
    pair: null,
    enforcement: [],
    flags: [],
    appliedVerifications: [],
  };
  if (state.reportSeen) return none;

  const lender = lenderOf(report);
  let theCase: AccidentCase;
  let joined = false;
  if (state.existingCase && sameAccident(state.existingCase, report)) {
    joined = true;
    theCase = { ...state.existingCase, uitlenerKvk: state.existingCase.uitlenerKvk ?? lender };
  } else {
    theCase = {
      caseRef: input.newCaseRef,
      inlenerKvk: report.inlenerKvk,
      uitlenerKvk: lender,
      victimBsn: report.victimBsn,
      accidentTime: report.accidentTime,
      severity: report.severity,
      checkDeadline: addDays(dutchDate(new Date(report.accidentTime)), config.returnCheckDays),
      checkStatus: "OPEN",
      verifiedOn: null,
      workResumed: null,
      openedAt: at,
    };
  }
  // A FATAL report of an accident first reported as SERIOUS: the case takes the graver category.
  if (report.severity === "FATAL") theCase.severity = "FATAL";

  const flags: CaseFlag[] = [];
  const applied: PendingVerification[] = [];
  if (theCase.checkStatus === "OPEN" || theCase.checkStatus === "OVERDUE") {
    const pending = state.pendingVerifications.find(
      (p) =>
        p.inlenerKvk === theCase.inlenerKvk &&
        p.workerBsn === theCase.victimBsn &&
        p.verifiedOn >= dutchDate(new Date(theCase.accidentTime)),
    );
    if (pending) {
      applied.push(pending);
      const v = applyVerification(theCase, pending, at);
      theCase = v.updated;
      flags.push(...v.flags);
    }
  }

  const enforcement: EnforcementAction[] = [];
  const adm = state.admission;
  if (
    lender !== null &&
    adm?.status === "REVOKED" &&
    adm.uitlenerKvk === lender &&
    adm.effectiveDate !== null &&
    adm.decisionReference !== null &&
    dutchDate(new Date(report.accidentTime)) >= adm.effectiveDate
  ) {
    enforcement.push({
      inlenerKvk: report.inlenerKvk,
      uitlenerKvk: lender,
      decisionReference: adm.decisionReference,
      cause: "ACCIDENT_AFTER_REVOCATION",
      action: "BESTUURLIJKE_BOETE_ONDERZOEK",
      recordedAt: at,
    });
  }

  return {
    duplicate: false,
    upsertCase: theCase,
    joinedExisting: joined,
    report: {
      producer,
      reportReference: report.reportReference,
      caseRef: theCase.caseRef,
      subjectKvk: report.subjectKvk,
      receivedAt: at,
    },
    pair: lender === null ? null : { inlenerKvk: report.inlenerKvk, uitlenerKvk: lender, seenAt: at },
    enforcement,
    flags,
    appliedVerifications: applied,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// arbo.return-verified

/** Checks what the return-check rule needs from a delivered verification. */
export function parseReturnVerified(v: Received<ReturnVerified>): Parsed<PendingVerification> {
  const rule = "arbo.return-verified (aanbeveling 2.1.G)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits; the uitlener must name its own KvK`);
  if (!nonEmpty(v.accidentReportReference))
    return refuse(`${rule}: accidentReportReference is missing; the check must name the report it follows`);
  if (!nonEmpty(v.inlenerKvk) || !isValidKvk(v.inlenerKvk))
    return refuse(`${rule}: inlenerKvk is missing or not eight digits; the check must name the inlener`);
  if (!nonEmpty(v.workerBsn) || !isValidBsn(v.workerBsn))
    return refuse(`${rule}: workerBsn is missing or fails the elfproef; the check must identify the worker`);
  if (!isIsoDate(v.verifiedOn)) return refuse(`${rule}: verifiedOn is missing or not a YYYY-MM-DD date`);
  if (typeof v.workResumed !== "boolean")
    return refuse(`${rule}: workResumed is missing; the check must say whether work resumed`);
  return {
    ok: true,
    value: {
      subjectKvk: v.subjectKvk,
      accidentReportReference: v.accidentReportReference,
      inlenerKvk: v.inlenerKvk,
      workerBsn: v.workerBsn,
      verifiedOn: v.verifiedOn,
      workResumed: v.workResumed,
      receivedAt: "",
    },
  };
}

function applyVerification(c: AccidentCase, v: PendingVerification, at: string) {
  const late = v.verifiedOn > c.checkDeadline;
  const updated: AccidentCase = {
    ...c,
    checkStatus: late ? "VERIFIED_LATE" : "VERIFIED",
    verifiedOn: v.verifiedOn,
    workResumed: v.workResumed,
  };
  const flags: CaseFlag[] =
    late && v.workResumed
      ? [{ caseRef: c.caseRef, kind: "WORK_RESUMED_BEFORE_VERIFICATION", flaggedAt: at }]
      : [];
  return { updated, flags };
}

export interface ReturnCheckDecision {
  /** The case updated, or null when no case is known yet (then `pending` keeps the check for the case to come). */
  updatedCase: AccidentCase | null;
  pending: PendingVerification | null;
  flags: CaseFlag[];
  /** The verification shows the inlener still has the uitlener's worker: the pair is seen again. */
  pair: { inlenerKvk: string; uitlenerKvk: string; seenAt: string } | null;
  duplicate: boolean;
}

/**
 * Seed, ch. 2.1 (aanbeveling 2.1.G): the uitlener checks "of er voldoende maatregelen zijn genomen door de inlener
 * zodat de werknemer weer veilig aan het werk kan gaan". The check closes the case's open return check: on time
 * (verified on or before the deadline) or late; late with `workResumed` means work resumed before verification and
 * is flagged. A check whose accident is not on record yet is kept and applied when the report arrives (the two
 * topics are not ordered against each other). A second check for a closed case changes nothing.
 */
export function onReturnVerified(input: {
  verification: PendingVerification;
  /** The case the check belongs to: by report reference, else the open case for this inlener and worker. */
  theCase: AccidentCase | null;
  now: Date;
}): ReturnCheckDecision {
  const at = input.now.toISOString();
  const v = { ...input.verification, receivedAt: at };
  const pair = v.workResumed ? { inlenerKvk: v.inlenerKvk, uitlenerKvk: v.subjectKvk, seenAt: at } : null;
  const c = input.theCase;
  if (c === null) return { updatedCase: null, pending: v, flags: [], pair, duplicate: false };
  if (c.checkStatus === "VERIFIED" || c.checkStatus === "VERIFIED_LATE")
    return { updatedCase: null, pending: null, flags: [], pair: null, duplicate: true };
  const { updated, flags } = applyVerification(c, v, at);
  return { updatedCase: updated, pending: null, flags, pair, duplicate: false };
}

/** Whether an inlener still hires from an uitlener: a pair on record that no inspector has ended. */
export function stillHires(pairs: readonly HiringPair[], inlenerKvk: string, uitlenerKvk: string): boolean {
  return pairs.some(
    (p) => p.inlenerKvk === inlenerKvk && p.uitlenerKvk === uitlenerKvk && p.endedOn === null,
  );
}

/**
 * Seed, ch. 2.3: "moet het uitzendbureau vaststellen of het veilig is om weer aan het werk te gaan bij dezelfde
 * inlener". The deadline sweep: an open return check whose deadline has passed (today, a Dutch date, is after it)
 * while the inlener still hires from that uitlener is flagged once and marked OVERDUE. A case without an uitlener
 * (the victim was the inlener's own worker) has no uitlener's check; an ended pair is not flagged.
 */
export function overdueChecks(input: {
  cases: readonly AccidentCase[];
  pairs: readonly HiringPair[];
  now: Date;
}) {
  const today = dutchDate(input.now);
  const at = input.now.toISOString();
  const overdue: AccidentCase[] = [];
  const flags: CaseFlag[] = [];
  for (const c of input.cases) {
    if (c.checkStatus !== "OPEN" || c.uitlenerKvk === null || today <= c.checkDeadline) continue;
    if (!stillHires(input.pairs, c.inlenerKvk, c.uitlenerKvk)) continue;
    overdue.push({ ...c, checkStatus: "OVERDUE" });
    flags.push({ caseRef: c.caseRef, kind: "DEADLINE_PASSED_WHILE_HIRING", flaggedAt: at });
  }
  return { overdue, flags };
}

// ---------------------------------------------------------------------------------------------------------------
// wtta.admission-granted / wtta.admission-revoked

export function parseAdmissionGranted(v: Received<AdmissionGranted>): Parsed<AdmissionRow> {
  const rule = "wtta.admission-granted (ch. 2.1)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!nonEmpty(v.admissionNumber)) return refuse(`${rule}: admissionNumber is missing`);
  if (!isInstant(v.eventTime)) return refuse(`${rule}: eventTime is missing or not an instant`);
  return {
    ok: true,
    value: {
      uitlenerKvk: v.subjectKvk,
      status: "ADMITTED",
      admissionNumber: v.admissionNumber,
      decidedAt: new Date(v.eventTime).toISOString(),
      effectiveDate: null,
      decisionReference: null,
      actedAt: null,
    },
  };
}

/**
 * Seed, ch. 2.1: "De minister van SZW wordt verantwoordelijk voor het verlenen van toelating aan uitleners". A grant
 * records the uitlener as admitted, unless a later revocation is on record (events of one uitlener arrive in order,
 * but a grant and a revocation come on different topics: the later decision wins).
 */
export function onAdmissionGranted(grant: AdmissionRow, current: AdmissionRow | null): AdmissionRow | null {
  if (current && current.decidedAt > grant.decidedAt) return null;
  return grant;
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
      admissionNumber: v.admissionNumber ?? null,
      decidedAt: new Date(v.eventTime).toISOString(),
      effectiveDate: v.effectiveDate,
      decisionReference: v.decisionReference,
      actedAt: null,
    },
  };
}

export interface RevocationDecision {
  /** The admission row to write (null: nothing changes, e.g. the same decision again). */
  admission: AdmissionRow | null;
  enforcement: EnforcementAction[];
  /** Own signals, recorded in the signal table as well as published. */
  signals: SignalRow[];
  publish: Publication[];
}

/**
 * Seed, ch. 2.1: "De Arbeidsinspectie zal toezicht houden op de naleving van de toelatingsplicht door uitleners en
 * inleners ... Inleners die gebruik maken van niet-toegelaten uitleners krijgen een bestuurlijke boete opgelegd door
 * de Arbeidsinspectie (aanbeveling 2.1.F)". Once a revocation has taken effect (its effective date is today or
 * earlier), every inlener still hiring from that uitlener gets an enforcement action (a fine investigation), and
 * nla raises one LSI signal UNADMITTED_LENDING about the uitlener, without persons (ch. 6.1, Wet SUWI art. 64).
 * A revocation that takes effect later is kept and acted on by the daily sweep (`dueRevocations`). Nothing is done
 * twice for the same decision, and nothing when no inlener is known to still hire from the uitlener.
 */
export function onAdmissionRevoked(input: {
  revocation: AdmissionRow;
  current: AdmissionRow | null;
  pairs: readonly HiringPair[];
  now: Date;
}): RevocationDecision {
  const { revocation, current, now } = input;
  const nothing: RevocationDecision = { admission: null, enforcement: [], signals: [], publish: [] };
  if (current && current.decisionReference === revocation.decisionReference) {
    // The same decision again: act only if it was kept for later and is due now.
    if (current.actedAt !== null) return nothing;
    return actOnRevocation(current, input.pairs, now);
  }
  if (current && current.decidedAt > revocation.decidedAt) return nothing;
  return actOnRevocation(revocation, input.pairs, now);
}

function actOnRevocation(rev: AdmissionRow, pairs: readonly HiringPair[], now: Date): RevocationDecision {
  const today = dutchDate(now);
  if (rev.effectiveDate === null || rev.decisionReference === null || rev.effectiveDate > today) {
    return { admission: rev, enforcement: [], signals: [], publish: [] };
  }
  const at = now.toISOString();
  const hiring = pairs.filter((p) => p.uitlenerKvk === rev.uitlenerKvk && p.endedOn === null);
  const inleners = [...new Set(hiring.map((p) => p.inlenerKvk))].sort();
  const enforcement = inleners.map((inlenerKvk): EnforcementAction => ({
    inlenerKvk,
    uitlenerKvk: rev.uitlenerKvk,
    decisionReference: rev.decisionReference!,
    cause: "HIRING_AFTER_REVOCATION",
    action: "BESTUURLIJKE_BOETE_ONDERZOEK",
    recordedAt: at,
  }));
  const admission = { ...rev, actedAt: at };
  if (inleners.length === 0) return { admission, enforcement, signals: [], publish: [] };
  const signalReference = `NLA-TOEL-${rev.decisionReference}`;
  const summary =
    `Uitlener niet meer toegelaten sinds ${rev.effectiveDate} (besluit ${rev.decisionReference}); ` +
    `${inleners.length} inlener(s) lenen volgens meldingen bij de Arbeidsinspectie nog arbeidskrachten van deze ` +
    `uitlener in. De Arbeidsinspectie onderzoekt een bestuurlijke boete per inlener.`;
  const value: JsonForm<SignalRaised> = {
    eventTime: at,
    subjectKvk: rev.uitlenerKvk,
    signalReference,
    kind: "UNADMITTED_LENDING",
    municipalityCode: null,
    persons: [],
    summary,
  };
  return {
    admission,
    enforcement,
    signals: [
      {
        producer: "nla",
        signalReference,
        subjectKvk: rev.uitlenerKvk,
        kind: "UNADMITTED_LENDING",
        municipalityCode: null,
        raisedAt: at,
      },
    ],
    publish: [{ topic: "lsi.signal-raised", value }],
  };
}

/** The daily sweep over revocations kept for later: those whose effective date has come are acted on now. */
export function dueRevocations(input: {
  admissions: readonly AdmissionRow[];
  pairs: readonly HiringPair[];
  now: Date;
}): RevocationDecision[] {
  const today = dutchDate(input.now);
  return input.admissions
    .filter(
      (a) =>
        a.status === "REVOKED" && a.actedAt === null && a.effectiveDate !== null && a.effectiveDate <= today,
    )
    .map((a) => actOnRevocation(a, input.pairs, input.now));
}

// ---------------------------------------------------------------------------------------------------------------
// lsi.signal-raised, amu.case-opened, and the joint AMU case

export function parseSignal(v: Received<SignalRaised>, producer: string): Parsed<SignalRow> {
  const rule = "lsi.signal-raised (ch. 6.1)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!nonEmpty(v.signalReference)) return refuse(`${rule}: signalReference is missing`);
  if (!nonEmpty(v.kind)) return refuse(`${rule}: kind is missing`);
  if (!isInstant(v.eventTime)) return refuse(`${rule}: eventTime is missing or not an instant`);
  const code = v.municipalityCode ?? null;
  if (code !== null && !isValidGemeentecode(code))
    return refuse(`${rule}: municipalityCode is not a gemeentecode`);
  return {
    ok: true,
    value: {
      producer,
      signalReference: v.signalReference,
      subjectKvk: v.subjectKvk,
      kind: v.kind,
      municipalityCode: code,
      raisedAt: new Date(v.eventTime).toISOString(),
    },
  };
}

/** The AMU partners by party id (ch. 6: Belastingdienst, UWV, Arbeidsinspectie; the SVB from 2023). */
const AMU_PARTNER_OF: Readonly<Record<string, AmuPartner>> = {
  nla: "NLA",
  belastingdienst: "BELASTINGDIENST",
  uwv: "UWV",
  svb: "SVB",
};
export const amuPartnerOf = (party: string): AmuPartner | null => AMU_PARTNER_OF[party] ?? null;

/**
 * What an AMU case is about, from the signal kinds. Seed, ch. 6: "overtreding van arbeidswetten,
 * belastingontduiking, vervalsing van identiteitsdocumenten, gefingeerde dienstverbanden en georganiseerde
 * uitkeringsfraude", and "grensoverschrijdende problematiek".
 */
export const CONCERN_OF: Readonly<Record<SignalKind, AmuConcern | null>> = {
  UNDERPAYMENT: "LABOUR_LAW",
  G_ACCOUNT_DEFAULT: "TAX_EVASION",
  SHAM_POSTING: "CROSS_BORDER",
  SHAM_SELF_EMPLOYMENT: "FICTITIOUS_EMPLOYMENT",
  ADDRESS_FRAUD: "BENEFIT_FRAUD",
  UNADMITTED_LENDING: "LABOUR_LAW",
  HOUSING_ABUSE: "LABOUR_LAW",
  EXPLOITATION: "LABOUR_LAW",
  OTHER: null,
};

const PARTNER_ORDER: readonly AmuPartner[] = ["NLA", "BELASTINGDIENST", "UWV", "SVB"];
const CONCERN_ORDER: readonly AmuConcern[] = [
  "LABOUR_LAW",
  "TAX_EVASION",
  "FORGED_IDENTITY",
  "FICTITIOUS_EMPLOYMENT",
  "BENEFIT_FRAUD",
  "CROSS_BORDER",
];

export interface SignalDecision {
  /** The signal to record (null: the same signal again). */
  record: SignalRow | null;
  amuCase: AmuCaseRow | null;
  publish: Publication[];
}

/**
 * Seed, ch. 6: in the AMU "werken de Belastingdienst, het UWV en de Arbeidsinspectie samen aan complexe zaken waarbij
 * uitzendbureaus zijn betrokken ... Er vinden gezamenlijke analyses en onderzoeken plaats" (the SVB joined in 2023).
 * When signals from at least two distinct AMU partners (nla's own included) about one KvK number are on record
 * within the window, nla opens one joint case for that KvK (`amu.case-opened`): the partners are the signalling
 * ones, the concerns come from the signal kinds (LABOUR_LAW when no kind names one). Municipalities' signals are
 * recorded but do not count (they are no AMU partners). Never a second case for a KvK with one on record, whoever
 * opened it.
 */
export function amuDecision(input: {
  subjectKvk: string;
  signals: readonly SignalRow[];
  existingCase: AmuCaseRow | null;
  now: Date;
  config: NlaConfig;
}): { amuCase: AmuCaseRow | null; publish: Publication[] } {
  if (input.existingCase) return { amuCase: null, publish: [] };
  const since = input.now.getTime() - input.config.amuWindowDays * 86_400_000;
  const inWindow = input.signals.filter(
    (s) =>
      s.subjectKvk === input.subjectKvk &&
      amuPartnerOf(s.producer) !== null &&
      new Date(s.raisedAt).getTime() >= since &&
      new Date(s.raisedAt).getTime() <= input.now.getTime() + 60_000,
  );
  const partnerSet = new Set(inWindow.map((s) => amuPartnerOf(s.producer)!));
  if (partnerSet.size < 2) return { amuCase: null, publish: [] };
  const partners = PARTNER_ORDER.filter((p) => partnerSet.has(p));
  const concernSet = new Set(
    inWindow.map((s) => CONCERN_OF[s.kind]).filter((c): c is AmuConcern => c !== null),
  );
  const concerns =
    concernSet.size === 0 ? (["LABOUR_LAW"] as AmuConcern[]) : CONCERN_ORDER.filter((c) => concernSet.has(c));
  const at = input.now.toISOString();
  const caseReference = `AMU-NLA-${input.subjectKvk}-${dutchDate(input.now).replaceAll("-", "")}`;
  const summary =
    `Gezamenlijke AMU-zaak: signalen van ${partners.join(", ")} over dezelfde onderneming binnen ` +
    `${input.config.amuWindowDays} dagen (${inWindow.length} signalen).`;
  const value: JsonForm<JointCaseOpened> = {
    eventTime: at,
    subjectKvk: input.subjectKvk,
    caseReference,
    partners,
    concerns,
    summary,
  };
  return {
    amuCase: {
      subjectKvk: input.subjectKvk,
      caseReference,
      openedBy: "nla",
      partners,
      concerns,
      openedAt: at,
    },
    publish: [{ topic: "amu.case-opened", value }],
  };
}

/** A delivered signal: recorded once (by producer and reference), then the AMU rule runs for its KvK. */
export function onSignal(input: {
  signal: SignalRow;
  alreadyRecorded: boolean;
  /** The other signals on record about the same KvK. */
  signalsAboutKvk: readonly SignalRow[];
  existingAmuCase: AmuCaseRow | null;
  now: Date;
  config: NlaConfig;
}): SignalDecision {
  if (input.alreadyRecorded) return { record: null, amuCase: null, publish: [] };
  const amu = amuDecision({
    subjectKvk: input.signal.subjectKvk,
    signals: [...input.signalsAboutKvk, input.signal],
    existingCase: input.existingAmuCase,
    now: input.now,
    config: input.config,
  });
  return { record: input.signal, ...amu };
}

export function parseAmuCase(v: Received<JointCaseOpened>, producer: string): Parsed<AmuCaseRow> {
  const rule = "amu.case-opened (ch. 6)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!nonEmpty(v.caseReference)) return refuse(`${rule}: caseReference is missing`);
  if (!isInstant(v.eventTime)) return refuse(`${rule}: eventTime is missing or not an instant`);
  return {
    ok: true,
    value: {
      subjectKvk: v.subjectKvk,
      caseReference: v.caseReference,
      openedBy: producer,
      partners: (v.partners ?? []).filter((p): p is AmuPartner => typeof p === "string"),
      concerns: (v.concerns ?? []).filter((c): c is AmuConcern => typeof c === "string"),
      openedAt: new Date(v.eventTime).toISOString(),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// huisvesting.violation-found, inspectie.report-filed: recorded for supervision

/**
 * Seed, ch. 6.1 (aanbeveling 6.1.E): "Meer onaangekondigde inspecties/controles door gemeenten, SNF, AKF en SNA";
 * the findings reach the Arbeidsinspectie as an LSI partner (Wet SUWI art. 64). Recorded per case reference.
 */
export function parseViolation(
  v: Received<ViolationFound>,
  producer: string,
  now: Date,
): Parsed<HousingViolationRow> {
  const rule = "huisvesting.violation-found (ch. 4.1, 6.1)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!nonEmpty(v.caseReference)) return refuse(`${rule}: caseReference is missing`);
  if (!isIsoDate(v.inspectionDate))
    return refuse(`${rule}: inspectionDate is missing or not a YYYY-MM-DD date`);
  const code = v.dwelling?.municipalityCode ?? null;
  if (code !== null && !isValidGemeentecode(code))
    return refuse(`${rule}: dwelling.municipalityCode is not a gemeentecode`);
  return {
    ok: true,
    value: {
      caseReference: v.caseReference,
      producer,
      subjectKvk: v.subjectKvk,
      inspectionDate: v.inspectionDate,
      municipalityCode: code,
      violations: (v.violations ?? []).filter((x): x is NonNullable<typeof x> => typeof x === "string"),
      receivedAt: now.toISOString(),
    },
  };
}

/**
 * Seed, ch. 2.1: "Onderdeel van de toelatingsvoorwaarden is een recent rapport van een inspectie-instelling"; the
 * Arbeidsinspectie supervises "de naleving van de toelatingsplicht". Recorded per report id (with its MAJOR count).
 */
export function parseInspectionReport(
  v: Received<ReportFiled>,
  producer: string,
  now: Date,
): Parsed<InspectionReportRow> {
  const rule = "inspectie.report-filed (ch. 2.1)";
  if (!nonEmpty(v.subjectKvk) || !isValidKvk(v.subjectKvk))
    return refuse(`${rule}: subjectKvk is missing or not eight digits`);
  if (!nonEmpty(v.reportId)) return refuse(`${rule}: reportId is missing`);
  if (!isIsoDate(v.inspectionDate))
    return refuse(`${rule}: inspectionDate is missing or not a YYYY-MM-DD date`);
  if (!nonEmpty(v.outcome)) return refuse(`${rule}: outcome is missing`);
  return {
    ok: true,
    value: {
      reportId: v.reportId,
      producer,
      subjectKvk: v.subjectKvk,
      inspectionDate: v.inspectionDate,
      outcome: v.outcome,
      majorFindings: (v.findings ?? []).filter((f) => f?.severity === "MAJOR").length,
      receivedAt: now.toISOString(),
    },
  };
}

/** Desk `end-hiring`: an inspector established that the inlener no longer hires from the uitlener. */
export function endHiring(pair: HiringPair | null, endedOn: string): Parsed<HiringPair> {
  if (pair === null)
    return refuse(
      "end-hiring: no hiring of this uitlener by this inlener is on record; check both KvK numbers",
    );
  if (!isIsoDate(endedOn)) return refuse("end-hiring: endedOn must be a YYYY-MM-DD date");
  if (endedOn < pair.firstSeen.slice(0, 10))
    return refuse("end-hiring: endedOn lies before the hiring was first seen; give the day it ended");
  return { ok: true, value: { ...pair, endedOn } };
}
