/**
 * The uitlener service's wiring on the agency runtime: one codebase, two roles. The runtime subscribes to every topic
 * in a spec's `subscriptions`, and an uitlener is no consumer of `wtta.register-updated` nor an inlener of
 * `arbo.accident-notified`, so there is one spec per role (`uitlenerAgency`, `inlenerAgency`) and `agencyFor` picks
 * the one of the catalogue party's kind. Handlers load state, call the pure rule (src/rules.ts) and apply its
 * decision in the same transaction (state rows and outbox rows commit together).
 */
import {
  defineAgency,
  DeskRefusal,
  deskAction,
  Poison,
  type Agency,
  type AgencyContext,
  type AgencySpec,
} from "@grondslag/agency";
import type { Catalogue } from "@grondslag/contracts";
import {
  recordAdmissionInput,
  registerInlenerInput,
  registerPlacementInput,
  registerWorkerInput,
  reportAccidentInput,
  verifyReturnInput,
} from "./inputs";
import {
  admissionOn,
  isPoisoned,
  isRefusal,
  recordAdmissionDecision,
  recordRegisterEntry,
  registerInlener,
  registerPlacement,
  registerWorker,
  reportAccident,
  reportFromNotice,
  reportNotice,
  selfFromParty,
  verifyReturn,
  type AdmissionDecision,
  type InlenerRecord,
  type InlenerReportRecord,
  type NoticeDecision,
  type NoticeRecord,
  type Placement,
  type RegisterEntry,
  type Refusal,
  type Role,
  type Self,
  type VergewisTask,
  type WorkerRecord,
  type Workplace,
} from "./rules";

export const SERVICE = "uitlener";

/** Who this process is, from the catalogue (role = the party's kind, KvK = the party's kvk). */
export function selfOf(ctx: Pick<AgencyContext, "party" | "catalogue">): Self {
  return selfFromParty(ctx.catalogue.parties[ctx.party], ctx.party);
}

/** A refused desk action: 400 with the rule and the fix (never personal data: the rules see to that). */
function refused(r: Refusal): never {
  throw new DeskRefusal(`${r.rule}: ${r.message}`, r.fix);
}

// ─── state: uitlener ─────────────────────────────────────────────────────────────────────────────────────────────

const uitlenerMigrations = (s: string) => [
  `CREATE TABLE IF NOT EXISTS ${s}.workers (
     bsn text PRIMARY KEY, name text NOT NULL, date_of_birth text NOT NULL, nationality text NOT NULL,
     occupation text NOT NULL, inlener_kvk text, updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS ${s}.inleners (
     kvk text PRIMARY KEY, name text NOT NULL, workplace jsonb, updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS ${s}.admission_decisions (
     decision_reference text PRIMARY KEY, status text NOT NULL, admission_number text, effective_date text NOT NULL,
     recorded_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS ${s}.notices (
     inlener_kvk text NOT NULL, notification_reference text NOT NULL, inlener_name text NOT NULL,
     accident_report_reference text, accident_time text NOT NULL, severity text NOT NULL,
     municipality_code text NOT NULL, worker_bsn text NOT NULL, notified_at text NOT NULL, status text NOT NULL,
     report_reference text, event_id text NOT NULL, PRIMARY KEY (inlener_kvk, notification_reference))`,
  `CREATE INDEX IF NOT EXISTS notices_waiting ON ${s}.notices (worker_bsn) WHERE status = 'WORKER_UNKNOWN'`,
  `CREATE TABLE IF NOT EXISTS ${s}.tasks (
     report_reference text PRIMARY KEY, notification_reference text NOT NULL, inlener_kvk text NOT NULL,
     worker_bsn text NOT NULL, severity text NOT NULL, accident_time text NOT NULL, opened_at text NOT NULL,
     status text NOT NULL, verified_on text, work_resumed boolean)`,
];

interface NoticeRow {
  inlener_kvk: string;
  notification_reference: string;
  inlener_name: string;
  accident_report_reference: string | null;
  accident_time: string;
  severity: NoticeRecord["severity"];
  municipality_code: string;
  worker_bsn: string;
  notified_at: string;
  status: NoticeRecord["status"];
  report_reference: string | null;
}

