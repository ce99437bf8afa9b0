import type { Request, RequestHandler, Response } from "express";
import { setImmediate as yieldToIo } from "node:timers/promises";
import { GatewayError, toProblem } from "../errors";
import type { DeliveryStream, PublishCommand, PublishReceipt, Publisher, Subscriptions } from "../ports";
import {
  callerOf,
  checkIdempotencyKey,
  intQuery,
  isJsonObject,
  mapError,
  requiredIdHeader,
  topicParam,
  traceOf,
} from "./edge";
import type { ConcurrencyLimiter } from "./rate-limit";

/** Body and batch limits, per operation (express.json's 100 kB default is never relied on). */
export interface HttpLimits {
  /** One event (`POST …/events`). Default 256 KiB. */
  eventBytes: number;
  /** One batch (`POST …/event-batches`). Default 4 MiB. */
  batchBytes: number;
  /** Events per batch. Default 500 (the document says so too). */
  batchEvents: number;
  /** A cursor commit. Default 16 KiB. */
  cursorBytes: number;
  /** Largest `max` of a poll. Default 500. */
  pollMaxEvents: number;
  /** Largest `wait` of a poll, seconds. Default 30. */
  pollMaxWaitSeconds: number;
  /** A server-sent-events stream ends after this many seconds (the client reconnects). Default 300. */
  streamSeconds: number;
  /** A stream writes a keep-alive comment after this many seconds without an event. Default 25. */
  streamKeepAliveSeconds: number;
  /** Open streams per party, per instance. Default 4. */
  streamsPerParty: number;
  /** Long polls (`wait` > 0) under way per party, per instance. Default 8. */
  longPollsPerParty: number;
}

export const defaultLimits: HttpLimits = {
  eventBytes: 256 * 1024,
  batchBytes: 4 * 1024 * 1024,
  batchEvents: 500,
  cursorBytes: 16 * 1024,
  pollMaxEvents: 500,
  pollMaxWaitSeconds: 30,
  streamSeconds: 300,
  streamKeepAliveSeconds: 25,
  streamsPerParty: 4,
  longPollsPerParty: 8,
};

/** Seconds a party held at its stream or long-poll limit is told to wait: about one long poll's turn. */
const HELD_RETRY_SECONDS = 5;

const topicOf = topicParam;

export function publishEvent(publisher: Publisher): RequestHandler {
  return async (req, res) => {
    const grondslag = requiredIdHeader(req, "Grondslag");
    const purpose = requiredIdHeader(req, "Doelbinding");
    const idempotencyKey = checkIdempotencyKey(req.get("idempotency-key"), "Idempotency-Key");
    if (!isJsonObject(req.body)) {
      throw new GatewayError(
        "INVALID_REQUEST",
        "the body must be a JSON object (the event)",
        "Send the event as a JSON object.",
      );
    }
    res.locals.coreAudits = true;
    const receipt = await publisher.publish({
      topic: topicOf(req),
      producer: callerOf(res).party,
      grondslag,
      purpose,
      idempotencyKey,
      traceparent: traceOf(res).traceparent,
      payload: req.body,
      channel: "http",
    });
    res.status(202).json(receipt);
  };
}

/** Headers are checked before the body is read: a call that will be refused anyway costs no parsing. */
export const publishHeaders: RequestHandler = (req, _res, next) => {
  requiredIdHeader(req, "Grondslag");
  requiredIdHeader(req, "Doelbinding");
  checkIdempotencyKey(req.get("idempotency-key"), "Idempotency-Key");
  next();
};

export const batchHeaders: RequestHandler = (req, _res, next) => {
  requiredIdHeader(req, "Grondslag");
  requiredIdHeader(req, "Doelbinding");
  if (req.get("idempotency-key") !== undefined) {
    throw new GatewayError(
      "INVALID_REQUEST",
      "the Idempotency-Key header is not used for a batch",
      "Give each event its own idempotencyKey in the body, so each can be retried safely.",
      { field: "Idempotency-Key" },
    );
  }
  next();
};

