import { randomUUID } from "node:crypto";
import { continueTrace, formatTraceparent, HTTP_HEADERS } from "@grondslag/wire";
import { RecentIds } from "./dedupe";
import { RefusalError, refusalFromProblem } from "./errors";
import {
  abortableSleep,
  backoffDelay,
  defaultRetryPolicy,
  isRetriable,
  NetworkError,
  withRetry,
  type AttemptInfo,
  type RetryPolicy,
} from "./retry";
import { SseParser } from "./sse";
import { resolveToken, type TokenSource } from "./token";
import type { Delivery, PublishOptions, PublishReceipt, TopicTypes } from "./types";

/** A stream shorter than this is retried with backoff, not at once. */
const MIN_STREAM_MS = 1000;

export interface ClientOptions {
  /** The gateway, e.g. `http://127.0.0.1:8088` (the SDK adds `/v1/...`). */
  baseUrl: string;
  /** A bearer token, or a source of current ones (see `tokenSigner`). */
  token: TokenSource;
  retry?: Partial<RetryPolicy>;
  /** Per attempt, on top of a long poll's wait. Default 30 s. */
  requestTimeoutMs?: number;
  /** Event ids remembered per topic to drop redeliveries. Default 10 000. */
  dedupeCapacity?: number;
  /** Called before every attempt of a call (for logs and metrics). */
  onAttempt?: (info: AttemptInfo & { operation: string; idempotencyKey?: string }) => void;
}

export interface BatchItem<T> {
  value: T;
  /** Generated when absent, reused on every retry. */
  idempotencyKey?: string;
}

export type BatchOutcome =
  | { index: number; outcome: "accepted"; receipt: PublishReceipt }
  | { index: number; outcome: "refused"; error: RefusalError };

export interface PollOptions {
  purpose: string;
  /** At most this many events (1–500). Default 100. */
  max?: number;
  /** Seconds to wait for the first event (0–30). Default 0. */
  waitSeconds?: number;
  traceparent?: string;
}

export interface StreamOptions {
  purpose: string;
  /** Start after this event id (a cursor a stream handed out) instead of the committed cursor. */
  lastEventId?: string;
  traceparent?: string;
  /** Ends the stream (the iterator finishes). */
  signal?: AbortSignal;
}

interface WireDelivery {
  eventId: string;
  topic: string;
  cursor: string;
  producer: string;
  grondslag: string;
  purpose: string;
  traceparent?: string;
  data: Record<string, unknown>;
}

interface WireReceipt {
  eventId: string;
  topic: string;
  duplicate: boolean;
  traceId: string;
}

export interface Client<Topics extends TopicTypes> {
  /** Publishes one event; resolves with the gateway's receipt once Kafka acknowledged it and it is audited. */
  publish<K extends keyof Topics & string>(
    topic: K,
    value: Topics[K],
    opts: PublishOptions,
  ): Promise<PublishReceipt>;
  /** Publishes up to 500 events under one legal basis and purpose; one outcome per event, in order. */
  publishBatch<K extends keyof Topics & string>(
    topic: K,
    items: readonly BatchItem<Topics[K]>[],
    opts: Omit<PublishOptions, "idempotencyKey">,
  ): Promise<BatchOutcome[]>;
  /** One poll: the deliveries after your committed cursor (redeliveries this client handed out dropped). */
  poll<K extends keyof Topics & string>(
    topic: K,
    opts: PollOptions,
  ): Promise<{ deliveries: Delivery<Topics[K]>[]; cursor: string | undefined }>;
  /** Acknowledges everything up to and including `cursor`. */
  commit(topic: keyof Topics & string, cursor: string): Promise<void>;
  /** Server-sent events, reconnecting with `Last-Event-ID`; ends on `signal` or a refusal that will not pass. */
  stream<K extends keyof Topics & string>(topic: K, opts: StreamOptions): AsyncIterable<Delivery<Topics[K]>>;
}

