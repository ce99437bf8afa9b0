import { partiesMatching } from "@grondslag/contracts";
import { GATEWAY } from "@grondslag/contracts/provision";
import type { Topic } from "@grondslag/schemas";
import kafkajs from "kafkajs";
import type { Logger } from "pino";
import pg from "pg";
import type { Readiness } from "./ports";
import { Pseudonymiser } from "./core/audit";
import { CatalogueHolder } from "./core/catalogue";
import { migrate } from "./core/db";
import { createDelivery } from "./core/delivery";
import { createIngress } from "./core/ingress";
import { BatchingProducer, createKafka } from "./core/kafka";
import { createPublisher } from "./core/publisher";
import { SchemaIds } from "./core/schema-ids";
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
  /** Which Kafka workers this instance runs (default both): they scale separately by partitions. */
  workers?: readonly ("delivery" | "ingress")[];
}

export interface GatewayHooks {
  /** A Kafka worker stopped for good (kafkajs will not restart it): the process should exit and be restarted. */
  onFatal?: (err: Error) => void;
  onDecision?: (d: { topic: string; outcome: string; grondslag: string; purpose: string }) => void;
  onDisclosure?: (d: { topic: string; recipient: string; grondslag: string }) => void;
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
  const rawProducer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const producer = new BatchingProducer(rawProducer, { lingerMs: 2, maxMessages: 1000 });
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 8 });
  const schemaIds = new SchemaIds(config.registryUrl, config.registryAuth);
  const pseudonymiser = new Pseudonymiser(config.pseudonymKey);
  const common = { catalogue: catalogue.current, producer, schemaIds, now };

  const publisher = createPublisher({
    ...common,
    pool,
    dbSchema: config.dbSchema,
    pseudonymiser,
    log: log.child({ component: "publish" }),
    ...(hooks.onDecision ? { onDecision: hooks.onDecision } : {}),
  });
  const delivery = createDelivery({
    ...common,
    consumer: kafka.consumer({ groupId: `${groups}.deliver`, allowAutoTopicCreation: false }),
    pool,
    dbSchema: config.dbSchema,
    pseudonymiser,
    log: log.child({ component: "delivery" }),
    onFatal: (err) => hooks.onFatal?.(err),
    ...(hooks.onDisclosure ? { onDisclosure: hooks.onDisclosure } : {}),
  });
  const ingress = createIngress({
    consumer: kafka.consumer({ groupId: `${groups}.ingress`, allowAutoTopicCreation: false }),
    producer,
    publisher,
    schemaIds,
    log: log.child({ component: "ingress" }),
    onFatal: (err) => hooks.onFatal?.(err),
  });
  const subscriptions = createSubscriptions({
    ...common,
    newConsumer: (groupId) => kafka.consumer({ groupId, allowAutoTopicCreation: false }),
    log: log.child({ component: "subscriptions" }),
  });
  const admin = kafka.admin();

  const readiness: Readiness = {
    async check() {
      const [kafkaOk, registryOk] = await Promise.all([
        admin.describeCluster().then(
          () => true,
          () => false,
        ),
        schemaIds.reachable(),
      ]);
      // A crashed worker means events no longer flow, whatever the broker answers.
      return { kafka: kafkaOk && !delivery.crashed() && !ingress.crashed(), registry: registryOk };
    },
  };

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
    async start() {
      await migrate(pool, config.dbSchema);
      await rawProducer.connect();
      await admin.connect();
      const current = catalogue.current();
      const topics = Object.keys(current.topics) as Topic[];
      const producers = new Set(
        Object.values(current.topics).flatMap(
          (c) => c?.producers.flatMap((p) => partiesMatching(current, p.party).map((x) => x.id)) ?? [],
        ),
      );
      const workers = config.workers ?? ["delivery", "ingress"];
      if (workers.includes("delivery")) await delivery.start(topics);
      if (workers.includes("ingress")) await ingress.start([...producers].sort());
      catalogue.watch();
    },
    async stop() {
      catalogue.close();
      // Stop taking work, then flush what was accepted, then close connections.
      await Promise.allSettled([ingress.stop(), delivery.stop(), subscriptions.stop()]);
      await producer.drain();
      await Promise.allSettled([rawProducer.disconnect(), admin.disconnect(), pool.end()]);
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
