import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agency } from "./agency";
import { agencyOnPostgres } from "@grondslag/agency/testing";
import { revocationSignalReference } from "./rules";

/**
 * The SVB's wiring on the real PostgreSQL (and its dead-letter topic on the real Kafka): deliveries made as the
 * gateway makes them (its consumer entries, its projection), desk actions as the desk API runs them, and every
 * publication judged as the gateway judges it before any I/O.
 */
const NOW = new Date("2026-06-15T10:00:00.000Z");
const UITLENER = "90000002";
const BSN_A = "100023757";
const BSN_B = "100039595";
const BSN_C = "100126704";

type Rows = Record<string, Record<string, unknown>[]>;
let svb: Awaited<ReturnType<typeof agencyOnPostgres>>;

beforeAll(async () => {
  svb = await agencyOnPostgres(agency, "svb", () => NOW);
});
afterAll(async () => {
  await svb?.close();
});

const revoked = {
  eventTime: "2026-06-15T09:00:00.000Z",
  subjectKvk: UITLENER,
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "T-2026-0002",
  effectiveDate: "2026-06-16",
  reasons: ["NEGATIVE_INSPECTION"],
  decisionReference: "SZW-INT-2026-7",
  explanation: null,
};

describe("svb on PostgreSQL", () => {
  it("ch. 6.1: posting cases are recorded at the desk; an overlapping one for the same worker is refused", async () => {
    expect(
      await svb.deliver("wtta.admission-granted", {
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
      }),
    ).toBe("handled");
    const a = (await svb.desk("record-posting-case", {
      uitlenerKvk: UITLENER,
      workerBsn: BSN_A,
      country: "PL",
      periodStart: "2026-01-01",
      periodEnd: "2026-12-31",
      a1Reference: "A1-PL-1",
    })) as { caseReference: string };
    expect(a.caseReference).toBe("SVB-DET-000001");
    await svb.desk("record-posting-case", {
      uitlenerKvk: UITLENER,
      workerBsn: BSN_B,
      country: "RO",
      periodStart: "2026-03-01",
      periodEnd: "2026-06-16",
    });
    await svb.desk("record-posting-case", {
      uitlenerKvk: UITLENER,
      workerBsn: BSN_C,
      country: "PL",
      periodStart: "2026-01-01",
      periodEnd: "2026-06-15",
    });
    await expect(
      svb.desk("record-posting-case", {
        uitlenerKvk: UITLENER,
        workerBsn: BSN_A,
        country: "PL",
        periodStart: "2026-06-01",
        periodEnd: "2026-08-31",
      }),
    ).rejects.toThrow(/ch\. 6\.1 detachering: the worker already has posting case SVB-DET-000001/);
    const state = await svb.state<Rows>();
    expect(state.postingCases).toHaveLength(3);
    expect(JSON.stringify(state)).not.toContain(BSN_A);
  });

  it("ch. 2.1/6.1: a revocation reviews the posting cases that still run and raises one SHAM_POSTING signal naming the posted workers", async () => {
    expect(
      await svb.deliver("wtta.admission-revoked", revoked, { producer: "szw.toelating", eventId: "ev-1" }),
    ).toBe("handled");
    expect(await svb.deliver("wtta.admission-revoked", revoked, { eventId: "ev-1" })).toBe("duplicate");
    expect(await svb.deliver("wtta.admission-revoked", revoked, { eventId: "ev-2" })).toBe("handled");

    const state = await svb.state<Rows>();
    expect(state.admissions).toEqual([
      expect.objectContaining({ status: "REVOKED", effectiveDate: "2026-06-16" }),
    ]);
    expect(state.postingReviews?.map((r) => r.caseReference)).toEqual(["SVB-DET-000001", "SVB-DET-000002"]);
    const outbox = await svb.outbox();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      topic: "lsi.signal-raised",
      grondslag: "suwi-art64",
      value: {
        subjectKvk: UITLENER,
        signalReference: revocationSignalReference("SZW-INT-2026-7"),
        kind: "SHAM_POSTING",
        persons: [
          { bsn: BSN_A, role: "WORKER" },
          { bsn: BSN_B, role: "WORKER" },
        ],
      },
    });
    expect(svb.gatewayVerdict(outbox[0]!)).toEqual({ ok: true });
  });

  it("ch. 2.1: a posting recorded after the revocation that runs past it is reviewed at once", async () => {
    const r = (await svb.desk("record-posting-case", {
      uitlenerKvk: UITLENER,
      workerBsn: BSN_C,
      country: "BG",
      periodStart: "2026-06-20",
      periodEnd: "2026-09-30",
    })) as { review: { cause: string } | null };
    expect(r.review).toEqual({ cause: "POSTED_AFTER_REVOCATION" });
  });

  it("ch. 6.1/6: the partners' LSI signals and AMU cases are recorded", async () => {
    expect(
      await svb.deliver(
        "lsi.signal-raised",
        {
          eventTime: "2026-06-15T09:30:00.000Z",
          subjectKvk: UITLENER,
          signalReference: "BD-LSI-SZW-INT-2026-7",
          kind: "G_ACCOUNT_DEFAULT",
          municipalityCode: null,
          persons: [],
          summary: "Revoked for tax arrears.",
        },
        { producer: "belastingdienst" },
      ),
    ).toBe("handled");
    expect(
      await svb.deliver("amu.case-opened", {
        eventTime: "2026-06-15T09:45:00.000Z",
        subjectKvk: UITLENER,
        caseReference: "AMU-2026-1",
        partners: ["NLA", "BELASTINGDIENST", "SVB"],
        concerns: ["CROSS_BORDER"],
        summary: null,
      }),
    ).toBe("handled");
    const state = await svb.state<Rows>();
    expect(state.lsiSignals).toEqual([
      expect.objectContaining({ kind: "G_ACCOUNT_DEFAULT", personCount: 0 }),
    ]);
    expect(state.amuCases).toEqual([expect.objectContaining({ caseReference: "AMU-2026-1" })]);
  });

  it("the SVB is given no wtta.admission-refused, and a revocation without its effective date is parked as poison", async () => {
    expect(
      await svb.deliver("wtta.admission-refused", {
        eventTime: "2026-06-10T09:00:00.000Z",
        subjectKvk: "90000003",
        tradeName: "Derde Voorbeeld B.V.",
        applicationReference: "AANVR-3",
        applicationKind: "PROVISIONAL",
        reasons: ["BIBOB"],
        decisionReference: "SZW-W-3",
        explanation: null,
      }),
    ).toBe("not delivered");
    const { effectiveDate: _omitted, ...broken } = revoked;
    expect(
      await svb.deliverRaw("wtta.admission-revoked", { ...broken, decisionReference: "SZW-INT-9" }),
    ).toBe("dead");
    const letters = (await svb.deadLetters()) as { reason: string }[];
    expect(letters[0]?.reason).toMatch(/^ch\. 2\.1 toelatingsplicht: effectiveDate is missing/);
  });
});
