import fs from "node:fs";
import path from "node:path";
import type { StackConfig } from "./config";
import { ensureKafkaJars, kafkaClasspath } from "./kafka";
import { CACHE_DIR, INFRA_DIR } from "./paths";
import { run } from "./proc";

const CLASSES = path.join(CACHE_DIR, "tools");

/** Compiles a tool once (and again when its source changes): running it from source costs ≈2 s a call. */
export async function compiledTool(tool: string): Promise<string> {
  const source = path.join(INFRA_DIR, "kafka", `${tool}.java`);
  const cls = path.join(CLASSES, `${tool}.class`);
  if (!fs.existsSync(cls) || fs.statSync(cls).mtimeMs < fs.statSync(source).mtimeMs) {
    await run("javac", ["-nowarn", "-cp", kafkaClasspath(), "-d", CLASSES, source]);
  }
  return CLASSES;
}

/**
 * Runs one of the Admin tools in infra/kafka (plain Admin clients on the fetched Kafka jars, against any broker:
 * native, Docker or external) with `commands` on stdin, as the super user.
 */
export async function adminTool(config: StackConfig, tool: string, commands: string[]): Promise<string> {
  await ensureKafkaJars(() => {});
  const classes = await compiledTool(tool);
  return run("java", ["-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", `${kafkaClasspath()}:${classes}`, tool], {
    input: commands.join("\n") + "\n",
    env: {
      ...process.env,
      GRONDSLAG_KAFKA_BROKERS: config.kafka.brokers.join(","),
      GRONDSLAG_KAFKA_ADMIN_USER: config.kafka.admin.username,
      GRONDSLAG_KAFKA_ADMIN_PASSWORD: config.kafka.admin.password,
    },
  });
}

const scram = (config: StackConfig, commands: string[]) => adminTool(config, "ScramUsers", commands);

const USER = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * Creates or updates SCRAM-SHA-256 users in one JVM run (≈1.5 s, mostly JVM start; batch your users).
 * User names are party ids; passwords must not contain white space.
 */
export async function upsertScramUsers(
  config: StackConfig,
  users: { name: string; password: string }[],
): Promise<void> {
  if (users.length === 0) return;
  for (const u of users) {
    if (!USER.test(u.name)) throw new Error(`not a valid user name: ${JSON.stringify(u.name)}`);
    if (!/^\S+$/.test(u.password)) throw new Error(`the password of ${u.name} is empty or has white space`);
  }
  await scram(
    config,
    users.map((u) => `upsert ${u.name} ${u.password}`),
  );
}

export async function deleteScramUsers(config: StackConfig, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await scram(
    config,
    names.map((n) => `delete ${n}`),
  );
}

export async function listScramUsers(config: StackConfig): Promise<string[]> {
  const out = await scram(config, ["list"]);
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => USER.test(l));
}
