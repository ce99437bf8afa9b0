import { describe, expect, it } from "vitest";
import {
  completeInvestigation,
  inBrpExperiment,
  MANY_ON_ONE_ADDRESS,
  meldpuntReport,
  onAdmissionRevoked,
  onLandlordReported,
  onLsiSignal,
  onRegistrationGap,
  onStayAddressProvided,
  onViolationFound,
  recordAdmissionGranted,
  recordInspection,
  recordWorkerLanguage,
  type ContactRow,
  type InspectionInput,
  type InspectionRow,
  type InvestigationRow,
  type NewReference,
  type StayRow,
} from "./rules";

const NOW = new Date("2026-06-15T10:00:00.000Z");
const SCHIEDAM = "GM0606";
const HORST = "GM1507";
const UITLENER = "90000002";
const OTHER = "90000001";
const BSN = [
  "100023757",
  "100039595",
  "100126704",
  "100174218",
  "100372193",
  "100419707",
  "100475140",
] as const;

function refs(): NewReference {
  let n = 0;
  return (kind) => `${kind}-${++n}`;
}

function stay(bsn: string, over: Partial<StayRow> = {}): StayRow {
  return {
    bsn,
    employerKvk: UITLENER,
    street: "Voorbeeldstraat",
    houseNumber: "12",
    postalCode: "3112AB",
    city: "Schiedam",
    municipalityCode: SCHIEDAM,
    since: "2026-02-01",
    source: "RVIG",
    ended: false,
    ...over,
  };
}

function openInvestigation(over: Partial<InvestigationRow> = {}): InvestigationRow {
  return {
    investigationRef: "AO-0",
    bsn: BSN[0],
    employerKvk: UITLENER,
    cause: "REGISTRATION_GAP",
    causeReference: "NO_ADDRESS:2026-05-01/2026-05-31",
    task: "FIND_STAY_ADDRESS",
    status: "OPEN",
    outcome: null,
    openedAt: "2026-06-01T09:00:00.000Z",
    completedAt: null,
    ...over,
  };
}

const provided = (bsn: string, over: Record<string, unknown> = {}) => ({
  eventTime: "2026-06-15T08:00:00.000Z",
  subjectKvk: UITLENER,
  person: { bsn },
  stayAddress: {
    street: "Voorbeeldstraat",
    houseNumber: "12",
    postalCode: "3112 ab",
    city: "Schiedam",
    municipalityCode: SCHIEDAM,
  },
  addressSince: "2026-06-01",
  ...over,
});

const noStayState = {
  code: SCHIEDAM,
  current: undefined,
  history: [],
  othersAtDwelling: [],
  openForPerson: undefined,
  plannedAtDwelling: undefined,
};

describe("registration gaps (loonaangifte.registration-gap)", () => {
  const gap = {
    subjectKvk: UITLENER,
    gapKind: "NO_ADDRESS" as const,
    worker: { bsn: BSN[0], registration: "NON_RESIDENT" as const, employedSince: "2026-01-01" },
    municipality: { code: SCHIEDAM, name: "Schiedam" },
    payrollPeriod: { start: "2026-05-01", end: "2026-05-31" },
  };

  it("ch. 3: a payroll BSN without a stay address in the municipality opens an address investigation to find it", () => {
    const d = onRegistrationGap(gap, { code: SCHIEDAM, openForPerson: undefined }, refs(), NOW);
    expect(d).toMatchObject({
      outcome: "opened",
      investigation: { bsn: BSN[0], cause: "REGISTRATION_GAP", task: "FIND_STAY_ADDRESS", status: "OPEN" },
    });
  });

  it("ch. 3.1: a non-resident on the payroll for more than four months is invited to register as a resident", () => {
    const d = onRegistrationGap(
      { ...gap, gapKind: "NON_RESIDENT_TOO_LONG" },
      { code: SCHIEDAM, openForPerson: undefined },
      refs(),
      NOW,
    );
    expect(d).toMatchObject({ outcome: "opened", investigation: { task: "INVITE_RESIDENT_REGISTRATION" } });
  });

  it("ch. 3: a second gap for a person under investigation joins it; a gap in another municipality is not ours", () => {
    expect(
      onRegistrationGap(gap, { code: SCHIEDAM, openForPerson: openInvestigation() }, refs(), NOW),
    ).toMatchObject({ outcome: "duplicate", investigation: { investigationRef: "AO-0" } });
    expect(onRegistrationGap(gap, { code: HORST, openForPerson: undefined }, refs(), NOW)).toMatchObject({
      outcome: "ignored",
    });
  });

  it("ch. 3: a gap without a valid BSN or municipality is poison, and the reason carries no BSN", () => {
    const bad = onRegistrationGap(
      { ...gap, worker: { ...gap.worker, bsn: "100023758" } },
      { code: SCHIEDAM, openForPerson: undefined },
      refs(),
      NOW,
    );
    expect(bad).toMatchObject({ outcome: "poison" });
    expect(JSON.stringify(bad)).not.toContain("100023758");
    expect(
      onRegistrationGap(
        { ...gap, municipality: undefined },
        { code: SCHIEDAM, openForPerson: undefined },
        refs(),
        NOW,
      ),
    ).toMatchObject({ outcome: "poison" });
  });
});

