/**
 * The Arbeidsinspectie's wiring on the agency runtime: its tables, one handler per consumed topic (parse → load →
 * rule → apply, in the runtime's one transaction), the deadline sweep, the desk and `GET /state`. The rules are in
 * `rules.ts`; nothing here decides.
 */
import { defineAgency, deskAction, DeskRefusal, Poison, type AgencyContext } from "@grondslag/agency";
import { isValidKvk } from "@grondslag/schemas";
import { z } from "zod";
import {
  configFromEnv,
  dueRevocations,
  dutchDate,
  endHiring,
  lenderOf,
  onAccidentReported,
  onAdmissionGranted,
  onAdmissionRevoked,
  onReturnVerified,
  onSignal,
  overdueChecks,
  parseAccidentReport,
  parseAdmissionGranted,
  parseAdmissionRevoked,
  parseAmuCase,
  parseInspectionReport,
  parseReturnVerified,
  parseSignal,
  parseViolation,
  type AccidentCase,
  type AdmissionRow,
  type AmuCaseRow,
  type CaseFlag,
  type EnforcementAction,
  type HiringPair,
  type NlaConfig,
  type Parsed,
  type PendingVerification,
  type Publication,
  type SignalRow,
} from "./rules";

// Read once, when the service loads: a bad value stops the start with the variable's name and the fix, instead of
// failing every delivery later.
const CONFIG: NlaConfig = configFromEnv(process.env);
const config = (): NlaConfig => CONFIG;

/** An instant column as an ISO string (the JSON form), whatever the session's time zone. */
const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** A date column as YYYY-MM-DD. */
const day = (col: string) => `to_char(${col}, 'YYYY-MM-DD')`;

function must<T>(p: Parsed<T>): T {
  if (!p.ok) throw new Poison(p.reason);
  return p.value;
}

const migrations = (s: string) => [
  `CREATE TABLE IF NOT EXISTS ${s}.accident_cases (
     case_ref text PRIMARY KEY,
     inlener_kvk text NOT NULL,
     uitlener_kvk text,
     victim_bsn text NOT NULL,
     accident_time timestamptz NOT NULL,
     severity text NOT NULL CHECK (severity IN ('SERIOUS', 'FATAL')),
     check_deadline date NOT NULL,
     check_status text NOT NULL CHECK (check_status IN ('OPEN', 'VERIFIED', 'VERIFIED_LATE', 'OVERDUE')),
     verified_on date,
     work_resumed boolean,
     opened_at timestamptz NOT NULL,
     UNIQUE (inlener_kvk, victim_bsn, accident_time)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.accident_reports (
     producer text NOT NULL,
     report_reference text NOT NULL,
     case_ref text NOT NULL REFERENCES ${s}.accident_cases (case_ref),
     subject_kvk text NOT NULL,
     received_at timestamptz NOT NULL,
     PRIMARY KEY (producer, report_reference)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.pending_verifications (
     subject_kvk text NOT NULL,
     accident_report_reference text NOT NULL,
     inlener_kvk text NOT NULL,
     worker_bsn text NOT NULL,
     verified_on date NOT NULL,
     work_resumed boolean NOT NULL,
     received_at timestamptz NOT NULL,
     PRIMARY KEY (subject_kvk, accident_report_reference)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.case_flags (
     case_ref text NOT NULL REFERENCES ${s}.accident_cases (case_ref),
     kind text NOT NULL,
     flagged_at timestamptz NOT NULL,
     PRIMARY KEY (case_ref, kind)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.hiring_pairs (
     inlener_kvk text NOT NULL,
     uitlener_kvk text NOT NULL,
     first_seen timestamptz NOT NULL,
     last_seen timestamptz NOT NULL,
     ended_on date,
     PRIMARY KEY (inlener_kvk, uitlener_kvk)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.admissions (
     uitlener_kvk text PRIMARY KEY,
     status text NOT NULL CHECK (status IN ('ADMITTED', 'REVOKED')),
     admission_number text,
     decided_at timestamptz NOT NULL,
     effective_date date,
     decision_reference text,
     acted_at timestamptz
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.enforcement_actions (
     inlener_kvk text NOT NULL,
     uitlener_kvk text NOT NULL,
     decision_reference text NOT NULL,
     cause text NOT NULL,
     action text NOT NULL,
     recorded_at timestamptz NOT NULL,
     PRIMARY KEY (inlener_kvk, uitlener_kvk, decision_reference)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.signals (
     producer text NOT NULL,
     signal_reference text NOT NULL,
     subject_kvk text NOT NULL,
     kind text NOT NULL,
     municipality_code text,
     raised_at timestamptz NOT NULL,
     PRIMARY KEY (producer, signal_reference)
   )`,
  `CREATE INDEX IF NOT EXISTS signals_by_kvk ON ${s}.signals (subject_kvk, raised_at)`,
  `CREATE TABLE IF NOT EXISTS ${s}.amu_cases (
     case_reference text PRIMARY KEY,
     subject_kvk text NOT NULL,
     opened_by text NOT NULL,
     partners text[] NOT NULL,
     concerns text[] NOT NULL,
     opened_at timestamptz NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS amu_cases_by_kvk ON ${s}.amu_cases (subject_kvk)`,
  `CREATE TABLE IF NOT EXISTS ${s}.housing_violations (
     producer text NOT NULL,
     case_reference text NOT NULL,
     subject_kvk text NOT NULL,
     inspection_date date NOT NULL,
     municipality_code text,
     violations text[] NOT NULL,
     received_at timestamptz NOT NULL,
     PRIMARY KEY (producer, case_reference)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.inspection_reports (
     producer text NOT NULL,
     report_id text NOT NULL,
     subject_kvk text NOT NULL,
     inspection_date date NOT NULL,
     outcome text NOT NULL,
     major_findings int NOT NULL,
     received_at timestamptz NOT NULL,
     PRIMARY KEY (producer, report_id)
   )`,
];