const noticeOf = (r: NoticeRow): NoticeRecord => ({
  inlenerKvk: r.inlener_kvk,
  notificationReference: r.notification_reference,
  inlenerName: r.inlener_name,
  accidentReportReference: r.accident_report_reference,
  accidentTime: r.accident_time,
  severity: r.severity,
  municipalityCode: r.municipality_code,
  workerBsn: r.worker_bsn,
  notifiedAt: r.notified_at,
  status: r.status,
  reportReference: r.report_reference,
});

async function loadWorker(ctx: AgencyContext, bsn: string): Promise<WorkerRecord | undefined> {
  const [r] = await ctx.query<{
    bsn: string;
    name: string;
    date_of_birth: string;
    nationality: string;
    occupation: string;
    inlener_kvk: string | null;
  }>(
    `SELECT bsn, name, date_of_birth, nationality, occupation, inlener_kvk FROM ${ctx.schema}.workers WHERE bsn = $1`,
    [bsn],
  );
  return r
    ? {
        bsn: r.bsn,
        name: r.name,
        dateOfBirth: r.date_of_birth,
        nationality: r.nationality,
        occupation: r.occupation,
        inlenerKvk: r.inlener_kvk,
      }
    : undefined;
}

async function loadInlener(ctx: AgencyContext, kvk: string): Promise<InlenerRecord | undefined> {
  const [r] = await ctx.query<{ kvk: string; name: string; workplace: Workplace | null }>(
    `SELECT kvk, name, workplace FROM ${ctx.schema}.inleners WHERE kvk = $1`,
    [kvk],
  );
  return r ? { kvk: r.kvk, name: r.name, workplace: r.workplace } : undefined;
}

async function loadAdmissions(ctx: AgencyContext): Promise<AdmissionDecision[]> {
  return ctx.query<AdmissionDecision>(
    `SELECT status, admission_number AS "admissionNumber", effective_date AS "effectiveDate",
            decision_reference AS "decisionReference"
       FROM ${ctx.schema}.admission_decisions ORDER BY effective_date, recorded_at`,
  );
}

async function loadTask(ctx: AgencyContext, reportReference: string): Promise<VergewisTask | undefined> {
  const [r] = await ctx.query<VergewisTask>(
    `SELECT report_reference AS "reportReference", notification_reference AS "notificationReference",
            inlener_kvk AS "inlenerKvk", worker_bsn AS "workerBsn", severity, accident_time AS "accidentTime",
            opened_at AS "openedAt", status, verified_on AS "verifiedOn", work_resumed AS "workResumed"
       FROM ${ctx.schema}.tasks WHERE report_reference = $1 FOR UPDATE`,
    [reportReference],
  );
  return r;
}

/** Applies a notice decision: the notice row, and for a report the outbox row and the task. */
async function applyNotice(ctx: AgencyContext, d: NoticeDecision, eventId: string): Promise<string> {
  if (isPoisoned(d)) throw new Poison(d.reason);
  if (d.kind === "duplicate") return "duplicate";
  const n = d.notice;
  await ctx.query(
    `INSERT INTO ${ctx.schema}.notices (inlener_kvk, notification_reference, inlener_name, accident_report_reference,
       accident_time, severity, municipality_code, worker_bsn, notified_at, status, report_reference, event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (inlener_kvk, notification_reference)
       DO UPDATE SET status = EXCLUDED.status, report_reference = EXCLUDED.report_reference`,
    [
      n.inlenerKvk,
      n.notificationReference,
      n.inlenerName,
      n.accidentReportReference,
      n.accidentTime,
      n.severity,
      n.municipalityCode,
      n.workerBsn,
      n.notifiedAt,
      n.status,
      n.reportReference,
      eventId,
    ],
  );
  if (d.kind === "worker-unknown") return "worker-unknown";
  const t = d.task;
  await ctx.query(
    `INSERT INTO ${ctx.schema}.tasks (report_reference, notification_reference, inlener_kvk, worker_bsn, severity,
       accident_time, opened_at, status, verified_on, work_resumed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (report_reference) DO NOTHING`,
    [
      t.reportReference,
      t.notificationReference,
      t.inlenerKvk,
      t.workerBsn,
      t.severity,
      t.accidentTime,
      t.openedAt,
      t.status,
      t.verifiedOn,
      t.workResumed,
    ],
  );
  await ctx.publish("arbo.accident-reported", d.report);
  return "reported";
}

