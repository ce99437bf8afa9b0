import { defineAgency } from "@grondslag/agency";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agency, subscriptions } from "./agency";
import { agencyOnPostgres, type OutboxRow } from "@grondslag/agency/testing";

/**
 * A municipality's wiring on the real PostgreSQL (and its dead-letter topic on the real Kafka), as Schiedam and as
 * Horst aan de Maas: deliveries made as the gateway makes them (consumer entries in force, row filters, the
 * projection), desk actions as the desk API runs them, and every publication judged as the gateway judges it before
 * any I/O (which refuses the worker notices today: their basis is being prepared, with no date).
 */
const NOW = new Date("2026-06-15T10:00:00.000Z");
const UITLENER = "90000002";
const LANDLORD = "90000201";
const W = [
  "200007919",
  "200063352",
  "200079190",
  "200205894",
  "200308841",
  "200340517",
  "200356355",
  "200459302",
];

type Rows = Record<string, Record<string, unknown>[]> & { gemeentecode: string };
let schiedam: Awaited<ReturnType<typeof agencyOnPostgres>>;
let horst: Awaited<ReturnType<typeof agencyOnPostgres>>;
/** Schiedam as it will run once the payroll feedback cycle has a basis: subscribed to the registration gaps too. */
let schiedamOnceInForce: Awaited<ReturnType<typeof agencyOnPostgres>>;

beforeAll(async () => {
  schiedam = await agencyOnPostgres(agency, "gemeente.schiedam", () => NOW);
  horst = await agencyOnPostgres(agency, "gemeente.horst-aan-de-maas", () => NOW);
  schiedamOnceInForce = await agencyOnPostgres(
    defineAgency({ ...agency.spec, subscriptions }),
    "gemeente.schiedam",
    () => NOW,
  );
});
afterAll(async () => {
  await schiedam?.close();
  await horst?.close();
  await schiedamOnceInForce?.close();
});

function stayAddress(bsn: string, over: Record<string, unknown> = {}, employer = UITLENER) {
  return {
    eventTime: "2026-06-01T08:00:00.000Z",
    subjectKvk: employer,
    person: { bsn },
    stayAddress: {
      street: "Voorbeeldstraat",
      houseNumber: "12",
      postalCode: "3112AB",
      city: "Schiedam",
      municipalityCode: "GM0606",
      ...over,
    },
    addressSince: "2026-05-01",
  };
}

const noticesIn = (rows: OutboxRow[]) => rows.filter((r) => r.topic === "informatie.worker-notice-issued");

