import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
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
/** Denials (and grants at DEBUG) from kafka.authorizer.logger: tests assert on it. Every node of a stack appends to it. */
export const KAFKA_AUTHORIZER_LOG = path.join(STATE_DIR, "kafka", "authorizer.log");
/** The server log of the default stack's single node. */
export const KAFKA_SERVER_LOG = path.join(STATE_DIR, "kafka", "server.log");
const ADMIN_USER = "admin";

export interface KafkaPorts {
  port: number;
  controllerPort: number;
}

/** One KRaft node (combined broker and controller): its node id and the two ports it listens on. */
export interface KafkaNode extends KafkaPorts {
  id: number;
}

/**
 * Where a stack's Kafka lives and how it is built. One node: `<stateDir>/kafka/` holds its data, logs and pid (the
 * layout the single-node stack always had). Several: `<stateDir>/kafka/nodes/<id>/` each, a static quorum of all
 * of them as voters, replication factor min(3, n) and min ISR 2 for the internal topics. Every node appends to
 * `<stateDir>/kafka/authorizer.log`; the admin password is `<stateDir>/kafka-admin-password`.
 */
export interface KafkaLayout {
  stateDir: string;
  nodes: KafkaNode[];
}

/** JVM heap of one node: the single node keeps what it always had; a cluster's nodes get less (infra/README.md). */
const SINGLE_HEAP = { xms: "512m", xmx: "1g" };
const CLUSTER_HEAP = { xms: "256m", xmx: "512m" };

const kafkaDir = (stateDir: string) => path.join(stateDir, "kafka");
/** The directory of node `id` in `layout`. */
export function nodeDir(layout: KafkaLayout, id: number): string {
  return layout.nodes.length === 1
    ? kafkaDir(layout.stateDir)
    : path.join(kafkaDir(layout.stateDir), "nodes", String(id));
}
const pidFile = (layout: KafkaLayout, id: number) => path.join(nodeDir(layout, id), "kafka.pid");
const authorizerLog = (stateDir: string) => path.join(kafkaDir(stateDir), "authorizer.log");
/** Where a running cluster records its nodes, so `infra:status`, `infra:down` and a later `infra:up` find them all. */
const clusterFile = (stateDir: string) => path.join(kafkaDir(stateDir), "cluster.json");