// ── loading rows ─────────────────────────────────────────────────────────────────────────────────────────────────

const CASE_COLS = (
  s: string,
) => `case_ref AS "caseRef", inlener_kvk AS "inlenerKvk", uitlener_kvk AS "uitlenerKvk",
  victim_bsn AS "victimBsn", ${iso("accident_time")} AS "accidentTime", severity,
  ${day("check_deadline")} AS "checkDeadline", check_status AS "checkStatus", ${day("verified_on")} AS "verifiedOn",
  work_resumed AS "workResumed", ${iso("opened_at")} AS "openedAt" FROM ${s}.accident_cases`;

const PAIR_COLS = (s: string) => `inlener_kvk AS "inlenerKvk", uitlener_kvk AS "uitlenerKvk",
  ${iso("first_seen")} AS "firstSeen", ${iso("last_seen")} AS "lastSeen", ${day("ended_on")} AS "endedOn"
  FROM ${s}.hiring_pairs`;

const ADMISSION_COLS = (
  s: string,
) => `uitlener_kvk AS "uitlenerKvk", status, admission_number AS "admissionNumber",
  ${iso("decided_at")} AS "decidedAt", ${day("effective_date")} AS "effectiveDate",
  decision_reference AS "decisionReference", ${iso("acted_at")} AS "actedAt" FROM ${s}.admissions`;

const SIGNAL_COLS = (
  s: string,
) => `producer, signal_reference AS "signalReference", subject_kvk AS "subjectKvk", kind,
  municipality_code AS "municipalityCode", ${iso("raised_at")} AS "raisedAt" FROM ${s}.signals`;

const PENDING_COLS = (
  s: string,
) => `subject_kvk AS "subjectKvk", accident_report_reference AS "accidentReportReference",
  inlener_kvk AS "inlenerKvk", worker_bsn AS "workerBsn", ${day("verified_on")} AS "verifiedOn",
  work_resumed AS "workResumed", ${iso("received_at")} AS "receivedAt" FROM ${s}.pending_verifications`;

