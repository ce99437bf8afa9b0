import { describe, expect, it } from "vitest";
import { typeForSchema } from "./codec";

const schema = {
  type: "record",
  name: "T",
  namespace: "nl.grondslag.test",
  fields: [
    { name: "eventTime", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "day", type: { type: "int", logicalType: "date" } },
    { name: "note", type: ["null", "string"], default: null },
  ],
} as const;

describe("the SDK's Avro codec", () => {
  it("writes a Date, epoch ms or ISO instant, and reads the JSON form the HTTP API speaks", () => {
    const type = typeForSchema(schema as never);
    for (const eventTime of [
      new Date("2026-03-02T08:15:00Z"),
      Date.parse("2026-03-02T08:15:00Z"),
      "2026-03-02T09:15:00+01:00",
    ]) {
      const back: unknown = type.fromBuffer(type.toBuffer({ eventTime, day: "2026-03-02", note: null }));
      expect(back).toEqual({ eventTime: "2026-03-02T08:15:00.000Z", day: "2026-03-02", note: null });
    }
    expect(
      type.fromBuffer(type.toBuffer({ eventTime: 0, day: new Date("2026-03-02T23:00:00Z"), note: "x" })),
    ).toEqual({
      eventTime: "1970-01-01T00:00:00.000Z",
      day: "2026-03-02",
      note: "x",
    });
  });

  it("refuses values that are not timestamps or days", () => {
    const type = typeForSchema(schema as never);
    expect(() => type.toBuffer({ eventTime: "yesterday", day: "2026-03-02", note: null })).toThrow(
      /timestamp/,
    );
    expect(() => type.toBuffer({ eventTime: 0, day: "2026-02-30", note: null })).toThrow(/date/);
  });
});
