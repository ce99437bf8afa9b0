import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deepFreeze, isTopic, type Topic } from "@grondslag/schemas";
import { parseDocument } from "yaml";
import type { z } from "zod";
import {
  legalBasisSchema,
  partySchema,
  purposeSchema,
  topicContractSchema,
  type Catalogue,
  type LegalBasis,
  type Party,
  type Purpose,
  type TopicContract,
} from "./model";
import { ContractError, formatPath, type Problem } from "./problems";
import { checkDraft } from "./rules";

export const defaultDataDir = fileURLToPath(new URL("../data/", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The YAML files of a catalogue: relative path (`topics/x.yaml`) to text and the name to show in problems. */
export interface CatalogueSource {
  readonly files: ReadonlyMap<string, { readonly text: string; readonly shown: string }>;
  /** The directory as shown in problems, for files that are missing. */
  readonly shownRoot?: string;
}

const REQUIRED = ["legal-bases.yaml", "purposes.yaml", "parties.yaml"] as const;

/** Reads `legal-bases.yaml`, `purposes.yaml`, `parties.yaml` and `topics/*.yaml` from a directory. */
export function readCatalogueSource(dir: string = defaultDataDir): CatalogueSource {
  const files = new Map<string, { text: string; shown: string }>();
  const show = (abs: string): string => {
    const fromRoot = path.relative(repoRoot, abs);
    return fromRoot.startsWith("..") ? abs : fromRoot.split(path.sep).join("/");
  };
  const add = (rel: string): void => {
    const abs = path.join(dir, rel);
    files.set(rel, { text: readFileSync(abs, "utf8"), shown: show(abs) });
  };
  for (const rel of REQUIRED) if (existsSync(path.join(dir, rel))) add(rel);
  const topicsDir = path.join(dir, "topics");
  if (existsSync(topicsDir)) {
    for (const name of readdirSync(topicsDir).sort()) if (/\.ya?ml$/.test(name)) add(`topics/${name}`);
  }
  return { files, shownRoot: show(path.resolve(dir)) };
}

/** Overlays sources: a file in a later source replaces the same file in an earlier one (test fixtures). */
export function overlaySources(...sources: CatalogueSource[]): CatalogueSource {
  const files = new Map<string, { text: string; shown: string }>();
  for (const s of sources) for (const [k, v] of s.files) files.set(k, v);
  const shownRoot = sources.findLast((s) => s.shownRoot !== undefined)?.shownRoot;
  return shownRoot === undefined ? { files } : { files, shownRoot };
}

export interface Located<T> {
  readonly value: T;
  readonly file: string;
  readonly path: readonly (string | number)[];
}

export interface TopicDraft extends Omit<TopicContract, "topic" | "schema"> {
  /** From the file name; not yet known to be a topic. */
  readonly topic: string;
  readonly schema: string;
}

/** What parsing yields before the cross-file rules run: every valid item, with where it came from. */
export interface Draft {
  readonly legalBases: readonly Located<LegalBasis>[];
  readonly purposes: readonly Located<Purpose>[];
  readonly parties: readonly Located<Party>[];
  readonly topics: readonly Located<TopicDraft>[];
  /**
   * Every id defined in each file, valid items or not, or `null` when the file could not be read. A reference to
   * an id whose item merely has a format problem is not also "unknown": one mistake, one problem.
   */
  readonly ids: {
    readonly legalBases: ReadonlySet<string> | null;
    readonly purposes: ReadonlySet<string> | null;
    readonly parties: ReadonlySet<string> | null;
  };
}

function parseYaml(text: string, file: string, problems: Problem[]): unknown {
  // prettyErrors puts "at line L, column C" into the first line of each message.
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const first = (e.message.split("\n")[0] ?? "").replace(/:$/, "");
      problems.push({ rule: "syntax", file, path: "(root)", message: `YAML: ${first}` });
    }
    return undefined;
  }
  return doc.toJS() as unknown;
}

function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  at: (string | number)[],
  problems: Problem[],
): z.infer<S> | undefined {
  const result = schema.safeParse(value, {
    error: (iss) => (iss.code === "invalid_type" && iss.input === undefined ? "is required" : undefined),
  });
  if (result.success) return result.data;
  for (const issue of result.error.issues.flatMap((i) => flattenUnion(i, []))) {
    problems.push({ rule: "format", file, path: formatPath([...at, ...issue.path]), message: issue.message });
  }
  return undefined;
}