describe("gemeente.schiedam on PostgreSQL", () => {
  it("ch. 3/6.1: RvIG's stay addresses are recorded; the sixth person at one dwelling plans an unannounced inspection; Horst's address is not delivered to Schiedam", async () => {
    for (const bsn of W.slice(0, 6)) {
      expect(
        await schiedam.deliver("brp.stay-address-provided", stayAddress(bsn), { producer: "bzk.rvig" }),
      ).toBe("handled");
    }
    expect(
      await schiedam.deliver(
        "brp.stay-address-provided",
        stayAddress(W[6]!, { street: "Havendijk", houseNumber: "3", postalCode: "3111CC" }, LANDLORD),
      ),
    ).toBe("handled");
    expect(
      await schiedam.deliver(
        "brp.stay-address-provided",
        stayAddress(W[7]!, { city: "Horst", postalCode: "5961AB", municipalityCode: "GM1507" }),
      ),
    ).toBe("not delivered");
    const state = await schiedam.state<Rows>();
    expect(state.gemeentecode).toBe("GM0606");
    expect(state.dwellings).toEqual([
      { postalCode: "3111CC", houseNumber: "3", persons: 1, employers: [LANDLORD] },
      { postalCode: "3112AB", houseNumber: "12", persons: 6, employers: [UITLENER] },
    ]);
    expect(state.inspections).toEqual([
      expect.objectContaining({
        cause: "MANY_ON_ONE_ADDRESS",
        postalCode: "3112AB",
        announced: false,
        status: "PLANNED",
      }),
    ]);
    // An experiment municipality verifies every address it is given (ch. 3, abo): one investigation per person.
    expect(state.investigations?.filter((i) => i.cause === "STAY_ADDRESS_PROVIDED")).toHaveLength(7);
    expect(JSON.stringify(state)).not.toMatch(/2000\d{5}/);
  });

  it("ch. 7: a revocation prepares a notice in their own language for the uitlener's workers staying here, withholds it for those without a language, and the gateway refuses the notices today", async () => {
    await schiedam.desk("record-worker-language", {
      bsn: W[0],
      language: "pl",
      channel: "EMAIL",
      contactAddress: "w0@example.org",
    });
    await schiedam.desk("record-worker-language", { bsn: W[1], language: "ro" });
    await expect(
      schiedam.desk("record-worker-language", { bsn: "200007918", language: "pl" }),
    ).rejects.toThrow(/^ch\. 7 informatie in de eigen taal: bsn is not a valid BSN$/);

    expect(
      await schiedam.deliver(
        "wtta.admission-revoked",
        {
          eventTime: "2026-06-15T09:00:00.000Z",
          subjectKvk: UITLENER,
          tradeName: "Tweede Voorbeeld Flexwerk B.V.",
          admissionNumber: "T-2026-0002",
          effectiveDate: "2026-06-16",
          reasons: ["TAX_ARREARS"],
          decisionReference: "SZW-INT-2026-7",
          explanation: null,
        },
        { producer: "szw.toelating" },
      ),
    ).toBe("handled");

    const notices = noticesIn(await schiedam.outbox());
    expect(notices.map((n) => n.value.language)).toEqual(["pl", "ro"]);
    expect(notices[0]?.value).toMatchObject({
      subjectKvk: UITLENER,
      cause: "ADMISSION_REVOKED",
      causeReference: "T-2026-0002",
      municipalityCode: "GM0606",
      contact: { channel: "EMAIL", address: "w0@example.org" },
    });
    expect(notices[1]?.value).toMatchObject({
      contact: { channel: "POST", address: "Voorbeeldstraat 12, 3112AB Schiedam" },
    });
    for (const n of notices) {
      expect(JSON.stringify(n.value)).not.toMatch(/2000\d{5}/);
      expect(schiedam.gatewayVerdict(n)).toMatchObject({ ok: false, code: "LEGAL_BASIS_NOT_IN_FORCE" });
    }
    const state = await schiedam.state<Rows>();
    expect(state.admissions).toEqual([expect.objectContaining({ uitlenerKvk: UITLENER, status: "REVOKED" })]);
    const byStatus = (s: string) => state.workerNotices?.filter((n) => n.status === s) ?? [];
    expect(byStatus("PREPARED")).toHaveLength(2);
    expect(byStatus("WITHHELD")).toHaveLength(4);
    expect(byStatus("PREPARED").every((n) => typeof n.outboxId === "string")).toBe(true);
  });

  it("ch. 4.1/6.1: an unannounced inspection finds overcrowding: the violation is reported, the planned inspection done, and its occupants get notices when it comes back", async () => {
    const result = (await schiedam.desk("record-inspection", {
      caseReference: "SCH-HV-2026-1",
      subjectKvk: UITLENER,
      subjectRole: "EMPLOYER",
      inspectionDate: "2026-06-15",
      dwelling: {
        street: "Voorbeeldstraat",
        houseNumber: "12",
        postalCode: "3112 AB",
        occupants: 14,
        floorAreaM2: 90,
        qualityMark: "NONE",
      },
      violations: ["OVERCROWDING", "FIRE_SAFETY"],
    })) as { outboxId: string; inspectionsDone: string[] };
    expect(result.inspectionsDone).toHaveLength(1);
    const row = (await schiedam.outbox()).find((r) => r.id === result.outboxId)!;
    expect(row).toMatchObject({
      topic: "huisvesting.violation-found",
      grondslag: "wet-goed-verhuurderschap",
      value: { announced: false, dwelling: { municipalityCode: "GM0606", postalCode: "3112AB" } },
    });
    expect(schiedam.gatewayVerdict(row)).toEqual({ ok: true });

    // The municipality is a consumer of its own municipality's violations: the event comes back to it.
    expect(
      await schiedam.deliver("huisvesting.violation-found", row.value, { producer: "gemeente.schiedam" }),
    ).toBe("handled");
    const state = await schiedam.state<Rows>();
    expect(state.inspections?.[0]).toMatchObject({ status: "DONE", doneBy: "SCH-HV-2026-1" });
    expect(state.violations).toEqual([
      expect.objectContaining({ caseReference: "SCH-HV-2026-1", own: true }),
    ]);
    const housing = state.workerNotices?.filter((n) => n.cause === "HOUSING_VIOLATION") ?? [];
    expect(housing).toHaveLength(6);
    expect(
      housing
        .filter((n) => n.status === "PREPARED")
        .map((n) => n.language)
        .sort(),
    ).toEqual(["pl", "ro"]);

    await expect(
      schiedam.desk("record-inspection", {
        caseReference: "SCH-HV-2026-2",
        subjectKvk: UITLENER,
        subjectRole: "EMPLOYER",
        inspectionDate: "2026-06-15",
        dwelling: {
          street: "Kerkstraat",
          houseNumber: "1",
          postalCode: "5961AB",
          municipalityCode: "GM1507",
          occupants: 4,
          qualityMark: "NONE",
        },
        violations: ["OVERCROWDING"],
      }),
    ).rejects.toThrow(/the dwelling lies in another municipality/);
  });

  it("ch. 4.1: the meldpunt takes an anonymous report without reporter and plans an inspection at its postal code; an anonymous report with a reporter is refused", async () => {
    const r = (await schiedam.desk("meldpunt-report", {
      subjectKvk: LANDLORD,
      behaviours: ["EXCESSIVE_DEPOSIT", "INTIMIDATION"],
      dwellingPostalCode: "3111 CC",
      anonymous: true,
      description: "Borg van drie maanden; bedreigd bij een klacht.",
    })) as { outboxId: string; inspection: string | null };
    expect(r.inspection).not.toBeNull();
    const row = (await schiedam.outbox()).find((o) => o.id === r.outboxId)!;
    expect(row).toMatchObject({
      topic: "huisvesting.landlord-reported",
      value: { municipalityCode: "GM0606", anonymous: true, reporter: null, dwellingPostalCode: "3111CC" },
    });
    expect(schiedam.gatewayVerdict(row)).toEqual({ ok: true });
    await expect(
      schiedam.desk("meldpunt-report", {
        subjectKvk: LANDLORD,
        behaviours: ["DISCRIMINATION"],
        anonymous: true,
        reporter: { name: "A. Melder", contact: "melder@example.org" },
        description: "…",
      }),
    ).rejects.toThrow(/an anonymous report carries no reporter/);
    const state = await schiedam.state<Rows>();
    expect(state.meldpuntReports).toHaveLength(1);
    expect(JSON.stringify(state)).not.toContain("Borg van drie maanden");
  });

  it("ch. 3: no registration gap is delivered today, so the municipality does not subscribe to them; once it may, the handler turns one into an investigation whose finding Schiedam passes to BZK", async () => {
    expect(Object.keys(agency.spec.subscriptions).sort()).toEqual([
      "brp.stay-address-provided",
      "huisvesting.landlord-reported",
      "huisvesting.violation-found",
      "lsi.signal-raised",
      "wtta.admission-granted",
      "wtta.admission-revoked",
    ]);
    const gap = {
      eventTime: "2026-06-15T07:00:00.000Z",
      subjectKvk: UITLENER,
      gapKind: "NO_ADDRESS",
      worker: { bsn: W[7], registration: "NON_RESIDENT", employedSince: "2026-01-05" },
      municipality: { code: "GM0606", name: "Schiedam" },
      payrollPeriod: { start: "2026-05-01", end: "2026-05-31" },
    };
    expect(await schiedam.deliver("loonaangifte.registration-gap", gap, { producer: "uwv" })).toBe(
      "not delivered",
    );
    // As it would arrive once the feedback cycle has a basis (the gateway's projection is the whole view).
    expect(await schiedamOnceInForce.deliverRaw("loonaangifte.registration-gap", gap, "uwv")).toBe("handled");
    const opened = (await schiedamOnceInForce.state<Rows>()).investigations?.find(
      (i) => i.cause === "REGISTRATION_GAP",
    );
    expect(opened).toMatchObject({ task: "FIND_STAY_ADDRESS", status: "OPEN", aboutPerson: true });

    const done = (await schiedamOnceInForce.desk("complete-investigation", {
      investigationRef: opened?.investigationRef,
      outcome: "ADDRESS_FOUND",
      stayAddress: {
        street: "Nieuwe Haven",
        houseNumber: "5a",
        postalCode: "3111AB",
        city: "Schiedam",
        municipalityCode: "GM0606",
      },
      effectiveDate: "2026-06-10",
    })) as { passedToBzk: boolean; outboxId: string };
    expect(done.passedToBzk).toBe(true);
    const row = (await schiedamOnceInForce.outbox()).find((o) => o.id === done.outboxId)!;
    expect(row).toMatchObject({
      topic: "brp.stay-address-changed",
      grondslag: "brp-experiment-abo",
      value: {
        municipalityCode: "GM0606",
        changeKind: "COMPLETED",
        person: { bsn: W[7] },
        effectiveDate: "2026-06-10",
      },
    });
    expect(schiedamOnceInForce.gatewayVerdict(row)).toEqual({ ok: true });
    await expect(
      schiedamOnceInForce.desk("complete-investigation", {
        investigationRef: opened?.investigationRef,
        outcome: "NO_FINDING",
      }),
    ).rejects.toThrow(/already completed/);
  });

  it("ch. 6.1: a housing-abuse LSI signal about Schiedam plans an inspection at a known dwelling and investigates the others; one about Horst is not delivered", async () => {
    const signal = {
      eventTime: "2026-06-15T09:30:00.000Z",
      subjectKvk: LANDLORD,
      signalReference: "NLA-LSI-2026-9",
      kind: "HOUSING_ABUSE",
      municipalityCode: "GM0606",
      persons: [
        { bsn: W[6], role: "WORKER" },
        { bsn: "100023757", role: "WORKER" },
      ],
      summary: "Overbewoning gemeld.",
    };
    expect(await schiedam.deliver("lsi.signal-raised", signal, { producer: "nla" })).toBe("handled");
    expect(
      await schiedam.deliver("lsi.signal-raised", {
        ...signal,
        signalReference: "X",
        municipalityCode: "GM1507",
      }),
    ).toBe("not delivered");
    const state = await schiedam.state<Rows>();
    expect(state.lsiSignals).toEqual([
      expect.objectContaining({ signalReference: "NLA-LSI-2026-9", personCount: 2 }),
    ]);
    // The meldpunt's inspection at 3111CC is planned already (postal code only): no second one.
    expect(state.inspections?.filter((i) => i.postalCode === "3111CC")).toHaveLength(1);
    expect(state.investigations).toContainEqual(
      expect.objectContaining({
        cause: "LSI_SIGNAL",
        causeReference: "NLA-LSI-2026-9",
        task: "FIND_STAY_ADDRESS",
      }),
    );
  });

  it("a stay address without its address is parked as poison, naming the rule and no BSN", async () => {
    expect(
      await schiedam.deliverRaw(
        "brp.stay-address-provided",
        { subjectKvk: UITLENER, person: { bsn: W[0] } },
        "bzk.rvig",
      ),
    ).toBe("dead");
    const letters = (await schiedam.deadLetters()) as { reason: string }[];
    expect(letters[0]?.reason).toMatch(/^ch\. 3 tijdelijke verblijfsadressen: stayAddress with postalCode/);
    expect(letters[0]?.reason).not.toContain(W[0]);
  });
});

