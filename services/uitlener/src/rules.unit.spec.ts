import { encodeEvent, exampleEvent, identifierProblems, rawSchema, type Topic } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
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
  UNKNOWN_TO_UITLENER,
  uitlenerReportReference,
  verifyReturn,
  type AdmissionDecision,
  type Delivered,
  type InlenerRecord,
  type NoticeRecord,
  type Placement,
  type RegisterEntry,
  type ReportAccidentInput,
  type Self,
  type VergewisTask,
  type WorkerRecord,
} from "./rules";
import type { AccidentNotified, RegisterEntryUpdated } from "@grondslag/schemas";

const uitlener: Self = selfFromParty(
  { id: "uitlener.90000002", name: "Tweede Voorbeeld Flexwerk B.V.", kind: "uitlener", kvk: "90000002" },
  "uitlener.90000002",
);
const inlener: Self = selfFromParty(
  { id: "inlener.90000101", name: "Kassenbedrijf De Voorbeeldhof B.V.", kind: "inlener", kvk: "90000101" },
  "inlener.90000101",
);
const now = new Date("2026-03-02T10:00:00.000Z");

const worker: WorkerRecord = {
  bsn: "111222333",
  name: "Jan Voorbeeld",
  dateOfBirth: "1994-05-17",
  nationality: "PL",
  occupation: "harvester",
  inlenerKvk: "90000101",
};
const workplace = {
  street: "Tuinbouwweg",
  houseNumber: "12",
  postalCode: "5961AB",
  municipalityCode: "GM1507",
  workplace: "greenhouse",
};
const inlenerRecord: InlenerRecord = {
  kvk: "90000101",
  name: "Kassenbedrijf De Voorbeeldhof B.V.",
  workplace,
};

/** The notice as the uitlener receives it: the JSON form of the catalogue's example, addressed to 90000002. */
function notice(over: Partial<Delivered<AccidentNotified>> = {}): Delivered<AccidentNotified> {
  const e = exampleEvent("arbo.accident-notified");
  return {
    ...e,
    eventTime: e.eventTime.toISOString(),
    accidentTime: e.accidentTime.toISOString(),
    subjectKvk: "90000002",
    ...over,
  };
}

/** A published JSON value fits the topic's Avro schema (the HTTP API encodes the JSON form as is) and identifiers. */
function fitsSchema(topic: Topic, json: object): void {
  expect(() => encodeEvent(topic, json as never)).not.toThrow();
  expect(identifierProblems(rawSchema(topic), json)).toEqual([]);
}

describe("the party the service runs as", () => {
  it("ch. 2.1: runs as an uitlener or an inlener, by the catalogue party's kind and KvK", () => {
    expect(uitlener).toEqual({
      party: "uitlener.90000002",
      role: "uitlener",
      kvk: "90000002",
      name: "Tweede Voorbeeld Flexwerk B.V.",
    });
    expect(inlener.role).toBe("inlener");
    expect(() => selfFromParty({ id: "nla", name: "NLA", kind: "toezichthouder" }, "nla")).toThrow(
      /uitlener or an inlener/,
    );
    expect(() => selfFromParty(undefined, "uitlener.99999999")).toThrow(/not a party/);
    expect(() => selfFromParty({ id: "uitlener.x", name: "X", kind: "uitlener" }, "uitlener.x")).toThrow(
      /KvK/,
    );
  });
});

