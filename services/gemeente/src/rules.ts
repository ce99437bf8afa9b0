// A municipality's rules, pure: a delivered value (its JSON form, projected to the municipality's view, so every
// field may be absent) or a desk input, plus the service's state as plain objects, in; a decision (rows to write,
// events to publish) out. No I/O: src/agency.ts loads the state, calls these and applies what they return. One
// codebase serves every municipality: `code` is the instance's own gemeentecode (from its party entry).
//
// The seed is the Jaarrapportage arbeidsmigranten 2023; each rule names its passage.
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidBsn,
  isValidGemeentecode,
  isValidKvk,
  type AdmissionGranted,
  type AdmissionRevoked,
  type ChannelKind,
  type HousingRole,
  type LandlordReported,
  type NoticeCause,
  type QualityMark,
  type RegistrationGapFound,
  type SignalRaised,
  type StayAddressChanged,
  type StayAddressChangeKind,
  type StayAddressProvided,
  type UnwantedLettingBehaviour,
  type ViolationFound,
  type ViolationKind,
  type WorkerNoticeIssued,
} from "@grondslag/schemas";

/** The JSON form of an event (timestamps as ISO instants, dates `YYYY-MM-DD`), and what a party receives:
 * that form projected to its view, any field at any depth absent (the SDK's types, through the runtime). */
export type JsonOf<T> = JsonForm_<T>;
export type Delivered<T> = Projected<T>;

/** A delivery the service cannot handle and never will: it goes to the dead-letter topic with the reason. */
export interface Poison {
  readonly outcome: "poison";
  readonly reason: string;
}

/** A delivery that is not for this municipality (the row filter should have kept it away): recorded as skipped. */
export interface Ignored {
  readonly outcome: "ignored";
  readonly reason: string;
}

/** A desk input the rules refuse: which rule, why, and what to do instead. Never carries an identifier's value. */
export interface Refusal {
  readonly outcome: "refused";
  readonly rule: string;
  readonly reason: string;
  readonly fix: string;
}

export type Publication =
  | { readonly topic: "huisvesting.violation-found"; readonly value: JsonOf<ViolationFound> }
  | { readonly topic: "huisvesting.landlord-reported"; readonly value: JsonOf<LandlordReported> }
  | { readonly topic: "brp.stay-address-changed"; readonly value: JsonOf<StayAddressChanged> }
  | { readonly topic: "informatie.worker-notice-issued"; readonly value: JsonOf<WorkerNoticeIssued> };

/** Fresh references for new rows (investigations, inspections, notices, reports): the agency supplies them. */
export type NewReference = (kind: "AO" | "HC" | "WN" | "MP") => string;

// ---- state, as the rules see it -------------------------------------------------------------------------------

export interface Address {
  street: string;
  houseNumber: string;
  postalCode: string;
  city: string;
  municipalityCode: string;
}

/** Where a non-resident stays, as the municipality knows it (table `stay_addresses`, current row per person). */
export interface StayRow extends Address {
  bsn: string;
  /** The employer the person registered with (from RvIG's provision): the uitlener, for lent workers. */
  employerKvk: string;
  since: string;
  source: "RVIG" | "INVESTIGATION";
  ended: boolean;
}

/** Every address a person was provided at, for the frequent-mover signal (table `stay_address_history`). */
export interface AddressHistoryRow {
  bsn: string;
  postalCode: string;
  houseNumber: string;
  since: string;
}

/** The language the municipality holds for a person, and how to reach them (table `worker_contacts`). */
export interface ContactRow {
  bsn: string;
  /** ISO 639-1, e.g. pl, ro, bg. */
  language: string;
  channel: ChannelKind | null;
  contactAddress: string | null;
}

export type InvestigationCause =
  "REGISTRATION_GAP" | "STAY_ADDRESS_PROVIDED" | "FREQUENT_MOVER" | "LSI_SIGNAL";
export type InvestigationTask =
  "FIND_STAY_ADDRESS" | "INVITE_RESIDENT_REGISTRATION" | "VERIFY_ADDRESS" | "LOCATE_DWELLINGS";
export type InvestigationOutcome = "ADDRESS_FOUND" | "ADDRESS_CONFIRMED" | "NOT_STAYING" | "NO_FINDING";

/** An address investigation (table `address_investigations`). */
export interface InvestigationRow {
  investigationRef: string;
  /** The person investigated; null for an investigation of a company's dwellings. */
  bsn: string | null;
  employerKvk: string;
  cause: InvestigationCause;
  causeReference: string;
  task: InvestigationTask;
  status: "OPEN" | "COMPLETED";
  outcome: InvestigationOutcome | "ADDRESS_PROVIDED" | null;
  openedAt: string;
  completedAt: string | null;
}

export type InspectionCause = "MANY_ON_ONE_ADDRESS" | "LSI_SIGNAL" | "MELDPUNT";

/** An unannounced housing inspection (table `housing_inspections`). */
export interface InspectionRow {
  inspectionRef: string;
  subjectKvk: string | null;
  postalCode: string;
  /** Null when only the postal code is known (a meldpunt report). */
  houseNumber: string | null;
  cause: InspectionCause;
  causeReference: string;
  announced: false;
  status: "PLANNED" | "DONE";
  plannedAt: string;
  doneAt: string | null;
  /** The case reference of the inspection that did it. */
  doneBy: string | null;
}

/** A housing violation in the municipality, its own or an inspection body's (table `housing_violations`). */
export interface ViolationRow {
  caseReference: string;
  subjectKvk: string;
  subjectRole: string | null;
  inspectionDate: string | null;
  announced: boolean | null;
  street: string | null;
  houseNumber: string;
  postalCode: string;
  occupants: number | null;
  violations: string[];
  own: boolean;
  recordedAt: string;
}

/** A meldpunt report (table `meldpunt_reports`); the reporter stays here and in the municipality's own event. */
export interface MeldpuntRow {
  reportReference: string;
  subjectKvk: string;
  behaviours: string[];
  dwellingPostalCode: string | null;
  anonymous: boolean;
  reporter: { name: string; contact: string } | null;
  description: string;
  reportedAt: string;
}

/** A notice to a worker in their own language (table `worker_notices`): prepared and published, or withheld. */
export interface NoticeRow {
  noticeReference: string;
  bsn: string;
  cause: NoticeCause;
  causeReference: string;
  subjectKvk: string;
  language: string | null;
  channel: ChannelKind | null;
  status: "PREPARED" | "WITHHELD";
  withheldReason: string | null;
  preparedAt: string;
}