describe("RvIG's stay addresses (brp.stay-address-provided)", () => {
  it("ch. 3: a stay address in the municipality is recorded with the employer, and completes the search for it", () => {
    const d = onStayAddressProvided(
      provided(BSN[0]),
      { ...noStayState, openForPerson: openInvestigation() },
      refs(),
      NOW,
    );
    expect(d).toMatchObject({
      outcome: "recorded",
      stay: { bsn: BSN[0], employerKvk: UITLENER, postalCode: "3112AB", source: "RVIG" },
      completed: { investigationRef: "AO-0", status: "COMPLETED", outcome: "ADDRESS_PROVIDED" },
      opened: null,
      inspection: null,
    });
  });

  it(`ch. 6.1: the ${MANY_ON_ONE_ADDRESS}th person registering one stay address plans one unannounced housing inspection`, () => {
    const others = BSN.slice(1, MANY_ON_ONE_ADDRESS).map((b) => stay(b));
    const below = onStayAddressProvided(
      provided(BSN[0]),
      { ...noStayState, othersAtDwelling: others.slice(1) },
      refs(),
      NOW,
    );
    expect(below).toMatchObject({ outcome: "recorded", inspection: null });
    const at = onStayAddressProvided(
      provided(BSN[0]),
      { ...noStayState, othersAtDwelling: others },
      refs(),
      NOW,
    );
    expect(at).toMatchObject({
      inspection: { cause: "MANY_ON_ONE_ADDRESS", announced: false, status: "PLANNED", postalCode: "3112AB" },
    });
    const planned = at.outcome === "recorded" ? at.inspection : null;
    expect(
      onStayAddressProvided(
        provided(BSN[0]),
        { ...noStayState, othersAtDwelling: others, plannedAtDwelling: planned ?? undefined },
        refs(),
        NOW,
      ),
    ).toMatchObject({ inspection: null });
  });

  it("ch. 3: a third address within a year makes a frequent mover (LAA veelverhuizers) an address investigation; a year and a day earlier does not count", () => {
    const history = [
      { bsn: BSN[0], postalCode: "3111AA", houseNumber: "1", since: "2025-06-01" },
      { bsn: BSN[0], postalCode: "3113CC", houseNumber: "3", since: "2026-01-10" },
    ];
    const d = onStayAddressProvided(provided(BSN[0]), { ...noStayState, history }, refs(), NOW);
    expect(d).toMatchObject({ opened: { cause: "FREQUENT_MOVER", task: "VERIFY_ADDRESS", bsn: BSN[0] } });
    const older = [{ ...history[0]!, since: "2025-05-31" }, history[1]!];
    expect(
      onStayAddressProvided(provided(BSN[0]), { ...noStayState, history: older }, refs(), NOW),
    ).toMatchObject({
      opened: { cause: "STAY_ADDRESS_PROVIDED" },
    });
  });

  it("ch. 3 (abo): an experiment municipality opens an investigation to verify each address it is given; after the experiment, or for a person already under investigation, it opens none", () => {
    expect(onStayAddressProvided(provided(BSN[0]), noStayState, refs(), NOW)).toMatchObject({
      opened: { cause: "STAY_ADDRESS_PROVIDED", task: "VERIFY_ADDRESS", bsn: BSN[0], employerKvk: UITLENER },
    });
    const after = new Date("2027-10-01T08:00:00.000Z");
    expect(onStayAddressProvided(provided(BSN[0]), noStayState, refs(), after)).toMatchObject({
      outcome: "recorded",
      opened: null,
    });
    const open = openInvestigation({ task: "INVITE_RESIDENT_REGISTRATION" });
    expect(
      onStayAddressProvided(provided(BSN[0]), { ...noStayState, openForPerson: open }, refs(), NOW),
    ).toMatchObject({ completed: null, opened: null });
  });

  it("ch. 3: the same address again is a duplicate; an address in another municipality is not ours; a missing address is poison", () => {
    const history = [{ bsn: BSN[0], postalCode: "3112AB", houseNumber: "12", since: "2026-06-01" }];
    expect(onStayAddressProvided(provided(BSN[0]), { ...noStayState, history }, refs(), NOW)).toMatchObject({
      outcome: "duplicate",
    });
    expect(
      onStayAddressProvided(provided(BSN[0]), { ...noStayState, code: HORST }, refs(), NOW),
    ).toMatchObject({
      outcome: "ignored",
    });
    expect(
      onStayAddressProvided(provided(BSN[0], { stayAddress: undefined }), noStayState, refs(), NOW),
    ).toMatchObject({ outcome: "poison" });
  });
});

