import type { Request, RequestHandler, Response } from "express";
import { sendProblem } from "@grondslag/sdk/http";
import { GatewayError, toProblem } from "../errors";
import type {
  DeliveredEvent,
  PublishCommand,
  PublishReceipt,
  Publisher,
  Readiness,
  Subscriptions,
} from "../ports";
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
  /** A stream polls this long before writing a keep-alive comment. Default 25. */
  streamKeepAliveSeconds: number;
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
};

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

export function pollDeliveries(
  subscriptions: Subscriptions,
  limits: HttpLimits,
  now: () => Date,
): RequestHandler {
  return async (req, res) => {
    const purpose = requiredIdHeader(req, "Doelbinding");
    const maxEvents = intQuery(req.query.max, "max", 1, limits.pollMaxEvents, 100);
    const waitSeconds = intQuery(req.query.wait, "wait", 0, limits.pollMaxWaitSeconds, 0);
    const party = callerOf(res).party;
    const trace = traceOf(res);
    const poll = async (waitMs: number): Promise<DeliveredEvent[]> =>
      (
        await subscriptions.poll({
          party,
          topic: topicOf(req),
          purpose,
          maxEvents,
          waitMs,
          traceparent: trace.traceparent,
        })
      ).events;

    if (!wantsEventStream(req)) {
      res.status(200).json({ events: await poll(waitSeconds * 1000) });
      return;
    }
    // The first poll answers before the stream starts, so a refusal (403, 404) is an ordinary problem response.
    const first = await poll(0);
    await stream(req, res, first, poll, limits, now);
  };
}

async function stream(
  req: Request,
  res: Response,
  first: DeliveredEvent[],
  poll: (waitMs: number) => Promise<DeliveredEvent[]>,
  limits: HttpLimits,
  now: () => Date,
): Promise<void> {
  let open = true;
  res.on("close", () => {
    open = false;
  });
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.flushHeaders();
  const write = (events: DeliveredEvent[]) => {
    if (events.length === 0) res.write(": keep-alive\n\n");
    for (const e of events) {
      const id = /[\r\n]/.test(e.cursor) ? "" : `id: ${e.cursor}\n`;
      res.write(`${id}event: delivery\ndata: ${JSON.stringify(e)}\n\n`);
    }
  };
  const deadline = now().getTime() + limits.streamSeconds * 1000;
  try {
    write(first);
    while (open && now().getTime() < deadline) {
      const events = await poll(
        Math.min(limits.streamKeepAliveSeconds * 1000, Math.max(0, deadline - now().getTime())),
      );
      // Undelivered events are not lost: nothing is committed until the client commits a cursor.
      if (!open) break;
      write(events);
    }
  } catch (err) {
    const { problem } = mapError(err, req);
    res.locals.problemCode = problem.code;
    if (open) res.write(`event: problem\ndata: ${JSON.stringify(problem)}\n\n`);
  }
  res.end();
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

export const liveness: RequestHandler = (_req, res) => {
  res.status(200).json({ status: "ok" });
};

export function readiness(check: Readiness, timeoutMs = 2000): RequestHandler {
  return async (req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<{ kafka: boolean; registry: boolean }>((resolve) => {
      timer = setTimeout(() => resolve({ kafka: false, registry: false }), timeoutMs);
    });
    const { reasons, ...checks } = await Promise.race<Awaited<ReturnType<Readiness["check"]>>>([
      check.check().catch(() => ({ kafka: false, registry: false })),
      timedOut,
    ]);
    clearTimeout(timer);
    if (checks.kafka && checks.registry) {
      res.status(200).json({ status: "ready", checks });
      return;
    }
    const down = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    const err = new GatewayError(
      "UNAVAILABLE",
      `not ready: ${down.join(", ")}${reasons?.length ? ` (${reasons.join("; ")})` : ""}`,
      "Wait until /readyz answers 200; the platform team is alerted.",
    );
    const { problem } = mapError(err, req);
    sendProblem(res, { ...problem, checks });
  };
}
