import {
  describeFields,
  isEnumSchema,
  isLogicalSchema,
  isRecordSchema,
  typeForSchema,
  type AvroRecordSchema,
} from "@grondslag/schemas";
import type { Condition, Literal, Party, RowFilter } from "./model";

// Row filters are data, not code: a condition compares one scalar field of the event with a literal, a list of
// literals, or an attribute of the receiving party. No expressions, no eval, nothing a contract author can use to
// run code in the gateway.

const SCALAR = new Set(["boolean", "int", "long", "float", "double", "string"]);

function conditions(filter: RowFilter): readonly Condition[] {
  if ("all" in filter) return filter.all;
  if ("any" in filter) return filter.any;
  return [filter];
}

function valueAt(event: unknown, path: string): unknown {
  let v: unknown = event;
  for (const seg of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    // Own properties only: a contract must not reach `constructor` or other prototype members.
    v = Object.hasOwn(v, seg) ? (v as Record<string, unknown>)[seg] : undefined;
  }
  return v;
}

function holds(c: Condition, event: unknown, party: Party): boolean {
  const v = valueAt(event, c.field);
  if (v === null || v === undefined) return false;
  if ("in" in c) return c.in.some((x) => x === v);
  if (typeof c.equals === "object") {
    // A party without the attribute sees nothing: fail closed.
    const attr = party[c.equals.party];
    return attr !== undefined && attr === v;
  }
  return c.equals === v;
}

/**
 * Does the event pass the consumer's row filter? Evaluated on the full event, before projection, so a filter may
 * use a field the consumer does not receive. A missing or null field never matches.
 */
export function evaluateRowFilter(filter: RowFilter | undefined, event: unknown, party: Party): boolean {
  if (!filter) return true;
  if ("any" in filter) return filter.any.some((c) => holds(c, event, party));
  return conditions(filter).every((c) => holds(c, event, party));
}

export interface FilterProblem {
  /** Path inside the `rowFilter` object, e.g. `all[1].field`. */
  readonly path: (string | number)[];
  readonly message: string;
  readonly rule: "unknown-field" | "row-filter";
}

/**
 * Checks a row filter against the writer schema and the parties the consumer entry matches: the field exists,
 * is a single scalar (not inside an array, not a record), literals fit its type, and every matched party has the
 * attribute it is compared with.
 */
export function checkRowFilter(
  filter: RowFilter,
  schema: AvroRecordSchema,
  parties: readonly Party[],
): FilterProblem[] {
  const fields = new Map(describeFields(schema).map((f) => [f.path, f]));
  const problems: FilterProblem[] = [];
  const prefix: (string | number)[] = "all" in filter ? ["all"] : "any" in filter ? ["any"] : [];
  conditions(filter).forEach((c, i) => {
    const at = prefix.length ? [...prefix, i] : [];
    const info = fields.get(c.field);
    if (!info) {
      problems.push({
        path: [...at, "field"],
        rule: "unknown-field",
        message: `${c.field} is not a field of the schema`,
      });
      return;
    }
    const core = info.core;
    const scalar =
      isEnumSchema(core) || isLogicalSchema(core) || (typeof core === "string" && SCALAR.has(core));
    if (info.repeated || isRecordSchema(core) || !scalar) {
      problems.push({
        path: [...at, "field"],
        rule: "row-filter",
        message: `${c.field} is not a single scalar field: a row filter compares one value`,
      });
      return;
    }
    const type = typeForSchema(core);
    const literals: [Literal, (string | number)[]][] =
      "in" in c
        ? c.in.map((x, j) => [x, [...at, "in", j]])
        : typeof c.equals === "object"
          ? []
          : [[c.equals, [...at, "equals"]]];
    for (const [x, path] of literals) {
      if (!type.isValid(x)) {
        problems.push({
          path,
          rule: "row-filter",
          message: `${JSON.stringify(x)} can never equal ${c.field}`,
        });
      }
    }
    if ("equals" in c && typeof c.equals === "object") {
      const attr = c.equals.party;
      for (const p of parties) {
        if (p[attr] === undefined) {
          problems.push({
            path: [...at, "equals", "party"],
            rule: "row-filter",
            message: `party ${p.id} has no ${attr}, so it would never receive anything`,
          });
        }
      }
    }
  });
  return problems;
}
