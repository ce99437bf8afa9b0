import { AUDIT_TOPIC, batchWorker, createKafka, decodeAuditRecord, type WorkBatch } from "@grondslag/kit";
import type { JWK } from "jose";
import type { SASLOptions } from "kafkajs";
import pg from "pg";
import type { Logger } from "pino";
import { contentOf, extend, type ChainContent } from "./chain";
import { checkpointSigner, type CheckpointSigner } from "./checkpoint";
import { AuditStore, isRecordFault, migrate } from "./db";
import { verifyChains, type VerifyReport } from "./verify";

export interface AuditConfig {
  brokers: string[];
  /** The audit principal's SCRAM account (`grondslag.audit`). */
  kafkaSasl: SASLOptions;
  /** The topic to store (`audit.log`; specs use their own). */
  topic?: string;
  groupId: string;
  /** The writer role's connection: INSERT and SELECT only. */
  databaseUrl: string;
  /** The owner's connection, to migrate at start; omitted when the schema is migrated elsewhere. */
  migrateDatabaseUrl?: string | undefined;
  dbSchema: string;
  writerRole: string;
  checkpointKey: JWK;
  /** Checkpoint interval; 0 = only on demand. */
  checkpointIntervalMs: number;
}

export interface AuditService {
  store: AuditStore;
  signer: CheckpointSigner;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Signs a checkpoint over the current heads, if any changed since the last one. */
  checkpoint(): Promise<{ jws: string; total: number } | undefined>;
  verify(): Promise<VerifyReport>;
  /** Records stored, as a readiness and progress figure. */
  stats(): { inserted: number; skipped: number; unreadable: number; storeFailures: number };
  crashed(): Error | undefined;
}

/**
 * The audit service's core: `audit.log` into PostgreSQL, hash-chained per partition; signed checkpoints. Ingest
 * is at-least-once (offsets committed after the rows) and idempotent by record id, so a redelivery is stored once
 * and a PostgreSQL outage only holds the partition until the database is back (the kit's batch worker retries).
 */
export function createAudit(
  config: AuditConfig,
  log: Logger,
  hooks: { onFatal?: (err: Error) => void } = {},
): AuditService {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 8 });
  pool.on("error", (err) => log.warn({ err }, "PostgreSQL connection lost; the pool reconnects"));
  const store = new AuditStore(pool, { schema: config.dbSchema });
  const topic = config.topic ?? AUDIT_TOPIC;
  const kafka = createKafka({
    clientId: "grondslag-audit",
    brokers: config.brokers,
    sasl: config.kafkaSasl,
    log,
  });
  const consumer = kafka.consumer({
    groupId: config.groupId,
    readUncommitted: false,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  const counts = { inserted: 0, skipped: 0, unreadable: 0, storeFailures: 0 };
  let signer: CheckpointSigner | undefined;
  let lastSigned = "";
  let timer: NodeJS.Timeout | undefined;

  async function handle(batch: WorkBatch): Promise<void> {
    const records: (ChainContent & { kafkaOffset: string })[] = [];
    for (const m of batch.messages) {
      // A value that is no audit record throws here: the worker isolates it and sets it aside (`poison`).
      const r = decodeAuditRecord(m.value ?? Buffer.alloc(0));
      records.push({ ...contentOf(batch.partition, r), kafkaOffset: m.offset });
    }
    const result = await store
      .append(
        batch.partition,
        records,
        (head, fresh) =>
          extend(
            head,
            fresh.map(({ kafkaOffset, ...content }) => ({ content, kafkaOffset })),
          ).rows,
      )
      .catch((err: unknown) => {
        counts.storeFailures += 1;
        throw err;
      });
    counts.inserted += result.inserted;
    counts.skipped += result.skipped;
  }

  const worker = batchWorker({
    consumer,
    handle,
    poison: async (batch, m, err) => {
      counts.unreadable += 1;
      const why = err instanceof Error ? err.message : String(err);
      await store.unreadable(
        batch.partition,
        m.offset,
        isRecordFault(err) || isRecordFault((err as { cause?: unknown }).cause)
          ? `not storable: ${why}`
          : `not an audit record: ${why}`,
        m.value,
      );
    },
    log,
    onFatal: hooks.onFatal,
    backoff: { minMs: 100, maxMs: 2_000 },
    // Chains are per partition: partitions are stored side by side, each in order.
    partitionsConcurrently: 6,
  });

  async function checkpoint() {
    const heads = await store.heads();
    const key = JSON.stringify(heads);
    if (key === lastSigned || heads.length === 0) return undefined;
    const { jws, payload } = await signer!.sign(heads, new Date());
    await store.addCheckpoint(payload.total, jws);
    lastSigned = key;
    return { jws, total: payload.total };
  }

  const service: AuditService = {
    store,
    get signer() {
      if (!signer) throw new Error("the audit service has not started");
      return signer;
    },
    async start() {
      signer = await checkpointSigner(config.checkpointKey);
      if (config.migrateDatabaseUrl) {
        const owner = new pg.Client({ connectionString: config.migrateDatabaseUrl });
        await owner.connect();
        try {
          await migrate(owner, { schema: config.dbSchema, writerRole: config.writerRole });
        } finally {
          await owner.end();
        }
      }
      await worker.start([topic]);
      if (config.checkpointIntervalMs > 0) {
        timer = setInterval(() => {
          checkpoint().catch((err: unknown) =>
            log.warn({ err }, "checkpoint failed; the next interval retries"),
          );
        }, config.checkpointIntervalMs);
        timer.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      await worker.stop();
      await checkpoint().catch((err: unknown) => log.warn({ err }, "the final checkpoint failed"));
      await pool.end();
    },
    checkpoint,
    verify: () =>
      verifyChains(
        {
          partitions: () => store.partitions(),
          rows: (p) => store.partitionRows(p),
          checkpoints: () => store.checkpoints(1_000_000),
        },
        signer?.publicJwk,
      ),
    stats: () => ({ ...counts }),
    crashed: () => worker.crashed(),
  };
  return service;
}
