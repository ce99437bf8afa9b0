import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { kafkaClient } from "./client";
import { CACHE_DIR, INFRA_DIR, STATE_DIR } from "./paths";
import { livePid, portOpen, run, startDetached, stopByPidFile, waitFor, type Progress } from "./proc";

const POM = path.join(INFRA_DIR, "kafka", "pom.xml");
/** The pom is the one place the Kafka version is pinned; everything else reads it from there. */
export const KAFKA_VERSION =
  /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(POM, "utf8"))?.[1] ?? "";
const LIB_DIR = path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, "lib");
const COMPLETE = path.join(LIB_DIR, ".complete");
const DIR = path.join(STATE_DIR, "kafka");
const DATA_DIR = path.join(DIR, "data");
const PID_FILE = path.join(DIR, "kafka.pid");
const LOG_FILE = path.join(DIR, "stdout.log");
export const KAFKA_SERVER_LOG = path.join(DIR, "server.log");
/** Denials (and grants at DEBUG) from kafka.authorizer.logger: tests assert on it. */
export const KAFKA_AUTHORIZER_LOG = path.join(DIR, "authorizer.log");
const ADMIN_USER = "admin";

export interface KafkaPorts {
  port: number;
  controllerPort: number;
}

export const kafkaClasspath = () => `${LIB_DIR}/*`;

/** Fetches the broker's runtime classpath once (Maven's own cache under ~/.m2 makes a refetch cheap too). */
export async function ensureKafkaJars(progress: Progress): Promise<void> {
  if (fs.existsSync(COMPLETE)) return;
  progress(`fetching Apache Kafka ${KAFKA_VERSION} jars with Maven (first run only) …`);
  let fetched = 0;
  const started = Date.now();
  await run("mvn", ["-B", "-ntp", "package", "-f", POM], {
    onLine: (line) => {
      if (/Downloaded from/.test(line) && ++fetched % 25 === 0)
        progress(`  … ${fetched} artifacts downloaded`);
    },
  }).catch((err: unknown) => {
    throw new Error(`fetching the Kafka jars failed; is Maven installed and Maven Central reachable?`, {
      cause: err,
    });
  });
  fs.writeFileSync(COMPLETE, new Date().toISOString() + "\n");
  progress(
    `  Kafka jars ready (${fs.readdirSync(LIB_DIR).length - 1} jars, ${Math.round((Date.now() - started) / 1000)} s)`,
  );
}

function adminPassword(): string {
  const file = path.join(STATE_DIR, "kafka-admin-password");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(18).toString("base64url"), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}

export function kafkaAdminCredentials() {
  return { mechanism: "plain" as const, username: ADMIN_USER, password: adminPassword() };
}

function jaas(password: string): string {
  // PLAIN for the super user (admin work and the controller listener: its principal must be a super user, or
  // Vote and broker registration are denied); SCRAM for every party and service, created at run time.
  return `org.apache.kafka.common.security.plain.PlainLoginModule required username="${ADMIN_USER}" password="${password}" user_${ADMIN_USER}="${password}";`;
}

function serverProperties(ports: KafkaPorts, password: string): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.bootstrap.servers=127.0.0.1:${ports.controllerPort}`,
    `listeners=BROKER://127.0.0.1:${ports.port},CONTROLLER://127.0.0.1:${ports.controllerPort}`,
    `advertised.listeners=BROKER://127.0.0.1:${ports.port}`,
    "listener.security.protocol.map=BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
    "inter.broker.listener.name=BROKER",
    "controller.listener.names=CONTROLLER",
    "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256",
    "sasl.mechanism.inter.broker.protocol=PLAIN",
    "sasl.mechanism.controller.protocol=PLAIN",
    `listener.name.broker.plain.sasl.jaas.config=${jaas(password)}`,
    "listener.name.broker.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
    "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
    `listener.name.controller.plain.sasl.jaas.config=${jaas(password)}`,
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "allow.everyone.if.no.acl.found=false",
    `super.users=User:${ADMIN_USER}`,
    // A made-up topic name must never create a topic: only `contracts:apply` creates topics.
    "auto.create.topics.enable=false",
    `log.dirs=${DATA_DIR}`,
    "num.partitions=3",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=10",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

