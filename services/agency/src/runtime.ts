import { randomUUID } from "node:crypto";
import { consumersOf, partiesMatching, producerEntry, type Catalogue } from "@grondslag/contracts";
import { isTopic, type Topic } from "@grondslag/schemas";
import {
  createClient,
  createIngressPublisher,
  createKafkaSubscriber,
  RefusalError,
  type Client,
  type Delivery,
  type IngressPublisher,
  type KafkaSubscription,
  type TokenSource,
  type UndecodableRecord,
} from "@grondslag/sdk";
import { BUS_HEADERS, deadLetterTopic } from "@grondslag/wire";
import { Kafka, logLevel, type Producer } from "kafkajs";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { isTransient, type Query, type Store } from "./store";
import { Poison, type AgencyContext, type AgencySpec, type PublishOpts } from "./types";

export interface RuntimeConfig {
  party: string;
  gatewayUrl: string;
  brokers: string[];
  kafkaPassword: string;
  groupPrefix: string;
  token: TokenSource;
  pollSeconds: number;
  outboxSweepMs: number;
}

type AnyDelivery = Delivery<unknown>;

/** What `deadletter.<party>` holds, one JSON record per parked event (the party's own data, as delivered). */
export interface DeadLetter {
  service: string;
  party: string;
  reason: string;
  parkedAt: string;
  attempt: number;
  /** The delivery as the handler got it, or, when it could not be decoded, the raw record. */
  delivery?: AnyDelivery;
  undecodable?: Omit<UndecodableRecord, "value"> & { valueBase64: string | null };
}

export type Outcome = "handled" | "duplicate" | "dead";

export interface ReplayReport {
  /** Dead letters read from the topic in this replay. */
  read: number;
  handled: number;
  /** Already handled (by a redelivery since it was parked). */
  duplicate: number;
  /** Parked again: the cause is not fixed. */
  dead: number;
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** The dead letters as the desk shows them (no content: that is in the topic). */
const deadLettersQuery = (schema: string) =>
  `SELECT event_id AS "eventId", topic, reason, attempts, parked_at AS "parkedAt", replayed_at AS "replayedAt",
          replay_outcome AS "replayOutcome"
     FROM ${schema}.dead_letters ORDER BY parked_at`;

class Stopping extends Error {
  constructor() {
    super("the service is stopping");
    this.name = "Stopping";
  }
}

/**
 * The agency runtime: consumers on either transport, one transaction per event (inbox + state + outbox), the outbox
 * relay, dead letters and their replay. `createAgency` (define.ts) wraps it in the kit's service skeleton.
 */
export class AgencyRuntime {
  private readonly stop$ = new AbortController();
  private readonly kafka: Kafka;
  private dlqProducer: Producer | undefined;
  private client: Client<Record<string, unknown>> | undefined;
  private publisher: IngressPublisher<Record<string, unknown>> | undefined;
  private readonly subscriptions: KafkaSubscription[] = [];
  private readonly loops: Promise<void>[] = [];
  private relayWake: (() => void) | undefined;
  private relayRunning: Promise<void> | undefined;
  private crashed: Error | undefined;
  private readonly metrics: {
    handled: Counter<"topic" | "outcome">;
    outbox: Counter<"topic" | "state">;
    pending: Gauge;
  };

  constructor(
    readonly spec: AgencySpec,
    readonly config: RuntimeConfig,
    readonly store: Store,
    readonly catalogue: Catalogue,
    readonly log: Logger,
    registry: Registry,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.kafka = new Kafka({
      clientId: `${spec.service}.${config.party}`,
      brokers: config.brokers,
      sasl: { mechanism: "scram-sha-256", username: config.party, password: config.kafkaPassword },
      logLevel: logLevel.WARN,
      retry: { retries: 8 },
    });
    this.metrics = {
      handled: new Counter({
        name: "agency_deliveries_total",
        help: "Deliveries by topic and outcome (handled, duplicate, dead)",
        labelNames: ["topic", "outcome"],
        registers: [registry],
      }),
      outbox: new Counter({
        name: "agency_outbox_total",
        help: "Outbox rows by topic and the gateway's verdict",
        labelNames: ["topic", "state"],
        registers: [registry],
      }),
      pending: new Gauge({
        name: "agency_outbox_pending",
        help: "Outbox rows not yet handed to the gateway",
        registers: [registry],
        collect: async () => {
          const [row] = await this.store
            .query<{ n: string }>(
              `SELECT count(*) AS n FROM ${this.store.schema}.outbox WHERE state = 'pending'`,
            )
            .catch(() => [{ n: "0" }]);
          this.metrics.pending.set(Number(row?.n ?? 0));
        },
      }),
    };
  }

