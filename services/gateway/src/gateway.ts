import crypto from "node:crypto";
import { partiesMatching } from "@grondslag/contracts";
import { GATEWAY } from "@grondslag/contracts/plan";
import type { Topic } from "@grondslag/schemas";
import { canonicalTopic, ingressTopic } from "@grondslag/wire";
import type { Admin } from "kafkajs";
import type { Logger } from "pino";
import pg from "pg";
import type { Readiness } from "./ports";
import { CatalogueHolder } from "./core/catalogue";
import { migrate } from "./core/db";
import { createDelivery } from "./core/delivery";
import {
  fenceEarlierIncarnations,
  pgIdempotencyStore,
  TRANSACTION_TIMEOUT_MS,
  type IdempotencyStore,
} from "./core/idempotency";
import { createIngress } from "./core/ingress";
import {
  AuditLog,
  BatchingProducer,
  partitionPlanner,
  createKafka,
  createPartitioner,
  Pseudonymiser,
  SchemaIds,
  StallWatch,
} from "@grondslag/kit";
import { createMaintenance, DEFAULT_RETENTION_MS } from "./core/maintenance";
import { createPublisher } from "./core/publisher";
import { createSubscriptions } from "./core/subscriptions";
import { createRegistryView } from "./http/registry";

export interface GatewayConfig {
  brokers: string[];
  kafkaUser: string;
  kafkaPassword: string;
  registryUrl: string;
  /** The gateway's registry account (role sr-readonly): the registry refuses anonymous callers. */
  registryAuth?: { username: string; password: string };
  databaseUrl: string;
  dbSchema: string;
  pseudonymKey: Buffer;
  contractsDir: string | undefined;
  /** Consumer groups live under this prefix (the gateway's ACLs cover `grondslag.gateway.`). */
  groupPrefix?: string;
  /**
   * This instance's stable name among the instances sharing `groupPrefix` (a StatefulSet ordinal, a host name):
   * its transactional id. A restarted instance then fences its killed predecessor, whose open transaction the
   * broker aborts at once; with a random id (the default) it stays open, holding every read_committed reader of
   * its partitions, until the transaction timeout (60 s). Two instances running at once must not share it.
   */
  instanceId?: string;
  /**
   * Which Kafka workers this instance runs (default `delivery` and `ingress`): they scale separately by partitions.
   * `delivery` is both delivery lanes; `delivery-urgent` or `delivery-bulk` is one of them (see `urgentTopics`).
   */
  workers?: readonly GatewayWorker[];
  /**
   * Topics delivered in a lane of their own: exact names, or a prefix ending in `*` (`lsi.*`). The urgent lane is
   * a consumer of its own (group `<groupPrefix>.deliver-urgent`, its own fetches), so a bulk topic's backlog is not
   * in front of its events; an instance can run it alone (`delivery-urgent`). Default none: one lane.
   */
  urgentTopics?: readonly string[];
  /**
   * The parties whose `ingress.<party>` this instance reads (default every producing party). Two gateways with
   * consumer groups of their own would otherwise both take every ingress record: tests give each gateway its party.
   */
  ingressParties?: readonly string[];
  /** A worker whose committed offsets stand still this long while records wait makes the gateway unready. */
  stallMs?: number;
  /** Write each producer flush as one Kafka transaction (default true): an event and its COLLECT record together. */
  transactional?: boolean;
  /**
   * Partitions each Kafka worker handles at once (default 6, the partitions of a canonical topic). With 1, one
   * topic's backlog held every other topic's events behind it: an LSI signal waited 4.8 s (p50) for SVB's mailbox
   * while accident reports flooded ingress (bench, flood phase).
   */
  partitionsConcurrently?: number;
  /**
   * How long a committed idempotency key is kept, and a repeat of it answered with the first event (default 7
   * days); then it is purged. See core/maintenance.ts.
   */
  idempotencyRetentionMs?: number;
  /** Seconds between rounds of upkeep of the idempotency table (purge, VACUUM when needed); 0 turns it off. */
  maintenanceSeconds?: number;
}

export type GatewayWorker = "delivery" | "delivery-urgent" | "delivery-bulk" | "ingress";