function log4j(): string {
  return [
    "status = warn",
    "appender.server.type = RollingFile",
    "appender.server.name = server",
    `appender.server.fileName = ${KAFKA_SERVER_LOG}`,
    `appender.server.filePattern = ${KAFKA_SERVER_LOG}.%i`,
    "appender.server.layout.type = PatternLayout",
    "appender.server.layout.pattern = [%d] %p %m (%c)%n",
    "appender.server.policies.type = Policies",
    "appender.server.policies.size.type = SizeBasedTriggeringPolicy",
    "appender.server.policies.size.size = 20MB",
    "appender.server.strategy.type = DefaultRolloverStrategy",
    "appender.server.strategy.max = 3",
    "appender.authz.type = File",
    "appender.authz.name = authz",
    `appender.authz.fileName = ${KAFKA_AUTHORIZER_LOG}`,
    "appender.authz.layout.type = PatternLayout",
    "appender.authz.layout.pattern = [%d] %p %m%n",
    "rootLogger.level = INFO",
    "rootLogger.appenderRef.server.ref = server",
    "logger.authz.name = kafka.authorizer.logger",
    "logger.authz.level = INFO",
    "logger.authz.additivity = false",
    "logger.authz.appenderRef.authz.ref = authz",
    "",
  ].join("\n");
}

function java(args: string[], opts: { heap: string }): [string, string[]] {
  return [
    "java",
    [
      `-Xmx${opts.heap}`,
      `-Dlog4j2.configurationFile=${path.join(DIR, "log4j2.properties")}`,
      "-cp",
      kafkaClasspath(),
      ...args,
    ],
  ];
}

export function kafkaRunning(): number | undefined {
  return livePid(PID_FILE);
}

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64, as `StorageTool random-uuid` prints. Like Kafka's own
 * `Uuid.randomUuid()`, never one that starts with "-": StorageTool would parse `-t -Nh…` as a missing argument
 * (1 run in 64 failed so, seen in CI).
 */
export function kafkaClusterId(random: (n: number) => Buffer = crypto.randomBytes): string {
  for (;;) {
    const id = random(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/** Starts the broker unless ours already runs; formats its storage on first use. Returns false if it already ran. */
export async function startKafka(ports: KafkaPorts, progress: Progress): Promise<boolean> {
  if (kafkaRunning() !== undefined) return false;
  for (const p of [ports.port, ports.controllerPort]) {
    if (await portOpen(p)) {
      throw new Error(
        `port ${p} is taken by a process this stack did not start. Stop it, or choose other ports with ` +
          `GRONDSLAG_KAFKA_PORT / GRONDSLAG_KAFKA_CONTROLLER_PORT.`,
      );
    }
  }
  await ensureKafkaJars(progress);
  fs.mkdirSync(DIR, { recursive: true });
  const password = adminPassword();
  const props = path.join(DIR, "server.properties");
  fs.writeFileSync(props, serverProperties(ports, password), { mode: 0o600 });
  fs.writeFileSync(path.join(DIR, "log4j2.properties"), log4j());
  if (!fs.existsSync(path.join(DATA_DIR, "meta.properties"))) {
    progress("formatting Kafka storage (KRaft, single node) …");
    const clusterId = kafkaClusterId();
    const [cmd, args] = java(["kafka.tools.StorageTool", "format", "-t", clusterId], { heap: "256m" });
    await run(cmd, [...args, "-c", props, "--standalone"]);
  }
  progress(`starting Kafka ${KAFKA_VERSION} on 127.0.0.1:${ports.port} …`);
  const [cmd, args] = java(["kafka.Kafka", props], { heap: "1g" });
  startDetached(cmd, ["-Xms512m", ...args], { cwd: DIR, logFile: LOG_FILE, pidFile: PID_FILE });
  return true;
}

export async function stopKafka(): Promise<boolean> {
  return stopByPidFile(PID_FILE, 30_000);
}

/** Ready means: the super user can authenticate and a metadata request names a controller. */
export async function waitKafkaReady(
  brokers: string[],
  admin: ReturnType<typeof kafkaAdminCredentials>,
  progress: Progress,
) {
  return waitFor(
    "Kafka",
    async () => {
      const client = kafkaClient({ brokers, admin }, undefined, {
        retries: 0,
        connectionTimeout: 2000,
      }).admin();
      try {
        await client.connect();
        const cluster = await client.describeCluster();
        return cluster.controller !== null ? cluster : undefined;
      } finally {
        await client.disconnect();
      }
    },
    {
      timeoutMs: 90_000,
      intervalMs: 500,
      progress,
      onTimeout: () => `see ${KAFKA_SERVER_LOG} and ${LOG_FILE}`,
    },
  );
}
