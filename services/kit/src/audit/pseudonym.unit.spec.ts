import crypto from "node:crypto";
import { exampleEvent } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { Pseudonymiser, subjectsOf, valuesAt } from "./pseudonym";

describe("pseudonyms", () => {
  const p = new Pseudonymiser(crypto.randomBytes(32));

  it("pseudonymises every BSN and KvK of an accident report, and no raw value survives", () => {
    const event = exampleEvent("arbo.accident-reported");
    const subjects = subjectsOf("arbo.accident-reported", event, p);
    const raw = JSON.stringify(event);
    const bsns = [...raw.matchAll(/"bsn":"(\d{9})"/g)].map((m) => m[1]);
    expect(bsns.length).toBeGreaterThan(0);
    expect(subjects.filter((s) => s.type === "bsn")).toHaveLength(new Set(bsns).size);
    expect(subjects.some((s) => s.type === "kvk")).toBe(true);
    const serialised = JSON.stringify(subjects);
    for (const bsn of bsns) expect(serialised).not.toContain(bsn);
  });

  it("gives the same pseudonym for the same key and value, a different one under another key", () => {
    const other = new Pseudonymiser(crypto.randomBytes(32));
    expect(p.pseudonym("bsn", "123456782")).toBe(p.pseudonym("bsn", "123456782"));
    expect(p.pseudonym("bsn", "123456782")).not.toBe(other.pseudonym("bsn", "123456782"));
    expect(p.pseudonym("bsn", "123456782")).not.toBe(p.pseudonym("kvk", "123456782"));
    expect(() => new Pseudonymiser(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it("finds values through arrays and maps", () => {
    expect(valuesAt({ a: [{ b: "1" }, { b: "2" }] }, ["a", "b"])).toEqual(["1", "2"]);
    expect(valuesAt({ m: { x: { b: "3" }, y: { b: "4" } } }, ["m", "b"])).toEqual(["3", "4"]);
  });
});
