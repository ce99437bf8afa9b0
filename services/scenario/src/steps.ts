import { consumersOf, evaluateRowFilter, producerEntry, type Catalogue } from "@grondslag/contracts";
import { RefusalError, type Client } from "@grondslag/sdk";
import { exampleEvent, type Topic, type TopicMap } from "@grondslag/schemas";

/**
 * A season in the life of two temp agencies, after the seed (Jaarrapportage arbeidsmigranten 2023, chapters 2, 3, 4, 6
 * and 7), in 2026: the Wtta admission authority admits both uitleners (each its own number, the first one entered in
 * the public register that the inlener reads) and refuses a third, RvIG gives a municipality a non-resident's stay
 * address and an experiment municipality passes a change back, a private inspection body reports on the second, a lent
 * worker is hurt in a greenhouse (the inlener reports it under the Arbowet and tells the uitlener, which reports it
 * under the meld- en vergewisplicht in force from 1 January 2026 and verifies the return), a municipality finds an
 * overcrowded house and takes an anonymous report on its meldpunt, the Belastingdienst signals unpaid payroll tax to
 * the admission authority, the AMU partners open a joint case, the Arbeidsinspectie raises an LSI signal, UWV's
 * registration gap is refused because the payroll feedback loop is only being explored (no law yet), and the second
 * uitlener loses its admission and leaves the register; the payroll departure and the notice to its workers are
 * refused, as no law carries them yet. Three more calls break the rules on purpose, so the audit log shows refusals
 * too.
 */
