import { isUtf8 } from "node:buffer";
import type { Type } from "avsc";

/**
 * avsc trusts its input: a 7-byte record declaring a huge array<int> exhausted Node's heap, and a 5-byte
 * array<null> blocked the event loop for 11 s (both seen on Node 20 here). Before anything from another party is decoded, this
 * walks the bytes against the writer schema without allocating values, and refuses counts and lengths that the
 * remaining bytes cannot hold or that exceed sane limits. Its cost is one pass over the record, like decoding.
 * Strings must be valid UTF-8: avsc decodes each invalid byte as U+FFFD, three bytes when the gateway re-encodes
 * the event, so a 200,003-byte string came out as 600,009 bytes and pushed the canonical record over the broker's
 * 1 MiB limit (the ingress outage this guard now prevents).
 */
export interface AvroLimits {
  /** Total array items plus map entries in one record: caps zero-byte items (array<null>) too. */
  maxItems: number;
  /** Longest single string or bytes value. */
  maxValueBytes: number;
  /** Nesting of records, arrays, maps and unions. */
  maxDepth: number;
}

export const DEFAULT_AVRO_LIMITS: AvroLimits = { maxItems: 10_000, maxValueBytes: 256 * 1024, maxDepth: 32 };

export class AvroGuardError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(path ? `${message} at ${path}` : message);
    this.name = "AvroGuardError";
  }
}

interface Cursor {
  buf: Buffer;
  pos: number;
  items: number;
}