describe("LSI signals about the municipality", () => {
  const signal = {
    subjectKvk: UITLENER,
    signalReference: "NLA-LSI-1",
    kind: "HOUSING_ABUSE" as const,
    municipalityCode: SCHIEDAM,
    persons: [
      { bsn: BSN[0], role: "WORKER" as const },
      { bsn: BSN[1], role: "WORKER" as const },
      { bsn: BSN[2], role: "WORKER" as const },
    ],
    summary: "…",
  };
  const base = { code: SCHIEDAM, existing: undefined, openInvestigations: [], plannedInspections: [] };

  it("ch. 6.1: a housing-abuse signal plans one unannounced inspection per known dwelling and investigates the persons without a known address", () => {
    const staysOfPersons = [stay(BSN[0]), stay(BSN[1])];
    const d = onLsiSignal(signal, { ...base, staysOfPersons }, refs(), NOW);
    if (d.outcome !== "recorded") throw new Error(d.outcome);
    expect(d.inspections).toHaveLength(1);
    expect(d.inspections[0]).toMatchObject({
      cause: "LSI_SIGNAL",
      causeReference: "NLA-LSI-1",
      announced: false,
    });
    expect(d.investigations).toEqual([
      expect.objectContaining({ bsn: BSN[2], task: "FIND_STAY_ADDRESS", cause: "LSI_SIGNAL" }),
    ]);
  });

  it("ch. 6.1: an address-fraud signal opens an address investigation per person, or one into the company's dwellings when it names nobody", () => {
    const fraud = { ...signal, kind: "ADDRESS_FRAUD" as const };
    const d = onLsiSignal(fraud, { ...base, staysOfPersons: [] }, refs(), NOW);
    expect(d).toMatchObject({ outcome: "recorded", inspections: [] });
    if (d.outcome !== "recorded") throw new Error(d.outcome);
    expect(d.investigations.map((i) => i.bsn)).toEqual([BSN[0], BSN[1], BSN[2]]);
    const nobody = onLsiSignal({ ...fraud, persons: [] }, { ...base, staysOfPersons: [] }, refs(), NOW);
    expect(nobody).toMatchObject({ investigations: [{ bsn: null, task: "LOCATE_DWELLINGS" }] });
  });

  it("ch. 6.1: a person already under investigation or a dwelling already planned gets no second one; other kinds are recorded only", () => {
    const planned: InspectionRow = {
      inspectionRef: "HC-0",
      subjectKvk: UITLENER,
      postalCode: "3112AB",
      houseNumber: "12",
      cause: "MANY_ON_ONE_ADDRESS",
      causeReference: "6 people registered",
      announced: false,
      status: "PLANNED",
      plannedAt: "2026-06-01T09:00:00.000Z",
      doneAt: null,
      doneBy: null,
    };
    const d = onLsiSignal(
      signal,
      {
        ...base,
        staysOfPersons: [stay(BSN[0])],
        plannedInspections: [planned],
        openInvestigations: [openInvestigation({ bsn: BSN[1] }), openInvestigation({ bsn: BSN[2] })],
      },
      refs(),
      NOW,
    );
    expect(d).toMatchObject({ outcome: "recorded", inspections: [], investigations: [] });
    expect(
      onLsiSignal({ ...signal, kind: "UNDERPAYMENT" }, { ...base, staysOfPersons: [] }, refs(), NOW),
    ).toMatchObject({ outcome: "recorded", inspections: [], investigations: [] });
  });

  it("ch. 6.1: a signal about another municipality (or none) is not ours; the same reference twice is a duplicate", () => {
    const state = { ...base, staysOfPersons: [] };
    expect(onLsiSignal({ ...signal, municipalityCode: HORST }, state, refs(), NOW)).toMatchObject({
      outcome: "ignored",
    });
    expect(onLsiSignal({ ...signal, municipalityCode: null }, state, refs(), NOW)).toMatchObject({
      outcome: "ignored",
    });
    const existing = {
      signalReference: "NLA-LSI-1",
      subjectKvk: UITLENER,
      kind: "HOUSING_ABUSE",
      personCount: 3,
      receivedAt: "x",
    };
    expect(onLsiSignal(signal, { ...state, existing }, refs(), NOW)).toMatchObject({ outcome: "duplicate" });
  });
});

