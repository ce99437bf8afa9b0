export type RuleId =
  | "syntax"
  | "format"
  | "duplicate-id"
  | "unknown-legal-basis"
  | "unknown-purpose"
  | "unknown-party"
  | "unknown-schema"
  | "unknown-field"
  | "purpose-not-carried"
  | "special-category"
  | "special-category-back-door"
  | "planned-basis"
  | "reporter-identity"
  | "source-citation"
  | "empty-window"
  | "overlapping-window"
  | "pattern-matches-nobody"
  | "row-filter"
  | "binding"
  | "reserved-id"
  | "overlapping-id";

/** What each rule checks (shown by `npm run contracts:lint -- --rules` and in contracts/README.md). */
export const rules: Readonly<Record<RuleId, string>> = {
  syntax: "every file exists and is valid YAML",
  format:
    "every file has the documented shape: known keys only, valid ids, dates, durations, JWKs without private parts",
  "duplicate-id": "no legal basis, purpose or party id is defined twice",
  "unknown-legal-basis": "every grondslag named by a purpose or a producer/consumer entry is defined",
  "unknown-purpose": "every purpose named by a producer/consumer entry is defined",
  "unknown-party": "every exact party id (owner, producer, consumer) is defined",
  "unknown-schema": "every topic file names an existing .avsc, and the same topic as its file name",
  "unknown-field": "every allowed field and row-filter field exists in the topic's schema",
  "purpose-not-carried": "every purpose of an entry is carried by the entry's grondslag",
  "special-category":
    "special-category (AVG art. 9) fields go only to consumers, and come only from producers, whose grondslag allows them",
  "special-category-back-door":
    "a field that reveals special-category data beside a person's BSN or name (x-reveals: an accident's severity) travels with them only under a grondslag that allows special categories",
  "planned-basis":
    "an entry under a planned grondslag does not start before the date the law is intended to take effect, nor name a start when the source gives none",
  "reporter-identity":
    "a reporter's identity (x-reporter-identity) never reaches a party that can be the landlord or employer reported on (kinds uitlener, inlener)",
  "source-citation":
    "every topic contract's description cites the passage of the source document its flow rests on (its chapter: `ch. 2.1`)",
  "empty-window": "validFrom is before validTo",
  "overlapping-window":
    "no party is matched by two producer or two consumer entries of one topic whose validity windows overlap",
  "pattern-matches-nobody": "a party pattern (with *) matches at least one party",
  "row-filter":
    "a row filter compares a single scalar field with literals of its type, or with an attribute every matched party has",
  binding:
    "a producer binding names a single string field of the schema and an attribute every matched party has",
  "reserved-id":
    "no party id is one the platform uses itself: admin, anonymous, grondslag and grondslag.* (gateway, audit service)",
  "overlapping-id":
    "no party id starts with another party's id and a dot: its consumer-group prefix <id>. would cover the other's groups",
};

export interface Problem {
  readonly rule: RuleId;
  /** The file as shown to people, relative to the repository root. */
  readonly file: string;
  /** Where in the file: `consumers[1].fields[2]`, or `(root)`. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.path}: ${p.message}`;
}

export function formatPath(segments: readonly (string | number | symbol)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    // A key that is itself a dotted field path (a `bind` key) is quoted, so the path stays unambiguous.
    else if (String(s).includes(".")) out += `[${JSON.stringify(String(s))}]`;
    else out += out ? `.${String(s)}` : String(s);
  }
  return out || "(root)";
}

export class ContractError extends Error {
  readonly code = "CONTRACTS_INVALID";
  readonly retriable = false;
  constructor(readonly problems: readonly Problem[]) {
    super(
      `${problems.length} problem(s) in the contracts:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
    );
    this.name = "ContractError";
  }
}