async function admissionOf(ctx: AgencyContext, uitlenerKvk: string): Promise<AdmissionRow | null> {
  const rows = await ctx.query<AdmissionRow & Record<string, unknown>>(
    `SELECT ${ADMISSION_COLS(ctx.schema)} WHERE uitlener_kvk = $1 FOR UPDATE`,
    [uitlenerKvk],
  );
  return rows[0] ?? null;
}

// ── applying decisions ───────────────────────────────────────────────────────────────────────────────────────────

/** Writes a case (insert, or update when its key is taken) and returns the case reference that holds. */
async function upsertCase(ctx: AgencyContext, c: AccidentCase): Promise<string> {
  const rows = await ctx.query<{ case_ref: string }>(
    `INSERT INTO ${ctx.schema}.accident_cases AS c (case_ref, inlener_kvk, uitlener_kvk, victim_bsn, accident_time,
       severity, check_deadline, check_status, verified_on, work_resumed, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (inlener_kvk, victim_bsn, accident_time) DO UPDATE SET
       uitlener_kvk = COALESCE(c.uitlener_kvk, EXCLUDED.uitlener_kvk),
       severity = CASE WHEN EXCLUDED.severity = 'FATAL' THEN 'FATAL' ELSE c.severity END,
       check_status = EXCLUDED.check_status,
       verified_on = EXCLUDED.verified_on,
       work_resumed = EXCLUDED.work_resumed
     RETURNING case_ref`,
    [
      c.caseRef,
      c.inlenerKvk,
      c.uitlenerKvk,
      c.victimBsn,
      c.accidentTime,
      c.severity,
      c.checkDeadline,
      c.checkStatus,
      c.verifiedOn,
      c.workResumed,
      c.openedAt,
    ],
  );
  return rows[0]!.case_ref;
}

async function addFlags(ctx: AgencyContext, flags: readonly CaseFlag[], caseRef?: string) {
  for (const f of flags) {
    await ctx.query(
      `INSERT INTO ${ctx.schema}.case_flags (case_ref, kind, flagged_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [caseRef ?? f.caseRef, f.kind, f.flaggedAt],
    );
  }
}

async function seePair(
  ctx: AgencyContext,
  p: { inlenerKvk: string; uitlenerKvk: string; seenAt: string } | null,
) {
  if (!p) return;
  // Seen again after an inspector ended it: the inlener hires from the uitlener again.
  await ctx.query(
    `INSERT INTO ${ctx.schema}.hiring_pairs AS p (inlener_kvk, uitlener_kvk, first_seen, last_seen)
     VALUES ($1, $2, $3, $3)
     ON CONFLICT (inlener_kvk, uitlener_kvk) DO UPDATE SET
       last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen),
       ended_on = CASE WHEN p.ended_on IS NOT NULL AND EXCLUDED.last_seen::date > p.ended_on THEN NULL ELSE p.ended_on END`,
    [p.inlenerKvk, p.uitlenerKvk, p.seenAt],
  );
}

async function addEnforcement(ctx: AgencyContext, actions: readonly EnforcementAction[]) {
  for (const e of actions) {
    await ctx.query(
      `INSERT INTO ${ctx.schema}.enforcement_actions
         (inlener_kvk, uitlener_kvk, decision_reference, cause, action, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [e.inlenerKvk, e.uitlenerKvk, e.decisionReference, e.cause, e.action, e.recordedAt],
    );
  }
}

async function publishAll(ctx: AgencyContext, pubs: readonly Publication[]) {
  for (const p of pubs) {
    switch (p.topic) {
      case "lsi.signal-raised":
        await ctx.publish(p.topic, p.value);
        break;
      case "amu.case-opened":
        await ctx.publish(p.topic, p.value);
        break;
    }
  }
}

