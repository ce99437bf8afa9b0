import avro from "avsc";

/**
 * How the SDK maps Avro's logical types to the JSON form the HTTP API speaks, so a value is the same whichever path
 * it travels: `timestamp-millis` is an ISO-8601 instant (`2026-03-02T08:15:00.000Z`) when read and a `Date`, epoch
 * milliseconds or an ISO instant when written; `date` is an ISO calendar day (`2026-03-02`) both ways (a `Date`
 * is written as its UTC day). Unions are unwrapped (the bus uses only `["null", T]`).
 */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

class TimestampMillis extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): string {
    return new Date(val as number).toISOString();
  }

  protected override _toValue(val: unknown): number {
    let ms: number | undefined;
    if (val instanceof Date) ms = val.getTime();
    else if (typeof val === "number" && Number.isSafeInteger(val)) ms = val;
    else if (typeof val === "string" && ISO_INSTANT.test(val)) ms = Date.parse(val);
    if (ms === undefined || Number.isNaN(ms)) throw new Error(`not a timestamp: ${String(val)}`);
    return ms;
  }

  protected override _resolve(type: avro.Type): ((v: unknown) => string) | undefined {
    if (avro.Type.isType(type, "long", "logical:timestamp-millis")) return (v) => this._fromValue(v);
    return undefined;
  }
}

class CalendarDate extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): string {
    return new Date((val as number) * DAY_MS).toISOString().slice(0, 10);
  }

  protected override _toValue(val: unknown): number {
    if (typeof val === "number" && Number.isSafeInteger(val)) return val;
    if (val instanceof Date && !Number.isNaN(val.getTime())) return Math.floor(val.getTime() / DAY_MS);
    const m = typeof val === "string" ? ISO_DATE.exec(val) : null;
    if (m) {
      const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      // Date.UTC rolls 2024-02-30 over to March: a day that does not exist is refused.
      if (new Date(ms).toISOString().slice(0, 10) === val) return ms / DAY_MS;
    }
    throw new Error(`not a date: ${String(val)}`);
  }

  protected override _resolve(type: avro.Type): ((v: unknown) => string) | undefined {
    if (avro.Type.isType(type, "int", "logical:date")) return (v) => this._fromValue(v);
    return undefined;
  }
}

/**
 * The avsc options every SDK codec uses. Frozen: avsc stores its name registry in the options object it is given,
 * so each parse gets a copy (two schemas may name the same record, as a topic's and a consumer's view do).
 */
export const avroOptions: Readonly<Partial<avro.ForSchemaOptions>> = Object.freeze({
  logicalTypes: { "timestamp-millis": TimestampMillis, date: CalendarDate },
  wrapUnions: false,
});

export const typeForSchema = (schema: avro.Schema): avro.Type =>
  avro.Type.forSchema(schema, { ...avroOptions });
