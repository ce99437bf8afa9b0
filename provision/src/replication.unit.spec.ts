import { describe, expect, it } from "vitest";
import { desiredReplication, replicationPlan } from "./replication";

describe("topic replication from the cluster's size", () => {
  it("is min(3, brokers) replicas, 2 in sync from 3", () => {
    expect(desiredReplication(1)).toEqual({ replicationFactor: 1, minInsync: 1 });
    expect(desiredReplication(2)).toEqual({ replicationFactor: 2, minInsync: 1 });
    expect(desiredReplication(3)).toEqual({ replicationFactor: 3, minInsync: 2 });
    expect(desiredReplication(6)).toEqual({ replicationFactor: 3, minInsync: 2 });
  });

  it("reports a topic stored fewer times than the cluster allows as drift with the fix, and keeps it writable", () => {
    const plan = replicationPlan(
      desiredReplication(3),
      new Map([
        ["events.b", 3],
        ["events.a", 1],
        ["events.c", 2],
      ]),
    );
    expect(plan.drift.map((d) => [d.topic, d.actual, d.desired])).toEqual([
      ["events.a", 1, 3],
      ["events.c", 2, 3],
    ]);
    expect(plan.drift[0]?.fix).toMatch(/ReassignPartitionsCommand.*contracts:apply/);
    // min ISR 2 on a topic of 1 or 2 replicas would refuse writes (or survive no loss): 1 until it is reassigned.
    expect(Object.fromEntries(plan.minInsync)).toEqual({ "events.a": 1, "events.b": 2, "events.c": 1 });
  });

  it("finds no drift on a single node, nor where a topic has more replicas than asked", () => {
    expect(replicationPlan(desiredReplication(1), new Map([["events.a", 1]])).drift).toEqual([]);
    const plan = replicationPlan(desiredReplication(1), new Map([["events.a", 3]]));
    expect(plan.drift).toEqual([]);
    expect(plan.minInsync.get("events.a")).toBe(1);
  });
});
