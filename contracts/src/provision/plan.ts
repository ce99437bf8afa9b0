import { rawSchema, recordSchemas, type AvroRecordSchema } from "@grondslag/schemas";
import {
  AUDIT_TOPIC,
  CANONICAL_PREFIX,
  DELIVERY_PREFIX,
  INGRESS_PREFIX,
  REJECTED_PREFIX,
  canonicalTopic,
  deadLetterTopic,
  deliveryTopic,
  ingressTopic,
  rejectedTopic,
  subjectOf,
} from "@grondslag/wire";
import { isInForce, partiesMatching } from "../match";
import { retentionMs, type Catalogue } from "../model";
import { projectSchema } from "../projection";

/**
 * The state of Kafka and the registry that the contracts imply, derived from them alone. Nothing here talks to
 * a broker: `@grondslag/provision` diffs this against what is there and applies the difference.
 */

/** Service principals: only these touch canonical topics and the audit log. */
export const GATEWAY = "grondslag.gateway";
export const AUDIT_SERVICE = "grondslag.audit";

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Configs we own on the topic; others are left alone. */
  config: Record<string, string>;
}

export type AclOperation = "READ" | "WRITE";
export interface AclSpec {
  principal: string;
  resourceType: "TOPIC" | "GROUP" | "TRANSACTIONAL_ID";
  patternType: "LITERAL" | "PREFIXED";
  resource: string;
  operation: AclOperation;
}

export interface SubjectSpec {
  subject: string;
  schema: AvroRecordSchema;
}

/** A client quota on a party's principal, in bytes per second per broker (Kafka throttles, it does not refuse). */
export interface QuotaSpec {
  user: string;
  key: "producer_byte_rate" | "consumer_byte_rate";
  value: number;
}

export interface DesiredState {
  topics: TopicSpec[];
  /** Per-party quotas; services (gateway, audit) have none: throttling them would throttle every party. */
  quotas: QuotaSpec[];
  acls: AclSpec[];
  /** SCRAM users: every party named by a contract (patterns expanded), and the services. */
  users: string[];
  subjects: SubjectSpec[];
}

export interface PartyQuota {
  /** What a party may write per second per broker (its ingress topic). */
  producerByteRate: number;
  /** What a party may read per second per broker (its deliveries); undefined sets none. */
  consumerByteRate?: number | undefined;
}

export interface PlanOptions {
  partitions: { events: number; deliver: number; ingress: number; rejected: number; audit: number };
  /** Every party's quota, unless `quotaOverrides` names it. */
  quota: PartyQuota;
  quotaOverrides: Record<string, PartyQuota>;
  /**
   * retention.bytes of each ingress partition: a party flooding its ingress topic (faster than the gateway drains
   * it, or while the gateway is down) fills this much disk per partition, not the broker's. Kafka applies it per
   * partition, so a topic holds up to partitions × this.
   */
  ingressRetentionBytes: number;
}

const MiB = 1024 * 1024;

export const defaultPlanOptions: PlanOptions = {
  partitions: { events: 6, deliver: 3, ingress: 3, rejected: 1, audit: 6 },
  // 1 MiB/s is ≈ 1000 events/s of the largest schema (a workplace accident, ≈1 KiB Avro): far above any
  // party's real rate, low enough that one party cannot saturate the broker's disk or network for the others.
  quota: { producerByteRate: 1 * MiB, consumerByteRate: 4 * MiB },
  quotaOverrides: {},
  // 256 MiB × 3 partitions per party: a week of 1 KiB events at ≈1.3 events/s, or an outage's backlog.
  ingressRetentionBytes: 256 * MiB,
};

const DAY = 86_400_000;

/** Topics whose names provisioning owns (it creates and configures them; it never deletes one). */
const managedTopicPrefixes = [CANONICAL_PREFIX, DELIVERY_PREFIX, INGRESS_PREFIX, REJECTED_PREFIX] as const;
export const isManagedTopic = (name: string) =>
  name === AUDIT_TOPIC || managedTopicPrefixes.some((p) => name.startsWith(p));

