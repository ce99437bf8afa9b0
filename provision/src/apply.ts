import {
  alterUserQuotas,
  basicAuth,
  deleteScramUsers,
  describeUserQuotas,
  kafkaClient,
  listScramUsers,
  upsertScramUsers,
  type StackConfig,
} from "@grondslag/infra";
import kafkajs, { type Admin } from "kafkajs";
import type { Catalogue } from "@grondslag/contracts";
import { CredentialsStore } from "./credentials";
import { desiredReplication, replicationPlan, type Replication, type ReplicationDrift } from "./replication";
import {
  aclKey,
  defaultPlanOptions,
  desiredState,
  isManagedTopic,
  type AclSpec,
  type DesiredState,
  type PlanOptions,
  type TopicSpec,
} from "@grondslag/contracts/plan";

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export interface Change {
  op: "+" | "-" | "~";
  kind: "topic" | "partitions" | "topic-config" | "user" | "acl" | "quota" | "subject" | "compatibility";
  what: string;
}

export interface ApplyResult {
  changes: Change[];
  /** Topics with a managed prefix that no contract names any more: kept (deleting loses data), reported. */
  orphanTopics: string[];
  /** Existing topics stored fewer times than the cluster allows: not changed (that moves data), reported with the fix. */
  drift: ReplicationDrift[];
  /** The replication every topic gets, from the cluster's size. */
  replication: Replication & { brokers: number };
  desired: DesiredState;
}

export interface ApplyOptions {
  dryRun: boolean;
  credentialsFile: string;
  progress?: (line: string) => void;
  /** The instant whose entries are in force (default now): ACLs of expired entries are removed. */
  at?: Date;
  /** Partitions, quotas and ingress retention.bytes; default `defaultPlanOptions`. */
  plan?: PlanOptions;
}

const resourceTypeName: Record<number, AclSpec["resourceType"] | undefined> = {
  [AclResourceTypes.TOPIC]: "TOPIC",
  [AclResourceTypes.GROUP]: "GROUP",
  [AclResourceTypes.TRANSACTIONAL_ID]: "TRANSACTIONAL_ID",
};
const patternName: Record<number, AclSpec["patternType"] | undefined> = {
  [ResourcePatternTypes.LITERAL]: "LITERAL",
  [ResourcePatternTypes.PREFIXED]: "PREFIXED",
};
const operationName: Record<number, AclSpec["operation"] | undefined> = {
  [AclOperationTypes.READ]: "READ",
  [AclOperationTypes.WRITE]: "WRITE",
};

