import { kafkajsAbortedFilterInForce } from "./kafkajs-aborted";
import { kafkajsProduceInForce } from "./kafkajs-produce";
import { kafkajsRecordEncoderInForce } from "./kafkajs-record";
import kafkajs, {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaConfig,
  type KafkaMessage,
  type Message,
  type Producer,
  type SASLOptions,
} from "kafkajs";
import type { Logger } from "pino";
import { GrondslagError } from "@grondslag/wire";
import type { PartitionPlanner } from "./partitions";

export type KafkaClient = InstanceType<typeof kafkajs.Kafka>;

const levels: Record<number, "error" | "warn" | "info" | "debug"> = {
  [kafkajs.logLevel.ERROR]: "error",
  [kafkajs.logLevel.WARN]: "warn",
  [kafkajs.logLevel.INFO]: "info",
  [kafkajs.logLevel.DEBUG]: "debug",
};

/**
 * The pino level for a kafkajs log entry. Back-to-back transactions meet CONCURRENT_TRANSACTIONS while the
 * coordinator still writes the previous one's markers (3–8 times per benchmark run); kafkajs retries it and logs
 * each try at ERROR, which would page an operator for routine work. So does its warning that limited retries may
 * break exactly-once, which the publisher accepts on purpose (a write that gives up aborts its transaction). Both
 * go to debug; an error that survives the retries still reaches the caller and is logged there.
 */
export function kafkajsLevel(level: number, entry: { message?: string; error?: unknown }) {
  const text = `${entry.message ?? ""} ${typeof entry.error === "string" ? entry.error : ""}`;
  if (
    /another concurrent operation on the same transaction|Limiting retries for the idempotent producer/.test(
      text,
    )
  )
    return "debug";
  return levels[level] ?? "info";
}

/** kafkajs' logs into the process's pino logger, one child per client: one log stream per process, never console.*. */
export function createKafka(opts: {
  clientId: string;
  brokers: string[];
  sasl: SASLOptions;
  log: Logger;
  extra?: Partial<KafkaConfig>;
}): KafkaClient {
  const log = opts.log.child({ component: "kafkajs" });
  if (!kafkajsAbortedFilterInForce()) {
    log.error(
      "kafkajs was loaded before @grondslag/kit: its consumers may hand out records of aborted transactions " +
        "(import @grondslag/kit before kafkajs in this process's entry point)",
    );
  }
  if (!kafkajsRecordEncoderInForce()) {
    log.warn(
      "kafkajs' produce requests were loaded before @grondslag/kit: its producers keep kafkajs' own record " +
        "encoder, the same bytes at about a seventh of the speed (import @grondslag/kit first)",
    );
  }
  if (!kafkajsProduceInForce()) {
    log.warn(
      "kafkajs' producer was loaded before @grondslag/kit: it keeps kafkajs' own produce request and grouping by " +
        "partition, the same bytes with more copies (import @grondslag/kit first)",
    );
  }
  return new kafkajs.Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    // A copy: kafkajs attaches functions to the sasl object it is given.
    sasl: { ...opts.sasl },
    logLevel: kafkajs.logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        log[kafkajsLevel(level, entry)](rest, message);
      },
    ...opts.extra,
  });
}

export interface TopicMessage {
  topic: string;
  message: Message;
}

/**
 * The broker refuses a record batch over `message.max.bytes` (1,048,588 bytes by default) with MESSAGE_TOO_LARGE,
 * which is not retriable and fails the whole produce request it is in. Every record the gateway writes is checked
 * against this bound first; a record alone in its batch then always fits, with room to spare.
 */
export const MAX_RECORD_BYTES = 1_000_000;

const utf8 = (v: string | Buffer | null | undefined) =>
  v == null ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.length;

/**
 * An upper bound of the bytes one message takes in a record batch of its own (format v2): the 61-byte batch
 * header, the record's varints at their widest, key, value and every header. Exact enough: it never undercounts.
 */
