/**
 * UWV's wiring on the agency runtime: its tables, one handler per consumed topic (parse → load → rule → apply, in
 * the runtime's one transaction), the desk action that fills the polisadministratie, and `GET /state`. The rules are
 * in `rules.ts`; nothing here decides.
 */
import { defineAgency, deskAction, DeskRefusal, Poison, type AgencyContext } from "@grondslag/agency";
import { BrpRegistration } from "@grondslag/schemas";
import { z } from "zod";
import {
  onAccidentReported,
  onAdmissionGranted,
  onAdmissionRevoked,
  onPayrollRecorded,
  parseAccidentReport,
  parseAdmissionGranted,
  parseAdmissionRevoked,
  parseAmuCase,
  parsePayroll,
  type AccidentRow,
  type AdmissionRow,
  type OwnSignal,
  type Parsed,
  type PayrollRecord,
  type Publication,
} from "./rules";

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const day = (col: string) => `to_char(${col}, 'YYYY-MM-DD')`;

function must<T>(p: Parsed<T>): T {
  if (!p.ok) throw new Poison(p.reason);
  return p.value;
}

const migrations = (s: string) => [
  `CREATE TABLE IF NOT EXISTS ${s}.accidents (
     inlener_kvk text NOT NULL,
     victim_bsn text NOT NULL,
     accident_time timestamptz NOT NULL,
     uitlener_kvk text,
     municipality_code text,
     agency_worker boolean NOT NULL,
     expected_benefit text NOT NULL,
     recorded_at timestamptz NOT NULL,
     PRIMARY KEY (inlener_kvk, victim_bsn, accident_time)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.accident_reports (
     producer text NOT NULL,
     report_reference text NOT NULL,
     PRIMARY KEY (producer, report_reference)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.payroll (
     uitlener_kvk text NOT NULL,
     worker_bsn text NOT NULL,
     registration text NOT NULL CHECK (registration IN ('RESIDENT', 'NON_RESIDENT')),
     brp_address_known boolean NOT NULL,
     stay_municipality_code text NOT NULL,
     stay_municipality_name text NOT NULL,
     employed_since date NOT NULL,
     last_period_start date NOT NULL,
     last_period_end date NOT NULL,
     recorded_at timestamptz NOT NULL,
     PRIMARY KEY (uitlener_kvk, worker_bsn)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.admissions (
     uitlener_kvk text PRIMARY KEY,
     status text NOT NULL CHECK (status IN ('ADMITTED', 'REVOKED')),
     decided_at timestamptz NOT NULL,
     effective_date date,
     decision_reference text,
     reviewed_at timestamptz
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.payroll_findings (
     decision_reference text NOT NULL,
     uitlener_kvk text NOT NULL,
     worker_bsn text NOT NULL,
     kind text NOT NULL,
     topic text NOT NULL,
     municipality_code text NOT NULL,
     outbox_id uuid,
     found_at timestamptz NOT NULL,
     PRIMARY KEY (decision_reference, worker_bsn, kind)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.signals (
     signal_reference text PRIMARY KEY,
     subject_kvk text NOT NULL,
     kind text NOT NULL,
     raised_at timestamptz NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.amu_cases (
     case_reference text PRIMARY KEY,
     subject_kvk text NOT NULL,
     opened_by text NOT NULL,
     partners text[] NOT NULL,
     concerns text[] NOT NULL,
     uwv_partner boolean NOT NULL,
     opened_at timestamptz NOT NULL
   )`,
];

const ACCIDENT_COLS = (s: string) => `inlener_kvk AS "inlenerKvk", victim_bsn AS "victimBsn",
  ${iso("accident_time")} AS "accidentTime", uitlener_kvk AS "uitlenerKvk", municipality_code AS "municipalityCode",
  agency_worker AS "agencyWorker", expected_benefit AS "expectedBenefit", ${iso("recorded_at")} AS "recordedAt"
  FROM ${s}.accidents`;

const PAYROLL_COLS = (s: string) => `uitlener_kvk AS "uitlenerKvk", worker_bsn AS "workerBsn", registration,
  brp_address_known AS "brpAddressKnown", stay_municipality_code AS "stayMunicipalityCode",
  stay_municipality_name AS "stayMunicipalityName", ${day("employed_since")} AS "employedSince",
  ${day("last_period_start")} AS "lastPeriodStart", ${day("last_period_end")} AS "lastPeriodEnd",
  ${iso("recorded_at")} AS "recordedAt" FROM ${s}.payroll`;

