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

/**
 * Open streams (or long polls) per party, in this instance's memory. A held request costs a socket, a mailbox
 * waiter and its buffers for minutes, where the token bucket only counts arrivals: without this one party could
 * hold any number of them (the outage of the stream loop was one party and one stream).
 */
export interface ConcurrencyLimiter {
  /** Takes a slot for `party`: its release function (idempotent), or `undefined` when the party holds `max`. */
  acquire(party: string): (() => void) | undefined;
  /** Slots held, all parties together. */
  held(): number;
}

export function createConcurrencyLimiter(max: number): ConcurrencyLimiter {
  if (!(max >= 1)) throw new Error("concurrency limit: max >= 1");
  const counts = new Map<string, number>();
  let total = 0;
  return {
    acquire(party) {
      const n = counts.get(party) ?? 0;
      if (n >= max) return undefined;
      counts.set(party, n + 1);
      total++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total--;
        const left = (counts.get(party) ?? 1) - 1;
        if (left === 0) counts.delete(party);
        else counts.set(party, left);
      };
    },
    held: () => total,
  };
}
