import type { Catalogue } from "@grondslag/contracts";
import type { Admin } from "kafkajs";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { coreMetrics } from "./metrics";

const catalogue = {
  topics: { "arbo.accident-reported": {} },
  legalBases: { "arbowet-art9": {} },
  purposes: { ongevalsmelding: {} },
  parties: { uwv: {} },
} as unknown as Catalogue;

function fakeAdmin() {
  const calls = { fetchOffsets: 0, fetchTopicOffsets: 0 };
  const admin = {
    fetchOffsets: () => {
      calls.fetchOffsets++;
      return Promise.resolve([
        { topic: "events.arbo.accident-reported", partitions: [{ partition: 0, offset: "5" }] },
      ]);
    },
    fetchTopicOffsets: () => {
      calls.fetchTopicOffsets++;
      return Promise.resolve([{ partition: 0, offset: "9", high: "9", low: "0" }]);
    },
  } as unknown as Admin;
  return { admin, calls };
}

describe("core metrics", () => {
  it("labels values the catalogue does not know as `other`, so callers cannot mint series", async () => {
    const registry = new Registry();
    const { admin } = fakeAdmin();
    const hooks = coreMetrics(registry, { admin: () => admin, groups: [], catalogue: () => catalogue });
    hooks.onDecision?.({
      topic: "arbo.accident-reported",
      outcome: "ACCEPTED",
      grondslag: "arbowet-art9",
      purpose: "ongevalsmelding",
    });
    for (let i = 0; i < 50; i++) {
      hooks.onDecision?.({
        topic: `made.up-${i}`,
        outcome: `NOT A CODE ${i}`,
        grondslag: `x${"y".repeat(i * 100)}`,
        purpose: `p-${i}`,
      });
      hooks.onDisclosure?.({
        topic: `t.${i}`,
        recipient: `party-${i}`,
        grondslag: `g-${i}`,
        eventId: `e-${i}`,
      });
    }
    const text = await registry.metrics();
    const decisions = text.split("\n").filter((l) => l.startsWith("gateway_decisions_total{"));
    expect(decisions).toEqual([
      'gateway_decisions_total{topic="arbo.accident-reported",outcome="ACCEPTED",grondslag="arbowet-art9",purpose="ongevalsmelding"} 1',
      'gateway_decisions_total{topic="other",outcome="other",grondslag="other",purpose="other"} 50',
    ]);
    const disclosures = text.split("\n").filter((l) => l.startsWith("gateway_disclosures_total{"));
    expect(disclosures).toEqual([
      'gateway_disclosures_total{topic="other",recipient="other",grondslag="other"} 50',
    ]);
  });

  it("reads consumer lag from Kafka at most once per refresh interval, however often it is scraped", async () => {
    const registry = new Registry();
    const { admin, calls } = fakeAdmin();
    let now = 0;
    coreMetrics(registry, {
      admin: () => admin,
      groups: ["grondslag.gateway.deliver", "grondslag.gateway.ingress"],
      catalogue: () => catalogue,
      lagRefreshMs: 15_000,
      nowMs: () => now,
    });
    const first = await registry.metrics();
    expect(first).toContain(
      'gateway_consumer_lag{group="grondslag.gateway.deliver",topic="events.arbo.accident-reported"} 4',
    );
    for (let i = 0; i < 20; i++) await registry.metrics();
    expect(calls).toEqual({ fetchOffsets: 2, fetchTopicOffsets: 2 });
    now += 15_000;
    await registry.metrics();
    await expect.poll(() => calls.fetchOffsets).toBe(4);
  });
});
