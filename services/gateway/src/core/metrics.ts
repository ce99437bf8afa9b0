import type { Admin } from "kafkajs";
import { Counter, Gauge, type Registry } from "prom-client";
import type { GatewayHooks } from "../gateway";

/**
 * The core's metrics, in the registry `/metrics` serves: policy decisions by outcome, grondslag and purpose,
 * disclosures by recipient, and consumer lag of the gateway's groups (computed when scraped, so it costs nothing
 * between scrapes).
 */
export function coreMetrics(registry: Registry, lag: { admin: () => Admin; groups: string[] }): GatewayHooks {
  const decisions = new Counter({
    name: "gateway_decisions_total",
    help: "Publish decisions by topic, outcome (ACCEPTED or the refusal code), legal basis and purpose.",
    labelNames: ["topic", "outcome", "grondslag", "purpose"],
    registers: [registry],
  });
  const disclosures = new Counter({
    name: "gateway_disclosures_total",
    help: "Events disclosed to a consumer, by topic, recipient and legal basis.",
    labelNames: ["topic", "recipient", "grondslag"],
    registers: [registry],
  });
  new Gauge({
    name: "gateway_consumer_lag",
    help: "Records not yet processed by the gateway's consumer groups, per group and topic.",
    labelNames: ["group", "topic"],
    registers: [registry],
    async collect() {
      this.reset();
      const admin = lag.admin();
      for (const groupId of lag.groups) {
        const committed = await admin.fetchOffsets({ groupId }).catch(() => []);
        for (const t of committed) {
          const ends = await admin.fetchTopicOffsets(t.topic).catch(() => []);
          let total = 0n;
          for (const p of t.partitions) {
            const high = ends.find((e) => e.partition === p.partition)?.high;
            if (high === undefined) continue;
            const from =
              p.offset === "-1"
                ? BigInt(ends.find((e) => e.partition === p.partition)?.low ?? "0")
                : BigInt(p.offset);
            total += BigInt(high) - from;
          }
          this.set({ group: groupId, topic: t.topic }, Number(total));
        }
      }
    },
  });
  return {
    onDecision: (d) =>
      decisions.inc({ topic: d.topic, outcome: d.outcome, grondslag: d.grondslag, purpose: d.purpose }),
    onDisclosure: (d) => disclosures.inc({ topic: d.topic, recipient: d.recipient, grondslag: d.grondslag }),
  };
}