/**
 * The desired state at `at`. Topics, users and subjects follow every entry, whatever its window (a topic is never
 * deleted, a user keeps its password across a gap); ACLs follow only the entries in force at `at` (their own
 * window and their legal basis's), so applying after an entry expires revokes what it granted. Run
 * `contracts:apply` when an entry starts or ends: Kafka has no notion of a validity window.
 */
export function desiredState(
  catalogue: Catalogue,
  opts: PlanOptions = defaultPlanOptions,
  at: Date = new Date(),
): DesiredState {
  const topics = new Map<string, TopicSpec>();
  const acls: AclSpec[] = [];
  const users = new Set<string>([GATEWAY, AUDIT_SERVICE]);
  // The audit record's one schema: every writer frames audit.log records with this subject's id.
  const subjects: SubjectSpec[] = [
    { subject: subjectOf(AUDIT_TOPIC), schema: recordSchemas["audit-record"] },
  ];
  const addTopic = (
    name: string,
    partitions: number,
    retention: number,
    extra: Record<string, string> = {},
  ) => {
    if (!topics.has(name)) {
      topics.set(name, {
        name,
        partitions,
        config: { "retention.ms": String(retention), "cleanup.policy": "delete", ...extra },
      });
    }
  };
  const allow = (
    principal: string,
    resourceType: AclSpec["resourceType"],
    resource: string,
    operation: AclOperation,
  ) =>
    acls.push({
      principal: `User:${principal}`,
      resourceType,
      patternType: resourceType === "GROUP" ? "PREFIXED" : "LITERAL",
      resource,
      operation,
    });

  /** Parties with a producer entry in force at `at`: only they may write their ingress topic. */
  const producingNow = new Set<string>();
  for (const contract of Object.values(catalogue.topics)) {
    if (!contract) continue;
    const topic = contract.topic;
    const retention = retentionMs(contract.retention);
    const writer = rawSchema(topic);
    addTopic(canonicalTopic(topic), opts.partitions.events, retention);
    subjects.push({ subject: subjectOf(canonicalTopic(topic)), schema: writer });

    for (const producer of contract.producers) {
      const inForce = isInForce(catalogue, producer, at);
      for (const party of partiesMatching(catalogue, producer.party)) {
        users.add(party.id);
        if (inForce) producingNow.add(party.id);
        // Ingress is a hand-over, not a store: the gateway consumes it at once; a week covers an outage.
        addTopic(ingressTopic(party.id), opts.partitions.ingress, 7 * DAY, {
          "retention.bytes": String(opts.ingressRetentionBytes),
        });
        addTopic(rejectedTopic(party.id), opts.partitions.rejected, 30 * DAY);
      }
    }
    const readers = new Set<string>();
    for (const consumer of contract.consumers) {
      const inForce = isInForce(catalogue, consumer, at);
      for (const party of partiesMatching(catalogue, consumer.party)) {
        users.add(party.id);
        const name = deliveryTopic(party.id, topic);
        if (!topics.has(name)) {
          addTopic(name, opts.partitions.deliver, retention);
          subjects.push({ subject: subjectOf(name), schema: projectSchema(writer, consumer.fields) });
        }
        // One READ per party and topic, from whichever of its (non-overlapping) entries is in force.
        if (inForce && !readers.has(party.id)) {
          readers.add(party.id);
          allow(party.id, "TOPIC", name, "READ");
        }
      }
    }
  }

  for (const user of users) {
    if (user === GATEWAY || user === AUDIT_SERVICE) continue;
    // The party's own service parks what it could not handle here, with the reason, and replays it once the cause
    // is fixed: only the party reads or writes it (its data, as delivered to it), kept for a month like refusals.
    addTopic(deadLetterTopic(user), opts.partitions.rejected, 30 * DAY);
    allow(user, "TOPIC", deadLetterTopic(user), "READ");
    allow(user, "TOPIC", deadLetterTopic(user), "WRITE");
    if (topics.has(ingressTopic(user))) {
      if (producingNow.has(user)) allow(user, "TOPIC", ingressTopic(user), "WRITE");
      // A former producer may still read the refusals of what it sent: they hold only its own records.
      allow(user, "TOPIC", rejectedTopic(user), "READ");
    }
    // A party's consumer groups are named `<party>.<anything>`.
    allow(user, "GROUP", `${user}.`, "READ");
  }

  // Audit records are the evidence: kept on Kafka until the audit service's store is the record of truth, and
  // never deleted by age (the PostgreSQL store has its own retention rules).
  addTopic(AUDIT_TOPIC, opts.partitions.audit, -1);

  const prefixed = (principal: string, resource: string, operation: AclOperation): AclSpec => ({
    principal: `User:${principal}`,
    resourceType: "TOPIC",
    patternType: "PREFIXED",
    resource,
    operation,
  });
  acls.push(
    prefixed(GATEWAY, INGRESS_PREFIX, "READ"),
    prefixed(GATEWAY, CANONICAL_PREFIX, "READ"),
    prefixed(GATEWAY, CANONICAL_PREFIX, "WRITE"),
    prefixed(GATEWAY, DELIVERY_PREFIX, "READ"),
    prefixed(GATEWAY, DELIVERY_PREFIX, "WRITE"),
    prefixed(GATEWAY, REJECTED_PREFIX, "WRITE"),
    {
      principal: `User:${GATEWAY}`,
      resourceType: "TOPIC",
      patternType: "LITERAL",
      resource: AUDIT_TOPIC,
      operation: "WRITE",
    },
    {
      principal: `User:${GATEWAY}`,
      resourceType: "GROUP",
      patternType: "PREFIXED",
      resource: `${GATEWAY}.`,
      operation: "READ",
    },
    // Each gateway instance writes in transactions under an id of its own, `grondslag.gateway.<…>.tx.<uuid>`.
    {
      principal: `User:${GATEWAY}`,
      resourceType: "TRANSACTIONAL_ID",
      patternType: "PREFIXED",
      resource: `${GATEWAY}.`,
      operation: "WRITE",
    },
    {
      principal: `User:${AUDIT_SERVICE}`,
      resourceType: "TOPIC",
      patternType: "LITERAL",
      resource: AUDIT_TOPIC,
      operation: "READ",
    },
    {
      principal: `User:${AUDIT_SERVICE}`,
      resourceType: "GROUP",
      patternType: "PREFIXED",
      resource: `${AUDIT_SERVICE}.`,
      operation: "READ",
    },
  );

  const quotas: QuotaSpec[] = [];
  for (const user of users) {
    if (user === GATEWAY || user === AUDIT_SERVICE) continue;
    const q = opts.quotaOverrides[user] ?? opts.quota;
    quotas.push({ user, key: "producer_byte_rate", value: q.producerByteRate });
    if (q.consumerByteRate !== undefined)
      quotas.push({ user, key: "consumer_byte_rate", value: q.consumerByteRate });
  }

  return {
    topics: [...topics.values()].sort((a, b) => a.name.localeCompare(b.name)),
    quotas: quotas.sort((a, b) => `${a.user} ${a.key}`.localeCompare(`${b.user} ${b.key}`)),
    acls: acls.sort((a, b) => aclKey(a).localeCompare(aclKey(b))),
    users: [...users].sort(),
    subjects: subjects.sort((a, b) => a.subject.localeCompare(b.subject)),
  };
}

export function aclKey(a: AclSpec): string {
  return `${a.principal} ${a.operation} ${a.resourceType}:${a.patternType}:${a.resource}`;
}