/** The register as the municipality knows it (table `admissions`). */
export interface AdmissionRow {
  uitlenerKvk: string;
  tradeName: string | null;
  admissionNumber: string | null;
  status: "ADMITTED" | "REVOKED";
  effectiveDate: string | null;
}

/** An LSI signal about the municipality (table `lsi_signals`). */
export interface ReceivedSignalRow {
  signalReference: string;
  subjectKvk: string;
  kind: string | null;
  personCount: number;
  receivedAt: string;
}

// ---- helpers ---------------------------------------------------------------------------------------------------

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isIsoDate(value: unknown): value is string {
  return typeof value === "string" && ISO_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

function isoDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function poison(rule: string, reason: string): Poison {
  return { outcome: "poison", reason: `${rule}: ${reason}` };
}

function ignored(rule: string, reason: string): Ignored {
  return { outcome: "ignored", reason: `${rule}: ${reason}` };
}

function refuse(rule: string, reason: string, fix: string): Refusal {
  return { outcome: "refused", rule, reason, fix };
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}

function strings<T extends string>(values: readonly (T | undefined)[] | undefined): T[] {
  return (values ?? []).filter((v): v is T => typeof v === "string");
}

/** A Dutch postal code as one form: four digits and two capitals, no space (`3112 AB` → `3112AB`). */
export function normalisePostalCode(value: string): string {
  return value.replace(/\s+/g, "").toUpperCase();
}

export function isPostalCode(value: string): boolean {
  return /^[1-9]\d{3}[A-Z]{2}$/.test(normalisePostalCode(value));
}

function normaliseHouseNumber(value: string): string {
  return value.replace(/\s+/g, "").toUpperCase();
}

/** Whether two addresses are the same dwelling: postal code and house number decide. */
export function sameDwelling(
  a: { postalCode: string; houseNumber: string | null },
  b: { postalCode: string; houseNumber: string | null },
): boolean {
  if (normalisePostalCode(a.postalCode) !== normalisePostalCode(b.postalCode)) return false;
  if (a.houseNumber === null || b.houseNumber === null) return true;
  return normaliseHouseNumber(a.houseNumber) === normaliseHouseNumber(b.houseNumber);
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

// ---- the BRP experiment ----------------------------------------------------------------------------------------

/**
 * The seed, ch. 3 "Experiment gemeenten als aangewezen bestuursorgaan (abo)": "Gemeente Aalsmeer, Hollands Kroon,
 * Horst aan de Maas, Peel en Maas en Schiedam zijn begonnen met het bijhouden van de tijdelijke verblijfsadressen";
 * "Het experiment is gestart op 1 oktober 2023" and "duurt vier jaar".
 */
export const BRP_EXPERIMENT = {
  municipalities: ["GM0358", "GM1911", "GM1507", "GM1894", "GM0606"] as readonly string[],
  from: "2023-10-01",
  /** First day after the experiment. */
  until: "2027-10-01",
};

/** Whether a municipality may pass stay-address changes to the Minister of BZK on this day (ch. 3, the abo). */
export function inBrpExperiment(code: string, day: string): boolean {
  return (
    BRP_EXPERIMENT.municipalities.includes(code) && day >= BRP_EXPERIMENT.from && day < BRP_EXPERIMENT.until
  );
}

// ---- thresholds that are the municipality's own choice ------------------------------------------------------------

/**
 * How many people may register one stay address before the municipality inspects it unannounced. The seed leaves
 * the occupancy norm to each municipality (ch. 4.1: "Gemeenten kunnen dan zelf de norm voor het minimale aantal
 * vierkante meters per persoon bepalen"); this is the service's default, not a number from the seed.
 */
export const MANY_ON_ONE_ADDRESS = 6;

/** How many addresses in how many days make a frequent mover (ch. 3, LAA: "het signaal veelverhuizers"). */
export const FREQUENT_MOVER = { addresses: 3, withinDays: 365 };

// ---- the register ----------------------------------------------------------------------------------------------

/**
 * The seed, ch. 2.1: "Inleners kunnen zelf kosteloos in een openbaar register controleren" whether an uitlener is
 * admitted; municipalities receive the same public feed. Recorded, so that a revocation finds its uitlener.
 */
export function recordAdmissionGranted(
  value: Delivered<AdmissionGranted>,
): { outcome: "recorded"; admission: AdmissionRow } | Poison {
  const rule = "ch. 2.1 openbaar register";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  return {
    outcome: "recorded",
    admission: {
      uitlenerKvk: value.subjectKvk as string,
      tradeName: value.tradeName ?? null,
      admissionNumber: value.admissionNumber ?? null,
      status: "ADMITTED",
      effectiveDate: null,
    },
  };
}

// ---- address signals: registration gaps, RvIG's stay addresses, LSI signals ------------------------------------------

export interface InvestigationDecision {
  readonly outcome: "opened" | "duplicate";
  readonly investigation: InvestigationRow | null;
}

/**
 * The seed, ch. 3 "Feedbackcyclus loonaangifteketen" (aanbeveling 3.1.F): "Door een periodieke vergelijking kan
 * worden vastgesteld van welke BSN's in de loonaangifteketen nog geen tijdelijk verblijfsadres is vastgesteld"; and
 * ch. 3.1: "Op het moment dat zij langer dan vier maanden in Nederland verblijven, moeten ze alsnog aangifte van
 * verblijf als ingezetene doen". A gap in the municipality opens an address investigation: find the stay address
 * (NO_ADDRESS), or invite the worker to register as a resident (NON_RESIDENT_TOO_LONG). One open investigation per
 * person: a second gap joins it. A gap for another municipality is not for this one. (The gateway refuses every gap
 * today, as the exchange has no basis yet; the rule is ready for when it has one.)
 */
export function onRegistrationGap(
  value: Delivered<RegistrationGapFound>,
  state: { code: string; openForPerson: InvestigationRow | undefined },
  newRef: NewReference,
  now: Date,
): InvestigationDecision | Ignored | Poison {
  const rule = "ch. 3 feedbackcyclus loonaangifteketen";
  const bsn = value.worker?.bsn;
  if (!isValidBsn(bsn ?? "")) return poison(rule, "worker.bsn is missing or not a valid BSN");
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (value.gapKind !== "NO_ADDRESS" && value.gapKind !== "NON_RESIDENT_TOO_LONG") {
    return poison(rule, "gapKind is missing");
  }
  const municipality = value.municipality?.code;
  if (!isValidGemeentecode(municipality ?? ""))
    return poison(rule, "municipality.code is missing or not a gemeentecode");
  if (municipality !== state.code) return ignored(rule, "the gap is in another municipality");
  if (state.openForPerson) return { outcome: "duplicate", investigation: state.openForPerson };
  return {
    outcome: "opened",
    investigation: {
      investigationRef: newRef("AO"),
      bsn: bsn as string,
      employerKvk: value.subjectKvk as string,
      cause: "REGISTRATION_GAP",
      causeReference: `${value.gapKind}:${value.payrollPeriod?.start ?? "?"}/${value.payrollPeriod?.end ?? "?"}`,
      task: value.gapKind === "NO_ADDRESS" ? "FIND_STAY_ADDRESS" : "INVITE_RESIDENT_REGISTRATION",
      status: "OPEN",
      outcome: null,
      openedAt: now.toISOString(),
      completedAt: null,
    },
  };
}

export interface StayAddressState {
  readonly code: string;
  readonly current: StayRow | undefined;
  /** The person's earlier provided addresses. */
  readonly history: readonly AddressHistoryRow[];
  /** Everyone else whose current (not ended) stay address is this dwelling. */
  readonly othersAtDwelling: readonly StayRow[];
  readonly openForPerson: InvestigationRow | undefined;
  readonly plannedAtDwelling: InspectionRow | undefined;
}

export interface StayAddressDecision {
  readonly outcome: "recorded" | "duplicate";
  readonly stay: StayRow;
  readonly history: AddressHistoryRow | null;
  /** An open investigation this address answers (a registration gap's FIND_STAY_ADDRESS), now completed. */
  readonly completed: InvestigationRow | null;
  readonly opened: InvestigationRow | null;
  readonly inspection: InspectionRow | null;
}

/**
 * The seed, ch. 3: the "Verstrekking van tijdelijke verblijfsadressen aan gemeenten" makes it possible "om per adres
 * een overzicht op te vragen van ... wie het adres als tijdelijk verblijfsadres heeft opgegeven"; the LAA's signals
 * ("bijvoorbeeld het signaal veelverhuizers") "helpen om misstanden met betrekking tot de woonsituatie en
 * inschrijving van arbeidsmigranten te ontdekken"; ch. 6.1: "Gemeenten voeren huisvestingscontroles gericht op
 * BRP-signalen zoals adresfraude, vooral onaangekondigd uit"; and ch. 3 (abo): the experiment municipalities "zijn
 * begonnen met het bijhouden van de tijdelijke verblijfsadressen", "Voor de bruikbaarheid van de geregistreerde
 * gegevens is het van belang dat er wordt gestreefd om ze actueel te houden".
 *
 * RvIG's stay address in the municipality is recorded (with the employer the person registered with). It completes
 * an open investigation looking for this person's address. A person provided at a third address within a year is
 * a frequent mover: an address investigation (FREQUENT_MOVER). Otherwise an experiment municipality, while the
 * experiment runs, opens an investigation to verify the address it was given (STAY_ADDRESS_PROVIDED: it keeps the
 * temporary stay addresses current, and passes what it finds to BZK); another municipality records it only. A person
 * already under investigation gets no second one. A dwelling registered by MANY_ON_ONE_ADDRESS people or more gets
 * one unannounced housing inspection (not a second while one is planned). The same address again is a duplicate.
 */
export function onStayAddressProvided(
  value: Delivered<StayAddressProvided>,
  state: StayAddressState,
  newRef: NewReference,
  now: Date,
): StayAddressDecision | Ignored | Poison {
  const rule = "ch. 3 tijdelijke verblijfsadressen";
  const bsn = value.person?.bsn;
  const a = value.stayAddress;
  if (!isValidBsn(bsn ?? "")) return poison(rule, "person.bsn is missing or not a valid BSN");
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (
    !a ||
    !nonEmpty(a.postalCode) ||
    !nonEmpty(a.houseNumber) ||
    !isValidGemeentecode(a.municipalityCode ?? "")
  ) {
    return poison(rule, "stayAddress with postalCode, houseNumber and municipalityCode is missing");
  }
  if (!isIsoDate(value.addressSince)) return poison(rule, "addressSince is missing or not a date");
  if (a.municipalityCode !== state.code) return ignored(rule, "the stay address is in another municipality");
  const stay: StayRow = {
    bsn: bsn as string,
    employerKvk: value.subjectKvk as string,
    street: a.street ?? "",
    houseNumber: normaliseHouseNumber(a.houseNumber),
    postalCode: normalisePostalCode(a.postalCode),
    city: a.city ?? "",
    municipalityCode: a.municipalityCode,
    since: value.addressSince,
    source: "RVIG",
    ended: false,
  };
  const seen = state.history.some((h) => sameDwelling(h, stay) && h.since === stay.since);
  if (seen) {
    return { outcome: "duplicate", stay, history: null, completed: null, opened: null, inspection: null };
  }
  const history: AddressHistoryRow = {
    bsn: stay.bsn,
    postalCode: stay.postalCode,
    houseNumber: stay.houseNumber,
    since: stay.since,
  };
  const open = state.openForPerson;
  const completed =
    open && open.task === "FIND_STAY_ADDRESS"
      ? {
          ...open,
          status: "COMPLETED" as const,
          outcome: "ADDRESS_PROVIDED" as const,
          completedAt: now.toISOString(),
        }
      : null;
  const windowStart = addDays(stay.since, -FREQUENT_MOVER.withinDays);
  const recent = [...state.history, history].filter((h) => h.since >= windowStart && h.since <= stay.since);
  const distinct = recent.filter((h, i) => recent.findIndex((o) => sameDwelling(o, h)) === i);
  const stillOpen = open && !completed;
  const frequentMover = distinct.length >= FREQUENT_MOVER.addresses;
  const keepsAddresses = inBrpExperiment(state.code, isoDay(now));
  const opened: InvestigationRow | null =
    !stillOpen && !completed && (frequentMover || keepsAddresses)
      ? {
          investigationRef: newRef("AO"),
          bsn: stay.bsn,
          employerKvk: stay.employerKvk,
          cause: frequentMover ? "FREQUENT_MOVER" : "STAY_ADDRESS_PROVIDED",
          causeReference: frequentMover
            ? `${distinct.length} addresses since ${windowStart}`
            : `${stay.postalCode} ${stay.houseNumber} since ${stay.since}`,
          task: "VERIFY_ADDRESS",
          status: "OPEN",
          outcome: null,
          openedAt: now.toISOString(),
          completedAt: null,
        }
      : null;
  const occupants = new Set([...state.othersAtDwelling.filter((o) => !o.ended).map((o) => o.bsn), stay.bsn]);
  const inspection: InspectionRow | null =
    occupants.size >= MANY_ON_ONE_ADDRESS && !state.plannedAtDwelling
      ? {
          inspectionRef: newRef("HC"),
          subjectKvk: stay.employerKvk,
          postalCode: stay.postalCode,
          houseNumber: stay.houseNumber,
          cause: "MANY_ON_ONE_ADDRESS",
          causeReference: `${occupants.size} people registered`,
          announced: false,
          status: "PLANNED",
          plannedAt: now.toISOString(),
          doneAt: null,
          doneBy: null,
        }
      : null;
  return { outcome: "recorded", stay, history, completed, opened, inspection };
}

export interface SignalState {
  readonly code: string;
  readonly existing: ReceivedSignalRow | undefined;
  /** The current stay addresses the municipality holds for the persons named in the signal. */
  readonly staysOfPersons: readonly StayRow[];
  readonly openInvestigations: readonly InvestigationRow[];
  readonly plannedInspections: readonly InspectionRow[];
}

export interface SignalDecision {
  readonly outcome: "recorded" | "duplicate";
  readonly signal: ReceivedSignalRow;
  readonly investigations: InvestigationRow[];
  readonly inspections: InspectionRow[];
}

/**
 * The seed, ch. 6.1: "Gemeenten zijn verantwoordelijk voor de handhaving en het toezicht op huisvesting en
 * registratie"; "Gemeenten voeren huisvestingscontroles gericht op BRP-signalen zoals adresfraude, vooral
 * onaangekondigd uit"; the LSI's activities concern "vooral ... projecten in relatie tot huisvesting van
 * arbeidsmigranten". An LSI signal about this municipality: ADDRESS_FRAUD opens an address investigation per person
 * named (or one into the company's dwellings when it names nobody); HOUSING_ABUSE and EXPLOITATION plan an
 * unannounced housing inspection at every stay address the municipality holds for the persons named, and an address
 * investigation for those it holds none for (or into the company's dwellings when it names nobody). Other kinds
 * are recorded only. A person already under investigation, or a dwelling already planned, gets no second one.
 */
export function onLsiSignal(
  value: Delivered<SignalRaised>,
  state: SignalState,
  newRef: NewReference,
  now: Date,
): SignalDecision | Ignored | Poison {
  const rule = "ch. 6.1 handhaving door gemeenten";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.signalReference)) return poison(rule, "signalReference is missing");
  if (!value.kind) return poison(rule, "kind is missing");
  if (value.municipalityCode !== state.code)
    return ignored(rule, "the signal is not about this municipality");
  const subjectKvk = value.subjectKvk as string;
  const persons = [
    ...new Set((value.persons ?? []).map((p) => p.bsn).filter((b): b is string => isValidBsn(b ?? ""))),
  ];
  const signal: ReceivedSignalRow = {
    signalReference: value.signalReference,
    subjectKvk,
    kind: value.kind,
    personCount: persons.length,
    receivedAt: now.toISOString(),
  };
  if (state.existing)
    return { outcome: "duplicate", signal: state.existing, investigations: [], inspections: [] };
  const investigation = (bsn: string | null, task: InvestigationTask): InvestigationRow => ({
    investigationRef: newRef("AO"),
    bsn,
    employerKvk: subjectKvk,
    cause: "LSI_SIGNAL",
    causeReference: signal.signalReference,
    task,
    status: "OPEN",
    outcome: null,
    openedAt: now.toISOString(),
    completedAt: null,
  });
  const underInvestigation = (bsn: string | null) =>
    state.openInvestigations.some((i) => i.bsn === bsn && (bsn !== null || i.employerKvk === subjectKvk));
  const investigations: InvestigationRow[] = [];
  const inspections: InspectionRow[] = [];
  if (value.kind === "ADDRESS_FRAUD") {
    const targets = persons.length > 0 ? persons : [null];
    for (const bsn of targets) {
      if (!underInvestigation(bsn))
        investigations.push(investigation(bsn, bsn ? "VERIFY_ADDRESS" : "LOCATE_DWELLINGS"));
    }
  } else if (value.kind === "HOUSING_ABUSE" || value.kind === "EXPLOITATION") {
    if (persons.length === 0 && !underInvestigation(null))
      investigations.push(investigation(null, "LOCATE_DWELLINGS"));
    for (const bsn of persons) {
      const stay = state.staysOfPersons.find(
        (s) => s.bsn === bsn && !s.ended && s.municipalityCode === state.code,
      );
      if (!stay) {
        if (!underInvestigation(bsn)) investigations.push(investigation(bsn, "FIND_STAY_ADDRESS"));
        continue;
      }
      const planned = [...state.plannedInspections, ...inspections].some(
        (i) => i.status === "PLANNED" && sameDwelling(i, stay),
      );
      if (!planned) {
        inspections.push({
          inspectionRef: newRef("HC"),
          subjectKvk,
          postalCode: stay.postalCode,
          houseNumber: stay.houseNumber,
          cause: "LSI_SIGNAL",
          causeReference: signal.signalReference,
          announced: false,
          status: "PLANNED",
          plannedAt: now.toISOString(),
          doneAt: null,
          doneBy: null,
        });
      }
    }
  }
  return { outcome: "recorded", signal, investigations, inspections };
}

