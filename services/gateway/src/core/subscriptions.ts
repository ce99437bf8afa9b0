import { consumersOf, deliveryTopic, type Catalogue } from "@grondslag/contracts";
import { GATEWAY } from "@grondslag/contracts/provision";
import { isTopic } from "@grondslag/schemas";
import { setTimeout as delay } from "node:timers/promises";
import type { Consumer } from "kafkajs";
import type { Logger } from "pino";
import { GatewayError } from "../errors";
import type { DeliveredEvent, PollRequest, Subscriptions } from "../ports";
import { auditMessage, auditRecordId, type AuditRecord } from "./audit";
import type { BatchingProducer } from "./kafka";
import type { SchemaIds } from "./schema-ids";
import { continueTrace } from "./trace";
import { fromWire, H, header } from "./wire";

export interface SubscriptionDeps {
  catalogue: () => Catalogue;
  /** A new consumer in the given group (the gateway's principal; groups under `grondslag.gateway.`). */
  newConsumer: (groupId: string) => Consumer;
  producer: BatchingProducer;
  schemaIds: SchemaIds;
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
  waiters: Set<() => void>;
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
      Object.values(c).every((v) => typeof v === "string" && /^\d+$/.test(v))
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
 * The HTTP subscription API's core, for parties without Kafka clients. The gateway reads the party's own delivery
 * topic (`deliver.<party>.<topic>`, where every disclosure was already audited) in a consumer group of its own per
 * party and topic. A poll returns the oldest uncommitted events, again and again until they are committed:
 * at-least-once, and the committed position survives a gateway restart (it is a Kafka group offset).
 * Per instance: with several gateway instances, route one party's polls to one instance (or give HTTP parties'
 * delivery topics one partition) so a mailbox sees all partitions.
 */
export function createSubscriptions(deps: SubscriptionDeps): Subscriptions & { stop(): Promise<void> } {
  const { producer, schemaIds, now, log } = deps;
  const idleMs = deps.idleMs ?? 10 * 60_000;
  const bufferSize = deps.bufferSize ?? 2000;
  const boxes = new Map<string, Mailbox>();

  async function refuse(req: PollRequest, error: GatewayError): Promise<never> {
    const trace = continueTrace(req.traceparent);
    const eventId = "00000000-0000-0000-0000-000000000000";
    const record: AuditRecord = {
      v: 1,
      id: auditRecordId(`${trace.traceId}:${trace.spanId}`, "REJECT", req.party, error.code),
      time: now().toISOString(),
      action: "REJECT",
      topic: req.topic,
      eventId,
      producer: "",
      recipient: req.party,
      grondslag: null,
      purpose: req.purpose || null,
      fields: [],
      reasonCode: error.code,
      reasonDetail: error.detail,
      channel: "http",
      traceId: trace.traceId,
      spanId: trace.spanId,
      schemaId: null,
      subjects: [],
    };
    await producer.send([auditMessage(record, req.party)]);
    throw error;
  }

  function authorise(req: PollRequest) {
    if (!isTopic(req.topic)) {
      throw new GatewayError(
        "UNKNOWN_TOPIC",
        `there is no public topic ${JSON.stringify(req.topic)}`,
        "subscribe to a topic your contract names",
      );
    }
    const delivery = consumersOf(deps.catalogue(), req.topic, now()).find((d) => d.party.id === req.party);
    if (!delivery) {
      return new GatewayError(
        "NOT_A_CONSUMER",
        `${req.party} is not a consumer of ${req.topic} under any contract in force`,
        "only parties the topic's contract names as consumers may subscribe; ask the contract owner",
      );
    }
    if (!delivery.entry.purposes.includes(req.purpose)) {
      return new GatewayError(
        "PURPOSE_NOT_ALLOWED",
        `purpose ${JSON.stringify(req.purpose)} is not in ${req.party}'s contract for ${req.topic}`,
        `name one of: ${delivery.entry.purposes.join(", ")} in the Doelbinding header`,
      );
    }
    return undefined;
  }

  function mailbox(party: string, topic: string): Mailbox {
    const key = `${party}|${topic}`;
    const box = boxes.get(key);
    if (box) return box;
    const consumer = deps.newConsumer(`${GATEWAY}.http.${party}.${topic}`);
    const kafkaTopic = deliveryTopic(party, topic as never);
    const b: Mailbox = {
      consumer,
      topic: kafkaTopic,
      buffer: [],
      paused: false,
      waiters: new Set(),
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
            grondslag: header(message.headers, H.grondslag) ?? "",
            purpose: header(message.headers, H.purpose) ?? "",
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

  return {
    async poll(req) {
      const refusal = authorise(req);
      if (refusal) return refuse(req, refusal);
      const fresh = !boxes.has(`${req.party}|${req.topic}`);
      const box = mailbox(req.party, req.topic);
      box.lastUsed = Date.now();
      await box.ready;
      // A mailbox that just joined has not fetched yet: give its first poll a moment even without `wait`.
      const waitMs = fresh ? Math.max(req.waitMs, FIRST_FETCH_MS) : req.waitMs;
      if (box.buffer.length === 0 && waitMs > 0) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            box.waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          box.waiters.add(done);
        });
        // Woken by the first event of a fetch: let the rest of that fetch land, so the page is full, not one event.
        if (box.buffer.length > 0 && box.buffer.length < req.maxEvents) await delay(LINGER_MS);
      }
      const events = box.buffer.slice(0, req.maxEvents);
      const cursor: Cursor = {};
      for (const e of events) cursor[e.partition] = e.offset;
      const c = encodeCursor(cursor);
      return { events: events.map(({ partition: _p, offset: _o, ...e }) => ({ ...e, cursor: c })) };
    },

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
    },

    async stop() {
      clearInterval(sweeper);
      await Promise.all([...boxes.values()].map((b) => b.consumer.disconnect()));
      boxes.clear();
    },
  };
}
