import avro from "avsc";

/** An Avro schema as JSON, as written in `schemas/avro/*.avsc` (custom `x-` attributes included). */
export type AvroSchema =
  | string
  | AvroRecordSchema
  | AvroEnumSchema
  | AvroArraySchema
  | AvroMapSchema
  | AvroFixedSchema
  | AvroLogicalSchema
  | readonly AvroSchema[];

/** Custom attributes we put on fields. Avro permits them; avsc parses them but does not keep them (see README). */
export interface FieldAttributes {
  /** What kind of personal data (AVG art. 4(1)) the field holds. */
  readonly "x-personal"?: PersonalKind;
  /** Special category of personal data (AVG art. 9). Inherited by every sub-field. */
  readonly "x-special-category"?: SpecialCategory;
  /**
   * Not special-category data itself, but reveals it about a person once it travels with the person's identity (a
   * BSN or a name): an accident's severity (SERIOUS, FATAL) beside the victim's BSN is health data.
   */
  readonly "x-reveals"?: SpecialCategory;
  /**
   * The identity of someone who reported a wrong (a tenant reporting a landlord to a meldpunt): it never reaches the
   * party reported on, the landlord or the employer (contract lint `reporter-identity`), nor do its sub-fields.
   */
  readonly "x-reporter-identity"?: boolean;
  /** Identifier format the field must satisfy (checked by {@link identifierProblems}). */
  readonly "x-identifier"?: IdentifierKind;
  /** Marks the top-level field whose value keys the event on Kafka (the subject company's KvK number). */
  readonly "x-key"?: boolean;
}

export const personalKinds = ["bsn", "name", "address", "kvk", "other"] as const;
export type PersonalKind = (typeof personalKinds)[number];
export const specialCategories = ["health"] as const;
export type SpecialCategory = (typeof specialCategories)[number];
export const identifierKinds = ["bsn", "kvk", "gemeentecode"] as const;
export type IdentifierKind = (typeof identifierKinds)[number];

export interface AvroField extends FieldAttributes {
  readonly name: string;
  readonly type: AvroSchema;
  readonly doc?: string;
  readonly default?: unknown;
  readonly aliases?: readonly string[];
  readonly order?: "ascending" | "descending" | "ignore";
}

export interface AvroRecordSchema {
  readonly type: "record";
  readonly name: string;
  readonly namespace?: string;
  readonly doc?: string;
  readonly aliases?: readonly string[];
  readonly fields: readonly AvroField[];
}

export interface AvroEnumSchema {
  readonly type: "enum";
  readonly name: string;
  readonly namespace?: string;
  readonly doc?: string;
  readonly aliases?: readonly string[];
  readonly symbols: readonly string[];
  readonly default?: string;
}

export interface AvroArraySchema {
  readonly type: "array";
  readonly items: AvroSchema;
}

export interface AvroMapSchema {
  readonly type: "map";
  readonly values: AvroSchema;
}

export interface AvroFixedSchema {
  readonly type: "fixed";
  readonly name: string;
  readonly namespace?: string;
  readonly size: number;
}

export interface AvroLogicalSchema {
  readonly type: "int" | "long" | "bytes" | "fixed" | "string";
  readonly logicalType: string;
}

export function isRecordSchema(s: AvroSchema): s is AvroRecordSchema {
  return typeof s === "object" && !Array.isArray(s) && (s as { type?: unknown }).type === "record";
}

export function isArraySchema(s: AvroSchema): s is AvroArraySchema {
  return typeof s === "object" && !Array.isArray(s) && (s as { type?: unknown }).type === "array";
}

export function isMapSchema(s: AvroSchema): s is AvroMapSchema {
  return typeof s === "object" && !Array.isArray(s) && (s as { type?: unknown }).type === "map";
}

export function isEnumSchema(s: AvroSchema): s is AvroEnumSchema {
  return typeof s === "object" && !Array.isArray(s) && (s as { type?: unknown }).type === "enum";
}

export function isUnionSchema(s: AvroSchema): s is readonly AvroSchema[] {
  return Array.isArray(s);
}

export function isLogicalSchema(s: AvroSchema): s is AvroLogicalSchema {
  return (
    typeof s === "object" &&
    !Array.isArray(s) &&
    typeof (s as { logicalType?: unknown }).logicalType === "string"
  );
}

/** The full name of a named type, as Avro resolves it (namespace inherited from the enclosing type). */
export function fullName(name: string, namespace: string | undefined): string {
  return name.includes(".") || !namespace ? name : `${namespace}.${name}`;
}

