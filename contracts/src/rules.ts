import { describeFields, isTopic, rawSchema, type AvroRecordSchema } from "@grondslag/schemas";
import type { Draft, Located, TopicDraft } from "./load";
import { isPattern, matchParty } from "./match";
import {
  describeBasisValidity,
  parseInstant,
  type Catalogue,
  type ConsumerEntry,
  type Party,
  type PartyAttribute,
  type ProducerEntry,
  type Window,
} from "./model";
import { formatPath, type Problem, type RuleId } from "./problems";
import { checkRowFilter } from "./row-filter";

type Entry = ProducerEntry | ConsumerEntry;

/** A chapter reference in a contract's description: `ch. 2`, `ch. 2.1`, `chapter 3`, `hoofdstuk 4`. */
const CITATION = /\b(?:ch\.|chapter|hoofdstuk)\s*\d/i;

/** Party kinds that can be the landlord or the employer a report is about: a reporter's identity never reaches them. */
const REPORTED_KINDS = new Set(["uitlener", "inlener"]);
type Side = "producers" | "consumers";

function span(w: Window): [number, number] {
  return [
    w.validFrom === undefined ? -Infinity : parseInstant(w.validFrom),
    w.validTo === undefined ? Infinity : parseInstant(w.validTo),
  ];
}

function isEmptyWindow(w: Window): boolean {
  const [from, to] = span(w);
  return from >= to;
}

function overlaps(a: Window, b: Window): boolean {
  const [af, at] = span(a);
  const [bf, bt] = span(b);
  return af < bt && bf < at;
}

/**
 * Ids a party may not have, with why. A party id is a Kafka principal (`User:<id>`) whose consumer groups are
 * `<id>.<anything>` (a PREFIXED ACL), and a JWT subject, so it must not be a principal the platform itself uses.
 */
export function reservedIdReason(id: string): string | undefined {
  if (id === "admin") return "it is the Kafka super user";
  if (id === "anonymous") return "Kafka names unauthenticated clients User:ANONYMOUS";
  if (id === "grondslag" || id.startsWith("grondslag.")) {
    return "grondslag.* is the platform's own (the gateway grondslag.gateway, the audit service grondslag.audit, their consumer groups)";
  }
  return undefined;
}

function checkPartyIds(
  draft: Draft,
  report: (rule: RuleId, file: string, path: readonly (string | number)[], message: string) => void,
): void {
  for (const p of draft.parties) {
    const why = reservedIdReason(p.value.id);
    if (why) report("reserved-id", p.file, [...p.path, "id"], `party id ${p.value.id} is reserved: ${why}`);
  }
  // The PREFIXED group ACL `<id>.` of one party would cover every group of a party `<id>.<x>`.
  const ids = [...new Set(draft.parties.map((p) => p.value.id))];
  for (const p of draft.parties) {
    for (const other of ids) {
      if (p.value.id.startsWith(`${other}.`)) {
        report(
          "overlapping-id",
          p.file,
          [...p.path, "id"],
          `party id ${p.value.id} starts with ${other}.: ${other} may use every consumer group named ${other}.<anything>, ${p.value.id}'s included`,
        );
      }
    }
  }
}

/** The cross-file rules (problems.ts lists them). The draft holds only items whose own shape is valid. */
export function checkDraft(draft: Draft, catalogue: Catalogue): Problem[] {
  const problems: Problem[] = [];
  const report = (rule: RuleId, file: string, path: readonly (string | number)[], message: string): void => {
    problems.push({ rule, file, path: formatPath(path), message });
  };
  const parties = Object.values(catalogue.parties).sort((a, b) => a.id.localeCompare(b.id));
  // When a file could not be read at all, references into it cannot be judged: its own problem says enough.
  const known = (kind: keyof Draft["ids"], id: string): boolean => draft.ids[kind]?.has(id) ?? true;
  const partiesReadable = draft.ids.parties !== null;

  const duplicates = <T extends { readonly id: string }>(
    items: readonly Located<T>[],
    what: string,
  ): void => {
    const first = new Map<string, Located<T>>();
    for (const item of items) {
      const prior = first.get(item.value.id);
      if (prior) {
        report(
          "duplicate-id",
          item.file,
          [...item.path, "id"],
          `${what} ${item.value.id} is already defined at ${prior.file}:${formatPath(prior.path)}`,
        );
      } else first.set(item.value.id, item);
    }
  };
  duplicates(draft.legalBases, "legal basis");
  duplicates(draft.purposes, "purpose");
  duplicates(draft.parties, "party");
  checkPartyIds(draft, report);

  for (const b of draft.legalBases) {
    if (isEmptyWindow(b.value)) {
      report(
        "empty-window",
        b.file,
        [...b.path, "validTo"],
        `validTo ${b.value.validTo} is not after validFrom ${b.value.validFrom}`,
      );
    }
  }

  for (const p of draft.purposes) {
    p.value.legalBases.forEach((id, i) => {
      if (!known("legalBases", id)) {
        report("unknown-legal-basis", p.file, [...p.path, "legalBases", i], `unknown legal basis ${id}`);
      }
    });
  }

  for (const t of draft.topics) checkTopic(t, catalogue, parties, partiesReadable, known, report);
  return problems;
}