export function recordBytes(m: Message): number {
  let n = 61 + 5 + 1 + 10 + 5 + 5 + 5 + 5;
  n += utf8(m.key) + utf8(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) n += 10 + Buffer.byteLength(k) + utf8(one);
  }
  return n;
}

/** A caller's records that the broker will not take whatever the retry (too large, refused): only they fail. */
export class UnwritableRecordError extends Error {
  constructor(
    message: string,
    readonly reason: "too-large" | "refused",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "UnwritableRecordError";
  }
}

const rootCause = (err: unknown): unknown => {
  let e = err;
  for (let i = 0; i < 10 && e instanceof Error && e.cause !== undefined; i++) e = e.cause;
  return e;
};

/** A broker answer about the records themselves (MESSAGE_TOO_LARGE, INVALID_RECORD, …), not about the bus. */
export function isRecordError(err: unknown): boolean {
  if (err instanceof UnwritableRecordError) return true;
  // A commit whose outcome is unknown is never to be written again, whatever refused it.
  if (err instanceof TransactionInDoubtError || err instanceof WriteNotStartedError) return false;
  const root = rootCause(err) as { name?: string; retriable?: boolean; type?: string } | undefined;
  return (
    root?.name === "KafkaJSProtocolError" && root.retriable === false && RECORD_FAULTS.has(root.type ?? "")
  );
}

/**
 * The broker's refusals that are the records' own: too large, or invalid as records. Any other refusal is the bus's
 * state, not the event's: an idempotent producer's OUT_OF_ORDER_SEQUENCE_NUMBER after a leader failed over was
 * taken for the records' fault, and 30 valid ingress events were refused to their party as INTERNAL (test/faults,
 * one broker of three killed). Those are retried as an outage instead, and the producer renewed (PRODUCER_STATE).
 */
const RECORD_FAULTS = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_TIMESTAMP",
]);

/** Refusals that leave an idempotent or transactional producer's state unusable until it is initialised again. */
const PRODUCER_STATE = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "INVALID_PRODUCER_EPOCH",
  "PRODUCER_FENCED",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_ID_MAPPING",
  "INVALID_TXN_STATE",
]);
const isProducerStateError = (err: unknown) =>
  PRODUCER_STATE.has((rootCause(err) as { type?: string } | undefined)?.type ?? "");

const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/**
 * Whether an error is the infrastructure's (Kafka, PostgreSQL or the registry unreachable or overloaded) and so
 * worth retrying the same record for, rather than the record's own. Walks the cause chain.
 */
const PG_CONNECTION_LOST =
  /^(Connection terminated( unexpectedly)?|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)$/;

export function isTransient(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 10 && e; i++) {
    const x = e as { name?: string; code?: unknown; retriable?: boolean; message?: string; cause?: unknown };
    // Our own errors say it themselves: only "the bus is unavailable" is worth the same record again.
    if (e instanceof GrondslagError) return e.code === "UNAVAILABLE" || e.code === "IDEMPOTENCY_IN_PROGRESS";
    if (x.name === "UnwritableRecordError") return false;
    if (x.name === "KafkaJSNumberOfRetriesExceeded" || x.retriable === true) return true;
    if (
      x.name &&
      /^KafkaJS(Connection|ConnectionClosed|RequestTimeout|BrokerNotFound|LockTimeout)Error$/.test(x.name)
    )
      return true;
    if (typeof x.code === "string" && (NETWORK.has(x.code) || /^(08|53|57)/.test(x.code))) return true;
    if (x.name === "TimeoutError" || x.name === "AbortError") return true;
    if (x.name === "TypeError" && x.message === "fetch failed") return true;
    // node-postgres' own errors for a server that went away carry no SQLSTATE, only these messages (a delivery
    // whose transaction lost PostgreSQL was parked as poison: test/faults, postgres-down).
    if (typeof x.message === "string" && PG_CONNECTION_LOST.test(x.message)) return true;
    e = x.cause;
  }
  return false;
}

