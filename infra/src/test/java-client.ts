import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { StackConfig } from "../config";
import { ensureKafkaJars, kafkaClasspath } from "../kafka";

/**
 * Kafka's own Java clients (the console producer and consumer from the fetched jars) as a party: the proof that a
 * foreign, non-kafkajs client authenticates with a party's SCRAM-SHA-256 credentials and is held to its ACLs.
 * Each run writes the client config (with the password) to a private temp file and removes it afterwards.
 */

export interface JavaRun {
  /**
   * The tool's exit code. Measured on Kafka 4.1.1: the console producer (with --sync) exits 1 on a refused send,
   * the console consumer exits 0 even when refused; assert on `output`.
   */
  code: number | null;
  /** stdout and stderr together: records printed by the consumer, errors logged by either tool. */
  output: string;
}

function clientConfig(user: { name: string; password: string }): { file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-java-client-"));
  const file = path.join(dir, "client.properties");
  const escaped = user.password.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  fs.writeFileSync(
    file,
    [
      "security.protocol=SASL_PLAINTEXT",
      "sasl.mechanism=SCRAM-SHA-256",
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user.name}" password="${escaped}";`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return { file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function runJava(mainClass: string, args: string[], input: string, timeoutMs: number): Promise<JavaRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "java",
      ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", kafkaClasspath(), mainClass, ...args],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    // A deadline, never a fixed sleep: a hung tool is killed and reported with what it printed.
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(input);
  });
}

/** Sends `values` (one record each, no key) to `topic` as `user` with kafka-console-producer, acks=all. */
export async function javaProduce(
  config: StackConfig,
  user: { name: string; password: string },
  topic: string,
  values: string[],
  opts: { timeoutMs?: number } = {},
): Promise<JavaRun> {
  await ensureKafkaJars(() => {});
  const { file, cleanup } = clientConfig(user);
  try {
    return await runJava(
      "org.apache.kafka.tools.ConsoleProducer",
      [
        "--bootstrap-server",
        config.kafka.brokers.join(","),
        "--topic",
        topic,
        "--producer.config",
        file,
        "--producer-property",
        "acks=all",
        // Fail fast on a refusal instead of retrying for the default two minutes.
        "--producer-property",
        "delivery.timeout.ms=15000",
        "--producer-property",
        "request.timeout.ms=10000",
        "--sync",
      ],
      values.map((v) => `${v}\n`).join(""),
      opts.timeoutMs ?? 60_000,
    );
  } finally {
    cleanup();
  }
}

/** Reads up to `maxMessages` records of `topic` from the beginning as `user`, in consumer group `group`. */
export async function javaConsume(
  config: StackConfig,
  user: { name: string; password: string },
  topic: string,
  opts: { group: string; maxMessages?: number; idleTimeoutMs?: number; timeoutMs?: number },
): Promise<JavaRun> {
  await ensureKafkaJars(() => {});
  const { file, cleanup } = clientConfig(user);
  try {
    return await runJava(
      "org.apache.kafka.tools.consumer.ConsoleConsumer",
      [
        "--bootstrap-server",
        config.kafka.brokers.join(","),
        "--topic",
        topic,
        "--group",
        opts.group,
        "--from-beginning",
        "--max-messages",
        String(opts.maxMessages ?? 1),
        "--timeout-ms",
        String(opts.idleTimeoutMs ?? 15_000),
        "--consumer.config",
        file,
      ],
      "",
      opts.timeoutMs ?? 60_000,
    );
  } finally {
    cleanup();
  }
}