// ---- desk: complete-investigation (and the experiment's stay-address change) ----------------------------------------

export interface CompleteInvestigationInput {
  investigationRef: string;
  outcome: InvestigationOutcome;
  /** The address found (ADDRESS_FOUND). */
  stayAddress?: Address | undefined;
  /** The first day the finding applies; today when left out. */
  effectiveDate?: string | undefined;
}

export interface CompleteInvestigationDecision {
  readonly outcome: "completed";
  readonly investigation: InvestigationRow;
  /** The person's stay address as it is now known, when the finding changes it. */
  readonly stay: StayRow | null;
  readonly publish: Publication[];
  /** Why no change goes to BZK, when none does. */
  readonly note: string | null;
}

/**
 * The seed, ch. 3 (abo): "de aangewezen gemeenten [krijgen] de bevoegdheid om wijzigingen in het tijdelijk
 * verblijfsadres van niet-ingezetenen door te geven aan de minister van BZK", "tijdelijke verblijfsadressen aan te
 * vullen en te actualiseren". Completing an investigation records its outcome; an experiment municipality, within
 * the experiment's four years, passes the change on: COMPLETED when the person had no address on record, UPDATED
 * when the address found differs from the one on record, ENDED when the person no longer stays there. A confirmed
 * address or no finding changes nothing in the BRP. Refused: an unknown or completed investigation, ADDRESS_FOUND
 * without a valid address, a person's outcome for an investigation into a company's dwellings, a date in the future.
 */