describe("complete-investigation and the BRP experiment (brp.stay-address-changed)", () => {
  const found = {
    street: "Nieuwe Haven",
    houseNumber: "5a",
    postalCode: "3111 AB",
    city: "Schiedam",
    municipalityCode: SCHIEDAM,
  };

  it("ch. 3: the experiment runs from 2023-10-01 for four years, for its five municipalities", () => {
    expect(inBrpExperiment(SCHIEDAM, "2023-09-30")).toBe(false);
    expect(inBrpExperiment(SCHIEDAM, "2023-10-01")).toBe(true);
    expect(inBrpExperiment(HORST, "2027-09-30")).toBe(true);
    expect(inBrpExperiment(HORST, "2027-10-01")).toBe(false);
    expect(inBrpExperiment("GM0363", "2026-06-15")).toBe(false);
  });

  it("ch. 3: an experiment municipality passes a found address to BZK as COMPLETED when none was on record", () => {
    const d = completeInvestigation(
      { investigationRef: "AO-0", outcome: "ADDRESS_FOUND", stayAddress: found, effectiveDate: "2026-06-10" },
      { code: SCHIEDAM, investigation: openInvestigation(), current: undefined },
      NOW,
    );
    if (d.outcome !== "completed") throw new Error(d.reason);
    expect(d.investigation).toMatchObject({ status: "COMPLETED", outcome: "ADDRESS_FOUND" });
    expect(d.publish).toEqual([
      {
        topic: "brp.stay-address-changed",
        value: {
          eventTime: NOW.toISOString(),
          subjectKvk: UITLENER,
          municipalityCode: SCHIEDAM,
          person: { bsn: BSN[0] },
          changeKind: "COMPLETED",
          stayAddress: { ...found, houseNumber: "5A", postalCode: "3111AB" },
          effectiveDate: "2026-06-10",
        },
      },
    ]);
  });

  it("ch. 3: another address than the one on record is UPDATED; the same one changes nothing; a person no longer staying is ENDED", () => {
    const state = {
      code: SCHIEDAM,
      investigation: openInvestigation({ task: "VERIFY_ADDRESS" }),
      current: stay(BSN[0]),
    };
    expect(
      completeInvestigation(
        { investigationRef: "AO-0", outcome: "ADDRESS_FOUND", stayAddress: found },
        state,
        NOW,
      ),
    ).toMatchObject({ publish: [{ value: { changeKind: "UPDATED", effectiveDate: "2026-06-15" } }] });
    const same = { ...found, street: "Voorbeeldstraat", houseNumber: "12", postalCode: "3112AB" };
    expect(
      completeInvestigation(
        { investigationRef: "AO-0", outcome: "ADDRESS_FOUND", stayAddress: same },
        state,
        NOW,
      ),
    ).toMatchObject({ publish: [], note: "nothing changes in the BRP" });
    expect(
      completeInvestigation({ investigationRef: "AO-0", outcome: "NOT_STAYING" }, state, NOW),
    ).toMatchObject({
      publish: [{ value: { changeKind: "ENDED", stayAddress: null } }],
      stay: { ended: true },
    });
  });

  it("ch. 3: after the experiment's four years the finding is recorded but nothing goes to BZK", () => {
    const later = new Date("2027-10-01T08:00:00.000Z");
    const d = completeInvestigation(
      { investigationRef: "AO-0", outcome: "ADDRESS_FOUND", stayAddress: found },
      { code: SCHIEDAM, investigation: openInvestigation(), current: undefined },
      later,
    );
    expect(d).toMatchObject({ outcome: "completed", publish: [], stay: { postalCode: "3111AB" } });
  });

  it("ch. 3: an unknown or completed investigation, a missing address, a future date or a person's outcome for a company is refused", () => {
    const state = { code: SCHIEDAM, investigation: openInvestigation(), current: undefined };
    expect(
      completeInvestigation(
        { investigationRef: "AO-9", outcome: "NO_FINDING" },
        { ...state, investigation: undefined },
        NOW,
      ),
    ).toMatchObject({ outcome: "refused", reason: "no such investigation" });
    expect(
      completeInvestigation(
        { investigationRef: "AO-0", outcome: "NO_FINDING" },
        { ...state, investigation: openInvestigation({ status: "COMPLETED" }) },
        NOW,
      ),
    ).toMatchObject({ outcome: "refused" });
    expect(
      completeInvestigation({ investigationRef: "AO-0", outcome: "ADDRESS_FOUND" }, state, NOW),
    ).toMatchObject({
      outcome: "refused",
    });
    expect(
      completeInvestigation(
        { investigationRef: "AO-0", outcome: "NO_FINDING", effectiveDate: "2026-06-16" },
        state,
        NOW,
      ),
    ).toMatchObject({ outcome: "refused" });
    expect(
      completeInvestigation(
        { investigationRef: "AO-0", outcome: "NOT_STAYING" },
        { ...state, investigation: openInvestigation({ bsn: null, task: "LOCATE_DWELLINGS" }) },
        NOW,
      ),
    ).toMatchObject({ outcome: "refused" });
  });
});

