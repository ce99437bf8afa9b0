import { table, type AgencyState, type ChainStep, type Reaction } from "./chain-run";

/**
 * The seed's chain "a temp agency loses its admission" (Jaarrapportage arbeidsmigranten 2023, ch. 2.1, 2.3, 3, 4,
 * 6 and 7), as `npm start` runs it: each step an operator's action at one agency's desk (or RvIG's publication, a
 * party without a service here), each reaction something that must then hold in an agency's own state. The uitlener
 * is Tweede Voorbeeld Flexwerk B.V. (KvK 90000002), the inlener Kassenbedrijf De Voorbeeldhof B.V. (KvK 90000101), the
 * municipality Schiedam (GM0606); the workers are fictitious, their BSNs pass the elfproef but belong to nobody.
 */
export const UITLENER = { kvk: "90000002", tradeName: "Tweede Voorbeeld Flexwerk B.V." };
export const INLENER = { kvk: "90000101", name: "Kassenbedrijf De Voorbeeldhof B.V." };
export const SCHIEDAM = { code: "GM0606", name: "Schiedam" };
/** The lent worker hurt in the greenhouse, and a posted worker of the same uitlener. */
export const WORKER = {
  bsn: "231445611",
  name: "Marek Nowak",
  dateOfBirth: "1994-03-12",
  nationality: "PL",
  occupation: "oogstmedewerker glastuinbouw",
};
export const POSTED = { bsn: "231445623" };
const DWELLING = { street: "Nieuwe Haven", houseNumber: "88", postalCode: "3117AB", city: "Schiedam" };
const WORKPLACE = {
  street: "Kasweg",
  houseNumber: "12",
  postalCode: "3115AA",
  municipalityCode: SCHIEDAM.code,
  workplace: "kas 3, oogstafdeling",
};

type Row = Record<string, unknown>;
const rows = (s: AgencyState, name: string, pred: (r: Row) => boolean) => table(s, name).filter(pred);
const has = (party: string, what: string, name: string, pred: (r: Row) => boolean): Reaction => ({
  party,
  what,
  holds: (s) => rows(s, name, pred).length > 0,
});
const aboutUitlener = (r: Row) => r.subjectKvk === UITLENER.kvk || r.uitlenerKvk === UITLENER.kvk;
const refusedBecause = (code: string) => (r: Row) => r.outboxState === "refused" && r.refusalCode === code;
/** An event the agency published through its outbox, with the gateway's verdict. */
const published = (party: string, what: string, topic: string, state: string, code?: string): Reaction => ({
  party,
  what,
  holds: (s) =>
    s.outbox.some((o) => o.topic === topic && o.state === state && (!code || o.refusalCode === code)),
});

/** Days relative to the run (the agencies judge "recent" and "before today" by the calendar day). */
function days() {
  const today = new Date();
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const firstOfMonth = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
  const lastMonthEnd = new Date(firstOfMonth.getTime() - 86_400_000);
  const lastMonthStart = new Date(Date.UTC(lastMonthEnd.getUTCFullYear(), lastMonthEnd.getUTCMonth(), 1));
  return {
    today: iso(today),
    monthsAgo: (n: number) => iso(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - n, 1))),
    lastMonthStart: iso(lastMonthStart),
    lastMonthEnd: iso(lastMonthEnd),
    nextYearEnd: `${today.getUTCFullYear() + 1}-06-30`,
    hoursAgo: (h: number) => new Date(today.getTime() - h * 3_600_000).toISOString(),
  };
}

