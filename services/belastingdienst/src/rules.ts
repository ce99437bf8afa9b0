// The Belastingdienst's rules, pure: a delivered value (its JSON form, projected to the Belastingdienst's view, so
// every field may be absent) or a desk input, plus the service's state as plain objects, in; a decision (rows to
// write, events to publish) out. No I/O: src/agency.ts loads the state, calls these and applies what they return.
//
// The seed is the Jaarrapportage arbeidsmigranten 2023; each rule names its passage.
import type { JsonForm as JsonForm_, Projected } from "@grondslag/agency";
import {
  isValidKvk,
  type AdmissionGranted,
  type AdmissionRefused,
  type AdmissionRevoked,
  type JointCaseOpened,
  type SignalRaised,
  type TaxArrearsKind,
  type TaxArrearsSignalled,
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

export type Publication =
  | { readonly topic: "fiscaal.arrears-signalled"; readonly value: JsonOf<TaxArrearsSignalled> }
  | { readonly topic: "lsi.signal-raised"; readonly value: JsonOf<SignalRaised> };

// ---- state, as the rules see it -------------------------------------------------------------------------------

export type AdmissionStatus = "ADMITTED" | "REVOKED";

/** The register as the Belastingdienst knows it (table `admissions`). */
export interface AdmissionRow {
  uitlenerKvk: string;
  tradeName: string | null;
  admissionNumber: string | null;
  status: AdmissionStatus;
  admissionKind: string | null;
  validFrom: string | null;
  provisionalUntil: string | null;
  /** For a revoked admission: the first day it no longer applies, and the decision. */
  effectiveDate: string | null;
  decisionReference: string | null;
  reasons: string[];
}

/** A refused application (table `refusals`). */
export interface RefusalRow {
  decisionReference: string;
  uitlenerKvk: string;
  tradeName: string | null;
  reasons: string[];
  refusedAt: string;
}

/** One deposit by an inlener on an uitlener's g-rekening for one period (table `g_account_deposits`). */
export interface DepositRow {
  depositReference: string;
  inlenerKvk: string;
  uitlenerKvk: string;
  amountCents: number;
  /** The invoice sum (factuursom) the deposit belongs to, where known: the basis of the 35% indemnity. */
  invoiceTotalCents: number | null;
  periodStart: string;
  periodEnd: string;
  recordedAt: string;
}

/** The Belastingdienst's own signal about unpaid taxes of an uitlener (table `arrears_signals`). */
export interface ArrearsRow {
  signalReference: string;
  uitlenerKvk: string;
  kinds: TaxArrearsKind[];
  periodStart: string;
  periodEnd: string;
  arrearsCents: number | null;
  signalledAt: string;
}

export type ReviewCause = "ADMISSION_REVOKED" | "DEPOSIT_AFTER_REVOCATION";

/** An inlener flagged for a review of its inlenersaansprakelijkheid (table `liability_reviews`), one per cause. */
export interface LiabilityReviewRow {
  inlenerKvk: string;
  uitlenerKvk: string;
  cause: ReviewCause;
  /** The revocation decision behind the review. */
  causeReference: string;
  depositedCents: number;
  /** Sum of the invoices the deposits belong to, where every one is known; null otherwise. */
  invoicedCents: number | null;
  /** Whether every deposit was at least 35% of its invoice: the inlener can rely on the indemnity (vrijwaring). */
  indemnified: boolean;
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

function isoDay(now: Date): string {
  return now.toISOString().slice(0, 10);
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

/** The share of the invoice sum that, deposited on the g-rekening, indemnifies the inlener (ch. 2.1). */
export const INDEMNITY_SHARE = 0.35;

// ---- the register ----------------------------------------------------------------------------------------------

export interface AdmissionRecorded {
  readonly outcome: "recorded";
  readonly admission: AdmissionRow;
}

/**
 * The seed, ch. 2.1: "Inleners kunnen zelf kosteloos in een openbaar register controleren" whether an uitlener is
 * admitted. The Belastingdienst keeps the register's admissions it receives, so that its arrears signal is about an
 * admitted uitlener and a revocation finds what it revokes. A later grant (a new admission after a revocation)
 * replaces the revoked row.
 */
export function recordAdmissionGranted(value: Delivered<AdmissionGranted>): AdmissionRecorded | Poison {
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
      admissionKind: value.admissionKind ?? null,
      validFrom: value.validFrom ?? null,
      provisionalUntil: value.provisionalUntil ?? null,
      effectiveDate: null,
      decisionReference: null,
      reasons: [],
    },
  };
}

export interface RefusalRecorded {
  readonly outcome: "recorded" | "duplicate";
  readonly refusal: RefusalRow;
}

/**
 * The seed, ch. 2.1: the minister "toetst of de aanvrager aan alle voorwaarden voor toelating voldoet en of er geen
 * sprake is van een weigeringsgrond". The Belastingdienst records the refusals it receives (its view: KvK, trade
 * name, reasons, decision) beside the register; the same decision twice is one refusal.
 */
export function recordAdmissionRefused(
  value: Delivered<AdmissionRefused>,
  existing: RefusalRow | undefined,
  now: Date,
): RefusalRecorded | Poison {
  const rule = "ch. 2.1 weigeringsgrond";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.decisionReference)) return poison(rule, "decisionReference is missing");
  if (existing) return { outcome: "duplicate", refusal: existing };
  return {
    outcome: "recorded",
    refusal: {
      decisionReference: value.decisionReference,
      uitlenerKvk: value.subjectKvk as string,
      tradeName: value.tradeName ?? null,
      reasons: (value.reasons ?? []).filter((r): r is NonNullable<typeof r> => typeof r === "string"),
      refusedAt: value.eventTime ?? now.toISOString(),
    },
  };
}