async function writeAdmission(ctx: AgencyContext, a: AdmissionRow) {
  await ctx.query(
    `INSERT INTO ${ctx.schema}.admissions
       (uitlener_kvk, status, admission_number, decided_at, effective_date, decision_reference, acted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (uitlener_kvk) DO UPDATE SET status = EXCLUDED.status, admission_number = EXCLUDED.admission_number,
       decided_at = EXCLUDED.decided_at, effective_date = EXCLUDED.effective_date,
       decision_reference = EXCLUDED.decision_reference, acted_at = EXCLUDED.acted_at`,
    [
      a.uitlenerKvk,
      a.status,
      a.admissionNumber,
      a.decidedAt,
      a.effectiveDate,
      a.decisionReference,
      a.actedAt,
    ],
  );
}

/**
 * Records a signal (a partner's, or nla's own when raised) and runs the AMU rule for its KvK, under a lock per KvK so
 * that two signals handled at once cannot open two cases.
 */
async function recordSignal(ctx: AgencyContext, signal: SignalRow) {
  await ctx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`nla.amu.${signal.subjectKvk}`]);
  const already = await ctx.query(
    `SELECT 1 FROM ${ctx.schema}.signals WHERE producer = $1 AND signal_reference = $2`,
    [signal.producer, signal.signalReference],
  );
  const about = await ctx.query<SignalRow & Record<string, unknown>>(
    `SELECT ${SIGNAL_COLS(ctx.schema)} WHERE subject_kvk = $1`,
    [signal.subjectKvk],
  );
  const existing = await ctx.query<AmuCaseRow & Record<string, unknown>>(
    `SELECT case_reference AS "caseReference", subject_kvk AS "subjectKvk", opened_by AS "openedBy", partners, concerns,
            ${iso("opened_at")} AS "openedAt" FROM ${ctx.schema}.amu_cases WHERE subject_kvk = $1 LIMIT 1`,
    [signal.subjectKvk],
  );
  const d = onSignal({
    signal,
    alreadyRecorded: already.length > 0,
    signalsAboutKvk: about,
    existingAmuCase: existing[0] ?? null,
    now: ctx.now(),
    config: config(),
  });
  if (d.record) {
    await ctx.query(
      `INSERT INTO ${ctx.schema}.signals (producer, signal_reference, subject_kvk, kind, municipality_code, raised_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [
        d.record.producer,
        d.record.signalReference,
        d.record.subjectKvk,
        d.record.kind,
        d.record.municipalityCode,
        d.record.raisedAt,
      ],
    );
  }
  if (d.amuCase) await insertAmuCase(ctx, d.amuCase);
  await publishAll(ctx, d.publish);
}

async function insertAmuCase(ctx: AgencyContext, c: AmuCaseRow) {
  await ctx.query(
    `INSERT INTO ${ctx.schema}.amu_cases (case_reference, subject_kvk, opened_by, partners, concerns, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [c.caseReference, c.subjectKvk, c.openedBy, c.partners, c.concerns, c.openedAt],
  );
}

async function applyRevocation(ctx: AgencyContext, d: ReturnType<typeof onAdmissionRevoked>) {
  if (d.admission) await writeAdmission(ctx, d.admission);
  await addEnforcement(ctx, d.enforcement);
  await publishAll(ctx, d.publish);
  for (const s of d.signals) await recordSignal(ctx, s);
}

// ── the agency ───────────────────────────────────────────────────────────────────────────────────────────────────

export const agency = defineAgency({
  service: "nla",
  party: "nla",
  transport: "kafka",
  migrations,
  subscriptions: {
    "arbo.accident-reported": async (ctx, d) => {
      const report = must(parseAccidentReport(d.value));
      const s = ctx.schema;
      const existing = await ctx.query<AccidentCase & Record<string, unknown>>(
        `SELECT ${CASE_COLS(s)} WHERE inlener_kvk = $1 AND victim_bsn = $2 AND accident_time = $3 FOR UPDATE`,
        [report.inlenerKvk, report.victimBsn, report.accidentTime],
      );
      const seen = await ctx.query(
        `SELECT 1 FROM ${s}.accident_reports WHERE producer = $1 AND report_reference = $2`,
        [d.producer, report.reportReference],
      );
      const lender = lenderOf(report);
      const pending = await ctx.query<PendingVerification & Record<string, unknown>>(
        `SELECT ${PENDING_COLS(s)} WHERE inlener_kvk = $1 AND worker_bsn = $2`,
        [report.inlenerKvk, report.victimBsn],
      );
      const decision = onAccidentReported({
        report,
        producer: d.producer,
        newCaseRef: `NLA-OV-${d.eventId}`,
        now: ctx.now(),
        state: {
          existingCase: existing[0] ?? null,
          reportSeen: seen.length > 0,
          admission: lender === null ? null : await admissionOf(ctx, lender),
          pendingVerifications: pending,
        },
        config: config(),
      });
      if (decision.duplicate || !decision.upsertCase || !decision.report) return;
      const caseRef = await upsertCase(ctx, decision.upsertCase);
      await ctx.query(
        `INSERT INTO ${s}.accident_reports (producer, report_reference, case_ref, subject_kvk, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [
          decision.report.producer,
          decision.report.reportReference,
          caseRef,
          decision.report.subjectKvk,
          decision.report.receivedAt,
        ],
      );
      await addFlags(ctx, decision.flags, caseRef);
      for (const v of decision.appliedVerifications) {
        await ctx.query(
          `DELETE FROM ${s}.pending_verifications WHERE subject_kvk = $1 AND accident_report_reference = $2`,
          [v.subjectKvk, v.accidentReportReference],
        );
      }
      await seePair(ctx, decision.pair);
      await addEnforcement(ctx, decision.enforcement);
      ctx.log.info(
        { caseRef, joined: decision.joinedExisting, severity: decision.upsertCase.severity },
        decision.joinedExisting ? "accident report joined its case" : "accident case opened",
      );
    },

    "arbo.return-verified": async (ctx, d) => {
      const v = must(parseReturnVerified(d.value));
      const s = ctx.schema;
      // The case of the report the check names (the uitlener's own report, or the inlener's), else the open case
      // of this inlener and worker.
      let found = await ctx.query<AccidentCase & Record<string, unknown>>(
        `SELECT ${CASE_COLS(s)} WHERE case_ref IN (SELECT case_ref FROM ${s}.accident_reports WHERE report_reference = $1)
           AND inlener_kvk = $2 AND victim_bsn = $3 FOR UPDATE`,
        [v.accidentReportReference, v.inlenerKvk, v.workerBsn],
      );
      if (found.length === 0) {
        found = await ctx.query<AccidentCase & Record<string, unknown>>(
          `SELECT ${CASE_COLS(s)} WHERE inlener_kvk = $1 AND victim_bsn = $2 AND check_status IN ('OPEN', 'OVERDUE')
             ORDER BY accident_time DESC LIMIT 1 FOR UPDATE`,
          [v.inlenerKvk, v.workerBsn],
        );
      }
      const decision = onReturnVerified({ verification: v, theCase: found[0] ?? null, now: ctx.now() });
      if (decision.updatedCase) {
        const c = decision.updatedCase;
        await ctx.query(
          `UPDATE ${s}.accident_cases SET check_status = $2, verified_on = $3, work_resumed = $4 WHERE case_ref = $1`,
          [c.caseRef, c.checkStatus, c.verifiedOn, c.workResumed],
        );
      }
      if (decision.pending) {
        const p = decision.pending;
        await ctx.query(
          `INSERT INTO ${s}.pending_verifications
             (subject_kvk, accident_report_reference, inlener_kvk, worker_bsn, verified_on, work_resumed, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          [
            p.subjectKvk,
            p.accidentReportReference,
            p.inlenerKvk,
            p.workerBsn,
            p.verifiedOn,
            p.workResumed,
            p.receivedAt,
          ],
        );
      }
      await addFlags(ctx, decision.flags);
      await seePair(ctx, decision.pair);
    },

    "wtta.admission-granted": async (ctx, d) => {
      const grant = must(parseAdmissionGranted(d.value));
      const next = onAdmissionGranted(grant, await admissionOf(ctx, grant.uitlenerKvk));
      if (next) await writeAdmission(ctx, next);
    },

    "wtta.admission-revoked": async (ctx, d) => {
      const revocation = must(parseAdmissionRevoked(d.value));
      const current = await admissionOf(ctx, revocation.uitlenerKvk);
      const pairs = await ctx.query<HiringPair & Record<string, unknown>>(
        `SELECT ${PAIR_COLS(ctx.schema)} WHERE uitlener_kvk = $1`,
        [revocation.uitlenerKvk],
      );
      const decision = onAdmissionRevoked({ revocation, current, pairs, now: ctx.now() });
      await applyRevocation(ctx, decision);
      ctx.log.info(
        {
          uitlenerKvk: revocation.uitlenerKvk,
          inleners: decision.enforcement.length,
          signalled: decision.publish.length > 0,
        },
        "revocation handled",
      );
    },

    "lsi.signal-raised": async (ctx, d) => {
      await recordSignal(ctx, must(parseSignal(d.value, d.producer)));
    },

    "amu.case-opened": async (ctx, d) => {
      await insertAmuCase(ctx, must(parseAmuCase(d.value, d.producer)));
    },

    "huisvesting.violation-found": async (ctx, d) => {
      const v = must(parseViolation(d.value, d.producer, ctx.now()));
      await ctx.query(
        `INSERT INTO ${ctx.schema}.housing_violations
           (producer, case_reference, subject_kvk, inspection_date, municipality_code, violations, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [
          v.producer,
          v.caseReference,
          v.subjectKvk,
          v.inspectionDate,
          v.municipalityCode,
          v.violations,
          v.receivedAt,
        ],
      );
    },

    "inspectie.report-filed": async (ctx, d) => {
      const r = must(parseInspectionReport(d.value, d.producer, ctx.now()));
      await ctx.query(
        `INSERT INTO ${ctx.schema}.inspection_reports
           (producer, report_id, subject_kvk, inspection_date, outcome, major_findings, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [r.producer, r.reportId, r.subjectKvk, r.inspectionDate, r.outcome, r.majorFindings, r.receivedAt],
      );
    },
  },

  desk: {
    "end-hiring": deskAction({
      summary:
        "An inspector established that an inlener no longer hires from an uitlener: the deadline sweep and a later revocation leave the pair alone.",
      input: z.object({
        inlenerKvk: z.string().refine(isValidKvk, "must be a KvK number of eight digits"),
        uitlenerKvk: z.string().refine(isValidKvk, "must be a KvK number of eight digits"),
        endedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a YYYY-MM-DD date"),
      }),
      run: async (ctx, input) => {
        const rows = await ctx.query<HiringPair & Record<string, unknown>>(
          `SELECT ${PAIR_COLS(ctx.schema)} WHERE inlener_kvk = $1 AND uitlener_kvk = $2 FOR UPDATE`,
          [input.inlenerKvk, input.uitlenerKvk],
        );
        const r = endHiring(rows[0] ?? null, input.endedOn);
        if (!r.ok)
          throw new DeskRefusal(
            r.reason,
            "Check the KvK numbers and the date against GET /v1/state (pairs).",
          );
        await ctx.query(
          `UPDATE ${ctx.schema}.hiring_pairs SET ended_on = $3 WHERE inlener_kvk = $1 AND uitlener_kvk = $2`,
          [input.inlenerKvk, input.uitlenerKvk, r.value.endedOn],
        );
        return { inlenerKvk: input.inlenerKvk, uitlenerKvk: input.uitlenerKvk, endedOn: r.value.endedOn };
      },
    }),
  },

  timers: [
    {
      // Dates change once a day, but a minute's sweep keeps a deadline or an effective date from waiting long.
      name: "deadlines",
      everyMs: 60_000,
      run: async (ctx) => {
        const s = ctx.schema;
        const now = ctx.now();
        const cases = await ctx.query<AccidentCase & Record<string, unknown>>(
          `SELECT ${CASE_COLS(s)} WHERE check_status = 'OPEN' AND uitlener_kvk IS NOT NULL AND check_deadline < $1::date
             FOR UPDATE SKIP LOCKED`,
          [dutchDate(now)],
        );
        if (cases.length > 0) {
          const pairs = await ctx.query<HiringPair & Record<string, unknown>>(`SELECT ${PAIR_COLS(s)}`);
          const d = overdueChecks({ cases, pairs, now });
          for (const c of d.overdue) {
            await ctx.query(`UPDATE ${s}.accident_cases SET check_status = 'OVERDUE' WHERE case_ref = $1`, [
              c.caseRef,
            ]);
          }
          await addFlags(ctx, d.flags);
        }
        const due = await ctx.query<AdmissionRow & Record<string, unknown>>(
          `SELECT ${ADMISSION_COLS(s)} WHERE status = 'REVOKED' AND acted_at IS NULL AND effective_date <= $1::date
             FOR UPDATE SKIP LOCKED`,
          [dutchDate(now)],
        );
        for (const a of due) {
          const pairs = await ctx.query<HiringPair & Record<string, unknown>>(
            `SELECT ${PAIR_COLS(s)} WHERE uitlener_kvk = $1`,
            [a.uitlenerKvk],
          );
          for (const decision of dueRevocations({ admissions: [a], pairs, now }))
            await applyRevocation(ctx, decision);
        }
      },
    },
  ],

  state: async (ctx) => {
    const s = ctx.schema;
    // Never a BSN: cases are shown by reference, inlener and uitlener.
    return {
      config: config(),
      cases: await ctx.query(
        `SELECT c.case_ref AS "caseRef", c.inlener_kvk AS "inlenerKvk", c.uitlener_kvk AS "uitlenerKvk", c.severity,
                ${iso("c.accident_time")} AS "accidentTime", ${day("c.check_deadline")} AS "checkDeadline",
                c.check_status AS "checkStatus", ${day("c.verified_on")} AS "verifiedOn", c.work_resumed AS "workResumed",
                (SELECT array_agg(r.producer || ':' || r.report_reference ORDER BY r.received_at)
                   FROM ${s}.accident_reports r WHERE r.case_ref = c.case_ref) AS "reports",
                COALESCE((SELECT array_agg(f.kind ORDER BY f.kind) FROM ${s}.case_flags f WHERE f.case_ref = c.case_ref),
                         '{}') AS "flags"
           FROM ${s}.accident_cases c ORDER BY c.opened_at, c.accident_time`,
      ),
      pendingVerifications: Number(
        (await ctx.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.pending_verifications`))[0]?.n ?? 0,
      ),
      pairs: await ctx.query(`SELECT ${PAIR_COLS(s)} ORDER BY 1, 2`),
      admissions: await ctx.query(`SELECT ${ADMISSION_COLS(s)} ORDER BY 1`),
      enforcementActions: await ctx.query(
        `SELECT inlener_kvk AS "inlenerKvk", uitlener_kvk AS "uitlenerKvk", decision_reference AS "decisionReference",
                cause, action, ${iso("recorded_at")} AS "recordedAt" FROM ${s}.enforcement_actions ORDER BY recorded_at, 1`,
      ),
      signals: await ctx.query(`SELECT ${SIGNAL_COLS(s)} ORDER BY raised_at, producer`),
      amuCases: await ctx.query(
        `SELECT case_reference AS "caseReference", subject_kvk AS "subjectKvk", opened_by AS "openedBy", partners,
                concerns, ${iso("opened_at")} AS "openedAt" FROM ${s}.amu_cases ORDER BY opened_at`,
      ),
      housingViolations: await ctx.query(
        `SELECT producer, case_reference AS "caseReference", subject_kvk AS "subjectKvk",
                ${day("inspection_date")} AS "inspectionDate", municipality_code AS "municipalityCode", violations
           FROM ${s}.housing_violations ORDER BY received_at`,
      ),
      inspectionReports: await ctx.query(
        `SELECT producer, report_id AS "reportId", subject_kvk AS "subjectKvk", ${day("inspection_date")} AS "inspectionDate",
                outcome, major_findings AS "majorFindings" FROM ${s}.inspection_reports ORDER BY received_at`,
      ),
    };
  },
});