/**
 * The delivery lanes: each one's consumer group (under the prefix), its name in logs and readiness, and the worker
 * that runs it alone. The bulk lane keeps the group of a gateway without lanes.
 */
const LANES = {
  bulk: { group: "deliver", worker: "delivery", only: "delivery-bulk" },
  urgent: { group: "deliver-urgent", worker: "delivery-urgent", only: "delivery-urgent" },
} as const satisfies Record<string, { group: string; worker: string; only: GatewayWorker }>;
type Lane = keyof typeof LANES;

/** Does `topic` match one of `patterns` (an exact name, or a prefix ending in `*`)? */
export function topicMatches(patterns: readonly string[], topic: string): boolean {
  return patterns.some((p) => (p.endsWith("*") ? topic.startsWith(p.slice(0, -1)) : topic === p));
}

/**
 * A topic that moves into a lane brings its place along: where `to` has committed nothing for a topic, it starts at
 * the offsets `from` committed (instead of the topic's beginning, which the delivery's dedupe rows make safe but
 * slow). Only an empty group's offsets can be set: where another instance already runs `to`, it has its own.
 */
export async function adoptOffsets(
  admin: Admin,
  from: string,
  to: string,
  topics: string[],
  log: Logger,
): Promise<void> {
  if (topics.length === 0) return;
  const [mine, theirs] = await Promise.all([
    admin.fetchOffsets({ groupId: to, topics }),
    admin.fetchOffsets({ groupId: from, topics }),
  ]);
  for (const t of mine) {
    if (t.partitions.some((p) => p.offset !== "-1")) continue;
    const place = (theirs.find((x) => x.topic === t.topic)?.partitions ?? []).filter(
      (p) => p.offset !== "-1",
    );
    if (place.length === 0) continue;
    try {
      await admin.setOffsets({
        groupId: to,
        topic: t.topic,
        partitions: place.map((p) => ({ partition: p.partition, offset: p.offset })),
      });
      log.info(
        { topic: t.topic, from, to },
        "the topic changed lanes: its new group starts where the old one was",
      );
    } catch (err) {
      log.warn(
        { err, topic: t.topic, from, to },
        "could not carry the topic's offsets into its new lane (another instance runs it): it reads from its own",
      );
    }
  }
}

export interface GatewayHooks {
  /** A Kafka worker stopped for good (kafkajs will not restart it): the process should exit and be restarted. */
  onFatal?: (err: Error) => void;
  onDecision?: (d: { topic: string; outcome: string; grondslag: string; purpose: string }) => void;
  onDisclosure?: (d: { topic: string; recipient: string; grondslag: string; eventId: string }) => void;
  /** Wraps the idempotency store (specs use it to stop a process between its Kafka write and settling its keys). */
  idempotency?: (store: IdempotencyStore) => IdempotencyStore;
}

/**
 * The gateway's core, composed from its clients: publisher, delivery and ingress workers, HTTP subscriptions and
 * readiness. No side effects until `start()`; `main.ts` and the tests both build it here.
 */
