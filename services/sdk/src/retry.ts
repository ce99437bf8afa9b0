import { GrondslagError } from "@grondslag/wire";
import { RefusalError } from "./errors";

/**
 * When to try again. Retriable refusals (429, 500, 503) and network failures are retried with exponential backoff
 * and full jitter, bounded per wait (`maxDelayMs`), in count (`maxAttempts`) and in total time (`deadlineMs`); a
 * `Retry-After` the gateway sends is honoured (never waited less). A non-retriable refusal is never retried.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 8. */
  maxAttempts: number;
  /** The first backoff's upper bound. Default 200 ms. */
  baseDelayMs: number;
  /** No single wait is longer, except one that `Retry-After` asks for. Default 5 s. */
  maxDelayMs: number;
  /** Give up when the next attempt could not start before this much time since the first. Default 30 s. */
  deadlineMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  deadlineMs: 30_000,
};

/** A failure that never reached the gateway or whose answer never arrived (retriable: the request is idempotent). */
export class NetworkError extends GrondslagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("UNAVAILABLE", message, 503, true, options);
    this.name = "NetworkError";
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof GrondslagError && err.retriable;
}

/** The wait before attempt `attempt + 1` (attempt counts from 1), in ms: full jitter over an exponential bound. */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  err?: unknown,
  random: () => number = Math.random,
): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * bound);
  const asked = err instanceof RefusalError ? err.retryAfterSeconds : undefined;
  // Retry-After is the least the gateway asked for; a little jitter on top keeps callers from arriving together.
  return asked === undefined ? jittered : asked * 1000 + Math.floor(random() * policy.baseDelayMs);
}

export interface AttemptInfo {
  /** 1 for the first attempt. */
  attempt: number;
  /** Why the previous attempt failed (undefined on the first). */
  error: unknown;
  /** How long the SDK waited before this attempt. */
  delayMs: number;
}

/**
 * Runs `fn` until it succeeds, fails with something not retriable, or the policy is spent; then throws the last
 * error. `sleep` and `now` are injectable for tests.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: {
    onAttempt?: (info: AttemptInfo) => void;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    now?: () => number;
    random?: () => number;
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? abortableSleep;
  const started = now();
  let error: unknown;
  let delayMs = 0;
  for (let attempt = 1; ; attempt++) {
    hooks.onAttempt?.({ attempt, error, delayMs });
    try {
      return await fn(attempt);
    } catch (err) {
      error = err;
    }
    if (!isRetriable(error) || attempt >= policy.maxAttempts || hooks.signal?.aborted) throw error;
    delayMs = backoffDelay(attempt, policy, error, hooks.random);
    if (now() - started + delayMs > policy.deadlineMs) throw error;
    await sleep(delayMs, hooks.signal);
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