export function completeInvestigation(
  input: CompleteInvestigationInput,
  state: { code: string; investigation: InvestigationRow | undefined; current: StayRow | undefined },
  now: Date,
): CompleteInvestigationDecision | Refusal {
  const rule = "ch. 3 experiment gemeenten als aangewezen bestuursorgaan";
  const inv = state.investigation;
  if (!inv)
    return refuse(rule, "no such investigation", "give the investigationRef of an open investigation");
  if (inv.status !== "OPEN")
    return refuse(rule, "the investigation is already completed", "open a new one instead");
  const today = isoDay(now);
  const effectiveDate = input.effectiveDate ?? today;
  if (!isIsoDate(effectiveDate) || effectiveDate > today) {
    return refuse(
      rule,
      "effectiveDate is not a day up to today",
      "give the first day the finding applies (YYYY-MM-DD)",
    );
  }
  if ((input.outcome === "ADDRESS_FOUND" || input.outcome === "NOT_STAYING") && inv.bsn === null) {
    return refuse(
      rule,
      "this investigation is into a company's dwellings, not a person's address",
      "complete it as ADDRESS_CONFIRMED or NO_FINDING, and open an investigation per person",
    );
  }
  const a = input.stayAddress;
  if (input.outcome === "ADDRESS_FOUND") {
    if (
      !a ||
      !nonEmpty(a.street) ||
      !nonEmpty(a.houseNumber) ||
      !nonEmpty(a.city) ||
      !isPostalCode(a.postalCode)
    ) {
      return refuse(
        rule,
        "ADDRESS_FOUND needs the address found",
        "give stayAddress: street, houseNumber, postalCode, city, municipalityCode",
      );
    }
    if (!isValidGemeentecode(a.municipalityCode)) {
      return refuse(
        rule,
        "stayAddress.municipalityCode is not a gemeentecode",
        "give GM and four digits, e.g. GM0606",
      );
    }
  }
  const investigation: InvestigationRow = {
    ...inv,
    status: "COMPLETED",
    outcome: input.outcome,
    completedAt: now.toISOString(),
  };
  const current = state.current && !state.current.ended ? state.current : undefined;
  let change: { kind: StayAddressChangeKind; stay: StayRow } | null = null;
  if (input.outcome === "ADDRESS_FOUND" && a && inv.bsn) {
    const found: StayRow = {
      bsn: inv.bsn,
      employerKvk: current?.employerKvk ?? inv.employerKvk,
      street: a.street.trim(),
      houseNumber: normaliseHouseNumber(a.houseNumber),
      postalCode: normalisePostalCode(a.postalCode),
      city: a.city.trim(),
      municipalityCode: a.municipalityCode,
      since: effectiveDate,
      source: "INVESTIGATION",
      ended: false,
    };
    if (!current) change = { kind: "COMPLETED", stay: found };
    else if (!sameDwelling(current, found)) change = { kind: "UPDATED", stay: found };
  } else if (input.outcome === "NOT_STAYING" && current) {
    change = { kind: "ENDED", stay: { ...current, ended: true } };
  }
  if (!change) {
    return {
      outcome: "completed",
      investigation,
      stay: null,
      publish: [],
      note: "nothing changes in the BRP",
    };
  }
  if (!inBrpExperiment(state.code, today)) {
    return {
      outcome: "completed",
      investigation,
      stay: change.stay,
      publish: [],
      note: "this municipality may not pass stay-address changes to BZK today (not in the abo experiment, or outside its four years)",
    };
  }
  const s = change.stay;
  return {
    outcome: "completed",
    investigation,
    stay: s,
    note: null,
    publish: [
      {
        topic: "brp.stay-address-changed",
        value: {
          eventTime: now.toISOString(),
          subjectKvk: s.employerKvk,
          municipalityCode: state.code,
          person: { bsn: s.bsn },
          changeKind: change.kind,
          stayAddress:
            change.kind === "ENDED"
              ? null
              : {
                  street: s.street,
                  houseNumber: s.houseNumber,
                  postalCode: s.postalCode,
                  city: s.city,
                  municipalityCode: s.municipalityCode,
                },
          effectiveDate,
        },
      },
    ],
  };
}

