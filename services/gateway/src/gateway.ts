import crypto from "node:crypto";
import { partiesMatching } from "@grondslag/contracts";
import { GATEWAY } from "@grondslag/contracts/plan";
import type { Topic } from "@grondslag/schemas";
import { canonicalTopic, ingressTopic } from "@grondslag/wire";
import kafkajs from "kafkajs";
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
  Pseudonymiser,
  SchemaIds,
  StallWatch,
} from "@grondslag/kit";
import { createPublisher } from "./core/publisher";
import { createSubscriptions } from "./core/subscriptions";
import { createRegistryView } from "./http/registry";

const { Partitioners } = kafkajs;

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
  /** Which Kafka workers this instance runs (default both): they scale separately by partitions. */
  workers?: readonly ("delivery" | "ingress")[];
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
}

export interface GatewayHooks {
  /** A Kafka worker stopped for good (kafkajs will not restart it): the process should exit and be restarted. */
  onFatal?: (err: Error) => void;
  onDecision?: (d: { topic: string; outcome: string; grondslag: string; purpose: string }) => void;
  onDisclosure?: (d: { topic: string; recipient: string; grondslag: string }) => void;
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
      createPartitioner: Partitioners.DefaultPartitioner,
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
    ? kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
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
  const schemaIds = new SchemaIds(config.registryUrl, config.registryAuth);
  const pseudonymiser = new Pseudonymiser(config.pseudonymKey);
  const auditLog = new AuditLog(schemaIds);
  const common = { catalogue: catalogue.current, producer, schemaIds, auditLog, now };

  const publisher = createPublisher({
    ...common,
    producer: publishing,
    idempotency: (hooks.idempotency ?? ((x) => x))(pgIdempotencyStore(pool, config.dbSchema)),
    owner,
    deliveredToEnd: (topic) => deliveredToEnd(canonicalTopic(topic)),
    atomicWrites: transactional,
    pseudonymiser,
    log: log.child({ component: "publish" }),
    ...(hooks.onDecision ? { onDecision: hooks.onDecision } : {}),
  });
  /**
   * Whether the delivery group has read `topic` to the end offsets it has now: polled for up to `waitMs`, since
   * under load delivery is a few batches behind. An aborted transaction's records and markers are passed too.
   */
  async function deliveredToEnd(topic: string, waitMs = 3_000): Promise<boolean> {
    const ends = await metadataAdmin.fetchTopicOffsets(topic);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const [read] = await metadataAdmin.fetchOffsets({ groupId: `${groups}.deliver`, topics: [topic] });
      const at = new Map((read?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      if (
        ends.every((e) => BigInt(e.high) <= BigInt(e.low) || (at.get(e.partition) ?? -1n) >= BigInt(e.high))
      )
        return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const delivery = createDelivery({
    ...common,
    // A fetched batch of at most 256 KiB per partition (≈700 canonical events; kafkajs' default is 1 MiB): a
    // fetch round, which every partition waits for, then lasts a fraction of a second even on a backlog.
    consumer: kafka.consumer({
      groupId: `${groups}.deliver`,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 256 * 1024,
    }),
    partitionsConcurrently: config.partitionsConcurrently ?? 1,
    pool,
    dbSchema: config.dbSchema,
    pseudonymiser,
    log: log.child({ component: "delivery" }),
    onFatal: (err) => hooks.onFatal?.(err),
    ...(hooks.onDisclosure ? { onDisclosure: hooks.onDisclosure } : {}),
  });
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
    delivery: new StallWatch(() => admin, `${groups}.deliver`, stallMs),
    ingress: new StallWatch(() => admin, `${groups}.ingress`, stallMs),
  };
  const watched: { delivery: string[]; ingress: string[] } = { delivery: [], ingress: [] };
  // Lag takes an admin round trip per topic: measured in the background, so /readyz answers within its deadline
  // with the verdict of the last measurement (at most one in flight).
  const stalls: { delivery?: string | undefined; ingress?: string | undefined } = {};
  let measuring: Promise<void> | undefined;
  const refreshStalls = () => {
    measuring ??= Promise.all(
      (["delivery", "ingress"] as const).map(async (name) => {
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
      for (const [name, worker] of [
        ["delivery", delivery],
        ["ingress", ingress],
      ] as const) {
        const crash = worker.crashed();
        if (crash) reasons.push(`${name} worker crashed: ${crash.message}`);
        else if (stalls[name]) reasons.push(stalls[name]);
      }
      if (kafkaOk) refreshStalls();
      return {
        checks: {
          kafka: kafkaOk && !delivery.crashed() && !ingress.crashed(),
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
    groups: [`${groups}.deliver`, `${groups}.ingress`],
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
      if (workers.includes("delivery")) {
        await delivery.start(topics);
        watched.delivery = topics.map(canonicalTopic);
      }
      if (workers.includes("ingress")) {
        await ingress.start(parties);
        watched.ingress = parties.map(ingressTopic);
      }
      catalogue.watch();
    },
    async stop() {
      catalogue.close();
      // Stop taking work, then flush what was accepted, then close connections.
      await Promise.allSettled([ingress.stop(), delivery.stop(), subscriptions.stop()]);
      await Promise.all([publishing.drain(), producer.drain()]);
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