/**
 * A transactional write whose commit was sent but not answered (its coordinator died, say): the transaction may
 * be committed or aborted, and Kafka settles which when the producer's transactional id is next initialised. Every
 * other failure of a transactional write means nothing of it became visible.
 */
export class TransactionInDoubtError extends Error {
  constructor(cause: unknown) {
    super("the Kafka transaction's commit was not answered: its outcome is unknown", { cause });
    this.name = "TransactionInDoubtError";
  }
}

/** A write refused before its transaction began, because the caller's `notAfter` had passed: nothing was written. */
export class WriteNotStartedError extends Error {
  constructor() {
    super("the write could not begin before its deadline (the bus was slow or away): nothing was written");
    this.name = "WriteNotStartedError";
  }
}

interface Pending {
  items: TopicMessage[];
  /** Epoch ms after which this caller's records must not be written any more. */
  notAfter: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Accumulates sends for up to `lingerMs` or `maxMessages` and writes them with one `sendBatch` (acks=all). Each
 * caller's promise settles when the batch holding its messages is acknowledged, so "acknowledged" keeps its
 * meaning while throughput rises ≈10× over one send per event (kafkajs issue 772). Messages of one caller stay
 * together and in order.
 *
 * With a transactional producer each flush is one Kafka transaction: a caller's messages (an event and its COLLECT
 * record) become visible to read_committed consumers together or not at all. One caller's records never fail
 * another's: a record over MAX_RECORD_BYTES is refused before it is queued, and when the broker refuses a shared
 * write for a reason of the records (not of the bus), every caller is retried in a write of its own, so only the
 * culprit fails, with UnwritableRecordError.
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  /** Set when a transaction's end failed: kafkajs then stays in COMMITTING or ABORTING and refuses every later one. */
  private wedged = false;

  constructor(
    private producer: Producer,
    private readonly opts: {
      lingerMs: number;
      maxMessages: number;
      timeoutMs?: number;
      maxRequestBytes?: number;
      maxRecordBytes?: number;
      /** Write every flush in a transaction (the producer must have a transactionalId). */
      transactional?: boolean;
      /** Splits writes so no request spans two leaders (required on a multi-broker cluster; see partitions.ts). */
      partitions?: PartitionPlanner;
      /**
       * A connected replacement for a transactional producer whose transaction state is stuck (with the same
       * transactionalId, so its first InitProducerId fences the old epoch and the broker ends the open transaction
       * at once instead of after the transaction timeout). Without it, a stuck producer fails every later write.
       */
      renew?: (stuck: Producer) => Promise<Producer>;
      log?: Logger;
    } = {
      lingerMs: 2,
      maxMessages: 500,
    },
  ) {}

  /**
   * Queues `items` for one write. With `notAfter` (epoch ms) they are refused with WriteNotStartedError, unwritten,
   * if their write cannot begin by then (transactional producers check it just before the transaction begins).
   */
  send(items: TopicMessage[], opts: { notAfter?: number } = {}): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    const max = this.opts.maxRecordBytes ?? MAX_RECORD_BYTES;
    for (const { topic, message } of items) {
      const n = recordBytes(message);
      if (n > max) {
        return Promise.reject(
          new UnwritableRecordError(`a record for ${topic} takes ${n} bytes, more than ${max}`, "too-large"),
        );
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, notAfter: opts.notAfter ?? Infinity, resolve, reject });
      this.queued += items.length;
      if (this.queued >= this.opts.maxMessages) this.flushSoon(0);
      else this.flushSoon(this.opts.lingerMs);
    });
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.inFlight.then(() => this.flush());
    }, ms);
  }

  /** One write: every chunk in order, in one transaction when transactional. */
  private async write(items: TopicMessage[], notAfter = Infinity): Promise<void> {
    // One request per chunk of at most maxRequestBytes: the broker refuses a record batch over its
    // message.max.bytes with a non-retriable error. Chunks go in order, one after another.
    const chunks = chunkByBytes(items, this.opts.maxRequestBytes ?? 512 * 1024);
    // On a cluster, one request per partition (see PartitionPlanner: kafkajs loses records of a request that spans
    // leaders when one of them dies); on a single broker the plan keeps each chunk one request.
    const planner = this.opts.partitions;
    const groups = planner ? (await Promise.all(chunks.map((c) => planner.plan(c)))).flat() : chunks;
    const batches = groups.map((chunk) => {
      const byTopic = new Map<string, Message[]>();
      for (const { topic, message } of chunk) {
        const list = byTopic.get(topic) ?? [];
        list.push(message);
        byTopic.set(topic, list);
      }
      return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    });
    const timeout = this.opts.timeoutMs ?? 30_000;
    if (!this.opts.transactional) {
      for (const topicMessages of batches)
        await this.producer.sendBatch({ acks: -1, timeout, topicMessages });
      return;
    }
    if (this.wedged && this.opts.renew) {
      this.opts.log?.warn("renewing the transactional producer after a transaction whose end failed");
      this.producer = await this.opts.renew(this.producer);
      this.wedged = false;
    }
    // The last moment to refuse: after it, the transaction may reach the broker.
    if (Date.now() > notAfter) throw new WriteNotStartedError();
    const txn = await this.producer.transaction().catch((err: unknown) => {
      if (isStuckTransactionState(err)) this.wedged = true;
      throw err;
    });
    try {
      for (const topicMessages of batches) await txn.sendBatch({ acks: -1, timeout, topicMessages });
      await txn.commit();
    } catch (err) {
      // Its sequence numbers or epoch are no longer the broker's: the next write starts on a renewed producer.
      if (isProducerStateError(err)) this.wedged = true;
      if (txn.isActive()) {
        await txn.abort().catch((abortErr: unknown) => {
          // An abort that failed leaves kafkajs in ABORTING: no transaction can begin on this producer again.
          this.wedged = true;
          this.opts.log?.error({ err: abortErr }, "aborting a failed Kafka transaction failed");
        });
      } else {
        // The commit itself failed (its coordinator away, say, with the broker down): kafkajs stays in
        // COMMITTING, and every later transaction() throws "Cannot call beginTransaction in state COMMITTING".
        // Found by test/faults (broker kill -9 under load). The outcome of this one is unknown: the caller must
        // not treat it as unwritten (the publisher keeps the idempotency keys reserved until delivery tells).
        this.wedged = true;
        throw new TransactionInDoubtError(err);
      }
      throw err;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    if (batch.length === 0) return;
    const notAfter = Math.min(...batch.map((p) => p.notAfter));
    try {
      await this.write(
        batch.flatMap((p) => p.items),
        notAfter,
      );
      for (const p of batch) p.resolve();
      return;
    } catch (err) {
      // Leadership may have moved: plan the retries on fresh metadata.
      this.opts.partitions?.invalidate();
      if (batch.length === 1 || !isRecordError(err)) {
        const e = isRecordError(err) ? unwritable(err) : err;
        for (const p of batch) p.reject(e);
        return;
      }
      this.opts.log?.warn(
        { err, callers: batch.length },
        "a shared write was refused: retrying each caller alone",
      );
    }
    for (const p of batch) {
      try {
        await this.write(p.items, p.notAfter);
        p.resolve();
      } catch (err) {
        p.reject(isRecordError(err) ? unwritable(err) : err);
      }
    }
  }

  /** Waits for everything queued so far to be written. */
  async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.inFlight = this.inFlight.then(() => this.flush());
    }
    await this.inFlight;
  }
}