const ADMISSION_COLS = (
  s: string,
) => `uitlener_kvk AS "uitlenerKvk", status, ${iso("decided_at")} AS "decidedAt",
  ${day("effective_date")} AS "effectiveDate", decision_reference AS "decisionReference",
  ${iso("reviewed_at")} AS "reviewedAt" FROM ${s}.admissions`;

async function admissionOf(ctx: AgencyContext, uitlenerKvk: string): Promise<AdmissionRow | null> {
  const rows = await ctx.query<AdmissionRow & Record<string, unknown>>(
    `SELECT ${ADMISSION_COLS(ctx.schema)} WHERE uitlener_kvk = $1 FOR UPDATE`,
    [uitlenerKvk],
  );
  return rows[0] ?? null;
}

async function writeAdmission(ctx: AgencyContext, a: AdmissionRow) {
  await ctx.query(
    `INSERT INTO ${ctx.schema}.admissions (uitlener_kvk, status, decided_at, effective_date, decision_reference, reviewed_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (uitlener_kvk) DO UPDATE SET status = EXCLUDED.status, decided_at = EXCLUDED.decided_at,
       effective_date = EXCLUDED.effective_date, decision_reference = EXCLUDED.decision_reference,
       reviewed_at = EXCLUDED.reviewed_at`,
    [a.uitlenerKvk, a.status, a.decidedAt, a.effectiveDate, a.decisionReference, a.reviewedAt],
  );
}

async function signalRaised(ctx: AgencyContext, admission: AdmissionRow | null): Promise<boolean> {
  if (!admission?.decisionReference) return false;
  const rows = await ctx.query(`SELECT 1 FROM ${ctx.schema}.signals WHERE signal_reference = $1`, [
    `UWV-LA-${admission.decisionReference}`,
  ]);
  return rows.length > 0;
}

