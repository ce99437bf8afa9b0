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
 * The Arbeidsinspectie's wiring on real PostgreSQL: deliveries handled by the agency runtime (its inbox, one
 * transaction per event, the outbox), the desk and the deadline sweep, with a clock the spec moves. The gateway and
 * Kafka are not involved: what is proved here is that each delivery becomes the expected rows and outbox events
 * (the runtime's own specs prove the way from the outbox to the bus). The runtime is not started, so its relay
 * leaves the outbox rows pending for the spec to read.
 */
const stack = testStack();
const UITLENER = "90000002";
const INLENER = "90000101";
const BSN = "111222333";

type Row = Record<string, unknown>;
type Received<K extends Topic> = Delivery<TopicMap[K]>["value"];
interface NlaState {
  cases: Row[];
  pairs: Row[];
  enforcementActions: Row[];
  signals: Row[];
  amuCases: Row[];
  housingViolations: Row[];
  inspectionReports: Row[];
}
interface OutboxRow {
  topic: string;
  value: Row;
  grondslag: string;
  purpose: string;
}

describe("nla on real PostgreSQL", () => {
  const schema = uniqueDbSchema("nla_int");
  let store: Store;
  let runtime: AgencyRuntime;
  let now = new Date("2026-03-02T10:00:00.000Z");

  beforeAll(async () => {
    store = new Store(databaseUrl(stack.postgres), schema);
    runtime = new AgencyRuntime(
      agency.spec,
      {
        party: "nla",
        gatewayUrl: "http://127.0.0.1:9",
        brokers: stack.kafka.brokers,
        kafkaPassword: "unused: the runtime is not started",
        groupPrefix: `nla.int-${crypto.randomBytes(4).toString("hex")}`,
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
  const state = async () => (await runtime.snapshot()).state as NlaState;
  const outbox = (topic: string) =>
    store.query<OutboxRow & Row>(
      `SELECT topic, value, grondslag, purpose FROM ${schema}.outbox WHERE topic = $1 ORDER BY seq`,
      [topic],
    );
  const report = (
    subjectKvk: string,
    reportReference: string,
    accidentTime = "2026-03-02T07:30:00.000Z",
  ) => ({
    eventTime: "2026-03-02T09:00:00.000Z",
    subjectKvk,
    reportReference,
    accidentTime,
    severity: "SERIOUS" as const,
    inlener: { kvk: INLENER, name: "Kassenbedrijf De Voorbeeldhof B.V." },
    location: { municipalityCode: "GM1507" },
    victim: { bsn: BSN, agencyWorker: true },
  });

  it("ch. 2.3: the inlener's and the uitlener's reports of one accident make one case, with the pair and no BSN in the state", async () => {
    expect(await deliver("arbo.accident-reported", "inlener.90000101", report(INLENER, "INL-1"))).toBe(
      "handled",
    );
    expect(await deliver("arbo.accident-reported", "uitlener.90000002", report(UITLENER, "UIT-1"))).toBe(
      "handled",
    );
    // The same report again, under a new event id: recorded once.
    expect(await deliver("arbo.accident-reported", "uitlener.90000002", report(UITLENER, "UIT-1"))).toBe(
      "handled",
    );
    const s = await state();
    expect(s.cases).toHaveLength(1);
    expect(s.cases[0]).toMatchObject({
      inlenerKvk: INLENER,
      uitlenerKvk: UITLENER,
      checkDeadline: "2026-03-16",
      checkStatus: "OPEN",
      reports: ["inlener.90000101:INL-1", "uitlener.90000002:UIT-1"],
    });
    expect(s.pairs).toEqual([
      expect.objectContaining({ inlenerKvk: INLENER, uitlenerKvk: UITLENER, endedOn: null }),
    ]);
    expect(JSON.stringify(await runtime.snapshot())).not.toContain(BSN);
  });

  it("aanbeveling 2.1.G: a late check with resumed work closes the case VERIFIED_LATE and flags it", async () => {
    await deliver("arbo.return-verified", "uitlener.90000002", {
      eventTime: "2026-03-20T09:00:00.000Z",
      subjectKvk: UITLENER,
      accidentReportReference: "UIT-1",
      inlenerKvk: INLENER,
      workerBsn: BSN,
      verifiedOn: "2026-03-20",
      measures: ["EQUIPMENT_SAFEGUARDED"],
      measuresDescription: "Machine afgeschermd",
      workResumed: true,
    });
    const s = await state();
    expect(s.cases[0]).toMatchObject({
      checkStatus: "VERIFIED_LATE",
      verifiedOn: "2026-03-20",
      flags: ["WORK_RESUMED_BEFORE_VERIFICATION"],
    });
  });

  it("ch. 2.3: the deadline sweep flags an open check the day after its deadline while the inlener still hires", async () => {
    await deliver(
      "arbo.accident-reported",
      "uitlener.90000002",
      report(UITLENER, "UIT-2", "2026-03-05T08:00:00.000Z"),
    );
    const sweep = agency.spec.timers!.find((t) => t.name === "deadlines")!;
    now = new Date("2026-03-19T12:00:00.000Z"); // deadline 19 March: still on time
    await runtime.transaction((ctx) => sweep.run(ctx));
    expect((await state()).cases[1]).toMatchObject({ checkStatus: "OPEN", flags: [] });
    now = new Date("2026-03-20T08:00:00.000Z");
    await runtime.transaction((ctx) => sweep.run(ctx));
    expect((await state()).cases[1]).toMatchObject({
      checkStatus: "OVERDUE",
      flags: ["DEADLINE_PASSED_WHILE_HIRING"],
    });
  });

  it("ch. 2.1: a revocation in force gives the inlener still hiring an enforcement action and one UNADMITTED_LENDING signal without persons", async () => {
    now = new Date("2026-04-01T09:00:00.000Z");
    await deliver("wtta.admission-revoked", "szw.toelating", {
      eventTime: "2026-04-01T08:00:00.000Z",
      subjectKvk: UITLENER,
      tradeName: "Tweede Voorbeeld Flexwerk B.V.",
      admissionNumber: "WTTA-2026-0002",
      effectiveDate: "2026-04-01",
      reasons: ["NEGATIVE_INSPECTION", "TAX_ARREARS"],
      decisionReference: "SZW-INTR-7",
      explanation: null,
    });
    const s = await state();
    expect(s.enforcementActions).toEqual([
      expect.objectContaining({
        inlenerKvk: INLENER,
        cause: "HIRING_AFTER_REVOCATION",
        action: "BESTUURLIJKE_BOETE_ONDERZOEK",
      }),
    ]);
    const signals = await outbox("lsi.signal-raised");
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({
      grondslag: "suwi-art64",
      purpose: "lsi-samenwerking",
      value: { subjectKvk: UITLENER, kind: "UNADMITTED_LENDING", persons: [], municipalityCode: null },
    });
    // nla's own signal comes back as a delivery: recorded once, and alone it opens no AMU case.
    await deliver("lsi.signal-raised", "nla", signals[0]!.value as Received<"lsi.signal-raised">);
    expect((await state()).signals).toHaveLength(1);
    expect(await outbox("amu.case-opened")).toHaveLength(0);
  });

  it("ch. 6: the Belastingdienst's signal about the same uitlener opens one joint AMU case; a third partner's opens no second", async () => {
    const signal = (ref: string, kind: "G_ACCOUNT_DEFAULT" | "UNADMITTED_LENDING") => ({
      eventTime: now.toISOString(),
      subjectKvk: UITLENER,
      signalReference: ref,
      kind,
      municipalityCode: null,
      persons: [],
      summary: "g-rekening leeg, loonheffing onbetaald",
    });
    await deliver("lsi.signal-raised", "belastingdienst", signal("BD-1", "G_ACCOUNT_DEFAULT"));
    await deliver("lsi.signal-raised", "uwv", signal("UWV-1", "UNADMITTED_LENDING"));
    const cases = await outbox("amu.case-opened");
    expect(cases).toHaveLength(1);
    expect(cases[0]!.value).toMatchObject({
      subjectKvk: UITLENER,
      caseReference: "AMU-NLA-90000002-20260401",
      partners: ["NLA", "BELASTINGDIENST"],
      concerns: ["LABOUR_LAW", "TAX_EVASION"],
    });
    // The case comes back as a delivery: still one.
    await deliver("amu.case-opened", "nla", cases[0]!.value as Received<"amu.case-opened">);
    expect((await state()).amuCases).toHaveLength(1);
  });

  it("ch. 6.1: every event nla queued is one the gateway accepts from nla (producer entry, basis in force)", async () => {
    const rows = await store.query<OutboxRow & Row>(
      `SELECT topic, value, grondslag, purpose FROM ${schema}.outbox`,
    );
    expect(rows.map((r) => r.topic).sort()).toEqual(["amu.case-opened", "lsi.signal-raised"]);
    for (const r of rows) {
      const d = checkProduce(loadCatalogue(), { ...r, party: "nla", at: now, payload: r.value });
      expect(d.ok ? "ok" : d.code).toBe("ok");
    }
  });

  it("ch. 2.1: end-hiring refuses a pair nla does not know, and ends a known one", async () => {
    const desk = agency.spec.desk!["end-hiring"]!;
    await expect(
      runtime.transaction((ctx) =>
        desk.run(ctx, { inlenerKvk: "90000199", uitlenerKvk: UITLENER, endedOn: "2026-04-02" }),
      ),
    ).rejects.toBeInstanceOf(DeskRefusal);
    await runtime.transaction((ctx) =>
      desk.run(ctx, { inlenerKvk: INLENER, uitlenerKvk: UITLENER, endedOn: "2026-04-02" }),
    );
    expect((await state()).pairs[0]).toMatchObject({ endedOn: "2026-04-02" });
  });

  it("ch. 6.1: housing violations and inspection reports are recorded", async () => {
    await deliver("huisvesting.violation-found", "gemeente.schiedam", {
      eventTime: now.toISOString(),
      subjectKvk: UITLENER,
      subjectRole: "EMPLOYER",
      caseReference: "GM0606-2026-12",
      inspectionDate: "2026-03-20",
      announced: false,
      dwelling: { municipalityCode: "GM0606", occupants: 14, qualityMark: "NONE" },
      violations: ["OVERCROWDING"],
      notes: null,
    });
    await deliver("inspectie.report-filed", "inspectie.sna", {
      eventTime: now.toISOString(),
      subjectKvk: UITLENER,
      reportId: "SNA-2026-3",
      inspectionDate: "2026-03-25",
      announced: false,
      filesSampled: 20,
      outcome: "NON_COMPLIANT",
      findings: [{ normArea: "WAGES", severity: "MAJOR", description: "onderbetaling" }],
    });
    const s = await state();
    expect(s.housingViolations).toEqual([
      expect.objectContaining({ caseReference: "GM0606-2026-12", violations: ["OVERCROWDING"] }),
    ]);
    expect(s.inspectionReports).toEqual([
      expect.objectContaining({ reportId: "SNA-2026-3", majorFindings: 1 }),
    ]);
  });
});