function readLong(c: Cursor, path: string): number {
  let n = 0;
  let shift = 1;
  let b: number;
  let bytes = 0;
  do {
    if (c.pos >= c.buf.length) throw new AvroGuardError("truncated varint", path);
    if (++bytes > 10) throw new AvroGuardError("varint longer than 10 bytes", path);
    b = c.buf[c.pos++] ?? 0;
    n += (b & 0x7f) * shift;
    shift *= 128;
  } while (b & 0x80);
  // Zig-zag; precision beyond 2^53 does not matter here: such counts are refused anyway.
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function skip(c: Cursor, n: number, path: string): void {
  if (n > c.buf.length - c.pos)
    throw new AvroGuardError(`needs ${n} bytes, ${c.buf.length - c.pos} left`, path);
  c.pos += n;
}

function assertUtf8(buf: Buffer, start: number, end: number, path: string): void {
  if (!isUtf8(buf.subarray(start, end))) throw new AvroGuardError("string is not valid UTF-8", path);
}

function typeName(t: Type): string {
  return (t as unknown as { typeName: string }).typeName;
}

function underlying(t: Type): Type {
  const name = typeName(t);
  return name.startsWith("logical:") ? (t as unknown as { underlyingType: Type }).underlyingType : t;
}

/** The fewest bytes one value of `t` can take: bounds how many items a block count may claim. */
function minBytes(t: Type, depth = 0): number {
  if (depth > 64) return 0;
  const u = underlying(t);
  const any = u as unknown as Record<string, unknown>;
  switch (typeName(u)) {
    case "null":
      return 0;
    case "boolean":
    case "int":
    case "long":
    case "string":
    case "bytes":
    case "enum":
    case "array":
    case "map":
      return 1;
    case "float":
      return 4;
    case "double":
      return 8;
    case "fixed":
      return any.size as number;
    case "record":
    case "error":
      return (any.fields as { type: Type }[]).reduce((s, f) => s + minBytes(f.type, depth + 1), 0);
    default:
      return 1; // unions: at least the branch index
  }
}

/** The widest values our logical types can turn into a JavaScript `Date` (ECMAScript's ±8.64e15 ms). */
const LOGICAL_BOUNDS: Readonly<Record<string, number>> = {
  "logical:timestamp-millis": 8.64e15,
  "logical:date": 1e8,
};
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

function walk(t: Type, c: Cursor, limits: AvroLimits, path: string, depth: number): void {
  if (depth > limits.maxDepth) throw new AvroGuardError(`nesting deeper than ${limits.maxDepth}`, path);
  const bound = LOGICAL_BOUNDS[typeName(t)];
  const u = underlying(t);
  const any = u as unknown as Record<string, unknown>;
  const name = typeName(u);
  switch (name) {
    case "null":
      return;
    case "boolean": {
      // avsc reads any non-zero byte as true, so 0x02 would reach the canonical topic re-encoded as 0x01.
      const b = c.buf[c.pos];
      skip(c, 1, path);
      if (b !== 0 && b !== 1) throw new AvroGuardError(`boolean byte ${b} is neither 0 nor 1`, path);
      return;
    }
    case "int":
    case "long": {
      const start = c.pos;
      const n = readLong(c, path);
      // An int is 32 bits (at most 5 varint bytes); a long must fit a JavaScript number exactly.
      if (name === "int" && (c.pos - start > 5 || n < INT_MIN || n > INT_MAX))
        throw new AvroGuardError("int outside 32 bits", path);
      if (!Number.isSafeInteger(n)) throw new AvroGuardError("long beyond 2^53", path);
      if (bound !== undefined && Math.abs(n) > bound)
        throw new AvroGuardError(`${typeName(t).slice("logical:".length)} outside the range of a date`, path);
      return;
    }
    case "float":
      return skip(c, 4, path);
    case "double":
      return skip(c, 8, path);
    case "string":
    case "bytes": {
      const len = readLong(c, path);
      if (len < 0) throw new AvroGuardError("negative length", path);
      if (len > limits.maxValueBytes)
        throw new AvroGuardError(`value longer than ${limits.maxValueBytes} bytes`, path);
      const start = c.pos;
      skip(c, len, path);
      if (name === "string") assertUtf8(c.buf, start, c.pos, path);
      return;
    }
    case "fixed":
      return skip(c, any.size as number, path);
    case "enum": {
      const i = readLong(c, path);
      if (i < 0 || i >= (any.symbols as string[]).length)
        throw new AvroGuardError(`enum index ${i} out of range`, path);
      return;
    }
    case "record":
    case "error":
      for (const f of any.fields as { name: string; type: Type }[]) {
        walk(f.type, c, limits, path ? `${path}.${f.name}` : f.name, depth + 1);
      }
      return;
    case "array":
    case "map": {
      const item = (name === "array" ? any.itemsType : any.valuesType) as Type;
      const perItem = minBytes(item) + (name === "map" ? 1 : 0);
      for (;;) {
        let count = readLong(c, path);
        if (count === 0) return;
        if (count < 0) {
          count = -count;
          const size = readLong(c, path);
          if (size < 0 || size > c.buf.length - c.pos)
            throw new AvroGuardError("block size beyond the record", path);
        }
        c.items += count;
        if (c.items > limits.maxItems) throw new AvroGuardError(`more than ${limits.maxItems} items`, path);
        if (count * perItem > c.buf.length - c.pos) {
          throw new AvroGuardError(
            `block of ${count} items cannot fit in ${c.buf.length - c.pos} bytes`,
            path,
          );
        }
        for (let i = 0; i < count; i++) {
          if (name === "map") {
            const klen = readLong(c, `${path}[key]`);
            if (klen < 0 || klen > limits.maxValueBytes) throw new AvroGuardError("bad map key length", path);
            const start = c.pos;
            skip(c, klen, `${path}[key]`);
            assertUtf8(c.buf, start, c.pos, `${path}[key]`);
          }
          walk(item, c, limits, `${path}[${i}]`, depth + 1);
        }
      }
    }
    default: {
      if (name.startsWith("union")) {
        const types = any.types as Type[];
        const i = readLong(c, path);
        const branch = types[i];
        if (branch === undefined) throw new AvroGuardError(`union branch ${i} out of range`, path);
        return walk(branch, c, limits, path, depth + 1);
      }
      throw new AvroGuardError(`unsupported Avro type ${name}`, path);
    }
  }
}

/** Throws AvroGuardError unless `buf` holds exactly one well-bounded value of `type`. */
export function assertSafeAvro(type: Type, buf: Buffer, limits: AvroLimits = DEFAULT_AVRO_LIMITS): void {
  const c: Cursor = { buf, pos: 0, items: 0 };
  walk(type, c, limits, "", 0);
  if (c.pos !== buf.length) throw new AvroGuardError(`${buf.length - c.pos} trailing bytes`, "");
}