/** kafkajs' refusal to begin a transaction while an earlier one's end is still pending in its state machine. */
function isStuckTransactionState(err: unknown): boolean {
  return err instanceof Error && /Transaction state exception/.test(err.message);
}

function unwritable(err: unknown): UnwritableRecordError {
  if (err instanceof UnwritableRecordError) return err;
  const type = (rootCause(err) as { type?: string } | undefined)?.type ?? "refused";
  return new UnwritableRecordError(
    `the broker refused the record (${type})`,
    type === "MESSAGE_TOO_LARGE" ? "too-large" : "refused",
    {
      cause: err,
    },
  );
}

/** Splits messages, in order, into chunks of at most `maxBytes` (a larger single message goes alone). */
export function chunkByBytes(items: TopicMessage[], maxBytes: number): TopicMessage[][] {
  const chunks: TopicMessage[][] = [];
  let current: TopicMessage[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = recordBytes(item.message);
    if (current.length > 0 && bytes + n > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The part of a fetched batch a handler sees: one partition's records, in order. */
export interface WorkBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Group-membership refusals kafkajs' runner answers by rejoining, when it sees them as they are (by `type`). */
const REJOIN = new Set([
  "UNKNOWN_MEMBER_ID",
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "NOT_COORDINATOR_FOR_GROUP",
]);

/**
 * A consumer that hands whole fetched batches to `handle` and commits a batch's offsets only after `handle`
 * resolved: at-least-once, so handlers must be idempotent (ours are, by event id).
 *
 * No single record can stop a partition: when a batch fails for a reason that is not transient, its records are
 * handled one by one, and the one that still fails goes to `poison` (dead-lettered with its reason), is committed,
 * and the partition moves on. A transient failure (Kafka, PostgreSQL or the registry away) is retried here, with
 * backoff and heartbeats, for as long as it lasts and without loss: never by crashing the consumer, which kafkajs
 * does not restart after a non-retriable error. If the consumer stops anyway, `crashed()` turns the gateway
 * unready and `onFatal` lets main.ts exit so a supervisor restarts it.
 */
export function batchWorker(opts: {
  consumer: Consumer;
  handle: (batch: WorkBatch) => Promise<void>;
  poison: (batch: WorkBatch, message: KafkaMessage, err: unknown) => Promise<void>;
  log?: Logger | undefined;
  onFatal?: ((err: Error) => void) | undefined;
  /** Backoff between retries of a transient failure: doubles from `minMs` up to `maxMs`. */
  backoff?: { minMs: number; maxMs: number };
  /** Partitions handled at once (kafkajs' partitionsConsumedConcurrently); batches of one partition stay in order. */
  partitionsConcurrently?: number;
}) {
  const { consumer } = opts;
  const backoff = opts.backoff ?? { minMs: 200, maxMs: 5_000 };
  let crashed: Error | undefined;

  async function isolate(batch: WorkBatch) {
    try {
      await opts.handle(batch);
      return;
    } catch (err) {
      if (isTransient(err)) throw err;
      opts.log?.warn(
        { err, topic: batch.topic, partition: batch.partition },
        "batch failed: handling its records one by one",
      );
    }
    for (const m of batch.messages) {
      const one = { ...batch, messages: [m] };
      try {
        await opts.handle(one);
      } catch (err) {
        if (isTransient(err)) throw err;
        opts.log?.error(
          { err, topic: batch.topic, partition: batch.partition, offset: m.offset },
          "record set aside",
        );
        await opts.poison(one, m, err);
      }
    }
  }

  async function eachBatch(payload: EachBatchPayload) {
    const batch: WorkBatch = {
      topic: payload.batch.topic,
      partition: payload.batch.partition,
      messages: payload.batch.messages,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await isolate(batch);
        break;
      } catch (err) {
        // Only stopping or a rebalance ends the retries: the batch is then someone else's, from its last commit.
        if (!payload.isRunning() || payload.isStale()) throw err;
        const ms = Math.min(backoff.minMs * 2 ** Math.min(attempt, 16), backoff.maxMs);
        opts.log?.warn(
          { err, topic: batch.topic, partition: batch.partition, retryInMs: ms },
          "batch failed: retrying",
        );
        await sleep(ms);
        await payload.heartbeat();
      }
    }
    // Up to the batch's last offset, control records included: a transaction's commit marker follows its records,
    // and committing only past the last message would leave the group one behind the end for ever.
    await commit(batch.topic, batch.partition, BigInt(payload.batch.lastOffset()) + 1n);
    payload.resolveOffset(payload.batch.lastOffset());
    await payload.heartbeat();
  }

  const committed = new Map<string, bigint>();
  async function commit(topic: string, partition: number, next: bigint) {
    const key = `${topic}|${partition}`;
    if ((committed.get(key) ?? -1n) >= next) return;
    // Committed offsets name the next record to read.
    await consumer.commitOffsets([{ topic, partition, offset: next.toString() }]).catch((err: unknown) => {
      // kafkajs' retrier wraps a membership refusal as KafkaJSNonRetriableError, which its runner takes for a crash
      // it never restarts from (a gateway exited in test/faults: its session had expired while a broker of three
      // was down). Unwrapped, the runner rejoins the group; the batch is read again by the partition's next owner.
      const root = rootCause(err) as { type?: string } | undefined;
      throw root && REJOIN.has(root.type ?? "") ? root : err;
    });
    committed.set(key, next);
  }

  // kafkajs handles a fetch of control records only (a commit marker fetched on its own) without calling
  // eachBatch, and with autoCommit off never commits past it: do that here, so lag can reach 0.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    commit(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n).catch((err: unknown) =>
      opts.log?.debug({ err }, "committing past control records failed; the next batch commits"),
    );
  });
  return {
    async start(topics: string[]) {
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        crashed = payload.error;
        opts.onFatal?.(payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.partitionsConcurrently ?? 1,
        eachBatch,
      });
    },
    stop: () => consumer.disconnect(),
    crashed: () => crashed,
  };
}

