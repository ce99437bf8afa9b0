import { describe, expect, it } from "vitest";
import { clusterReplication, defaultLayout } from "./kafka";
import { stackSize } from "./stack";

describe("the default stack's size", () => {
  it("is one node unless asked, what runs when something does, and a disagreeing flag is refused naming the fix", () => {
    expect(stackSize(undefined, undefined)).toBe(1);
    expect(stackSize(undefined, 3)).toBe(3);
    expect(stackSize(3, undefined)).toBe(3);
    expect(stackSize(1, 1)).toBe(1);
    expect(() => stackSize(3, 1)).toThrow(
      /runs with 3 Kafka nodes; --brokers 1 disagrees.*npm run infra:down/,
    );
    expect(() => stackSize(undefined, 2)).toThrow(/--brokers 1 or --brokers 3/);
  });

  it("puts node 1 on the configured ports and nodes 2.. on two ports each from extraFrom", () => {
    expect(defaultLayout(3, { port: 39092, controllerPort: 39093, extraFrom: 39100 }, "/s").nodes).toEqual([
      { id: 1, port: 39092, controllerPort: 39093 },
      { id: 2, port: 39100, controllerPort: 39101 },
      { id: 3, port: 39102, controllerPort: 39103 },
    ]);
    expect(
      defaultLayout(1, { port: 19092, controllerPort: 19093, extraFrom: 19100 }, "/s").nodes,
    ).toHaveLength(1);
  });

  it("replicates min(3, n) times and asks 2 in sync from 3 replicas", () => {
    expect(clusterReplication(1)).toEqual({ replicationFactor: 1, minInsync: 1 });
    expect(clusterReplication(2)).toEqual({ replicationFactor: 2, minInsync: 1 });
    expect(clusterReplication(3)).toEqual({ replicationFactor: 3, minInsync: 2 });
    expect(clusterReplication(5)).toEqual({ replicationFactor: 3, minInsync: 2 });
  });
});
