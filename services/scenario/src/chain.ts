import { table, type AgencyState, type ChainStep, type Reaction } from "./chain-run";

/**
 * The seed's chain "a temp agency loses its admission" (Jaarrapportage arbeidsmigranten 2023, ch. 2.1, 2.3, 4, 6
 * and 7), as `npm start` runs it: each step an operator's action at one agency's desk, each reaction something
 * that must then hold in another agency's own state. The uitlener is Tweede Voorbeeld Flexwerk B.V. (KvK 90000002),
 * the inlener Kassenbedrijf De Voorbeeldhof B.V. (KvK 90000101), the municipality Schiedam (GM0606).
 */
export const UITLENER = { kvk: "90000002", tradeName: "Tweede Voorbeeld Flexwerk B.V." };
export const INLENER = { kvk: "90000101", name: "Kassenbedrijf De Voorbeeldhof B.V." };

const rowsWhere = (s: AgencyState, name: string, pred: (r: Record<string, unknown>) => boolean) =>
  table(s, name).filter(pred);
const has = (
  party: string,
  what: string,
  name: string,
  pred: (r: Record<string, unknown>) => boolean,
): Reaction => ({
  party,
  what,
  holds: (s) => rowsWhere(s, name, pred).length > 0,
});
const about = (kvk: string) => (r: Record<string, unknown>) => r.subjectKvk === kvk || r.uitlenerKvk === kvk;

export function chain(): ChainStep[] {
  return [
    {
      title: "SZW grants Tweede Voorbeeld Flexwerk a provisional admission (waarborgsom € 50.000, ch. 2.1)",
      party: "szw.toelating",
      action: "grant-admission",
      input: { subjectKvk: UITLENER.kvk, tradeName: UITLENER.tradeName, securityDepositCents: 5_000_000 },
      reactions: [
        has(
          "szw.toelating",
          "holds the provisional admission",
          "admissions",
          (r) => r.subjectKvk === UITLENER.kvk,
        ),
        has(
          "inspectie.sna",
          "schedules the follow-up inspection before the six months end",
          "inspections",
          about(UITLENER.kvk),
        ),
      ],
    },
  ];
}

/** Every BSN the chain's inputs carry: none may appear in a stored audit record. */
export function chainBsns(): string[] {
  return [...JSON.stringify(chain().map((s) => s.input)).matchAll(/"(?:bsn|workerBsn)":"(\d{9})"/g)].flatMap(
    (m) => (m[1] ? [m[1]] : []),
  );
}
