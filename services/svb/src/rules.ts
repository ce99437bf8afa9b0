// The SVB's rules, pure: a delivered value (its JSON form, projected to the SVB's view, so every field may be
// absent) or a desk input, plus the service's state as plain objects, in; a decision (rows to write, events to
// publish) out. No I/O: src/agency.ts loads the state, calls these and applies what they return.
//
// The seed is the Jaarrapportage arbeidsmigranten 2023; each rule names its passage.
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidBsn,
  isValidKvk,
  type AdmissionGranted,
  type AdmissionRevoked,
  type JointCaseOpened,
  type SignalRaised,
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

/** A desk input the rules refuse: which rule, why, and what to do instead. Never carries an identifier's value. */
export interface Refusal {
  readonly outcome: "refused";
  readonly rule: string;
  readonly reason: string;
  readonly fix: string;
}

export type Publication = { readonly topic: "lsi.signal-raised"; readonly value: JsonOf<SignalRaised> };

// ---- state, as the rules see it -------------------------------------------------------------------------------

/** The register as the SVB knows it (table `admissions`). */
export interface AdmissionRow {
  uitlenerKvk: string;
  tradeName: string | null;
  admissionNumber: string | null;
  status: "ADMITTED" | "REVOKED";
  establishedAbroad: boolean | null;
  countryOfEstablishment: string | null;
  effectiveDate: string | null;
  decisionReference: string | null;
  reasons: string[];
}

/** A posting case: an A1 certificate (detachering) of one worker lent by one uitlener (table `posting_cases`). */
export interface PostingCaseRow {
  caseReference: string;
  uitlenerKvk: string;
  workerBsn: string;
  /** The other state of the posting (ISO 3166-1 alpha-2): where the worker is posted from or to. */
  country: string;
  periodStart: string;
  periodEnd: string;
  a1Reference: string | null;
  recordedAt: string;
}

export type ReviewCause = "ADMISSION_REVOKED" | "POSTED_AFTER_REVOCATION";

/** A review of one posting case opened because its uitlener lost its admission (table `posting_reviews`). */
export interface PostingReviewRow {
  caseReference: string;
  uitlenerKvk: string;
  cause: ReviewCause;
  /** The revocation decision behind the review. */
  causeReference: string;
  status: "OPEN";
  openedAt: string;
}

/** A signal of an LSI partner as received (table `lsi_signals`). */
export interface ReceivedSignalRow {
  signalReference: string;
  subjectKvk: string;
  kind: string | null;
  municipalityCode: string | null;
  personCount: number;
  persons: { bsn?: string; role?: string }[];
  summary: string | null;
  raisedAt: string | null;
  receivedAt: string;
}

/** A joint AMU case as received (table `amu_cases`). */
export interface AmuCaseRow {
  caseReference: string;
  subjectKvk: string;
  partners: string[];
  concerns: string[];
  summary: string | null;
  openedAt: string | null;
  receivedAt: string;
}

