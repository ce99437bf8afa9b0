import { describe, expect, it } from "vitest";
import { RefusalError } from "./errors";
import { backoffDelay, defaultRetryPolicy, NetworkError, withRetry, type RetryPolicy } from "./retry";

const refusal = (
  code: "RATE_LIMITED" | "UNAVAILABLE" | "INTERNAL" | "PURPOSE_NOT_ALLOWED",
  retryAfterSeconds?: number,
) => new RefusalError({ code, detail: "d", fix: "f", retryAfterSeconds });

/** A clock that only moves when the code under test sleeps. */
function fakeTime() {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: (ms: number) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
    slept,
  };
}

describe("backoff", () => {
  it("grows exponentially under full jitter, capped, and honours Retry-After", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, undefined, () => 0.999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, policy, undefined, () => 0)).toBe(0);
    // Retry-After is a floor, beyond the cap, with a little jitter on top.
    expect(backoffDelay(1, policy, refusal("RATE_LIMITED", 3), () => 0.5)).toBe(3050);
  });
});

describe("withRetry", () => {
  const policy: RetryPolicy = { ...defaultRetryPolicy, baseDelayMs: 10, maxDelayMs: 100, deadlineMs: 10_000 };

  it("retries 429, 503, 500 and network failures until one succeeds", async () => {
    const time = fakeTime();
    const failures = [
      refusal("RATE_LIMITED", 1),
      refusal("UNAVAILABLE"),
      refusal("INTERNAL"),
      new NetworkError("down"),
    ];
    const attempts: number[] = [];
    const result = await withRetry(
      (attempt) => {
        attempts.push(attempt);
        const f = failures.shift();
        return f ? Promise.reject(f) : Promise.resolve("ok");
      },
      policy,
      time,
    );
    expect(result).toBe("ok");
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect(time.slept[0]).toBeGreaterThanOrEqual(1000); // Retry-After: 1
  });

  it("never retries a refusal that is not retriable", async () => {
    const time = fakeTime();
    let calls = 0;
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(refusal("PURPOSE_NOT_ALLOWED"));
        },
        policy,
        time,
      ),
    ).rejects.toMatchObject({ code: "PURPOSE_NOT_ALLOWED", retriable: false });
    expect(calls).toBe(1);
    expect(time.slept).toEqual([]);
  });

  it("gives up with the last error at maxAttempts or when the next wait passes the deadline", async () => {
    const time = fakeTime();
    let calls = 0;
    const always503 = () => {
      calls++;
      return Promise.reject(refusal("UNAVAILABLE"));
    };
    await expect(withRetry(always503, { ...policy, maxAttempts: 3 }, time)).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
    expect(calls).toBe(3);

    calls = 0;
    // Retry-After 20 s does not fit a 10 s deadline: no wait at all.
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(refusal("RATE_LIMITED", 20));
        },
        policy,
        time,
      ),
    ).rejects.toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 20 });
    expect(calls).toBe(1);
  });

  it("a plain Error (a bug, not a refusal) is not retried", async () => {
    let calls = 0;
    await expect(
      withRetry(() => {
        calls++;
        return Promise.reject(new TypeError("x is undefined"));
      }, policy),
    ).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });
});
