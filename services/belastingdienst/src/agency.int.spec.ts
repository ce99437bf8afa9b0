import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agency } from "./agency";
import { agencyOnPostgres } from "@grondslag/agency/testing";
import { revocationSignalReference } from "./rules";

/**
 * The Belastingdienst's wiring on the real PostgreSQL (and its dead-letter topic on the real Kafka): deliveries made
 * as the gateway makes them (its consumer entries, its projection), desk actions as the desk API runs them, and
 * every publication judged as the gateway judges it before any I/O.
 */
const NOW = new Date("2026-06-15T10:00:00.000Z");
const UITLENER = "90000002";
const INLENER = "90000101";
const INLENER_2 = "90000102";

type Rows = Record<string, Record<string, unknown>[]>;
let bd: Awaited<ReturnType<typeof agencyOnPostgres>>;

beforeAll(async () => {
  bd = await agencyOnPostgres(agency, "belastingdienst", () => NOW);
});
afterAll(async () => {
  await bd?.close();
});

const granted = {
  eventTime: "2026-01-01T08:00:00.000Z",
  subjectKvk: UITLENER,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "T-2026-0002",
  admissionKind: "PROVISIONAL",
  validFrom: "2026-01-01",
  provisionalUntil: "2026-07-01",
  securityDepositCents: 5_000_000,
  inspectionReport: null,
  establishedAbroad: false,
  countryOfEstablishment: "NL",
};

const revoked = {
  eventTime: "2026-06-15T09:00:00.000Z",
  subjectKvk: UITLENER,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "T-2026-0002",
  effectiveDate: "2026-06-16",
  reasons: ["TAX_ARREARS", "NEGATIVE_INSPECTION"],
  decisionReference: "SZW-INT-2026-7",
  explanation: "Loonheffing niet afgedragen; negatief inspectierapport.",
};