type BatchItemResult =
  | { index: number; outcome: "accepted"; receipt: PublishReceipt }
  | { index: number; outcome: "refused"; problem: ReturnType<typeof toProblem> };

export function publishEventBatch(publisher: Publisher, limits: HttpLimits): RequestHandler {
  return async (req, res) => {
    const grondslag = requiredIdHeader(req, "Grondslag");
    const purpose = requiredIdHeader(req, "Doelbinding");
    const body: unknown = req.body;
    const events = isJsonObject(body) ? body.events : undefined;
    if (!isJsonObject(body) || Object.keys(body).some((k) => k !== "events") || !Array.isArray(events)) {
      throw new GatewayError(
        "INVALID_REQUEST",
        'the body must be { "events": [...] }',
        "Send the events as an array under `events`.",
        {
          field: "events",
        },
      );
    }
    if (events.length === 0 || events.length > limits.batchEvents) {
      throw new GatewayError(
        "INVALID_REQUEST",
        `a batch holds 1 to ${limits.batchEvents} events, not ${events.length}`,
        `Split the events into batches of at most ${limits.batchEvents}.`,
        { field: "events" },
      );
    }
    const caller = callerOf(res);
    const trace = traceOf(res);
    const cmds: PublishCommand[] = events.map((item: unknown, i) => {
      const field = `events[${i}]`;
      if (
        !isJsonObject(item) ||
        !isJsonObject(item.data) ||
        Object.keys(item).some((k) => k !== "data" && k !== "idempotencyKey")
      ) {
        throw new GatewayError(
          "INVALID_REQUEST",
          `${field} must be { "data": {...}, "idempotencyKey"?: "..." }`,
          "Wrap each event as `data`, with an optional `idempotencyKey`.",
          { field },
        );
      }
      return {
        topic: topicOf(req),
        producer: caller.party,
        grondslag,
        purpose,
        idempotencyKey: checkIdempotencyKey(item.idempotencyKey, `${field}.idempotencyKey`),
        traceparent: trace.traceparent,
        payload: item.data,
        channel: "http",
      };
    });
    res.locals.coreAudits = true;
    const outcomes = await publisher.publishBatch(cmds);
    if (outcomes.length !== cmds.length)
      throw new Error(`publishBatch answered ${outcomes.length} outcomes for ${cmds.length}`);
    const results: BatchItemResult[] = outcomes.map((o, index) =>
      o instanceof GatewayError
        ? { index, outcome: "refused", problem: toProblem(o, { traceId: trace.traceId }) }
        : { index, outcome: "accepted", receipt: o },
    );
    const accepted = results.filter((r) => r.outcome === "accepted").length;
    res.status(200).json({ accepted, refused: results.length - accepted, results });
  };
}

function wantsEventStream(req: Request): boolean {
  return (
    req.accepts(["application/json", "text/event-stream"]) === "text/event-stream" &&
    req.get("accept") !== undefined
  );
}

/** The party's slot on `limiter`, or 429 TOO_MANY_STREAMS. */
function hold(limiter: ConcurrencyLimiter, party: string, what: string, max: number): () => void {
  const release = limiter.acquire(party);
  if (release === undefined) {
    throw new GatewayError(
      "TOO_MANY_STREAMS",
      `${party} already holds ${max} ${what} on this gateway instance`,
      `Close one first, or retry after the Retry-After header's seconds; one ${what === "open streams" ? "stream" : "long poll"} per topic is enough.`,
      { retryAfterSeconds: HELD_RETRY_SECONDS },
    );
  }
  return release;
}

