import { checkConsume, type Catalogue } from "@grondslag/contracts";
import { GATEWAY } from "@grondslag/contracts/plan";
import { isTopic } from "@grondslag/schemas";
import { setTimeout as delay } from "node:timers/promises";
import type { Consumer } from "kafkajs";
import type { Logger } from "pino";
import { GatewayError } from "../errors";
import type { DeliveredEvent, DeliveryStream, EdgeRefusal, PollRequest, Subscriptions } from "../ports";
import { auditRecord, type AuditLog, type BatchingProducer, type SchemaIds } from "@grondslag/kit";
import {
  BUS_HEADERS as H,
  continueTrace,
  deliveryTopic,
  formatTraceparent,
  fromWire,
  header,
  parseTraceparent,
  type KafkaHeaders,
} from "@grondslag/wire";

/** The delivery's `traceparent`, when it carries a valid one (re-formatted by the one parser, never echoed raw). */
function traceOf(headers: KafkaHeaders): { traceparent?: string } {
  const ctx = parseTraceparent(header(headers, H.traceparent));
  return ctx ? { traceparent: formatTraceparent(ctx) } : {};
}

export interface SubscriptionDeps {
  catalogue: () => Catalogue;
  /** A new consumer in the given group (the gateway's principal; groups under `grondslag.gateway.`). */
  newConsumer: (groupId: string) => Consumer;
  producer: BatchingProducer;
  schemaIds: SchemaIds;
  auditLog: AuditLog;
  now: () => Date;
  log: Logger;
  /** A mailbox nobody polled for this long is closed (its consumer leaves the group). */
  idleMs?: number;
  /** Events held per mailbox before its consumer pauses. */
  bufferSize?: number;
}

interface Held extends DeliveredEvent {
  partition: number;
  offset: string;
}

interface Mailbox {
  consumer: Consumer;
  topic: string;
  ready: Promise<void>;
  buffer: Held[];
  paused: boolean;
  /** Woken when events arrive or a commit lands. */
  waiters: Set<() => void>;
  /** Open streams' close functions, so stopping the gateway ends them. */
  streams: Set<() => void>;
  lastUsed: number;
}

type Cursor = Record<string, string>;
const FIRST_FETCH_MS = 3000;
const LINGER_MS = 50;
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");
function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as unknown;
    if (
      typeof c === "object" &&
      c !== null &&
      !Array.isArray(c) &&
      Object.entries(c).every(
        ([k, v]) => /^\d{1,6}$/.test(k) && typeof v === "string" && /^\d{1,19}$/.test(v),
      )
    ) {
      return c as Cursor;
    }
  } catch {
    // fall through
  }
  throw new GatewayError(
    "SCHEMA_VIOLATION",
    "the cursor is not one this API handed out",
    "commit the cursor of a poll response",
    {
      field: "cursor",
    },
  );
}

/**
 * Why `req.party` may not read `req.topic` at `at` for the purpose it names, as the subscription API answers it,
 * or undefined when it may. Pure: the rule is `checkConsume`, this maps its refusal to the gateway's codes and fixes.
 */
export function readRefusal(
  catalogue: Catalogue,
  req: { party: string; topic: string; purpose: string },
  at: Date,
): GatewayError | undefined {
  if (!isTopic(req.topic)) {
    return new GatewayError(
      "UNKNOWN_TOPIC",
      `there is no public topic ${JSON.stringify(req.topic)}`,
      "subscribe to a topic your contract names",
    );
  }
  const decision = checkConsume(catalogue, {
    topic: req.topic,
    party: req.party,
    purpose: req.purpose,
    at,
  });
  if (decision.ok) return undefined;
  if (decision.code === "PURPOSE_NOT_ALLOWED") {
    return new GatewayError(
      "PURPOSE_NOT_ALLOWED",
      decision.detail,
      `name one of: ${(decision.allowedPurposes ?? []).join(", ")} in the Doelbinding header`,
    );
  }
  // No contract for the topic, a party left out of the registry, or no consumer entry in force: to the caller
  // all three mean that nothing lets it read this topic now. (No legal basis is asked for here, so no mismatch.)
  return new GatewayError(
    "NOT_A_CONSUMER",
    decision.code === "NOT_A_CONSUMER"
      ? decision.detail
      : `${req.party} is not a consumer of ${req.topic} under any contract in force`,
    "only parties the topic's contract names as consumers may subscribe; ask the contract owner",
  );
}

/**
 * The HTTP subscription API's core, for parties without Kafka clients. The gateway reads the party's own delivery
 * topic (`deliver.<party>.<topic>`, where every disclosure was already audited) in a consumer group of its own per
 * party and topic. A poll returns the oldest uncommitted events, again and again until they are committed:
 * at-least-once, and the committed position survives a gateway restart (it is a Kafka group offset).
 * Per instance: with several gateway instances, route one party's polls to one instance (or give HTTP parties'
 * delivery topics one partition) so a mailbox sees all partitions.
 */