describe("belastingdienst on PostgreSQL", () => {
  it("ch. 2.1: an admission from the register, deposits at the desk and an arrears signal to the admission authority", async () => {
    expect(await bd.deliver("wtta.admission-granted", granted, { producer: "szw.toelating" })).toBe(
      "handled",
    );
    await bd.desk("record-g-account-deposit", {
      inlenerKvk: INLENER,
      uitlenerKvk: UITLENER,
      amountCents: 350_000,
      invoiceTotalCents: 1_000_000,
      periodStart: "2026-03-01",
      periodEnd: "2026-03-31",
    });
    await bd.desk("record-g-account-deposit", {
      inlenerKvk: INLENER_2,
      uitlenerKvk: UITLENER,
      amountCents: 100_000,
      invoiceTotalCents: 1_000_000,
      periodStart: "2026-03-01",
      periodEnd: "2026-03-31",
    });
    const result = (await bd.desk("signal-arrears", {
      uitlenerKvk: UITLENER,
      kinds: ["LOONHEFFING_UNPAID", "G_REKENING_DRAWN"],
      periodStart: "2026-03-01",
      periodEnd: "2026-03-31",
      arrearsCents: 4_200_000,
    })) as { outcome: string; outboxId: string };
    expect(result.outcome).toBe("signalled");

    const outbox = await bd.outbox();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      id: result.outboxId,
      topic: "fiscaal.arrears-signalled",
      grondslag: "waadi-wtta-gegevensuitwisseling",
      purpose: "signalering-toelating",
      value: {
        subjectKvk: UITLENER,
        kinds: ["G_REKENING_DRAWN", "LOONHEFFING_UNPAID"],
        arrearsCents: 4_200_000,
      },
    });
    expect(bd.gatewayVerdict(outbox[0]!)).toEqual({ ok: true });

    const state = await bd.state<Rows>();
    expect(state.admissions).toEqual([
      expect.objectContaining({ uitlenerKvk: UITLENER, status: "ADMITTED" }),
    ]);
    expect(state.deposits).toHaveLength(2);
    expect(state.arrearsSignals).toEqual([
      expect.objectContaining({ uitlenerKvk: UITLENER, periodEnd: "2026-03-31", outboxId: result.outboxId }),
    ]);
  });

  it("ch. 2.1: the desk refuses an arrears signal about an uitlener with no admission on record, and commits nothing", async () => {
    await expect(
      bd.desk("signal-arrears", {
        uitlenerKvk: "90000009",
        kinds: ["OMZETBELASTING_UNPAID"],
        periodStart: "2026-03-01",
        periodEnd: "2026-03-31",
      }),
    ).rejects.toThrow(/ch\. 2\.1 .*: no admission of this uitlener is on record/);
    expect(await bd.outbox()).toHaveLength(1);
  });

  it("ch. 2.1: a revocation flags the inleners for liability review and raises one G_ACCOUNT_DEFAULT signal; a redelivery changes nothing", async () => {
    expect(
      await bd.deliver("wtta.admission-revoked", revoked, { producer: "szw.toelating", eventId: "ev-rev-1" }),
    ).toBe("handled");
    expect(await bd.deliver("wtta.admission-revoked", revoked, { eventId: "ev-rev-1" })).toBe("duplicate");
    // The same decision under another event id (a second publication of it) opens nothing new either.
    expect(await bd.deliver("wtta.admission-revoked", revoked, { eventId: "ev-rev-2" })).toBe("handled");

    const state = await bd.state<Rows>();
    expect(state.admissions).toEqual([
      expect.objectContaining({
        status: "REVOKED",
        effectiveDate: "2026-06-16",
        decisionReference: "SZW-INT-2026-7",
      }),
    ]);
    expect(state.liabilityReviews).toEqual([
      expect.objectContaining({
        inlenerKvk: INLENER,
        cause: "ADMISSION_REVOKED",
        indemnified: true,
        status: "OPEN",
      }),
      expect.objectContaining({ inlenerKvk: INLENER_2, indemnified: false }),
    ]);
    const signals = (await bd.outbox()).filter((r) => r.topic === "lsi.signal-raised");
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({
      grondslag: "suwi-art64",
      purpose: "lsi-samenwerking",
      value: {
        subjectKvk: UITLENER,
        signalReference: revocationSignalReference("SZW-INT-2026-7"),
        kind: "G_ACCOUNT_DEFAULT",
        persons: [],
      },
    });
    expect(bd.gatewayVerdict(signals[0]!)).toEqual({ ok: true });
  });

  it("ch. 2.1: a deposit for a period after the revocation opens a review at once", async () => {
    const r = (await bd.desk("record-g-account-deposit", {
      inlenerKvk: "90000103",
      uitlenerKvk: UITLENER,
      amountCents: 200_000,
      periodStart: "2026-06-01",
      periodEnd: "2026-06-30",
    })) as { review: { cause: string } | null };
    expect(r.review).toEqual({ cause: "DEPOSIT_AFTER_REVOCATION" });
    const state = await bd.state<Rows>();
    expect(state.liabilityReviews).toContainEqual(
      expect.objectContaining({
        inlenerKvk: "90000103",
        cause: "DEPOSIT_AFTER_REVOCATION",
        indemnified: false,
      }),
    );
  });

  it("ch. 6.1/6: LSI signals, AMU cases and refusals of the partners are recorded once", async () => {
    const signal = {
      eventTime: "2026-06-15T09:30:00.000Z",
      subjectKvk: UITLENER,
      signalReference: "NLA-LSI-2026-1",
      kind: "UNADMITTED_LENDING",
      municipalityCode: null,
      persons: [{ bsn: "123456782", role: "DIRECTOR" }],
      summary: "Inlener hires from a revoked uitlener.",
    };
    expect(await bd.deliver("lsi.signal-raised", signal, { producer: "nla" })).toBe("handled");
    expect(
      await bd.deliver(
        "amu.case-opened",
        {
          eventTime: "2026-06-15T09:45:00.000Z",
          subjectKvk: UITLENER,
          caseReference: "AMU-2026-1",
          partners: ["NLA", "BELASTINGDIENST"],
          concerns: ["LABOUR_LAW", "TAX_EVASION"],
          summary: null,
        },
        { producer: "nla" },
      ),
    ).toBe("handled");
    expect(
      await bd.deliver("wtta.admission-refused", {
        eventTime: "2026-06-10T09:00:00.000Z",
        subjectKvk: "90000003",
        tradeName: "Derde Voorbeeld B.V.",
        applicationReference: "AANVR-3",
        applicationKind: "PROVISIONAL",
        reasons: ["BIBOB"],
        decisionReference: "SZW-W-3",
        explanation: null,
      }),
    ).toBe("handled");
    const state = await bd.state<Rows>();
    expect(state.lsiSignals).toEqual([
      expect.objectContaining({
        signalReference: "NLA-LSI-2026-1",
        kind: "UNADMITTED_LENDING",
        personCount: 1,
      }),
    ]);
    expect(JSON.stringify(state)).not.toContain("123456782");
    expect(state.amuCases).toEqual([expect.objectContaining({ caseReference: "AMU-2026-1" })]);
    expect(state.refusals).toEqual([
      expect.objectContaining({ decisionReference: "SZW-W-3", reasons: ["BIBOB"] }),
    ]);
  });

  it("a revocation that lacks its decision reference is parked as poison with the rule's reason, and the next delivery is handled", async () => {
    const { decisionReference: _omitted, ...broken } = revoked;
    expect(await bd.deliverRaw("wtta.admission-revoked", { ...broken, subjectKvk: "90000004" })).toBe("dead");
    const letters = (await bd.deadLetters()) as { reason: string; topic: string }[];
    expect(letters).toHaveLength(1);
    expect(letters[0]?.topic).toBe("wtta.admission-revoked");
    expect(letters[0]?.reason).toMatch(/^ch\. 2\.1 niet-toegelaten uitleners: decisionReference is missing/);
    expect(await bd.deliver("wtta.admission-granted", { ...granted, subjectKvk: "90000004" })).toBe(
      "handled",
    );
  });
});
