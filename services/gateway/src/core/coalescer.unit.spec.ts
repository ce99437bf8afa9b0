import { describe, expect, it } from "vitest";
import { createCoalescer } from "./coalescer";
import { eventIdFor } from "./idempotency";

class Refusal extends Error {}

function recording(opts: { maxItems: number; fail?: boolean }) {
  const batches: number[][] = [];
  const call = createCoalescer<number, string, Refusal>({
    run: (items) => {
      batches.push(items);
      if (opts.fail) return Promise.reject(new Error("bus down"));
      return Promise.resolve(items.map((n) => (n < 0 ? new Refusal(`refused ${n}`) : `ok ${n}`)));
    },
    isRefusal: (r): r is Refusal => r instanceof Refusal,
    maxItems: opts.maxItems,
    delayMs: 1,
  });
  return { batches, call };
}

describe("the coalescer", () => {
  it("runs concurrent calls as one batch, and gives each caller its own outcome", async () => {
    const { batches, call } = recording({ maxItems: 500 });
    const outcomes = await Promise.allSettled([call(1), call(-2), call(3)]);
    expect(batches).toEqual([[1, -2, 3]]);
    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message))).toEqual([
      "ok 1",
      "refused -2",
      "ok 3",
    ]);
  });

  it("sends a full batch at once, and the rest in the next", async () => {
    const { batches, call } = recording({ maxItems: 2 });
    await Promise.all([call(1), call(2), call(3)]);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it("fails every call of a batch that fails as a whole", async () => {
    const { call } = recording({ maxItems: 500, fail: true });
    const outcomes = await Promise.allSettled([call(1), call(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
  });
});

describe("event ids for idempotency keys", () => {
  it("are the same for the same producer and key, different otherwise, and UUID-shaped", () => {
    const a = eventIdFor({ producer: "uwv", idempotencyKey: "k-1" });
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdFor({ producer: "uwv", idempotencyKey: "k-1" })).toBe(a);
    expect(eventIdFor({ producer: "nla", idempotencyKey: "k-1" })).not.toBe(a);
    expect(eventIdFor({ producer: "uwv", idempotencyKey: "k-2" })).not.toBe(a);
  });

  it("are random without a key", () => {
    const cmd = { producer: "uwv", idempotencyKey: undefined };
    expect(eventIdFor(cmd)).not.toBe(eventIdFor(cmd));
  });
});
