// `npm run bench:audit`: the audit service's ingest rate (audit.log → PostgreSQL, hash-chained, batched multi-row
// inserts) against the real stack, with two baselines measured in the same run, because these machines are noisy:
// the bus alone (consume and decode, no store) and the naive store (one INSERT and commit per record). Bounded:
// a fixed number of records on a topic of its own; it cleans up after itself. Target: ≥ 20,000 records/s.
// First: the kit puts its kafkajs fixes in place (the read_committed filter, the record encoder) before kafkajs loads.
import "@grondslag/kit";
import crypto from "node:crypto";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { acquireStack, databaseUrl, kafkaClient } from "@grondslag/infra";
import {
  AUDIT_RECORD_SCHEMA,
  AUDIT_SUBJECT,
  auditRecord,
  decodeAuditRecord,
  encodeAuditRecord,
  SchemaIds,
} from "@grondslag/kit";
import kafkajs from "kafkajs";
import pg from "pg";
import pino from "pino";
import { generateCheckpointKey } from "../src/checkpoint";
import { contentOf, extend } from "../src/chain";
import { migrate } from "../src/db";
import { createAudit } from "../src/service";

const N = Number(process.env.BENCH_RECORDS ?? 100_000);
const NAIVE = Math.min(N, Number(process.env.BENCH_NAIVE_RECORDS ?? 3_000));
const PARTITIONS = 6;
const TARGET = 20_000;
const log = (line: string) => process.stderr.write(`${line}\n`);
const id = crypto.randomBytes(4).toString("hex");