/** The layout of the default stack with `n` nodes: node 1 on the configured ports, the others from `extraFrom` (2 each). */
export function defaultLayout(
  n: number,
  ports: KafkaPorts & { extraFrom: number },
  stateDir = STATE_DIR,
): KafkaLayout {
  const nodes: KafkaNode[] = [{ id: 1, port: ports.port, controllerPort: ports.controllerPort }];
  for (let id = 2; id <= n; id++) {
    const port = ports.extraFrom + 2 * (id - 2);
    nodes.push({ id, port, controllerPort: port + 1 });
  }
  return { stateDir, nodes };
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

function adminPassword(stateDir: string): string {
  const file = path.join(stateDir, "kafka-admin-password");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(18).toString("base64url"), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}

export function kafkaAdminCredentials(stateDir = STATE_DIR) {
  return { mechanism: "plain" as const, username: ADMIN_USER, password: adminPassword(stateDir) };
}

function jaas(password: string): string {
  // PLAIN for the super user (admin work and the controller listener: its principal must be a super user, or
  // Vote and broker registration are denied); SCRAM for every party and service, created at run time.
  return `org.apache.kafka.common.security.plain.PlainLoginModule required username="${ADMIN_USER}" password="${password}" user_${ADMIN_USER}="${password}";`;
}

/** Replication of the internal topics and the defaults for topics created without one: min(3, n), min ISR 2 from 3. */
export function clusterReplication(nodes: number): { replicationFactor: number; minInsync: number } {
  const replicationFactor = Math.min(3, Math.max(1, nodes));
  return { replicationFactor, minInsync: replicationFactor >= 3 ? 2 : 1 };
}

function serverProperties(layout: KafkaLayout, node: KafkaNode, password: string): string {
  const single = layout.nodes.length === 1;
  const { replicationFactor: rf, minInsync } = clusterReplication(layout.nodes.length);
  return [
    "process.roles=broker,controller",
    `node.id=${node.id}`,
    // One node: a dynamic quorum formatted --standalone. Several: a static quorum of every node (3 voters survive
    // the loss of one).
    single
      ? `controller.quorum.bootstrap.servers=127.0.0.1:${node.controllerPort}`
      : `controller.quorum.voters=${layout.nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(",")}`,
    `listeners=BROKER://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=BROKER://127.0.0.1:${node.port}`,
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
    `log.dirs=${path.join(nodeDir(layout, node.id), "data")}`,
    "num.partitions=3",
    `offsets.topic.replication.factor=${rf}`,
    "offsets.topic.num.partitions=10",
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${minInsync}`,
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${minInsync}`,
    "group.initial.rebalance.delay.ms=0",
    ...(single
      ? []
      : [
          `default.replication.factor=${rf}`,
          `min.insync.replicas=${minInsync}`,
          // The cleaner (compacted __consumer_offsets) allocates this buffer on the heap: 128 MB by default, more
          // than a cluster node's modest heap should give it (measured in infra/README.md).
          "log.cleaner.dedupe.buffer.size=33554432",
          // A killed node's partitions move to the others once the controller fences it: after 9 s of missed
          // heartbeats by default, 4 s here (the loopback cluster's heartbeats are not lost in a network).
          "broker.heartbeat.interval.ms=1000",
          "broker.session.timeout.ms=4000",
        ]),
    "",
  ].join("\n");
}

function log4j(serverLog: string, authzLog: string): string {
  return [
    "status = warn",
    "appender.server.type = RollingFile",
    "appender.server.name = server",
    `appender.server.fileName = ${serverLog}`,
    `appender.server.filePattern = ${serverLog}.%i`,
    "appender.server.layout.type = PatternLayout",
    "appender.server.layout.pattern = [%d] %p %m (%c)%n",
    "appender.server.policies.type = Policies",
    "appender.server.policies.size.type = SizeBasedTriggeringPolicy",
    "appender.server.policies.size.size = 20MB",
    "appender.server.strategy.type = DefaultRolloverStrategy",
    "appender.server.strategy.max = 3",
    // Appended by every node of the stack (one write per line: lines of several processes do not mix).
    "appender.authz.type = File",
    "appender.authz.name = authz",
    `appender.authz.fileName = ${authzLog}`,
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

function java(dir: string, args: string[], opts: { heap: string }): [string, string[]] {
  return [
    "java",
    [
      `-Xmx${opts.heap}`,
      `-Dlog4j2.configurationFile=${path.join(dir, "log4j2.properties")}`,
      "-cp",
      kafkaClasspath(),
      ...args,
    ],
  ];
}

/** The pid of node `id` of `layout` if it runs. */
export function kafkaNodeRunning(layout: KafkaLayout, id: number): number | undefined {
  return livePid(pidFile(layout, id));
}

/** The single-node default stack's broker pid, if it runs. */
export function kafkaRunning(): number | undefined {
  return livePid(path.join(kafkaDir(STATE_DIR), "kafka.pid"));
}

/**
 * How many nodes the Kafka that runs from `stateDir` has, and their pids (undefined for a node that is down); undefined
 * when nothing runs. A cluster counts as running while any of its nodes does.
 */
export function runningKafka(
  stateDir = STATE_DIR,
): { size: number; pids: (number | undefined)[] } | undefined {
  const single = livePid(path.join(kafkaDir(stateDir), "kafka.pid"));
  const recorded = readClusterFile(stateDir);
  const clusterPids = recorded ? recorded.nodes.map((n) => kafkaNodeRunning(recorded, n.id)) : [];
  const clusterUp = clusterPids.some((p) => p !== undefined);
  if (single !== undefined && clusterUp) {
    throw new Error(
      `both a single Kafka node and a ${clusterPids.length}-node cluster run from ${stateDir}: stop both with ` +
        "npm run infra:down, then start the one you want",
    );
  }
  if (clusterUp) return { size: clusterPids.length, pids: clusterPids };
  if (single !== undefined) return { size: 1, pids: [single] };
  return undefined;
}

/** The cluster layout last started from `stateDir` (its nodes' ids and ports), if any. */
export function readClusterFile(stateDir: string): KafkaLayout | undefined {
  const file = clusterFile(stateDir);
  if (!fs.existsSync(file)) return undefined;
  const { nodes } = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: KafkaNode[] };
  return { stateDir, nodes };
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

/** The default stack's single node on `ports` (what `infra:up` without `--brokers` starts). */
export async function startKafka(ports: KafkaPorts, progress: Progress): Promise<boolean> {
  return startKafkaNode({ stateDir: STATE_DIR, nodes: [{ id: 1, ...ports }] }, 1, progress);
}

/**
 * Starts node `id` of `layout` unless it already runs; formats its storage on first use (all nodes of a cluster
 * share one cluster id, kept in `<stateDir>/kafka/cluster-id`). Returns false if it already ran. Does not wait.
 */
export async function startKafkaNode(layout: KafkaLayout, id: number, progress: Progress): Promise<boolean> {
  const node = layout.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`the Kafka layout has no node ${id}`);
  if (kafkaNodeRunning(layout, id) !== undefined) return false;
  const single = layout.nodes.length === 1;
  for (const p of [node.port, node.controllerPort]) {
    if (await portOpen(p)) {
      throw new Error(
        `port ${p} is taken by a process this stack did not start. Stop it, or choose other ports with ` +
          (single || id === 1
            ? "GRONDSLAG_KAFKA_PORT / GRONDSLAG_KAFKA_CONTROLLER_PORT."
            : "GRONDSLAG_KAFKA_EXTRA_PORTS_FROM (nodes 2.. take two ports each from there)."),
      );
    }
  }
  await ensureKafkaJars(progress);
  const dir = nodeDir(layout, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(kafkaDir(layout.stateDir), { recursive: true });
  if (!single) {
    fs.writeFileSync(clusterFile(layout.stateDir), JSON.stringify({ nodes: layout.nodes }, null, 2) + "\n");
  }
  const password = adminPassword(layout.stateDir);
  const props = path.join(dir, "server.properties");
  fs.writeFileSync(props, serverProperties(layout, node, password), { mode: 0o600 });
  fs.writeFileSync(
    path.join(dir, "log4j2.properties"),
    log4j(path.join(dir, "server.log"), authorizerLog(layout.stateDir)),
  );
  if (!fs.existsSync(path.join(dir, "data", "meta.properties"))) {
    progress(
      `formatting Kafka storage (KRaft, ${single ? "single node" : `node ${id} of ${layout.nodes.length}`}) …`,
    );
    const [cmd, args] = java(dir, ["kafka.tools.StorageTool", "format", "-t", clusterIdOf(layout)], {
      heap: "256m",
    });
    await run(cmd, [...args, "-c", props, ...(single ? ["--standalone"] : [])]);
  }
  const heap = single ? SINGLE_HEAP : CLUSTER_HEAP;
  progress(`starting Kafka ${KAFKA_VERSION}${single ? "" : ` node ${id}`} on 127.0.0.1:${node.port} …`);
  const [cmd, args] = java(dir, ["kafka.Kafka", props], { heap: heap.xmx });
  startDetached(cmd, [`-Xms${heap.xms}`, ...args], {
    cwd: dir,
    logFile: path.join(dir, "stdout.log"),
    pidFile: pidFile(layout, id),
  });
  return true;
}

function clusterIdOf(layout: KafkaLayout): string {
  if (layout.nodes.length === 1) return kafkaClusterId();
  const file = path.join(kafkaDir(layout.stateDir), "cluster-id");
  if (!fs.existsSync(file)) fs.writeFileSync(file, kafkaClusterId() + "\n");
  return fs.readFileSync(file, "utf8").trim();
}

/** SIGTERM (SIGKILL after 30 s) of node `id`, by its pid file. */
export async function stopKafkaNode(layout: KafkaLayout, id: number): Promise<boolean> {
  return stopByPidFile(pidFile(layout, id), 30_000);
}

/** Stops the default stack's single node. */
export async function stopKafka(): Promise<boolean> {
  return stopByPidFile(path.join(kafkaDir(STATE_DIR), "kafka.pid"), 30_000);
}

/**
 * Ready means: the super user can authenticate, a metadata request names a controller, and (with `nodes`) that many
 * brokers are registered. `brokers` may be a single node's address, to ask that node itself.
 */
export async function waitKafkaReady(
  brokers: string[],
  admin: ReturnType<typeof kafkaAdminCredentials>,
  progress: Progress,
  opts: { nodes?: number; nodeId?: number; timeoutMs?: number; logs?: string } = {},
) {
  return waitFor(
    opts.nodeId === undefined ? "Kafka" : `Kafka node ${opts.nodeId}`,
    async () => {
      const client = kafkaClient({ brokers, admin }, undefined, {
        retries: 0,
        connectionTimeout: 2000,
      }).admin();
      try {
        await client.connect();
        const cluster = await client.describeCluster();
        if (cluster.controller === null) return undefined;
        if (opts.nodes !== undefined && cluster.brokers.length < opts.nodes) return undefined;
        if (opts.nodeId !== undefined && !cluster.brokers.some((b) => b.nodeId === opts.nodeId))
          return undefined;
        return cluster;
      } finally {
        await client.disconnect();
      }
    },
    {
      timeoutMs: opts.timeoutMs ?? 90_000,
      intervalMs: 500,
      progress,
      onTimeout: () =>
        `see ${opts.logs ?? `${KAFKA_SERVER_LOG} and ${path.join(kafkaDir(STATE_DIR), "stdout.log")}`}`,
    },
  );
}

/** Where a node's logs are, for error messages. */
export function kafkaNodeLogs(layout: KafkaLayout, id: number): string {
  const dir = nodeDir(layout, id);
  return `${path.join(dir, "server.log")} and ${path.join(dir, "stdout.log")}`;
}

/**
 * A client config for Kafka's own Java tools as the super user (PLAIN), mode 0600, in a temp dir of its own: pass
 * the file as `--producer.config` / `--command-config`, and call `cleanup` afterwards.
 */
export function adminClientProperties(
  config: { brokers: string[]; admin: { username: string; password: string } },
  extra: string[] = [],
): { file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-java-admin-"));
  const file = path.join(dir, "client.properties");
  const { username, password } = config.admin;
  const quoted = password.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  fs.writeFileSync(
    file,
    [
      "security.protocol=SASL_PLAINTEXT",
      "sasl.mechanism=PLAIN",
      `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${username}" password="${quoted}";`,
      `bootstrap.servers=${config.brokers.join(",")}`,
      ...extra,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return { file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