export function createClient<Topics extends TopicTypes = Record<string, unknown>>(
  options: ClientOptions,
): Client<Topics> {
  const base = options.baseUrl.replace(/\/+$/, "");
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const recent = new Map<string, RecentIds>();
  const seen = (topic: string) => {
    let r = recent.get(topic);
    if (!r) recent.set(topic, (r = new RecentIds(options.dedupeCapacity)));
    return r;
  };

  async function call(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: unknown; extraTimeoutMs?: number },
  ): Promise<unknown> {
    const token = await resolveToken(options.token);
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(timeoutMs + (init.extraTimeoutMs ?? 0)),
      });
    } catch (err) {
      throw new NetworkError(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new NetworkError(`${method} ${path}: the answer broke off`, { cause: err });
    }
    const type = res.headers.get("content-type") ?? "";
    let body: unknown = text;
    if (/json/.test(type) && text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok) throw refusalFromProblem(res.status, body, res.headers.get("retry-after"));
    return body;
  }

  const retried = <T>(operation: string, fn: () => Promise<T>, idempotencyKey?: string) =>
    withRetry(fn, policy, {
      onAttempt: (info) =>
        options.onAttempt?.({ ...info, operation, ...(idempotencyKey ? { idempotencyKey } : {}) }),
    });

  const topicPath = (topic: string) => `/v1/topics/${encodeURIComponent(topic)}`;

  const toDelivery = <T>(d: WireDelivery): Delivery<T> => ({
    eventId: d.eventId,
    topic: d.topic,
    producer: d.producer,
    grondslag: d.grondslag,
    purpose: d.purpose,
    traceparent: d.traceparent,
    value: d.data as Delivery<T>["value"],
    cursor: d.cursor,
  });

  return {
    async publish(topic, value, opts) {
      const idempotencyKey = opts.idempotencyKey ?? randomUUID();
      // One span for the call, the same on every retry, so all attempts share the trace.
      const traceparent = formatTraceparent(continueTrace(opts.traceparent));
      const receipt = (await retried(
        "publish",
        () =>
          call("POST", `${topicPath(topic)}/events`, {
            headers: {
              [HTTP_HEADERS.grondslag]: opts.grondslag,
              [HTTP_HEADERS.purpose]: opts.purpose,
              [HTTP_HEADERS.idempotencyKey]: idempotencyKey,
              [HTTP_HEADERS.traceparent]: traceparent,
            },
            body: value,
          }),
        idempotencyKey,
      )) as WireReceipt;
      return { ...receipt, idempotencyKey };
    },

    async publishBatch(topic, items, opts) {
      const traceparent = formatTraceparent(continueTrace(opts.traceparent));
      const keyed = items.map((it) => ({
        value: it.value,
        idempotencyKey: it.idempotencyKey ?? randomUUID(),
      }));
      const outcomes: (BatchOutcome | undefined)[] = keyed.map(() => undefined);
      // Items refused with a retriable code go again (with their keys) until the policy is spent.
      let pending = keyed.map((_, i) => i);
      await retried("publishBatch", async () => {
        const body = (await call("POST", `${topicPath(topic)}/event-batches`, {
          headers: {
            [HTTP_HEADERS.grondslag]: opts.grondslag,
            [HTTP_HEADERS.purpose]: opts.purpose,
            [HTTP_HEADERS.traceparent]: traceparent,
          },
          body: {
            events: pending.map((i) => ({ idempotencyKey: keyed[i]?.idempotencyKey, data: keyed[i]?.value })),
          },
        })) as {
          results: { index: number; outcome: string; receipt?: WireReceipt; problem?: unknown }[];
        };
        const again: number[] = [];
        let retriable: RefusalError | undefined;
        for (const r of body.results) {
          const index = pending[r.index];
          if (index === undefined) continue;
          const idempotencyKey = keyed[index]?.idempotencyKey ?? "";
          if (r.outcome === "accepted" && r.receipt) {
            outcomes[index] = { index, outcome: "accepted", receipt: { ...r.receipt, idempotencyKey } };
          } else {
            const problem = r.problem as { status?: number } | undefined;
            const error = refusalFromProblem(problem?.status ?? 500, problem);
            outcomes[index] = { index, outcome: "refused", error };
            if (error.retriable) {
              again.push(index);
              retriable = error;
            }
          }
        }
        pending = again;
        if (retriable) throw retriable;
      }).catch((err: unknown) => {
        // A refusal of the whole call, or retriable items left when the policy is spent: the items keep the last
        // refusal each got; a whole-call refusal before any answer goes to the caller.
        if (outcomes.every((o) => o === undefined)) throw err;
      });
      return outcomes.map(
        (o, index) =>
          o ?? {
            index,
            outcome: "refused" as const,
            error: new RefusalError({
              code: "INTERNAL",
              detail: "the gateway did not answer for this event",
              fix: "Retry it with its idempotency key.",
            }),
          },
      );
    },

    async poll(topic, opts) {
      const waitSeconds = opts.waitSeconds ?? 0;
      const query = new URLSearchParams({ max: String(opts.max ?? 100), wait: String(waitSeconds) });
      const traceparent = formatTraceparent(continueTrace(opts.traceparent));
      const body = (await retried("poll", () =>
        call("GET", `${topicPath(topic)}/deliveries?${query.toString()}`, {
          headers: { [HTTP_HEADERS.purpose]: opts.purpose, [HTTP_HEADERS.traceparent]: traceparent },
          extraTimeoutMs: waitSeconds * 1000,
        }),
      )) as { events: WireDelivery[] };
      const r = seen(topic);
      const deliveries = body.events.filter((e) => r.firstTime(e.eventId)).map((e) => toDelivery<never>(e));
      return { deliveries, cursor: body.events.at(-1)?.cursor };
    },

    async commit(topic, cursor) {
      await retried("commit", () =>
        call("PUT", `${topicPath(topic)}/deliveries/cursor`, { body: { cursor } }),
      );
    },

    stream(topic, opts) {
      return { [Symbol.asyncIterator]: () => streamDeliveries(topic, opts) };
    },
  };

  async function* streamDeliveries<T>(topic: string, opts: StreamOptions): AsyncGenerator<Delivery<T>> {
    const r = seen(topic);
    let lastEventId = opts.lastEventId;
    let failures = 0;
    const traceparent = formatTraceparent(continueTrace(opts.traceparent));
    while (!opts.signal?.aborted) {
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      opts.signal?.addEventListener("abort", onAbort);
      let failure: Error | undefined;
      try {
        let res: Response;
        try {
          res = await fetch(`${base}${topicPath(topic)}/deliveries`, {
            headers: {
              authorization: `Bearer ${await resolveToken(options.token)}`,
              accept: "text/event-stream",
              [HTTP_HEADERS.purpose]: opts.purpose,
              [HTTP_HEADERS.traceparent]: traceparent,
              ...(lastEventId === undefined ? {} : { [HTTP_HEADERS.lastEventId]: lastEventId }),
            },
            signal: ac.signal,
          });
        } catch (err) {
          throw new NetworkError(`stream ${topic}: ${err instanceof Error ? err.message : String(err)}`, {
            cause: err,
          });
        }
        if (!res.ok || !res.body) {
          const text = await res.text().catch(() => "");
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON: the refusal is derived from the status */
          }
          throw refusalFromProblem(res.status, body, res.headers.get("retry-after"));
        }
        const openedAt = Date.now();
        const parser = new SseParser();
        const decoder = new TextDecoder();
        try {
          for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
            for (const ev of parser.push(decoder.decode(chunk, { stream: true }))) {
              if (ev.event === "problem") {
                throw refusalFromProblem(500, JSON.parse(ev.data));
              }
              if (ev.event !== "delivery") continue;
              const d = JSON.parse(ev.data) as WireDelivery;
              if (ev.id !== undefined) lastEventId = ev.id;
              if (r.firstTime(d.eventId)) yield toDelivery<T>(d);
            }
          }
        } catch (err) {
          if (err instanceof RefusalError || opts.signal?.aborted) throw err;
          throw new NetworkError(`stream ${topic} broke off`, { cause: err });
        }
        // The stream ended (the gateway closes each after a few minutes): reconnect at once. One that ends as soon
        // as it opened counts as a failure, so a gateway that keeps doing so is not called in a tight loop.
        if (Date.now() - openedAt < MIN_STREAM_MS) {
          throw new NetworkError(`stream ${topic} ended at once`);
        }
        failures = 0;
      } catch (err) {
        if (opts.signal?.aborted) return;
        if (!isRetriable(err)) throw err;
        failure = err as Error;
      } finally {
        opts.signal?.removeEventListener("abort", onAbort);
        ac.abort();
      }
      if (failure !== undefined) {
        failures++;
        if (failures >= policy.maxAttempts) throw failure;
        options.onAttempt?.({ operation: "stream", attempt: failures + 1, error: failure, delayMs: 0 });
        await abortableSleep(backoffDelay(failures, policy, failure), opts.signal);
      }
    }
  }
}
