import crypto from "node:crypto";
import type kafkajs from "kafkajs";
import { inject } from "vitest";
import { kafkaClient } from "../client";
import type { StackConfig } from "../config";

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

/**
 * Reads `topic` from the beginning (as `user`, or the super user) in a fresh consumer group until `found` holds
 * for the records seen so far, or the deadline passes. Groups are named `<user>.test-<random>`: parties may only
 * use groups under their own prefix.
 */
export async function readUntil<T>(
  config: StackConfig,
  opts: {
    topic: string;
    user?: { name: string; password: string };
    /** Turns a record into the value collected; return undefined to skip it. */
    map: (message: kafkajs.KafkaMessage) => Promise<T | undefined> | T | undefined;
    found: (seen: T[]) => boolean;
    timeoutMs?: number;
  },
): Promise<T[]> {
  const client = testKafka(config, opts.user);
  const consumer = client.consumer({ groupId: uniqueName(`${opts.user?.name ?? "admin"}.test`) });
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
            eachMessage: async ({ message }) => {
              const v = await opts.map(message);
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

/** Every record on `topic` up to its end as of the call (for asserting that something is absent). */
export async function readToEnd<T>(
  config: StackConfig,
  opts: {
    topic: string;
    user?: { name: string; password: string };
    map: (message: kafkajs.KafkaMessage) => Promise<T | undefined> | T | undefined;
    timeoutMs?: number;
  },
): Promise<T[]> {
  const admin = testKafka(config).admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(opts.topic).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((e) => e.high !== e.low).map((e) => [e.partition, BigInt(e.high)]));
  if (remaining.size === 0) return [];
  const seen: T[] = [];
  const client = testKafka(config, opts.user);
  const consumer = client.consumer({ groupId: uniqueName(`${opts.user?.name ?? "admin"}.test`) });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
    await within(
      opts.timeoutMs ?? 30_000,
      `reading ${opts.topic} to its end`,
      new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const v = await opts.map(message);
              if (v !== undefined) seen.push(v);
              const high = remaining.get(partition);
              if (high !== undefined && BigInt(message.offset) + 1n >= high) remaining.delete(partition);
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

export { javaConsume, javaProduce, type JavaRun } from "./java-client";