describe("uitlener: its own administration", () => {
  it("ch. 2.1: records a lent worker in its own administration (opgenomen in de administratie)", () => {
    const d = registerWorker(uitlener, worker, [], now);
    expect(d).toEqual({ worker });
  });

  it("identifiers: refuses a BSN that fails the elfproef, without echoing it", () => {
    const d = registerWorker(uitlener, { ...worker, bsn: "111222334" }, [], now);
    expect(isRefusal(d) && d.rule).toMatch(/elfproef/);
    expect(JSON.stringify(d)).not.toContain("111222334");
    expect(JSON.stringify(d)).not.toContain("Jan Voorbeeld");
  });

  it("identifiers: refuses a date of birth after today and a nationality that is not ISO alpha-2", () => {
    expect(isRefusal(registerWorker(uitlener, { ...worker, dateOfBirth: "2026-03-03" }, [], now))).toBe(true);
    expect(isRefusal(registerWorker(uitlener, { ...worker, dateOfBirth: "2026-03-02" }, [], now))).toBe(
      false,
    );
    expect(isRefusal(registerWorker(uitlener, { ...worker, nationality: "Polish" }, [], now))).toBe(true);
  });

  it("ch. 2.1: without an admission it may not place workers (verboden zonder een toelating), from the effective day", () => {
    const revoked: AdmissionDecision = {
      status: "NOT_ADMITTED",
      admissionNumber: "WTTA-2026-000124",
      effectiveDate: "2026-03-02",
      decisionReference: "SZW-2026-9",
    };
    const d = registerWorker(uitlener, worker, [revoked], now);
    expect(isRefusal(d) && d.rule).toMatch(/ch\. 2\.1/);
    // Not placed at an inlener: still its own administration.
    expect(registerWorker(uitlener, { ...worker, inlenerKvk: null }, [revoked], now)).toEqual({
      worker: { ...worker, inlenerKvk: null },
    });
    // The day before the revocation takes effect it still may.
    expect(
      isRefusal(registerWorker(uitlener, worker, [{ ...revoked, effectiveDate: "2026-03-03" }], now)),
    ).toBe(false);
  });

  it("role: an inlener has no worker register of an uitlener", () => {
    const d = registerWorker(inlener, worker, [], now);
    expect(isRefusal(d) && d.rule).toMatch(/role/);
  });

  it("ch. 2.3: records an inlener with the workplace address; refuses a malformed gemeentecode", () => {
    expect(registerInlener(uitlener, inlenerRecord)).toEqual({ inlener: inlenerRecord });
    const bad = registerInlener(uitlener, {
      ...inlenerRecord,
      workplace: { ...workplace, municipalityCode: "1507" },
    });
    expect(isRefusal(bad) && bad.rule).toMatch(/gemeentecode/);
  });

  it("ch. 2.1: records its own admission from the minister's decision; the latest effective one applies", () => {
    const provisional: AdmissionDecision = {
      status: "PROVISIONALLY_ADMITTED",
      admissionNumber: "WTTA-2026-000124",
      effectiveDate: "2026-01-12",
      decisionReference: "SZW-2026-1",
    };
    const revoked: AdmissionDecision = {
      ...provisional,
      status: "NOT_ADMITTED",
      effectiveDate: "2026-06-01",
      decisionReference: "SZW-2026-9",
    };
    expect(recordAdmissionDecision(uitlener, provisional, [])).toEqual({
      decision: provisional,
      duplicate: false,
    });
    expect(recordAdmissionDecision(uitlener, provisional, [provisional])).toEqual({
      decision: provisional,
      duplicate: true,
    });
    const conflicting = recordAdmissionDecision(uitlener, { ...provisional, status: "ADMITTED" }, [
      provisional,
    ]);
    expect(isRefusal(conflicting) && conflicting.rule).toMatch(/duplicate reference/);
    const noNumber = recordAdmissionDecision(uitlener, { ...provisional, admissionNumber: null }, []);
    expect(isRefusal(noNumber) && noNumber.rule).toMatch(/number/);
    expect(admissionOn([provisional, revoked], "2026-05-31")?.status).toBe("PROVISIONALLY_ADMITTED");
    expect(admissionOn([provisional, revoked], "2026-06-01")?.status).toBe("NOT_ADMITTED");
    expect(admissionOn([provisional, revoked], "2026-01-11")).toBeUndefined();
  });
});

