/**
 * A token bucket per party, in this instance's memory: each gateway instance allows `perSecond` requests per party
 * with bursts up to `burst`, so the fleet allows up to instances × that. Good enough to stop one party from starving
 * the others on an instance; a fleet-wide quota would need shared state (documented as per-instance).
 */
export interface RateLimit {
  /** Sustained requests per second per party. */
  perSecond: number;
  /** Bucket size: requests a party may send at once after being idle. */
  burst: number;
}

export interface RateLimiter {
  /** Takes one token; `undefined` when allowed, else the seconds until one is available. */
  take(party: string): number | undefined;
}

export function createRateLimiter(limit: RateLimit, now: () => Date): RateLimiter {
  if (!(limit.perSecond > 0) || !(limit.burst >= 1))
    throw new Error("rate limit: perSecond > 0 and burst >= 1");
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(party) {
      const t = now().getTime();
      const b = buckets.get(party) ?? { tokens: limit.burst, at: t };
      b.tokens = Math.min(limit.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * limit.perSecond);
      b.at = t;
      buckets.set(party, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond));
    },
  };
}
