import crypto from "node:crypto";
import { databaseUrl, type StackConfig } from "@grondslag/infra";
import { testKafka, uniqueDbSchema, uniqueName } from "@grondslag/infra/test";
import {
  AUDIT_RECORD_SCHEMA,
  AUDIT_SUBJECT,
  auditRecord,
  encodeAuditRecord,
  SchemaIds,
  type AuditRecord,
} from "@grondslag/kit";
import kafkajs from "kafkajs";
import pg from "pg";
import { generateCheckpointKey } from "./checkpoint";
import type { AuditConfig } from "./service";

/** For specs: an audit service of its own (topic, group, database schema and writer role) on the test stack. */
export async function isolatedAudit(stack: StackConfig, partitions = 3) {
  const topic = uniqueName("audit-spec");
  const schema = uniqueDbSchema("audit");
  const writerRole = `${schema}_writer`;
  const admin = testKafka(stack).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const ownerUrl = databaseUrl(stack.postgres);
  const writer = new URL(ownerUrl);
  writer.username = writerRole;
  const config: AuditConfig = {
    brokers: stack.kafka.brokers,
    kafkaSasl: {
      mechanism: "plain",
      username: stack.kafka.admin.username,
      password: stack.kafka.admin.password,
    },
    topic,
    groupId: uniqueName("grondslag.audit.spec"),
    databaseUrl: writer.toString(),
    migrateDatabaseUrl: ownerUrl,
    dbSchema: schema,
    writerRole,
    checkpointKey: await generateCheckpointKey(),
    checkpointIntervalMs: 0,
  };
  const schemaId = await new SchemaIds(stack.registry.url, stack.registry.gateway).idOf(
    AUDIT_SUBJECT,
    AUDIT_RECORD_SCHEMA,
  );
  const producer = testKafka(stack).producer({
    allowAutoTopicCreation: false,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return {
    topic,
    config,
    ownerUrl,
    async send(records: AuditRecord[]) {
      await producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({ key: r.eventId, value: encodeAuditRecord(r, schemaId) })),
      });
    },
    async sendRaw(value: Buffer) {
      await producer.send({ topic, acks: -1, messages: [{ key: "raw", value }] });
    },
    async owner<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
      const c = new pg.Client({ connectionString: ownerUrl });
      await c.connect();
      try {
        return await fn(c);
      } finally {
        await c.end();
      }
    },
    async cleanup() {
      await producer.disconnect();
      const c = new pg.Client({ connectionString: ownerUrl });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.query(`DROP OWNED BY ${writerRole}; DROP ROLE IF EXISTS ${writerRole}`);
      } finally {
        await c.end();
      }
      const a = testKafka(stack).admin();
      await a.connect();
      await a.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await a.disconnect();
    },
  };
}

/** A COLLECT and a DISCLOSE for one fresh event, as the gateway writes them. */
export function eventRecords(opts: { bsnPseudonym?: string; topic?: string } = {}): AuditRecord[] {
  const eventId = crypto.randomUUID();
  const trace = {
    traceId: crypto.randomBytes(16).toString("hex"),
    spanId: crypto.randomBytes(8).toString("hex"),
  };
  const subjects = opts.bsnPseudonym ? [{ type: "bsn" as const, pseudonym: opts.bsnPseudonym }] : [];
  const topic = opts.topic ?? "arbo.accident-reported";
  return [
    auditRecord({
      action: "COLLECT",
      topic,
      eventId,
      producer: "nla",
      grondslag: "arbowet-art9",
      purpose: "arbeidsongevallen-toezicht",
      fields: ["bsn", "kvk"],
      channel: "http",
      trace,
      time: new Date(),
      subjects,
    }),
    auditRecord({
      action: "DISCLOSE",
      topic,
      eventId,
      producer: "nla",
      recipient: "uwv",
      grondslag: "arbowet-art9",
      purpose: "arbeidsongevallen-toezicht",
      fields: ["bsn"],
      channel: "delivery",
      trace: { ...trace, spanId: crypto.randomBytes(8).toString("hex") },
      time: new Date(),
      subjects,
    }),
  ];
}
