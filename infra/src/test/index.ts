import crypto from "node:crypto";
import kafkajs from "kafkajs";
import { inject } from "vitest";
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

/** A kafkajs client for tests: the super user unless credentials are given. Errors surface as exceptions, not logs. */
export function testKafka(
  config: StackConfig,
  user?: { name: string; password: string },
): InstanceType<typeof kafkajs.Kafka> {
  return new kafkajs.Kafka({
    clientId: user?.name ?? "test-admin",
    brokers: config.kafka.brokers,
    // A copy of the admin credentials: kafkajs attaches functions to the sasl object it is given.
    sasl: user
      ? { mechanism: "scram-sha-256", username: user.name, password: user.password }
      : { ...config.kafka.admin },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
  });
}

/** Resolves as `promise` does, or rejects after `ms`: a deadline, never a fixed sleep. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
