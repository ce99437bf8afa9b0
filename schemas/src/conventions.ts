import {
  fullName,
  identifierKinds,
  isArraySchema,
  isEnumSchema,
  isLogicalSchema,
  isMapSchema,
  isRecordSchema,
  isUnionSchema,
  namespaceOf,
  personalKinds,
  specialCategories,
  typeForSchema,
  type AvroRecordSchema,
  type AvroSchema,
} from "./avro";

export const NAMESPACE_PREFIX = "nl.grondslag.events";
export const KEY_FIELD = "subjectKvk";
export const TIME_FIELD = "eventTime";

const TOPIC = /^[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*$/;
const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const CAMEL = /^[a-z][A-Za-z0-9]*$/;
const SYMBOL = /^[A-Z][A-Z0-9_]*$/;
const KNOWN_ATTRS = new Set([
  "x-personal",
  "x-special-category",
  "x-reveals",
  "x-reporter-identity",
  "x-identifier",
  "x-key",
]);
const LOGICAL: Record<string, string> = { date: "int", "timestamp-millis": "long" };

/** Checks one topic's schema against our conventions (schemas/README.md). Returns `path: message` strings. */
export function checkSchema(topic: string, json: unknown): string[] {
  const problems: string[] = [];
  const at = (path: string, message: string): void => void problems.push(`${path || "(root)"}: ${message}`);
  if (!TOPIC.test(topic)) at("", `topic name "${topic}" must be <domain>.<event-in-kebab-case>`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    at("", "the schema must be a JSON object (one record)");
    return problems;
  }
  try {
    typeForSchema(json as AvroSchema);
  } catch (err) {
    at("", `not a valid Avro schema: ${(err as Error).message}`);
    return problems;
  }
  const schema = json as AvroSchema;
  if (!isRecordSchema(schema)) {
    at("", "the top-level type must be a record");
    return problems;
  }
  const expectedNs = `${NAMESPACE_PREFIX}.${topic.split(".")[0] ?? ""}`;
  if (schema.namespace !== expectedNs) at("namespace", `must be "${expectedNs}"`);

  const checkNamed = (s: AvroSchema, path: string): void => {
    if (isRecordSchema(s) || isEnumSchema(s)) {
      if (!PASCAL.test(s.name)) at(path, `type name "${s.name}" must be PascalCase without a namespace`);
      if (!s.doc) at(path, `type ${s.name} needs a doc`);
    }
    if (isEnumSchema(s)) {
      for (const sym of s.symbols)
        if (!SYMBOL.test(sym)) at(path, `enum symbol "${sym}" must be UPPER_SNAKE_CASE`);
    }
  };

  const checkType = (s: AvroSchema, path: string, ns: string | undefined, fieldDefault: unknown): void => {
    if (isUnionSchema(s)) {
      if (s.length !== 2 || s[0] !== "null" || s[1] === "null") {
        at(path, 'unions must be ["null", T]: other unions do not map to one TypeScript type');
      } else if (fieldDefault !== null) {
        at(path, 'a nullable field needs "default": null, so a reader without it still resolves');
      }
      s.forEach((b) => checkType(b, path, ns, undefined));
      return;
    }
    if (isLogicalSchema(s)) {
      const base = LOGICAL[s.logicalType];
      if (base === undefined)
        at(path, `logical type "${s.logicalType}" is not supported (date, timestamp-millis)`);
      else if (s.type !== base) at(path, `logical type ${s.logicalType} must be on "${base}"`);
      return;
    }
    if (isArraySchema(s)) return checkType(s.items, path, ns, undefined);
    if (isMapSchema(s)) return checkType(s.values, path, ns, undefined);
    checkNamed(s, path);
    if (isRecordSchema(s)) checkRecord(s, path, namespaceOf(fullName(s.name, s.namespace ?? ns)));
  };

  const checkRecord = (record: AvroRecordSchema, prefix: string, ns: string | undefined): void => {
    for (const field of record.fields) {
      const path = prefix ? `${prefix}.${field.name}` : field.name;
      if (!CAMEL.test(field.name)) at(path, "field names are camelCase");
      if (!field.doc) at(path, "every field needs a doc (English, with the Dutch term)");
      for (const attr of Object.keys(field)) {
        if (attr.startsWith("x-") && !KNOWN_ATTRS.has(attr)) at(path, `unknown attribute "${attr}"`);
      }
      const personal = field["x-personal"];
      if (personal !== undefined && !personalKinds.includes(personal)) {
        at(path, `x-personal must be one of ${personalKinds.join(", ")}`);
      }
      const special = field["x-special-category"];
      if (special !== undefined && !specialCategories.includes(special)) {
        at(path, `x-special-category must be one of ${specialCategories.join(", ")}`);
      }
      if (special !== undefined && personal === undefined) {
        at(path, "special-category data is personal data: add x-personal");
      }
      const reveals = field["x-reveals"];
      if (reveals !== undefined && !specialCategories.includes(reveals)) {
        at(path, `x-reveals must be one of ${specialCategories.join(", ")}`);
      }
      const reporter = field["x-reporter-identity"];
      if (reporter !== undefined && reporter !== true) at(path, "x-reporter-identity is true or absent");
      if (reporter === true && personal === undefined) {
        at(path, "a reporter's identity is personal data: add x-personal");
      }
      const identifier = field["x-identifier"];
      if (identifier !== undefined) {
        if (!identifierKinds.includes(identifier)) {
          at(path, `x-identifier must be one of ${identifierKinds.join(", ")}`);
        }
        const t = field.type;
        const isString =
          t === "string" || (isUnionSchema(t) && t.length === 2 && t[0] === "null" && t[1] === "string");
        if (!isString) at(path, "an x-identifier field must be a string (or a nullable string)");
      }
      if (identifier === "bsn" && personal !== "bsn")
        at(path, 'a BSN is personal data: add "x-personal": "bsn"');
      if (field["x-key"] !== undefined && prefix) at(path, "x-key belongs on a top-level field only");
      checkType(field.type, path, ns, field.default);
    }
  };

  checkNamed(schema, "");
  checkRecord(schema, "", namespaceOf(fullName(schema.name, schema.namespace)));

  const keys = schema.fields.filter((f) => f["x-key"] !== undefined);
  const key = schema.fields.find((f) => f.name === KEY_FIELD);
  if (!key)
    at("", `every event carries the subject company's KvK number in a top-level "${KEY_FIELD}" field`);
  else if (key.type !== "string" || key["x-identifier"] !== "kvk" || key["x-key"] !== true) {
    at(KEY_FIELD, 'must be a string with "x-identifier": "kvk" and "x-key": true');
  }
  if (keys.length > 1 || keys.some((f) => f.name !== KEY_FIELD || f["x-key"] !== true)) {
    at("", `only "${KEY_FIELD}" carries "x-key": true`);
  }
  const time = schema.fields.find((f) => f.name === TIME_FIELD);
  const t = time?.type;
  if (!t || !isLogicalSchema(t) || t.logicalType !== "timestamp-millis") {
    at(TIME_FIELD, 'every event carries "eventTime" as {"type": "long", "logicalType": "timestamp-millis"}');
  }
  return problems;
}