describe("record-inspection (huisvesting.violation-found)", () => {
  const input: InspectionInput = {
    caseReference: "SCH-HV-1",
    subjectKvk: UITLENER,
    subjectRole: "EMPLOYER",
    inspectionDate: "2026-06-15",
    dwelling: {
      street: "Voorbeeldstraat",
      houseNumber: "12",
      postalCode: "3112 AB",
      municipalityCode: SCHIEDAM,
      occupants: 14,
      floorAreaM2: 90,
      qualityMark: "NONE",
    },
    violations: ["OVERCROWDING", "FIRE_SAFETY", "OVERCROWDING"],
  };
  const planned: InspectionRow = {
    inspectionRef: "HC-1",
    subjectKvk: UITLENER,
    postalCode: "3112AB",
    houseNumber: "12",
    cause: "MANY_ON_ONE_ADDRESS",
    causeReference: "6 people registered",
    announced: false,
    status: "PLANNED",
    plannedAt: "2026-06-01T09:00:00.000Z",
    doneAt: null,
    doneBy: null,
  };

  it("ch. 4.1/6.1: an unannounced inspection finding overcrowding reports the violation and carries out the planned inspection", () => {
    const d = recordInspection(
      input,
      { code: SCHIEDAM, existing: undefined, plannedAtDwelling: [planned] },
      NOW,
    );
    if (d.outcome === "refused") throw new Error(d.reason);
    expect(d.outcome).toBe("violation");
    expect(d.done).toEqual([
      expect.objectContaining({ inspectionRef: "HC-1", status: "DONE", doneBy: "SCH-HV-1" }),
    ]);
    expect(d.publish[0]).toMatchObject({
      topic: "huisvesting.violation-found",
      value: {
        subjectKvk: UITLENER,
        caseReference: "SCH-HV-1",
        announced: false,
        dwelling: { postalCode: "3112AB", municipalityCode: SCHIEDAM, occupants: 14 },
        violations: ["OVERCROWDING", "FIRE_SAFETY"],
        notes: null,
      },
    });
  });

  it("ch. 4.1: an inspection without violations closes the planned inspection and reports nothing", () => {
    expect(
      recordInspection(
        { ...input, violations: [] },
        { code: SCHIEDAM, existing: undefined, plannedAtDwelling: [planned] },
        NOW,
      ),
    ).toMatchObject({ outcome: "no-violation", publish: [], done: [{ status: "DONE" }] });
  });

  it("ch. 4.1: a dwelling in another municipality, a future date, a reused case reference or a bad postal code is refused", () => {
    const state = { code: SCHIEDAM, existing: undefined, plannedAtDwelling: [] };
    expect(
      recordInspection({ ...input, dwelling: { ...input.dwelling, municipalityCode: HORST } }, state, NOW),
    ).toMatchObject({ outcome: "refused", reason: "the dwelling lies in another municipality" });
    expect(recordInspection({ ...input, inspectionDate: "2026-06-16" }, state, NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(
      recordInspection(input, { ...state, existing: { caseReference: "SCH-HV-1" } as never }, NOW),
    ).toMatchObject({
      outcome: "refused",
    });
    expect(
      recordInspection({ ...input, dwelling: { ...input.dwelling, postalCode: "0112AB" } }, state, NOW),
    ).toMatchObject({ outcome: "refused" });
    expect(recordInspection({ ...input, subjectKvk: "123" }, state, NOW)).toMatchObject({
      outcome: "refused",
    });
  });
});

describe("meldpunt-report (huisvesting.landlord-reported)", () => {
  const input = {
    subjectKvk: OTHER,
    behaviours: ["EXCESSIVE_DEPOSIT" as const, "INTIMIDATION" as const],
    dwellingPostalCode: "3112 ab",
    anonymous: true,
    description: "Borg van drie maanden; bedreigd bij klacht.",
  };
  const state = { code: SCHIEDAM, plannedInspections: [] };

  it("ch. 4.1: an anonymous report is taken with no reporter and plans an unannounced inspection at the postal code", () => {
    const d = meldpuntReport(input, state, refs(), NOW);
    if (d.outcome === "refused") throw new Error(d.reason);
    expect(d.publish[0]).toMatchObject({
      topic: "huisvesting.landlord-reported",
      value: { municipalityCode: SCHIEDAM, anonymous: true, reporter: null, dwellingPostalCode: "3112AB" },
    });
    expect(d.inspection).toMatchObject({ cause: "MELDPUNT", postalCode: "3112AB", houseNumber: null });
  });

  it("ch. 4.1: a named report carries its reporter; without a postal code no inspection is planned", () => {
    const d = meldpuntReport(
      {
        ...input,
        anonymous: false,
        reporter: { name: "A. Melder", contact: "melder@example.org" },
        dwellingPostalCode: null,
      },
      state,
      refs(),
      NOW,
    );
    expect(d).toMatchObject({
      outcome: "reported",
      inspection: null,
      publish: [{ value: { anonymous: false, reporter: { name: "A. Melder" } } }],
    });
  });

  it("ch. 4.1: an anonymous report with a reporter, a named one without, no behaviour, or a report before 2024-01-01 is refused", () => {
    const refused = meldpuntReport(
      { ...input, reporter: { name: "A. Melder", contact: "x" } },
      state,
      refs(),
      NOW,
    );
    expect(refused).toMatchObject({ outcome: "refused", reason: "an anonymous report carries no reporter" });
    expect(JSON.stringify(refused)).not.toContain("Melder");
    expect(meldpuntReport({ ...input, anonymous: false }, state, refs(), NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(meldpuntReport({ ...input, behaviours: [] }, state, refs(), NOW)).toMatchObject({
      outcome: "refused",
    });
    expect(meldpuntReport(input, state, refs(), new Date("2023-12-31T23:00:00Z"))).toMatchObject({
      outcome: "refused",
    });
    expect(meldpuntReport(input, state, refs(), new Date("2024-01-01T00:00:00Z"))).toMatchObject({
      outcome: "reported",
    });
  });

  it("ch. 4.1: the municipality's own report coming back is a duplicate; another municipality's is not ours", () => {
    const value = { subjectKvk: OTHER, reportReference: "MP-1", municipalityCode: SCHIEDAM, anonymous: true };
    expect(onLandlordReported(value, { code: SCHIEDAM, existing: undefined }, NOW)).toMatchObject({
      outcome: "recorded",
      report: { reporter: null, anonymous: true },
    });
    expect(onLandlordReported(value, { code: HORST, existing: undefined }, NOW)).toMatchObject({
      outcome: "ignored",
    });
  });
});

describe("notices to workers in their own language (informatie.worker-notice-issued)", () => {
  const contacts: ContactRow[] = [
    { bsn: BSN[0], language: "pl", channel: "EMAIL", contactAddress: "w0@example.org" },
    { bsn: BSN[1], language: "ro", channel: null, contactAddress: null },
  ];
  const affected = [
    stay(BSN[0]),
    stay(BSN[1]),
    stay(BSN[2]),
    stay(BSN[3], { employerKvk: OTHER, postalCode: "3113CC", houseNumber: "3" }),
    stay(BSN[4], { ended: true }),
  ];

  it("ch. 7: the workers of a revoked uitlener staying here get a notice each in their own language; without a language it is withheld", () => {
    const d = onAdmissionRevoked(
      {
        subjectKvk: UITLENER,
        tradeName: "Tweede Voorbeeld Flexwerk B.V.",
        admissionNumber: "T-2026-0002",
        effectiveDate: "2026-06-16",
      },
      { code: SCHIEDAM, affected, contacts, existing: [], admission: undefined },
      refs(),
      NOW,
    );
    if (d.outcome !== "applied") throw new Error(d.outcome);
    expect(d.admission).toMatchObject({ status: "REVOKED", effectiveDate: "2026-06-16" });
    expect(d.notices.map((n) => [n.bsn, n.status, n.language, n.channel])).toEqual([
      [BSN[0], "PREPARED", "pl", "EMAIL"],
      [BSN[1], "PREPARED", "ro", "POST"],
      [BSN[2], "WITHHELD", null, null],
    ]);
    expect(d.publish.map((p) => p.value)).toEqual([
      expect.objectContaining({
        cause: "ADMISSION_REVOKED",
        causeReference: "T-2026-0002",
        municipalityCode: SCHIEDAM,
        language: "pl",
        contact: { channel: "EMAIL", address: "w0@example.org" },
      }),
      expect.objectContaining({
        language: "ro",
        contact: { channel: "POST", address: "Voorbeeldstraat 12, 3112AB Schiedam" },
      }),
    ]);
    for (const p of d.publish) {
      expect(JSON.stringify(p.value)).not.toMatch(/1000\d{5}/);
    }
  });

  it("ch. 7: a worker already informed about this cause gets no second notice", () => {
    const first = onAdmissionRevoked(
      { subjectKvk: UITLENER, admissionNumber: "T-2026-0002" },
      { code: SCHIEDAM, affected, contacts, existing: [], admission: undefined },
      refs(),
      NOW,
    );
    if (first.outcome !== "applied") throw new Error(first.outcome);
    const again = onAdmissionRevoked(
      { subjectKvk: UITLENER, admissionNumber: "T-2026-0002" },
      { code: SCHIEDAM, affected, contacts, existing: first.notices, admission: undefined },
      refs(),
      NOW,
    );
    expect(again).toMatchObject({ notices: [], publish: [] });
  });

  it("ch. 4.1/7: the occupants of a dwelling with a housing violation get a notice each; a violation elsewhere is not ours", () => {
    const violation = {
      subjectKvk: UITLENER,
      caseReference: "SNF-9",
      dwelling: {
        street: "Voorbeeldstraat",
        houseNumber: "12",
        postalCode: "3112AB",
        municipalityCode: SCHIEDAM,
        occupants: 14,
      },
      violations: ["OVERCROWDING" as const],
    };
    const state = { code: SCHIEDAM, affected, contacts, existing: [], existingViolation: undefined };
    const d = onViolationFound(violation, state, refs(), NOW);
    if (d.outcome !== "recorded") throw new Error(d.outcome);
    expect(d.violation).toMatchObject({ caseReference: "SNF-9", own: false });
    expect(d.notices.map((n) => n.bsn)).toEqual([BSN[0], BSN[1], BSN[2]]);
    expect(
      d.publish.every((p) => p.value.cause === "HOUSING_VIOLATION" && p.value.causeReference === "SNF-9"),
    ).toBe(true);
    expect(
      onViolationFound(
        { ...violation, dwelling: { ...violation.dwelling, municipalityCode: HORST } },
        state,
        refs(),
        NOW,
      ),
    ).toMatchObject({ outcome: "ignored" });
    expect(onViolationFound({ ...violation, dwelling: undefined }, state, refs(), NOW)).toMatchObject({
      outcome: "poison",
    });
  });

  it("ch. 7: a language is a two-letter code; EMAIL needs an e-mail address, SMS a phone number; a bad BSN is refused", () => {
    expect(recordWorkerLanguage({ bsn: BSN[0], language: "PL" })).toMatchObject({
      outcome: "recorded",
      contact: { language: "pl", channel: null },
    });
    expect(
      recordWorkerLanguage({
        bsn: BSN[0],
        language: "pl",
        channel: "SMS",
        contactAddress: "+48 601-234-567",
      }),
    ).toMatchObject({
      contact: { channel: "SMS", contactAddress: "+48601234567" },
    });
    expect(recordWorkerLanguage({ bsn: BSN[0], language: "polish" })).toMatchObject({ outcome: "refused" });
    expect(
      recordWorkerLanguage({ bsn: BSN[0], language: "pl", channel: "EMAIL", contactAddress: "nope" }),
    ).toMatchObject({
      outcome: "refused",
    });
    expect(recordWorkerLanguage({ bsn: BSN[0], language: "pl", contactAddress: "a@b.nl" })).toMatchObject({
      outcome: "refused",
    });
    const bad = recordWorkerLanguage({ bsn: "100023758", language: "pl" });
    expect(bad).toMatchObject({ outcome: "refused" });
    expect(JSON.stringify(bad)).not.toContain("100023758");
  });

  it("ch. 2.1: an admission from the register is recorded", () => {
    expect(recordAdmissionGranted({ subjectKvk: UITLENER, admissionNumber: "T-1" })).toMatchObject({
      outcome: "recorded",
      admission: { status: "ADMITTED" },
    });
    expect(recordAdmissionGranted({})).toMatchObject({ outcome: "poison" });
  });
});
