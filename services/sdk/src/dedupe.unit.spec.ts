import { describe, expect, it } from "vitest";
import { RecentIds } from "./dedupe";

describe("RecentIds", () => {
  it("drops repeats, and forgets the oldest past its capacity", () => {
    const r = new RecentIds(3);
    expect(["a", "b", "a", "c"].map((id) => r.firstTime(id))).toEqual([true, true, false, true]);
    expect(r.firstTime("d")).toBe(true); // evicts a
    expect(r.size).toBe(3);
    expect(r.has("a")).toBe(false);
    expect(r.firstTime("b")).toBe(false);
    expect(r.firstTime("a")).toBe(true);
    expect(() => new RecentIds(0)).toThrow(/capacity/);
  });

  it("remember() counts an id only once it is called", () => {
    const r = new RecentIds();
    expect(r.has("x")).toBe(false);
    r.remember("x");
    r.remember("x");
    expect(r.has("x")).toBe(true);
    expect(r.size).toBe(1);
  });
});
