import { defineAgency, deskAction, Poison, type AgencyContext } from "@grondslag/agency";
import { z } from "zod";
import {
  dutchDay,
  fileReport,
  isInspectionBody,
  isIsoDate,
  onAdmissionGranted,
  overdueInspections,
  parseAdmission,
  recordHousingInspection,
  type FiledReport,
  type HousingInspection,
  type InspectionBody,
  type Publication,
  type ScheduledInspection,
  type Uitlener,
} from "./rules";

/**
 * A private inspection body (`inspectie.sna`, `inspectie.snf` or `inspectie.akf` by AGENCY_PARTY, HTTP): the wiring
 * of src/rules.ts. See README.md.
 */

const migrations = (s: string) => [
  `CREATE TABLE IF NOT EXISTS ${s}.uitleners (
     admission_number text PRIMARY KEY,
     subject_kvk text NOT NULL,
     trade_name text NOT NULL,
     admission_kind text NOT NULL,
     valid_from text NOT NULL,
     provisional_until text,
     relies_on_report text,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.inspections (
     inspection_ref text PRIMARY KEY,
     subject_kvk text NOT NULL,
     admission_number text NOT NULL,
     due_by text NOT NULL,
     status text NOT NULL CHECK (status IN ('SCHEDULED', 'DONE')),
     report_id text,
     scheduled_at timestamptz NOT NULL DEFAULT now(),
     closed_at timestamptz
   )`,
  `CREATE TABLE IF NOT EXISTS ${s}.reports (
     report_id text PRIMARY KEY,
     subject_kvk text NOT NULL,
     inspection_date text NOT NULL,
     outcome text NOT NULL,
     findings int NOT NULL,
     filed_at timestamptz NOT NULL DEFAULT now()
   )`,
  // The body's record of a housing inspection without the address: that travels only in the published event.
  `CREATE TABLE IF NOT EXISTS ${s}.housing_inspections (
     case_reference text PRIMARY KEY,
     subject_kvk text NOT NULL,
     inspection_date text NOT NULL,
     municipality_code text NOT NULL,
     violations jsonb NOT NULL,
     recorded_at timestamptz NOT NULL DEFAULT now()
   )`,
];

/** The body this instance is; a party that is not one of the three is a deployment error, said plainly. */
function bodyOf(ctx: AgencyContext): InspectionBody {
  if (!isInspectionBody(ctx.party))
    throw new Error(
      `inspectie serves inspectie.sna, inspectie.snf and inspectie.akf; ${ctx.party} is none of them: set AGENCY_PARTY`,
    );
  return ctx.party;
}

const inspectionCols = `inspection_ref AS "inspectionRef", subject_kvk AS "subjectKvk",
  admission_number AS "admissionNumber", due_by AS "dueBy", status, report_id AS "reportId"`;

async function saveInspection(ctx: AgencyContext, i: ScheduledInspection): Promise<void> {
  await ctx.query(
    `INSERT INTO ${ctx.schema}.inspections (inspection_ref, subject_kvk, admission_number, due_by, status, report_id)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (inspection_ref) DO UPDATE SET status = EXCLUDED.status, report_id = EXCLUDED.report_id,
       closed_at = CASE WHEN EXCLUDED.status = 'DONE' THEN now() ELSE NULL END`,
    [i.inspectionRef, i.subjectKvk, i.admissionNumber, i.dueBy, i.status, i.reportId],
  );
}

async function publishAll(ctx: AgencyContext, publications: readonly Publication[]): Promise<void> {
  for (const p of publications) {
    switch (p.topic) {
      case "inspectie.report-filed":
        await ctx.publish(p.topic, p.value);
        break;
      case "huisvesting.violation-found":
        await ctx.publish(p.topic, p.value);
        break;
    }
  }
}

// ── desk input ──────────────────────────────────────────────────────────────────────────────────────────────────

const kvk = z.string().regex(/^\d{8}$/, "a KvK number: eight digits");
const isoDay = z.string().refine(isIsoDate, "a calendar day, YYYY-MM-DD");
const reference = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9/_.-]+$/, "letters, digits and / _ . - only");

