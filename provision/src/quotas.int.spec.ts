import { alterUserQuotas, CREDENTIALS_FILE, describeUserQuotas } from "@grondslag/infra";
import { testKafka, testStack } from "@grondslag/infra/test";
import kafkajs from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalogue } from "@grondslag/contracts";
import { applyContracts } from "./apply";
import { defaultPlanOptions, type PlanOptions } from "@grondslag/contracts/plan";

const stack = testStack();
const catalogue = loadCatalogue();
const MiB = 1024 * 1024;
// The default plan (overrides are covered by plan.unit.spec.ts): other specs apply the defaults too, and a
// different plan here would be undone by them mid-test.
const plan: PlanOptions = defaultPlanOptions;
const opts = { dryRun: false, credentialsFile: CREDENTIALS_FILE, plan };

async function ingressRetentionBytes(topics: string[]): Promise<Record<string, string | undefined>> {
  const admin = testKafka(stack).admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name })),
    });
    return Object.fromEntries(
      resources.map((r) => [
        r.resourceName,
        r.configEntries.find((e) => e.configName === "retention.bytes")?.configValue,
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

describe("contracts:apply sets per-party Kafka quotas and ingress retention.bytes on the real broker", () => {
  afterAll(async () => {
    // Leave the stack as the real contracts describe it, whatever a test above did.
    await applyContracts(catalogue, stack, opts);
  });

  it("describing the broker's quotas and topic configs gives back what the plan derived", async () => {
    await applyContracts(catalogue, stack, opts);
    const quotas = await describeUserQuotas(stack);
    const of = (user: string) =>
      Object.fromEntries(quotas.filter((q) => q.user === user).map((q) => [q.key, q.value]));
    expect(of("nla")).toEqual({ producer_byte_rate: 1 * MiB, consumer_byte_rate: 4 * MiB });
    expect(of("uitlener.90000001")).toEqual({ producer_byte_rate: 1 * MiB, consumer_byte_rate: 4 * MiB });
    expect(of("uwv")).toEqual({ producer_byte_rate: 1 * MiB, consumer_byte_rate: 4 * MiB });
    // Services are never throttled: the gateway carries every party's traffic.
    expect(of("grondslag.gateway")).toEqual({});
    expect(of("grondslag.audit")).toEqual({});

    const bytes = await ingressRetentionBytes([
      "ingress.uitlener.90000001",
      "ingress.nla",
      "events.arbo.accident-reported",
    ]);
    expect(bytes["ingress.uitlener.90000001"]).toBe(String(defaultPlanOptions.ingressRetentionBytes));
    expect(bytes["ingress.nla"]).toBe(String(defaultPlanOptions.ingressRetentionBytes));
    // Canonical topics keep the broker's default (-1, unbounded by size): they are the record, bounded by time.
    expect(bytes["events.arbo.accident-reported"]).toBe("-1");
  });

  // Three applies, each ≈15 s on a loaded 2-core machine (three short JVM runs for users and quotas among them).
  it("is idempotent, and a dry run shows a quota that drifted, then apply restores it", async () => {
    // The test above applied: a dry run now finds nothing to do.
    const again = await applyContracts(catalogue, stack, { ...opts, dryRun: true });
    expect(again.changes.filter((c) => c.kind === "quota" || c.kind === "topic-config")).toEqual([]);

    // An operator (or an attacker with admin rights) lifted nla's limit and added one for uwv by hand.
    await alterUserQuotas(stack, {
      set: [
        { user: "nla", key: "producer_byte_rate", value: 100 * MiB },
        { user: "uwv", key: "request_percentage", value: 1 },
      ],
      remove: [],
    });
    const dry = await applyContracts(catalogue, stack, { ...opts, dryRun: true });
    expect(dry.changes.filter((c) => c.kind === "quota")).toEqual([
      { op: "~", kind: "quota", what: `nla producer_byte_rate=${MiB} (was ${100 * MiB})` },
      { op: "-", kind: "quota", what: "uwv request_percentage=1" },
    ]);
    // The dry run changed nothing.
    expect(
      (await describeUserQuotas(stack)).find((q) => q.user === "nla" && q.key === "producer_byte_rate")
        ?.value,
    ).toBe(100 * MiB);
    await applyContracts(catalogue, stack, opts);
    const after = await describeUserQuotas(stack);
    expect(after.find((q) => q.user === "nla" && q.key === "producer_byte_rate")?.value).toBe(MiB);
    expect(after.find((q) => q.user === "uwv" && q.key === "request_percentage")).toBeUndefined();
  }, 180_000);
});