export interface PublishStep {
  kind: "publish";
  title: string;
  party: string;
  topic: Topic;
  payload: TopicMap[Topic];
  /** Override what the contract gives, to show a refusal. */
  purpose?: string;
  /** Name this legal basis instead of the one the producer entry in force gives (one that is not in force yet). */
  grondslag?: string;
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

// The second uitlener, as parties.yaml names it, with its own admission number.
const second = {
  subjectKvk: "90000002",
  tradeName: "Tweede Voorbeeld Flexwerk B.V.",
  admissionNumber: "WTTA-2026-000124",
};

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
    title: "SZW admits the second uitlener, Tweede Voorbeeld Flexwerk, under its own number",
    party: "szw.toelating",
    topic: "wtta.admission-granted",
    payload: {
      ...exampleEvent("wtta.admission-granted"),
      ...second,
      eventTime: new Date("2026-01-12T09:00:00Z"),
    },
    expect: 202,
  },
  {
    kind: "publish",
    title: "SZW refuses a third applicant: an integrity risk under the Wet Bibob (weigering toelating)",
    party: "szw.toelating",
    topic: "wtta.admission-refused",
    payload: exampleEvent("wtta.admission-refused"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "SZW enters the first uitlener in the public register: inleners are notified (notificatiesysteem)",
    party: "szw.toelating",
    topic: "wtta.register-updated",
    payload: exampleEvent("wtta.register-updated"),
    expect: 202,
  },
  {
    kind: "subscribe",
    title: "The inlener checks the public register before hiring (no personal data in the feed)",
    party: "inlener.90000101",
    topic: "wtta.register-updated",
    purpose: "openbaar-register",
    expect: 200,
  },
  {
    kind: "publish",
    title: "RvIG gives Horst aan de Maas a non-resident's temporary stay address (RNI, Wet BRP)",
    party: "bzk.rvig",
    topic: "brp.stay-address-provided",
    payload: exampleEvent("brp.stay-address-provided"),
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
    title: "A lent worker breaks a leg in a greenhouse; the inlener, the employer, reports it (Arbowet)",
    party: "inlener.90000101",
    topic: "arbo.accident-reported",
    payload: { ...exampleEvent("arbo.accident-reported"), reportReference: "VDH-ARBO-2026-007" },
    expect: 202,
  },
  {
    kind: "publish",
    title: "The inlener tells the uitlener of the accident (planned meld- en vergewisplicht, from 2026)",
    party: "inlener.90000101",
    topic: "arbo.accident-notified",
    payload: exampleEvent("arbo.accident-notified"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "The uitlener reports its lent worker's accident too (meldplicht uitleners, from 2026)",
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
    title: "Schiedam's meldpunt takes an anonymous report: a landlord ties the lease to the job",
    party: "gemeente.schiedam",
    topic: "huisvesting.landlord-reported",
    payload: exampleEvent("huisvesting.landlord-reported"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "Schiedam, an experiment municipality, passes a stay address change to BZK (experiment abo)",
    party: "gemeente.schiedam",
    topic: "brp.stay-address-changed",
    payload: exampleEvent("brp.stay-address-changed"),
    expect: 202,
  },
  {
    kind: "publish",
    title:
      "The Belastingdienst tells SZW the second uitlener leaves loonheffing unpaid; its g-rekening was drawn",
    party: "belastingdienst",
    topic: "fiscaal.arrears-signalled",
    payload: exampleEvent("fiscaal.arrears-signalled"),
    expect: 202,
  },
  {
    kind: "publish",
    title: "Arbeidsinspectie, Belastingdienst and UWV open a joint AMU case on the second uitlener",
    party: "nla",
    topic: "amu.case-opened",
    payload: exampleEvent("amu.case-opened"),
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
    title:
      "Refused by the law's date: UWV's registration gap, as the payroll feedback loop is only being explored",
    party: "uwv",
    topic: "loonaangifte.registration-gap",
    payload: exampleEvent("loonaangifte.registration-gap"),
    grondslag: "brp-feedbackcyclus-loonaangifte",
    purpose: "brp-adreskwaliteit",
    expect: 403,
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
    title: "SZW marks the second uitlener as no longer admitted in the public register",
    party: "szw.toelating",
    topic: "wtta.register-updated",
    payload: {
      ...exampleEvent("wtta.register-updated"),
      ...second,
      eventTime: new Date("2026-09-01T10:05:00Z"),
      registerStatus: "NOT_ADMITTED",
      effectiveDate: "2026-09-15",
    },
    expect: 202,
  },
  {
    kind: "publish",
    title:
      "Refused by the law's date: UWV's payroll departure, the feedback loop's other direction (being explored)",
    party: "uwv",
    topic: "loonaangifte.payroll-departure",
    payload: exampleEvent("loonaangifte.payroll-departure"),
    grondslag: "brp-feedbackcyclus-loonaangifte",
    purpose: "brp-adreskwaliteit",
    expect: 403,
  },
  {
    kind: "publish",
    title:
      "Refused by the law's date: a notice in Polish to the second uitlener's workers (BRP e-mail use has no law yet)",
    party: "szw.toelating",
    topic: "informatie.worker-notice-issued",
    payload: exampleEvent("informatie.worker-notice-issued"),
    grondslag: "brp-informatie-arbeidsmigranten",
    purpose: "informatie-arbeidsmigrant",
    expect: 403,
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

/** What one step did: the answer's status, a line for the log, and for an accepted event who should receive it. */
export interface StepOutcome {
  status: number;
  detail: string;
  accepted?: { eventId: string; recipients: string[] };
}

/**
 * Runs one step through the SDK, as its party would: a publish under the step's (or its producer entry's) legal
 * basis and purpose, or a read of its deliveries. A refusal is an outcome, not an error. `recipients` are the
 * consumers the contracts in force name for the event, after their row filters (sorted party ids).
 */
export async function runStep(
  client: Client<TopicMap>,
  catalogue: Catalogue,
  step: Step,
  call: { idempotencyKey: string; traceparent: string },
): Promise<StepOutcome> {
  try {
    if (step.kind === "subscribe") {
      const { deliveries } = await client.poll(step.topic, {
        purpose: step.purpose,
        max: 1,
        traceparent: call.traceparent,
      });
      return { status: 200, detail: `${deliveries.length} deliveries` };
    }
    const entry = producerEntry(catalogue, step.topic, step.party);
    const receipt = await client.publish(step.topic, step.payload, {
      grondslag: step.grondslag ?? entry?.grondslag ?? "",
      purpose: step.purpose ?? entry?.purposes[0] ?? "",
      idempotencyKey: call.idempotencyKey,
      traceparent: call.traceparent,
    });
    const payload: unknown = JSON.parse(JSON.stringify(step.payload));
    const recipients = consumersOf(catalogue, step.topic, new Date())
      .filter((d) => evaluateRowFilter(d.entry.rowFilter, payload, d.party))
      .map((d) => d.party.id)
      .sort();
    return {
      status: 202,
      detail: `event ${receipt.eventId.slice(0, 8)}`,
      accepted: { eventId: receipt.eventId, recipients },
    };
  } catch (err) {
    if (!(err instanceof RefusalError)) throw err;
    return { status: err.status, detail: `${err.code}: ${err.detail}` };
  }
}