const fileReportInput = z.object({
  subjectKvk: kvk,
  reportId: reference,
  inspectionDate: isoDay,
  /** SNA announces its inspections (ch. 6.1); false for an unannounced one. */
  announced: z.boolean().default(true),
  filesSampled: z.number().int().nonnegative(),
  findings: z
    .array(
      z.object({
        normArea: z.enum(["WAGES", "HOUSING", "PAYROLL_TAX", "VAT", "IDENTITY", "ADMINISTRATION", "OTHER"]),
        severity: z.enum(["MINOR", "MAJOR"]),
        /** About the company, never naming workers. */
        description: z.string().min(1).max(500),
      }),
    )
    .default([]),
  notAssessable: z.boolean().default(false),
});

const housingInput = z.object({
  subjectKvk: kvk,
  subjectRole: z.enum(["LANDLORD", "LETTING_AGENT", "EMPLOYER"]),
  caseReference: reference,
  inspectionDate: isoDay,
  announced: z.boolean(),
  dwelling: z.object({
    street: z.string().min(1).max(200),
    houseNumber: z.string().min(1).max(20),
    postalCode: z.string().regex(/^\d{4}\s?[A-Z]{2}$/, "a Dutch postal code, e.g. 3111AB"),
    municipalityCode: z.string().regex(/^GM\d{4}$/, "GM and four digits"),
    occupants: z.number().int().nonnegative(),
    floorAreaM2: z.number().positive().nullable().optional(),
    qualityMark: z.enum(["SNF", "AKF", "NONE"]).optional(),
  }),
  violations: z
    .array(
      z.enum([
        "OVERCROWDING",
        "FIRE_SAFETY",
        "RENT_TIED_TO_EMPLOYMENT",
        "NO_WRITTEN_TENANCY",
        "INFORMATION_NOT_UNDERSTANDABLE",
        "UNREASONABLE_SERVICE_COSTS",
        "EXCESSIVE_DEPOSIT",
        "INTIMIDATION",
        "DISCRIMINATION",
        "NO_RENTAL_PERMIT",
        "PERMIT_CONDITIONS",
        "OTHER",
      ]),
    )
    .default([]),
  /** Must not name occupants. */
  notes: z.string().max(1000).nullable().optional(),
});

// ── the agency ──────────────────────────────────────────────────────────────────────────────────────────────────