function toKafkaAcl(a: AclSpec) {
  return {
    resourceType: AclResourceTypes[a.resourceType],
    resourceName: a.resource,
    resourcePatternType:
      a.patternType === "LITERAL" ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
    principal: a.principal,
    host: "*",
    operation: a.operation === "READ" ? AclOperationTypes.READ : AclOperationTypes.WRITE,
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** Every ALLOW ACL on the cluster, in our shape; ones we never derive (other operations, DENY) keep a raw key. */
export async function describeAllAcls(admin: Admin): Promise<(AclSpec & { foreign?: boolean })[]> {
  const { resources } = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    host: "*",
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  return resources.flatMap((r) =>
    r.acls.map((a) => {
      const resourceType = resourceTypeName[r.resourceType];
      const patternType = patternName[r.resourcePatternType];
      const operation = operationName[a.operation];
      const foreign =
        !resourceType || !patternType || !operation || a.permissionType !== AclPermissionTypes.ALLOW;
      return {
        principal: a.principal,
        resourceType: resourceType ?? "TOPIC",
        patternType: patternType ?? "LITERAL",
        resource: r.resourceName,
        operation: operation ?? "READ",
        ...(foreign ? { foreign } : {}),
      };
    }),
  );
}

/** The topic with the min.insync.replicas it gets on this cluster (a topic config provisioning owns). */
function withMinInsync(t: TopicSpec, minInsync: number): TopicSpec {
  return { ...t, config: { ...t.config, "min.insync.replicas": String(minInsync) } };
}

async function registry(
  reg: StackConfig["registry"],
  path: string,
  init?: { method: string; body: unknown },
) {
  const res = await fetch(`${reg.url}${path}`, {
    method: init?.method ?? "GET",
    // Provisioning is the registry's only writer: its admin account (the registry refuses anonymous callers).
    headers: {
      "content-type": "application/vnd.schemaregistry.v1+json",
      authorization: basicAuth(reg.admin),
    },
    ...(init ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/**
 * Makes Kafka and the registry match the contracts: creates missing topics and updates their retention; creates,
 * keeps or deletes SCRAM users; adds missing ACLs and removes managed ones no contract derives any more; registers
 * canonical and projected schemas with BACKWARD compatibility. With `dryRun` it only reports. Idempotent.
 */
export async function applyContracts(
  catalogue: Catalogue,
  stack: StackConfig,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  const progress = opts.progress ?? (() => {});
  const desired = desiredState(catalogue, opts.plan ?? defaultPlanOptions, opts.at ?? new Date());
  const changes: Change[] = [];
  const note = (c: Change) => {
    changes.push(c);
    progress(`${opts.dryRun ? "would " : ""}${c.op} ${c.kind} ${c.what}`);
  };
  const admin = kafkaClient(stack.kafka, undefined, { clientId: "grondslag-provision" }).admin();
  await admin.connect();
  try {
    // Replication from the cluster's size: the brokers it has registered, or the ones the stack lists when one of
    // them is down right now (a topic created then must still get all its replicas, or fail loudly).
    const cluster = await admin.describeCluster();
    const brokers = Math.max(cluster.brokers.length, stack.kafka.brokers.length);
    const replication = desiredReplication(brokers);
    const drift: ReplicationDrift[] = [];

    // Topics.
    const existing = new Set(await admin.listTopics());
    const missing = desired.topics
      .filter((t) => !existing.has(t.name))
      .map((t) => withMinInsync(t, replication.minInsync));
    for (const t of missing)
      note({
        op: "+",
        kind: "topic",
        what: `${t.name} (${t.partitions} partitions, replication ${replication.replicationFactor}, min.insync.replicas=${replication.minInsync}, retention.ms=${t.config["retention.ms"]}${
          t.config["retention.bytes"] === undefined ? "" : `, retention.bytes=${t.config["retention.bytes"]}`
        })`,
      });
    if (!opts.dryRun && missing.length > 0) {
      await admin.createTopics({
        // kafkajs' own wait retries only LEADER_NOT_AVAILABLE: on a fresh cluster of three, a node that has not
        // learnt of the new topics yet answers UNKNOWN_TOPIC_OR_PARTITION, and the whole apply failed (CI, the
        // fault suite's private cluster). Waited for below instead.
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: replication.replicationFactor,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
      await leadersOf(
        admin,
        missing.map((t) => t.name),
      );
    }
    const presentPlain = desired.topics.filter((t) => existing.has(t.name));
    if (presentPlain.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: presentPlain.map((t) => t.name) });
      const actualReplication = new Map(
        meta.topics.map((m) => [m.name, Math.min(...m.partitions.map((p) => p.replicas.length))]),
      );
      const plan = replicationPlan(replication, actualReplication);
      for (const d of plan.drift) {
        drift.push(d);
        progress(
          `! replication ${d.topic} has ${d.actual} replica(s), the cluster allows ${d.desired}: ${d.fix}`,
        );
      }
      const present = presentPlain.map((t) =>
        withMinInsync(t, plan.minInsync.get(t.name) ?? replication.minInsync),
      );
      const grow = present.flatMap((t) => {
        const count = meta.topics.find((m) => m.name === t.name)?.partitions.length ?? t.partitions;
        return count < t.partitions ? [{ topic: t.name, count: t.partitions, from: count }] : [];
      });
      for (const g of grow) note({ op: "~", kind: "partitions", what: `${g.topic} ${g.from} → ${g.count}` });
      if (!opts.dryRun && grow.length > 0) {
        await admin.createPartitions({ topicPartitions: grow.map(({ topic, count }) => ({ topic, count })) });
      }
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((t) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name: t.name })),
      });
      const alter = present.flatMap((t) => {
        const actual = configs.resources.find((r) => r.resourceName === t.name)?.configEntries ?? [];
        const differ = Object.entries(t.config).filter(
          ([k, v]) => actual.find((e) => e.configName === k)?.configValue !== v,
        );
        return differ.length > 0 ? [{ t, differ }] : [];
      });
      for (const { t, differ } of alter) {
        note({
          op: "~",
          kind: "topic-config",
          what: `${t.name} ${differ.map(([k, v]) => `${k}=${v}`).join(" ")}`,
        });
      }
      if (!opts.dryRun && alter.length > 0) {
        await admin.alterConfigs({
          validateOnly: false,
          resources: alter.map(({ t }) => ({
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name: t.name,
            // AlterConfigs replaces the topic's dynamic configs: send all we own.
            configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
          })),
        });
      }
    }
    const desiredTopics = new Set(desired.topics.map((t) => t.name));
    const orphanTopics = [...existing].filter((t) => isManagedTopic(t) && !desiredTopics.has(t)).sort();

    // Users.
    const store = new CredentialsStore(opts.credentialsFile);
    const managedBefore = new Set(store.names());
    const inKafka = new Set(await listScramUsers(stack));
    // Passwords set on another cluster than this one (or on one unknown) are set again, the stored ones kept: the
    // services' and tests' credentials then hold on every cluster the store provisions.
    const sameCluster = store.clusterId === cluster.clusterId;
    const upserts = desired.users.filter(
      (u) => !inKafka.has(u) || store.get(u) === undefined || !sameCluster,
    );
    const removals = store.names().filter((u) => !desired.users.includes(u));
    for (const u of upserts) {
      const again = inKafka.has(u) && store.get(u) !== undefined;
      note({
        op: inKafka.has(u) ? "~" : "+",
        kind: "user",
        what: again ? `${u} (password set again on this cluster)` : u,
      });
    }
    for (const u of removals) note({ op: "-", kind: "user", what: u });
    if (!opts.dryRun) {
      await upsertScramUsers(
        stack,
        upserts.map((name) => ({ name, password: store.get(name) ?? store.rotate(name) })),
      );
      await deleteScramUsers(
        stack,
        removals.filter((u) => inKafka.has(u)),
      );
      for (const u of removals) store.forget(u);
      store.clusterId = cluster.clusterId;
      store.save();
    }

    // ACLs: those of managed principals and on managed topics are ours; the rest (tests, operators) are left alone.
    const managedPrincipals = new Set([...desired.users, ...managedBefore].map((u) => `User:${u}`));
    const actual = await describeAllAcls(admin);
    const actualKeys = new Set(actual.filter((a) => !a.foreign).map(aclKey));
    const desiredKeys = new Set(desired.acls.map(aclKey));
    const add = desired.acls.filter((a) => !actualKeys.has(aclKey(a)));
    const remove = actual.filter(
      (a) =>
        !a.foreign &&
        !desiredKeys.has(aclKey(a)) &&
        (managedPrincipals.has(a.principal) || (a.resourceType === "TOPIC" && isManagedTopic(a.resource))),
    );
    for (const a of add) note({ op: "+", kind: "acl", what: aclKey(a) });
    for (const a of remove) note({ op: "-", kind: "acl", what: aclKey(a) });
    if (!opts.dryRun) {
      if (add.length > 0) await admin.createAcls({ acl: add.map(toKafkaAcl) });
      if (remove.length > 0) await admin.deleteAcls({ filters: remove.map(toKafkaAcl) });
    }

    // Quotas: those of managed users are ours (a party's user, or one provisioning created and still remembers);
    // quotas of anyone else (tests, operators) are left alone.
    const managedUsers = new Set([...desired.users, ...managedBefore]);
    const actualQuotas = (await describeUserQuotas(stack)).filter((q) => managedUsers.has(q.user));
    const quotaKey = (q: { user: string; key: string }) => `${q.user} ${q.key}`;
    const actualByKey = new Map(actualQuotas.map((q) => [quotaKey(q), q.value]));
    const desiredQuotaKeys = new Set(desired.quotas.map(quotaKey));
    const setQuotas = desired.quotas.filter((q) => actualByKey.get(quotaKey(q)) !== q.value);
    const removeQuotas = actualQuotas.filter((q) => !desiredQuotaKeys.has(quotaKey(q)));
    for (const q of setQuotas) {
      const was = actualByKey.get(quotaKey(q));
      note({
        op: was === undefined ? "+" : "~",
        kind: "quota",
        what: `${q.user} ${q.key}=${q.value}${was === undefined ? "" : ` (was ${was})`}`,
      });
    }
    for (const q of removeQuotas) note({ op: "-", kind: "quota", what: `${q.user} ${q.key}=${q.value}` });
    if (!opts.dryRun) await alterUserQuotas(stack, { set: setQuotas, remove: removeQuotas });

    // Registry subjects.
    for (const { subject, schema } of desired.subjects) {
      const body = { schemaType: "AVRO", schema: JSON.stringify(schema) };
      const s = encodeURIComponent(subject);
      const config = await registry(stack.registry, `/config/${s}`);
      if (config.status !== 200 || config.body.compatibilityLevel !== "BACKWARD") {
        note({ op: config.status === 200 ? "~" : "+", kind: "compatibility", what: `${subject} BACKWARD` });
        if (!opts.dryRun) {
          const put = await registry(stack.registry, `/config/${s}`, {
            method: "PUT",
            body: { compatibility: "BACKWARD" },
          });
          if (put.status !== 200)
            throw new Error(
              `setting compatibility of ${subject} failed: ${put.status} ${JSON.stringify(put.body)}`,
            );
        }
      }
      const known = await registry(stack.registry, `/subjects/${s}`, { method: "POST", body });
      if (known.status === 200) continue;
      note({ op: "+", kind: "subject", what: `${subject} (${schema.name})` });
      if (opts.dryRun) continue;
      const reg = await registry(stack.registry, `/subjects/${s}/versions`, { method: "POST", body });
      if (reg.status === 409) {
        throw new Error(
          `the registry refuses the new schema for ${subject}: it is not BACKWARD compatible with the registered one ` +
            `(${JSON.stringify(reg.body.message ?? reg.body)}). Give new fields defaults, or publish under a new topic.`,
        );
      }
      if (reg.status !== 200)
        throw new Error(`registering ${subject} failed: ${reg.status} ${JSON.stringify(reg.body)}`);
    }
    return { changes, orphanTopics, drift, replication: { ...replication, brokers }, desired };
  } finally {
    await admin.disconnect();
  }
}

/** Waits until every partition of `topics` has a leader, whichever node answers; 60 s at most. */
async function leadersOf(admin: kafkajs.Admin, topics: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (
        meta.topics.length === topics.length &&
        meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      )
        return;
    } catch (err) {
      const type = (err as { type?: unknown }).type;
      if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "LEADER_NOT_AVAILABLE") throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the ${topics.length} new topics have no leader on every partition after ${timeoutMs / 1000} s` +
          (last instanceof Error ? ` (last: ${last.message})` : "") +
          ": check that every broker is up (npm run infra:status), then run contracts:apply again",
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