function checkTopic(
  t: Located<TopicDraft>,
  catalogue: Catalogue,
  parties: readonly Party[],
  partiesReadable: boolean,
  known: (kind: keyof Draft["ids"], id: string) => boolean,
  report: (rule: RuleId, file: string, path: readonly (string | number)[], message: string) => void,
): void {
  const { value: contract, file } = t;
  let schema: AvroRecordSchema | undefined;
  if (!isTopic(contract.topic)) {
    report("unknown-schema", file, [], `no schema schemas/avro/${contract.topic}.avsc for this topic file`);
  } else if (contract.schema !== contract.topic) {
    report(
      "unknown-schema",
      file,
      ["schema"],
      `topic ${contract.topic} must use its own schema, not ${contract.schema}`,
    );
  } else {
    schema = rawSchema(contract.topic);
  }
  const fields = schema ? new Map(describeFields(schema).map((f) => [f.path, f])) : undefined;
  const hasSpecial = fields ? [...fields.values()].some((f) => f.specialCategory) : false;
  const all = fields ? [...fields.values()] : [];
  const identifying = (f: { personal?: string }): boolean => f.personal === "bsn" || f.personal === "name";
  const revealing = all.filter((f) => f.reveals);
  const hasRevealing = revealing.length > 0 && all.some(identifying);
  /** The schema fields a consumer's allowed path delivers: the field itself and everything under it. */
  const under = (path: string) => all.filter((f) => f.path === path || f.path.startsWith(`${path}.`));
  const reporterPaths = all.filter((f) => f.reporterIdentity).map((f) => f.path);
  const isReporter = (path: string): boolean =>
    reporterPaths.some((r) => path === r || path.startsWith(`${r}.`));

  if (!known("parties", contract.owner))
    report("unknown-party", file, ["owner"], `unknown party ${contract.owner}`);
  // A flow is only as lawful as the passage it rests on: a reviewer must be able to find it.
  if (!CITATION.test(contract.description ?? "")) {
    report(
      "source-citation",
      file,
      ["description"],
      "cite the source passage this flow rests on: its chapter (`Seed, ch. 2.1`) and a few of its own words",
    );
  }

  const checkEntry = (side: Side, e: Entry, i: number): void => {
    const at = (...rest: (string | number)[]): (string | number)[] => [side, i, ...rest];
    if (isPattern(e.party)) {
      if (partiesReadable && !parties.some((p) => matchParty(e.party, p.id))) {
        report(
          "pattern-matches-nobody",
          file,
          at("party"),
          `pattern ${e.party} matches no party in parties.yaml`,
        );
      }
    } else if (!known("parties", e.party)) {
      report("unknown-party", file, at("party"), `unknown party ${e.party}`);
    }
    const basis = catalogue.legalBases[e.grondslag];
    if (!known("legalBases", e.grondslag))
      report("unknown-legal-basis", file, at("grondslag"), `unknown legal basis ${e.grondslag}`);
    e.purposes.forEach((id, j) => {
      const purpose = catalogue.purposes[id];
      if (!known("purposes", id)) report("unknown-purpose", file, at("purposes", j), `unknown purpose ${id}`);
      else if (purpose && basis && !purpose.legalBases.includes(basis.id)) {
        report(
          "purpose-not-carried",
          file,
          at("purposes", j),
          `purpose ${id} is not carried by grondslag ${basis.id} (it is carried by ${purpose.legalBases.join(", ")})`,
        );
      }
    });
    if (isEmptyWindow(e)) {
      report(
        "empty-window",
        file,
        at("validTo"),
        `validTo ${e.validTo} is not after validFrom ${e.validFrom}`,
      );
    }
    if (basis && basis.status === "planned" && e.validFrom !== undefined) {
      const early =
        basis.validFrom === undefined || parseInstant(e.validFrom) < parseInstant(basis.validFrom);
      if (early) {
        report(
          "planned-basis",
          file,
          at("validFrom"),
          `starts ${e.validFrom} under grondslag ${basis.id}, which is ${describeBasisValidity(basis)}: a planned law carries nothing before it takes effect`,
        );
      }
    }
    if (side === "producers" && hasRevealing && basis && !basis.allowsSpecialCategory) {
      report(
        "special-category-back-door",
        file,
        at("grondslag"),
        `${contract.topic} carries ${revealing.map((f) => f.path).join(", ")} beside a person's BSN or name, which reveals special-category data (AVG art. 9) that grondslag ${basis.id} does not allow`,
      );
    }
    if (side === "producers" && hasSpecial && basis && !basis.allowsSpecialCategory) {
      report(
        "special-category",
        file,
        at("grondslag"),
        `${contract.topic} holds special-category data (AVG art. 9), which grondslag ${basis.id} does not allow`,
      );
    }
    if ("bind" in e && e.bind && fields) {
      const matched = parties.filter((p) => matchParty(e.party, p.id));
      for (const [path, attribute] of Object.entries<PartyAttribute>(e.bind)) {
        const info = fields.get(path);
        if (!info) {
          report("binding", file, at("bind", path), `${path} is not a field of ${contract.topic}`);
          continue;
        }
        if (info.repeated || info.core !== "string") {
          report(
            "binding",
            file,
            at("bind", path),
            `${path} is not a single string field: a binding compares it with the party's ${attribute}`,
          );
          continue;
        }
        for (const p of matched) {
          if (p[attribute] === undefined) {
            report(
              "binding",
              file,
              at("bind", path),
              `party ${p.id} has no ${attribute}, so it could never publish here`,
            );
          }
        }
      }
    }
    if (!("fields" in e) || !fields) return;
    e.fields.forEach((path, j) => {
      const info = fields.get(path);
      if (!info) {
        report("unknown-field", file, at("fields", j), `${path} is not a field of ${contract.topic}`);
        return;
      }
      if (!basis || basis.allowsSpecialCategory) return;
      const special = [...fields.values()].filter(
        (f) => f.specialCategory && (f.path === path || f.path.startsWith(`${path}.`)),
      );
      if (special.length) {
        const which = special.map((f) => f.path).join(", ");
        report(
          "special-category",
          file,
          at("fields", j),
          `${which}: special-category data (${special[0]?.specialCategory ?? ""}, AVG art. 9), which grondslag ${basis.id} does not allow`,
        );
      }
    });
    const delivered = e.fields.flatMap((path, j) => under(path).map((f) => ({ f, j })));
    if (basis && !basis.allowsSpecialCategory && delivered.some(({ f }) => identifying(f))) {
      const who = delivered.filter(({ f }) => identifying(f)).map(({ f }) => f.path);
      for (const { f, j } of delivered.filter((d) => d.f.reveals)) {
        report(
          "special-category-back-door",
          file,
          at("fields", j),
          `${f.path} beside ${who.join(", ")} reveals ${f.reveals ?? ""} data (AVG art. 9), which grondslag ${basis.id} does not allow: drop ${f.path} or the identity`,
        );
      }
    }
    const leaks = delivered.filter(({ f }) => isReporter(f.path));
    if (leaks.length) {
      const reported = parties.filter((p) => matchParty(e.party, p.id) && REPORTED_KINDS.has(p.kind));
      const js = [...new Set(leaks.map(({ j }) => j))];
      if (reported.length) {
        for (const j of js) {
          report(
            "reporter-identity",
            file,
            at("fields", j),
            `${e.fields[j] ?? ""} is the reporter's identity, and ${reported.map((p) => p.id).join(", ")} can be the landlord or employer reported on: it must never reach them`,
          );
        }
      }
    }
    if (e.rowFilter && schema) {
      const matched = parties.filter((p) => matchParty(e.party, p.id));
      for (const fp of checkRowFilter(e.rowFilter, schema, matched)) {
        report(fp.rule, file, at("rowFilter", ...fp.path), fp.message);
      }
    }
  };
  contract.producers.forEach((e, i) => checkEntry("producers", e, i));
  contract.consumers.forEach((e, i) => checkEntry("consumers", e, i));

  for (const side of ["producers", "consumers"] as const) {
    const entries: readonly Entry[] = contract[side];
    // One problem per pair of entries, naming every party both match.
    const clashes = new Map<string, { first: number; second: number; parties: string[] }>();
    for (const party of parties) {
      const matching = entries
        .map((e, i) => ({ e, i }))
        .filter(({ e }) => matchParty(e.party, party.id) && !isEmptyWindow(e));
      matching.forEach((second, b) => {
        for (const first of matching.slice(0, b)) {
          if (!overlaps(first.e, second.e)) continue;
          const key = `${first.i}:${second.i}`;
          const clash = clashes.get(key) ?? { first: first.i, second: second.i, parties: [] };
          clash.parties.push(party.id);
          clashes.set(key, clash);
        }
      });
    }
    for (const { first, second, parties: ids } of clashes.values()) {
      report(
        "overlapping-window",
        file,
        [side, second, "party"],
        `${ids.join(", ")} also matched by ${side}[${first}] with an overlapping validity window`,
      );
    }
  }
}