// ---- the revocation: inlenersaansprakelijkheid and the LSI signal -----------------------------------------------

export interface RevocationState {
  readonly admission: AdmissionRow | undefined;
  /** Every g-rekening deposit on record for this uitlener. */
  readonly deposits: readonly DepositRow[];
  /** The Belastingdienst's own arrears signals about this uitlener. */
  readonly arrears: readonly ArrearsRow[];
  /** Reviews already opened for this revocation decision (a redelivery under another event id opens none). */
  readonly reviewsForDecision: readonly LiabilityReviewRow[];
}

export interface RevocationDecision {
  readonly outcome: "applied" | "duplicate";
  readonly admission: AdmissionRow;
  readonly reviews: LiabilityReviewRow[];
  readonly publish: Publication[];
}

/** The signal reference the Belastingdienst gives its LSI signal about one revocation: one decision, one signal. */
export function revocationSignalReference(decisionReference: string): string {
  return `BD-LSI-${decisionReference}`;
}

/**
 * Opens a liability review for one inlener from its deposits on the uitlener's g-rekening. The seed, ch. 2.1: the
 * use of the g-rekening is stimulated "door ... een vrijwaringsregeling voor de fiscale inlenersaansprakelijkheid
 * bij storting op de g-rekening"; "Vrijwaring kan worden verkregen bij storting van 35% van de factuursom op de
 * g-rekening". An inlener is indemnified only when every deposit is at least 35% of its known invoice sum.
 */
export function liabilityReview(
  inlenerKvk: string,
  uitlenerKvk: string,
  deposits: readonly DepositRow[],
  cause: ReviewCause,
  causeReference: string,
  now: Date,
): LiabilityReviewRow {
  const own = deposits.filter((d) => d.inlenerKvk === inlenerKvk && d.uitlenerKvk === uitlenerKvk);
  const depositedCents = own.reduce((sum, d) => sum + d.amountCents, 0);
  const allInvoiced = own.length > 0 && own.every((d) => d.invoiceTotalCents !== null);
  const invoicedCents = allInvoiced ? own.reduce((sum, d) => sum + (d.invoiceTotalCents ?? 0), 0) : null;
  const indemnified =
    allInvoiced && own.every((d) => d.amountCents >= INDEMNITY_SHARE * (d.invoiceTotalCents as number));
  return {
    inlenerKvk,
    uitlenerKvk,
    cause,
    causeReference,
    depositedCents,
    invoicedCents,
    indemnified,
    status: "OPEN",
    openedAt: now.toISOString(),
  };
}

/**
 * The seed, ch. 2.1: after the Wtta "kunnen [inleners] dan geen zaken meer doen met niet-toegelaten uitleners", and
 * "De g-rekening kan worden aangesproken als een uitlener de loonheffingen of de omzetbelasting niet betaalt";
 * ch. 6.1: the LSI partners exchange data under "artikel 64 van de Wet SUWI" against "belasting- en premiefraude".
 *
 * On a revocation the Belastingdienst marks the admission revoked and opens a liability review for every inlener
 * that deposited on the uitlener's g-rekening (its own records). When the revocation has a fiscal ground (TAX_ARREARS,
 * or an arrears signal of its own about the uitlener), it raises one LSI signal G_ACCOUNT_DEFAULT about the
 * uitlener: company only, no persons. A revocation it already handled (same decision) opens nothing new.
 */