// ---- helpers ---------------------------------------------------------------------------------------------------

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isIsoDate(value: unknown): value is string {
  return typeof value === "string" && ISO_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

function poison(rule: string, reason: string): Poison {
  return { outcome: "poison", reason: `${rule}: ${reason}` };
}

function refuse(rule: string, reason: string, fix: string): Refusal {
  return { outcome: "refused", rule, reason, fix };
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}

function strings(values: readonly (string | undefined)[] | undefined): string[] {
  return (values ?? []).filter((v): v is string => typeof v === "string");
}

/** Whether a posting runs on or after a day: its last day is that day or later. */
export function runsOnOrAfter(posting: Pick<PostingCaseRow, "periodEnd">, day: string): boolean {
  return posting.periodEnd >= day;
}

// ---- the register ----------------------------------------------------------------------------------------------

/**
 * The seed, ch. 2.1: "Inleners kunnen zelf kosteloos in een openbaar register controleren" whether an uitlener is
 * admitted, and the Wtta covers "ook buitenlandse uitleners die op de Nederlandse markt actief zijn" (aanbeveling
 * 2.1.H). The SVB keeps the admissions it receives, with the country of establishment: a foreign uitlener's workers
 * are the posted workers whose A1 certificates it checks.
 */
export function recordAdmissionGranted(
  value: Delivered<AdmissionGranted>,
): { outcome: "recorded"; admission: AdmissionRow } | Poison {
  const rule = "ch. 2.1 openbaar register";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.admissionNumber)) return poison(rule, "admissionNumber is missing");
  return {
    outcome: "recorded",
    admission: {
      uitlenerKvk: value.subjectKvk as string,
      tradeName: value.tradeName ?? null,
      admissionNumber: value.admissionNumber,
      status: "ADMITTED",
      establishedAbroad: value.establishedAbroad ?? null,
      countryOfEstablishment: value.countryOfEstablishment ?? null,
      effectiveDate: null,
      decisionReference: null,
      reasons: [],
    },
  };
}

// ---- desk: record-posting-case ------------------------------------------------------------------------------------

export interface PostingCaseInput {
  uitlenerKvk: string;
  workerBsn: string;
  country: string;
  periodStart: string;
  periodEnd: string;
  a1Reference?: string | undefined;
}

export interface PostingCaseDecision {
  readonly outcome: "recorded";
  readonly postingCase: PostingCaseRow;
  /** A review opened at once: the posting runs on or after the day its uitlener lost its admission. */
  readonly review: PostingReviewRow | null;
}

/**
 * The seed, ch. 1.1: "buitenlandse dienstverrichters [moeten] hun komst, de aard en duur van de werkzaamheden ...
 * en de gedetacheerde werknemers melden"; ch. 6.1: the SVB is responsible "voor het toezicht inzake belastingen en
 * premies", and cross-border enforcement looks for "niet-echte gedetacheerde werknemers" and "het ontbreken van
 * detacheringsverklaringen". The SVB records a posting case: which uitlener lends which worker (BSN), posted to or
 * from which other state, for which period. Refused: a KvK number or BSN that is not one, a country that is not an
 * ISO code or is the Netherlands itself (a posting crosses a border), an inverted period, and a second case for the
 * same worker and uitlener whose period overlaps an existing one (one certificate per posting period). A posting
 * that runs on or after the day its uitlener lost its admission is reviewed at once.
 */
export function recordPostingCase(
  input: PostingCaseInput,
  state: { admission: AdmissionRow | undefined; casesOfWorker: readonly PostingCaseRow[] },
  caseReference: string,
  now: Date,
): PostingCaseDecision | Refusal {
  const rule = "ch. 6.1 detachering";
  if (!isValidKvk(input.uitlenerKvk)) {
    return refuse(rule, "uitlenerKvk is not a KvK number", "give the uitlener's eight-digit KvK number");
  }
  if (!isValidBsn(input.workerBsn)) {
    return refuse(
      rule,
      "workerBsn is not a valid BSN",
      "give the worker's nine-digit BSN (it must pass the elfproef)",
    );
  }
  const country = input.country.toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) {
    return refuse(
      rule,
      "country is not an ISO 3166-1 alpha-2 code",
      "give the other state as two letters, e.g. PL",
    );
  }
  if (country === "NL") {
    return refuse(rule, "a posting crosses a border", "give the other state of the posting, not NL");
  }
  if (!isIsoDate(input.periodStart) || !isIsoDate(input.periodEnd) || input.periodStart > input.periodEnd) {
    return refuse(
      rule,
      "the posting period is not a period",
      "give periodStart on or before periodEnd (YYYY-MM-DD)",
    );
  }
  const overlapping = state.casesOfWorker.find(
    (c) =>
      c.uitlenerKvk === input.uitlenerKvk &&
      c.workerBsn === input.workerBsn &&
      c.periodStart <= input.periodEnd &&
      input.periodStart <= c.periodEnd,
  );
  if (overlapping) {
    return refuse(
      rule,
      `the worker already has posting case ${overlapping.caseReference} with this uitlener for an overlapping period`,
      "amend that case instead, or give a period that does not overlap it",
    );
  }
  const postingCase: PostingCaseRow = {
    caseReference,
    uitlenerKvk: input.uitlenerKvk,
    workerBsn: input.workerBsn,
    country,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    a1Reference: input.a1Reference ?? null,
    recordedAt: now.toISOString(),
  };
  const revoked = state.admission?.status === "REVOKED" ? state.admission : undefined;
  const review =
    revoked?.effectiveDate && runsOnOrAfter(postingCase, revoked.effectiveDate)
      ? {
          caseReference,
          uitlenerKvk: input.uitlenerKvk,
          cause: "POSTED_AFTER_REVOCATION" as const,
          causeReference: revoked.decisionReference ?? "unknown",
          status: "OPEN" as const,
          openedAt: now.toISOString(),
        }
      : null;
  return { outcome: "recorded", postingCase, review };
}

