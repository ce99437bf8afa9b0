/**
 * The rules of the uitlener service: one codebase for a temp agency (uitlener) and for an inlener, chosen by the
 * catalogue party it runs as. Pure: input is what the party receives (the JSON form of a delivered event, every
 * field optional, or a validated desk input) and its current state as plain objects; output is a decision (state to
 * write and events to publish) or a refusal that names the rule and the fix. No I/O, no clock: `now` is a parameter.
 *
 * Seed: the seed (Jaarrapportage arbeidsmigranten 2023), ch. 2.1 (toelating, openbaar register) and ch. 2.3
 * (meld- en vergewisplicht, aanbeveling 2.1.G).
 *
 * Never put a BSN or a name in a refusal or a poison reason: they end up in logs, dead letters and HTTP answers.
 */
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidBsn,
  isValidGemeentecode,
  isValidKvk,
  type AccidentNotified,
  type AccidentReported,
  type AccidentSeverity,
  type InjuryNature,
  type MeasureKind,
  type RegisterEntryUpdated,
  type RegisterStatus,
  type ReturnVerified,
} from "@grondslag/schemas";

/** The JSON form of an event (timestamps as ISO instants, dates `YYYY-MM-DD`), and what a party receives:
 * that form projected to its view, any field at any depth absent (the SDK's types, through the runtime). */
export type JsonForm<T> = JsonForm_<T>;
export type Delivered<T> = Projected<T>;

export type AccidentReportedJson = JsonForm<AccidentReported>;
export type AccidentNotifiedJson = JsonForm<AccidentNotified>;
export type ReturnVerifiedJson = JsonForm<ReturnVerified>;

// ─── Who the service is ───────────────────────────────────────────────────────────────────────────────────────────

export type Role = "uitlener" | "inlener";

/** The catalogue party this process runs as: its role is the party's `kind`, its KvK number the party's `kvk`. */
export interface Self {
  readonly party: string;
  readonly role: Role;
  readonly kvk: string;
  readonly name: string;
}

/** The part of a catalogue party entry the service needs (contracts/data/parties.yaml). */
export interface PartyEntry {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly kvk?: string | undefined;
}

/** A refusal of a desk action: the rule it breaks (seed passage) and what the operator can do about it. */
export interface Refusal {
  readonly refused: true;
  readonly rule: string;
  readonly message: string;
  readonly fix: string;
}

/** A delivery this party cannot handle, now or ever (the runtime sends it to the dead letters with this reason). */
export interface Poisoned {
  readonly poison: true;
  readonly reason: string;
}

function refuse(rule: string, message: string, fix: string): Refusal {
  return { refused: true, rule, message, fix };
}

function poison(reason: string): Poisoned {
  return { poison: true, reason };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && (value as Refusal).refused === true;
}

export function isPoisoned(value: unknown): value is Poisoned {
  return typeof value === "object" && value !== null && (value as Poisoned).poison === true;
}

/**
 * Which of the two roles a party plays, from its catalogue entry. Seed, ch. 2.1: "Uitleners zijn in beginsel alle
 * ondernemingen die in Nederland arbeidskrachten ter beschikking stellen", and the inleners "die arbeidskrachten
 * inhuren": one codebase, two roles, and a party of any other kind (or without a KvK number) is not this service's.
 */
export function selfFromParty(entry: PartyEntry | undefined, partyId: string): Self {
  if (!entry) {
    throw new Error(
      `AGENCY_PARTY ${partyId} is not a party in the catalogue (contracts/data/parties.yaml); ` +
        "fix: set AGENCY_PARTY to an uitlener.* or inlener.* party id",
    );
  }
  if (entry.kind !== "uitlener" && entry.kind !== "inlener") {
    throw new Error(
      `party ${entry.id} is of kind ${entry.kind}; this service runs only as an uitlener or an inlener ` +
        "(fix: run the service of that body instead, or choose an uitlener.* or inlener.* party)",
    );
  }
  if (!entry.kvk || !isValidKvk(entry.kvk)) {
    throw new Error(
      `party ${entry.id} has no valid KvK number in the catalogue; every event it publishes is bound to it ` +
        '(fix: add kvk: "<8 digits>" to its entry in contracts/data/parties.yaml)',
    );
  }
  return { party: entry.id, role: entry.kind, kvk: entry.kvk, name: entry.name };
}