export function createSubscriptions(deps: SubscriptionDeps): Subscriptions & { stop(): Promise<void> } {
  const { producer, schemaIds, auditLog, now, log } = deps;
  const idleMs = deps.idleMs ?? 10 * 60_000;
  const bufferSize = deps.bufferSize ?? 2000;
  const boxes = new Map<string, Mailbox>();

  /** Writes a REJECT; a refusal that cannot be audited is not given: the caller gets UNAVAILABLE (retriable). */
  async function audit(r: EdgeRefusal): Promise<void> {
    const trace = continueTrace(r.traceparent);
    const record = auditRecord({
      action: "REJECT",
      topic: r.topic,
      producer: r.role === "producer" ? r.party : "",
      recipient: r.role === "recipient" ? r.party : null,
      grondslag: r.grondslag,
      purpose: r.purpose,
      reason: {
        code: r.error.code,
        detail: `${r.error.detail}${r.error.field ? ` (field ${r.error.field})` : ""}`,
      },
      channel: "http",
      trace,
      time: now(),
    });
    try {
      await producer.send([auditLog.message(record, r.party)]);
    } catch (err) {
      log.error({ err, code: r.error.code }, "a refusal could not be audited; answering UNAVAILABLE instead");
      throw new GatewayError(
        "UNAVAILABLE",
        "the refusal of this call could not be recorded on the audit log",
        "Retry later; the platform team is alerted.",
        { cause: err, retryAfterSeconds: 5 },
      );
    }
  }

  async function refuse(req: Omit<PollRequest, "waitMs">, error: GatewayError): Promise<never> {
    await audit({
      party: req.party,
      role: "recipient",
      topic: req.topic,
      grondslag: undefined,
      purpose: req.purpose,
      error,
      traceparent: req.traceparent,
    });
    throw error;
  }

  function authorise(req: Omit<PollRequest, "waitMs">) {
    return readRefusal(deps.catalogue(), req, now());
  }

  function mailbox(party: string, topic: string): Mailbox {
    const key = `${party}|${topic}`;
    const box = boxes.get(key);
    if (box) return box;
    const consumer = deps.newConsumer(`${GATEWAY}.http.${party}.${topic}`);
    const kafkaTopic = deliveryTopic(party, topic);
    const b: Mailbox = {
      consumer,
      topic: kafkaTopic,
      buffer: [],
      paused: false,
      waiters: new Set(),
      streams: new Set(),
      lastUsed: Date.now(),
      ready: Promise.resolve(),
    };
    b.ready = (async () => {
      // Ready means joined: before that a poll would find an empty mailbox although events wait on Kafka.
      const joined = new Promise<void>((resolve) => {
        const off = consumer.on(consumer.events.GROUP_JOIN, () => {
          off();
          resolve();
        });
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [kafkaTopic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const wire = message.value ? fromWire(message.value) : undefined;
          const eventId = header(message.headers, H.eventId);
          if (!wire || !eventId) return;
          const { type } = await schemaIds.writer(wire.schemaId);
          b.buffer.push({
            eventId,
            topic,
            cursor: "",
            producer: header(message.headers, H.producer) ?? "",
            grondslag: header(message.headers, H.grondslag) ?? "",
            purpose: header(message.headers, H.purpose) ?? "",
            ...traceOf(message.headers),
            data: type.fromBuffer(wire.body) as Record<string, unknown>,
            partition,
            offset: message.offset,
          });
          if (b.buffer.length >= bufferSize && !b.paused) {
            b.paused = true;
            consumer.pause([{ topic: kafkaTopic }]);
          }
          for (const w of b.waiters) w();
        },
      });
      await joined;
    })();
    b.ready.catch((err: unknown) => {
      log.error({ err, party, topic }, "subscription consumer failed to start");
      boxes.delete(key);
    });
    boxes.set(key, b);
    return b;
  }

  const sweeper = setInterval(() => {
    for (const [key, b] of boxes) {
      if (Date.now() - b.lastUsed > idleMs) {
        boxes.delete(key);
        b.consumer
          .disconnect()
          .catch((err: unknown) => log.warn({ err }, "closing an idle subscription failed"));
      }
    }
  }, 30_000);
  sweeper.unref();

  /** Waits until `box` has news (events or a commit), `ms` pass, or `signal` fires. */
  function waitForNews(box: Mailbox, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        box.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      box.waiters.add(done);
      signal?.addEventListener("abort", done);
    });
  }

  const visible = ({ partition: _p, offset: _o, ...e }: Held, cursor: string): DeliveredEvent => ({
    ...e,
    cursor,
  });

  /** Opens (or finds) the caller's mailbox; a mailbox that just joined gets its first fetch's moment. */
  async function open(req: Omit<PollRequest, "waitMs">) {
    const fresh = !boxes.has(`${req.party}|${req.topic}`);
    const box = mailbox(req.party, req.topic);
    box.lastUsed = Date.now();
    await box.ready;
    return { box, fresh };
  }

  return {
    async poll(req) {
      const refusal = authorise(req);
      if (refusal) return refuse(req, refusal);
      const { box, fresh } = await open(req);
      // A mailbox that just joined has not fetched yet: give its first poll a moment even without `wait`.
      const waitMs = fresh ? Math.max(req.waitMs, FIRST_FETCH_MS) : req.waitMs;
      if (box.buffer.length === 0 && waitMs > 0) {
        // A commit wakes waiters too; a long poll keeps waiting until an event, its time, or its client is gone.
        const until = Date.now() + waitMs;
        while (box.buffer.length === 0 && req.signal?.aborted !== true && Date.now() < until) {
          await waitForNews(box, until - Date.now(), req.signal);
        }
        // Woken by the first event of a fetch: let the rest of that fetch land, so the page is full, not one event.
        if (box.buffer.length > 0 && box.buffer.length < req.maxEvents) await delay(LINGER_MS);
      }
      const events = box.buffer.slice(0, req.maxEvents);
      const cursor: Cursor = {};
      for (const e of events) cursor[e.partition] = e.offset;
      const c = encodeCursor(cursor);
      return { events: events.map((e) => visible(e, c)) };
    },

    async stream(req): Promise<DeliveryStream> {
      const refusal = authorise(req);
      if (refusal) return refuse(req, refusal);
      let after: Cursor = {};
      if (req.after !== undefined) {
        try {
          after = decodeCursor(req.after);
        } catch (err) {
          return refuse(req, err as GatewayError);
        }
      }
      const { box, fresh } = await open(req);
      // The stream's position: per partition, the last offset it handed out. It starts at the committed cursor (the
      // mailbox holds only uncommitted events) or after Last-Event-ID, and only moves forward, so the stream never
      // hands out an event twice; re-delivery of what was not committed happens on the next stream or poll.
      const position = new Map<number, bigint>(Object.entries(after).map(([p, o]) => [Number(p), BigInt(o)]));
      const pending = () =>
        box.buffer.filter((e) => {
          const at = position.get(e.partition);
          return at === undefined || BigInt(e.offset) > at;
        });
      const closer = new AbortController();
      const close = () => {
        box.streams.delete(close);
        closer.abort();
      };
      box.streams.add(close);
      let first = fresh;
      return {
        async next(waitMs) {
          if (closer.signal.aborted) return [];
          box.lastUsed = Date.now();
          let events = pending();
          const until = Date.now() + (first ? Math.max(waitMs, FIRST_FETCH_MS) : waitMs);
          if (events.length === 0) {
            // Each turn awaits a timer or a wake-up (events or a commit landed): never a busy loop.
            while (events.length === 0 && !closer.signal.aborted && Date.now() < until) {
              await waitForNews(box, until - Date.now(), closer.signal);
              events = pending();
            }
            if (events.length > 0 && events.length < req.maxEvents && !closer.signal.aborted) {
              await delay(LINGER_MS);
              events = pending();
            }
          }
          first = false;
          if (closer.signal.aborted) return [];
          const out: DeliveredEvent[] = [];
          for (const e of events.slice(0, req.maxEvents)) {
            position.set(e.partition, BigInt(e.offset));
            // Each event's cursor is the stream's position just after it: committing it acknowledges this event
            // and every one the stream handed out before it, and nothing after.
            const c: Cursor = {};
            for (const [p, o] of position) c[p] = o.toString();
            out.push(visible(e, encodeCursor(c)));
          }
          return out;
        },
        close,
      };
    },

    refused: audit,

    async commit(party, topic, cursor) {
      const box = boxes.get(`${party}|${topic}`);
      const c = decodeCursor(cursor);
      if (!box) {
        throw new GatewayError(
          "NOT_A_CONSUMER",
          `no open subscription of ${party} to ${topic}`,
          "poll first, then commit its cursor",
        );
      }
      await box.ready;
      await box.consumer.commitOffsets(
        Object.entries(c).map(([partition, offset]) => ({
          topic: box.topic,
          partition: Number(partition),
          offset: (BigInt(offset) + 1n).toString(),
        })),
      );
      box.buffer = box.buffer.filter((e) => {
        const upTo = c[e.partition];
        return upTo === undefined || BigInt(e.offset) > BigInt(upTo);
      });
      if (box.paused && box.buffer.length < bufferSize) {
        box.paused = false;
        box.consumer.resume([{ topic: box.topic }]);
      }
      for (const w of box.waiters) w();
    },

    async stop() {
      clearInterval(sweeper);
      for (const b of boxes.values()) for (const close of [...b.streams]) close();
      await Promise.all([...boxes.values()].map((b) => b.consumer.disconnect()));
      boxes.clear();
    },
  };
}