describe("uitlener: the inlener's notice becomes its own report and a vergewis task", () => {
  const state = { existing: undefined, worker, inlener: inlenerRecord };

  it("ch. 2.3: reports the lent worker's accident to the Arbeidsinspectie under its own KvK (meld- en vergewisplicht)", () => {
    const d = reportFromNotice(uitlener, notice(), state, now);
    if (isPoisoned(d) || d.kind !== "reported")
      throw new Error(`expected a report, got ${JSON.stringify(d)}`);
    const ref = uitlenerReportReference("90000002", {
      inlenerKvk: "90000101",
      notificationReference: "VDH-ONG-2026-007",
    });
    expect(d.report).toMatchObject({
      eventTime: now.toISOString(),
      subjectKvk: "90000002",
      reportReference: ref,
      accidentTime: "2026-03-01T13:40:00.000Z",
      severity: "SERIOUS",
      inlener: { kvk: "90000101", name: "Kassenbedrijf De Voorbeeldhof B.V." },
      location: workplace,
      victim: {
        bsn: "111222333",
        name: "Jan Voorbeeld",
        dateOfBirth: "1994-05-17",
        nationality: "PL",
        occupation: "harvester",
        agencyWorker: true,
      },
    });
    expect(d.notice).toMatchObject({
      status: "REPORTED",
      reportReference: ref,
      accidentReportReference: "VDH-ARBO-2026-007",
    });
    // The gateway's bind for an uitlener's report: subjectKvk = its own KvK.
    expect(d.report.subjectKvk).toBe(uitlener.kvk);
    fitsSchema("arbo.accident-reported", d.report);
  });

  it("ch. 2.3: what the notice never carries (the injury) is stated as unknown, not invented", () => {
    const d = reportFromNotice(uitlener, notice(), state, now);
    if (isPoisoned(d) || d.kind !== "reported") throw new Error("expected a report");
    expect(d.report.injury).toEqual({
      nature: "OTHER",
      bodyPart: UNKNOWN_TO_UITLENER,
      hospitalised: false,
      hospitalisedDays: null,
    });
    expect(d.report.circumstances).toContain("niet meegedeeld");
    expect(d.report.circumstances).toContain("VDH-ARBO-2026-007");
    expect(d.report.circumstances).not.toContain("Jan Voorbeeld");
    expect(d.report.circumstances).not.toContain("111222333");
    const fatal = reportFromNotice(uitlener, notice({ severity: "FATAL" }), state, now);
    if (isPoisoned(fatal) || fatal.kind !== "reported") throw new Error("expected a report");
    expect(fatal.report.injury.nature).toBe("FATAL_INJURY");
  });

  it("ch. 2.3: without the inlener's workplace address in its records, the place is the notice's municipality and the rest unknown", () => {
    for (const inl of [
      undefined,
      { ...inlenerRecord, workplace: null },
      { ...inlenerRecord, workplace: { ...workplace, municipalityCode: "GM0606" } },
    ]) {
      const d = reportFromNotice(uitlener, notice(), { ...state, inlener: inl }, now);
      if (isPoisoned(d) || d.kind !== "reported") throw new Error("expected a report");
      expect(d.report.location).toEqual({
        street: UNKNOWN_TO_UITLENER,
        houseNumber: UNKNOWN_TO_UITLENER,
        postalCode: UNKNOWN_TO_UITLENER,
        municipalityCode: "GM1507",
        workplace: UNKNOWN_TO_UITLENER,
      });
    }
  });

  it("ch. 2.3: opens a vergewis task: verify before the worker resumes at the same inlener", () => {
    const d = reportFromNotice(uitlener, notice(), state, now);
    if (isPoisoned(d) || d.kind !== "reported") throw new Error("expected a report");
    expect(d.task).toEqual({
      reportReference: d.report.reportReference,
      notificationReference: "VDH-ONG-2026-007",
      inlenerKvk: "90000101",
      workerBsn: "111222333",
      severity: "SERIOUS",
      accidentTime: "2026-03-01T13:40:00.000Z",
      openedAt: now.toISOString(),
      status: "OPEN",
      verifiedOn: null,
      workResumed: null,
    });
  });

  it("duplicate reference: a second notice with the same inlener and reference makes no second report", () => {
    const first = reportFromNotice(uitlener, notice(), state, now);
    if (isPoisoned(first) || first.kind !== "reported") throw new Error("expected a report");
    const again = reportFromNotice(
      uitlener,
      notice({ eventTime: "2026-03-01T17:00:00.000Z" }),
      { ...state, existing: first.notice },
      now,
    );
    expect(again).toEqual({ kind: "duplicate", notice: first.notice });
  });

  it("ch. 2.3: its own workers only — a notice addressed to another uitlener is poison", () => {
    const d = reportFromNotice(uitlener, notice({ subjectKvk: "90000001" }), state, now);
    expect(isPoisoned(d) && d.reason).toMatch(/another uitlener/);
  });

  it("a notice about a worker it has no record of waits, and is reported once the worker is registered", () => {
    const d = reportFromNotice(uitlener, notice(), { ...state, worker: undefined }, now);
    if (isPoisoned(d) || d.kind !== "worker-unknown") throw new Error("expected a waiting notice");
    expect(d.notice.status).toBe("WORKER_UNKNOWN");
    const later = new Date("2026-03-03T09:00:00.000Z");
    const r = reportNotice(uitlener, d.notice, worker, inlenerRecord, later);
    expect(!isPoisoned(r) && r.kind).toBe("reported");
    // Another worker's record does not match the notice's BSN.
    const other = reportNotice(uitlener, d.notice, { ...worker, bsn: "123456782" }, inlenerRecord, later);
    expect(!isPoisoned(other) && other.kind).toBe("worker-unknown");
  });

  it("a notice that lacks a field the report needs is poison, and the reason names the field, never a BSN", () => {
    const d = reportFromNotice(uitlener, notice({ worker: { name: "Jan Voorbeeld" } }), state, now);
    expect(isPoisoned(d) && d.reason).toMatch(/worker\.bsn/);
    expect(JSON.stringify(d)).not.toContain("Jan Voorbeeld");
    const noTime = reportFromNotice(uitlener, notice({ accidentTime: undefined }), state, now);
    expect(isPoisoned(noTime) && noTime.reason).toMatch(/accidentTime/);
  });

  it("role: an inlener does not take accident notices", () => {
    expect(isPoisoned(reportFromNotice(inlener, notice(), state, now))).toBe(true);
  });
});

