import type { Catalogue } from "@grondslag/contracts";
import type { Admin } from "kafkajs";
import { Counter, Gauge, type Registry } from "prom-client";
import type { GatewayHooks } from "../gateway";

/** The label for a value the catalogue does not know: callers choose those, so they must not become series. */
export const OTHER = "other";

/** Consumer lag is read from Kafka at most this often, whatever the scrape rate. */
export const LAG_REFRESH_MS = 15_000;

/**
 * The core's metrics, in the registry `/metrics` serves: policy decisions by outcome, grondslag and purpose,
 * disclosures by recipient, and consumer lag of the gateway's groups. Label values come only from the catalogue
 * (topics, legal bases, purposes, parties) or the error code table; anything a caller made up is `other`, so a
 * party sending random headers cannot grow the series without bound. Lag costs one admin call per group and topic,
 * so it is cached and refreshed at most every `lagRefreshMs`, never once per scrape.
 */
export function coreMetrics(
  registry: Registry,
  lag: {
    admin: () => Admin;
    groups: string[];
    catalogue: () => Catalogue;
    lagRefreshMs?: number;
    nowMs?: () => number;
  },
): GatewayHooks {
  const known = (value: string, set: Record<string, unknown>) =>
    Object.prototype.hasOwnProperty.call(set, value) ? value : OTHER;
  const topicLabel = (t: string) => known(t, lag.catalogue().topics);
  const legalBasisLabel = (g: string) => known(g, lag.catalogue().legalBases);
  const purposeLabel = (p: string) => known(p, lag.catalogue().purposes);
  const partyLabel = (p: string) => known(p, lag.catalogue().parties);
  const outcomeLabel = (o: string) => (/^[A-Z_]{1,40}$/.test(o) ? o : OTHER);

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

  const refreshMs = lag.lagRefreshMs ?? LAG_REFRESH_MS;
  const nowMs = lag.nowMs ?? Date.now;
  let cached: { at: number; values: { group: string; topic: string; lag: number }[] } | undefined;
  let refreshing: Promise<void> | undefined;
  async function readLag() {
    const admin = lag.admin();
    const values: { group: string; topic: string; lag: number }[] = [];
    for (const groupId of lag.groups) {
      const committed = await admin.fetchOffsets({ groupId }).catch(() => []);
      for (const t of committed) {
        const ends = await admin.fetchTopicOffsets(t.topic).catch(() => []);
        let total = 0n;
        for (const p of t.partitions) {
          const end = ends.find((e) => e.partition === p.partition);
          if (end?.high === undefined) continue;
          const from = p.offset === "-1" ? BigInt(end.low) : BigInt(p.offset);
          total += BigInt(end.high) - from;
        }
        values.push({ group: groupId, topic: t.topic, lag: Number(total) });
      }
    }
    cached = { at: nowMs(), values };
  }
  new Gauge({
    name: "gateway_consumer_lag",
    help: `Records not yet processed by the gateway's consumer groups, per group and topic (read at most every ${refreshMs / 1000} s).`,
    labelNames: ["group", "topic"],
    registers: [registry],
    async collect() {
      const stale = cached === undefined || nowMs() - cached.at >= refreshMs;
      if (stale && refreshing === undefined) {
        refreshing = readLag().finally(() => {
          refreshing = undefined;
        });
      }
      // Only the first scrape waits for Kafka; later ones serve the last reading while a refresh runs.
      if (cached === undefined && refreshing !== undefined) await refreshing;
      this.reset();
      for (const v of cached?.values ?? []) this.set({ group: v.group, topic: v.topic }, v.lag);
    },
  });
  return {
    onDecision: (d) =>
      decisions.inc({
        topic: topicLabel(d.topic),
        outcome: outcomeLabel(d.outcome),
        grondslag: legalBasisLabel(d.grondslag),
        purpose: purposeLabel(d.purpose),
      }),
    onDisclosure: (d) =>
      disclosures.inc({
        topic: topicLabel(d.topic),
        recipient: partyLabel(d.recipient),
        grondslag: legalBasisLabel(d.grondslag),
      }),
  };
}
