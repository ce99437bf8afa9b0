// The SVB's wiring: each handler validates what it needs, loads the state rows, calls its rule (src/rules.ts) and
// applies the decision in the handler's one transaction (state rows, outbox).
import { defineAgency, deskAction, DeskRefusal, Poison, type AgencyContext } from "@grondslag/agency";
import { z } from "zod";
import {
  onAdmissionRevoked,
  recordAdmissionGranted,
  recordAmuCase,
  recordPostingCase,
  recordSignal,
  type Poison as PoisonOutcome,
  type Refusal,
} from "./rules";
import {
  loadAdmission,
  loadAmuCase,
  loadCasesOfUitlener,
  loadCasesOfWorker,
  loadReviewsFor,
  loadSignal,
  migrations,
  nextCaseReference,
  saveAdmission,
  saveAmuCase,
  saveCase,
  saveReview,
  saveSignal,
} from "./store";

/** A rule's poison outcome becomes the runtime's Poison: the delivery is parked with the rule's reason. */
function orPoison<T extends { outcome: string }>(d: T | PoisonOutcome): T {
  if (d.outcome === "poison") throw new Poison((d as PoisonOutcome).reason);
  return d as T;
}

/** A rule's refusal becomes the desk's 400, naming the rule and the fix. */
function orRefuse<T extends { outcome: string }>(d: T | Refusal): T {
  if (d.outcome === "refused") {
    const r = d as Refusal;
    throw new DeskRefusal(`${r.rule}: ${r.reason}`, r.fix);
  }
  return d as T;
}

/**
 * Serialises what concerns one uitlener: a posting case recorded at the desk while the uitlener's revocation is
 * handled would otherwise escape its review, and two cases for one worker could both pass the overlap check.
 */
async function lockUitlener(ctx: AgencyContext, uitlenerKvk: string): Promise<void> {
  await ctx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${ctx.schema}:uitlener:${uitlenerKvk}`]);
}

export const agency = defineAgency({
  service: "svb",
  party: "svb",
  transport: "kafka",
  migrations,
  subscriptions: {
    "wtta.admission-granted": async (ctx, d) => {
      const { admission } = orPoison(recordAdmissionGranted(d.value));
      await lockUitlener(ctx, admission.uitlenerKvk);
      await saveAdmission(ctx.query, ctx.schema, admission);
    },
    "wtta.admission-revoked": async (ctx, d) => {
      const kvk = d.value.subjectKvk ?? "";
      await lockUitlener(ctx, kvk);
      const decision = orPoison(
        onAdmissionRevoked(
          d.value,
          {
            admission: await loadAdmission(ctx.query, ctx.schema, kvk),
            cases: await loadCasesOfUitlener(ctx.query, ctx.schema, kvk),
            reviewsForDecision: d.value.decisionReference
              ? await loadReviewsFor(ctx.query, ctx.schema, d.value.decisionReference)
              : [],
          },
          ctx.now(),
        ),
      );
      if (decision.outcome === "duplicate") return;
      await saveAdmission(ctx.query, ctx.schema, decision.admission);
      for (const review of decision.reviews) await saveReview(ctx.query, ctx.schema, review);
      for (const p of decision.publish) await ctx.publish(p.topic, p.value);
      ctx.log.info(
        { reviews: decision.reviews.length, signals: decision.publish.length },
        "revocation: posting cases under review",
      );
    },
    "lsi.signal-raised": async (ctx, d) => {
      const existing =
        d.value.signalReference && d.value.subjectKvk
          ? await loadSignal(ctx.query, ctx.schema, d.value.signalReference, d.value.subjectKvk)
          : undefined;
      const decision = orPoison(recordSignal(d.value, existing, ctx.now()));
      if (decision.outcome === "recorded") await saveSignal(ctx.query, ctx.schema, decision.signal);
    },
    "amu.case-opened": async (ctx, d) => {
      const existing = d.value.caseReference
        ? await loadAmuCase(ctx.query, ctx.schema, d.value.caseReference)
        : undefined;
      const decision = orPoison(recordAmuCase(d.value, existing, ctx.now()));
      if (decision.outcome === "recorded") await saveAmuCase(ctx.query, ctx.schema, decision.amuCase);
    },
  },
  desk: {
    "record-posting-case": deskAction({
      summary:
        "Records a posting case (A1 certificate, detachering): which uitlener lends which worker, posted to or from which other state, for which period.",
      input: z.object({
        uitlenerKvk: z.string().regex(/^\d{8}$/, "eight digits (KvK-nummer)"),
        workerBsn: z.string().regex(/^\d{9}$/, "nine digits (BSN)"),
        country: z.string().length(2),
        periodStart: z.iso.date(),
        periodEnd: z.iso.date(),
        a1Reference: z.string().min(1).max(100).optional(),
      }),
      run: async (ctx, input) => {
        await lockUitlener(ctx, input.uitlenerKvk);
        const decision = orRefuse(
          recordPostingCase(
            input,
            {
              admission: await loadAdmission(ctx.query, ctx.schema, input.uitlenerKvk),
              casesOfWorker: await loadCasesOfWorker(ctx.query, ctx.schema, input.workerBsn),
            },
            await nextCaseReference(ctx.query, ctx.schema),
            ctx.now(),
          ),
        );
        await saveCase(ctx.query, ctx.schema, decision.postingCase);
        if (decision.review) await saveReview(ctx.query, ctx.schema, decision.review);
        return {
          caseReference: decision.postingCase.caseReference,
          review: decision.review ? { cause: decision.review.cause } : null,
        };
      },
    }),
  },
  // GET /state: the service's books, without BSNs (the posting cases name their workers in the table only).
  state: async (ctx) => {
    const s = ctx.schema;
    return {
      admissions: await ctx.query(
        `SELECT uitlener_kvk AS "uitlenerKvk", trade_name AS "tradeName", status,
                country_of_establishment AS "countryOfEstablishment", effective_date::text AS "effectiveDate",
                decision_reference AS "decisionReference"
           FROM ${s}.admissions ORDER BY uitlener_kvk`,
      ),
      postingCases: await ctx.query(
        `SELECT case_reference AS "caseReference", uitlener_kvk AS "uitlenerKvk", country,
                period_start::text AS "periodStart", period_end::text AS "periodEnd", a1_reference AS "a1Reference"
           FROM ${s}.posting_cases ORDER BY case_reference`,
      ),
      postingReviews: await ctx.query(
        `SELECT case_reference AS "caseReference", uitlener_kvk AS "uitlenerKvk", cause,
                cause_reference AS "causeReference", status
           FROM ${s}.posting_reviews ORDER BY case_reference, cause_reference`,
      ),
      lsiSignals: await ctx.query(
        `SELECT signal_reference AS "signalReference", subject_kvk AS "subjectKvk", kind,
                municipality_code AS "municipalityCode", person_count AS "personCount"
           FROM ${s}.lsi_signals ORDER BY received_at, signal_reference`,
      ),
      amuCases: await ctx.query(
        `SELECT case_reference AS "caseReference", subject_kvk AS "subjectKvk", partners, concerns
           FROM ${s}.amu_cases ORDER BY case_reference`,
      ),
    };
  },
});