const uitlenerSpec: AgencySpec = {
  service: SERVICE,
  transport: "http",
  migrations: uitlenerMigrations,
  subscriptions: {
    "arbo.accident-notified": async (ctx, d) => {
      const self = selfOf(ctx);
      const v = d.value;
      const [existing] =
        v.inlener?.kvk && v.notificationReference
          ? await ctx.query<NoticeRow>(
              `SELECT * FROM ${ctx.schema}.notices WHERE inlener_kvk = $1 AND notification_reference = $2`,
              [v.inlener.kvk, v.notificationReference],
            )
          : [];
      const worker = v.worker?.bsn ? await loadWorker(ctx, v.worker.bsn) : undefined;
      const inlener = v.inlener?.kvk ? await loadInlener(ctx, v.inlener.kvk) : undefined;
      const decision = reportFromNotice(
        self,
        v,
        { existing: existing ? noticeOf(existing) : undefined, worker, inlener },
        ctx.now(),
      );
      const outcome = await applyNotice(ctx, decision, d.eventId);
      ctx.log.info({ eventId: d.eventId, outcome }, "accident notice handled");
    },
  },
  desk: {
    "register-worker": deskAction({
      summary:
        "Records one of the uitlener's own workers (BSN, name, date of birth, nationality, occupation, the inlener it is placed at); reports any notice that waited for this worker.",
      input: registerWorkerInput,
      run: async (ctx, input) => {
        const self = selfOf(ctx);
        const d = registerWorker(self, input, await loadAdmissions(ctx), ctx.now());
        if (isRefusal(d)) refused(d);
        const w = d.worker;
        await ctx.query(
          `INSERT INTO ${ctx.schema}.workers (bsn, name, date_of_birth, nationality, occupation, inlener_kvk)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (bsn) DO UPDATE SET name = EXCLUDED.name, date_of_birth = EXCLUDED.date_of_birth,
             nationality = EXCLUDED.nationality, occupation = EXCLUDED.occupation,
             inlener_kvk = EXCLUDED.inlener_kvk, updated_at = now()`,
          [w.bsn, w.name, w.dateOfBirth, w.nationality, w.occupation, w.inlenerKvk],
        );
        const waiting = await ctx.query<NoticeRow & { event_id: string }>(
          `SELECT * FROM ${ctx.schema}.notices WHERE worker_bsn = $1 AND status = 'WORKER_UNKNOWN'
            ORDER BY notified_at FOR UPDATE`,
          [w.bsn],
        );
        const reported: string[] = [];
        for (const row of waiting) {
          const notice = noticeOf(row);
          const r = reportNotice(self, notice, w, await loadInlener(ctx, notice.inlenerKvk), ctx.now());
          if (
            (await applyNotice(ctx, r, row.event_id)) === "reported" &&
            !isPoisoned(r) &&
            r.kind === "reported"
          ) {
            reported.push(r.report.reportReference);
          }
        }
        return { recorded: true, placedAt: w.inlenerKvk, reportedWaitingNotices: reported };
      },
    }),
    "register-inlener": deskAction({
      summary: "Records an inlener the uitlener lends to, with the workplace address its workers go to.",
      input: registerInlenerInput,
      run: async (ctx, input) => {
        const d = registerInlener(selfOf(ctx), input);
        if (isRefusal(d)) refused(d);
        await ctx.query(
          `INSERT INTO ${ctx.schema}.inleners (kvk, name, workplace) VALUES ($1, $2, $3)
           ON CONFLICT (kvk) DO UPDATE SET name = EXCLUDED.name, workplace = EXCLUDED.workplace, updated_at = now()`,
          [d.inlener.kvk, d.inlener.name, d.inlener.workplace ? JSON.stringify(d.inlener.workplace) : null],
        );
        return { recorded: d.inlener.kvk };
      },
    }),
    "record-admission": deskAction({
      summary:
        "Records the uitlener's own admission decision by the minister (no wtta.* topic reaches an uitlener): PROVISIONALLY_ADMITTED, ADMITTED, NOT_ADMITTED or REFUSED.",
      input: recordAdmissionInput,
      run: async (ctx, input) => {
        const decision: AdmissionDecision = {
          status: input.status,
          admissionNumber: input.admissionNumber ?? null,
          effectiveDate: input.effectiveDate,
          decisionReference: input.decisionReference,
        };
        const d = recordAdmissionDecision(selfOf(ctx), decision, await loadAdmissions(ctx));
        if (isRefusal(d)) refused(d);
        if (!d.duplicate) {
          await ctx.query(
            `INSERT INTO ${ctx.schema}.admission_decisions (decision_reference, status, admission_number, effective_date)
             VALUES ($1, $2, $3, $4)`,
            [decision.decisionReference, decision.status, decision.admissionNumber, decision.effectiveDate],
          );
        }
        return { recorded: decision.decisionReference, duplicate: d.duplicate };
      },
    }),
    "verify-return": deskAction({
      summary:
        "Verifies the inlener's measures after an accident (vergewisplicht): publishes arbo.return-verified and closes the task.",
      input: verifyReturnInput,
      run: async (ctx, input) => {
        const d = verifyReturn(selfOf(ctx), input, await loadTask(ctx, input.reportReference), ctx.now());
        if (isRefusal(d)) refused(d);
        await ctx.query(
          `UPDATE ${ctx.schema}.tasks SET status = $2, verified_on = $3, work_resumed = $4 WHERE report_reference = $1`,
          [d.task.reportReference, d.task.status, d.task.verifiedOn, d.task.workResumed],
        );
        const outboxId = await ctx.publish("arbo.return-verified", d.event);
        return { verified: d.task.reportReference, outboxId };
      },
    }),
  },
  state: async (ctx) => {
    const s = ctx.schema;
    const decisions = await loadAdmissions(ctx);
    return {
      role: "uitlener",
      admission: { current: admissionOn(decisions, ctx.now().toISOString().slice(0, 10)) ?? null, decisions },
      workers: await ctx.query(
        `SELECT bsn, name, date_of_birth AS "dateOfBirth", nationality, occupation, inlener_kvk AS "inlenerKvk"
           FROM ${s}.workers ORDER BY bsn`,
      ),
      inleners: await ctx.query(`SELECT kvk, name, workplace FROM ${s}.inleners ORDER BY kvk`),
      notices: (await ctx.query<NoticeRow>(`SELECT * FROM ${s}.notices ORDER BY notified_at`)).map(noticeOf),
      tasks: await ctx.query(
        `SELECT report_reference AS "reportReference", notification_reference AS "notificationReference",
                inlener_kvk AS "inlenerKvk", worker_bsn AS "workerBsn", severity, accident_time AS "accidentTime",
                opened_at AS "openedAt", status, verified_on AS "verifiedOn", work_resumed AS "workResumed"
           FROM ${s}.tasks ORDER BY opened_at`,
      ),
    };
  },
};