// ---- desk: record-inspection ----------------------------------------------------------------------------------------

export interface InspectionInput {
  caseReference: string;
  subjectKvk: string;
  subjectRole: HousingRole;
  inspectionDate: string;
  announced?: boolean | undefined;
  dwelling: {
    street: string;
    houseNumber: string;
    postalCode: string;
    municipalityCode: string;
    occupants: number;
    floorAreaM2?: number | null | undefined;
    qualityMark: QualityMark;
  };
  violations: ViolationKind[];
  notes?: string | null | undefined;
}

export interface InspectionDecision {
  readonly outcome: "violation" | "no-violation";
  /** The planned inspections at this dwelling that this one carried out. */
  readonly done: InspectionRow[];
  readonly violation: ViolationRow | null;
  readonly publish: Publication[];
}

/**
 * The seed, ch. 4.1: "Gemeenten zijn bij private verhuurders en verhuurbemiddelaars verantwoordelijk voor het
 * toezicht en het handhaven van de algemene regels en de verhuurvergunning" (Wet goed verhuurderschap); ch. 6.1:
 * "Meer onaangekondigde inspecties/controles door gemeenten" (aanbeveling 6.1.E). A housing inspection in the
 * municipality is recorded; it carries out the inspections planned at that dwelling; when it found violations, the
 * municipality reports them (huisvesting.violation-found). Refused: a dwelling in another municipality (a
 * municipality supervises within its own borders), an inspection date in the future, a case reference already
 * used, a KvK number that is not one, a postal code that is not one, a negative number of occupants.
 */
