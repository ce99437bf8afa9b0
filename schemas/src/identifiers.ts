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

/**
 * Checks every field marked `x-identifier` in an event that is already valid Avro. Null values of nullable fields
 * pass; anything else must satisfy its identifier's format.
 */
export function identifierProblems(schema: AvroRecordSchema, value: unknown): IdentifierProblem[] {
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
