import type { Admin, PartitionerArgs, PartitionMetadata } from "kafkajs";
import type { TopicMessage } from "./kafka";
import { createPartitioner } from "./kafkajs-produce";

/**
 * Splits a write so that no produce request of it spans two partition leaders.
 *
 * kafkajs 2.2.4 can lose acknowledged records when one `send` covers partitions on several leaders and one of them
 * dies mid-send (tulios/kafkajs#1303, open): its retry keeps the answers of the leaders that already replied and
 * re-sends only to leaders without one, so the dead leader's partitions, now led by a broker that did answer, are
 * never sent again, and `send` resolves. Measured on a three-node cluster with five `kill -9`s of a leader
 * (test/faults/broker.faults.spec.ts): 13 of 122,140 acknowledged records lost. A request to one partition cannot
 * lose so: its retry goes, whole, to the partition's new leader.
 *
 * So a write is planned per partition wherever a topic's partitions have several leaders or replicas, with the
 * partition chosen as kafkajs' default (Java-compatible murmur2) partitioner would (the kit's `createPartitioner`
 * chooses the same): a key lands where it always did. On a single broker (every partition led by the only replica)
 * a write stays one request: nothing to lose there, and nothing to pay.
 */
export interface PartitionPlanner {
  /** The write as groups, in order within each partition; each group is safe to send as one request. */
  plan(items: TopicMessage[]): Promise<TopicMessage[][]>;
  /** Forget what is known of leaders and replicas (after a failed write: leadership may have moved). */
  invalidate(): void;
}

/** Pure: the groups of `items`, given each topic's partition metadata. */
export function planByPartition(
  items: readonly TopicMessage[],
  metadata: ReadonlyMap<string, readonly PartitionMetadata[]>,
  partitioner: (args: PartitionerArgs) => number = createPartitioner(),
): TopicMessage[][] {
  /** Topics wholly on one broker with no other replica, by that broker: sent together, as kafkajs would. */
  const byLeader = new Map<number, TopicMessage[]>();
  const byPartition = new Map<string, TopicMessage[]>();
  for (const item of items) {
    const partitions = metadata.get(item.topic);
    if (!partitions || partitions.length === 0) throw new Error(`no partition metadata for ${item.topic}`);
    const leader = soleLeader(partitions);
    if (leader !== undefined) {
      const list = byLeader.get(leader) ?? [];
      list.push(item);
      byLeader.set(leader, list);
      continue;
    }
    const partition =
      item.message.partition ??
      partitioner({ topic: item.topic, partitionMetadata: [...partitions], message: item.message });
    const key = `${item.topic}\u0000${partition}`;
    const list = byPartition.get(key) ?? [];
    list.push({ topic: item.topic, message: { ...item.message, partition } });
    byPartition.set(key, list);
  }
  return [...byLeader.values(), ...byPartition.values()];
}

/** The broker that leads every partition and is its only replica, or undefined. */
function soleLeader(partitions: readonly PartitionMetadata[]): number | undefined {
  const first = partitions[0]?.leader;
  if (first === undefined || first < 0) return undefined;
  for (const p of partitions) {
    if (p.leader !== first || p.replicas.length > 1) return undefined;
  }
  return first;
}

/**
 * A planner on the cluster's metadata through `admin` (connected by the caller), cached per topic for `ttlMs`.
 * When a refresh fails, the last known metadata serves; a topic never seen fails the write, which is retried.
 */
export function partitionPlanner(admin: () => Admin, opts: { ttlMs?: number } = {}): PartitionPlanner {
  const ttlMs = opts.ttlMs ?? 10_000;
  const known = new Map<string, { at: number; partitions: PartitionMetadata[] }>();
  const partitioner = createPartitioner();
  return {
    async plan(items) {
      const now = Date.now();
      const topics = [...new Set(items.map((i) => i.topic))];
      const stale = topics.filter((t) => (known.get(t)?.at ?? -Infinity) + ttlMs < now);
      if (stale.length > 0) {
        try {
          const { topics } = await admin().fetchTopicMetadata({ topics: stale });
          for (const t of topics) known.set(t.name, { at: now, partitions: t.partitions });
        } catch (err) {
          if (stale.some((t) => !known.has(t))) throw err;
        }
      }
      // Only the topics of this write: a flush names a handful, the cache may hold every topic written.
      const metadata = new Map<string, PartitionMetadata[]>();
      for (const t of topics) {
        const k = known.get(t);
        if (k) metadata.set(t, k.partitions);
      }
      return planByPartition(items, metadata, partitioner);
    },
    invalidate() {
      for (const k of known.values()) k.at = -Infinity;
    },
  };
}