/**
 * Whether a worker's consumer group makes progress: it is stalled when records wait on a partition (committed
 * offset below the end) and the committed offset has not moved for `stallMs`. Fed by readiness checks, so it
 * costs nothing between them; the first check starts the clock.
 */
export class StallWatch {
  private seen = new Map<string, { offset: bigint; since: number }>();

  constructor(
    private readonly admin: () => Admin,
    private readonly groupId: string,
    private readonly stallMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Undefined when the group keeps up; else why it does not. */
  async check(topics: string[]): Promise<string | undefined> {
    if (topics.length === 0) return undefined;
    const admin = this.admin();
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: this.groupId, topics }),
      Promise.all(topics.map(async (topic) => ({ topic, ends: await admin.fetchTopicOffsets(topic) }))),
    ]);
    const at = this.now();
    const stalled: string[] = [];
    for (const { topic, ends: parts } of ends) {
      const c = committed.find((t) => t.topic === topic);
      for (const e of parts) {
        const raw = c?.partitions.find((p) => p.partition === e.partition)?.offset ?? "-1";
        const offset = raw === "-1" ? BigInt(e.low) : BigInt(raw);
        const waiting = BigInt(e.high) - offset;
        const key = `${topic}[${e.partition}]`;
        const prior = this.seen.get(key);
        if (waiting <= 0n || !prior || prior.offset !== offset) {
          this.seen.set(key, { offset, since: at });
          continue;
        }
        if (at - prior.since >= this.stallMs) {
          stalled.push(
            `${key} at offset ${offset} with ${waiting} waiting, no progress for ${Math.round((at - prior.since) / 1000)} s`,
          );
        }
      }
    }
    return stalled.length > 0 ? `${this.groupId} stalled: ${stalled.join("; ")}` : undefined;
  }
}
