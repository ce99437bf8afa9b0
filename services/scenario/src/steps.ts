import { exampleEvent, type Topic, type TopicMap } from "@grondslag/schemas";

/**
 * A season in the life of two temp agencies, after the seed (Jaarrapportage arbeidsmigranten 2023, chapters 2, 4
 * and 6): the Wtta admission authority admits an uitlener, a private inspection body reports on another, a lent
 * worker is hurt in a greenhouse, a municipality finds an overcrowded house, the Belastingdienst and the
 * Arbeidsinspectie share an LSI signal, UWV finds a worker without a BRP address, and the second uitlener loses its
 * admission. Two calls break the rules on purpose, so the audit log shows refusals too.
 */
export interface PublishStep {
  kind: "publish";
  title: string;
  party: string;
  topic: Topic;
  payload: TopicMap[Topic];
  /** Override what the contract gives, to show a refusal. */
  purpose?: string;
  expect: number;
}

export interface SubscribeStep {
  kind: "subscribe";
  title: string;
  party: string;
  topic: Topic;
  purpose: string;
  expect: number;
}

export type Step = PublishStep | SubscribeStep;

const second = { subjectKvk: "90000002", tradeName: "Tweede Voorbeeld Uitzendbureau B.V." };

export const steps: Step[] = [
  {
    kind: "publish",
    title: "SZW admits Voorbeeld Uitzendbureau (voorlopige toelating, waarborgsom € 50.000)",
    party: "szw.toelating",
    topic: "wtta.admission-granted",
    payload: exampleEvent("wtta.admission-granted"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "SNA reports on the second uitlener against the normenkader: non-compliant",
    party: "inspectie.sna",
    topic: "inspectie.report-filed",
    payload: { ...exampleEvent("inspectie.report-filed"), subjectKvk: "90000002", reportId: "SNA-2026-0816" },
    expect: 202,
  },
  {
    kind: "publish",
    title: "A lent worker breaks a leg in a greenhouse; the uitlener reports it (Arbowet art. 9)",
    party: "uitlener.90000001",
    topic: "arbo.accident-reported",
    payload: exampleEvent("arbo.accident-reported"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "The uitlener verifies measures before work resumes (vergewisplicht)",
    party: "uitlener.90000001",
    topic: "arbo.return-verified",
    payload: exampleEvent("arbo.return-verified"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "Schiedam finds 11 workers in an 84 m² house, rent tied to the job (Wet goed verhuurderschap)",
    party: "gemeente.schiedam",
    topic: "huisvesting.violation-found",
    payload: exampleEvent("huisvesting.violation-found"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "The Arbeidsinspectie raises an LSI signal: g-rekening default (Wet SUWI art. 64)",
    party: "nla",
    topic: "lsi.signal-raised",
    payload: exampleEvent("lsi.signal-raised"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "UWV finds a worker in the payroll chain without a BRP address in Horst aan de Maas",
    party: "uwv",
    topic: "loonaangifte.registration-gap",
    payload: exampleEvent("loonaangifte.registration-gap"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "SZW revokes the second uitlener's admission after the negative inspection",
    party: "szw.toelating",
    topic: "wtta.admission-revoked",
    payload: { ...exampleEvent("wtta.admission-revoked"), ...second, reasons: ["NEGATIVE_INSPECTION"] },
    expect: 202,
  },
  {
    kind: "publish",
    title: "Refused on purpose: the uitlener names a purpose its contract does not give it",
    party: "uitlener.90000001",
    topic: "arbo.accident-reported",
    payload: { ...exampleEvent("arbo.accident-reported"), reportReference: "MELD-2026-0043" },
    purpose: "lsi-samenwerking",
    expect: 403,
  },
  {
    kind: "subscribe",
    title: "Refused on purpose: Schiedam tries to read accident reports (health data)",
    party: "gemeente.schiedam",
    topic: "arbo.accident-reported",
    purpose: "huisvestingstoezicht",
    expect: 403,
  },
];