export function onAdmissionRevoked(
  value: Delivered<AdmissionRevoked>,
  state: RevocationState,
  now: Date,
): RevocationDecision | Poison {
  const rule = "ch. 2.1 niet-toegelaten uitleners";
  if (!isValidKvk(value.subjectKvk ?? "")) return poison(rule, "subjectKvk is missing or not a KvK number");
  if (!nonEmpty(value.decisionReference)) return poison(rule, "decisionReference is missing");
  if (!isIsoDate(value.effectiveDate)) return poison(rule, "effectiveDate is missing or not a date");
  const uitlenerKvk = value.subjectKvk as string;
  const decisionReference = value.decisionReference;
  const reasons = (value.reasons ?? []).filter((r): r is NonNullable<typeof r> => typeof r === "string");
  const admission: AdmissionRow = {
    uitlenerKvk,
    tradeName: value.tradeName ?? state.admission?.tradeName ?? null,
    admissionNumber: value.admissionNumber ?? state.admission?.admissionNumber ?? null,
    status: "REVOKED",
    admissionKind: state.admission?.admissionKind ?? null,
    validFrom: state.admission?.validFrom ?? null,
    provisionalUntil: state.admission?.provisionalUntil ?? null,
    effectiveDate: value.effectiveDate,
    decisionReference,
    reasons,
  };
  const alreadyHandled =
    state.admission?.status === "REVOKED" && state.admission.decisionReference === decisionReference;
  if (alreadyHandled || state.reviewsForDecision.length > 0) {
    return { outcome: "duplicate", admission, reviews: [], publish: [] };
  }
  const inleners = [
    ...new Set(state.deposits.filter((d) => d.uitlenerKvk === uitlenerKvk).map((d) => d.inlenerKvk)),
  ];
  inleners.sort();
  const reviews = inleners.map((inlener) =>
    liabilityReview(inlener, uitlenerKvk, state.deposits, "ADMISSION_REVOKED", decisionReference, now),
  );
  const ownArrears = state.arrears.filter((a) => a.uitlenerKvk === uitlenerKvk);
  const fiscal = reasons.includes("TAX_ARREARS") || ownArrears.length > 0;
  const publish: Publication[] = [];
  if (fiscal) {
    const kinds = [...new Set(ownArrears.flatMap((a) => a.kinds))].sort();
    const unindemnified = reviews.filter((r) => !r.indemnified).length;
    publish.push({
      topic: "lsi.signal-raised",
      value: {
        eventTime: now.toISOString(),
        subjectKvk: uitlenerKvk,
        signalReference: revocationSignalReference(decisionReference),
        kind: "G_ACCOUNT_DEFAULT",
        municipalityCode: null,
        persons: [],
        summary:
          `Admission revoked from ${value.effectiveDate} (decision ${decisionReference}). ` +
          (kinds.length > 0
            ? `Belastingdienst arrears signals: ${kinds.join(", ")} (${ownArrears.map((a) => a.signalReference).join(", ")}). `
            : "Revoked for tax arrears. ") +
          `${reviews.length} inlener(s) under review for inlenersaansprakelijkheid, ${unindemnified} without indemnity.`,
      },
    });
  }
  return { outcome: "applied", admission, reviews, publish };
}

// ---- desk: signal-arrears ----------------------------------------------------------------------------------------

export interface ArrearsInput {
  uitlenerKvk: string;
  kinds: TaxArrearsKind[];
  periodStart: string;
  periodEnd: string;
  arrearsCents?: number | null | undefined;
  signalReference?: string | undefined;
}

export interface ArrearsDecision {
  readonly outcome: "signalled" | "duplicate";
  readonly arrears: ArrearsRow;
  readonly publish: Publication[];
}

/** The reference of an arrears signal when the desk gives none: one signal per uitlener and tax period. */
export function arrearsReference(uitlenerKvk: string, periodStart: string, periodEnd: string): string {
  return `BD-ARR-${uitlenerKvk}-${periodStart}-${periodEnd}`;
}

/**
 * The seed, ch. 2.1: the normenkader covers "afdracht van loonheffing en omzetbelasting", and "De g-rekening kan
 * worden aangesproken als een uitlener de loonheffingen of de omzetbelasting niet betaalt" (aanbeveling 2.1.B); the
 * Wtta lays "de wettelijke basis voor gegevensuitwisseling tussen publieke en private toezichthouders". The
 * Belastingdienst tells the admission authority about an admitted uitlener that does not pay, or whose g-rekening
 * it drew on, for tax periods that have ended. Refused: an uitlener with no admission on record or one already
 * revoked (the signal serves the admission decision), an empty or inverted period, a period not yet ended, a
 * negative amount. The same reference twice is one signal.
 */
