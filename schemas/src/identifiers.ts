import { fullName, isRecordSchema, namespaceOf, type AvroRecordSchema, type IdentifierKind } from "./avro";
import { namedTypes, unwrap } from "./fields";

/**
 * Burgerservicenummer: nine digits passing the elfproef (11-proef) with weights 9..2 and -1 on the last digit.
 * 000000000 passes the arithmetic but is never issued.
 */
export function isValidBsn(value: string): boolean {
  if (!/^\d{9}$/.test(value) || value === "000000000") return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(value[i]) * (9 - i);
  sum -= Number(value[8]);
  return sum % 11 === 0;
}

/** KvK-nummer: eight digits (the KvK dropped its check digit, so the format is all there is to check). */
export function isValidKvk(value: string): boolean {
  return /^\d{8}$/.test(value);
}

/** CBS gemeentecode: `GM` and four digits, e.g. GM0606 (Schiedam). */
export function isValidGemeentecode(value: string): boolean {
  return /^GM\d{4}$/.test(value);
}

export const identifierValidators: Readonly<Record<IdentifierKind, (value: string) => boolean>> = {
  bsn: isValidBsn,
  kvk: isValidKvk,
  gemeentecode: isValidGemeentecode,
};

export interface IdentifierProblem {
  /** Where in the event, e.g. `persons[1].bsn`. */
  readonly path: string;
  readonly identifier: IdentifierKind;
  /** Never the value itself: a wrong BSN is still personal data and must not reach logs or refusals. */
  readonly message: string;
}

interface CheckNode {
  readonly name: string;
  readonly kind: IdentifierKind | undefined;
  readonly repeated: boolean;
  readonly children: readonly CheckNode[];
}

const plans = new WeakMap<object, readonly CheckNode[] | "recursive">();

/**
 * The branches of a schema that lead to an `x-identifier` field, computed once per frozen schema: the gateway
 * checks every event, and walking only these branches costs a fraction of unwrapping every field each time.
 * A recursive schema has no finite plan and is walked in full instead.
 */
function planFor(schema: AvroRecordSchema): readonly CheckNode[] | "recursive" {
  const cached = plans.get(schema);
  if (cached) return cached;
  const named = namedTypes(schema);
  const stack = new Set<string>();
  const compile = (record: AvroRecordSchema, ns: string | undefined): CheckNode[] | "recursive" => {
    const full = fullName(record.name, record.namespace ?? ns);
    if (stack.has(full)) return "recursive";
    stack.add(full);
    const nodes: CheckNode[] = [];
    for (const field of record.fields) {
      const u = unwrap(field.type, namespaceOf(full), named);
      const children = isRecordSchema(u.core) ? compile(u.core, u.ns) : [];
      if (children === "recursive") return "recursive";
      const kind = field["x-identifier"];
      if (kind || children.length > 0) nodes.push({ name: field.name, kind, repeated: u.repeated, children });
    }
    stack.delete(full);
    return nodes;
  };
  const plan = compile(schema, undefined);
  if (Object.isFrozen(schema)) plans.set(schema, plan);
  return plan;
}

/**
 * Checks every field marked `x-identifier` in an event that is already valid Avro. Null values of nullable fields
 * pass; anything else must satisfy its identifier's format.
 */
export function identifierProblems(schema: AvroRecordSchema, value: unknown): IdentifierProblem[] {
  const plan = planFor(schema);
  if (plan === "recursive") return walkAll(schema, value);
  const problems: IdentifierProblem[] = [];
  visitNodes(problems, plan, value, "");
  return problems;
}

// Module-level, not closures made per event: the runner (tsx, esbuild with keepNames) wraps every named closure in
// a `__name` call each time it is made, which was 2 % of the HTTP batch path's CPU here alone (bench profile).
function visitNodes(
  problems: IdentifierProblem[],
  nodes: readonly CheckNode[],
  v: unknown,
  prefix: string,
): void {
  if (typeof v !== "object" || v === null) return;
  for (const node of nodes) {
    const path = prefix ? `${prefix}.${node.name}` : node.name;
    const fv = (v as Record<string, unknown>)[node.name];
    if (node.repeated && Array.isArray(fv)) {
      for (let i = 0; i < fv.length; i++) visitNode(problems, node, fv[i], `${path}[${i}]`);
    } else if (node.repeated && typeof fv === "object" && fv !== null) {
      for (const [k, item] of Object.entries(fv))
        visitNode(problems, node, item, `${path}[${JSON.stringify(k)}]`);
    } else visitNode(problems, node, fv, path);
  }
}

function visitNode(problems: IdentifierProblem[], node: CheckNode, item: unknown, p: string): void {
  if (node.kind && item !== null && item !== undefined) {
    if (typeof item !== "string" || !identifierValidators[node.kind](item)) {
      problems.push({ path: p, identifier: node.kind, message: `${p} is not a valid ${node.kind}` });
    }
  }
  if (node.children.length > 0) visitNodes(problems, node.children, item, p);
}

/** The full walk, for recursive schemas (which have no finite plan). */
function walkAll(schema: AvroRecordSchema, value: unknown): IdentifierProblem[] {
  const named = namedTypes(schema);
  const problems: IdentifierProblem[] = [];
  const check = (kind: IdentifierKind, v: unknown, path: string): void => {
    if (v === null || v === undefined) return;
    if (typeof v !== "string" || !identifierValidators[kind](v)) {
      problems.push({ path, identifier: kind, message: `${path} is not a valid ${kind}` });
    }
  };
  const walkRecord = (record: AvroRecordSchema, ns: string | undefined, v: unknown, prefix: string): void => {
    if (typeof v !== "object" || v === null) return;
    const recordNs = namespaceOf(fullName(record.name, record.namespace ?? ns));
    for (const field of record.fields) {
      const path = prefix ? `${prefix}.${field.name}` : field.name;
      const fv = (v as Record<string, unknown>)[field.name];
      const u = unwrap(field.type, recordNs, named);
      const visit = (item: unknown, p: string): void => {
        const kind = field["x-identifier"];
        if (kind) check(kind, item, p);
        if (isRecordSchema(u.core)) walkRecord(u.core, u.ns, item, p);
      };
      if (u.repeated && Array.isArray(fv)) fv.forEach((item, i) => visit(item, `${path}[${i}]`));
      else if (u.repeated && typeof fv === "object" && fv !== null)
        Object.entries(fv).forEach(([k, item]) => visit(item, `${path}[${JSON.stringify(k)}]`));
      else visit(fv, path);
    }
  };
  walkRecord(schema, undefined, value, "");
  return problems;
}