export function namespaceOf(full: string): string | undefined {
  const i = full.lastIndexOf(".");
  return i < 0 ? undefined : full.slice(0, i);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * `timestamp-millis` as a JS `Date`. Writing also accepts epoch milliseconds and ISO-8601 instants with an offset,
 * so a JSON body from the HTTP API validates and encodes as is; `type.clone(value)` normalises to `Date`.
 */
class TimestampMillisType extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): Date {
    return val instanceof Date ? val : new Date(val as number);
  }

  protected override _toValue(val: unknown): number {
    let ms: number | undefined;
    if (val instanceof Date) ms = val.getTime();
    else if (typeof val === "number" && Number.isSafeInteger(val)) ms = val;
    else if (typeof val === "string" && ISO_INSTANT.test(val)) ms = Date.parse(val);
    if (ms === undefined || Number.isNaN(ms)) throw new Error(`not a timestamp: ${String(val)}`);
    return ms;
  }

  protected override _resolve(type: avro.Type): ((v: unknown) => Date) | undefined {
    if (avro.Type.isType(type, "long", "logical:timestamp-millis")) return (v) => this._fromValue(v);
    return undefined;
  }
}

/**
 * `date` as an ISO calendar date string (`2024-03-01`): a day carries no time zone, and a `Date` object would
 * invite one. Writing also accepts a `Date` (its UTC day).
 */
class DateType extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): string {
    if (typeof val === "string") return val;
    if (val instanceof Date) return val.toISOString().slice(0, 10);
    return new Date((val as number) * DAY_MS).toISOString().slice(0, 10);
  }

  protected override _toValue(val: unknown): number {
    if (typeof val === "number" && Number.isSafeInteger(val)) return val;
    if (val instanceof Date && !Number.isNaN(val.getTime())) return Math.floor(val.getTime() / DAY_MS);
    if (typeof val === "string") {
      const days = isoDateToDays(val);
      if (days !== undefined) return days;
    }
    throw new Error(`not a date: ${String(val)}`);
  }

  protected override _resolve(type: avro.Type): ((v: unknown) => string) | undefined {
    if (avro.Type.isType(type, "int", "logical:date")) return (v) => this._fromValue(v);
    return undefined;
  }
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * Days since 1970-01-01 of an ISO calendar date, or undefined for one that does not exist (2026-02-30) or that
 * `Date.UTC` would misread (years before 0100, which it maps to 19xx). Checked by arithmetic: a `Date` and its
 * ISO string per value showed in the publish path's profile (2 %).
 */
export function isoDateToDays(s: string): number | undefined {
  const m = ISO_DATE.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (y < 100 || month < 1 || month > 12 || day < 1) return undefined;
  if (day > (month === 2 && isLeapYear(y) ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  return Date.UTC(y, month - 1, day) / DAY_MS;
}

export const logicalTypes = {
  "timestamp-millis": TimestampMillisType,
  date: DateType,
};

/**
 * Parses a schema the way every Grondslag component must: with our logical types, and with unions unwrapped
 * (we only allow `["null", T]`, which is unambiguous), so values are plain objects that match the generated types.
 */
export function typeForSchema(schema: AvroSchema): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, {
    logicalTypes,
    wrapUnions: false,
    typeHook: strictEnum,
  });
}

type Hook = ((val: unknown, type: avro.Type) => void) | undefined;
const Enum = avro.types.EnumType as unknown as new (schema: unknown, opts: unknown) => avro.Type;

/**
 * avsc looks an enum value up in a plain object (`_indices[val]`), so `"constructor"`, `"toString"` or
 * `"__proto__"` pass its check and are written as whatever that lookup coerces to (the first symbol), and
 * `["FATAL"]` passes as `"FATAL"`: an event with a made-up severity was collected as SERIOUS. Our enums take symbol
 * strings only.
 */
class StrictEnumType extends Enum {
  private has(val: unknown): val is string {
    const indices = (this as unknown as { _indices: Record<string, number> })._indices;
    return typeof val === "string" && Object.hasOwn(indices, val);
  }
  _check(val: unknown, _flags: unknown, hook: Hook): boolean {
    const ok = this.has(val);
    if (!ok && hook) hook(val, this);
    return ok;
  }
  _write(tap: unknown, val: unknown): void {
    if (!this.has(val)) throw new Error(`invalid ${this.name ?? "enum"}: not one of its symbols`);
    (Enum.prototype as unknown as { _write(tap: unknown, val: unknown): void })._write.call(this, tap, val);
  }
}

function strictEnum(schema: avro.Schema, opts: avro.ForSchemaOptions): avro.Type | undefined {
  const s = schema as { type?: unknown };
  return typeof s === "object" && s !== null && s.type === "enum"
    ? new StrictEnumType(schema, opts)
    : undefined;
}