export function pollDeliveries(
  subscriptions: Subscriptions,
  limits: HttpLimits,
  now: () => Date,
  held: { streams: ConcurrencyLimiter; longPolls: ConcurrencyLimiter },
): RequestHandler {
  return async (req, res) => {
    const purpose = requiredIdHeader(req, "Doelbinding");
    const maxEvents = intQuery(req.query.max, "max", 1, limits.pollMaxEvents, 100);
    const waitSeconds = intQuery(req.query.wait, "wait", 0, limits.pollMaxWaitSeconds, 0);
    const party = callerOf(res).party;
    const trace = traceOf(res);
    const request = { party, topic: topicOf(req), purpose, maxEvents, traceparent: trace.traceparent };

    if (!wantsEventStream(req)) {
      const release =
        waitSeconds > 0 ? hold(held.longPolls, party, "long polls", limits.longPollsPerParty) : undefined;
      // A client that leaves mid-wait frees its slot and its mailbox waiter at once, not when the wait ends.
      const gone = new AbortController();
      const onClose = () => gone.abort();
      res.on("close", onClose);
      try {
        res.locals.coreAudits = true;
        const { events } = await subscriptions.poll({
          ...request,
          waitMs: waitSeconds * 1000,
          signal: gone.signal,
        });
        res.status(200).json({ events });
      } finally {
        res.off("close", onClose);
        release?.();
      }
      return;
    }
    const release = hold(held.streams, party, "open streams", limits.streamsPerParty);
    try {
      // Opened before the response starts, so a refusal (403, 404) is an ordinary problem response.
      res.locals.coreAudits = true;
      const lastEventId = req.get("last-event-id");
      const s = await subscriptions.stream({
        ...request,
        after: lastEventId === "" ? undefined : lastEventId,
      });
      await stream(req, res, s, limits, now);
    } finally {
      release();
    }
  };
}

/**
 * Writes a stream until its deadline or the client leaves. Every turn of the loop awaits I/O (new events, a
 * keep-alive timer, or the socket draining), so a stream never keeps the event loop from timers, health checks
 * and commits: the outage this replaced re-sent the same uncommitted events without ever yielding.
 */
async function stream(
  req: Request,
  res: Response,
  s: DeliveryStream,
  limits: HttpLimits,
  now: () => Date,
): Promise<void> {
  const gone = new AbortController();
  const onClose = () => {
    gone.abort();
    s.close();
  };
  res.on("close", onClose);
  const deadline = now().getTime() + limits.streamSeconds * 1000;
  const remaining = () => Math.max(0, deadline - now().getTime());
  /** Resolves when the socket has room again, the client left, or the stream's time is up. */
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        res.off("drain", done);
        gone.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, remaining());
      res.on("drain", done);
      gone.signal.addEventListener("abort", done);
    });
  // A client that does not read gets no more than the socket's buffers hold: past them we wait for 'drain'.
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await drained();
  };
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.flushHeaders();
  try {
    while (!gone.signal.aborted && remaining() > 0) {
      const events = await s.next(Math.min(limits.streamKeepAliveSeconds * 1000, remaining()));
      if (gone.signal.aborted) break;
      if (events.length === 0) await write(": keep-alive\n\n");
      for (const e of events) {
        if (gone.signal.aborted || !res.writable) break;
        const id = /[\r\n]/.test(e.cursor) ? "" : `id: ${e.cursor}\n`;
        await write(`${id}event: delivery\ndata: ${JSON.stringify(e)}\n\n`);
      }
      await yieldToIo();
    }
  } catch (err) {
    const { problem } = mapError(err, req);
    res.locals.problemCode = problem.code;
    if (!gone.signal.aborted) res.write(`event: problem\ndata: ${JSON.stringify(problem)}\n\n`);
  } finally {
    res.off("close", onClose);
    s.close();
  }
  // A client that stopped reading never drains what is queued: drop the connection instead of holding it.
  if (res.writableNeedDrain) res.destroy();
  else res.end();
}

export function commitCursor(subscriptions: Subscriptions): RequestHandler {
  return async (req, res) => {
    const body: unknown = req.body;
    const cursor = isJsonObject(body) ? body.cursor : undefined;
    if (
      typeof cursor !== "string" ||
      cursor.length === 0 ||
      cursor.length > 1024 ||
      Object.keys(body as object).length !== 1
    ) {
      throw new GatewayError(
        "INVALID_REQUEST",
        'the body must be { "cursor": "..." } with the cursor of a delivery',
        "Send the cursor of the last delivery you processed.",
        { field: "cursor" },
      );
    }
    await subscriptions.commit(callerOf(res).party, topicOf(req), cursor);
    res.status(200).json({ cursor });
  };
}