// ─── state: inlener ──────────────────────────────────────────────────────────────────────────────────────────────

const inlenerMigrations = (s: string) => [
  `CREATE TABLE IF NOT EXISTS ${s}.register (
     uitlener_kvk text PRIMARY KEY, trade_name text NOT NULL, admission_number text NOT NULL,
     register_status text NOT NULL, effective_date text NOT NULL, event_time text NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${s}.placements (
     worker_bsn text PRIMARY KEY, uitlener_kvk text NOT NULL, since text NOT NULL, status text NOT NULL,
     end_by text, end_reason text)`,
  `CREATE INDEX IF NOT EXISTS placements_uitlener ON ${s}.placements (uitlener_kvk)`,
  `CREATE TABLE IF NOT EXISTS ${s}.reports (
     report_reference text PRIMARY KEY, notification_reference text NOT NULL, uitlener_kvk text NOT NULL,
     worker_bsn text NOT NULL, accident_time text NOT NULL, severity text NOT NULL, reported_at text NOT NULL)`,
];

const PLACEMENT_COLUMNS = `uitlener_kvk AS "uitlenerKvk", worker_bsn AS "workerBsn", since, status, end_by AS "endBy",
  end_reason AS "endReason"`;
const REGISTER_COLUMNS = `uitlener_kvk AS "uitlenerKvk", trade_name AS "tradeName", admission_number AS "admissionNumber",
  register_status AS "registerStatus", effective_date AS "effectiveDate", event_time AS "eventTime"`;