describe("uitlener: verifying the return (vergewisplicht)", () => {
  const task: VergewisTask = {
    reportReference: "UIT-90000002-90000101-VDH-ONG-2026-007",
    notificationReference: "VDH-ONG-2026-007",
    inlenerKvk: "90000101",
    workerBsn: "111222333",
    severity: "SERIOUS",
    accidentTime: "2026-03-01T13:40:00.000Z",
    openedAt: "2026-03-02T10:00:00.000Z",
    status: "OPEN",
    verifiedOn: null,
    workResumed: null,
  };
  const input = {
    reportReference: task.reportReference,
    verifiedOn: "2026-03-19",
    measures: ["EQUIPMENT_SAFEGUARDED", "INSTRUCTION_GIVEN", "INSTRUCTION_GIVEN"] as const,
    measuresDescription: "Rail end stops fitted; instruction given in Polish.",
    workResumed: true,
  };
  const later = new Date("2026-03-20T11:00:00.000Z");

  it("ch. 2.3: verifies the inlener's measures (voldoende maatregelen) and closes the task", () => {
    const d = verifyReturn(uitlener, { ...input, measures: [...input.measures] }, task, later);
    if (isRefusal(d)) throw new Error(d.message);
    expect(d.task).toMatchObject({ status: "VERIFIED", verifiedOn: "2026-03-19", workResumed: true });
    expect(d.event).toEqual({
      eventTime: later.toISOString(),
      subjectKvk: "90000002",
      accidentReportReference: task.reportReference,
      inlenerKvk: "90000101",
      workerBsn: "111222333",
      verifiedOn: "2026-03-19",
      measures: ["EQUIPMENT_SAFEGUARDED", "INSTRUCTION_GIVEN"],
      measuresDescription: input.measuresDescription,
      workResumed: true,
    });
    fitsSchema("arbo.return-verified", d.event);
  });

  it("ch. 2.3: refuses an unknown task and a task already verified", () => {
    const unknown = verifyReturn(uitlener, { ...input, measures: [...input.measures] }, undefined, later);
    expect(isRefusal(unknown) && unknown.fix).toMatch(/open task/);
    const closed = verifyReturn(
      uitlener,
      { ...input, measures: [...input.measures] },
      { ...task, status: "VERIFIED", verifiedOn: "2026-03-10" },
      later,
    );
    expect(isRefusal(closed) && closed.rule).toMatch(/one verification/);
  });

  it("ch. 2.3: the verification lies between the accident day and today (boundaries included)", () => {
    const m = [...input.measures];
    expect(
      isRefusal(verifyReturn(uitlener, { ...input, measures: m, verifiedOn: "2026-02-28" }, task, later)),
    ).toBe(true);
    expect(
      isRefusal(verifyReturn(uitlener, { ...input, measures: m, verifiedOn: "2026-03-01" }, task, later)),
    ).toBe(false);
    expect(
      isRefusal(verifyReturn(uitlener, { ...input, measures: m, verifiedOn: "2026-03-20" }, task, later)),
    ).toBe(false);
    expect(
      isRefusal(verifyReturn(uitlener, { ...input, measures: m, verifiedOn: "2026-03-21" }, task, later)),
    ).toBe(true);
  });

  it("ch. 2.3: without measures there is nothing to verify; a fatal accident's worker does not resume", () => {
    const none = verifyReturn(uitlener, { ...input, measures: [] }, task, later);
    expect(isRefusal(none) && none.rule).toMatch(/maatregelen/);
    const fatal = verifyReturn(
      uitlener,
      { ...input, measures: [...input.measures] },
      { ...task, severity: "FATAL" },
      later,
    );
    expect(isRefusal(fatal) && fatal.rule).toMatch(/fatal/);
    const fatalOk = verifyReturn(
      uitlener,
      { ...input, measures: [...input.measures], workResumed: false },
      { ...task, severity: "FATAL" },
      later,
    );
    expect(isRefusal(fatalOk)).toBe(false);
  });
});

