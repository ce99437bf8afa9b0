// The Belastingdienst's wiring: each handler validates what it needs, loads the state rows, calls its rule
// (src/rules.ts) and applies the decision in the handler's one transaction (state rows, outbox).
import { defineAgency, deskAction, DeskRefusal, Poison, type AgencyContext } from "@grondslag/agency";
import { TaxArrearsKind } from "@grondslag/schemas";
import { z } from "zod";
import {
  arrearsReference,
  depositReference,
  onAdmissionRevoked,
  recordAdmissionGranted,
  recordAdmissionRefused,
  recordAmuCase,
  recordDeposit,
  recordSignal,
  signalArrears,
  type Poison as PoisonOutcome,
  type Publication,
  type Refusal,
} from "./rules";
import {
  loadAdmission,
  loadAmuCase,
  loadArrears,
  loadArrearsOf,
  loadDeposit,
  loadDepositsOf,
  loadRefusal,
  loadReviewsFor,
  loadSignal,
  migrations,
  saveAdmission,
  saveAmuCase,
  saveArrears,
  saveDeposit,
  saveRefusal,
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
 * Serialises what concerns one uitlener: a deposit recorded at the desk while its revocation is handled would
 * otherwise see the admission still in force, and the revocation would not see the deposit.
 */
async function lockUitlener(ctx: AgencyContext, uitlenerKvk: string): Promise<void> {
  await ctx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${ctx.schema}:uitlener:${uitlenerKvk}`]);
}

async function publishAll(ctx: AgencyContext, publications: readonly Publication[]): Promise<string[]> {
  const ids: string[] = [];
  for (const p of publications) {
    // The union keeps each topic with its own value type; the runtime's publish is generic over the topic.
    ids.push(
      p.topic === "lsi.signal-raised"
        ? await ctx.publish(p.topic, p.value)
        : await ctx.publish(p.topic, p.value),
    );
  }
  return ids;
}

const isoDate = z.iso.date();
const kvk = z.string().regex(/^\d{8}$/, "eight digits (KvK-nummer)");

export const agency = defineAgency({
  service: "belastingdienst",
  party: "belastingdienst",
  transport: "kafka",
  migrations,
  subscriptions: {
    "wtta.admission-granted": async (ctx, d) => {
      const { admission } = orPoison(recordAdmissionGranted(d.value));
      await lockUitlener(ctx, admission.uitlenerKvk);
      await saveAdmission(ctx.query, ctx.schema, admission);
    },
    "wtta.admission-refused": async (ctx, d) => {
      const existing = d.value.decisionReference
        ? await loadRefusal(ctx.query, ctx.schema, d.value.decisionReference)
        : undefined;
      const decision = orPoison(recordAdmissionRefused(d.value, existing, ctx.now()));
      if (decision.outcome === "recorded") await saveRefusal(ctx.query, ctx.schema, decision.refusal);
    },
    "wtta.admission-revoked": async (ctx, d) => {
      const kvkOf = d.value.subjectKvk ?? "";
      await lockUitlener(ctx, kvkOf);
      const decision = orPoison(
        onAdmissionRevoked(
          d.value,
          {
            admission: await loadAdmission(ctx.query, ctx.schema, kvkOf),
            deposits: await loadDepositsOf(ctx.query, ctx.schema, kvkOf),
            arrears: await loadArrearsOf(ctx.query, ctx.schema, kvkOf),
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
      await publishAll(ctx, decision.publish);
      ctx.log.info(
        { reviews: decision.reviews.length, signals: decision.publish.length },
        "revocation: inleners flagged for liability review",
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
    "signal-arrears": deskAction({
      summary:
        "Signals to the admission authority that an admitted uitlener does not pay its loonheffing or omzetbelasting, or that its g-rekening was drawn on (fiscaal.arrears-signalled).",
      input: z.object({
        uitlenerKvk: kvk,
        kinds: z.array(z.enum(TaxArrearsKind)).min(1),
        periodStart: isoDate,
        periodEnd: isoDate,
        arrearsCents: z.number().int().nullable().optional(),
        signalReference: z.string().min(1).max(100).optional(),
      }),
      run: async (ctx, input) => {
        await lockUitlener(ctx, input.uitlenerKvk);
        const reference =
          input.signalReference ?? arrearsReference(input.uitlenerKvk, input.periodStart, input.periodEnd);
        const decision = orRefuse(
          signalArrears(
            input,
            {
              admission: await loadAdmission(ctx.query, ctx.schema, input.uitlenerKvk),
              existing: await loadArrears(ctx.query, ctx.schema, reference),
            },
            ctx.now(),
          ),
        );
        if (decision.outcome === "duplicate") return { outcome: "duplicate", signalReference: reference };
        const [outboxId] = await publishAll(ctx, decision.publish);
        await saveArrears(ctx.query, ctx.schema, decision.arrears, outboxId ?? null);
        return { outcome: decision.outcome, signalReference: reference, outboxId };
      },
    }),
    "record-g-account-deposit": deskAction({
      summary:
        "Records an inlener's deposit on an uitlener's g-rekening for a period (inlenersaansprakelijkheid; 35% of the invoice sum indemnifies).",
      input: z.object({
        inlenerKvk: kvk,
        uitlenerKvk: kvk,
        amountCents: z.number().int(),
        invoiceTotalCents: z.number().int().nullable().optional(),
        periodStart: isoDate,
        periodEnd: isoDate,
        depositReference: z.string().min(1).max(100).optional(),
      }),
      run: async (ctx, input) => {
        await lockUitlener(ctx, input.uitlenerKvk);
        const reference = input.depositReference ?? depositReference(input);
        const decision = orRefuse(
          recordDeposit(
            input,
            {
              admission: await loadAdmission(ctx.query, ctx.schema, input.uitlenerKvk),
              existing: await loadDeposit(ctx.query, ctx.schema, reference),
              deposits: await loadDepositsOf(ctx.query, ctx.schema, input.uitlenerKvk),
            },
            ctx.now(),
          ),
        );
        if (decision.outcome === "recorded") {
          await saveDeposit(ctx.query, ctx.schema, decision.deposit);
          if (decision.review) await saveReview(ctx.query, ctx.schema, decision.review);
        }
        return {
          outcome: decision.outcome,
          depositReference: reference,
          review: decision.review ? { cause: decision.review.cause } : null,
        };
      },
    }),
  },
  // GET /state: the service's books. The persons and summaries of received LSI signals stay in the table.
  state: async (ctx) => {
    const s = ctx.schema;
    return {
      admissions: await ctx.query(
        `SELECT uitlener_kvk AS "uitlenerKvk", trade_name AS "tradeName", admission_number AS "admissionNumber",
                status, effective_date::text AS "effectiveDate", decision_reference AS "decisionReference", reasons
           FROM ${s}.admissions ORDER BY uitlener_kvk`,
      ),
      refusals: await ctx.query(
        `SELECT decision_reference AS "decisionReference", uitlener_kvk AS "uitlenerKvk", reasons
           FROM ${s}.refusals ORDER BY decision_reference`,
      ),
      deposits: await ctx.query(
        `SELECT deposit_reference AS "depositReference", inlener_kvk AS "inlenerKvk", uitlener_kvk AS "uitlenerKvk",
                amount_cents::float8 AS "amountCents", invoice_total_cents::float8 AS "invoiceTotalCents",
                period_start::text AS "periodStart", period_end::text AS "periodEnd"
           FROM ${s}.g_account_deposits ORDER BY deposit_reference`,
      ),
      arrearsSignals: await ctx.query(
        `SELECT signal_reference AS "signalReference", uitlener_kvk AS "uitlenerKvk", kinds,
                period_start::text AS "periodStart", period_end::text AS "periodEnd",
                arrears_cents::float8 AS "arrearsCents", outbox_id AS "outboxId"
           FROM ${s}.arrears_signals ORDER BY signal_reference`,
      ),
      liabilityReviews: await ctx.query(
        `SELECT uitlener_kvk AS "uitlenerKvk", inlener_kvk AS "inlenerKvk", cause, cause_reference AS "causeReference",
                deposited_cents::float8 AS "depositedCents", invoiced_cents::float8 AS "invoicedCents", indemnified, status
           FROM ${s}.liability_reviews ORDER BY uitlener_kvk, inlener_kvk, cause_reference`,
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