async function recordSignal(ctx: AgencyContext, s: OwnSignal | null) {
  if (!s) return;
  await ctx.query(
    `INSERT INTO ${ctx.schema}.signals (signal_reference, subject_kvk, kind, raised_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [s.signalReference, s.subjectKvk, s.kind, s.raisedAt],
  );
}

/** Queues a publication; returns its outbox id (a loonaangifte event is refused later, on its outbox row). */
async function publish(ctx: AgencyContext, p: Publication): Promise<string> {
  switch (p.topic) {
    case "loonaangifte.registration-gap":
      return ctx.publish(p.topic, p.value);
    case "loonaangifte.payroll-departure":
      return ctx.publish(p.topic, p.value);
    case "lsi.signal-raised":
      return ctx.publish(p.topic, p.value);
  }
}

const kvk = z.string().regex(/^\d{8}$/, "must be a KvK number of eight digits");
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a YYYY-MM-DD date");

export const agency = defineAgency({
  service: "uwv",
  party: "uwv",
  transport: "kafka",
  migrations,
  subscriptions: {
    "arbo.accident-reported": async (ctx, d) => {
      const report = must(parseAccidentReport(d.value, d.producer));
      const s = ctx.schema;
      const existing = await ctx.query<AccidentRow & Record<string, unknown>>(
        `SELECT ${ACCIDENT_COLS(s)} WHERE inlener_kvk = $1 AND victim_bsn = $2 AND accident_time = $3 FOR UPDATE`,
        [report.inlenerKvk, report.victimBsn, report.accidentTime],
      );
      const seen = await ctx.query(
        `SELECT 1 FROM ${s}.accident_reports WHERE producer = $1 AND report_reference = $2`,
        [report.producer, report.reportReference],
      );
      const decision = onAccidentReported({
        report,
        existing: existing[0] ?? null,
        reportSeen: seen.length > 0,
        now: ctx.now(),
      });
      if (!decision.accident || !decision.report) return;
      const a = decision.accident;
      await ctx.query(
        `INSERT INTO ${s}.accidents AS a (inlener_kvk, victim_bsn, accident_time, uitlener_kvk, municipality_code,
           agency_worker, expected_benefit, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (inlener_kvk, victim_bsn, accident_time) DO UPDATE SET
           uitlener_kvk = COALESCE(a.uitlener_kvk, EXCLUDED.uitlener_kvk),
           agency_worker = a.agency_worker OR EXCLUDED.agency_worker,
           expected_benefit = CASE WHEN a.agency_worker OR EXCLUDED.agency_worker THEN 'ZIEKTEWET' ELSE a.expected_benefit END`,
        [
          a.inlenerKvk,
          a.victimBsn,
          a.accidentTime,
          a.uitlenerKvk,
          a.municipalityCode,
          a.agencyWorker,
          a.expectedBenefit,
          a.recordedAt,
        ],
      );
      await ctx.query(
        `INSERT INTO ${s}.accident_reports (producer, report_reference) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [decision.report.producer, decision.report.reportReference],
      );
    },

    "wtta.admission-granted": async (ctx, d) => {
      const grant = must(parseAdmissionGranted(d.value));
      const next = onAdmissionGranted(grant, await admissionOf(ctx, grant.uitlenerKvk));
      if (next) await writeAdmission(ctx, next);
    },

    "wtta.admission-revoked": async (ctx, d) => {
      const revocation = must(parseAdmissionRevoked(d.value));
      const s = ctx.schema;
      const current = await admissionOf(ctx, revocation.uitlenerKvk);
      const payroll = await ctx.query<PayrollRecord & Record<string, unknown>>(
        `SELECT ${PAYROLL_COLS(s)} WHERE uitlener_kvk = $1`,
        [revocation.uitlenerKvk],
      );
      const decision = onAdmissionRevoked({
        revocation,
        current,
        payroll,
        signalRaised: await signalRaised(ctx, revocation),
        now: ctx.now(),
      });
      if (decision.admission) await writeAdmission(ctx, decision.admission);
      for (const { finding: f, publication } of decision.reports) {
        const outboxId = await publish(ctx, publication);
        await ctx.query(
          `INSERT INTO ${s}.payroll_findings
             (decision_reference, uitlener_kvk, worker_bsn, kind, topic, municipality_code, outbox_id, found_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
          [
            f.decisionReference,
            f.uitlenerKvk,
            f.workerBsn,
            f.kind,
            f.topic,
            f.municipalityCode,
            outboxId,
            f.foundAt,
          ],
        );
      }
      for (const p of decision.publish.filter((x) => x.topic === "lsi.signal-raised")) await publish(ctx, p);
      await recordSignal(ctx, decision.signal);
      ctx.log.info(
        {
          uitlenerKvk: revocation.uitlenerKvk,
          findings: decision.findings.length,
          signalled: decision.signal !== null,
        },
        "payroll compared with the BRP after a revocation",
      );
    },

    "amu.case-opened": async (ctx, d) => {
      const c = must(parseAmuCase(d.value, d.producer));
      await ctx.query(
        `INSERT INTO ${ctx.schema}.amu_cases (case_reference, subject_kvk, opened_by, partners, concerns, uwv_partner, opened_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [c.caseReference, c.subjectKvk, c.openedBy, c.partners, c.concerns, c.uwvPartner, c.openedAt],
      );
    },
  },

  desk: {
    "record-payroll": deskAction({
      summary:
        "Records one payroll line of an uitlener's declaration in the polisadministratie (worker, BRP registration, address known, stay municipality, period).",
      input: z.object({
        uitlenerKvk: kvk,
        workerBsn: z.string().regex(/^\d{9}$/, "must be nine digits"),
        registration: z.enum(BrpRegistration),
        brpAddressKnown: z.boolean(),
        stayMunicipalityCode: z.string().regex(/^GM\d{4}$/, "must be a gemeentecode (GM and four digits)"),
        stayMunicipalityName: z.string().min(1).max(100),
        employedSince: date,
        periodStart: date,
        periodEnd: date,
      }),
      run: async (ctx, input) => {
        const parsed = parsePayroll(input, ctx.now());
        if (!parsed.ok) throw new DeskRefusal(parsed.reason, "Correct the payroll line and send it again.");
        const s = ctx.schema;
        const existing = await ctx.query<PayrollRecord & Record<string, unknown>>(
          `SELECT ${PAYROLL_COLS(s)} WHERE uitlener_kvk = $1 AND worker_bsn = $2 FOR UPDATE`,
          [input.uitlenerKvk, input.workerBsn],
        );
        const admission = await admissionOf(ctx, input.uitlenerKvk);
        const d = onPayrollRecorded({
          record: parsed.value,
          existing: existing[0] ?? null,
          admission,
          signalRaised: await signalRaised(ctx, admission),
          now: ctx.now(),
        });
        const r = d.record;
        await ctx.query(
          `INSERT INTO ${s}.payroll (uitlener_kvk, worker_bsn, registration, brp_address_known, stay_municipality_code,
             stay_municipality_name, employed_since, last_period_start, last_period_end, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (uitlener_kvk, worker_bsn) DO UPDATE SET registration = EXCLUDED.registration,
             brp_address_known = EXCLUDED.brp_address_known, stay_municipality_code = EXCLUDED.stay_municipality_code,
             stay_municipality_name = EXCLUDED.stay_municipality_name, employed_since = EXCLUDED.employed_since,
             last_period_start = EXCLUDED.last_period_start, last_period_end = EXCLUDED.last_period_end,
             recorded_at = EXCLUDED.recorded_at`,
          [
            r.uitlenerKvk,
            r.workerBsn,
            r.registration,
            r.brpAddressKnown,
            r.stayMunicipalityCode,
            r.stayMunicipalityName,
            r.employedSince,
            r.lastPeriodStart,
            r.lastPeriodEnd,
            r.recordedAt,
          ],
        );
        for (const p of d.publish) await publish(ctx, p);
        await recordSignal(ctx, d.signal);
        return { recorded: true, lastPeriodEnd: r.lastPeriodEnd, signalRaised: d.signal !== null };
      },
    }),
  },

  state: async (ctx) => {
    const s = ctx.schema;
    // Never a BSN: accidents, payroll and findings are shown by company, municipality, kind and count.
    return {
      accidents: await ctx.query(
        `SELECT inlener_kvk AS "inlenerKvk", uitlener_kvk AS "uitlenerKvk", ${iso("accident_time")} AS "accidentTime",
                municipality_code AS "municipalityCode", agency_worker AS "agencyWorker",
                expected_benefit AS "expectedBenefit" FROM ${s}.accidents ORDER BY recorded_at`,
      ),
      reportsSeen: Number(
        (await ctx.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.accident_reports`))[0]?.n ?? 0,
      ),
      payroll: await ctx.query(
        `SELECT uitlener_kvk AS "uitlenerKvk", count(*)::int AS "workers",
                count(*) FILTER (WHERE NOT brp_address_known)::int AS "withoutBrpAddress",
                count(*) FILTER (WHERE registration = 'NON_RESIDENT')::int AS "nonResidents",
                ${day("max(last_period_end)")} AS "latestPeriodEnd"
           FROM ${s}.payroll GROUP BY uitlener_kvk ORDER BY 1`,
      ),
      admissions: await ctx.query(`SELECT ${ADMISSION_COLS(s)} ORDER BY 1`),
      findings: await ctx.query(
        `SELECT f.decision_reference AS "decisionReference", f.uitlener_kvk AS "uitlenerKvk", f.kind, f.topic,
                f.municipality_code AS "municipalityCode", f.outbox_id AS "outboxId", o.state AS "outboxState",
                o.refusal_code AS "refusalCode"
           FROM ${s}.payroll_findings f LEFT JOIN ${s}.outbox o ON o.id = f.outbox_id
          ORDER BY f.found_at, f.kind, f.municipality_code`,
      ),
      signals: await ctx.query(
        `SELECT signal_reference AS "signalReference", subject_kvk AS "subjectKvk", kind, ${iso("raised_at")} AS "raisedAt"
           FROM ${s}.signals ORDER BY raised_at`,
      ),
      amuCases: await ctx.query(
        `SELECT case_reference AS "caseReference", subject_kvk AS "subjectKvk", opened_by AS "openedBy", partners,
                concerns, uwv_partner AS "uwvPartner", ${iso("opened_at")} AS "openedAt" FROM ${s}.amu_cases ORDER BY opened_at`,
      ),
    };
  },
});