describe("gemeente.horst-aan-de-maas on PostgreSQL (the same codebase, another party)", () => {
  it("ch. 3: Horst records its own stay addresses under its own gemeentecode and refuses an inspection in Schiedam", async () => {
    expect(
      await horst.deliver(
        "brp.stay-address-provided",
        stayAddress(W[7]!, {
          street: "Kerkstraat",
          houseNumber: "1",
          city: "Horst",
          postalCode: "5961AB",
          municipalityCode: "GM1507",
        }),
      ),
    ).toBe("handled");
    expect(await horst.deliver("brp.stay-address-provided", stayAddress(W[0]!))).toBe("not delivered");
    const state = await horst.state<Rows>();
    expect(state.gemeentecode).toBe("GM1507");
    expect(state.dwellings).toEqual([
      { postalCode: "5961AB", houseNumber: "1", persons: 1, employers: [UITLENER] },
    ]);
    await expect(
      horst.desk("record-inspection", {
        caseReference: "HRS-1",
        subjectKvk: UITLENER,
        subjectRole: "EMPLOYER",
        inspectionDate: "2026-06-15",
        dwelling: {
          street: "Voorbeeldstraat",
          houseNumber: "12",
          postalCode: "3112AB",
          municipalityCode: "GM0606",
          occupants: 14,
          qualityMark: "NONE",
        },
        violations: ["OVERCROWDING"],
      }),
    ).rejects.toThrow(/another municipality/);
  });
});