async function loadEntry(ctx: AgencyContext, uitlenerKvk: string): Promise<RegisterEntry | undefined> {
  const [r] = await ctx.query<RegisterEntry>(
    `SELECT ${REGISTER_COLUMNS} FROM ${ctx.schema}.register WHERE uitlener_kvk = $1`,
    [uitlenerKvk],
  );
  return r;
}

async function loadPlacement(ctx: AgencyContext, workerBsn: string): Promise<Placement | undefined> {
  const [r] = await ctx.query<Placement>(
    `SELECT ${PLACEMENT_COLUMNS} FROM ${ctx.schema}.placements WHERE worker_bsn = $1 FOR UPDATE`,
    [workerBsn],
  );
  return r;
}

async function savePlacement(ctx: AgencyContext, p: Placement): Promise<void> {
  await ctx.query(
    `INSERT INTO ${ctx.schema}.placements (worker_bsn, uitlener_kvk, since, status, end_by, end_reason)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (worker_bsn) DO UPDATE SET uitlener_kvk = EXCLUDED.uitlener_kvk, since = EXCLUDED.since,
       status = EXCLUDED.status, end_by = EXCLUDED.end_by, end_reason = EXCLUDED.end_reason`,
    [p.workerBsn, p.uitlenerKvk, p.since, p.status, p.endBy, p.endReason],
  );
}