export function recordInspection(
  input: InspectionInput,
  state: { code: string; existing: ViolationRow | undefined; plannedAtDwelling: readonly InspectionRow[] },
  now: Date,
): InspectionDecision | Refusal {
  const rule = "ch. 4.1 Wet goed verhuurderschap";
  const d = input.dwelling;
  if (d.municipalityCode !== state.code) {
    return refuse(
      rule,
      "the dwelling lies in another municipality",
      "a municipality reports housing violations within its own borders: leave it to the municipality where the dwelling lies",
    );
  }
  if (!isValidKvk(input.subjectKvk)) {
    return refuse(
      rule,
      "subjectKvk is not a KvK number",
      "give the eight-digit KvK number of the company responsible",
    );
  }
  if (!nonEmpty(input.caseReference))
    return refuse(rule, "caseReference is empty", "give the inspection's case number");
  if (state.existing) {
    return refuse(
      rule,
      "this case reference is already recorded",
      "give the new inspection its own case number",
    );
  }
  if (!isIsoDate(input.inspectionDate) || input.inspectionDate > isoDay(now)) {
    return refuse(
      rule,
      "inspectionDate is not a day up to today",
      "give the day of the inspection (YYYY-MM-DD)",
    );
  }
  if (!isPostalCode(d.postalCode) || !nonEmpty(d.houseNumber) || !nonEmpty(d.street)) {
    return refuse(
      rule,
      "the dwelling's address is incomplete",
      "give street, houseNumber and a postal code such as 3112AB",
    );
  }
  if (!Number.isInteger(d.occupants) || d.occupants < 0) {
    return refuse(
      rule,
      "occupants is not a number of people",
      "give the number of people found living there",
    );
  }
  const dwelling = {
    postalCode: normalisePostalCode(d.postalCode),
    houseNumber: normaliseHouseNumber(d.houseNumber),
  };
  const done = state.plannedAtDwelling
    .filter((i) => i.status === "PLANNED" && sameDwelling(i, dwelling))
    .map((i) => ({ ...i, status: "DONE" as const, doneAt: now.toISOString(), doneBy: input.caseReference }));
  const violations = [...new Set(input.violations)];
  if (violations.length === 0) return { outcome: "no-violation", done, violation: null, publish: [] };
  const announced = input.announced ?? false;
  const violation: ViolationRow = {
    caseReference: input.caseReference,
    subjectKvk: input.subjectKvk,
    subjectRole: input.subjectRole,
    inspectionDate: input.inspectionDate,
    announced,
    street: d.street.trim(),
    houseNumber: dwelling.houseNumber,
    postalCode: dwelling.postalCode,
    occupants: d.occupants,
    violations,
    own: true,
    recordedAt: now.toISOString(),
  };
  return {
    outcome: "violation",
    done,
    violation,
    publish: [
      {
        topic: "huisvesting.violation-found",
        value: {
          eventTime: now.toISOString(),
          subjectKvk: input.subjectKvk,
          subjectRole: input.subjectRole,
          caseReference: input.caseReference,
          inspectionDate: input.inspectionDate,
          announced,
          dwelling: {
            street: violation.street ?? "",
            houseNumber: dwelling.houseNumber,
            postalCode: dwelling.postalCode,
            municipalityCode: state.code,
            occupants: d.occupants,
            floorAreaM2: d.floorAreaM2 ?? null,
            qualityMark: d.qualityMark,
          },
          violations,
          notes: input.notes ?? null,
        },
      },
    ],
  };
}

// ---- desk: meldpunt-report --------------------------------------------------------------------------------------

export interface MeldpuntInput {
  subjectKvk: string;
  behaviours: UnwantedLettingBehaviour[];
  dwellingPostalCode?: string | null | undefined;
  anonymous: boolean;
  reporter?: { name: string; contact: string } | null | undefined;
  description: string;
}

export interface MeldpuntDecision {
  readonly outcome: "reported";
  readonly report: MeldpuntRow;
  readonly inspection: InspectionRow | null;
  readonly publish: Publication[];
}

/** The day every municipality must have its meldpunt (ch. 4.1). */
export const MELDPUNT_FROM = "2024-01-01";

/**
 * The seed, ch. 4.1: "Iedere gemeente moet op 1 januari 2024 een meldpunt hebben waar anoniem en kosteloos
 * meldingen kunnen worden gedaan van ongewenst verhuurgedrag", such as "woondiscriminatie, intimidatie, onredelijke
 * servicekosten en een te hoge borg". The meldpunt takes a report for its own municipality; an anonymous report
 * carries no reporter, a named one needs the reporter's name and contact. A report that names the dwelling's postal
 * code plans an unannounced inspection there (ch. 6.1). Refused: before the meldpunt's first day, no behaviour
 * named, an anonymous report with a reporter, a named one without, a KvK number or postal code that is not one.
 */