/** "Invalid input" for a union says nothing: report the issues of the alternative that came closest instead. */
function flattenUnion(
  issue: z.core.$ZodIssue,
  prefix: readonly PropertyKey[],
): { path: PropertyKey[]; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors.length) {
    const closest = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
    if (closest.length) return closest.flatMap((i) => flattenUnion(i, path));
  }
  return [{ path, message: issue.message }];
}

function parseList<S extends z.ZodType>(
  source: CatalogueSource,
  rel: string,
  schema: S,
  problems: Problem[],
): { items: Located<z.infer<S>>[]; ids: Set<string> | null } {
  const f = source.files.get(rel);
  if (!f) {
    const file = source.shownRoot ? `${source.shownRoot}/${rel}` : rel;
    problems.push({ rule: "syntax", file, path: "(root)", message: "file is missing" });
    return { items: [], ids: null };
  }
  const json = parseYaml(f.text, f.shown, problems);
  if (json === undefined) return { items: [], ids: null };
  if (!Array.isArray(json)) {
    problems.push({ rule: "format", file: f.shown, path: "(root)", message: "must be a list" });
    return { items: [], ids: null };
  }
  const items: Located<z.infer<S>>[] = [];
  const ids = new Set<string>();
  json.forEach((item: unknown, i) => {
    const id = typeof item === "object" && item !== null ? (item as { id?: unknown }).id : undefined;
    if (typeof id === "string") ids.add(id);
    const value = validate(schema, item, f.shown, [i], problems);
    if (value !== undefined) items.push({ value, file: f.shown, path: [i] });
  });
  return { items, ids };
}

/** Parses the YAML and checks each file's shape; items that fail are left out of the draft (and reported). */
export function parseSource(source: CatalogueSource): { draft: Draft; problems: Problem[] } {
  const problems: Problem[] = [];
  const legalBases = parseList(source, "legal-bases.yaml", legalBasisSchema, problems);
  const purposes = parseList(source, "purposes.yaml", purposeSchema, problems);
  const parties = parseList(source, "parties.yaml", partySchema, problems);
  const ids = { legalBases: legalBases.ids, purposes: purposes.ids, parties: parties.ids };
  const topics: Located<TopicDraft>[] = [];
  for (const [rel, f] of source.files) {
    if (!rel.startsWith("topics/")) continue;
    const json = parseYaml(f.text, f.shown, problems);
    if (json === undefined) continue;
    const value = validate(topicContractSchema, json, f.shown, [], problems);
    if (value === undefined) continue;
    const topic = path.posix.basename(rel).replace(/\.ya?ml$/, "");
    const schema = value.schema.replace(/\.avsc$/, "");
    topics.push({ value: { ...value, topic, schema }, file: f.shown, path: [] });
  }
  return {
    draft: { legalBases: legalBases.items, purposes: purposes.items, parties: parties.items, topics, ids },
    problems,
  };
}

function byId<T extends { readonly id: string }>(items: readonly Located<T>[]): Record<string, T> {
  // Null prototype: a party id such as "constructor" taken from a token must not find Object.prototype members.
  const out = Object.create(null) as Record<string, T>;
  for (const { value } of items) if (!(value.id in out)) out[value.id] = value;
  return out;
}

/** Builds the frozen catalogue from a draft: first occurrence of an id wins, unknown topics are left out. */
export function buildCatalogue(draft: Draft): Catalogue {
  const topics = Object.create(null) as Partial<Record<Topic, TopicContract>>;
  for (const { value } of draft.topics) {
    if (isTopic(value.topic) && value.schema === value.topic && !(value.topic in topics)) {
      topics[value.topic] = { ...value, topic: value.topic, schema: value.topic };
    }
  }
  return deepFreeze({
    legalBases: byId(draft.legalBases),
    purposes: byId(draft.purposes),
    parties: byId(draft.parties),
    topics,
  });
}

/** Every problem in a catalogue source: syntax, file shapes, and the cross-file rules (contracts/README.md). */
export function lintSource(source: CatalogueSource): { catalogue: Catalogue; problems: Problem[] } {
  const { draft, problems } = parseSource(source);
  const catalogue = buildCatalogue(draft);
  return { catalogue, problems: [...problems, ...checkDraft(draft, catalogue)] };
}

/**
 * Loads and checks the contracts. Throws a {@link ContractError} listing every problem, so that a gateway never
 * runs on contracts that do not lint: fail closed.
 */
export function loadCatalogue(dir: string = defaultDataDir): Catalogue {
  const { catalogue, problems } = lintSource(readCatalogueSource(dir));
  if (problems.length) throw new ContractError(problems);
  return catalogue;
}
