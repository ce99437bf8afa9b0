import crypto from "node:crypto";
import type kafkajs from "kafkajs";
import pg from "pg";
import { inject } from "vitest";
import { kafkaClient } from "../client";
import { databaseUrl, type StackConfig } from "../config";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackConfig;
    credentialsFile: string;
  }
}

/** The stack the global setup brought up (int and e2e specs only). */
export function testStack(): StackConfig {
  return inject("stack");
}

/** The file with the SCRAM passwords of provisioned parties and services. */
export function testCredentialsFile(): string {
  return inject("credentialsFile");
}

/** Names unique to one spec run, so specs share a broker without sharing topics, groups or users. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(5).toString("hex")}`;
}

/** A kafkajs client for tests: the super user unless credentials are given. */
export const testKafka = (config: StackConfig, user?: { name: string; password: string }) =>
  kafkaClient(config.kafka, user);

/** Resolves as `promise` does, or rejects after `ms`: a deadline, never a fixed sleep. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Per topic, the offset of the next record to be written on each partition. */
export type Offsets = Record<string, { partition: number; offset: string }[]>;

/**
 * The current end offsets of `topics`: read from there, a spec sees only what was written after the call, however
 * much a used stack holds (a benchmark leaves tens of thousands of records on the shared topics).
 */
export async function endOffsets(config: StackConfig, topics: readonly string[]): Promise<Offsets> {
  const admin = testKafka(config).admin();
  await admin.connect();
  try {
    const out: Offsets = {};
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      out[topic] = ends.map((e) => ({ partition: e.partition, offset: e.high }));
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(q: { groupId: string }): Promise<{
    offsetCommit(r: {
      groupId: string;
      groupGenerationId: number;
      memberId: string;
      topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
    }): Promise<{ responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[] }>;
  }>;
}

/**
 * Commits `offsets` for a consumer group that has no members yet, so it starts there instead of at the
 * beginning. Kafka takes such a commit from outside the group (generation -1, no member id) in one request.
 * kafkajs' admin.setOffsets instead joins the group once per topic: measured 5 s a topic here (the broker's
 * initial rebalance delay), 25 s for one gateway's five topics. kafkajs 2.2.4 exposes no standalone commit, so
 * this reaches its cluster through the client's private factory (the pinned version will not change).
 * (Real offsets: kafkajs' resetOffsets commits -1, which its consumer then reads as "no offset".)
 */
export async function startGroupAt(config: StackConfig, groupId: string, offsets: Offsets): Promise<void> {
  const topics = Object.entries(offsets)
    .filter(([, partitions]) => partitions.length > 0)
    .map(([topic, partitions]) => ({ topic, partitions }));
  if (topics.length === 0) return;
  const client = testKafka(config) as unknown as Record<symbol, (o: object) => RawCluster>;
  const factory = Object.getOwnPropertySymbols(client).find(
    (s) => s.description === "private:Kafka:createCluster",
  );
  const create = factory ? client[factory] : undefined;
  if (!create) throw new Error("kafkajs has no private cluster factory: not version 2.2.4?");
  const cluster = create({});
  await cluster.connect();
  try {
    // On a new cluster the first group use creates __consumer_offsets, and its coordinator answers
    // NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS for a moment: retriable, so ask again.
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      try {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        const { responses } = await coordinator.offsetCommit({
          groupId,
          groupGenerationId: -1,
          memberId: "",
          topics,
        });
        const failed = responses.flatMap((r) =>
          r.partitions.filter((p) => p.errorCode !== 0).map((p) => `${r.topic}:${p.partition}`),
        );
        if (failed.length > 0) throw new Error(`offset commit for ${groupId} failed on ${failed.join(", ")}`);
        return;
      } catch (err) {
        if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1000)));
      }
    }
  } finally {
    await cluster.disconnect();
  }
}

function startOffsets(topic: string, from: Offsets | undefined) {
  if (!from) return undefined;
  const at = from[topic];
  if (!at) throw new Error(`no start offsets given for ${topic}`);
  return at;
}

/**
 * Reads `topic` from the beginning, or from `from[topic]` (see `endOffsets`), as `user` or the super user, in a
 * fresh consumer group until `found` holds for the records seen so far, or the deadline passes. Groups are named
 * `<user>.test-<random>`: parties may only use groups under their own prefix.
 */