// ---- the revocation -------------------------------------------------------------------------------------------------

export interface RevocationState {
  readonly admission: AdmissionRow | undefined;
  /** Every posting case of this uitlener. */
  readonly cases: readonly PostingCaseRow[];
  /** Reviews already opened for this revocation decision. */
  readonly reviewsForDecision: readonly PostingReviewRow[];
}

export interface RevocationDecision {
  readonly outcome: "applied" | "duplicate";
  readonly admission: AdmissionRow;
  readonly reviews: PostingReviewRow[];
  readonly publish: Publication[];
}

/** The signal reference the SVB gives its LSI signal about one revocation: one decision, one signal. */
export function revocationSignalReference(decisionReference: string): string {
  return `SVB-LSI-${decisionReference}`;
}

/**
 * The seed, ch. 2.1: "wordt het voor alle uitleners van arbeidskrachten verboden om zonder een toelating
 * arbeidskrachten in Nederland ter beschikking te stellen", foreign uitleners included (aanbeveling 2.1.H); ch. 6.1:
 * cross-border enforcement finds "niet-echte gedetacheerde werknemers" and "schijn-/frauduleuze uitzendbureaus",
 * and the LSI partners, the SVB among them, exchange data under "artikel 64 van de Wet SUWI".
 *
 * On a revocation the SVB marks the admission revoked and opens a review of every posting case of that uitlener
 * that runs on or after the revocation's effective date (a posting that ended before it is not affected). When
 * posted workers are affected it raises one LSI signal SHAM_POSTING about the uitlener naming them (BSN, role
 * WORKER): a posting by an uitlener that may no longer lend is to be examined jointly. The same decision twice
 * opens nothing new.
 */