describe("inlener: the public register", () => {
  function entry(over: Partial<Delivered<RegisterEntryUpdated>> = {}): Delivered<RegisterEntryUpdated> {
    return {
      eventTime: "2026-01-12T09:00:00.000Z",
      subjectKvk: "90000002",
      tradeName: "Tweede Voorbeeld Flexwerk B.V.",
      admissionNumber: "WTTA-2026-000124",
      registerStatus: "PROVISIONALLY_ADMITTED",
      effectiveDate: "2026-01-12",
      ...over,
    };
  }
  const active: Placement = {
    uitlenerKvk: "90000002",
    workerBsn: "111222333",
    since: "2026-02-01",
    status: "ACTIVE",
    endBy: null,
    endReason: null,
  };
  const otherUitlener: Placement = { ...active, uitlenerKvk: "90000001", workerBsn: "123456782" };

  it("ch. 2.1: records the uitlener's register status (openbaar register, notificatiesysteem)", () => {
    const d = recordRegisterEntry(inlener, entry(), undefined, [active]);
    expect(d).toEqual({
      kind: "recorded",
      entry: {
        uitlenerKvk: "90000002",
        tradeName: "Tweede Voorbeeld Flexwerk B.V.",
        admissionNumber: "WTTA-2026-000124",
        registerStatus: "PROVISIONALLY_ADMITTED",
        effectiveDate: "2026-01-12",
        eventTime: "2026-01-12T09:00:00.000Z",
      },
      placementsToEnd: [],
    });
  });

  it("ch. 2.1: on NOT_ADMITTED the placements from that uitlener are to be ended (geen zaken meer met niet-toegelaten uitleners)", () => {
    const d = recordRegisterEntry(
      inlener,
      entry({
        registerStatus: "NOT_ADMITTED",
        eventTime: "2026-06-01T09:00:00.000Z",
        effectiveDate: "2026-06-01",
      }),
      undefined,
      [
        active,
        otherUitlener,
        { ...active, workerBsn: "234567004", status: "TO_BE_ENDED", endBy: "2026-05-01", endReason: "x" },
      ],
    );
    if (isPoisoned(d) || d.kind !== "recorded") throw new Error("expected a record");
    expect(d.placementsToEnd).toHaveLength(1);
    expect(d.placementsToEnd[0]).toMatchObject({
      workerBsn: "111222333",
      uitlenerKvk: "90000002",
      status: "TO_BE_ENDED",
      endBy: "2026-06-01",
    });
    expect(d.placementsToEnd[0]?.endReason).toMatch(/not admitted/);
  });

  it("an older register entry than the one recorded changes nothing", () => {
    const current: RegisterEntry = {
      uitlenerKvk: "90000002",
      tradeName: "Tweede Voorbeeld Flexwerk B.V.",
      admissionNumber: "WTTA-2026-000124",
      registerStatus: "NOT_ADMITTED",
      effectiveDate: "2026-06-01",
      eventTime: "2026-06-01T09:00:00.000Z",
    };
    expect(recordRegisterEntry(inlener, entry(), current, [active])).toEqual({
      kind: "stale",
      entry: current,
    });
  });

  it("a register entry that lacks a field is poison; an uitlener does not read the register", () => {
    const d = recordRegisterEntry(inlener, entry({ registerStatus: undefined }), undefined, []);
    expect(isPoisoned(d) && d.reason).toMatch(/registerStatus/);
    expect(isPoisoned(recordRegisterEntry(uitlener, entry(), undefined, []))).toBe(true);
  });

  it("ch. 2.1: refuses a placement from an uitlener the register shows NOT_ADMITTED; warns for one it has not seen", () => {
    const revoked: RegisterEntry = {
      uitlenerKvk: "90000002",
      tradeName: "T",
      admissionNumber: "WTTA-2026-000124",
      registerStatus: "NOT_ADMITTED",
      effectiveDate: "2026-06-01",
      eventTime: "2026-06-01T09:00:00.000Z",
    };
    const input = { uitlenerKvk: "90000002", workerBsn: "111222333", since: "2026-06-01" };
    const refused = registerPlacement(inlener, input, revoked, undefined);
    expect(isRefusal(refused) && refused.rule).toMatch(/ch\. 2\.1/);
    // A placement that began the day before the revocation took effect is history, not a new hire.
    expect(isRefusal(registerPlacement(inlener, { ...input, since: "2026-05-31" }, revoked, undefined))).toBe(
      false,
    );
    const unseen = registerPlacement(inlener, input, undefined, undefined);
    expect(!isRefusal(unseen) && unseen.warning).toMatch(/public register/);
    const admitted = registerPlacement(inlener, input, { ...revoked, registerStatus: "ADMITTED" }, undefined);
    expect(!isRefusal(admitted) && admitted.warning).toBeNull();
    expect(
      isRefusal(registerPlacement(inlener, { ...input, uitlenerKvk: "90000101" }, undefined, undefined)),
    ).toBe(true);
    expect(
      isRefusal(registerPlacement(inlener, { ...input, workerBsn: "111222334" }, undefined, undefined)),
    ).toBe(true);
  });
});

