// A municipality's state tables: DDL, and reading and writing the rules' rows. Every function takes the handler's
// `query` (one transaction per handler call) and the instance's schema (one per municipality).
import type {
  AddressHistoryRow,
  AdmissionRow,
  ContactRow,
  InspectionRow,
  InvestigationRow,
  MeldpuntRow,
  NoticeRow,
  ReceivedSignalRow,
  StayRow,
  ViolationRow,
} from "./rules";

export type Query = <R extends object = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<R[]>;

/** Idempotent DDL for the instance's own tables in schema `s`. */
export function migrations(s: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.admissions (
      uitlener_kvk text PRIMARY KEY,
      trade_name text,
      admission_number text,
      status text NOT NULL CHECK (status IN ('ADMITTED', 'REVOKED')),
      effective_date date,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.stay_addresses (
      bsn text PRIMARY KEY,
      employer_kvk text NOT NULL,
      street text NOT NULL,
      house_number text NOT NULL,
      postal_code text NOT NULL,
      city text NOT NULL,
      municipality_code text NOT NULL,
      since date NOT NULL,
      source text NOT NULL CHECK (source IN ('RVIG', 'INVESTIGATION')),
      ended boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX IF NOT EXISTS stay_addresses_dwelling ON ${s}.stay_addresses (postal_code, house_number)`,
    `CREATE INDEX IF NOT EXISTS stay_addresses_employer ON ${s}.stay_addresses (employer_kvk)`,
    `CREATE TABLE IF NOT EXISTS ${s}.stay_address_history (
      bsn text NOT NULL,
      postal_code text NOT NULL,
      house_number text NOT NULL,
      since date NOT NULL,
      PRIMARY KEY (bsn, postal_code, house_number, since)
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.worker_contacts (
      bsn text PRIMARY KEY,
      language text NOT NULL,
      channel text CHECK (channel IN ('EMAIL', 'SMS', 'POST')),
      contact_address text,
      recorded_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.address_investigations (
      investigation_ref text PRIMARY KEY,
      bsn text,
      employer_kvk text NOT NULL,
      cause text NOT NULL,
      cause_reference text NOT NULL,
      task text NOT NULL,
      status text NOT NULL CHECK (status IN ('OPEN', 'COMPLETED')),
      outcome text,
      opened_at timestamptz NOT NULL,
      completed_at timestamptz,
      outbox_id text
    )`,
    `CREATE INDEX IF NOT EXISTS address_investigations_open ON ${s}.address_investigations (bsn) WHERE status = 'OPEN'`,
    `CREATE TABLE IF NOT EXISTS ${s}.housing_inspections (
      inspection_ref text PRIMARY KEY,
      subject_kvk text,
      postal_code text NOT NULL,
      house_number text,
      cause text NOT NULL,
      cause_reference text NOT NULL,
      announced boolean NOT NULL,
      status text NOT NULL CHECK (status IN ('PLANNED', 'DONE')),
      planned_at timestamptz NOT NULL,
      done_at timestamptz,
      done_by text
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.housing_violations (
      case_reference text PRIMARY KEY,
      subject_kvk text NOT NULL,
      subject_role text,
      inspection_date date,
      announced boolean,
      street text,
      house_number text NOT NULL,
      postal_code text NOT NULL,
      occupants integer,
      violations text[] NOT NULL,
      own boolean NOT NULL,
      recorded_at timestamptz NOT NULL,
      outbox_id text
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.meldpunt_reports (
      report_reference text PRIMARY KEY,
      subject_kvk text NOT NULL,
      behaviours text[] NOT NULL,
      dwelling_postal_code text,
      anonymous boolean NOT NULL,
      reporter jsonb,
      description text NOT NULL,
      reported_at timestamptz NOT NULL,
      outbox_id text,
      CHECK (NOT anonymous OR reporter IS NULL)
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.worker_notices (
      notice_reference text PRIMARY KEY,
      bsn text NOT NULL,
      cause text NOT NULL,
      cause_reference text NOT NULL,
      subject_kvk text NOT NULL,
      language text,
      channel text,
      status text NOT NULL CHECK (status IN ('PREPARED', 'WITHHELD')),
      withheld_reason text,
      prepared_at timestamptz NOT NULL,
      outbox_id text,
      UNIQUE (bsn, cause, cause_reference)
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.lsi_signals (
      signal_reference text PRIMARY KEY,
      subject_kvk text NOT NULL,
      kind text,
      person_count integer NOT NULL,
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

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : (v as string);
}

// ---- admissions ----

export async function loadAdmission(q: Query, s: string, kvk: string): Promise<AdmissionRow | undefined> {
  const [r] = await q<Row>(
    `SELECT uitlener_kvk, trade_name, admission_number, status, effective_date::text AS effective_date
       FROM ${s}.admissions WHERE uitlener_kvk = $1`,
    [kvk],
  );
  return r
    ? {
        uitlenerKvk: r.uitlener_kvk as string,
        tradeName: str(r.trade_name),
        admissionNumber: str(r.admission_number),
        status: r.status as AdmissionRow["status"],
        effectiveDate: str(r.effective_date),
      }
    : undefined;
}

export async function saveAdmission(q: Query, s: string, a: AdmissionRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.admissions (uitlener_kvk, trade_name, admission_number, status, effective_date, updated_at)
     VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (uitlener_kvk) DO UPDATE SET trade_name = EXCLUDED.trade_name,
       admission_number = EXCLUDED.admission_number, status = EXCLUDED.status,
       effective_date = EXCLUDED.effective_date, updated_at = now()`,
    [a.uitlenerKvk, a.tradeName, a.admissionNumber, a.status, a.effectiveDate],
  );
}

// ---- stay addresses ----

const STAY_COLUMNS = `bsn, employer_kvk, street, house_number, postal_code, city, municipality_code,
  since::text AS since, source, ended`;

function stayOf(r: Row): StayRow {
  return {
    bsn: r.bsn as string,
    employerKvk: r.employer_kvk as string,
    street: r.street as string,
    houseNumber: r.house_number as string,
    postalCode: r.postal_code as string,
    city: r.city as string,
    municipalityCode: r.municipality_code as string,
    since: r.since as string,
    source: r.source as StayRow["source"],
    ended: r.ended as boolean,
  };
}

export async function loadStay(q: Query, s: string, bsn: string): Promise<StayRow | undefined> {
  const [r] = await q<Row>(`SELECT ${STAY_COLUMNS} FROM ${s}.stay_addresses WHERE bsn = $1`, [bsn]);
  return r ? stayOf(r) : undefined;
}

export async function loadStays(q: Query, s: string, bsns: readonly string[]): Promise<StayRow[]> {
  if (bsns.length === 0) return [];
  const rows = await q<Row>(`SELECT ${STAY_COLUMNS} FROM ${s}.stay_addresses WHERE bsn = ANY($1)`, [bsns]);
  return rows.map(stayOf);
}

/** Everyone whose stay address is at this postal code (the rules compare house numbers). */
export async function loadStaysAtPostalCode(q: Query, s: string, postalCode: string): Promise<StayRow[]> {
  const rows = await q<Row>(
    `SELECT ${STAY_COLUMNS} FROM ${s}.stay_addresses WHERE postal_code = $1 AND NOT ended ORDER BY since, bsn`,
    [postalCode],
  );
  return rows.map(stayOf);
}

export async function loadStaysOfEmployer(q: Query, s: string, kvk: string): Promise<StayRow[]> {
  const rows = await q<Row>(
    `SELECT ${STAY_COLUMNS} FROM ${s}.stay_addresses WHERE employer_kvk = $1 AND NOT ended ORDER BY since, bsn`,
    [kvk],
  );
  return rows.map(stayOf);
}

export async function saveStay(q: Query, s: string, st: StayRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.stay_addresses (bsn, employer_kvk, street, house_number, postal_code, city, municipality_code,
       since, source, ended, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
     ON CONFLICT (bsn) DO UPDATE SET employer_kvk = EXCLUDED.employer_kvk, street = EXCLUDED.street,
       house_number = EXCLUDED.house_number, postal_code = EXCLUDED.postal_code, city = EXCLUDED.city,
       municipality_code = EXCLUDED.municipality_code, since = EXCLUDED.since, source = EXCLUDED.source,
       ended = EXCLUDED.ended, updated_at = now()`,
    [
      st.bsn,
      st.employerKvk,
      st.street,
      st.houseNumber,
      st.postalCode,
      st.city,
      st.municipalityCode,
      st.since,
      st.source,
      st.ended,
    ],
  );
}

export async function loadHistory(q: Query, s: string, bsn: string): Promise<AddressHistoryRow[]> {
  const rows = await q<Row>(
    `SELECT bsn, postal_code, house_number, since::text AS since FROM ${s}.stay_address_history WHERE bsn = $1
      ORDER BY since`,
    [bsn],
  );
  return rows.map((r) => ({
    bsn: r.bsn as string,
    postalCode: r.postal_code as string,
    houseNumber: r.house_number as string,
    since: r.since as string,
  }));
}

export async function saveHistory(q: Query, s: string, h: AddressHistoryRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.stay_address_history (bsn, postal_code, house_number, since) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [h.bsn, h.postalCode, h.houseNumber, h.since],
  );
}

// ---- contacts ----

export async function loadContacts(q: Query, s: string, bsns: readonly string[]): Promise<ContactRow[]> {
  if (bsns.length === 0) return [];
  const rows = await q<Row>(
    `SELECT bsn, language, channel, contact_address FROM ${s}.worker_contacts WHERE bsn = ANY($1)`,
    [bsns],
  );
  return rows.map((r) => ({
    bsn: r.bsn as string,
    language: r.language as string,
    channel: (r.channel as ContactRow["channel"]) ?? null,
    contactAddress: str(r.contact_address),
  }));
}

export async function saveContact(q: Query, s: string, c: ContactRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.worker_contacts (bsn, language, channel, contact_address, recorded_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (bsn) DO UPDATE SET language = EXCLUDED.language, channel = EXCLUDED.channel,
       contact_address = EXCLUDED.contact_address, recorded_at = now()`,
    [c.bsn, c.language, c.channel, c.contactAddress],
  );
}

// ---- investigations ----

function investigationOf(r: Row): InvestigationRow {
  return {
    investigationRef: r.investigation_ref as string,
    bsn: str(r.bsn),
    employerKvk: r.employer_kvk as string,
    cause: r.cause as InvestigationRow["cause"],
    causeReference: r.cause_reference as string,
    task: r.task as InvestigationRow["task"],
    status: r.status as InvestigationRow["status"],
    outcome: (r.outcome as InvestigationRow["outcome"]) ?? null,
    openedAt: iso(r.opened_at),
    completedAt: isoOrNull(r.completed_at),
  };
}

export async function loadInvestigation(
  q: Query,
  s: string,
  ref: string,
): Promise<InvestigationRow | undefined> {
  const [r] = await q<Row>(`SELECT * FROM ${s}.address_investigations WHERE investigation_ref = $1`, [ref]);
  return r ? investigationOf(r) : undefined;
}

export async function loadOpenInvestigationOf(
  q: Query,
  s: string,
  bsn: string,
): Promise<InvestigationRow | undefined> {
  const [r] = await q<Row>(
    `SELECT * FROM ${s}.address_investigations WHERE bsn = $1 AND status = 'OPEN' ORDER BY opened_at LIMIT 1`,
    [bsn],
  );
  return r ? investigationOf(r) : undefined;
}

/** The open investigations of these persons, and those into the company's dwellings. */
export async function loadOpenInvestigations(
  q: Query,
  s: string,
  bsns: readonly string[],
  employerKvk: string,
): Promise<InvestigationRow[]> {
  const rows = await q<Row>(
    `SELECT * FROM ${s}.address_investigations
      WHERE status = 'OPEN' AND (bsn = ANY($1) OR (bsn IS NULL AND employer_kvk = $2))`,
    [bsns, employerKvk],
  );
  return rows.map(investigationOf);
}

export async function saveInvestigation(
  q: Query,
  s: string,
  i: InvestigationRow,
  outboxId: string | null = null,
): Promise<void> {
  await q(
    `INSERT INTO ${s}.address_investigations (investigation_ref, bsn, employer_kvk, cause, cause_reference, task,
       status, outcome, opened_at, completed_at, outbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (investigation_ref) DO UPDATE SET status = EXCLUDED.status, outcome = EXCLUDED.outcome,
       completed_at = EXCLUDED.completed_at, outbox_id = COALESCE(EXCLUDED.outbox_id, ${s}.address_investigations.outbox_id)`,
    [
      i.investigationRef,
      i.bsn,
      i.employerKvk,
      i.cause,
      i.causeReference,
      i.task,
      i.status,
      i.outcome,
      i.openedAt,
      i.completedAt,
      outboxId,
    ],
  );
}

// ---- inspections ----

function inspectionOf(r: Row): InspectionRow {
  return {
    inspectionRef: r.inspection_ref as string,
    subjectKvk: str(r.subject_kvk),
    postalCode: r.postal_code as string,
    houseNumber: str(r.house_number),
    cause: r.cause as InspectionRow["cause"],
    causeReference: r.cause_reference as string,
    announced: false,
    status: r.status as InspectionRow["status"],
    plannedAt: iso(r.planned_at),
    doneAt: isoOrNull(r.done_at),
    doneBy: str(r.done_by),
  };
}

export async function loadPlannedInspections(
  q: Query,
  s: string,
  postalCode?: string,
): Promise<InspectionRow[]> {
  const rows =
    postalCode === undefined
      ? await q<Row>(`SELECT * FROM ${s}.housing_inspections WHERE status = 'PLANNED' ORDER BY planned_at`)
      : await q<Row>(
          `SELECT * FROM ${s}.housing_inspections WHERE status = 'PLANNED' AND postal_code = $1 ORDER BY planned_at`,
          [postalCode],
        );
  return rows.map(inspectionOf);
}

export async function saveInspection(q: Query, s: string, i: InspectionRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.housing_inspections (inspection_ref, subject_kvk, postal_code, house_number, cause,
       cause_reference, announced, status, planned_at, done_at, done_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (inspection_ref) DO UPDATE SET status = EXCLUDED.status, done_at = EXCLUDED.done_at,
       done_by = EXCLUDED.done_by`,
    [
      i.inspectionRef,
      i.subjectKvk,
      i.postalCode,
      i.houseNumber,
      i.cause,
      i.causeReference,
      i.announced,
      i.status,
      i.plannedAt,
      i.doneAt,
      i.doneBy,
    ],
  );
}

// ---- violations ----

export async function loadViolation(
  q: Query,
  s: string,
  caseReference: string,
): Promise<ViolationRow | undefined> {
  const [r] = await q<Row>(
    `SELECT case_reference, subject_kvk, subject_role, inspection_date::text AS inspection_date, announced, street,
            house_number, postal_code, occupants, violations, own, recorded_at
       FROM ${s}.housing_violations WHERE case_reference = $1`,
    [caseReference],
  );
  return r
    ? {
        caseReference: r.case_reference as string,
        subjectKvk: r.subject_kvk as string,
        subjectRole: str(r.subject_role),
        inspectionDate: str(r.inspection_date),
        announced: (r.announced as boolean | null) ?? null,
        street: str(r.street),
        houseNumber: r.house_number as string,
        postalCode: r.postal_code as string,
        occupants: (r.occupants as number | null) ?? null,
        violations: r.violations as string[],
        own: r.own as boolean,
        recordedAt: iso(r.recorded_at),
      }
    : undefined;
}

export async function saveViolation(
  q: Query,
  s: string,
  v: ViolationRow,
  outboxId: string | null = null,
): Promise<void> {
  await q(
    `INSERT INTO ${s}.housing_violations (case_reference, subject_kvk, subject_role, inspection_date, announced,
       street, house_number, postal_code, occupants, violations, own, recorded_at, outbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (case_reference) DO NOTHING`,
    [
      v.caseReference,
      v.subjectKvk,
      v.subjectRole,
      v.inspectionDate,
      v.announced,
      v.street,
      v.houseNumber,
      v.postalCode,
      v.occupants,
      v.violations,
      v.own,
      v.recordedAt,
      outboxId,
    ],
  );
}

// ---- meldpunt ----

export async function loadReport(q: Query, s: string, ref: string): Promise<MeldpuntRow | undefined> {
  const [r] = await q<Row>(`SELECT * FROM ${s}.meldpunt_reports WHERE report_reference = $1`, [ref]);
  return r
    ? {
        reportReference: r.report_reference as string,
        subjectKvk: r.subject_kvk as string,
        behaviours: r.behaviours as string[],
        dwellingPostalCode: str(r.dwelling_postal_code),
        anonymous: r.anonymous as boolean,
        reporter: (r.reporter as MeldpuntRow["reporter"]) ?? null,
        description: r.description as string,
        reportedAt: iso(r.reported_at),
      }
    : undefined;
}

export async function saveReport(
  q: Query,
  s: string,
  m: MeldpuntRow,
  outboxId: string | null = null,
): Promise<void> {
  await q(
    `INSERT INTO ${s}.meldpunt_reports (report_reference, subject_kvk, behaviours, dwelling_postal_code, anonymous,
       reporter, description, reported_at, outbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (report_reference) DO NOTHING`,
    [
      m.reportReference,
      m.subjectKvk,
      m.behaviours,
      m.dwellingPostalCode,
      m.anonymous,
      m.reporter === null ? null : JSON.stringify(m.reporter),
      m.description,
      m.reportedAt,
      outboxId,
    ],
  );
}

// ---- notices ----

export async function loadNotices(
  q: Query,
  s: string,
  cause: string,
  causeReference: string,
): Promise<NoticeRow[]> {
  const rows = await q<Row>(`SELECT * FROM ${s}.worker_notices WHERE cause = $1 AND cause_reference = $2`, [
    cause,
    causeReference,
  ]);
  return rows.map((r) => ({
    noticeReference: r.notice_reference as string,
    bsn: r.bsn as string,
    cause: r.cause as NoticeRow["cause"],
    causeReference: r.cause_reference as string,
    subjectKvk: r.subject_kvk as string,
    language: str(r.language),
    channel: (r.channel as NoticeRow["channel"]) ?? null,
    status: r.status as NoticeRow["status"],
    withheldReason: str(r.withheld_reason),
    preparedAt: iso(r.prepared_at),
  }));
}

export async function saveNotice(q: Query, s: string, n: NoticeRow, outboxId: string | null): Promise<void> {
  await q(
    `INSERT INTO ${s}.worker_notices (notice_reference, bsn, cause, cause_reference, subject_kvk, language, channel,
       status, withheld_reason, prepared_at, outbox_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
    [
      n.noticeReference,
      n.bsn,
      n.cause,
      n.causeReference,
      n.subjectKvk,
      n.language,
      n.channel,
      n.status,
      n.withheldReason,
      n.preparedAt,
      outboxId,
    ],
  );
}

// ---- LSI signals ----

export async function loadSignal(q: Query, s: string, ref: string): Promise<ReceivedSignalRow | undefined> {
  const [r] = await q<Row>(`SELECT * FROM ${s}.lsi_signals WHERE signal_reference = $1`, [ref]);
  return r
    ? {
        signalReference: r.signal_reference as string,
        subjectKvk: r.subject_kvk as string,
        kind: str(r.kind),
        personCount: Number(r.person_count),
        receivedAt: iso(r.received_at),
      }
    : undefined;
}

export async function saveSignal(q: Query, s: string, r: ReceivedSignalRow): Promise<void> {
  await q(
    `INSERT INTO ${s}.lsi_signals (signal_reference, subject_kvk, kind, person_count, received_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (signal_reference) DO NOTHING`,
    [r.signalReference, r.subjectKvk, r.kind, r.personCount, r.receivedAt],
  );
}