export function signalArrears(
  input: ArrearsInput,
  state: { admission: AdmissionRow | undefined; existing: ArrearsRow | undefined },
  now: Date,
): ArrearsDecision | Refusal {
  const rule = "ch. 2.1 afdracht van loonheffing en omzetbelasting";
  if (!isValidKvk(input.uitlenerKvk)) {
    return refuse(rule, "uitlenerKvk is not a KvK number", "give the uitlener's eight-digit KvK number");
  }
  if (input.kinds.length === 0) {
    return refuse(
      rule,
      "the signal names no kind",
      "name at least one of LOONHEFFING_UNPAID, OMZETBELASTING_UNPAID, G_REKENING_DRAWN",
    );
  }
  if (!isIsoDate(input.periodStart) || !isIsoDate(input.periodEnd) || input.periodStart > input.periodEnd) {
    return refuse(
      rule,
      "the tax period is not a period",
      "give periodStart on or before periodEnd (YYYY-MM-DD)",
    );
  }
  if (input.periodEnd >= isoDay(now)) {
    return refuse(
      rule,
      "the tax period has not ended yet",
      "signal arrears for tax periods that have ended (periodEnd before today)",
    );
  }
  if (input.arrearsCents !== undefined && input.arrearsCents !== null && input.arrearsCents < 0) {
    return refuse(
      rule,
      "arrearsCents is negative",
      "give the amount outstanding in euro cents, or leave it out",
    );
  }
  const signalReference =
    input.signalReference ?? arrearsReference(input.uitlenerKvk, input.periodStart, input.periodEnd);
  if (state.existing) {
    if (state.existing.uitlenerKvk !== input.uitlenerKvk) {
      return refuse(
        rule,
        "this signal reference is already used for another uitlener",
        "give a new signalReference, or leave it out",
      );
    }
    return { outcome: "duplicate", arrears: state.existing, publish: [] };
  }
  if (!state.admission) {
    return refuse(
      rule,
      "no admission of this uitlener is on record",
      "the signal goes to the admission authority about an admitted uitlener: check the KvK number against the register",
    );
  }
  if (state.admission.status === "REVOKED") {
    return refuse(
      rule,
      "the uitlener's admission is already revoked",
      "the signal serves the admission decision; raise an LSI signal instead",
    );
  }
  const kinds = [...new Set(input.kinds)].sort();
  const arrears: ArrearsRow = {
    signalReference,
    uitlenerKvk: input.uitlenerKvk,
    kinds,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    arrearsCents: input.arrearsCents ?? null,
    signalledAt: now.toISOString(),
  };
  return {
    outcome: "signalled",
    arrears,
    publish: [
      {
        topic: "fiscaal.arrears-signalled",
        value: {
          eventTime: arrears.signalledAt,
          subjectKvk: arrears.uitlenerKvk,
          signalReference,
          kinds,
          periodStart: arrears.periodStart,
          periodEnd: arrears.periodEnd,
          arrearsCents: arrears.arrearsCents,
        },
      },
    ],
  };
}

// ---- desk: record-g-account-deposit --------------------------------------------------------------------------------

export interface DepositInput {
  inlenerKvk: string;
  uitlenerKvk: string;
  amountCents: number;
  invoiceTotalCents?: number | null | undefined;
  periodStart: string;
  periodEnd: string;
  depositReference?: string | undefined;
}

export interface DepositDecision {
  readonly outcome: "recorded" | "duplicate";
  readonly deposit: DepositRow;
  /** A review opened at once: the deposit is for a period after the uitlener lost its admission. */
  readonly review: LiabilityReviewRow | null;
}

/** The reference of a deposit when the desk gives none: one deposit per inlener, uitlener and period. */
export function depositReference(input: DepositInput): string {
  return `BD-G-${input.inlenerKvk}-${input.uitlenerKvk}-${input.periodStart}-${input.periodEnd}`;
}

function sameDeposit(row: DepositRow, input: DepositInput): boolean {
  return (
    row.inlenerKvk === input.inlenerKvk &&
    row.uitlenerKvk === input.uitlenerKvk &&
    row.amountCents === input.amountCents &&
    row.invoiceTotalCents === (input.invoiceTotalCents ?? null) &&
    row.periodStart === input.periodStart &&
    row.periodEnd === input.periodEnd
  );
}