async function main(): Promise<number> {
  const stack = await acquireStack(log);
  const { config } = stack;
  const topic = `bench-audit-${id}`;
  const schema = `bench_audit_${id}`;
  const writerRole = `${schema}_writer`;
  const ownerUrl = databaseUrl(config.postgres);
  const writer = new URL(ownerUrl);
  writer.username = writerRole;
  const kafka = kafkaClient(config.kafka, undefined, { clientId: "bench-audit" });
  const admin = kafka.admin();
  await admin.connect();
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    const schemaId = await new SchemaIds(config.registry.url, config.registry.gateway).idOf(
      AUDIT_SUBJECT,
      AUDIT_RECORD_SCHEMA,
    );
    log(`  writing ${N} audit records to ${topic} (${PARTITIONS} partitions) …`);
    const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
    await producer.connect();
    const trace = {
      traceId: crypto.randomBytes(16).toString("hex"),
      spanId: crypto.randomBytes(8).toString("hex"),
    };
    for (let i = 0; i < N; i += 5000) {
      const messages = Array.from({ length: Math.min(5000, N - i) }, () => {
        const r = auditRecord({
          action: "DISCLOSE",
          topic: "arbo.accident-reported",
          eventId: crypto.randomUUID(),
          producer: "nla",
          recipient: "uwv",
          grondslag: "arbowet-art9",
          purpose: "arbeidsongevallen-toezicht",
          fields: ["victim.bsn", "accidentDate", "employer.kvk"],
          channel: "delivery",
          trace,
          time: new Date(),
          subjects: [{ type: "bsn", pseudonym: crypto.randomBytes(32).toString("base64url") }],
        });
        return { key: r.eventId, value: encodeAuditRecord(r, schemaId) };
      });
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();

    // Baseline 1: the bus alone: consume and decode every record, store nothing.
    const busMs = await (async () => {
      const consumer = kafka.consumer({
        groupId: `bench-audit-bus-${id}`,
        maxBytesPerPartition: 4 * 1024 * 1024,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      let seen = 0;
      let t0 = 0;
      const ms = await new Promise<number>((resolve) => {
        void consumer.run({
          eachBatch: async ({ batch }) => {
            if (t0 === 0) t0 = performance.now();
            for (const m of batch.messages) decodeAuditRecord(m.value!);
            seen += batch.messages.length;
            if (seen >= N) resolve(performance.now() - t0);
            await Promise.resolve();
          },
        });
      });
      await consumer.disconnect();
      return ms;
    })();

    // Baseline 2: the naive store: one INSERT and one commit per record, chained the same way.
    await migrate(owner, { schema, writerRole });
    const naiveMs = await (async () => {
      const pool = new pg.Pool({ connectionString: writer.toString(), max: 1 });
      const c = await pool.connect();
      let head = { partition: 99, count: 0, hash: "0".repeat(64) };
      const t0 = performance.now();
      for (let i = 0; i < NAIVE; i++) {
        const r = auditRecord({
          action: "COLLECT",
          topic: "arbo.accident-reported",
          eventId: crypto.randomUUID(),
          producer: "nla",
          fields: ["victim.bsn"],
          channel: "http",
          trace,
          time: new Date(),
        });
        const { rows, head: next } = extend(head, [{ content: contentOf(99, r), kafkaOffset: String(i) }]);
        head = next;
        const x = rows[0]!;
        await c.query(
          `INSERT INTO ${schema}.records (partition, seq, kafka_offset, id, time_ms, action, topic, event_id, producer,
             recipient, grondslag, purpose, fields, reason_code, reason_detail, channel, trace_id, span_id, schema_id,
             subjects, prev_hash, hash)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)`,
          [
            x.partition,
            x.seq,
            x.kafkaOffset,
            x.id,
            x.time,
            x.action,
            x.topic,
            x.eventId,
            x.producer,
            x.recipient,
            x.grondslag,
            x.purpose,
            JSON.stringify(x.fields),
            x.reasonCode,
            x.reasonDetail,
            x.channel,
            x.traceId,
            x.spanId,
            x.schemaId,
            JSON.stringify(x.subjects),
            x.prevHash,
            x.hash,
          ],
        );
      }
      const ms = performance.now() - t0;
      c.release();
      await pool.end();
      return ms;
    })();

    // The audit service: its consumer, batches per partition, multi-row inserts, the chains.
    const audit = createAudit(
      {
        brokers: config.kafka.brokers,
        kafkaSasl: {
          mechanism: "plain",
          username: config.kafka.admin.username,
          password: config.kafka.admin.password,
        },
        topic,
        groupId: `bench-audit-store-${id}`,
        databaseUrl: writer.toString(),
        dbSchema: schema,
        writerRole,
        checkpointKey: await generateCheckpointKey(),
        checkpointIntervalMs: 0,
      },
      pino({ level: "warn" }),
    );
    await audit.start();
    // Timed from the first stored batch (the group's join is not ingest) to the last; the first batch's records
    // are not counted either, as its time is not.
    let t0 = 0;
    let first = 0;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const n = audit.stats().inserted;
      if (n > 0 && t0 === 0) {
        t0 = performance.now();
        first = n;
      }
      if (n >= N) break;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${N} records stored within 300 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const serviceMs = performance.now() - t0;
    const report = await audit.verify();
    await audit.stop();

    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const rows = [
      ["baseline: consume + decode, no store", N, busMs],
      ["baseline: one INSERT + commit per record", NAIVE, naiveMs],
      ["audit service: batched, hash-chained", N - first, serviceMs],
    ] as const;
    process.stdout.write("\nAudit ingest (records/s; this machine, this run)\n");
    for (const [name, n, ms] of rows) {
      process.stdout.write(
        `  ${name.padEnd(44)} ${String(n).padStart(7)} records ${(ms / 1000).toFixed(2).padStart(7)} s ${String(rate(n, ms)).padStart(8)} /s\n`,
      );
    }
    const service = rate(N - first, serviceMs);
    // `npm run bench` (the gateway's) folds these figures into its table: BENCH_JSON names the file.
    if (process.env.BENCH_JSON) {
      fs.writeFileSync(
        process.env.BENCH_JSON,
        JSON.stringify({
          rows: [
            { id: "bus", records: N, ms: busMs },
            { id: "naive", records: NAIVE, ms: naiveMs },
            { id: "service", records: N - first, ms: serviceMs },
          ],
          verified: report.ok,
        }),
      );
    }
    process.stdout.write(
      `  service / naive: ${(service / rate(NAIVE, naiveMs)).toFixed(1)}×; service / bus: ${((service / rate(N, busMs)) * 100).toFixed(0)}%; chains verified: ${report.ok} (${report.records} records)\n`,
    );
    process.stdout.write(`  target ≥ ${TARGET} /s: ${service >= TARGET ? "met" : "NOT met"}\n`);
    return service >= TARGET && report.ok ? 0 : 1;
  } finally {
    await owner.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await owner
      .query(`DROP OWNED BY ${writerRole}; DROP ROLE IF EXISTS ${writerRole}`)
      .catch(() => undefined);
    await owner.end();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await stack.release();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:audit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
