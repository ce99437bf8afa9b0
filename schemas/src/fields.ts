import {
  fullName,
  isArraySchema,
  isEnumSchema,
  isMapSchema,
  isRecordSchema,
  isUnionSchema,
  namespaceOf,
  type AvroField,
  type AvroRecordSchema,
  type AvroSchema,
  type IdentifierKind,
  type PersonalKind,
  type SpecialCategory,
} from "./avro";

const PRIMITIVES = new Set(["null", "boolean", "int", "long", "float", "double", "bytes", "string"]);

/** One field of a record schema, anywhere in the tree, with its data classification. */
export interface FieldInfo {
  /**
   * Dotted path from the top-level record: `victim.bsn`. Arrays and maps add no segment (`findings.normArea` is
   * the `normArea` of every finding), because contracts allow or withhold a field for all elements alike.
   */
  readonly path: string;
  readonly field: AvroField;
  /** Full name of the record the field belongs to. */
  readonly parent: string;
  /** The field's type after stripping `null` from a nullable union and arrays/maps around it. */
  readonly core: AvroSchema;
  /** Whether the core type is a record, so the field has sub-fields. */
  readonly isRecord: boolean;
  readonly nullable: boolean;
  /** Whether the field sits inside an array or map (the path names a field of each element). */
  readonly repeated: boolean;
  readonly personal?: PersonalKind;
  /** Own `x-special-category`, or the nearest ancestor's: a sub-field of health data is health data. */
  readonly specialCategory?: SpecialCategory;
  /** Own `x-reveals`: special-category data once combined with the person's BSN or name. */
  readonly reveals?: SpecialCategory;
  /** Own `x-reporter-identity` (lint treats the sub-fields of such a record as the reporter's too). */
  readonly reporterIdentity?: boolean;
  readonly identifier?: IdentifierKind;
  readonly key: boolean;
}

const namedCache = new WeakMap<object, ReadonlyMap<string, AvroSchema>>();

/**
 * Named types of a schema by full name, in definition order. Remembered per frozen schema object: the gateway asks
 * for every event it checks, and a frozen schema cannot change.
 */
export function namedTypes(schema: AvroSchema): ReadonlyMap<string, AvroSchema> {
  const cacheable = typeof schema === "object" && Object.isFrozen(schema);
  const cached = cacheable ? namedCache.get(schema) : undefined;
  if (cached) return cached;
  const out = new Map<string, AvroSchema>();
  const visit = (s: AvroSchema, ns: string | undefined): void => {
    if (typeof s === "string") return;
    if (isUnionSchema(s)) return s.forEach((b) => visit(b, ns));
    if (isArraySchema(s)) return visit(s.items, ns);
    if (isMapSchema(s)) return visit(s.values, ns);
    if ("name" in s && typeof s.name === "string") {
      const full = fullName(s.name, "namespace" in s ? (s.namespace ?? ns) : ns);
      out.set(full, s);
      if (isRecordSchema(s)) s.fields.forEach((f) => visit(f.type, namespaceOf(full)));
    }
  };
  visit(schema, undefined);
  if (cacheable) namedCache.set(schema, out);
  return out;
}

interface Unwrapped {
  core: AvroSchema;
  /** Namespace in which names inside the core type resolve. */
  ns: string | undefined;
  nullable: boolean;
  repeated: boolean;
}

/** Strips a nullable union, arrays and maps, and follows a name reference to its definition. */
export function unwrap(
  type: AvroSchema,
  ns: string | undefined,
  named: ReadonlyMap<string, AvroSchema>,
): Unwrapped {
  let nullable = false;
  let repeated = false;
  let core = type;
  let coreNs = ns;
  for (;;) {
    if (isUnionSchema(core)) {
      const branches = core.filter((b) => b !== "null");
      nullable ||= branches.length < core.length;
      if (branches.length !== 1) break;
      core = branches[0] as AvroSchema;
    } else if (isArraySchema(core)) {
      repeated = true;
      core = core.items;
    } else if (isMapSchema(core)) {
      repeated = true;
      core = core.values;
    } else if (typeof core === "string" && !PRIMITIVES.has(core)) {
      const key = named.has(fullName(core, coreNs)) ? fullName(core, coreNs) : core;
      const def = named.get(key);
      if (!def) break;
      core = def;
      coreNs = namespaceOf(key);
    } else {
      break;
    }
  }
  if (isRecordSchema(core) || isEnumSchema(core))
    coreNs = namespaceOf(fullName(core.name, core.namespace ?? coreNs));
  return { core, ns: coreNs, nullable, repeated };
}

/** Every field of a record schema, depth first, parents before their sub-fields. */
export function describeFields(schema: AvroRecordSchema): FieldInfo[] {
  const named = namedTypes(schema);
  const out: FieldInfo[] = [];
  const walk = (
    record: AvroRecordSchema,
    ns: string | undefined,
    prefix: string,
    inherited: SpecialCategory | undefined,
    repeated: boolean,
    stack: Set<string>,
  ): void => {
    const parent = fullName(record.name, record.namespace ?? ns);
    const recordNs = namespaceOf(parent);
    for (const field of record.fields) {
      const u = unwrap(field.type, recordNs, named);
      const path = prefix ? `${prefix}.${field.name}` : field.name;
      const specialCategory = field["x-special-category"] ?? inherited;
      const isRecord = isRecordSchema(u.core);
      out.push({
        path,
        field,
        parent,
        core: u.core,
        isRecord,
        nullable: u.nullable,
        repeated: repeated || u.repeated,
        ...(field["x-personal"] ? { personal: field["x-personal"] } : {}),
        ...(specialCategory ? { specialCategory } : {}),
        ...(field["x-reveals"] ? { reveals: field["x-reveals"] } : {}),
        ...(field["x-reporter-identity"] === true ? { reporterIdentity: true } : {}),
        ...(field["x-identifier"] ? { identifier: field["x-identifier"] } : {}),
        key: field["x-key"] === true,
      });
      if (isRecordSchema(u.core)) {
        const child = fullName(u.core.name, u.core.namespace ?? u.ns);
        // A recursive type has no finite set of paths; our conventions forbid them, this only keeps us finite.
        if (stack.has(child)) continue;
        walk(u.core, u.ns, path, specialCategory, repeated || u.repeated, new Set([...stack, child]));
      }
    }
  };
  walk(schema, undefined, "", undefined, false, new Set([fullName(schema.name, schema.namespace)]));
  return out;
}

/** Is `path` a field of the schema? (`victim` and `victim.bsn` both are.) */
export function hasFieldPath(schema: AvroRecordSchema, path: string): boolean {
  return describeFields(schema).some((f) => f.path === path);
}
