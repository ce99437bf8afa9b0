import { describe, expect, it } from "vitest";
import { loadCatalogue } from "../load";
import { defaultPlanOptions, desiredState, GATEWAY, AUDIT_SERVICE } from "./plan";

const catalogue = loadCatalogue();
const MiB = 1024 * 1024;

describe("the plan's quotas and ingress retention.bytes", () => {
  it("gives every party the default quota, services none, and an override replaces the default", () => {
    const desired = desiredState(catalogue, {
      ...defaultPlanOptions,
      quotaOverrides: { uwv: { producerByteRate: 2 * MiB } },
    });
    const of = (user: string) =>
      Object.fromEntries(desired.quotas.filter((q) => q.user === user).map((q) => [q.key, q.value]));
    const parties = desired.users.filter((u) => u !== GATEWAY && u !== AUDIT_SERVICE);
    expect(parties.length).toBeGreaterThan(5);
    for (const p of parties.filter((u) => u !== "uwv")) {
      expect(of(p)).toEqual({ producer_byte_rate: MiB, consumer_byte_rate: 4 * MiB });
    }
    expect(of("uwv")).toEqual({ producer_byte_rate: 2 * MiB });
    expect(of(GATEWAY)).toEqual({});
    expect(of(AUDIT_SERVICE)).toEqual({});
  });

  it("bounds ingress topics by size, and only them", () => {
    const desired = desiredState(catalogue, { ...defaultPlanOptions, ingressRetentionBytes: 12345 });
    const bounded = desired.topics.filter((t) => t.config["retention.bytes"] !== undefined);
    expect(bounded.length).toBeGreaterThan(0);
    expect(bounded.every((t) => t.name.startsWith("ingress."))).toBe(true);
    expect(
      desired.topics.filter((t) => t.name.startsWith("ingress.")).map((t) => t.config["retention.bytes"]),
    ).toEqual(bounded.map(() => "12345"));
  });
});
