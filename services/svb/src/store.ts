// The SVB's state tables: DDL, and reading and writing the rules' rows. Every function takes the handler's `query`
// (one transaction per handler call) and the service's schema.
import type { AdmissionRow, AmuCaseRow, PostingCaseRow, PostingReviewRow, ReceivedSignalRow } from "./rules";

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
      established_abroad boolean,
      country_of_establishment text,
      effective_date date,
      decision_reference text,
      reasons text[] NOT NULL DEFAULT '{}',
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE SEQUENCE IF NOT EXISTS ${s}.posting_case_seq`,
    `CREATE TABLE IF NOT EXISTS ${s}.posting_cases (
      case_reference text PRIMARY KEY,
      uitlener_kvk text NOT NULL,
      worker_bsn text NOT NULL,
      country text NOT NULL,
      period_start date NOT NULL,
      period_end date NOT NULL,
      a1_reference text,
      recorded_at timestamptz NOT NULL,
      CHECK (period_start <= period_end)
    )`,
    `CREATE INDEX IF NOT EXISTS posting_cases_uitlener ON ${s}.posting_cases (uitlener_kvk)`,
    `CREATE INDEX IF NOT EXISTS posting_cases_worker ON ${s}.posting_cases (worker_bsn)`,
    `CREATE TABLE IF NOT EXISTS ${s}.posting_reviews (
      case_reference text NOT NULL REFERENCES ${s}.posting_cases (case_reference),
      uitlener_kvk text NOT NULL,
      cause text NOT NULL,
      cause_reference text NOT NULL,
      status text NOT NULL,
      opened_at timestamptz NOT NULL,
      PRIMARY KEY (case_reference, cause_reference)
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

type Row = Record<string, unknown>;

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function isoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : iso(v);
}

export async function nextCaseReference(q: Query, s: string): Promise<string> {
  const [row] = await q<{ n: string }>(`SELECT nextval('${s}.posting_case_seq')::text AS n`);
  return `SVB-DET-${(row?.n ?? "0").padStart(6, "0")}`;
}

export async function loadAdmission(q: Query, s: string, kvk: string): Promise<AdmissionRow | undefined> {
  const rows = await q<Row>(
    `SELECT uitlener_kvk, trade_name, admission_number, status, established_abroad, country_of_establishment,
            effective_date::text AS effective_date, decision_reference, reasons
       FROM ${s}.admissions WHERE uitlener_kvk = $1`,
    [kvk],
  );
  const r = rows[0];
  return r
    ? {
        uitlenerKvk: r.uitlener_kvk as string,
        tradeName: (r.trade_name as string | null) ?? null,
        admissionNumber: (r.admission_number as string | null) ?? null,
        status: r.status as AdmissionRow["status"],
        establishedAbroad: (r.established_abroad as boolean | null) ?? null,
        countryOfEstablishment: (r.country_of_establishment as string | null) ?? null,
        effectiveDate: (r.effective_date as string | null) ?? null,
        decisionReference: (r.decision_reference as string | null) ?? null,
        reasons: (r.reasons as string[] | null) ?? [],
      }
    : undefined;
}

export async function saveAdmission(q: Query, s: string, a: AdmissionRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.admissions (uitlener_kvk, trade_name, admission_number, status, established_abroad,
       country_of_establishment, effective_date, decision_reference, reasons, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (uitlener_kvk) DO UPDATE SET trade_name = EXCLUDED.trade_name,
       admission_number = EXCLUDED.admission_number, status = EXCLUDED.status,
       established_abroad = EXCLUDED.established_abroad, country_of_establishment = EXCLUDED.country_of_establishment,
       effective_date = EXCLUDED.effective_date, decision_reference = EXCLUDED.decision_reference,
       reasons = EXCLUDED.reasons, updated_at = now()`,
    [
      a.uitlenerKvk,
      a.tradeName,
      a.admissionNumber,
      a.status,
      a.establishedAbroad,
      a.countryOfEstablishment,
      a.effectiveDate,
      a.decisionReference,
      a.reasons,
    ],
  );
}

const CASE_COLUMNS = `case_reference, uitlener_kvk, worker_bsn, country, period_start::text AS period_start,
  period_end::text AS period_end, a1_reference, recorded_at`;

function caseOf(r: Row): PostingCaseRow {
  return {
    caseReference: r.case_reference as string,
    uitlenerKvk: r.uitlener_kvk as string,
    workerBsn: r.worker_bsn as string,
    country: r.country as string,
    periodStart: r.period_start as string,
    periodEnd: r.period_end as string,
    a1Reference: (r.a1_reference as string | null) ?? null,
    recordedAt: iso(r.recorded_at),
  };
}

export async function loadCasesOfUitlener(q: Query, s: string, kvk: string): Promise<PostingCaseRow[]> {
  const rows = await q<Row>(
    `SELECT ${CASE_COLUMNS} FROM ${s}.posting_cases WHERE uitlener_kvk = $1 ORDER BY case_reference`,
    [kvk],
  );
  return rows.map(caseOf);
}

export async function loadCasesOfWorker(q: Query, s: string, bsn: string): Promise<PostingCaseRow[]> {
  const rows = await q<Row>(
    `SELECT ${CASE_COLUMNS} FROM ${s}.posting_cases WHERE worker_bsn = $1 ORDER BY case_reference`,
    [bsn],
  );
  return rows.map(caseOf);
}

export async function saveCase(q: Query, s: string, c: PostingCaseRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.posting_cases (case_reference, uitlener_kvk, worker_bsn, country, period_start, period_end,
       a1_reference, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      c.caseReference,
      c.uitlenerKvk,
      c.workerBsn,
      c.country,
      c.periodStart,
      c.periodEnd,
      c.a1Reference,
      c.recordedAt,
    ],
  );
}

export async function loadReviewsFor(
  q: Query,
  s: string,
  decisionReference: string,
): Promise<PostingReviewRow[]> {
  const rows = await q<Row>(`SELECT * FROM ${s}.posting_reviews WHERE cause_reference = $1`, [
    decisionReference,
  ]);
  return rows.map((r) => ({
    caseReference: r.case_reference as string,
    uitlenerKvk: r.uitlener_kvk as string,
    cause: r.cause as PostingReviewRow["cause"],
    causeReference: r.cause_reference as string,
    status: "OPEN",
    openedAt: iso(r.opened_at),
  }));
}

export async function saveReview(q: Query, s: string, r: PostingReviewRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.posting_reviews (case_reference, uitlener_kvk, cause, cause_reference, status, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_reference, cause_reference) DO NOTHING`,
    [r.caseReference, r.uitlenerKvk, r.cause, r.causeReference, r.status, r.openedAt],
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
        personCount: Number(r.person_count),
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
