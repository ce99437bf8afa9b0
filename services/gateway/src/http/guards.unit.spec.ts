import { describe, expect, it } from "vitest";
import { parseTtl } from "../auth/dev-keys";
import { traceFrom } from "./edge";
import { createRateLimiter } from "./rate-limit";

describe("rate limiter", () => {
  it("allows a burst, then the sustained rate, per party, and says when to retry", () => {
    let now = 0;
    const limiter = createRateLimiter({ perSecond: 2, burst: 3 }, () => new Date(now));
    expect([1, 2, 3].map(() => limiter.take("uwv"))).toEqual([undefined, undefined, undefined]);
    expect(limiter.take("uwv")).toBe(1);
    expect(limiter.take("nla")).toBeUndefined();
    now = 500; // one token back at 2/s
    expect(limiter.take("uwv")).toBeUndefined();
    expect(limiter.take("uwv")).toBe(1);
    expect(() => createRateLimiter({ perSecond: 0, burst: 1 }, () => new Date())).toThrow();
  });
});

describe("trace context", () => {
  it("continues a valid traceparent with a new edge span, and starts a trace otherwise", () => {
    const t = traceFrom("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(t.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(t.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    for (const bad of [
      undefined,
      "garbage",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ]) {
      const fresh = traceFrom(bad);
      expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(fresh.traceId).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    }
  });
});

describe("token ttl", () => {
  it("reads seconds, minutes and hours up to one hour", () => {
    expect(parseTtl("90")).toBe(90);
    expect(parseTtl("15m")).toBe(900);
    expect(parseTtl("1h")).toBe(3600);
    expect(() => parseTtl("2h")).toThrow(/between/);
    expect(() => parseTtl("soon")).toThrow(/--ttl/);
  });
});