const inlenerSpec: AgencySpec = {
  service: SERVICE,
  transport: "http",
  migrations: inlenerMigrations,
  subscriptions: {
    "wtta.register-updated": async (ctx, d) => {
      const self = selfOf(ctx);
      const kvk = d.value.subjectKvk;
      const current = kvk ? await loadEntry(ctx, kvk) : undefined;
      const placements = kvk
        ? await ctx.query<Placement>(
            `SELECT ${PLACEMENT_COLUMNS} FROM ${ctx.schema}.placements WHERE uitlener_kvk = $1 FOR UPDATE`,
            [kvk],
          )
        : [];
      const decision = recordRegisterEntry(self, d.value, current, placements);
      if (isPoisoned(decision)) throw new Poison(decision.reason);
      if (decision.kind === "stale") {
        ctx.log.info({ eventId: d.eventId }, "register entry older than the one recorded: nothing changes");
        return;
      }
      const e = decision.entry;
      await ctx.query(
        `INSERT INTO ${ctx.schema}.register (uitlener_kvk, trade_name, admission_number, register_status, effective_date, event_time)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (uitlener_kvk) DO UPDATE SET trade_name = EXCLUDED.trade_name,
           admission_number = EXCLUDED.admission_number, register_status = EXCLUDED.register_status,
           effective_date = EXCLUDED.effective_date, event_time = EXCLUDED.event_time`,
        [e.uitlenerKvk, e.tradeName, e.admissionNumber, e.registerStatus, e.effectiveDate, e.eventTime],
      );
      for (const p of decision.placementsToEnd) await savePlacement(ctx, p);
      ctx.log.info(
        { eventId: d.eventId, status: e.registerStatus, placementsToEnd: decision.placementsToEnd.length },
        "register entry recorded",
      );
    },
  },
  desk: {
    "register-placement": deskAction({
      summary:
        "Records a worker lent to this inlener by an uitlener (refused from an uitlener the register shows NOT_ADMITTED).",
      input: registerPlacementInput,
      run: async (ctx, input) => {
        const d = registerPlacement(
          selfOf(ctx),
          input,
          await loadEntry(ctx, input.uitlenerKvk),
          await loadPlacement(ctx, input.workerBsn),
        );
        if (isRefusal(d)) refused(d);
        await savePlacement(ctx, d.placement);
        return { recorded: true, uitlenerKvk: d.placement.uitlenerKvk, warning: d.warning };
      },
    }),
    "report-accident": deskAction({
      summary:
        "Reports a lent worker's serious or fatal accident: the inlener's own Arbowet report (arbo.accident-reported) and the notice to the uitlener (arbo.accident-notified).",
      input: reportAccidentInput,
      run: async (ctx, input) => {
        const [existing] = await ctx.query<InlenerReportRecord>(
          `SELECT report_reference AS "reportReference", notification_reference AS "notificationReference",
                  uitlener_kvk AS "uitlenerKvk", worker_bsn AS "workerBsn", accident_time AS "accidentTime", severity,
                  reported_at AS "reportedAt"
             FROM ${ctx.schema}.reports WHERE report_reference = $1`,
          [input.reportReference],
        );
        const d = reportAccident(
          selfOf(ctx),
          input,
          { existing, placement: await loadPlacement(ctx, input.worker.bsn) },
          ctx.now(),
        );
        if (isRefusal(d)) refused(d);
        const r = d.record;
        await ctx.query(
          `INSERT INTO ${ctx.schema}.reports (report_reference, notification_reference, uitlener_kvk, worker_bsn,
             accident_time, severity, reported_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            r.reportReference,
            r.notificationReference,
            r.uitlenerKvk,
            r.workerBsn,
            r.accidentTime,
            r.severity,
            r.reportedAt,
          ],
        );
        if (d.newPlacement) await savePlacement(ctx, d.newPlacement);
        // Both under the inlener's producer entries in force: arbowet-art9 for its own report, the meld- en
        // vergewisplicht for the notice (the runtime takes them from the catalogue).
        const reportOutboxId = await ctx.publish("arbo.accident-reported", d.report);
        const noticeOutboxId = await ctx.publish("arbo.accident-notified", d.notice);
        return {
          reportReference: r.reportReference,
          notificationReference: r.notificationReference,
          reportOutboxId,
          noticeOutboxId,
        };
      },
    }),
  },
  state: async (ctx) => {
    const s = ctx.schema;
    return {
      role: "inlener",
      register: await ctx.query(`SELECT ${REGISTER_COLUMNS} FROM ${s}.register ORDER BY uitlener_kvk`),
      placements: await ctx.query(
        `SELECT ${PLACEMENT_COLUMNS} FROM ${s}.placements ORDER BY uitlener_kvk, worker_bsn`,
      ),
      reports: await ctx.query(
        `SELECT report_reference AS "reportReference", notification_reference AS "notificationReference",
                uitlener_kvk AS "uitlenerKvk", worker_bsn AS "workerBsn", accident_time AS "accidentTime", severity,
                reported_at AS "reportedAt"
           FROM ${s}.reports ORDER BY reported_at`,
      ),
    };
  },
};

/** The uitlener's agency (subscribes to arbo.accident-notified). */
export const uitlenerAgency: Agency = defineAgency(uitlenerSpec);
/** The inlener's agency (subscribes to wtta.register-updated). */
export const inlenerAgency: Agency = defineAgency(inlenerSpec);

/** The agency of a party's role, from the catalogue: throws (with the fix) for a party of another kind. */
export function agencyFor(catalogue: Catalogue, party: string): Agency {
  const role: Role = selfFromParty(catalogue.parties[party], party).role;
  return role === "uitlener" ? uitlenerAgency : inlenerAgency;
}
