import kafkajs, { type PartitionMetadata } from "kafkajs";
import { describe, expect, it } from "vitest";
import type { TopicMessage } from "./kafka";
import { planByPartition } from "./partitions";

const meta = (leaders: number[], replicas: (leader: number) => number[]): PartitionMetadata[] =>
  leaders.map((leader, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader,
    replicas: replicas(leader),
    isr: replicas(leader),
  }));
const single = meta([1, 1, 1], () => [1]);
const cluster = meta([1, 2, 3], (l) => [l, (l % 3) + 1, ((l + 1) % 3) + 1]);
const items = (topic: string, n: number): TopicMessage[] =>
  Array.from({ length: n }, (_, i) => ({ topic, message: { key: `k${i}`, value: `v${i}` } }));

describe("planByPartition: no produce request spans two leaders", () => {
  it("keeps a single broker's write one request, across topics, untouched", () => {
    const write = [...items("events.a", 5), ...items("audit.log", 5)];
    const groups = planByPartition(
      write,
      new Map([
        ["events.a", single],
        ["audit.log", single],
      ]),
    );
    expect(groups).toEqual([write]);
  });

  it("on a cluster, one group per partition, each record where kafkajs' default partitioner puts it, in order", () => {
    const write = [...items("events.a", 30), ...items("audit.log", 30)];
    const groups = planByPartition(
      write,
      new Map([
        ["events.a", cluster],
        ["audit.log", cluster],
      ]),
    );
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    for (const g of groups) {
      expect(new Set(g.map((i) => `${i.topic}/${String(i.message.partition)}`)).size).toBe(1);
      for (const i of g) {
        const { partition, ...message } = i.message;
        expect(partition).toBe(partitioner({ topic: i.topic, partitionMetadata: cluster, message }));
      }
      const order = g.map((i) => Number(String(i.message.value).slice(1)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    expect(groups.flat()).toHaveLength(60);
    expect(groups.length).toBe(6);
  });

  it("splits a topic whose partitions are replicated even when one broker leads them all (after failovers)", () => {
    const allOnOne = meta([1, 1, 1], () => [1, 2, 3]);
    const groups = planByPartition(items("events.a", 30), new Map([["events.a", allOnOne]]));
    expect(groups.length).toBe(3);
  });

  it("keeps an explicit partition, and refuses a topic it knows nothing of", () => {
    const write: TopicMessage[] = [{ topic: "events.a", message: { key: "x", value: "y", partition: 2 } }];
    expect(planByPartition(write, new Map([["events.a", cluster]]))).toEqual([write]);
    expect(() => planByPartition(write, new Map())).toThrow(/no partition metadata for events.a/);
  });
});