export function meldpuntReport(
  input: MeldpuntInput,
  state: { code: string; plannedInspections: readonly InspectionRow[] },
  newRef: NewReference,
  now: Date,
): MeldpuntDecision | Refusal {
  const rule = "ch. 4.1 meldpunt ongewenst verhuurgedrag";
  if (isoDay(now) < MELDPUNT_FROM) {
    return refuse(rule, "the meldpunt opens on 2024-01-01", "take the report from that day");
  }
  if (!isValidKvk(input.subjectKvk)) {
    return refuse(
      rule,
      "subjectKvk is not a KvK number",
      "give the landlord's or letting agent's eight-digit KvK number",
    );
  }
  const behaviours = [...new Set(input.behaviours)];
  if (behaviours.length === 0) {
    return refuse(rule, "the report names no behaviour", "name at least one behaviour, OTHER if none fits");
  }
  if (input.anonymous && input.reporter) {
    return refuse(
      rule,
      "an anonymous report carries no reporter",
      "leave the reporter out, or set anonymous to false if the reporter wants to be known",
    );
  }
  if (
    !input.anonymous &&
    (!input.reporter || !nonEmpty(input.reporter.name) || !nonEmpty(input.reporter.contact))
  ) {
    return refuse(
      rule,
      "a named report needs the reporter's name and contact",
      "give both, or set anonymous to true",
    );
  }
  if (!nonEmpty(input.description)) {
    return refuse(rule, "the report has no description", "give the report in the reporter's words");
  }
  const postalCode = input.dwellingPostalCode ? normalisePostalCode(input.dwellingPostalCode) : null;
  if (postalCode !== null && !isPostalCode(postalCode)) {
    return refuse(
      rule,
      "dwellingPostalCode is not a postal code",
      "give four digits and two letters, e.g. 3112AB",
    );
  }
  const report: MeldpuntRow = {
    reportReference: newRef("MP"),
    subjectKvk: input.subjectKvk,
    behaviours,
    dwellingPostalCode: postalCode,
    anonymous: input.anonymous,
    reporter: input.anonymous ? null : (input.reporter ?? null),
    description: input.description,
    reportedAt: now.toISOString(),
  };
  const planned =
    postalCode !== null &&
    state.plannedInspections.some(
      (i) => i.status === "PLANNED" && sameDwelling(i, { postalCode, houseNumber: null }),
    );
  const inspection: InspectionRow | null =
    postalCode !== null && !planned
      ? {
          inspectionRef: newRef("HC"),
          subjectKvk: input.subjectKvk,
          postalCode,
          houseNumber: null,
          cause: "MELDPUNT",
          causeReference: report.reportReference,
          announced: false,
          status: "PLANNED",
          plannedAt: now.toISOString(),
          doneAt: null,
          doneBy: null,
        }
      : null;
  return {
    outcome: "reported",
    report,
    inspection,
    publish: [
      {
        topic: "huisvesting.landlord-reported",
        value: {
          eventTime: report.reportedAt,
          subjectKvk: report.subjectKvk,
          reportReference: report.reportReference,
          municipalityCode: state.code,
          behaviours,
          dwellingPostalCode: postalCode,
          anonymous: report.anonymous,
          reporter: report.reporter,
          description: report.description,
        },
      },
    ],
  };
}

/**
 * The seed, ch. 4.1 (the meldpunt): the municipality's own reports come back to it (it is their only consumer);
 * one it already holds is a duplicate, one it does not (taken while the service was down) is recorded.
 */
export function onLandlordReported(
  value: Delivered<LandlordReported>,
  state: { code: string; existing: MeldpuntRow | undefined },
  now: Date,
): { outcome: "recorded" | "duplicate"; report: MeldpuntRow } | Ignored | Poison {
  const rule = "ch. 4.1 meldpunt ongewenst verhuurgedrag";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.reportReference)) return poison(rule, "reportReference is missing");
  if (value.municipalityCode !== state.code)
    return ignored(rule, "the report was taken by another municipality");
  if (state.existing) return { outcome: "duplicate", report: state.existing };
  const reporter = value.reporter && nonEmpty(value.reporter.name) ? value.reporter : null;
  return {
    outcome: "recorded",
    report: {
      reportReference: value.reportReference,
      subjectKvk: value.subjectKvk as string,
      behaviours: strings(value.behaviours),
      dwellingPostalCode: value.dwellingPostalCode ?? null,
      anonymous: value.anonymous ?? reporter === null,
      reporter: reporter ? { name: reporter.name as string, contact: reporter.contact ?? "" } : null,
      description: value.description ?? "",
      reportedAt: value.eventTime ?? now.toISOString(),
    },
  };
}

// ---- desk: record-worker-language, and notices to workers in their own language --------------------------------------

export interface ContactInput {
  bsn: string;
  language: string;
  channel?: ChannelKind | undefined;
  contactAddress?: string | undefined;
}

/**
 * The seed, ch. 7: "Het effectief bereiken van arbeidsmigranten vraagt om gerichte en duidelijke communicatie in de
 * eigen taal"; municipalities use the MyInfoApp "om arbeidsmigranten beter te informeren". The municipality records
 * the language a person reads (ISO 639-1) and, optionally, how to reach them (EMAIL or SMS with an address; POST
 * goes to the stay address). Refused: a BSN failing the elfproef, a language that is not a two-letter code, an
 * EMAIL without an e-mail address, an SMS without a phone number, a contact address without a channel.
 */
export function recordWorkerLanguage(
  input: ContactInput,
): { outcome: "recorded"; contact: ContactRow } | Refusal {
  const rule = "ch. 7 informatie in de eigen taal";
  if (!isValidBsn(input.bsn))
    return refuse(rule, "bsn is not a valid BSN", "give the nine-digit BSN (elfproef)");
  const language = input.language.trim().toLowerCase();
  if (!/^[a-z]{2}$/.test(language)) {
    return refuse(rule, "language is not an ISO 639-1 code", "give two letters, e.g. pl, ro, bg");
  }
  const channel = input.channel ?? null;
  const address = input.contactAddress?.trim() || null;
  if (channel === null && address !== null) {
    return refuse(rule, "a contact address without a channel", "name the channel: EMAIL or SMS");
  }
  if (channel === "EMAIL" && !(address && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address))) {
    return refuse(rule, "EMAIL needs an e-mail address", "give contactAddress as an e-mail address");
  }
  if (channel === "SMS" && !(address && /^\+?\d{8,15}$/.test(address.replace(/[\s-]/g, "")))) {
    return refuse(
      rule,
      "SMS needs a phone number",
      "give contactAddress as a phone number, e.g. +48601234567",
    );
  }
  if (channel === "POST" && address !== null) {
    return refuse(rule, "POST goes to the stay address", "leave contactAddress out for POST");
  }
  return {
    outcome: "recorded",
    contact: {
      bsn: input.bsn,
      language,
      channel,
      contactAddress: channel === "SMS" && address ? address.replace(/[\s-]/g, "") : address,
    },
  };
}

export interface NoticeState {
  readonly code: string;
  /** The people the event affects, by the municipality's own records of stay addresses. */
  readonly affected: readonly StayRow[];
  readonly contacts: readonly ContactRow[];
  /** Notices already prepared or withheld for this cause. */
  readonly existing: readonly NoticeRow[];
}

export type NoticePublication = Extract<Publication, { topic: "informatie.worker-notice-issued" }>;

export interface NoticeDecision {
  readonly notices: NoticeRow[];
  readonly publish: NoticePublication[];
}

/**
 * The seed, ch. 7: "Het effectief bereiken van arbeidsmigranten vraagt om gerichte en duidelijke communicatie in de
 * eigen taal en op het juiste moment"; "Met het registreren van e-mailadressen in de BRP kan er door de overheid op
 * persoonlijk niveau worden gecommuniceerd met arbeidsmigranten", for which "Momenteel worden de voorbereidingen
 * getroffen". Every affected person staying in the municipality gets one notice per cause, in the language the
 * municipality holds for them, by the channel it holds (POST to the stay address otherwise). Without a language on
 * record the notice is withheld: there is no own language to write it in. The notice carries no BSN and no name.
 * The gateway refuses every notice today (the basis is being prepared, with no date); the outbox records that.
 */
