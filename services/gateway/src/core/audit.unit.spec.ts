import crypto from "node:crypto";
import { exampleEvent } from "@grondslag/schemas";
import { describe, expect, it } from "vitest";
import { auditRecordId, Pseudonymiser, subjectsOf, valuesAt } from "./audit";
import { continueTrace, traceparent } from "./trace";

describe("audit helpers", () => {
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

  it("finds values through arrays, and derives stable record ids", () => {
    expect(valuesAt({ a: [{ b: "1" }, { b: "2" }] }, ["a", "b"])).toEqual(["1", "2"]);
    expect(auditRecordId("e1", "DISCLOSE", "uwv", null)).toBe(auditRecordId("e1", "DISCLOSE", "uwv", null));
    expect(auditRecordId("e1", "DISCLOSE", "uwv", null)).not.toBe(
      auditRecordId("e1", "DISCLOSE", "nla", null),
    );
  });

  it("continues a caller's W3C trace and replaces a malformed one", () => {
    const ctx = continueTrace("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(ctx.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(ctx.spanId).not.toBe("b7ad6b7169203331");
    expect(traceparent(ctx)).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(continueTrace("garbage").traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(continueTrace(`00-${"0".repeat(32)}-b7ad6b7169203331-01`).traceId).not.toMatch(/^0+$/);
  });
});
