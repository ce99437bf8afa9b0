import { createHash } from "node:crypto";
import type avro from "avsc";
import {
  describeFields,
  fullName,
  isArraySchema,
  isEnumSchema,
  isLogicalSchema,
  isMapSchema,
  isRecordSchema,
  isUnionSchema,
  namedTypes,
  namespaceOf,
  typeForSchema,
  type AvroField,
  type AvroRecordSchema,
  type AvroSchema,
  type Topic,
} from "@grondslag/schemas";
import { deliveryTopic, subjectOf } from "@grondslag/wire";

// A consumer's view is an Avro reader schema: the writer schema with only the allowed fields. Decoding the full
// event with this reader (avsc schema resolution) drops everything else, nested records and arrays included.
// Fail closed: an unknown path is an error, never "allow all", and there is no wildcard.

export class ProjectionError extends Error {
  constructor(readonly unknownPaths: readonly string[]) {
    super(`not fields of the schema: ${unknownPaths.join(", ")}`);
    this.name = "ProjectionError";
  }
}

/** A selection: `true` keeps a field whole; a nested selection keeps only the named sub-fields. */
type Selection = Map<string, true | Selection>;

function selectionOf(paths: readonly string[]): Selection {
  const root: Selection = new Map();
  // Shortest paths first, so that naming `victim` and `victim.bsn` keeps `victim` whole.
  for (const path of [...paths].sort((a, b) => a.split(".").length - b.split(".").length)) {
    const segs = path.split(".");
    let node: Selection | true = root;
    for (let i = 0; i < segs.length && node !== true; i++) {
      const seg = segs[i] as string;
      const last = i === segs.length - 1;
      const next: true | Selection | undefined = node.get(seg);
      if (last) node.set(seg, true);
      else if (next === undefined) {
        const child: Selection = new Map();
        node.set(seg, child);
        node = child;
      } else node = next;
    }
  }
  return root;
}

function signature(sel: true | Selection): string {
  if (sel === true) return "*";
  return `{${[...sel.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${signature(v)}`)
    .join(",")}}`;
}

/**
 * Derives the reader schema that holds only `fields` (dotted paths; naming a record keeps it whole).
 *
 * Record names stay the writer's, because resolution matches records by name. Only when one named record is used
 * at two places with different selections does a copy get a deterministic new name (`<Name>_<hash>`) with the
 * writer's name as alias, so it still resolves. Field docs, defaults and `x-` attributes are kept, so the view
 * still says what is personal data.
 */
export function projectSchema(writer: AvroRecordSchema, fields: readonly string[]): AvroRecordSchema {
  const known = new Set(describeFields(writer).map((f) => f.path));
  const unknown = fields.filter((p) => !known.has(p));
  if (unknown.length) throw new ProjectionError(unknown);
  if (fields.length === 0) throw new ProjectionError(["(no fields)"]);

  const named = namedTypes(writer);
  const emitted = new Map<string, string>(); // full name -> signature of the copy that carries that name

  const emit = (s: AvroSchema, ns: string | undefined, sel: true | Selection): AvroSchema => {
    if (typeof s === "string") {
      const key = named.has(fullName(s, ns)) ? fullName(s, ns) : s;
      const def = named.get(key);
      return def ? emit(def, namespaceOf(key), sel) : s;
    }
    if (isUnionSchema(s)) return s.map((b) => emit(b, ns, sel));
    if (isArraySchema(s)) return { type: "array", items: emit(s.items, ns, sel) };
    if (isMapSchema(s)) return { type: "map", values: emit(s.values, ns, sel) };
    if (isLogicalSchema(s)) return s;
    if (!("name" in s)) return s;
    const full = fullName(s.name, "namespace" in s ? (s.namespace ?? ns) : ns);
    if (!isRecordSchema(s)) {
      // Enums and fixed are leaves: define once, then refer by name.
      if (emitted.has(full)) return full;
      emitted.set(full, "*");
      return isEnumSchema(s) ? { ...s, name: full, namespace: undefined } : { ...s, name: full };
    }
    const sig = signature(sel);
    const prior = emitted.get(full);
    if (prior === sig) return full;
    let name = full;
    let aliases = s.aliases;
    if (prior !== undefined) {
      name = `${full}_${createHash("sha256").update(sig).digest("hex").slice(0, 8)}`;
      if (emitted.get(name) === sig) return name;
      aliases = [...(s.aliases ?? []), full];
    }
    emitted.set(name, sig);
    const inner = namespaceOf(full);
    const kept: AvroField[] = [];
    for (const field of s.fields) {
      const sub = sel === true ? true : sel.get(field.name);
      if (sub === undefined) continue;
      kept.push({ ...field, type: emit(field.type, inner, sub) });
    }
    return {
      type: "record",
      name,
      ...(s.doc !== undefined ? { doc: s.doc } : {}),
      ...(aliases?.length ? { aliases } : {}),
      fields: kept,
    };
  };

  const projected = emit(writer, undefined, selectionOf(fields));
  return JSON.parse(JSON.stringify(projected)) as AvroRecordSchema;
}

/**
 * SHA-256 of the schema's Avro Parsing Canonical Form, hex: equal for equal binary shapes, whatever the docs and
 * attributes say. Lets the gateway tell whether a view changed before registering it.
 */
export function schemaFingerprint(schema: AvroSchema): string {
  return typeForSchema(schema).fingerprint("sha256").toString("hex");
}

export interface ConsumerView {
  readonly topic: Topic;
  readonly partyId: string;
  /** The reader schema as JSON (what to register under `subject`). */
  readonly schema: AvroRecordSchema;
  readonly type: avro.Type;
  readonly fingerprint: string;
  readonly subject: string;
  readonly deliveryTopic: string;
  /** Decodes a full event written with `writer` into this view. */
  readonly decode: (buffer: Buffer) => unknown;
}

/** The consumer's view of a topic: reader schema, parsed type, registry subject and a resolving decoder. */
export function consumerView(
  topic: Topic,
  partyId: string,
  writer: AvroRecordSchema,
  fields: readonly string[],
): ConsumerView {
  const schema = projectSchema(writer, fields);
  const type = typeForSchema(schema);
  const resolver = type.createResolver(typeForSchema(writer));
  return {
    topic,
    partyId,
    schema,
    type,
    fingerprint: schemaFingerprint(schema),
    subject: subjectOf(deliveryTopic(partyId, topic)),
    deliveryTopic: deliveryTopic(partyId, topic),
    decode: (buffer) => type.fromBuffer(buffer, resolver) as unknown,
  };
}

/** The leaf fields (no sub-fields) a selection of paths delivers, with their classification. */
export function deliveredFields(writer: AvroRecordSchema, fields: readonly string[]) {
  const all = describeFields(writer);
  return all.filter((f) => !f.isRecord && fields.some((p) => f.path === p || f.path.startsWith(`${p}.`)));
}