/**
 * The seed, ch. 2.1: the g-rekening is "Een geblokkeerde bankrekening, waaruit alleen geld kan worden overgemaakt
 * naar de Belastingdienst en naar andere g-rekeningen", and "Vrijwaring kan worden verkregen bij storting van 35%
 * van de factuursom op de g-rekening". The Belastingdienst records which inlener deposited how much on which
 * uitlener's g-rekening for which period: its basis for the inlenersaansprakelijkheid. Refused: a KvK number that
 * is not one, an inlener that is its own uitlener, a deposit that is not positive, an invoice sum below the deposit,
 * an inverted period, a reference already used for a different deposit. A deposit for a period running on or after
 * the day the uitlener lost its admission ("Inleners die gebruik maken van niet-toegelaten uitleners") opens a
 * liability review at once.
 */
export function recordDeposit(
  input: DepositInput,
  state: {
    admission: AdmissionRow | undefined;
    existing: DepositRow | undefined;
    deposits: readonly DepositRow[];
  },
  now: Date,
): DepositDecision | Refusal {
  const rule = "ch. 2.1 g-rekening";
  if (!isValidKvk(input.inlenerKvk) || !isValidKvk(input.uitlenerKvk)) {
    return refuse(rule, "inlenerKvk or uitlenerKvk is not a KvK number", "give both eight-digit KvK numbers");
  }
  if (input.inlenerKvk === input.uitlenerKvk) {
    return refuse(
      rule,
      "the inlener and the uitlener are the same company",
      "give the inlener's own KvK number",
    );
  }
  if (!Number.isInteger(input.amountCents) || input.amountCents <= 0) {
    return refuse(rule, "amountCents is not a positive whole number", "give the deposit in euro cents");
  }
  const invoice = input.invoiceTotalCents ?? null;
  if (invoice !== null && (!Number.isInteger(invoice) || invoice < input.amountCents)) {
    return refuse(
      rule,
      "the invoice sum is below the deposit",
      "give the invoice sum (factuursom) in euro cents, at least the deposit, or leave it out",
    );
  }
  if (!isIsoDate(input.periodStart) || !isIsoDate(input.periodEnd) || input.periodStart > input.periodEnd) {
    return refuse(rule, "the period is not a period", "give periodStart on or before periodEnd (YYYY-MM-DD)");
  }
  const reference = input.depositReference ?? depositReference(input);
  if (state.existing) {
    if (!sameDeposit(state.existing, input)) {
      return refuse(
        rule,
        "this deposit reference is already used for a different deposit",
        "give a new depositReference, or leave it out",
      );
    }
    return { outcome: "duplicate", deposit: state.existing, review: null };
  }
  const deposit: DepositRow = {
    depositReference: reference,
    inlenerKvk: input.inlenerKvk,
    uitlenerKvk: input.uitlenerKvk,
    amountCents: input.amountCents,
    invoiceTotalCents: invoice,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    recordedAt: now.toISOString(),
  };
  const revoked = state.admission?.status === "REVOKED" ? state.admission : undefined;
  const afterRevocation =
    revoked !== undefined && revoked.effectiveDate !== null && input.periodEnd >= revoked.effectiveDate;
  const review =
    afterRevocation && revoked
      ? liabilityReview(
          input.inlenerKvk,
          input.uitlenerKvk,
          [...state.deposits, deposit],
          "DEPOSIT_AFTER_REVOCATION",
          revoked.decisionReference ?? "unknown",
          now,
        )
      : null;
  return { outcome: "recorded", deposit, review };
}

// ---- what the Belastingdienst records of its partners --------------------------------------------------------------

/**
 * The seed, ch. 6.1: "Op grond van artikel 64 van de Wet SUWI mogen de LSI-partners samenwerken en gegevens
 * uitwisselen"; the LSI is "een samenwerkingsverband van het UWV, de Belastingdienst, de SVB, ...". The
 * Belastingdienst records every signal it receives (its own included), once per reference and company.
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
 * The seed, ch. 6 (AMU): "werken de Belastingdienst, het UWV en de Arbeidsinspectie samen aan complexe zaken
 * waarbij uitzendbureaus zijn betrokken ... Er vinden gezamenlijke analyses en onderzoeken plaats". The
 * Belastingdienst records every joint case it receives, once per case reference.
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
      partners: (value.partners ?? []).filter((p): p is NonNullable<typeof p> => typeof p === "string"),
      concerns: (value.concerns ?? []).filter((c): c is NonNullable<typeof c> => typeof c === "string"),
      summary: value.summary ?? null,
      openedAt: value.eventTime ?? null,
      receivedAt: now.toISOString(),
    },
  };
}