export function createGateway(
  config: GatewayConfig,
  log: Logger,
  now: () => Date = () => new Date(),
  hooks: GatewayHooks = {},
) {
  const groups = config.groupPrefix ?? GATEWAY;
  const catalogue = new CatalogueHolder(config.contractsDir, log.child({ component: "contracts" }));
  const kafka = createKafka({
    clientId: "grondslag-gateway",
    brokers: config.brokers,
    sasl: { mechanism: "scram-sha-256", username: config.kafkaUser, password: config.kafkaPassword },
    log,
  });
  // The Java-compatible murmur2 partitioner: a KvK key lands on the same partition as from a Java client.
  const transactional = config.transactional ?? true;
  // One transactional id per instance, under the gateway's prefix (its ACL): instances never fence each other.
  const instance = config.instanceId ?? crypto.randomUUID();
  const transactionalId = `${groups}.tx.${instance}`;
  // This process, as the owner of the idempotency keys it reserves (a restart of the instance fences them).
  const owner = { instance, incarnation: crypto.randomUUID() };
  const newTxProducer = () =>
    kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner,
      ...(transactional
        ? {
            transactionalId,
            // Bounds when an unsettled attempt's outcome is known (idempotency.ts: TAKEOVER_AFTER_MS).
            transactionTimeout: TRANSACTION_TIMEOUT_MS,
            idempotent: true,
            maxInFlightRequests: 1,
            // A transaction begun right after a commit can be answered CONCURRENT_TRANSACTIONS while the broker
            // still writes the markers (seen in the bench); kafkajs retries it after its 300 ms default, which
            // stalls every publish behind it. Retry sooner, over about as long in all (≈13 s). kafkajs warns that
            // limited retries may break exactly-once: here a write that gives up aborts its transaction, so nothing
            // half-written becomes visible, and its default (unlimited) would hang publishes through an outage
            // instead of answering 503.
            // 10 ms first (measured: the markers are written within a few ms; 50 ms made every back-to-back
            // transaction wait 50 ms, the ceiling of single HTTP publishes), doubling, over ≈20 s in all.
            retry: { initialRetryTime: 10, retries: 10 },
          }
        : {}),
    });
  let txProducer = newTxProducer();
  // Publishing writes in transactions (an event with its COLLECT record). Delivery, refusals and subscriptions
  // need no atomicity across records (delivery orders DISCLOSE before the delivery by awaiting it), so they keep
  // a plain producer: a transaction per delivery flush cost three quarters of delivery throughput (bench).
  const rawProducer = transactional
    ? kafka.producer({ allowAutoTopicCreation: false, createPartitioner })
    : txProducer;
  // Leaders and replicas of the topics written, for the producers' per-partition plan on a cluster.
  const metadataAdmin = kafka.admin();
  const partitions = partitionPlanner(() => metadataAdmin);
  const publishing = new BatchingProducer(txProducer, {
    lingerMs: 2,
    maxMessages: 1000,
    transactional,
    partitions,
    // A transaction whose commit failed (the broker killed mid-commit) leaves kafkajs' producer unable to begin
    // another: a new one with the same transactional id takes over (test/faults found this gateway never recovered).
    ...(transactional
      ? {
          renew: async (stuck) => {
            await stuck.disconnect().catch(() => {});
            const fresh = newTxProducer();
            await fresh.connect();
            txProducer = fresh;
            return fresh;
          },
        }
      : {}),
    log: log.child({ component: "producer" }),
  });
  const producer = transactional
    ? new BatchingProducer(rawProducer, {
        lingerMs: 2,
        maxMessages: 1000,
        partitions,
        log: log.child({ component: "producer" }),
      })
    : publishing;
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 8 });
  // An idle client whose server went away emits 'error' on the pool: without a listener that is an uncaught
  // exception, and PostgreSQL stopping took every gateway process down with it (test/faults, postgres-down).
  // The pool replaces the client; the queries in flight fail and are retried or answered 503 as usual.
  pool.on("error", (err) => log.warn({ err }, "PostgreSQL connection lost; the pool reconnects"));
  const maintenance = createMaintenance({
    pool,
    dbSchema: config.dbSchema,
    log: log.child({ component: "maintenance" }),
    retentionMs: config.idempotencyRetentionMs ?? DEFAULT_RETENTION_MS,
  });
  const schemaIds = new SchemaIds(config.registryUrl, config.registryAuth);
  const pseudonymiser = new Pseudonymiser(config.pseudonymKey);
  const auditLog = new AuditLog(schemaIds);
  const common = { catalogue: catalogue.current, producer, schemaIds, auditLog, now };

  const publisher = createPublisher({
    ...common,
    producer: publishing,
    idempotency: (hooks.idempotency ?? ((x) => x))(pgIdempotencyStore(pool, config.dbSchema)),
    owner,
    deliveredToEnd: (topic) => deliveredToEnd(topic as Topic),
    atomicWrites: transactional,
    pseudonymiser,
    log: log.child({ component: "publish" }),
    ...(hooks.onDecision ? { onDecision: hooks.onDecision } : {}),
  });
  /**
   * Whether the delivery group has read `topic` to the end offsets it has now: polled for up to `waitMs`, since
   * under load delivery is a few batches behind. An aborted transaction's records and markers are passed too.
   */
  async function deliveredToEnd(plain: Topic, waitMs = 3_000): Promise<boolean> {
    const topic = canonicalTopic(plain);
    const groupId = laneGroup(laneOf(plain));
    const ends = await metadataAdmin.fetchTopicOffsets(topic);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const [read] = await metadataAdmin.fetchOffsets({ groupId, topics: [topic] });
      const at = new Map((read?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      if (
        ends.every((e) => BigInt(e.high) <= BigInt(e.low) || (at.get(e.partition) ?? -1n) >= BigInt(e.high))
      )
        return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const urgentTopics = config.urgentTopics ?? [];
  const laneOf = (topic: Topic): Lane => (topicMatches(urgentTopics, topic) ? "urgent" : "bulk");
  const laneGroup = (lane: Lane) => `${groups}.${LANES[lane].group}`;
  const deliveryLane = (lane: Lane) =>
    createDelivery({
      ...common,
      // A fetched batch of at most 256 KiB per partition (≈700 canonical events; kafkajs' default is 1 MiB): a
      // fetch round, which every partition waits for, then lasts a fraction of a second even on a backlog.
      consumer: kafka.consumer({
        groupId: laneGroup(lane),
        allowAutoTopicCreation: false,
        maxBytesPerPartition: 256 * 1024,
      }),
      partitionsConcurrently: config.partitionsConcurrently ?? 1,
      pool,
      dbSchema: config.dbSchema,
      pseudonymiser,
      log: log.child({ component: LANES[lane].worker }),
      onFatal: (err) => hooks.onFatal?.(err),
      ...(hooks.onDisclosure ? { onDisclosure: hooks.onDisclosure } : {}),
    });
  const lanes = { bulk: deliveryLane("bulk"), urgent: deliveryLane("urgent") };
  const ingress = createIngress({
    consumer: kafka.consumer({
      groupId: `${groups}.ingress`,
      allowAutoTopicCreation: false,
    }),
    partitionsConcurrently: config.partitionsConcurrently ?? 1,
    producer,
    publisher,
    schemaIds,
    log: log.child({ component: "ingress" }),
    onFatal: (err) => hooks.onFatal?.(err),
  });
  const subscriptions = createSubscriptions({
    ...common,
    // The mailboxes' groups follow the prefix too, so an instance with groups of its own shares no mailbox.
    newConsumer: (groupId) =>
      kafka.consumer({
        groupId: groupId.startsWith(`${GATEWAY}.`) ? `${groups}${groupId.slice(GATEWAY.length)}` : groupId,
        allowAutoTopicCreation: false,
      }),
    log: log.child({ component: "subscriptions" }),
  });
  const admin = kafka.admin();
  const stallMs = config.stallMs ?? 60_000;
  const watches = {
    [LANES.bulk.worker]: new StallWatch(() => admin, laneGroup("bulk"), stallMs),
    [LANES.urgent.worker]: new StallWatch(() => admin, laneGroup("urgent"), stallMs),
    ingress: new StallWatch(() => admin, `${groups}.ingress`, stallMs),
  };
  type Watched = keyof typeof watches;
  const watched: Record<Watched, string[]> = { delivery: [], "delivery-urgent": [], ingress: [] };
  // Lag takes an admin round trip per topic: measured in the background, so /readyz answers within its deadline
  // with the verdict of the last measurement (at most one in flight).
  const stalls: Partial<Record<Watched, string | undefined>> = {};
  let measuring: Promise<void> | undefined;
  const refreshStalls = () => {
    measuring ??= Promise.all(
      (Object.keys(watches) as Watched[]).map(async (name) => {
        stalls[name] = await watches[name].check(watched[name]).catch(() => stalls[name]);
      }),
    )
      .then(() => undefined)
      .finally(() => (measuring = undefined));
  };

  const readiness: Readiness = {
    names: ["kafka", "registry", "workers"],
    async check() {
      const [kafkaOk, registryOk] = await Promise.all([
        admin.describeCluster().then(
          () => true,
          () => false,
        ),
        schemaIds.reachable(),
      ]);
      // A crashed or stalled worker means events no longer flow, whatever the broker answers.
      const reasons: string[] = [];
      const workers = [
        [LANES.bulk.worker, lanes.bulk],
        [LANES.urgent.worker, lanes.urgent],
        ["ingress", ingress],
      ] as const;
      for (const [name, worker] of workers) {
        const crash = worker.crashed();
        if (crash) reasons.push(`${name} worker crashed: ${crash.message}`);
        else if (stalls[name]) reasons.push(stalls[name]);
      }
      if (kafkaOk) refreshStalls();
      return {
        checks: {
          kafka: kafkaOk && workers.every(([, w]) => !w.crashed()),
          registry: registryOk,
          workers: reasons.length === 0,
        },
        ...(reasons.length > 0 ? { reasons } : {}),
      };
    },
  };

  /** The topics the workers read once started: tests start fresh groups at their end offsets. */
  function kafkaTopics() {
    const current = catalogue.current();
    const topics = Object.keys(current.topics) as Topic[];
    const producers = new Set(
      Object.values(current.topics).flatMap(
        (c) => c?.producers.flatMap((p) => partiesMatching(current, p.party).map((x) => x.id)) ?? [],
      ),
    );
    const parties = [...producers]
      .filter((p) => !config.ingressParties || config.ingressParties.includes(p))
      .sort();
    return { topics, parties, canonical: topics.map(canonicalTopic), ingress: parties.map(ingressTopic) };
  }

  return {
    publisher,
    subscriptions,
    readiness,
    catalogue,
    /** The parties' read-only registry window, as the gateway's own registry account. */
    registryView: createRegistryView({
      catalogue: catalogue.current,
      url: config.registryUrl,
      credential: config.registryAuth,
    }),
    admin: () => admin,
    groups: [
      laneGroup("bulk"),
      ...(urgentTopics.length > 0 ? [laneGroup("urgent")] : []),
      `${groups}.ingress`,
    ],
    /** The consumer group that delivers `topic` (its lane's). */
    deliveryGroupOf: (topic: Topic) => laneGroup(laneOf(topic)),
    kafkaTopics,
    async start() {
      // Before anything can be accepted: every audit record is framed with the registered schema's id.
      await auditLog.ready();
      await migrate(pool, config.dbSchema);
      await rawProducer.connect();
      if (txProducer !== rawProducer) await txProducer.connect();
      // The transactional producer's InitProducerId has ended what an earlier process of this instance left open.
      if (transactional && config.instanceId) {
        const fenced = await fenceEarlierIncarnations(pool, config.dbSchema, owner);
        if (fenced > 0)
          log.info({ fenced }, "fenced the unsettled idempotency keys of this instance's last run");
      }
      await admin.connect();
      await metadataAdmin.connect();
      const { topics, parties } = kafkaTopics();
      const workers = config.workers ?? ["delivery", "ingress"];
      for (const p of urgentTopics.filter((p) => !topics.some((t) => topicMatches([p], t))))
        log.warn({ pattern: p }, `GATEWAY_URGENT_TOPICS: ${p} matches no topic in the contracts (a typo?)`);
      const runs = (lane: Lane) => workers.includes("delivery") || workers.includes(LANES[lane].only);
      for (const lane of ["urgent", "bulk"] as const) {
        const mine = topics.filter((t) => laneOf(t) === lane);
        if (!runs(lane) || mine.length === 0) continue;
        const other = lane === "urgent" ? "bulk" : "urgent";
        await adoptOffsets(admin, laneGroup(other), laneGroup(lane), mine.map(canonicalTopic), log);
        await lanes[lane].start(mine);
        watched[LANES[lane].worker] = mine.map(canonicalTopic);
      }
      if (workers.includes("ingress")) {
        await ingress.start(parties);
        watched.ingress = parties.map(ingressTopic);
      }
      catalogue.watch();
      maintenance.start((config.maintenanceSeconds ?? 30) * 1000);
    },
    async stop() {
      catalogue.close();
      // Stop taking work, then flush what was accepted, then close connections.
      await Promise.allSettled([
        ingress.stop(),
        lanes.urgent.stop(),
        lanes.bulk.stop(),
        subscriptions.stop(),
      ]);
      await Promise.all([publishing.drain(), producer.drain(), maintenance.stop()]);
      await Promise.allSettled([
        rawProducer.disconnect(),
        ...(txProducer !== rawProducer ? [txProducer.disconnect()] : []),
        admin.disconnect(),
        metadataAdmin.disconnect(),
        pool.end(),
      ]);
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
