import avro from "avsc";
import { describe, expect, it } from "vitest";
import { assertSafeAvro, AvroGuardError, DEFAULT_AVRO_LIMITS } from "./avro-guard";

const zz = (n: number) => avro.Type.forSchema("long").toBuffer(n);
const record = (items: avro.Schema) =>
  avro.Type.forSchema({
    type: "record",
    name: "R",
    fields: [{ name: "xs", type: { type: "array", items } }],
  });

describe("assertSafeAvro", () => {
  const full = avro.Type.forSchema({
    type: "record",
    name: "Accident",
    fields: [
      { name: "kvk", type: "string" },
      { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
      {
        name: "victim",
        type: { type: "record", name: "Victim", fields: [{ name: "bsn", type: ["null", "string"] }] },
      },
      { name: "tags", type: { type: "array", items: "string" } },
      { name: "attrs", type: { type: "map", values: "int" } },
      { name: "kind", type: { type: "enum", name: "Kind", symbols: ["FATAL", "SERIOUS"] } },
      { name: "digest", type: { type: "fixed", name: "D", size: 4 } },
      { name: "score", type: "double" },
    ],
  });
  const value = {
    kvk: "12345678",
    at: 1700000000000,
    victim: { bsn: "123456782" },
    tags: ["a", "b"],
    attrs: { x: 1 },
    kind: "FATAL",
    digest: Buffer.from([1, 2, 3, 4]),
    score: 1.5,
  };

  it("accepts every well-formed record, and avsc decodes it as written", () => {
    const buf = full.toBuffer(value);
    expect(() => assertSafeAvro(full, buf)).not.toThrow();
    expect(full.fromBuffer(buf)).toMatchObject({ kvk: "12345678", tags: ["a", "b"] });
  });

  // These payloads are the ones stock avsc cannot survive: avro-guard.int.spec.ts shows it running out of a 64 MB
  // heap on both array payloads, and re-encoding the invalid UTF-8 three times larger. The assertions name the
  // guard's own reason, so a decoder error in its place fails them.
  it("refuses a 7-byte record that declares a huge array<int> (the heap-exhaustion case)", () => {
    const hostile = Buffer.concat([zz(1_000_000_000), Buffer.from([0, 0])]);
    expect(hostile.length).toBeLessThanOrEqual(7);
    expect(() => assertSafeAvro(record("int"), hostile)).toThrow("more than 10000 items at xs");
    const roomy = { maxItems: 2 ** 40, maxValueBytes: 1024, maxDepth: 8 };
    expect(() => assertSafeAvro(record("int"), hostile, roomy)).toThrow(
      "block of 1000000000 items cannot fit in 2 bytes at xs",
    );
  });

  it("refuses a 5-byte array<null> with 500 million items (the event-loop stall case)", () => {
    const hostile = Buffer.concat([zz(500_000_000), Buffer.from([0])]);
    expect(hostile.length).toBe(6);
    expect(() => assertSafeAvro(record("null"), hostile)).toThrow("more than 10000 items at xs");
  });

  it("refuses invalid UTF-8, which avsc would turn into U+FFFD and re-encode three times larger", () => {
    const str = avro.Type.forSchema({ type: "record", name: "S", fields: [{ name: "s", type: "string" }] });
    const invalid = Buffer.concat([zz(200_003), Buffer.alloc(200_003, 0xff)]);
    // The outage: avsc accepts it, and the gateway's re-encoding grows from 200,003 to 600,009 string bytes (U+FFFD each).
    expect(str.toBuffer(str.fromBuffer(invalid)).length).toBe(zz(600_009).length + 600_009);
    const limits = { ...DEFAULT_AVRO_LIMITS, maxValueBytes: 1024 * 1024 };
    expect(() => assertSafeAvro(str, invalid, limits)).toThrow("string is not valid UTF-8 at s");
    // A lone continuation byte in an otherwise valid string, and an invalid map key, name their own paths.
    const one = Buffer.concat([zz(4), Buffer.from([0x61, 0x80, 0x62, 0x63])]);
    expect(() => assertSafeAvro(str, one)).toThrow("string is not valid UTF-8 at s");
    const map = avro.Type.forSchema({
      type: "record",
      name: "M",
      fields: [{ name: "m", type: { type: "map", values: "int" } }],
    });
    const badKey = Buffer.concat([zz(1), zz(1), Buffer.from([0xc3]), zz(7), zz(0)]);
    expect(() => assertSafeAvro(map, badKey)).toThrow("string is not valid UTF-8 at m[key]");
    // Valid multi-byte UTF-8 passes untouched.
    const dutch = str.toBuffer({ s: "Ĳsselmeer — café 💼" });
    expect(() => assertSafeAvro(str, dutch)).not.toThrow();
  });

  it("refuses giant string lengths, negative block sizes beyond the record, truncation and trailing bytes", () => {
    const str = avro.Type.forSchema({ type: "record", name: "S", fields: [{ name: "s", type: "string" }] });
    expect(() => assertSafeAvro(str, zz(2 ** 40))).toThrow(/longer than/);
    expect(() => assertSafeAvro(str, Buffer.concat([zz(10), Buffer.from("abc")]))).toThrow(/needs 10 bytes/);
    expect(() =>
      assertSafeAvro(record("int"), Buffer.concat([zz(-2), zz(1_000_000), zz(1), zz(2), zz(0)])),
    ).toThrow(/block size/);
    expect(() => assertSafeAvro(full, Buffer.concat([full.toBuffer(value), Buffer.from([0])]))).toThrow(
      /trailing/,
    );
    expect(() => assertSafeAvro(full, full.toBuffer(value).subarray(0, 12))).toThrow(AvroGuardError);
  });

  it("names the path of the offending field, and refuses out-of-range unions and enums", () => {
    const buf = Buffer.from(full.toBuffer(value));
    // victim.bsn's union index follows kvk (1 + 8 bytes) and the timestamp varint.
    const at = 1 + 8 + zz(1700000000000).length;
    buf[at] = zz(5)[0] ?? 0;
    expect(() => assertSafeAvro(full, buf)).toThrow(/union branch 5 out of range at victim.bsn/);
  });
});