  get party(): string {
    return this.config.party;
  }

  /** Why the runtime stopped working for good, if it did (readiness reports it). */
  failure(): Error | undefined {
    return this.crashed;
  }

  // ── contexts ────────────────────────────────────────────────────────────────────────────────────────────────

  /** The context of one transaction; `traceparent` continues the trace of the delivery that caused it. */
  context(q: Query, cause?: { eventId: string; traceparent: string | undefined }): AgencyContext {
    return {
      party: this.party,
      service: this.spec.service,
      schema: this.store.schema,
      catalogue: this.catalogue,
      log: this.log,
      query: q,
      now: this.clock,
      publish: async (topic, value, opts) => {
        const { grondslag, purpose } = this.producerFor(topic, opts);
        const id = randomUUID();
        const subject = (value as { subjectKvk?: unknown }).subjectKvk;
        await q(
          `INSERT INTO ${this.store.schema}.outbox (id, topic, value, grondslag, purpose, kafka_key, traceparent, caused_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            id,
            topic,
            JSON.stringify(value),
            grondslag,
            purpose,
            opts?.key ?? (typeof subject === "string" ? subject : null),
            cause?.traceparent ?? null,
            cause?.eventId ?? null,
          ],
        );
        return id;
      },
    };
  }

  /** The producer entry to publish under: the one in force, else the first (the gateway then says why not). */
  private producerFor(topic: Topic, opts: PublishOpts | undefined): { grondslag: string; purpose: string } {
    const entry =
      producerEntry(this.catalogue, topic, this.party, this.clock()) ??
      this.catalogue.topics[topic]?.producers.find((e) =>
        partiesMatching(this.catalogue, e.party).some((p) => p.id === this.party),
      );
    const grondslag = opts?.grondslag ?? entry?.grondslag;
    const purpose = opts?.purpose ?? entry?.purposes[0];
    if (!grondslag || !purpose) {
      throw new Error(
        `${this.party} has no producer entry for ${topic} in the contracts: add one (contracts/data/topics/${topic}.yaml) or name grondslag and purpose`,
      );
    }
    return { grondslag, purpose };
  }

  /** Runs `fn` in one transaction with a context; the outbox relay is woken after commit. */
  async transaction<T>(
    fn: (ctx: AgencyContext) => Promise<T>,
    cause?: { eventId: string; traceparent: string | undefined },
  ): Promise<T> {
    const result = await this.store.transaction((q) => fn(this.context(q, cause)));
    this.relayWake?.();
    return result;
  }

  // ── deliveries ──────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Handles one delivery: at most once with effect (the inbox), its effects and output in one transaction. A poison
   * delivery (or any error that a retry cannot change) is parked in the dead-letter topic and the consumer goes on;
   * a transient error (the database away) is retried here, with backoff, until it passes or the service stops, so
   * the offset or cursor is never committed past an event that was not handled.
   */
  async handle(d: AnyDelivery, attempt = 1): Promise<Outcome> {
    const handler = isTopic(d.topic) ? this.spec.subscriptions[d.topic] : undefined;
    for (let tries = 0; ; tries++) {
      if (this.stop$.signal.aborted) throw new Stopping();
      try {
        const outcome = await this.transaction(
          async (ctx) => {
            const fresh = await ctx.query(
              `INSERT INTO ${this.store.schema}.inbox (event_id, topic, producer) VALUES ($1, $2, $3)
               ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
              [d.eventId, d.topic, d.producer],
            );
            if (fresh.length === 0) return "duplicate" as const;
            if (!handler) throw new Poison(`${this.spec.service} has no handler for ${d.topic}`);
            await (handler as (c: AgencyContext, x: AnyDelivery) => Promise<void>)(ctx, d);
            return "handled" as const;
          },
          { eventId: d.eventId, traceparent: d.traceparent },
        );
        this.metrics.handled.inc({ topic: d.topic, outcome });
        return outcome;
      } catch (err) {
        if (isTransient(err)) {
          const ms = Math.min(200 * 2 ** Math.min(tries, 5), 5_000);
          this.log.warn(
            {
              err: { message: (err as Error).message, code: (err as { code?: unknown }).code },
              eventId: d.eventId,
              retryInMs: ms,
            },
            "a delivery's transaction failed on a passing fault: retrying it",
          );
          await wait(ms, this.stop$.signal);
          continue;
        }
        const reason =
          err instanceof Poison
            ? err.message
            : `the handler failed: ${(err as Error).message ?? String(err)}`;
        await this.park({ delivery: d, reason, attempt });
        this.metrics.handled.inc({ topic: d.topic, outcome: "dead" });
        return "dead";
      }
    }
  }

  /** Writes a dead letter (Kafka first, acks=all; then its row), retrying passing faults: a letter is never lost. */
  async park(letter: {
    delivery?: AnyDelivery;
    undecodable?: UndecodableRecord;
    reason: string;
    attempt: number;
  }) {
    const eventId =
      letter.delivery?.eventId ??
      letter.undecodable?.headers[BUS_HEADERS.eventId] ??
      `undecodable:${letter.undecodable?.topic}:${letter.undecodable?.partition}:${letter.undecodable?.offset}`;
    const topic =
      letter.delivery?.topic ??
      letter.undecodable?.headers[BUS_HEADERS.topic] ??
      letter.undecodable?.topic ??
      "?";
    const body: DeadLetter = {
      service: this.spec.service,
      party: this.party,
      reason: letter.reason,
      parkedAt: this.clock().toISOString(),
      attempt: letter.attempt,
      ...(letter.delivery ? { delivery: letter.delivery } : {}),
      ...(letter.undecodable
        ? {
            undecodable: {
              topic: letter.undecodable.topic,
              partition: letter.undecodable.partition,
              offset: letter.undecodable.offset,
              headers: letter.undecodable.headers,
              reason: letter.undecodable.reason,
              valueBase64: letter.undecodable.value?.toString("base64") ?? null,
            },
          }
        : {}),
    };
    // The reason names the rule, never the data: it is logged, the letter's content is not.
    this.log.error({ eventId, topic, reason: letter.reason }, "parked a delivery in the dead-letter topic");
    for (let tries = 0; ; tries++) {
      if (this.stop$.signal.aborted) throw new Stopping();
      try {
        this.dlqProducer ??= this.kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
        await this.dlqProducer.connect();
        await this.dlqProducer.send({
          topic: deadLetterTopic(this.party),
          acks: -1,
          messages: [
            {
              key: eventId,
              value: JSON.stringify(body),
              headers: {
                [BUS_HEADERS.eventId]: eventId,
                [BUS_HEADERS.topic]: topic,
                [BUS_HEADERS.reasonDetail]: letter.reason.slice(0, 1000),
              },
            },
          ],
        });
        await this.store.query(
          `INSERT INTO ${this.store.schema}.dead_letters (event_id, topic, reason, attempts) VALUES ($1, $2, $3, $4)
           ON CONFLICT (event_id) DO UPDATE SET reason = EXCLUDED.reason, attempts = EXCLUDED.attempts,
             parked_at = now(), replayed_at = NULL, replay_outcome = NULL`,
          [eventId, topic, letter.reason, letter.attempt],
        );
        return;
      } catch (err) {
        const ms = Math.min(200 * 2 ** Math.min(tries, 5), 5_000);
        this.log.warn(
          { err: { message: (err as Error).message }, eventId, retryInMs: ms },
          "could not park a dead letter yet: retrying",
        );
        await wait(ms, this.stop$.signal);
      }
    }
  }

  /**
   * Replays the dead letters parked so far (up to the topic's end when called), once each, through the same
   * handlers: a letter whose cause is fixed is handled, one handled meanwhile is a duplicate, one that fails again
   * is parked again (after the end, so not again in this replay). The replay group's offsets make each letter
   * replay once, also across restarts.
   */
  async replay(): Promise<ReplayReport> {
    const topic = deadLetterTopic(this.party);
    const groupId = `${this.config.groupPrefix}.replay`;
    const admin = this.kafka.admin();
    await admin.connect();
    const report: ReplayReport = { read: 0, handled: 0, duplicate: 0, dead: 0 };
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const startOf = new Map<number, bigint>(ends.map((e) => [e.partition, BigInt(e.low)]));
      for (const p of committed?.partitions ?? []) {
        if (p.offset !== "-1") startOf.set(p.partition, BigInt(p.offset));
      }
      const todo = new Map<number, bigint>();
      for (const e of ends) {
        if (BigInt(e.high) > (startOf.get(e.partition) ?? 0n)) todo.set(e.partition, BigInt(e.high));
      }
      if (todo.size === 0) return report;
      const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = todo.get(partition);
              if (end === undefined || BigInt(message.offset) >= end) return;
              report.read++;
              const outcome = await this.replayOne(message.value);
              report[outcome]++;
              await consumer.commitOffsets([
                { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
              ]);
              if (BigInt(message.offset) + 1n >= end) todo.delete(partition);
              if (todo.size === 0) resolve();
            },
          })
          .catch(reject);
      });
      await done;
      await consumer.disconnect();
      return report;
    } finally {
      await admin.disconnect();
    }
  }

  private async replayOne(value: Buffer | null): Promise<Outcome> {
    let letter: DeadLetter;
    try {
      letter = JSON.parse(value?.toString("utf8") ?? "") as DeadLetter;
    } catch {
      this.log.error("a record in the dead-letter topic is not a dead letter: skipped");
      return "dead";
    }
    const attempt = (letter.attempt ?? 1) + 1;
    if (letter.delivery) {
      const outcome = await this.handle(letter.delivery, attempt);
      // Only the replay marks its letters (the live path pays nothing for them); one parked again keeps its row.
      if (outcome !== "dead") {
        await this.store.query(
          `UPDATE ${this.store.schema}.dead_letters SET replayed_at = now(), replay_outcome = $2
            WHERE event_id = $1 AND replayed_at IS NULL`,
          [letter.delivery.eventId, outcome],
        );
      }
      return outcome;
    }
    // A record that did not decode: it is parked again with its reason; the letter keeps the raw bytes for whoever
    // fixes the cause (a schema missing from the registry window, bytes from a foreign producer).
    if (letter.undecodable) {
      await this.park({
        undecodable: {
          ...letter.undecodable,
          value:
            letter.undecodable.valueBase64 === null
              ? null
              : Buffer.from(letter.undecodable.valueBase64, "base64"),
        },
        reason: letter.reason,
        attempt,
      });
    }
    return "dead";
  }

  // ── the outbox relay ────────────────────────────────────────────────────────────────────────────────────────

  /** Publishes pending outbox rows in order, until none are left; woken after each commit and every sweep. */
  private async relay(): Promise<void> {
    const s = this.store.schema;
    for (;;) {
      if (this.stop$.signal.aborted) return;
      const rows = await this.store.query<{
        id: string;
        topic: Topic;
        value: Record<string, unknown>;
        grondslag: string;
        purpose: string;
        kafka_key: string | null;
        traceparent: string | null;
      }>(
        `SELECT id, topic, value, grondslag, purpose, kafka_key, traceparent FROM ${s}.outbox
          WHERE state = 'pending' ORDER BY seq LIMIT 50`,
      );
      if (rows.length === 0) return;
      for (const row of rows) {
        if (this.stop$.signal.aborted) return;
        const verdict = await this.publishOne(row);
        if (verdict === "retry") return; // the gateway is away: the next sweep tries again, in order
        await this.store.query(
          `UPDATE ${s}.outbox SET state = $2, event_id = $3, refusal_code = $4, refusal_detail = $5,
                  attempts = attempts + 1, updated_at = now()
            WHERE id = $1 AND state = 'pending'`,
          [row.id, verdict.state, verdict.eventId ?? null, verdict.code ?? null, verdict.detail ?? null],
        );
        this.metrics.outbox.inc({ topic: row.topic, state: verdict.state });
        if (verdict.state === "refused" || verdict.state === "failed") {
          this.log.warn(
            { outboxId: row.id, topic: row.topic, code: verdict.code, detail: verdict.detail },
            `the gateway refused an outbox event: ${verdict.code}`,
          );
        }
      }
    }
  }

  private async publishOne(row: {
    id: string;
    topic: Topic;
    value: Record<string, unknown>;
    grondslag: string;
    purpose: string;
    kafka_key: string | null;
    traceparent: string | null;
  }): Promise<
    | "retry"
    | { state: "sent" | "published" | "refused" | "failed"; eventId?: string; code?: string; detail?: string }
  > {
    const opts = {
      grondslag: row.grondslag,
      purpose: row.purpose,
      idempotencyKey: row.id,
      ...(row.traceparent ? { traceparent: row.traceparent } : {}),
    };
    try {
      if (this.spec.transport === "http") {
        const receipt = await this.client!.publish(row.topic, row.value, opts);
        return { state: "published", eventId: receipt.eventId };
      }
      await this.publisher!.publish(row.topic, row.value, {
        ...opts,
        ...(row.kafka_key ? { key: row.kafka_key } : {}),
      });
      return { state: "sent" };
    } catch (err) {
      if (err instanceof RefusalError && !err.retriable) {
        return { state: "refused", code: err.code, detail: err.detail };
      }
      if (err instanceof RefusalError || isTransient(err)) {
        this.log.warn(
          { err: { message: (err as Error).message }, outboxId: row.id },
          "the gateway is not reachable: the outbox waits",
        );
        return "retry";
      }
      // The SDK could not encode the value against the topic's schema: the service's bug, kept visible.
      return { state: "failed", code: "INVALID_EVENT", detail: (err as Error).message };
    }
  }

  private wakeRelay(): void {
    if (this.relayRunning) {
      this.relayPending = true;
      return;
    }
    this.relayRunning = (async () => {
      do {
        this.relayPending = false;
        await this.relay().catch((err: unknown) => {
          this.log.warn(
            { err: { message: (err as Error).message } },
            "outbox relay failed: the next sweep tries again",
          );
        });
      } while (this.relayPending && !this.stop$.signal.aborted);
    })().finally(() => {
      this.relayRunning = undefined;
    });
  }

  private relayPending = false;

  /** Waits until the outbox has no pending rows (tests, `--once`), or throws after `timeoutMs`. */
  async drained(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await this.store.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${this.store.schema}.outbox WHERE state = 'pending'`,
      );
      if (Number(row?.n ?? 0) === 0 && !this.relayRunning) return;
      if (Date.now() > deadline)
        throw new Error(`the outbox still has ${row?.n} pending rows after ${timeoutMs} ms`);
      this.wakeRelay();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // ── what the desk shows ─────────────────────────────────────────────────────────────────────────────────────

  /** `GET /state`: the service's own state (its `state` query) and the runtime's books. */
  async snapshot(): Promise<Record<string, unknown>> {
    const s = this.store.schema;
    return this.store.transaction(async (q) => {
      const [inbox] = await q<{ n: string }>(`SELECT count(*) AS n FROM ${s}.inbox`);
      const outbox = await q(
        `SELECT id, topic, state, event_id AS "eventId", refusal_code AS "refusalCode", refusal_detail AS "refusalDetail",
                caused_by AS "causedBy", created_at AS "createdAt"
           FROM ${s}.outbox ORDER BY seq`,
      );
      const deadLetters = await q(deadLettersQuery(s));
      const state = this.spec.state ? await this.spec.state(this.context(q)) : {};
      return {
        service: this.spec.service,
        party: this.party,
        transport: this.spec.transport,
        handled: Number(inbox?.n ?? 0),
        state,
        outbox,
        deadLetters,
      };
    });
  }

  async deadLetters(): Promise<Record<string, unknown>[]> {
    return this.store.query(deadLettersQuery(this.store.schema));
  }

  // ── lifecycle ───────────────────────────────────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    await this.store.migrate(this.spec.migrations?.(this.store.schema) ?? []);
    const registry = { baseUrl: this.config.gatewayUrl, token: this.config.token };
    if (this.spec.transport === "http") {
      this.client = createClient<Record<string, unknown>>({
        baseUrl: this.config.gatewayUrl,
        token: this.config.token,
      });
    } else {
      this.publisher = createIngressPublisher<Record<string, unknown>>({
        kafka: this.kafka,
        party: this.party,
        registry,
      });
      // Refusals arrive after the broker took the record: they are matched to the outbox row by its id.
      await this.publisher.watchRefusals({
        groupId: `${this.config.groupPrefix}.rejected`,
        fromBeginning: true,
        onRefusal: async (r) => {
          if (!r.idempotencyKey) return;
          const rows = await this.store.query(
            `UPDATE ${this.store.schema}.outbox SET state = 'refused', refusal_code = $2, refusal_detail = $3, updated_at = now()
              WHERE id::text = $1 RETURNING topic`,
            [r.idempotencyKey, r.code, r.detail],
          );
          if (rows.length > 0) {
            this.metrics.outbox.inc({ topic: String(rows[0]?.topic), state: "refused" });
            this.log.warn(
              { outboxId: r.idempotencyKey, code: r.code, detail: r.detail },
              `the gateway refused an outbox event: ${r.code}`,
            );
          }
        },
      });
    }
    this.relayWake = () => this.wakeRelay();
    const sweep = setInterval(() => this.wakeRelay(), this.config.outboxSweepMs);
    sweep.unref();
    this.stop$.signal.addEventListener("abort", () => clearInterval(sweep), { once: true });
    this.wakeRelay();

    for (const topic of Object.keys(this.spec.subscriptions) as Topic[]) {
      // A topic whose consumer entry is not in force yet (a bill without a date) is not read: the gateway would
      // refuse it. Its handler waits for the law; a restart after the entry takes effect reads it.
      if (!this.readsNow(topic)) {
        this.log.warn(
          { topic },
          `${this.party} may not read ${topic} now (no consumer entry in force): not subscribed`,
        );
        continue;
      }
      if (this.spec.transport === "kafka") {
        const subscriber = createKafkaSubscriber<Record<string, unknown>>({
          kafka: this.kafka,
          party: this.party,
          registry,
        });
        this.subscriptions.push(
          await subscriber.subscribe(topic, {
            groupId: `${this.config.groupPrefix}.${topic}`,
            fromBeginning: true,
            eachDelivery: async (d) => {
              await this.handle(d);
            },
            onUndecodable: async (record) => {
              await this.park({
                undecodable: record,
                reason: `undecodable delivery: ${record.reason}`,
                attempt: 1,
              });
            },
          }),
        );
      } else {
        this.loops.push(this.pollLoop(topic));
      }
    }
    for (const timer of this.spec.timers ?? []) this.loops.push(this.timerLoop(timer));
  }

  /** Does a consumer entry in force now let this party read `topic`? */
  readsNow(topic: Topic): boolean {
    return consumersOf(this.catalogue, topic, this.clock()).some((d) => d.party.id === this.party);
  }

  /** The consumer entry's purpose under which the party reads `topic` (the first one, in force now). */
  purposeOf(topic: Topic): string {
    const inForce = consumersOf(this.catalogue, topic, this.clock()).find((d) => d.party.id === this.party);
    const entry =
      inForce?.entry ??
      this.catalogue.topics[topic]?.consumers.find((e) =>
        partiesMatching(this.catalogue, e.party).some((p) => p.id === this.party),
      );
    if (!entry) {
      throw new Error(
        `${this.party} is no consumer of ${topic} in the contracts: remove the subscription or add a consumer entry`,
      );
    }
    return entry.purposes[0] as string;
  }

  private async pollLoop(topic: Topic): Promise<void> {
    const purpose = this.purposeOf(topic);
    let failures = 0;
    while (!this.stop$.signal.aborted) {
      try {
        const { deliveries, cursor } = await this.client!.poll(topic, {
          purpose,
          waitSeconds: this.config.pollSeconds,
          max: 100,
        });
        for (const d of deliveries) await this.handle(d);
        if (cursor) await this.client!.commit(topic, cursor);
        failures = 0;
      } catch (err) {
        if (err instanceof Stopping || this.stop$.signal.aborted) return;
        if (err instanceof RefusalError && !err.retriable) {
          // The contract no longer lets us read it (or never did): nothing a retry changes; say so and stop this loop.
          this.crashed = err;
          this.log.error(
            { topic, code: err.code, detail: err.detail, fix: err.fix },
            `cannot read ${topic}: ${err.code}`,
          );
          return;
        }
        failures++;
        const ms = Math.min(500 * 2 ** Math.min(failures, 5), 10_000);
        this.log.warn(
          { topic, err: { message: (err as Error).message }, retryInMs: ms },
          "polling failed: retrying",
        );
        await wait(ms, this.stop$.signal);
      }
    }
  }

  private async timerLoop(timer: {
    name: string;
    everyMs: number;
    run: (ctx: AgencyContext) => Promise<void>;
  }) {
    while (!this.stop$.signal.aborted) {
      await wait(timer.everyMs, this.stop$.signal);
      if (this.stop$.signal.aborted) return;
      await this.transaction((ctx) => timer.run(ctx)).catch((err: unknown) => {
        this.log.warn(
          { timer: timer.name, err: { message: (err as Error).message } },
          "a timer run failed: it runs again",
        );
      });
    }
  }

  async stop(): Promise<void> {
    this.stop$.abort();
    await Promise.allSettled(this.subscriptions.map((s) => s.stop()));
    await Promise.allSettled(this.loops);
    await this.relayRunning;
    await Promise.allSettled([this.publisher?.close(), this.dlqProducer?.disconnect()]);
  }
}