describe("inlener: reporting an accident", () => {
  const input: ReportAccidentInput = {
    reportReference: "VDH-ARBO-2026-007",
    uitlenerKvk: "90000002",
    accidentTime: "2026-03-01T13:40:00.000Z",
    severity: "SERIOUS",
    worker: {
      bsn: "111222333",
      name: "Jan Voorbeeld",
      dateOfBirth: "1994-05-17",
      nationality: "PL",
      occupation: "harvester",
    },
    location: workplace,
    injury: { nature: "FRACTURE", bodyPart: "left leg", hospitalised: true, hospitalisedDays: 3 },
    circumstances: "Trolley left the rail while being moved between rows.",
  };
  const empty = { existing: undefined, placement: undefined };

  it("ch. 2.3: the inlener reports to the Arbeidsinspectie (Arbowet) and notifies the uitlener whose worker it was", () => {
    const d = reportAccident(inlener, input, empty, now);
    if (isRefusal(d)) throw new Error(d.message);
    // The gateway's bind for both: inlener.kvk = the inlener's own KvK; the uitlener's row filter: subjectKvk.
    expect(d.report.inlener).toEqual({ kvk: "90000101", name: "Kassenbedrijf De Voorbeeldhof B.V." });
    expect(d.notice.inlener).toEqual(d.report.inlener);
    expect(d.report.subjectKvk).toBe("90000002");
    expect(d.notice.subjectKvk).toBe("90000002");
    expect(d.report).toMatchObject({
      reportReference: "VDH-ARBO-2026-007",
      severity: "SERIOUS",
      victim: { agencyWorker: true },
      injury: input.injury,
    });
    expect(d.notice).toEqual({
      eventTime: now.toISOString(),
      subjectKvk: "90000002",
      notificationReference: "VDH-ARBO-2026-007-UIT",
      accidentReportReference: "VDH-ARBO-2026-007",
      accidentTime: "2026-03-01T13:40:00.000Z",
      severity: "SERIOUS",
      inlener: { kvk: "90000101", name: "Kassenbedrijf De Voorbeeldhof B.V." },
      municipalityCode: "GM1507",
      worker: { bsn: "111222333", name: "Jan Voorbeeld" },
    });
    expect(JSON.stringify(d.notice)).not.toContain("left leg");
    expect(d.newPlacement).toMatchObject({
      uitlenerKvk: "90000002",
      workerBsn: "111222333",
      status: "ACTIVE",
    });
    fitsSchema("arbo.accident-reported", d.report);
    fitsSchema("arbo.accident-notified", d.notice);
  });

  it("ch. 2.3: the notice goes to the placement's uitlener; a different one is refused", () => {
    const placement: Placement = {
      uitlenerKvk: "90000001",
      workerBsn: "111222333",
      since: "2026-02-01",
      status: "ACTIVE",
      endBy: null,
      endReason: null,
    };
    const d = reportAccident(inlener, input, { existing: undefined, placement }, now);
    expect(isRefusal(d) && d.fix).toMatch(/90000001/);
    const ok = reportAccident(
      inlener,
      { ...input, uitlenerKvk: "90000001" },
      { existing: undefined, placement },
      now,
    );
    expect(!isRefusal(ok) && ok.newPlacement).toBeNull();
  });

  it("duplicate reference: one report per reference", () => {
    const first = reportAccident(inlener, input, empty, now);
    if (isRefusal(first)) throw new Error(first.message);
    const d = reportAccident(inlener, input, { existing: first.record, placement: undefined }, now);
    expect(isRefusal(d) && d.rule).toMatch(/duplicate/);
  });

  it("ch. 2.3: an accident is reported after it happened (now is the boundary)", () => {
    expect(
      isRefusal(reportAccident(inlener, { ...input, accidentTime: now.toISOString() }, empty, now)),
    ).toBe(false);
    expect(
      isRefusal(reportAccident(inlener, { ...input, accidentTime: "2026-03-02T10:00:00.001Z" }, empty, now)),
    ).toBe(true);
  });

  it("refuses the inlener's own KvK as uitlener, a bad BSN or gemeentecode, a fatal accident without a fatal injury, and an uitlener", () => {
    expect(isRefusal(reportAccident(inlener, { ...input, uitlenerKvk: "90000101" }, empty, now))).toBe(true);
    expect(
      isRefusal(
        reportAccident(inlener, { ...input, worker: { ...input.worker, bsn: "111222334" } }, empty, now),
      ),
    ).toBe(true);
    expect(
      isRefusal(
        reportAccident(
          inlener,
          { ...input, location: { ...workplace, municipalityCode: "GM15" } },
          empty,
          now,
        ),
      ),
    ).toBe(true);
    expect(isRefusal(reportAccident(inlener, { ...input, severity: "FATAL" }, empty, now))).toBe(true);
    const asUitlener = reportAccident(uitlener, input, empty, now);
    expect(isRefusal(asUitlener) && asUitlener.rule).toMatch(/role/);
  });

  it("the inlener's notice, as the uitlener receives it, makes the uitlener's report of the same accident", () => {
    const d = reportAccident(inlener, input, empty, now);
    if (isRefusal(d)) throw new Error(d.message);
    const received = reportFromNotice(
      uitlener,
      d.notice,
      { existing: undefined, worker, inlener: inlenerRecord },
      now,
    );
    if (isPoisoned(received) || received.kind !== "reported") throw new Error("expected a report");
    expect(received.report.accidentTime).toBe(d.report.accidentTime);
    expect(received.report.victim.bsn).toBe(d.report.victim.bsn);
    const stored: NoticeRecord = received.notice;
    expect(stored.accidentReportReference).toBe("VDH-ARBO-2026-007");
  });
});