export const agency = defineAgency({
  service: "inspectie",
  transport: "http",
  migrations,
  subscriptions: {
    "wtta.admission-granted": async (ctx, d) => {
      const body = bodyOf(ctx);
      const u = parseAdmission(d.value);
      if (typeof u === "string") throw new Poison(`wtta.admission-granted: ${u}`);
      const uitleners = await ctx.query<Uitlener & Record<string, unknown>>(
        `SELECT admission_number AS "admissionNumber", subject_kvk AS "subjectKvk", trade_name AS "tradeName",
                admission_kind AS "admissionKind", valid_from AS "validFrom", provisional_until AS "provisionalUntil",
                relies_on_report AS "reliesOnReport"
           FROM ${ctx.schema}.uitleners WHERE admission_number = $1 FOR UPDATE`,
        [u.admissionNumber],
      );
      const inspections = await ctx.query<ScheduledInspection & Record<string, unknown>>(
        `SELECT ${inspectionCols} FROM ${ctx.schema}.inspections WHERE admission_number = $1`,
        [u.admissionNumber],
      );
      const decision = onAdmissionGranted(u, body, { uitleners, inspections });
      if (decision.outcome !== "duplicate") {
        await ctx.query(
          `INSERT INTO ${ctx.schema}.uitleners (admission_number, subject_kvk, trade_name, admission_kind, valid_from,
             provisional_until, relies_on_report) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (admission_number) DO UPDATE SET admission_kind = EXCLUDED.admission_kind,
             valid_from = EXCLUDED.valid_from, provisional_until = EXCLUDED.provisional_until,
             relies_on_report = EXCLUDED.relies_on_report, updated_at = now()`,
          [
            u.admissionNumber,
            u.subjectKvk,
            u.tradeName,
            u.admissionKind,
            u.validFrom,
            u.provisionalUntil,
            u.reliesOnReport,
          ],
        );
      }
      if (decision.schedule) await saveInspection(ctx, decision.schedule);
      if (decision.closes) await saveInspection(ctx, decision.closes);
      ctx.log.info(
        { eventId: d.eventId, admissionNumber: u.admissionNumber, outcome: decision.outcome },
        `admission ${decision.outcome}`,
      );
    },
  },
  desk: {
    "file-report": deskAction({
      summary:
        "Files a report against the normenkader (ch. 2.1): the outcome follows from the findings; publishes inspectie.report-filed and closes the uitlener's scheduled inspection.",
      input: fileReportInput,
      run: async (ctx, input) => {
        bodyOf(ctx);
        const reports = await ctx.query<FiledReport & Record<string, unknown>>(
          `SELECT report_id AS "reportId", subject_kvk AS "subjectKvk", inspection_date AS "inspectionDate", outcome,
                  findings FROM ${ctx.schema}.reports WHERE report_id = $1`,
          [input.reportId],
        );
        const inspections = await ctx.query<ScheduledInspection & Record<string, unknown>>(
          `SELECT ${inspectionCols} FROM ${ctx.schema}.inspections
            WHERE subject_kvk = $1 AND status = 'SCHEDULED' FOR UPDATE`,
          [input.subjectKvk],
        );
        const d = fileReport(input, { reports, inspections }, ctx.now());
        await ctx.query(
          `INSERT INTO ${ctx.schema}.reports (report_id, subject_kvk, inspection_date, outcome, findings)
           VALUES ($1, $2, $3, $4, $5)`,
          [
            d.report.reportId,
            d.report.subjectKvk,
            d.report.inspectionDate,
            d.report.outcome,
            d.report.findings,
          ],
        );
        if (d.closes) await saveInspection(ctx, d.closes);
        await publishAll(ctx, d.publish);
        return {
          reportId: d.report.reportId,
          outcome: d.report.outcome,
          closed: d.closes?.inspectionRef ?? null,
        };
      },
    }),
    "record-housing-inspection": deskAction({
      summary:
        "Records a housing inspection (SNF, AKF; ch. 4, 6.1); publishes huisvesting.violation-found when violations were found.",
      input: housingInput,
      run: async (ctx, input) => {
        const body = bodyOf(ctx);
        const housing = await ctx.query<HousingInspection & Record<string, unknown>>(
          `SELECT case_reference AS "caseReference" FROM ${ctx.schema}.housing_inspections WHERE case_reference = $1`,
          [input.caseReference],
        );
        const d = recordHousingInspection(input, body, { housing }, ctx.now());
        const h = d.inspection;
        await ctx.query(
          `INSERT INTO ${ctx.schema}.housing_inspections (case_reference, subject_kvk, inspection_date,
             municipality_code, violations) VALUES ($1, $2, $3, $4, $5)`,
          [h.caseReference, h.subjectKvk, h.inspectionDate, h.municipalityCode, JSON.stringify(h.violations)],
        );
        await publishAll(ctx, d.publish);
        return { caseReference: h.caseReference, violations: h.violations, published: d.publish.length > 0 };
      },
    }),
  },
  state: async (ctx) => {
    const inspections = await ctx.query<ScheduledInspection & Record<string, unknown>>(
      `SELECT ${inspectionCols} FROM ${ctx.schema}.inspections ORDER BY due_by, inspection_ref`,
    );
    const overdue = new Set(overdueInspections(inspections, dutchDay(ctx.now())).map((i) => i.inspectionRef));
    return {
      uitleners: await ctx.query(
        `SELECT admission_number AS "admissionNumber", subject_kvk AS "subjectKvk", trade_name AS "tradeName",
                admission_kind AS "admissionKind", valid_from AS "validFrom", provisional_until AS "provisionalUntil",
                relies_on_report AS "reliesOnReport"
           FROM ${ctx.schema}.uitleners ORDER BY admission_number`,
      ),
      inspections: inspections.map((i) => ({ ...i, overdue: overdue.has(i.inspectionRef) })),
      reports: await ctx.query(
        `SELECT report_id AS "reportId", subject_kvk AS "subjectKvk", inspection_date AS "inspectionDate", outcome,
                findings FROM ${ctx.schema}.reports ORDER BY filed_at, report_id`,
      ),
      housingInspections: await ctx.query(
        `SELECT case_reference AS "caseReference", subject_kvk AS "subjectKvk", inspection_date AS "inspectionDate",
                municipality_code AS "municipalityCode", violations
           FROM ${ctx.schema}.housing_inspections ORDER BY recorded_at, case_reference`,
      ),
    };
  },
});
