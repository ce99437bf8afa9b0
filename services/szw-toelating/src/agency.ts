import { defineAgency, deskAction, Poison, type AgencyContext } from "@grondslag/agency";
import { z } from "zod";
import {
  dutchDay,
  grantAdmission,
  isIsoDate,
  onArrearsSignalled,
  onHousingViolation,
  onReportFiled,
  parseArrears,
  parseHousing,
  parseReport,
  refuseApplication,
  reviewAdmission,
  revokeAtDesk,
  topUpDeposit,
  type Admission,
  type EventDecision,
  type Ground,
  type Publication,
  type RefusalRecord,
  type ReportRecord,
} from "./rules";

/**
 * The Wtta admission authority (`szw.toelating`, Kafka): the wiring of src/rules.ts. Each handler reads what it
 * needs from the delivered view (poison when a needed field is missing), loads the uitlener's rows, calls the rule
 * and applies its decision in the handler's one transaction (state rows and outbox together). See README.md.
 */

const migrations = (s: string) => [
  `CREATE TABLE IF NOT EXISTS ${s}.admissions (
     admission_number text PRIMARY KEY,
     subject_kvk text NOT NULL,
     trade_name text NOT NULL,
     status text NOT NULL CHECK (status IN ('PROVISIONAL', 'DEFINITIVE', 'REVOKED')),
     valid_from text NOT NULL,
     provisional_until text,
     security_deposit_cents bigint NOT NULL,
     established_abroad boolean NOT NULL,
     country_of_establishment text NOT NULL,
     inspection_report jsonb,
     revoked_from text,
     revocation_reference text,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  // One admission in force per uitlener (ch. 2.1), also against two desks at once.
  `CREATE UNIQUE INDEX IF NOT EXISTS admissions_in_force ON ${s}.admissions (subject_kvk) WHERE status <> 'REVOKED'`,
  `CREATE SEQUENCE IF NOT EXISTS ${s}.admission_seq`,
  `CREATE TABLE IF NOT EXISTS ${s}.grounds (
     admission_number text NOT NULL REFERENCES ${s}.admissions (admission_number),
     reference text NOT NULL,
     subject_kvk text NOT NULL,
     kind text NOT NULL,
     observed_on text NOT NULL,
     remedy_until text,
     resolved_on text,
     summary text NOT NULL,
     recorded_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (admission_number, reference)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.reports (
     subject_kvk text NOT NULL,
     report_id text NOT NULL,
     inspection_body text NOT NULL,
     inspection_date text NOT NULL,
     outcome text NOT NULL,
     major_findings int NOT NULL,
     minor_findings int NOT NULL,
     received_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (subject_kvk, report_id)
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.refusals (
     application_reference text PRIMARY KEY,
     subject_kvk text NOT NULL,
     application_kind text NOT NULL,
     reasons jsonb NOT NULL,
     decision_reference text NOT NULL,
     decided_on text NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.events (
     event_id text PRIMARY KEY,
     topic text NOT NULL,
     producer text NOT NULL,
     subject_kvk text NOT NULL,
     outcome text NOT NULL,
     note text NOT NULL,
     admission_number text,
     received_at timestamptz NOT NULL DEFAULT now()
   )`,
];

// ── rows ────────────────────────────────────────────────────────────────────────────────────────────────────────

interface AdmissionRow {
  admission_number: string;
  subject_kvk: string;
  trade_name: string;
  status: Admission["status"];
  valid_from: string;
  provisional_until: string | null;
  security_deposit_cents: string;
  established_abroad: boolean;
  country_of_establishment: string;
  inspection_report: Admission["inspectionReport"];
  revoked_from: string | null;
  revocation_reference: string | null;
}

const admissionOf = (r: AdmissionRow): Admission => ({
  admissionNumber: r.admission_number,
  subjectKvk: r.subject_kvk,
  tradeName: r.trade_name,
  status: r.status,
  validFrom: r.valid_from,
  provisionalUntil: r.provisional_until,
  securityDepositCents: Number(r.security_deposit_cents),
  establishedAbroad: r.established_abroad,
  countryOfEstablishment: r.country_of_establishment,
  inspectionReport: r.inspection_report,
  revokedFrom: r.revoked_from,
  revocationReference: r.revocation_reference,
});

/** The uitlener's admissions (any status), locked for this transaction. */
async function admissionsOf(ctx: AgencyContext, kvk: string): Promise<Admission[]> {
  // The lock also covers a KvK without rows yet: two desks granting the same uitlener at once wait for each other.
  await ctx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${ctx.schema}.admission.${kvk}`]);
  const rows = await ctx.query<AdmissionRow>(
    `SELECT * FROM ${ctx.schema}.admissions WHERE subject_kvk = $1 ORDER BY valid_from`,
    [kvk],
  );
  return rows.map(admissionOf);
}

async function groundsOf(ctx: AgencyContext, kvk: string): Promise<Ground[]> {
  return ctx.query<Ground & Record<string, unknown>>(
    `SELECT admission_number AS "admissionNumber", subject_kvk AS "subjectKvk", kind, reference,
            observed_on AS "observedOn", remedy_until AS "remedyUntil", resolved_on AS "resolvedOn", summary
       FROM ${ctx.schema}.grounds WHERE subject_kvk = $1 ORDER BY recorded_at, reference`,
    [kvk],
  );
}

async function reportsOf(ctx: AgencyContext, kvk: string): Promise<ReportRecord[]> {
  return ctx.query<ReportRecord & Record<string, unknown>>(
    `SELECT report_id AS "reportId", subject_kvk AS "subjectKvk", inspection_body AS "inspectionBody",
            inspection_date AS "inspectionDate", outcome, major_findings AS "majorFindings",
            minor_findings AS "minorFindings"
       FROM ${ctx.schema}.reports WHERE subject_kvk = $1`,
    [kvk],
  );
}

async function saveAdmission(ctx: AgencyContext, a: Admission): Promise<void> {
  await ctx.query(
    `INSERT INTO ${ctx.schema}.admissions (admission_number, subject_kvk, trade_name, status, valid_from,
       provisional_until, security_deposit_cents, established_abroad, country_of_establishment, inspection_report,
       revoked_from, revocation_reference)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (admission_number) DO UPDATE SET status = EXCLUDED.status,
       provisional_until = EXCLUDED.provisional_until, security_deposit_cents = EXCLUDED.security_deposit_cents,
       inspection_report = EXCLUDED.inspection_report, revoked_from = EXCLUDED.revoked_from,
       revocation_reference = EXCLUDED.revocation_reference, updated_at = now()`,
    [
      a.admissionNumber,
      a.subjectKvk,
      a.tradeName,
      a.status,
      a.validFrom,
      a.provisionalUntil,
      a.securityDepositCents,
      a.establishedAbroad,
      a.countryOfEstablishment,
      a.inspectionReport === null ? null : JSON.stringify(a.inspectionReport),
      a.revokedFrom,
      a.revocationReference,
    ],
  );
}

async function saveGrounds(ctx: AgencyContext, grounds: readonly Ground[]): Promise<void> {
  for (const g of grounds) {
    await ctx.query(
      `INSERT INTO ${ctx.schema}.grounds (admission_number, reference, subject_kvk, kind, observed_on, remedy_until,
         resolved_on, summary)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [
        g.admissionNumber,
        g.reference,
        g.subjectKvk,
        g.kind,
        g.observedOn,
        g.remedyUntil,
        g.resolvedOn,
        g.summary,
      ],
    );
  }
}

async function publishAll(ctx: AgencyContext, publications: readonly Publication[]): Promise<void> {
  for (const p of publications) {
    switch (p.topic) {
      case "wtta.admission-granted":
        await ctx.publish(p.topic, p.value);
        break;
      case "wtta.register-updated":
        await ctx.publish(p.topic, p.value);
        break;
      case "wtta.admission-revoked":
        await ctx.publish(p.topic, p.value);
        break;
      case "wtta.admission-refused":
        await ctx.publish(p.topic, p.value);
        break;
    }
  }
}

/** Applies an event's decision: grounds, remedies, the report, the admission, the outbox, and the event's record. */
async function apply(
  ctx: AgencyContext,
  d: EventDecision,
  event: { eventId: string; topic: string; producer: string; subjectKvk: string },
): Promise<void> {
  await saveGrounds(ctx, d.newGrounds);
  for (const r of d.resolved) {
    await ctx.query(
      `UPDATE ${ctx.schema}.grounds SET resolved_on = $3 WHERE admission_number = $1 AND reference = $2`,
      [d.admissionNumber, r.reference, r.resolvedOn],
    );
  }
  if (d.report) {
    const r = d.report;
    await ctx.query(
      `INSERT INTO ${ctx.schema}.reports (subject_kvk, report_id, inspection_body, inspection_date, outcome,
         major_findings, minor_findings)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [
        r.subjectKvk,
        r.reportId,
        r.inspectionBody,
        r.inspectionDate,
        r.outcome,
        r.majorFindings,
        r.minorFindings,
      ],
    );
  }
  if (d.admission) await saveAdmission(ctx, d.admission);
  await publishAll(ctx, d.publish);
  await ctx.query(
    `INSERT INTO ${ctx.schema}.events (event_id, topic, producer, subject_kvk, outcome, note, admission_number)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [event.eventId, event.topic, event.producer, event.subjectKvk, d.outcome, d.note, d.admissionNumber],
  );
  ctx.log.info(
    { topic: event.topic, eventId: event.eventId, outcome: d.outcome, admissionNumber: d.admissionNumber },
    `event handled: ${d.outcome}`,
  );
}

// ── desk input ──────────────────────────────────────────────────────────────────────────────────────────────────

const kvk = z.string().regex(/^\d{8}$/, "a KvK number: eight digits");
const isoDay = z.string().refine(isIsoDate, "a calendar day, YYYY-MM-DD");
const cents = z.number().int().nonnegative();
const reference = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9/_.-]+$/, "letters, digits and / _ . - only");
/** Public text in a decision: short, and never personal data of workers (the operator's duty; the field says so). */
const publicText = z.string().min(1).max(500);

const grantInput = z.object({
  subjectKvk: kvk,
  tradeName: z.string().min(1).max(200),
  admissionKind: z.enum(["PROVISIONAL", "DEFINITIVE"]).default("PROVISIONAL"),
  /** Default: today (the Dutch calendar day). */
  validFrom: isoDay.optional(),
  securityDepositCents: cents,
  establishedAbroad: z.boolean().default(false),
  countryOfEstablishment: z.string().length(2).default("NL"),
  /** Default: the next number of the year of validFrom. */
  admissionNumber: reference.optional(),
});

const topUpInput = z.object({ subjectKvk: kvk, amountCents: z.number().int().positive() });

const refusalReason = z.enum([
  "NORMENKADER",
  "NEGATIVE_INSPECTION",
  "NO_RECENT_INSPECTION",
  "BIBOB",
  "TAX_ARREARS",
  "SECURITY_DEPOSIT",
  "OTHER",
]);

const refuseInput = z.object({
  subjectKvk: kvk,
  tradeName: z.string().min(1).max(200),
  applicationReference: reference,
  applicationKind: z.enum(["PROVISIONAL", "DEFINITIVE"]),
  reasons: z.array(refusalReason).min(1),
  explanation: publicText.optional(),
});

const revokeInput = z.object({
  subjectKvk: kvk,
  reason: z.enum(["BIBOB", "AT_OWN_REQUEST", "OTHER"]),
  reference,
  /** One public line for the decision, e.g. "Bibob advice: serious risk"; never personal data. */
  summary: publicText,
});

// ── the agency ──────────────────────────────────────────────────────────────────────────────────────────────────

export const agency = defineAgency({
  service: "szw-toelating",
  party: "szw.toelating",
  transport: "kafka",
  migrations,
  subscriptions: {
    "inspectie.report-filed": async (ctx, d) => {
      const input = parseReport(d.value);
      if (typeof input === "string") throw new Poison(`inspectie.report-filed: ${input}`);
      const kvk = input.subjectKvk;
      const decision = onReportFiled(
        input,
        d.producer,
        {
          admissions: await admissionsOf(ctx, kvk),
          grounds: await groundsOf(ctx, kvk),
          reports: await reportsOf(ctx, kvk),
        },
        ctx.now(),
      );
      await apply(ctx, decision, {
        eventId: d.eventId,
        topic: d.topic,
        producer: d.producer,
        subjectKvk: kvk,
      });
    },
    "fiscaal.arrears-signalled": async (ctx, d) => {
      const input = parseArrears(d.value, ctx.now());
      if (typeof input === "string") throw new Poison(`fiscaal.arrears-signalled: ${input}`);
      const kvk = input.subjectKvk;
      const decision = onArrearsSignalled(
        input,
        { admissions: await admissionsOf(ctx, kvk), grounds: await groundsOf(ctx, kvk) },
        ctx.now(),
      );
      await apply(ctx, decision, {
        eventId: d.eventId,
        topic: d.topic,
        producer: d.producer,
        subjectKvk: kvk,
      });
    },
    "huisvesting.violation-found": async (ctx, d) => {
      const input = parseHousing(d.value);
      if (typeof input === "string") throw new Poison(`huisvesting.violation-found: ${input}`);
      const kvk = input.subjectKvk;
      const decision = onHousingViolation(
        input,
        { admissions: await admissionsOf(ctx, kvk), grounds: await groundsOf(ctx, kvk) },
        ctx.now(),
      );
      await apply(ctx, decision, {
        eventId: d.eventId,
        topic: d.topic,
        producer: d.producer,
        subjectKvk: kvk,
      });
    },
  },
  desk: {
    "grant-admission": deskAction({
      summary:
        "Grants an admission (ch. 2.1): provisional with € 50,000 for six months, or definitive with € 100,000 and a recent compliant report; publishes wtta.admission-granted and wtta.register-updated.",
      input: grantInput,
      run: async (ctx, input) => {
        const now = ctx.now();
        const admissions = await admissionsOf(ctx, input.subjectKvk);
        if (input.admissionNumber) {
          const taken = await ctx.query<AdmissionRow>(
            `SELECT * FROM ${ctx.schema}.admissions WHERE admission_number = $1`,
            [input.admissionNumber],
          );
          admissions.push(...taken.map(admissionOf).filter((a) => a.subjectKvk !== input.subjectKvk));
        }
        const [seq] = await ctx.query<{ n: string }>(`SELECT nextval('${ctx.schema}.admission_seq') AS n`);
        const decision = grantAdmission(
          { ...input, validFrom: input.validFrom ?? dutchDay(now) },
          { admissions, reports: await reportsOf(ctx, input.subjectKvk), nextSequence: Number(seq?.n ?? 1) },
          now,
        );
        await saveAdmission(ctx, decision.admission);
        await publishAll(ctx, decision.publish);
        const a = decision.admission;
        return {
          admissionNumber: a.admissionNumber,
          status: a.status,
          validFrom: a.validFrom,
          provisionalUntil: a.provisionalUntil,
          securityDepositCents: a.securityDepositCents,
        };
      },
    }),
    "top-up-deposit": deskAction({
      summary:
        "Adds to the security deposit of the admission in force (ch. 2.1: topped up to € 100,000 for the definitive admission).",
      input: topUpInput,
      run: async (ctx, input) => {
        const r = topUpDeposit(input, await admissionsOf(ctx, input.subjectKvk));
        await saveAdmission(ctx, r.admission);
        return {
          admissionNumber: r.admission.admissionNumber,
          securityDepositCents: r.admission.securityDepositCents,
          definitiveDepositReached: r.definitiveDepositReached,
        };
      },
    }),
    "refuse-application": deskAction({
      summary:
        "Refuses an application for admission on a weigeringsgrond (ch. 2.1: Bibob, a negative or missing report, no deposit); publishes wtta.admission-refused.",
      input: refuseInput,
      run: async (ctx, input) => {
        const refusals = await ctx.query<RefusalRecord & Record<string, unknown>>(
          `SELECT application_reference AS "applicationReference" FROM ${ctx.schema}.refusals
            WHERE application_reference = $1`,
          [input.applicationReference],
        );
        const r = refuseApplication(
          input,
          { admissions: await admissionsOf(ctx, input.subjectKvk), refusals },
          ctx.now(),
        );
        await ctx.query(
          `INSERT INTO ${ctx.schema}.refusals (application_reference, subject_kvk, application_kind, reasons,
             decision_reference, decided_on) VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            r.refusal.applicationReference,
            r.refusal.subjectKvk,
            r.refusal.applicationKind,
            JSON.stringify(r.refusal.reasons),
            r.refusal.decisionReference,
            r.refusal.decidedOn,
          ],
        );
        await publishAll(ctx, r.publish);
        return { decisionReference: r.refusal.decisionReference, reasons: r.refusal.reasons };
      },
    }),
    "revoke-admission": deskAction({
      summary:
        "Revokes an admission on the authority's own ground (ch. 2.1: Bibob, at the uitlener's request, other), with every established ground as a reason; publishes wtta.admission-revoked and wtta.register-updated NOT_ADMITTED.",
      input: revokeInput,
      run: async (ctx, input) => {
        const kvk = input.subjectKvk;
        const d = revokeAtDesk(
          input,
          { admissions: await admissionsOf(ctx, kvk), grounds: await groundsOf(ctx, kvk) },
          ctx.now(),
        );
        await saveGrounds(ctx, d.newGrounds);
        if (d.admission) await saveAdmission(ctx, d.admission);
        await publishAll(ctx, d.publish);
        const revoked = d.publish.find((p) => p.topic === "wtta.admission-revoked");
        return { admissionNumber: d.admissionNumber, outcome: d.outcome, revocation: revoked?.value ?? null };
      },
    }),
  },
  timers: [
    {
      // The six-month review and expired remedy periods (ch. 2.1). Days change slowly: once a minute is plenty.
      name: "review",
      everyMs: 60_000,
      run: async (ctx) => {
        const now = ctx.now();
        const today = dutchDay(now);
        const due = await ctx.query<{ subject_kvk: string }>(
          `SELECT DISTINCT a.subject_kvk FROM ${ctx.schema}.admissions a
            WHERE a.status <> 'REVOKED'
              AND ((a.status = 'PROVISIONAL' AND a.provisional_until < $1)
                OR EXISTS (SELECT 1 FROM ${ctx.schema}.grounds g
                            WHERE g.admission_number = a.admission_number AND g.resolved_on IS NULL
                              AND g.remedy_until < $1))`,
          [today],
        );
        for (const { subject_kvk: kvk } of due) {
          const current = (await admissionsOf(ctx, kvk)).find((a) => a.status !== "REVOKED");
          if (!current) continue;
          const d = reviewAdmission(
            current,
            { grounds: await groundsOf(ctx, kvk), reports: await reportsOf(ctx, kvk) },
            now,
          );
          if (!d) continue;
          await saveGrounds(ctx, d.newGrounds);
          await saveAdmission(ctx, d.admission);
          await publishAll(ctx, d.publish);
          ctx.log.info({ admissionNumber: d.admissionNumber, outcome: d.outcome }, `review: ${d.outcome}`);
        }
      },
    },
  ],
  state: async (ctx) => ({
    admissions: await ctx.query(
      `SELECT admission_number AS "admissionNumber", subject_kvk AS "subjectKvk", trade_name AS "tradeName", status,
              valid_from AS "validFrom", provisional_until AS "provisionalUntil",
              security_deposit_cents::float8 AS "securityDepositCents", inspection_report AS "inspectionReport",
              revoked_from AS "revokedFrom", revocation_reference AS "revocationReference"
         FROM ${ctx.schema}.admissions ORDER BY admission_number`,
    ),
    grounds: await ctx.query(
      `SELECT admission_number AS "admissionNumber", subject_kvk AS "subjectKvk", kind, reference,
              observed_on AS "observedOn", remedy_until AS "remedyUntil", resolved_on AS "resolvedOn", summary
         FROM ${ctx.schema}.grounds ORDER BY recorded_at, reference`,
    ),
    reports: await ctx.query(
      `SELECT report_id AS "reportId", subject_kvk AS "subjectKvk", inspection_body AS "inspectionBody",
              inspection_date AS "inspectionDate", outcome, major_findings AS "majorFindings",
              minor_findings AS "minorFindings"
         FROM ${ctx.schema}.reports ORDER BY received_at, report_id`,
    ),
    refusals: await ctx.query(
      `SELECT application_reference AS "applicationReference", subject_kvk AS "subjectKvk",
              application_kind AS "applicationKind", reasons, decision_reference AS "decisionReference",
              decided_on AS "decidedOn"
         FROM ${ctx.schema}.refusals ORDER BY decided_on, application_reference`,
    ),
    events: await ctx.query(
      `SELECT event_id AS "eventId", topic, producer, subject_kvk AS "subjectKvk", outcome, note,
              admission_number AS "admissionNumber", received_at AS "receivedAt"
         FROM ${ctx.schema}.events ORDER BY received_at DESC LIMIT 500`,
    ),
  }),
});
