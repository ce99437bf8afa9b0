// The Belastingdienst's state tables: DDL, and reading and writing the rules' rows. Every function takes the
// handler's `query` (one transaction per handler call) and the service's schema.
import type {
  AdmissionRow,
  AmuCaseRow,
  ArrearsRow,
  DepositRow,
  LiabilityReviewRow,
  ReceivedSignalRow,
  RefusalRow,
} from "./rules";

export type Query = <R extends object = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<R[]>;

/** Idempotent DDL for the service's own tables in schema `s`. */
export function migrations(s: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.admissions (
      uitlener_kvk text PRIMARY KEY,
      trade_name text,
      admission_number text,
      status text NOT NULL CHECK (status IN ('ADMITTED', 'REVOKED')),
      admission_kind text,
      valid_from date,
      provisional_until date,
      effective_date date,
      decision_reference text,
      reasons text[] NOT NULL DEFAULT '{}',
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.refusals (
      decision_reference text PRIMARY KEY,
      uitlener_kvk text NOT NULL,
      trade_name text,
      reasons text[] NOT NULL,
      refused_at timestamptz NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.g_account_deposits (
      deposit_reference text PRIMARY KEY,
      inlener_kvk text NOT NULL,
      uitlener_kvk text NOT NULL,
      amount_cents bigint NOT NULL CHECK (amount_cents > 0),
      invoice_total_cents bigint,
      period_start date NOT NULL,
      period_end date NOT NULL,
      recorded_at timestamptz NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS g_account_deposits_uitlener ON ${s}.g_account_deposits (uitlener_kvk)`,
    `CREATE TABLE IF NOT EXISTS ${s}.arrears_signals (
      signal_reference text PRIMARY KEY,
      uitlener_kvk text NOT NULL,
      kinds text[] NOT NULL,
      period_start date NOT NULL,
      period_end date NOT NULL,
      arrears_cents bigint,
      signalled_at timestamptz NOT NULL,
      outbox_id text
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.liability_reviews (
      uitlener_kvk text NOT NULL,
      inlener_kvk text NOT NULL,
      cause text NOT NULL,
      cause_reference text NOT NULL,
      deposited_cents bigint NOT NULL,
      invoiced_cents bigint,
      indemnified boolean NOT NULL,
      status text NOT NULL,
      opened_at timestamptz NOT NULL,
      PRIMARY KEY (uitlener_kvk, inlener_kvk, cause_reference)
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.lsi_signals (
      signal_reference text NOT NULL,
      subject_kvk text NOT NULL,
      kind text,
      municipality_code text,
      person_count integer NOT NULL,
      persons jsonb NOT NULL,
      summary text,
      raised_at timestamptz,
      received_at timestamptz NOT NULL,
      PRIMARY KEY (signal_reference, subject_kvk)
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.amu_cases (
      case_reference text PRIMARY KEY,
      subject_kvk text NOT NULL,
      partners text[] NOT NULL,
      concerns text[] NOT NULL,
      summary text,
      opened_at timestamptz,
      received_at timestamptz NOT NULL
    )`,
  ];
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function isoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : iso(v);
}

function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

type Row = Record<string, unknown>;

const ADMISSION_COLUMNS = `uitlener_kvk, trade_name, admission_number, status, admission_kind, valid_from::text AS valid_from,
  provisional_until::text AS provisional_until, effective_date::text AS effective_date, decision_reference, reasons`;

function admissionOf(r: Row): AdmissionRow {
  return {
    uitlenerKvk: r.uitlener_kvk as string,
    tradeName: (r.trade_name as string | null) ?? null,
    admissionNumber: (r.admission_number as string | null) ?? null,
    status: r.status as AdmissionRow["status"],
    admissionKind: (r.admission_kind as string | null) ?? null,
    validFrom: (r.valid_from as string | null) ?? null,
    provisionalUntil: (r.provisional_until as string | null) ?? null,
    effectiveDate: (r.effective_date as string | null) ?? null,
    decisionReference: (r.decision_reference as string | null) ?? null,
    reasons: (r.reasons as string[] | null) ?? [],
  };
}

export async function loadAdmission(q: Query, s: string, kvk: string): Promise<AdmissionRow | undefined> {
  const rows = await q<Row>(`SELECT ${ADMISSION_COLUMNS} FROM ${s}.admissions WHERE uitlener_kvk = $1`, [
    kvk,
  ]);
  return rows[0] ? admissionOf(rows[0]) : undefined;
}

export async function saveAdmission(q: Query, s: string, a: AdmissionRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.admissions (uitlener_kvk, trade_name, admission_number, status, admission_kind, valid_from,
       provisional_until, effective_date, decision_reference, reasons, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
     ON CONFLICT (uitlener_kvk) DO UPDATE SET trade_name = EXCLUDED.trade_name,
       admission_number = EXCLUDED.admission_number, status = EXCLUDED.status,
       admission_kind = EXCLUDED.admission_kind, valid_from = EXCLUDED.valid_from,
       provisional_until = EXCLUDED.provisional_until, effective_date = EXCLUDED.effective_date,
       decision_reference = EXCLUDED.decision_reference, reasons = EXCLUDED.reasons, updated_at = now()`,
    [
      a.uitlenerKvk,
      a.tradeName,
      a.admissionNumber,
      a.status,
      a.admissionKind,
      a.validFrom,
      a.provisionalUntil,
      a.effectiveDate,
      a.decisionReference,
      a.reasons,
    ],
  );
}

export async function loadRefusal(q: Query, s: string, ref: string): Promise<RefusalRow | undefined> {
  const rows = await q<Row>(`SELECT * FROM ${s}.refusals WHERE decision_reference = $1`, [ref]);
  const r = rows[0];
  return r
    ? {
        decisionReference: r.decision_reference as string,
        uitlenerKvk: r.uitlener_kvk as string,
        tradeName: (r.trade_name as string | null) ?? null,
        reasons: r.reasons as string[],
        refusedAt: iso(r.refused_at),
      }
    : undefined;
}

export async function saveRefusal(q: Query, s: string, r: RefusalRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.refusals (decision_reference, uitlener_kvk, trade_name, reasons, refused_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (decision_reference) DO NOTHING`,
    [r.decisionReference, r.uitlenerKvk, r.tradeName, r.reasons, r.refusedAt],
  );
}

const DEPOSIT_COLUMNS = `deposit_reference, inlener_kvk, uitlener_kvk, amount_cents, invoice_total_cents,
  period_start::text AS period_start, period_end::text AS period_end, recorded_at`;

function depositOf(r: Row): DepositRow {
  return {
    depositReference: r.deposit_reference as string,
    inlenerKvk: r.inlener_kvk as string,
    uitlenerKvk: r.uitlener_kvk as string,
    amountCents: num(r.amount_cents),
    invoiceTotalCents: numOrNull(r.invoice_total_cents),
    periodStart: r.period_start as string,
    periodEnd: r.period_end as string,
    recordedAt: iso(r.recorded_at),
  };
}

export async function loadDeposit(q: Query, s: string, ref: string): Promise<DepositRow | undefined> {
  const rows = await q<Row>(
    `SELECT ${DEPOSIT_COLUMNS} FROM ${s}.g_account_deposits WHERE deposit_reference = $1`,
    [ref],
  );
  return rows[0] ? depositOf(rows[0]) : undefined;
}

export async function loadDepositsOf(q: Query, s: string, uitlenerKvk: string): Promise<DepositRow[]> {
  const rows = await q<Row>(
    `SELECT ${DEPOSIT_COLUMNS} FROM ${s}.g_account_deposits WHERE uitlener_kvk = $1 ORDER BY deposit_reference`,
    [uitlenerKvk],
  );
  return rows.map(depositOf);
}

export async function saveDeposit(q: Query, s: string, d: DepositRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.g_account_deposits (deposit_reference, inlener_kvk, uitlener_kvk, amount_cents,
       invoice_total_cents, period_start, period_end, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (deposit_reference) DO NOTHING`,
    [
      d.depositReference,
      d.inlenerKvk,
      d.uitlenerKvk,
      d.amountCents,
      d.invoiceTotalCents,
      d.periodStart,
      d.periodEnd,
      d.recordedAt,
    ],
  );
}

const ARREARS_COLUMNS = `signal_reference, uitlener_kvk, kinds, period_start::text AS period_start,
  period_end::text AS period_end, arrears_cents, signalled_at`;

function arrearsOf(r: Row): ArrearsRow {
  return {
    signalReference: r.signal_reference as string,
    uitlenerKvk: r.uitlener_kvk as string,
    kinds: r.kinds as ArrearsRow["kinds"],
    periodStart: r.period_start as string,
    periodEnd: r.period_end as string,
    arrearsCents: numOrNull(r.arrears_cents),
    signalledAt: iso(r.signalled_at),
  };
}

export async function loadArrears(q: Query, s: string, ref: string): Promise<ArrearsRow | undefined> {
  const rows = await q<Row>(
    `SELECT ${ARREARS_COLUMNS} FROM ${s}.arrears_signals WHERE signal_reference = $1`,
    [ref],
  );
  return rows[0] ? arrearsOf(rows[0]) : undefined;
}

export async function loadArrearsOf(q: Query, s: string, uitlenerKvk: string): Promise<ArrearsRow[]> {
  const rows = await q<Row>(
    `SELECT ${ARREARS_COLUMNS} FROM ${s}.arrears_signals WHERE uitlener_kvk = $1 ORDER BY signal_reference`,
    [uitlenerKvk],
  );
  return rows.map(arrearsOf);
}

export async function saveArrears(
  q: Query,
  s: string,
  a: ArrearsRow,
  outboxId: string | null,
): Promise<void> {
  await q(
    `INSERT INTO ${s}.arrears_signals (signal_reference, uitlener_kvk, kinds, period_start, period_end,
       arrears_cents, signalled_at, outbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (signal_reference) DO NOTHING`,
    [
      a.signalReference,
      a.uitlenerKvk,
      a.kinds,
      a.periodStart,
      a.periodEnd,
      a.arrearsCents,
      a.signalledAt,
      outboxId,
    ],
  );
}

function reviewOf(r: Row): LiabilityReviewRow {
  return {
    inlenerKvk: r.inlener_kvk as string,
    uitlenerKvk: r.uitlener_kvk as string,
    cause: r.cause as LiabilityReviewRow["cause"],
    causeReference: r.cause_reference as string,
    depositedCents: num(r.deposited_cents),
    invoicedCents: numOrNull(r.invoiced_cents),
    indemnified: r.indemnified as boolean,
    status: "OPEN",
    openedAt: iso(r.opened_at),
  };
}

export async function loadReviewsFor(
  q: Query,
  s: string,
  decisionReference: string,
): Promise<LiabilityReviewRow[]> {
  const rows = await q<Row>(`SELECT * FROM ${s}.liability_reviews WHERE cause_reference = $1`, [
    decisionReference,
  ]);
  return rows.map(reviewOf);
}

export async function saveReview(q: Query, s: string, r: LiabilityReviewRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.liability_reviews (uitlener_kvk, inlener_kvk, cause, cause_reference, deposited_cents,
       invoiced_cents, indemnified, status, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (uitlener_kvk, inlener_kvk, cause_reference) DO UPDATE SET deposited_cents = EXCLUDED.deposited_cents,
       invoiced_cents = EXCLUDED.invoiced_cents, indemnified = EXCLUDED.indemnified`,
    [
      r.uitlenerKvk,
      r.inlenerKvk,
      r.cause,
      r.causeReference,
      r.depositedCents,
      r.invoicedCents,
      r.indemnified,
      r.status,
      r.openedAt,
    ],
  );
}

export async function loadSignal(
  q: Query,
  s: string,
  ref: string,
  kvk: string,
): Promise<ReceivedSignalRow | undefined> {
  const rows = await q<Row>(
    `SELECT * FROM ${s}.lsi_signals WHERE signal_reference = $1 AND subject_kvk = $2`,
    [ref, kvk],
  );
  const r = rows[0];
  return r
    ? {
        signalReference: r.signal_reference as string,
        subjectKvk: r.subject_kvk as string,
        kind: (r.kind as string | null) ?? null,
        municipalityCode: (r.municipality_code as string | null) ?? null,
        personCount: num(r.person_count),
        persons: r.persons as ReceivedSignalRow["persons"],
        summary: (r.summary as string | null) ?? null,
        raisedAt: isoOrNull(r.raised_at),
        receivedAt: iso(r.received_at),
      }
    : undefined;
}

export async function saveSignal(q: Query, s: string, r: ReceivedSignalRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.lsi_signals (signal_reference, subject_kvk, kind, municipality_code, person_count, persons,
       summary, raised_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (signal_reference, subject_kvk) DO NOTHING`,
    [
      r.signalReference,
      r.subjectKvk,
      r.kind,
      r.municipalityCode,
      r.personCount,
      JSON.stringify(r.persons),
      r.summary,
      r.raisedAt,
      r.receivedAt,
    ],
  );
}

export async function loadAmuCase(q: Query, s: string, ref: string): Promise<AmuCaseRow | undefined> {
  const rows = await q<Row>(`SELECT * FROM ${s}.amu_cases WHERE case_reference = $1`, [ref]);
  const r = rows[0];
  return r
    ? {
        caseReference: r.case_reference as string,
        subjectKvk: r.subject_kvk as string,
        partners: r.partners as string[],
        concerns: r.concerns as string[],
        summary: (r.summary as string | null) ?? null,
        openedAt: isoOrNull(r.opened_at),
        receivedAt: iso(r.received_at),
      }
    : undefined;
}

export async function saveAmuCase(q: Query, s: string, c: AmuCaseRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.amu_cases (case_reference, subject_kvk, partners, concerns, summary, opened_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_reference) DO NOTHING`,
    [c.caseReference, c.subjectKvk, c.partners, c.concerns, c.summary, c.openedAt, c.receivedAt],
  );
}