export async function readUntil<T>(
  config: StackConfig,
  opts: {
    topic: string;
    user?: { name: string; password: string };
    /** Where to start (per topic, as `endOffsets` returns); from the beginning without it. */
    from?: Offsets;
    /** Turns a record into the value collected; return undefined to skip it. */
    map: (message: kafkajs.KafkaMessage, partition: number) => Promise<T | undefined> | T | undefined;
    found: (seen: T[]) => boolean;
    timeoutMs?: number;
  },
): Promise<T[]> {
  const start = startOffsets(opts.topic, opts.from);
  const groupId = uniqueName(`${opts.user?.name ?? "admin"}.test`);
  if (start) await startGroupAt(config, groupId, { [opts.topic]: start });
  const client = testKafka(config, opts.user);
  const consumer = client.consumer({ groupId });
  const seen: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
    await within(
      opts.timeoutMs ?? 30_000,
      `waiting for records on ${opts.topic}`,
      new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const v = await opts.map(message, partition);
              if (v !== undefined) seen.push(v);
              if (opts.found(seen)) resolve();
            },
          })
          .catch(reject);
      }),
    );
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Every record on `topic` from the beginning (or from `from[topic]`) up to its end as of the call: for asserting
 * that something is absent, or for counting.
 */
export async function readToEnd<T>(
  config: StackConfig,
  opts: {
    topic: string;
    user?: { name: string; password: string };
    from?: Offsets;
    map: (message: kafkajs.KafkaMessage, partition: number) => Promise<T | undefined> | T | undefined;
    timeoutMs?: number;
  },
): Promise<T[]> {
  const start = startOffsets(opts.topic, opts.from);
  const admin = testKafka(config).admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(opts.topic).finally(() => admin.disconnect());
  const low = (partition: number, fallback: string) =>
    BigInt(start ? (start.find((s) => s.partition === partition)?.offset ?? fallback) : fallback);
  const remaining = new Map(
    ends.filter((e) => BigInt(e.high) > low(e.partition, e.low)).map((e) => [e.partition, BigInt(e.high)]),
  );
  if (remaining.size === 0) return [];
  const seen: T[] = [];
  const groupId = uniqueName(`${opts.user?.name ?? "admin"}.test`);
  if (start) await startGroupAt(config, groupId, { [opts.topic]: start });
  const client = testKafka(config, opts.user);
  const consumer = client.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
    await within(
      opts.timeoutMs ?? 30_000,
      `reading ${opts.topic} to its end`,
      new Promise<void>((resolve, reject) => {
        // A transactional writer ends a partition with a commit marker that no message reports: the batch's last
        // offset does.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const high = remaining.get(payload.partition);
          if (high !== undefined && BigInt(payload.lastOffset) + 1n >= high)
            remaining.delete(payload.partition);
          if (remaining.size === 0) resolve();
        });
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const high = remaining.get(partition);
              if (high === undefined) return;
              if (BigInt(message.offset) < high) {
                const v = await opts.map(message, partition);
                if (v !== undefined) seen.push(v);
              }
              if (BigInt(message.offset) + 1n >= high) remaining.delete(partition);
              if (remaining.size === 0) resolve();
            },
          })
          .catch(reject);
      }),
    );
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/**
 * A PostgreSQL schema name of one spec's own (idempotency keys and disclosures kept apart from every other
 * gateway on the stack), valid for the gateway's migration.
 */
export function uniqueDbSchema(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(5).toString("hex")}`;
}

/** Drops a schema a spec made for itself (see `uniqueDbSchema`), so a used database does not pile them up. */
export async function dropDbSchema(config: StackConfig, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  const client = new pg.Client({ connectionString: databaseUrl(config.postgres) });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Starts each new consumer group at the current end of its topics. A gateway with groups of its own would otherwise
 * replay every canonical and ingress topic from the beginning and, with a database schema of its own, deliver the
 * whole history of a used stack again.
 */
export async function startGroupsAtEnd(
  config: StackConfig,
  groups: Record<string, readonly string[]>,
): Promise<Offsets> {
  const all = [...new Set(Object.values(groups).flat())];
  const ends = await endOffsets(config, all);
  for (const [groupId, topics] of Object.entries(groups)) {
    await startGroupAt(config, groupId, Object.fromEntries(topics.map((t) => [t, ends[t] ?? []])));
  }
  return ends;
}

export { javaConsume, javaProduce, type JavaRun } from "./java-client";
export { probeAccess, type Probe, type ProbeOp, type ProbeResult } from "./access-probe";
export { FAULTS_PG_DIR, startPrivatePostgres, type FaultStack, type PrivatePostgres } from "./faults";