export function onAdmissionRevoked(
  value: Delivered<AdmissionRevoked>,
  state: RevocationState,
  now: Date,
): RevocationDecision | Poison {
  const rule = "ch. 2.1 toelatingsplicht";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.decisionReference)) return poison(rule, "decisionReference is missing");
  if (!isIsoDate(value.effectiveDate)) return poison(rule, "effectiveDate is missing or not a date");
  const uitlenerKvk = value.subjectKvk as string;
  const decisionReference = value.decisionReference;
  const effectiveDate = value.effectiveDate;
  const admission: AdmissionRow = {
    uitlenerKvk,
    tradeName: value.tradeName ?? state.admission?.tradeName ?? null,
    admissionNumber: value.admissionNumber ?? state.admission?.admissionNumber ?? null,
    status: "REVOKED",
    establishedAbroad: state.admission?.establishedAbroad ?? null,
    countryOfEstablishment: state.admission?.countryOfEstablishment ?? null,
    effectiveDate,
    decisionReference,
    reasons: strings(value.reasons),
  };
  const handled =
    state.admission?.status === "REVOKED" && state.admission.decisionReference === decisionReference;
  if (handled || state.reviewsForDecision.length > 0) {
    return { outcome: "duplicate", admission, reviews: [], publish: [] };
  }
  const affected = state.cases
    .filter((c) => c.uitlenerKvk === uitlenerKvk && runsOnOrAfter(c, effectiveDate))
    .sort((a, b) => a.caseReference.localeCompare(b.caseReference));
  const reviews: PostingReviewRow[] = affected.map((c) => ({
    caseReference: c.caseReference,
    uitlenerKvk,
    cause: "ADMISSION_REVOKED",
    causeReference: decisionReference,
    status: "OPEN",
    openedAt: now.toISOString(),
  }));
  const publish: Publication[] = [];
  if (affected.length > 0) {
    const workers = [...new Set(affected.map((c) => c.workerBsn))].sort();
    const countries = [...new Set(affected.map((c) => c.country))].sort();
    publish.push({
      topic: "lsi.signal-raised",
      value: {
        eventTime: now.toISOString(),
        subjectKvk: uitlenerKvk,
        signalReference: revocationSignalReference(decisionReference),
        kind: "SHAM_POSTING",
        municipalityCode: null,
        persons: workers.map((bsn) => ({ bsn, role: "WORKER" as const })),
        summary:
          `Admission revoked from ${effectiveDate} (decision ${decisionReference}); ` +
          `${affected.length} posting case(s) of ${workers.length} posted worker(s) (${countries.join(", ")}) ` +
          "run on or after that day and are under review.",
      },
    });
  }
  return { outcome: "applied", admission, reviews, publish };
}

// ---- what the SVB records of its partners -------------------------------------------------------------------------

/**
 * The seed, ch. 6.1: "De LSI is een samenwerkingsverband van het UWV, de Belastingdienst, de SVB, ..."; the SVB
 * receives the partners' signals from 2023 and records each once per reference (its own included).
 */
export function recordSignal(
  value: Delivered<SignalRaised>,
  existing: ReceivedSignalRow | undefined,
  now: Date,
): { outcome: "recorded" | "duplicate"; signal: ReceivedSignalRow } | Poison {
  const rule = "ch. 6.1 Wet SUWI art. 64";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.signalReference)) return poison(rule, "signalReference is missing");
  if (existing) return { outcome: "duplicate", signal: existing };
  const persons = (value.persons ?? []).map((p) => ({
    ...(p.bsn !== undefined ? { bsn: p.bsn } : {}),
    ...(p.role !== undefined ? { role: p.role } : {}),
  }));
  return {
    outcome: "recorded",
    signal: {
      signalReference: value.signalReference,
      subjectKvk: value.subjectKvk as string,
      kind: value.kind ?? null,
      municipalityCode: value.municipalityCode ?? null,
      personCount: persons.length,
      persons,
      summary: value.summary ?? null,
      raisedAt: value.eventTime ?? null,
      receivedAt: now.toISOString(),
    },
  };
}

/**
 * The seed, ch. 6 (AMU): "Vanaf 2023 heeft SVB zich aangesloten bij het samenwerkingsverband". The SVB records
 * every joint case it receives, once per case reference.
 */
export function recordAmuCase(
  value: Delivered<JointCaseOpened>,
  existing: AmuCaseRow | undefined,
  now: Date,
): { outcome: "recorded" | "duplicate"; amuCase: AmuCaseRow } | Poison {
  const rule = "ch. 6 AMU";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.caseReference)) return poison(rule, "caseReference is missing");
  if (existing) return { outcome: "duplicate", amuCase: existing };
  return {
    outcome: "recorded",
    amuCase: {
      caseReference: value.caseReference,
      subjectKvk: value.subjectKvk as string,
      partners: strings(value.partners),
      concerns: strings(value.concerns),
      summary: value.summary ?? null,
      openedAt: value.eventTime ?? null,
      receivedAt: now.toISOString(),
    },
  };
}