export function workerNotices(
  cause: NoticeCause,
  causeReference: string,
  subjectKvk: string,
  state: NoticeState,
  newRef: NewReference,
  now: Date,
): NoticeDecision {
  const notices: NoticeRow[] = [];
  const publish: NoticePublication[] = [];
  const people = [
    ...new Map(
      state.affected.filter((s) => !s.ended && s.municipalityCode === state.code).map((s) => [s.bsn, s]),
    ).values(),
  ];
  people.sort((a, b) => a.since.localeCompare(b.since) || a.postalCode.localeCompare(b.postalCode));
  for (const stay of people) {
    if (
      state.existing.some(
        (n) => n.bsn === stay.bsn && n.cause === cause && n.causeReference === causeReference,
      )
    ) {
      continue;
    }
    const contact = state.contacts.find((c) => c.bsn === stay.bsn);
    const noticeReference = newRef("WN");
    if (!contact) {
      notices.push({
        noticeReference,
        bsn: stay.bsn,
        cause,
        causeReference,
        subjectKvk,
        language: null,
        channel: null,
        status: "WITHHELD",
        withheldReason: "no language on record for this person (record-worker-language)",
        preparedAt: now.toISOString(),
      });
      continue;
    }
    const channel: ChannelKind = contact.channel && contact.contactAddress ? contact.channel : "POST";
    const address =
      channel === "POST"
        ? `${stay.street} ${stay.houseNumber}, ${stay.postalCode} ${stay.city}`.trim()
        : (contact.contactAddress as string);
    notices.push({
      noticeReference,
      bsn: stay.bsn,
      cause,
      causeReference,
      subjectKvk,
      language: contact.language,
      channel,
      status: "PREPARED",
      withheldReason: null,
      preparedAt: now.toISOString(),
    });
    publish.push({
      topic: "informatie.worker-notice-issued",
      value: {
        eventTime: now.toISOString(),
        subjectKvk,
        noticeReference,
        cause,
        causeReference,
        municipalityCode: state.code,
        language: contact.language,
        contact: { channel, address },
      },
    });
  }
  return { notices, publish };
}

export interface RevocationDecision extends NoticeDecision {
  readonly outcome: "applied";
  readonly admission: AdmissionRow;
}

/**
 * The seed, ch. 2.1: inleners "kunnen dan geen zaken meer doen met niet-toegelaten uitleners"; ch. 7:
 * "communicatie in de eigen taal en op het juiste moment". The municipality (its view: KvK, trade name, admission
 * number, date) records the revocation and prepares a notice for every person staying in the municipality who
 * registered with the revoked uitlener (its own records of RvIG's stay addresses), in their own language
 * (workerNotices). The admission number is the cause reference: the municipality's view has no decision reference.
 */
export function onAdmissionRevoked(
  value: Delivered<AdmissionRevoked>,
  state: NoticeState & { admission: AdmissionRow | undefined },
  newRef: NewReference,
  now: Date,
): RevocationDecision | Poison {
  const rule = "ch. 2.1/7 intrekking, informatie in de eigen taal";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.admissionNumber)) return poison(rule, "admissionNumber is missing");
  const uitlenerKvk = value.subjectKvk as string;
  const admission: AdmissionRow = {
    uitlenerKvk,
    tradeName: value.tradeName ?? state.admission?.tradeName ?? null,
    admissionNumber: value.admissionNumber,
    status: "REVOKED",
    effectiveDate: value.effectiveDate ?? null,
  };
  const affected = state.affected.filter((s) => s.employerKvk === uitlenerKvk);
  const { notices, publish } = workerNotices(
    "ADMISSION_REVOKED",
    value.admissionNumber,
    uitlenerKvk,
    { ...state, affected },
    newRef,
    now,
  );
  return { outcome: "applied", admission, notices, publish };
}

export interface ViolationDecision extends NoticeDecision {
  readonly outcome: "recorded" | "duplicate";
  readonly violation: ViolationRow;
}

/**
 * The seed, ch. 4.1: the Wet goed verhuurderschap; ch. 6.1: the municipality supervises housing; ch. 7: informing
 * "in de eigen taal". A housing violation in the municipality (its own inspection coming back, or SNF's or AKF's)
 * is recorded once, and every person whose stay address is that dwelling gets a notice in their own language
 * (workerNotices). A violation in another municipality is not for this one.
 */
export function onViolationFound(
  value: Delivered<ViolationFound>,
  state: NoticeState & { existingViolation: ViolationRow | undefined },
  newRef: NewReference,
  now: Date,
): ViolationDecision | Ignored | Poison {
  const rule = "ch. 4.1/7 huisvesting, informatie in de eigen taal";
  const d = value.dwelling;
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.caseReference)) return poison(rule, "caseReference is missing");
  if (
    !d ||
    !nonEmpty(d.postalCode) ||
    !nonEmpty(d.houseNumber) ||
    !isValidGemeentecode(d.municipalityCode ?? "")
  ) {
    return poison(rule, "dwelling with postalCode, houseNumber and municipalityCode is missing");
  }
  if (d.municipalityCode !== state.code) return ignored(rule, "the dwelling lies in another municipality");
  const dwelling = {
    postalCode: normalisePostalCode(d.postalCode),
    houseNumber: normaliseHouseNumber(d.houseNumber),
  };
  const violation: ViolationRow = state.existingViolation ?? {
    caseReference: value.caseReference,
    subjectKvk: value.subjectKvk as string,
    subjectRole: value.subjectRole ?? null,
    inspectionDate: value.inspectionDate ?? null,
    announced: value.announced ?? null,
    street: d.street ?? null,
    houseNumber: dwelling.houseNumber,
    postalCode: dwelling.postalCode,
    occupants: d.occupants ?? null,
    violations: strings(value.violations),
    own: false,
    recordedAt: now.toISOString(),
  };
  const affected = state.affected.filter((s) => sameDwelling(s, dwelling));
  const { notices, publish } = workerNotices(
    "HOUSING_VIOLATION",
    value.caseReference,
    value.subjectKvk as string,
    { ...state, affected },
    newRef,
    now,
  );
  return { outcome: state.existingViolation ? "duplicate" : "recorded", violation, notices, publish };
}