export function chain(): ChainStep[] {
  const d = days();
  const accidentRef = `VDH-ARBO-${d.today}`;
  return [
    {
      title: "SZW grants Tweede Voorbeeld Flexwerk a provisional admission (waarborgsom € 50.000, ch. 2.1)",
      party: "szw.toelating",
      action: "grant-admission",
      input: { subjectKvk: UITLENER.kvk, tradeName: UITLENER.tradeName, securityDepositCents: 5_000_000 },
      reactions: [
        has(
          "szw.toelating",
          "holds the provisional admission (definitive after six months at € 100.000)",
          "admissions",
          (r) => r.subjectKvk === UITLENER.kvk && r.status === "PROVISIONAL",
        ),
        has(
          "inspectie.sna",
          "schedules the follow-up inspection before the six months end",
          "inspections",
          aboutUitlener,
        ),
        has("nla", "records the admitted uitlener", "admissions", aboutUitlener),
        has("belastingdienst", "records the admitted uitlener", "admissions", aboutUitlener),
        has("uwv", "records the admitted uitlener", "admissions", aboutUitlener),
        has("svb", "records the admitted uitlener", "admissions", aboutUitlener),
        has("gemeente.schiedam", "records the admitted uitlener", "admissions", aboutUitlener),
        has(
          "inlener.90000101",
          "sees it in the public register (notificatiesysteem)",
          "register",
          (r) => r.uitlenerKvk === UITLENER.kvk && r.registerStatus === "PROVISIONALLY_ADMITTED",
        ),
      ],
    },
    {
      title:
        "The agencies' own records: the uitlener's worker and inlener, the placement, payroll, g-rekening, posting",
      party: "uitlener.90000002",
      action: "register-inlener",
      input: { kvk: INLENER.kvk, name: INLENER.name, workplace: WORKPLACE },
      reactions: [
        has("uitlener.90000002", "knows the inlener's workplace", "inleners", (r) => r.kvk === INLENER.kvk),
      ],
    },
    {
      title: "The uitlener records the worker it lends to the inlener (administratie, ch. 2.1)",
      party: "uitlener.90000002",
      action: "register-worker",
      input: { ...WORKER, inlenerKvk: INLENER.kvk },
      reactions: [
        has("uitlener.90000002", "has the worker on record", "workers", (r) => r.inlenerKvk === INLENER.kvk),
      ],
    },
    {
      title: "The inlener records the placement, after checking the register",
      party: "inlener.90000101",
      action: "register-placement",
      input: { uitlenerKvk: UITLENER.kvk, workerBsn: WORKER.bsn, since: d.monthsAgo(3) },
      reactions: [
        has("inlener.90000101", "holds the placement", "placements", (r) => r.uitlenerKvk === UITLENER.kvk),
      ],
    },
    {
      title: "UWV's payroll records (polisadministratie): a non-resident without a BRP address",
      party: "uwv",
      action: "record-payroll",
      input: {
        uitlenerKvk: UITLENER.kvk,
        workerBsn: WORKER.bsn,
        registration: "NON_RESIDENT",
        brpAddressKnown: false,
        stayMunicipalityCode: SCHIEDAM.code,
        stayMunicipalityName: SCHIEDAM.name,
        employedSince: d.monthsAgo(6),
        periodStart: d.lastMonthStart,
        periodEnd: d.lastMonthEnd,
      },
      reactions: [has("uwv", "holds the payroll line", "payroll", aboutUitlener)],
    },
    {
      title: "The Belastingdienst records the inlener's deposits on the uitlener's g-rekening (ch. 2.1)",
      party: "belastingdienst",
      action: "record-g-account-deposit",
      input: {
        inlenerKvk: INLENER.kvk,
        uitlenerKvk: UITLENER.kvk,
        amountCents: 350_000,
        invoiceTotalCents: 1_000_000,
        periodStart: d.lastMonthStart,
        periodEnd: d.lastMonthEnd,
      },
      reactions: [has("belastingdienst", "holds the deposit", "deposits", aboutUitlener)],
    },
    {
      title: "The SVB records a posting of the uitlener's worker from Poland (A1, detachering)",
      party: "svb",
      action: "record-posting-case",
      input: {
        uitlenerKvk: UITLENER.kvk,
        workerBsn: POSTED.bsn,
        country: "PL",
        periodStart: d.monthsAgo(4),
        periodEnd: d.nextYearEnd,
      },
      reactions: [has("svb", "holds the posting case", "postingCases", aboutUitlener)],
    },
    {
      title: "Schiedam records the worker's language and channel (communicatie in de eigen taal, ch. 7)",
      party: "gemeente.schiedam",
      action: "record-worker-language",
      input: { bsn: WORKER.bsn, language: "pl", channel: "SMS", contactAddress: "+48600000000" },
      reactions: [
        has("gemeente.schiedam", "knows a person speaks Polish", "languages", (r) => r.language === "pl"),
      ],
    },
    {
      title: "RvIG gives Schiedam the worker's temporary stay address (RNI, Wet BRP, ch. 3)",
      party: "bzk.rvig",
      publish: {
        topic: "brp.stay-address-provided",
        value: {
          eventTime: new Date().toISOString(),
          subjectKvk: UITLENER.kvk,
          person: { bsn: WORKER.bsn },
          stayAddress: { ...DWELLING, municipalityCode: SCHIEDAM.code },
          addressSince: d.monthsAgo(2),
        },
      },
      reactions: [has("gemeente.schiedam", "opens an address investigation", "investigations", () => true)],
    },
    {
      title:
        "A lent worker breaks a leg in the greenhouse: the inlener reports it (Arbowet) and tells the uitlener",
      party: "inlener.90000101",
      action: "report-accident",
      input: {
        reportReference: accidentRef,
        notificationReference: `VDH-ONG-${d.today}`,
        uitlenerKvk: UITLENER.kvk,
        accidentTime: d.hoursAgo(3),
        severity: "SERIOUS",
        worker: WORKER,
        location: WORKPLACE,
        injury: { nature: "FRACTURE", bodyPart: "linkeronderbeen", hospitalised: true, hospitalisedDays: 3 },
        circumstances: "Van een rolsteiger tussen de teeltgoten gevallen tijdens het oogsten.",
      },
      reactions: [
        has(
          "uitlener.90000002",
          "turns the notice into its own report and a vergewis task (ch. 2.3)",
          "tasks",
          (r) => r.status === "OPEN",
        ),
        has(
          "nla",
          "opens one case for the accident, with a deadline for the return check",
          "cases",
          (r) => r.inlenerKvk === INLENER.kvk && r.checkStatus === "OPEN",
        ),
        {
          party: "nla",
          what: "joins the uitlener's report to the same case",
          holds: (s) =>
            rows(
              s,
              "cases",
              (r) => r.inlenerKvk === INLENER.kvk && Array.isArray(r.reports) && r.reports.length >= 2,
            ).length > 0,
        },
        has(
          "uwv",
          "records the accident of a lent worker (who, where, when)",
          "accidents",
          (r) => r.inlenerKvk === INLENER.kvk,
        ),
      ],
    },
    {
      title:
        "Schiedam's unannounced housing inspection finds the uitlener's dwelling overcrowded (ch. 4, 6.1)",
      party: "gemeente.schiedam",
      action: "record-inspection",
      input: {
        caseReference: `GM0606-HC-${d.today}`,
        subjectKvk: UITLENER.kvk,
        subjectRole: "EMPLOYER",
        inspectionDate: d.today,
        announced: false,
        dwelling: {
          street: DWELLING.street,
          houseNumber: DWELLING.houseNumber,
          postalCode: DWELLING.postalCode,
          occupants: 11,
          floorAreaM2: 84,
          qualityMark: "NONE",
        },
        violations: ["OVERCROWDING", "RENT_TIED_TO_EMPLOYMENT"],
      },
      reactions: [
        has(
          "szw.toelating",
          "records a housing violation of the uitlener (one is not yet repeated)",
          "grounds",
          (r) => r.subjectKvk === UITLENER.kvk,
        ),
        has("nla", "records the housing violation", "housingViolations", aboutUitlener),
        has(
          "gemeente.schiedam",
          "prepares the occupants' notice in Polish (no law carries it yet: refused)",
          "workerNotices",
          (r) => r.language === "pl",
        ),
      ],
    },
    {
      title: "SNA inspects the uitlener against the normenkader: non-compliant, minor findings (ch. 2.1)",
      party: "inspectie.sna",
      action: "file-report",
      input: {
        subjectKvk: UITLENER.kvk,
        reportId: `SNA-${d.today}-0816`,
        inspectionDate: d.today,
        announced: true,
        filesSampled: 25,
        findings: [
          {
            normArea: "ADMINISTRATION",
            severity: "MINOR",
            description: "Urenregistratie niet sluitend voor twee weken.",
          },
          { normArea: "WAGES", severity: "MINOR", description: "Reiskostenvergoeding te laat uitbetaald." },
        ],
      },
      reactions: [
        has(
          "szw.toelating",
          "opens a remedy period on the negative report",
          "grounds",
          (r) => r.subjectKvk === UITLENER.kvk && r.remedyUntil != null,
        ),
        has("nla", "records the inspection report", "inspectionReports", aboutUitlener),
      ],
    },
    {
      title: "The Belastingdienst signals unpaid payroll tax and a drawn g-rekening to SZW (ch. 2.1)",
      party: "belastingdienst",
      action: "signal-arrears",
      input: {
        uitlenerKvk: UITLENER.kvk,
        kinds: ["LOONHEFFING_UNPAID", "G_REKENING_DRAWN"],
        periodStart: d.lastMonthStart,
        periodEnd: d.lastMonthEnd,
        arrearsCents: 4_200_000,
      },
      reactions: [
        has(
          "szw.toelating",
          "revokes the admission on every established ground",
          "admissions",
          (r) => r.subjectKvk === UITLENER.kvk && r.status === "REVOKED",
        ),
      ],
    },
    {
      title: "Every partner reacts to the revocation",
      party: "szw.toelating",
      reactions: [
        has(
          "inlener.90000101",
          "sees NOT_ADMITTED in the register and ends the placement",
          "placements",
          (r) => r.uitlenerKvk === UITLENER.kvk && r.status === "TO_BE_ENDED",
        ),
        has(
          "nla",
          "opens a fine investigation of the inlener still hiring (ch. 2.1)",
          "enforcementActions",
          (r) => r.inlenerKvk === INLENER.kvk,
        ),
        has(
          "nla",
          "raises an LSI signal: unadmitted lending",
          "signals",
          (r) => r.kind === "UNADMITTED_LENDING",
        ),
        has(
          "belastingdienst",
          "flags the inlener's liability (inlenersaansprakelijkheid)",
          "liabilityReviews",
          (r) => r.inlenerKvk === INLENER.kvk,
        ),
        has("svb", "reviews the posting case of the uitlener's worker", "postingReviews", aboutUitlener),
        has(
          "uwv",
          "prepares the registration gap for Schiedam (no law yet: refused)",
          "findings",
          refusedBecause("LEGAL_BASIS_NOT_IN_FORCE"),
        ),
        has(
          "gemeente.schiedam",
          "prepares the worker's notice of the revocation (no law yet: refused)",
          "workerNotices",
          (r) => r.cause === "ADMISSION_REVOKED",
        ),
        has("nla", "opens a joint AMU case on several partners' signals (ch. 6)", "amuCases", aboutUitlener),
        has("uwv", "records the joint AMU case", "amuCases", aboutUitlener),
        has("svb", "records the joint AMU case", "amuCases", aboutUitlener),
        has("belastingdienst", "records the joint AMU case", "amuCases", aboutUitlener),
        published("szw.toelating", "published the revocation", "wtta.admission-revoked", "sent"),
      ],
    },
  ];
}

/** Every BSN the chain's inputs carry: none may appear in a stored audit record. */
export function chainBsns(): string[] {
  const all = JSON.stringify(chain().map((s) => [s.input, s.publish]));
  return [
    ...new Set([...all.matchAll(/"(?:bsn|workerBsn)":"(\d{9})"/g)].flatMap((m) => (m[1] ? [m[1]] : []))),
  ];
}
