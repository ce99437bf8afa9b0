import { clusterReplication } from "@grondslag/infra";

/** How often a topic is stored, and how many of its replicas must have a write before it is acknowledged. */
export interface Replication {
  replicationFactor: number;
  minInsync: number;
}

/**
 * Every topic's replication on a cluster of `brokers`: min(3, brokers) replicas, 2 of them in sync (acks=all then
 * survives one broker down); 1 on a smaller cluster.
 */
export function desiredReplication(brokers: number): Replication {
  return clusterReplication(brokers);
}

/** A topic stored fewer times than the cluster allows: reported, never changed silently. */
export interface ReplicationDrift {
  topic: string;
  actual: number;
  desired: number;
  /** What to run to raise it (AlterConfigs cannot; only a partition reassignment moves replicas). */
  fix: string;
}

/**
 * The drifts among existing topics (`actual`: topic → its lowest replica count over its partitions), and the
 * min.insync.replicas each existing topic gets: from its actual replication, so a drifted topic stays writable
 * (min ISR 2 on a topic of one replica would refuse every acks=all write).
 */
export function replicationPlan(
  desired: Replication,
  actual: ReadonlyMap<string, number>,
): { drift: ReplicationDrift[]; minInsync: Map<string, number> } {
  const drift: ReplicationDrift[] = [];
  const minInsync = new Map<string, number>();
  for (const [topic, rf] of [...actual].sort(([a], [b]) => a.localeCompare(b))) {
    minInsync.set(topic, Math.min(desired.minInsync, desiredReplication(rf).minInsync));
    if (rf < desired.replicationFactor) {
      drift.push({ topic, actual: rf, desired: desired.replicationFactor, fix: reassignFix(topic, desired) });
    }
  }
  return { drift, minInsync };
}

function reassignFix(topic: string, desired: Replication): string {
  return (
    `raise it to ${desired.replicationFactor} replicas with a partition reassignment (Kafka's ReassignPartitionsCommand ` +
    `from the fetched jars: java -cp 'infra/.cache/kafka-4.1.1/lib/*' ` +
    `org.apache.kafka.tools.reassign.ReassignPartitionsCommand --bootstrap-server <broker> --command-config ` +
    `<admin.properties> --reassignment-json-file <plan naming ${desired.replicationFactor} brokers per partition of ` +
    `${topic}> --execute), then run contracts:apply again to set min.insync.replicas=${desired.minInsync}; on a ` +
    `local stack whose data may go: npm run infra:down, remove infra/.state/kafka, npm run infra:up -- --brokers ` +
    `${desired.replicationFactor}, npm run contracts:apply`
  );
}