function roleRefusal(self: Self, role: Role, action: string): Refusal | undefined {
  if (self.role === role) return undefined;
  return refuse(
    `role: ${action} is an action of an ${role}`,
    `${self.party} is an ${self.role} in the catalogue; ${action} is for an ${role}`,
    `run this action on an ${role} party's service`,
  );
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isIsoDate(value: unknown): value is string {
  return typeof value === "string" && ISO_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

function isInstant(value: unknown): value is string {
  return typeof value === "string" && !Number.isNaN(Date.parse(value));
}

/** The calendar day of an instant in the Netherlands' civil time is close enough to UTC for a boundary check. */
function dayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

// ─── Uitlener: its own administration ─────────────────────────────────────────────────────────────────────────────

/** One of the uitlener's own workers, as its own administration holds them. */
export interface WorkerRecord {
  readonly bsn: string;
  readonly name: string;
  readonly dateOfBirth: string;
  readonly nationality: string;
  readonly occupation: string;
  /** The inlener the worker is placed at, by KvK number; null when not placed. */
  readonly inlenerKvk: string | null;
}

/** The workplace address of an inlener, as the uitlener knows it from the placement. */
export interface Workplace {
  readonly street: string;
  readonly houseNumber: string;
  readonly postalCode: string;
  readonly municipalityCode: string;
  readonly workplace: string;
}

export interface InlenerRecord {
  readonly kvk: string;
  readonly name: string;
  readonly workplace: Workplace | null;
}

/** The uitlener's own admission, as it learned it from the minister's decision (not from the bus: see below). */
export type AdmissionStatus = RegisterStatus | "REFUSED";

export interface AdmissionDecision {
  readonly status: AdmissionStatus;
  readonly admissionNumber: string | null;
  readonly effectiveDate: string;
  readonly decisionReference: string;
}

const LENDING_FORBIDDEN: ReadonlySet<AdmissionStatus> = new Set(["NOT_ADMITTED", "REFUSED"]);

/** The admission that applies on a day: the latest decision whose effective date has come. */
export function admissionOn(
  decisions: readonly AdmissionDecision[],
  day: string,
): AdmissionDecision | undefined {
  let best: AdmissionDecision | undefined;
  for (const d of decisions) {
    if (d.effectiveDate <= day && (!best || d.effectiveDate >= best.effectiveDate)) best = d;
  }
  return best;
}

export interface RegisterWorkerInput {
  readonly bsn: string;
  readonly name: string;
  readonly dateOfBirth: string;
  readonly nationality: string;
  readonly occupation: string;
  readonly inlenerKvk?: string | null | undefined;
}

/**
 * Records (or updates) one of the uitlener's own workers and where it is placed. Seed, ch. 2.1: the rules of the
 * admission duty are broken when workers are lent "maar zij niet als arbeidskrachten die ter beschikking worden
 * gesteld zijn opgenomen in de administratie van de in- en uitlener": this record is that administration. And "het
 * [wordt] voor alle uitleners van arbeidskrachten verboden om zonder een toelating arbeidskrachten in Nederland ter
 * beschikking te stellen": once its own admission is revoked or refused, it places no worker at an inlener.
 */
export function registerWorker(
  self: Self,
  input: RegisterWorkerInput,
  admissions: readonly AdmissionDecision[],
  now: Date,
): Refusal | { worker: WorkerRecord } {
  const wrongRole = roleRefusal(self, "uitlener", "register-worker");
  if (wrongRole) return wrongRole;
  if (!isValidBsn(input.bsn)) {
    return refuse(
      "identifiers: a BSN passes the elfproef",
      "bsn is not a valid BSN",
      "check the nine digits",
    );
  }
  if (!isIsoDate(input.dateOfBirth) || input.dateOfBirth > dayOf(now)) {
    return refuse(
      "identifiers: a date of birth is a past day",
      "dateOfBirth is not a day in the past (YYYY-MM-DD)",
      "give the date of birth as on the identity document",
    );
  }
  if (!/^[A-Z]{2}$/.test(input.nationality)) {
    return refuse(
      "schema: nationality is an ISO 3166-1 alpha-2 code",
      "nationality is not two capital letters",
      "give the country code, e.g. PL or RO",
    );
  }
  const inlenerKvk = input.inlenerKvk ?? null;
  if (inlenerKvk !== null) {
    if (!isValidKvk(inlenerKvk)) {
      return refuse(
        "identifiers: a KvK number is eight digits",
        "inlenerKvk is not a KvK number",
        "check it",
      );
    }
    const admission = admissionOn(admissions, dayOf(now));
    if (admission && LENDING_FORBIDDEN.has(admission.status)) {
      return refuse(
        "ch. 2.1: verboden om zonder een toelating arbeidskrachten ter beschikking te stellen",
        `this uitlener's admission is ${admission.status} since ${admission.effectiveDate}: it may not place workers`,
        "record the worker without inlenerKvk, or record a new admission decision first",
      );
    }
  }
  return {
    worker: {
      bsn: input.bsn,
      name: input.name,
      dateOfBirth: input.dateOfBirth,
      nationality: input.nationality,
      occupation: input.occupation,
      inlenerKvk,
    },
  };
}

export interface RegisterInlenerInput {
  readonly kvk: string;
  readonly name: string;
  readonly workplace?: Workplace | null | undefined;
}

/**
 * Records an inlener the uitlener lends to, with the workplace address its workers go to. Seed, ch. 2.3: the
 * uitlener reports "ernstige en/of dodelijke arbeidsongevallen van deze werknemers aan de Arbeidsinspectie"; the
 * inlener's notice names only the municipality, so the place of the accident in its own report comes from here.
 */
export function registerInlener(
  self: Self,
  input: RegisterInlenerInput,
): Refusal | { inlener: InlenerRecord } {
  const wrongRole = roleRefusal(self, "uitlener", "register-inlener");
  if (wrongRole) return wrongRole;
  if (!isValidKvk(input.kvk)) {
    return refuse("identifiers: a KvK number is eight digits", "kvk is not a KvK number", "check it");
  }
  const workplace = input.workplace ?? null;
  if (workplace && !isValidGemeentecode(workplace.municipalityCode)) {
    return refuse(
      "identifiers: a gemeentecode is GM and four digits",
      "workplace.municipalityCode is not a gemeentecode",
      "give the CBS code, e.g. GM1507",
    );
  }
  return { inlener: { kvk: input.kvk, name: input.name, workplace } };
}

/**
 * Records the uitlener's own admission status as the minister decided it. No wtta.* topic has an uitlener among its
 * consumers (the register feed is for inleners, the decisions go to the public bodies), so the uitlener learns its
 * status from the decision itself, outside the bus, and its operator records it here. Seed, ch. 2.1: "De minister
 * van SZW wordt verantwoordelijk voor het verlenen van toelating aan uitleners".
 */
export function recordAdmissionDecision(
  self: Self,
  input: AdmissionDecision,
  decisions: readonly AdmissionDecision[],
): Refusal | { decision: AdmissionDecision; duplicate: boolean } {
  const wrongRole = roleRefusal(self, "uitlener", "record-admission");
  if (wrongRole) return wrongRole;
  if (!isIsoDate(input.effectiveDate)) {
    return refuse(
      "schema: effectiveDate is a day",
      "effectiveDate is not YYYY-MM-DD",
      "give the decision's date",
    );
  }
  if ((input.status === "PROVISIONALLY_ADMITTED" || input.status === "ADMITTED") && !input.admissionNumber) {
    return refuse(
      "ch. 2.1: an admission has a number in the public register",
      `a ${input.status} decision needs its admissionNumber`,
      "copy the admission number from the decision",
    );
  }
  const same = decisions.find((d) => d.decisionReference === input.decisionReference);
  if (same) {
    if (same.status === input.status && same.effectiveDate === input.effectiveDate) {
      return { decision: same, duplicate: true };
    }
    return refuse(
      "duplicate reference: one decision, one record",
      `decision ${input.decisionReference} is already recorded with another status or date`,
      "record a later decision under its own reference",
    );
  }
  return { decision: input, duplicate: false };
}

// ─── Uitlener: the inlener's notice → its own report and a vergewis task ─────────────────────────────────────────

export type NoticeStatus = "REPORTED" | "WORKER_UNKNOWN";

/** A notice as the uitlener stored it (one per inlener and notice reference). */
export interface NoticeRecord {
  readonly inlenerKvk: string;
  readonly inlenerName: string;
  readonly notificationReference: string;
  readonly accidentReportReference: string | null;
  readonly accidentTime: string;
  readonly severity: AccidentSeverity;
  readonly municipalityCode: string;
  readonly workerBsn: string;
  readonly notifiedAt: string;
  readonly status: NoticeStatus;
  /** The uitlener's own report's reference, once it reported. */
  readonly reportReference: string | null;
}

export type TaskStatus = "OPEN" | "VERIFIED";

/** The vergewis task: verify the inlener's measures before the worker resumes work there. */
export interface VergewisTask {
  readonly reportReference: string;
  readonly notificationReference: string;
  readonly inlenerKvk: string;
  readonly workerBsn: string;
  readonly severity: AccidentSeverity;
  readonly accidentTime: string;
  readonly openedAt: string;
  readonly status: TaskStatus;
  readonly verifiedOn: string | null;
  readonly workResumed: boolean | null;
}

/** The notice's fields this rule needs, checked: what a delivery lacks it cannot report from. */
export function parseNotice(value: Delivered<AccidentNotified>): Poisoned | NoticeRecord {
  const missing: string[] = [];
  const need = <T>(v: T | null | undefined, path: string): T | undefined => {
    if (v === undefined || v === null || v === "") missing.push(path);
    return v ?? undefined;
  };
  const subjectKvk = need(value.subjectKvk, "subjectKvk");
  const notificationReference = need(value.notificationReference, "notificationReference");
  const accidentTime = need(value.accidentTime, "accidentTime");
  const severity = need(value.severity, "severity");
  const inlenerKvk = need(value.inlener?.kvk, "inlener.kvk");
  const inlenerName = need(value.inlener?.name, "inlener.name");
  const municipalityCode = need(value.municipalityCode, "municipalityCode");
  const workerBsn = need(value.worker?.bsn, "worker.bsn");
  const notifiedAt = need(value.eventTime, "eventTime");
  if (missing.length > 0) {
    return poison(
      `arbo.accident-notified lacks ${missing.join(", ")}: the uitlener cannot report without them`,
    );
  }
  if (!isInstant(accidentTime) || !isInstant(notifiedAt)) {
    return poison("arbo.accident-notified: accidentTime or eventTime is not an ISO instant");
  }
  void subjectKvk;
  return {
    inlenerKvk: inlenerKvk!,
    inlenerName: inlenerName!,
    notificationReference: notificationReference!,
    accidentReportReference: value.accidentReportReference ?? null,
    accidentTime: new Date(accidentTime).toISOString(),
    severity: severity!,
    municipalityCode: municipalityCode!,
    workerBsn: workerBsn!,
    notifiedAt: new Date(notifiedAt).toISOString(),
    status: "WORKER_UNKNOWN",
    reportReference: null,
  };
}

/** The uitlener's own report reference for a notice: deterministic, so a replay never makes a second report. */
export function uitlenerReportReference(
  selfKvk: string,
  notice: Pick<NoticeRecord, "inlenerKvk" | "notificationReference">,
): string {
  return `UIT-${selfKvk}-${notice.inlenerKvk}-${notice.notificationReference}`;
}

/** Said wherever the uitlener has to fill a field it cannot know: the notice never carries the injury. */
export const UNKNOWN_TO_UITLENER = "onbekend bij de uitlener (niet in de melding van de inlener)";

export type NoticeDecision =
  | Poisoned
  | { kind: "duplicate"; notice: NoticeRecord }
  | { kind: "worker-unknown"; notice: NoticeRecord }
  | { kind: "reported"; notice: NoticeRecord; report: AccidentReportedJson; task: VergewisTask };

/**
 * Turns the inlener's notice into the uitlener's own report to the Arbeidsinspectie and opens the vergewis task.
 * Seed, ch. 2.3: "zal het inlenend bedrijf arbeidsongevallen in de toekomst ook moeten melden aan het uitzendbureau
 * en moet het uitzendbureau vaststellen of het veilig is om weer aan het werk te gaan bij dezelfde inlener", and
 * (aanbeveling 2.1.G) "het melden door uitzendbureaus van ernstige en/of dodelijke arbeidsongevallen van deze
 * werknemers aan de Arbeidsinspectie".
 *
 * - Only notices addressed to this uitlener (subjectKvk = its KvK: the row filter already ensures it; anything else
 *   is poison). A second notice with the same inlener and reference is a duplicate: no second report.
 * - The victim's date of birth, nationality and occupation come from its own worker record; a notice about a BSN it
 *   has no record of waits (WORKER_UNKNOWN) until the worker is registered, and is then reported.
 * - The place: the inlener's workplace address from its own records when the municipality matches the notice's,
 *   otherwise the municipality alone and the rest stated as unknown.
 * - The injury is never in the notice: nature FATAL_INJURY for a fatal accident (that much the severity says),
 *   otherwise OTHER, the body part stated as unknown, hospitalised false (the schema has no "unknown") with the
 *   reason written out in `circumstances`, which points to the inlener's own report.
 */
export function reportFromNotice(
  self: Self,
  value: Delivered<AccidentNotified>,
  state: {
    readonly existing: NoticeRecord | undefined;
    readonly worker: WorkerRecord | undefined;
    readonly inlener: InlenerRecord | undefined;
  },
  now: Date,
): NoticeDecision {
  if (self.role !== "uitlener")
    return poison(`${self.party} is not an uitlener: it does not take accident notices`);
  const parsed = parseNotice(value);
  if (isPoisoned(parsed)) return parsed;
  if (value.subjectKvk !== self.kvk) {
    return poison(
      "arbo.accident-notified is addressed to another uitlener (subjectKvk is not this party's KvK)",
    );
  }
  if (state.existing) return { kind: "duplicate", notice: state.existing };
  return reportNotice(self, parsed, state.worker, state.inlener, now);
}

/** The report for a stored notice, once the worker is known (also used when a waiting notice's worker is registered). */
export function reportNotice(
  self: Self,
  notice: NoticeRecord,
  worker: WorkerRecord | undefined,
  inlener: InlenerRecord | undefined,
  now: Date,
): NoticeDecision {
  if (!worker || worker.bsn !== notice.workerBsn) {
    return { kind: "worker-unknown", notice: { ...notice, status: "WORKER_UNKNOWN", reportReference: null } };
  }
  const reportReference = uitlenerReportReference(self.kvk, notice);
  const workplace =
    inlener?.kvk === notice.inlenerKvk && inlener.workplace?.municipalityCode === notice.municipalityCode
      ? inlener.workplace
      : undefined;
  const fatal = notice.severity === "FATAL";
  const injuryNature: InjuryNature = fatal ? "FATAL_INJURY" : "OTHER";
  const inlenerRef = notice.accidentReportReference
    ? `de melding van de inlener zelf, kenmerk ${notice.accidentReportReference}`
    : "de inlener gaf geen kenmerk van een eigen melding";
  const report: AccidentReportedJson = {
    eventTime: now.toISOString(),
    subjectKvk: self.kvk,
    reportReference,
    accidentTime: notice.accidentTime,
    severity: notice.severity,
    inlener: { kvk: notice.inlenerKvk, name: notice.inlenerName },
    location: workplace
      ? { ...workplace }
      : {
          street: UNKNOWN_TO_UITLENER,
          houseNumber: UNKNOWN_TO_UITLENER,
          postalCode: UNKNOWN_TO_UITLENER,
          municipalityCode: notice.municipalityCode,
          workplace: UNKNOWN_TO_UITLENER,
        },
    victim: {
      bsn: worker.bsn,
      name: worker.name,
      dateOfBirth: worker.dateOfBirth,
      nationality: worker.nationality,
      occupation: worker.occupation,
      agencyWorker: true,
    },
    injury: {
      nature: injuryNature,
      bodyPart: UNKNOWN_TO_UITLENER,
      hospitalised: false,
      hospitalisedDays: null,
    },
    circumstances:
      `Melding van de uitlener op grond van de melding van inlener ${notice.inlenerKvk} ` +
      `(kenmerk ${notice.notificationReference}). Toedracht en letsel zijn de uitlener niet meegedeeld: zie ` +
      `${inlenerRef}. "hospitalised: false" betekent hier: niet bekend bij de uitlener.`,
  };
  const task: VergewisTask = {
    reportReference,
    notificationReference: notice.notificationReference,
    inlenerKvk: notice.inlenerKvk,
    workerBsn: worker.bsn,
    severity: notice.severity,
    accidentTime: notice.accidentTime,
    openedAt: now.toISOString(),
    status: "OPEN",
    verifiedOn: null,
    workResumed: null,
  };
  return { kind: "reported", notice: { ...notice, status: "REPORTED", reportReference }, report, task };
}

export interface VerifyReturnInput {
  readonly reportReference: string;
  readonly verifiedOn: string;
  readonly measures: readonly MeasureKind[];
  readonly measuresDescription: string;
  readonly workResumed: boolean;
}

/**
 * Closes the vergewis task and publishes the verification. Seed, ch. 2.3 (aanbeveling 2.1.G): "het controleren of
 * er voldoende maatregelen zijn genomen door de inlener zodat de werknemer weer veilig aan het werk kan gaan".
 * - Only an open task of this uitlener's own report; a closed one is not verified twice.
 * - Verified on a day between the accident and today (not before the accident, not in the future).
 * - At least one measure: verifying means the inlener took measures; none taken, nothing to verify yet.
 * - A fatal accident's worker does not resume: workResumed must be false.
 */
export function verifyReturn(
  self: Self,
  input: VerifyReturnInput,
  task: VergewisTask | undefined,
  now: Date,
): Refusal | { task: VergewisTask; event: ReturnVerifiedJson } {
  const wrongRole = roleRefusal(self, "uitlener", "verify-return");
  if (wrongRole) return wrongRole;
  if (!task) {
    return refuse(
      "ch. 2.3: the uitlener verifies after its own accident report",
      `no vergewis task for report ${input.reportReference}`,
      "use the reportReference of an open task (GET /state, tasks)",
    );
  }
  if (task.status !== "OPEN") {
    return refuse(
      "ch. 2.3: one verification per accident",
      `the task for report ${task.reportReference} was verified on ${task.verifiedOn ?? "an earlier day"}`,
      "nothing to do; a new accident gets its own task",
    );
  }
  if (!isIsoDate(input.verifiedOn)) {
    return refuse("schema: verifiedOn is a day", "verifiedOn is not YYYY-MM-DD", "give the day of the check");
  }
  const accidentDay = task.accidentTime.slice(0, 10);
  if (input.verifiedOn < accidentDay || input.verifiedOn > dayOf(now)) {
    return refuse(
      "ch. 2.3: verification follows the accident and is not in the future",
      `verifiedOn must lie between ${accidentDay} and ${dayOf(now)}`,
      "give the day the measures were checked",
    );
  }
  if (input.measures.length === 0) {
    return refuse(
      'ch. 2.3: "of er voldoende maatregelen zijn genomen door de inlener"',
      "no measures given: there is nothing to verify yet",
      "verify once the inlener has taken measures, and name them",
    );
  }
  if (task.severity === "FATAL" && input.workResumed) {
    return refuse(
      "ch. 2.3: a fatal accident's worker does not resume work",
      "workResumed is true for a fatal accident",
      "record workResumed: false",
    );
  }
  const closed: VergewisTask = {
    ...task,
    status: "VERIFIED",
    verifiedOn: input.verifiedOn,
    workResumed: input.workResumed,
  };
  return {
    task: closed,
    event: {
      eventTime: now.toISOString(),
      subjectKvk: self.kvk,
      accidentReportReference: task.reportReference,
      inlenerKvk: task.inlenerKvk,
      workerBsn: task.workerBsn,
      verifiedOn: input.verifiedOn,
      measures: [...new Set(input.measures)],
      measuresDescription: input.measuresDescription,
      workResumed: input.workResumed,
    },
  };
}

// ─── Inlener: the public register and its placements ─────────────────────────────────────────────────────────────

export interface RegisterEntry {
  readonly uitlenerKvk: string;
  readonly tradeName: string;
  readonly admissionNumber: string;
  readonly registerStatus: RegisterStatus;
  readonly effectiveDate: string;
  readonly eventTime: string;
}

export type PlacementStatus = "ACTIVE" | "TO_BE_ENDED";

/** A worker lent to this inlener by an uitlener. */
export interface Placement {
  readonly uitlenerKvk: string;
  readonly workerBsn: string;
  readonly since: string;
  readonly status: PlacementStatus;
  /** The day by which it must end (the NOT_ADMITTED effective date), when to be ended. */
  readonly endBy: string | null;
  readonly endReason: string | null;
}

export type RegisterDecision =
  | Poisoned
  | { kind: "stale"; entry: RegisterEntry }
  | { kind: "recorded"; entry: RegisterEntry; placementsToEnd: Placement[] };

/**
 * Records an entry of the public register and acts on a lost admission. Seed, ch. 2.1: "Inleners kunnen zelf
 * kosteloos in een openbaar register controleren – ook middels een beoogd notificatiesysteem – of de uitlener met wie
 * zij willen samenwerken, is toegelaten", and inleners "kunnen dan geen zaken meer doen met niet-toegelaten
 * uitleners"; "Inleners die gebruik maken van niet-toegelaten uitleners krijgen een bestuurlijke boete".
 * - An entry older than the one recorded (by eventTime) changes nothing (stale).
 * - NOT_ADMITTED: every active placement from that uitlener is to be ended by the effective date.
 */
export function recordRegisterEntry(
  self: Self,
  value: Delivered<RegisterEntryUpdated>,
  current: RegisterEntry | undefined,
  placements: readonly Placement[],
): RegisterDecision {
  if (self.role !== "inlener")
    return poison(`${self.party} is not an inlener: it does not read the register feed`);
  const missing = (
    ["eventTime", "subjectKvk", "tradeName", "admissionNumber", "registerStatus", "effectiveDate"] as const
  ).filter((k) => value[k] === undefined || value[k] === null || value[k] === "");
  if (missing.length > 0) return poison(`wtta.register-updated lacks ${missing.join(", ")}`);
  if (!isInstant(value.eventTime) || !isIsoDate(value.effectiveDate)) {
    return poison("wtta.register-updated: eventTime is not an instant or effectiveDate not a day");
  }
  const entry: RegisterEntry = {
    uitlenerKvk: value.subjectKvk!,
    tradeName: value.tradeName!,
    admissionNumber: value.admissionNumber!,
    registerStatus: value.registerStatus!,
    effectiveDate: value.effectiveDate,
    eventTime: new Date(value.eventTime).toISOString(),
  };
  if (current && current.eventTime > entry.eventTime) return { kind: "stale", entry: current };
  const placementsToEnd =
    entry.registerStatus === "NOT_ADMITTED"
      ? placements
          .filter((p) => p.uitlenerKvk === entry.uitlenerKvk && p.status === "ACTIVE")
          .map((p) => ({
            ...p,
            status: "TO_BE_ENDED" as const,
            endBy: entry.effectiveDate,
            endReason: `uitlener not admitted (register ${entry.admissionNumber}, from ${entry.effectiveDate}): ch. 2.1`,
          }))
      : [];
  return { kind: "recorded", entry, placementsToEnd };
}

export interface RegisterPlacementInput {
  readonly uitlenerKvk: string;
  readonly workerBsn: string;
  readonly since: string;
}

/**
 * Records a worker lent to this inlener. Seed, ch. 2.1: inleners "kunnen dan geen zaken meer doen met
 * niet-toegelaten uitleners": a placement from an uitlener the register shows NOT_ADMITTED (from its effective date)
 * is refused; one from an uitlener the register has not shown yet is recorded with a warning to check the register.
 */
export function registerPlacement(
  self: Self,
  input: RegisterPlacementInput,
  entry: RegisterEntry | undefined,
  existing: Placement | undefined,
): Refusal | { placement: Placement; warning: string | null } {
  const wrongRole = roleRefusal(self, "inlener", "register-placement");
  if (wrongRole) return wrongRole;
  if (!isValidKvk(input.uitlenerKvk)) {
    return refuse("identifiers: a KvK number is eight digits", "uitlenerKvk is not a KvK number", "check it");
  }
  if (input.uitlenerKvk === self.kvk) {
    return refuse(
      "ch. 2.1: a placement is a worker lent by an uitlener",
      "uitlenerKvk is this inlener's own KvK",
      "own employees are not placements",
    );
  }
  if (!isValidBsn(input.workerBsn)) {
    return refuse(
      "identifiers: a BSN passes the elfproef",
      "workerBsn is not a valid BSN",
      "check the nine digits",
    );
  }
  if (!isIsoDate(input.since)) {
    return refuse("schema: since is a day", "since is not YYYY-MM-DD", "give the first day of the placement");
  }
  if (entry?.registerStatus === "NOT_ADMITTED" && entry.effectiveDate <= input.since) {
    return refuse(
      "ch. 2.1: inleners kunnen geen zaken meer doen met niet-toegelaten uitleners",
      `the public register shows uitlener ${input.uitlenerKvk} NOT_ADMITTED from ${entry.effectiveDate}`,
      "hire from an admitted uitlener (see GET /state, register)",
    );
  }
  if (existing && existing.uitlenerKvk !== input.uitlenerKvk && existing.status === "ACTIVE") {
    return refuse(
      "one placement per worker",
      "this worker has an active placement from another uitlener",
      "end that placement first",
    );
  }
  const warning = entry
    ? null
    : `uitlener ${input.uitlenerKvk} is not in the public register as this service has seen it: check the register (ch. 2.1)`;
  return {
    placement: {
      uitlenerKvk: input.uitlenerKvk,
      workerBsn: input.workerBsn,
      since: input.since,
      status: "ACTIVE",
      endBy: null,
      endReason: null,
    },
    warning,
  };
}

// ─── Inlener: reporting an accident ──────────────────────────────────────────────────────────────────────────────

export interface ReportAccidentInput {
  readonly reportReference: string;
  /** The notice's own reference; defaults to the report's with the suffix `-UIT`. */
  readonly notificationReference?: string | undefined;
  readonly uitlenerKvk: string;
  readonly accidentTime: string;
  readonly severity: AccidentSeverity;
  readonly worker: {
    readonly bsn: string;
    readonly name: string;
    readonly dateOfBirth: string;
    readonly nationality: string;
    readonly occupation: string;
  };
  readonly location: Workplace;
  readonly injury: {
    readonly nature: InjuryNature;
    readonly bodyPart: string;
    readonly hospitalised: boolean;
    readonly hospitalisedDays?: number | null | undefined;
  };
  readonly circumstances: string;
}

/** What the inlener keeps of a report it made. */
export interface InlenerReportRecord {
  readonly reportReference: string;
  readonly notificationReference: string;
  readonly uitlenerKvk: string;
  readonly workerBsn: string;
  readonly accidentTime: string;
  readonly severity: AccidentSeverity;
  readonly reportedAt: string;
}

/**
 * The inlener's two publications for an accident of a lent worker. Seed, ch. 2.3: under the Arbowet the employer,
 * for a lent worker the inlener, reports to the Arbeidsinspectie; and "zal het inlenend bedrijf arbeidsongevallen in
 * de toekomst ook moeten melden aan het uitzendbureau". The report names the uitlener as subject and this inlener as
 * `inlener` (the gateway binds inlener.kvk to the publishing party's KvK); the notice goes to the uitlener whose
 * worker it was (subjectKvk: the uitlener's row filter) and carries no injury.
 * - The accident happened before now; a report reference is used once.
 * - A worker with a recorded placement must be reported to that placement's uitlener; a worker without one gets a
 *   placement recorded from the given uitlener (the inlener knows whose worker it was).
 */
export function reportAccident(
  self: Self,
  input: ReportAccidentInput,
  state: { readonly existing: InlenerReportRecord | undefined; readonly placement: Placement | undefined },
  now: Date,
):
  | Refusal
  | {
      report: AccidentReportedJson;
      notice: AccidentNotifiedJson;
      record: InlenerReportRecord;
      newPlacement: Placement | null;
    } {
  const wrongRole = roleRefusal(self, "inlener", "report-accident");
  if (wrongRole) return wrongRole;
  if (!isValidKvk(input.uitlenerKvk)) {
    return refuse("identifiers: a KvK number is eight digits", "uitlenerKvk is not a KvK number", "check it");
  }
  if (input.uitlenerKvk === self.kvk) {
    return refuse(
      "ch. 2.3: the notice goes to the uitlener that lent the worker",
      "uitlenerKvk is this inlener's own KvK",
      "give the KvK number of the uitlener whose worker it was",
    );
  }
  if (!isValidBsn(input.worker.bsn)) {
    return refuse(
      "identifiers: a BSN passes the elfproef",
      "worker.bsn is not a valid BSN",
      "check the nine digits",
    );
  }
  if (!isValidGemeentecode(input.location.municipalityCode)) {
    return refuse(
      "identifiers: a gemeentecode is GM and four digits",
      "location.municipalityCode is not a gemeentecode",
      "give the CBS code, e.g. GM1507",
    );
  }
  if (!isIsoDate(input.worker.dateOfBirth) || !/^[A-Z]{2}$/.test(input.worker.nationality)) {
    return refuse(
      "schema: dateOfBirth is a day, nationality an ISO 3166-1 alpha-2 code",
      "worker.dateOfBirth or worker.nationality is malformed",
      "give YYYY-MM-DD and a code such as PL",
    );
  }
  if (!isInstant(input.accidentTime) || Date.parse(input.accidentTime) > now.getTime()) {
    return refuse(
      "ch. 2.3: an accident is reported after it happened",
      "accidentTime is not an instant in the past",
      "give the time of the accident as an ISO instant",
    );
  }
  if (input.severity === "FATAL" && input.injury.nature !== "FATAL_INJURY") {
    return refuse(
      "schema: a fatal accident's injury is FATAL_INJURY",
      "severity FATAL with another injury nature",
      "record injury.nature FATAL_INJURY, or severity SERIOUS",
    );
  }
  if (state.existing) {
    return refuse(
      "duplicate reference: one report per reference",
      `report ${input.reportReference} was already made on ${state.existing.reportedAt}`,
      "give a new reportReference for another accident",
    );
  }
  if (state.placement && state.placement.uitlenerKvk !== input.uitlenerKvk) {
    return refuse(
      "ch. 2.3: the notice goes to the uitlener whose worker it was",
      `the worker's recorded placement is from uitlener ${state.placement.uitlenerKvk}`,
      `give uitlenerKvk ${state.placement.uitlenerKvk}, or correct the placement`,
    );
  }
  const accidentTime = new Date(input.accidentTime).toISOString();
  const reportedAt = now.toISOString();
  const notificationReference = input.notificationReference ?? `${input.reportReference}-UIT`;
  const inlener = { kvk: self.kvk, name: self.name };
  const report: AccidentReportedJson = {
    eventTime: reportedAt,
    subjectKvk: input.uitlenerKvk,
    reportReference: input.reportReference,
    accidentTime,
    severity: input.severity,
    inlener,
    location: { ...input.location },
    victim: { ...input.worker, agencyWorker: true },
    injury: {
      nature: input.injury.nature,
      bodyPart: input.injury.bodyPart,
      hospitalised: input.injury.hospitalised,
      hospitalisedDays: input.injury.hospitalisedDays ?? null,
    },
    circumstances: input.circumstances,
  };
  const notice: AccidentNotifiedJson = {
    eventTime: reportedAt,
    subjectKvk: input.uitlenerKvk,
    notificationReference,
    accidentReportReference: input.reportReference,
    accidentTime,
    severity: input.severity,
    inlener,
    municipalityCode: input.location.municipalityCode,
    worker: { bsn: input.worker.bsn, name: input.worker.name },
  };
  return {
    report,
    notice,
    record: {
      reportReference: input.reportReference,
      notificationReference,
      uitlenerKvk: input.uitlenerKvk,
      workerBsn: input.worker.bsn,
      accidentTime,
      severity: input.severity,
      reportedAt,
    },
    newPlacement: state.placement
      ? null
      : {
          uitlenerKvk: input.uitlenerKvk,
          workerBsn: input.worker.bsn,
          since: accidentTime.slice(0, 10),
          status: "ACTIVE",
          endBy: null,
          endReason: null,
        },
  };
}
