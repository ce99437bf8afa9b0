import crypto from "node:crypto";
import { AgencyRuntime, DeskRefusal, Store, type Delivery } from "@grondslag/agency";
import { checkProduce, loadCatalogue } from "@grondslag/contracts";
import { databaseUrl } from "@grondslag/infra";
import { dropDbSchema, testStack, uniqueDbSchema } from "@grondslag/infra/test";
import type { Topic, TopicMap } from "@grondslag/schemas";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agency } from "./agency";

/**
 * UWV's wiring on real PostgreSQL: desk actions and deliveries handled by the agency runtime (inbox, one
 * transaction, outbox), with the clock the spec sets. The gateway is not involved: the loonaangifte events are
 * proved to be queued under their producer entry (brp-feedbackcyclus-loonaangifte, which the gateway refuses while
 * no law carries it; the runtime's specs prove that a refusal lands on the outbox row).
 */
const stack = testStack();
const UITLENER = "90000002";
const INLENER = "90000101";
const BSN_A = "111222333";
const BSN_B = "123456782";
const BSN_C = "100000009";

type Row = Record<string, unknown>;
interface UwvState {
  accidents: Row[];
  payroll: Row[];
  findings: Row[];
  amuCases: Row[];
}

describe("uwv on real PostgreSQL", () => {
  const schema = uniqueDbSchema("uwv_int");
  let store: Store;
  let runtime: AgencyRuntime;
  const now = new Date("2026-04-01T09:00:00.000Z");

  beforeAll(async () => {
    store = new Store(databaseUrl(stack.postgres), schema);
    runtime = new AgencyRuntime(
      agency.spec,
      {
        party: "uwv",
        gatewayUrl: "http://127.0.0.1:9",
        brokers: stack.kafka.brokers,
        kafkaPassword: "unused: the runtime is not started",
        groupPrefix: `uwv.int-${crypto.randomBytes(4).toString("hex")}`,
        token: "unused",
        pollSeconds: 1,
        outboxSweepMs: 1_000,
      },
      store,
      loadCatalogue(),
      pino({ level: "silent" }),
      new Registry(),
      () => now,
    );
    await store.migrate(agency.spec.migrations?.(schema) ?? []);
  });

  afterAll(async () => {
    await store?.close();
    await dropDbSchema(stack, schema);
  });

  const deliver = <K extends Topic>(topic: K, producer: string, value: Delivery<TopicMap[K]>["value"]) =>
    runtime.handle({
      eventId: crypto.randomUUID(),
      topic,
      producer,
      grondslag: "test",
      purpose: "test",
      traceparent: undefined,
      value,
      cursor: "0:0",
    });
  const state = async () => (await runtime.snapshot()).state as UwvState;
  const outbox = () =>
    store.query<Row>(`SELECT topic, value, grondslag, purpose, state FROM ${schema}.outbox ORDER BY seq`);
  const recordPayroll = (input: Row) =>
    runtime.transaction((ctx) => agency.spec.desk!["record-payroll"]!.run(ctx, input));
  const line = (over: Row = {}) => ({
    uitlenerKvk: UITLENER,
    workerBsn: BSN_A,
    registration: "NON_RESIDENT",
    brpAddressKnown: true,
    stayMunicipalityCode: "GM1507",
    stayMunicipalityName: "Horst aan de Maas",
    employedSince: "2026-02-01",
    periodStart: "2026-03-01",
    periodEnd: "2026-03-31",
    ...over,
  });

  it("ch. 2.3: an accident of a lent worker is recorded from UWV's view with an expected Ziektewet claim", async () => {
    await deliver("arbo.accident-reported", "inlener.90000101", {
      eventTime: "2026-03-02T09:00:00.000Z",
      subjectKvk: INLENER,
      reportReference: "INL-1",
      accidentTime: "2026-03-02T07:30:00.000Z",
      inlener: { kvk: INLENER, name: "Kassenbedrijf De Voorbeeldhof B.V." },
      location: { municipalityCode: "GM1507" },
      victim: { bsn: BSN_A, agencyWorker: true },
    });
    const s = await state();
    expect(s.accidents).toEqual([
      expect.objectContaining({
        inlenerKvk: INLENER,
        municipalityCode: "GM1507",
        expectedBenefit: "ZIEKTEWET",
      }),
    ]);
  });

  it("ch. 3: record-payroll fills the polisadministratie and refuses a BSN that fails the elfproef", async () => {
    await expect(recordPayroll(line({ workerBsn: "123456789" }))).rejects.toBeInstanceOf(DeskRefusal);
    await recordPayroll(line());
    await recordPayroll(
      line({
        workerBsn: BSN_B,
        registration: "RESIDENT",
        brpAddressKnown: false,
        stayMunicipalityCode: "GM0606",
        stayMunicipalityName: "Schiedam",
      }),
    );
    await recordPayroll(
      line({
        workerBsn: BSN_C,
        employedSince: "2026-01-01",
        periodStart: "2026-01-01",
        periodEnd: "2026-01-31",
      }),
    );
    expect((await state()).payroll).toEqual([
      {
        uitlenerKvk: UITLENER,
        workers: 3,
        withoutBrpAddress: 1,
        nonResidents: 2,
        latestPeriodEnd: "2026-03-31",
      },
    ]);
  });

  it("aanbeveling 3.1.F: a revocation queues a registration gap and a payroll departure under the basis not in force yet, and the LSI signal", async () => {
    await deliver("wtta.admission-revoked", "szw.toelating", {
      eventTime: "2026-04-01T08:00:00.000Z",
      subjectKvk: UITLENER,
      tradeName: "Tweede Voorbeeld Flexwerk B.V.",
      admissionNumber: "WTTA-2026-0002",
      effectiveDate: "2026-03-15",
      reasons: ["NEGATIVE_INSPECTION"],
      decisionReference: "SZW-INTR-7",
      explanation: null,
    });
    const s = await state();
    expect(s.findings.map((f) => [f.kind, f.municipalityCode, f.outboxState])).toEqual([
      ["NO_ADDRESS", "GM0606", "pending"],
      ["PAYROLL_DEPARTURE", "GM1507", "pending"],
    ]);
    const rows = await outbox();
    expect(rows.map((r) => [r.topic, r.grondslag])).toEqual([
      ["loonaangifte.payroll-departure", "brp-feedbackcyclus-loonaangifte"],
      ["loonaangifte.registration-gap", "brp-feedbackcyclus-loonaangifte"],
      ["lsi.signal-raised", "suwi-art64"],
    ]);
    expect(rows[0]!.value).toMatchObject({
      person: { bsn: BSN_C },
      stayMunicipalityCode: "GM1507",
      lastPayrollPeriodEnd: "2026-01-31",
    });
    expect(rows[1]!.value).toMatchObject({
      gapKind: "NO_ADDRESS",
      worker: { bsn: BSN_B },
      municipality: { code: "GM0606" },
    });
    expect(rows[2]!.value).toMatchObject({ subjectKvk: UITLENER, kind: "UNADMITTED_LENDING", persons: [] });
    // What the gateway will decide on each (its pure decision, as it runs it): the feedback cycle has no law yet.
    const verdicts = rows.map((r) => {
      const d = checkProduce(loadCatalogue(), {
        topic: String(r.topic),
        party: "uwv",
        grondslag: String(r.grondslag),
        purpose: String(r.purpose),
        at: now,
        payload: r.value,
      });
      return d.ok ? "ok" : d.code;
    });
    expect(verdicts).toEqual(["LEGAL_BASIS_NOT_IN_FORCE", "LEGAL_BASIS_NOT_IN_FORCE", "ok"]);
    // The state never shows a BSN.
    expect(JSON.stringify(await runtime.snapshot())).not.toMatch(new RegExp(`${BSN_A}|${BSN_B}|${BSN_C}`));
    // The same decision again (a new event id): nothing new.
    await deliver("wtta.admission-revoked", "szw.toelating", {
      eventTime: "2026-04-01T08:00:00.000Z",
      subjectKvk: UITLENER,
      effectiveDate: "2026-03-15",
      decisionReference: "SZW-INTR-7",
    });
    expect(await outbox()).toHaveLength(3);
  });

  it("ch. 6: an AMU case naming UWV is recorded as UWV's", async () => {
    await deliver("amu.case-opened", "nla", {
      eventTime: now.toISOString(),
      subjectKvk: UITLENER,
      caseReference: "AMU-NLA-90000002-20260401",
      partners: ["NLA", "UWV"],
      concerns: ["LABOUR_LAW"],
      summary: null,
    });
    expect((await state()).amuCases).toEqual([
      expect.objectContaining({
        caseReference: "AMU-NLA-90000002-20260401",
        uwvPartner: true,
        openedBy: "nla",
      }),
    ]);
  });
});
