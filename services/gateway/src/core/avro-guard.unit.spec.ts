import avro from "avsc";
import { describe, expect, it } from "vitest";
import { assertSafeAvro, AvroGuardError } from "./avro-guard";

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

  it("refuses a 7-byte record that declares a huge array<int> (the heap-exhaustion case)", () => {
    const hostile = Buffer.concat([zz(1_000_000_000), Buffer.from([0, 0])]);
    expect(hostile.length).toBeLessThanOrEqual(7);
    expect(() => assertSafeAvro(record("int"), hostile)).toThrow(/cannot fit|more than/);
  });

  it("refuses a 5-byte array<null> with a huge count (the event-loop stall case) quickly", () => {
    const hostile = Buffer.concat([zz(500_000_000), Buffer.from([0])]);
    const t0 = performance.now();
    expect(() => assertSafeAvro(record("null"), hostile)).toThrow(AvroGuardError);
    expect(performance.now() - t0).toBeLessThan(50);
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
