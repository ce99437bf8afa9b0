import type { StackConfig } from "./config";
import { adminTool } from "./scram";

/** A client quota on a user principal: Kafka's key (`producer_byte_rate`, …) and its value (bytes/s per broker). */
export interface UserQuota {
  user: string;
  key: string;
  value: number;
}

const USER = /^[a-z0-9][a-z0-9.-]*$/;
const KEY = /^[a-z_]+$/;

/**
 * Every quota set on a plain user entity (not user+client-id, not the default user), in one JVM run (≈1.5 s).
 * kafkajs has no DescribeClientQuotas; infra/kafka/ClientQuotas.java does it through Kafka's Admin API.
 */
export async function describeUserQuotas(config: StackConfig): Promise<UserQuota[]> {
  const out = await adminTool(config, "ClientQuotas", ["describe"]);
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(
      (w) => w.length === 3 && USER.test(w[0] ?? "") && KEY.test(w[1] ?? "") && /^\d+$/.test(w[2] ?? ""),
    )
    .map(([user = "", key = "", value = "0"]) => ({ user, key, value: Number(value) }))
    .sort((a, b) => `${a.user} ${a.key}`.localeCompare(`${b.user} ${b.key}`));
}

/** Sets and removes user quotas in one AlterClientQuotas call. */
export async function alterUserQuotas(
  config: StackConfig,
  change: { set: UserQuota[]; remove: { user: string; key: string }[] },
): Promise<void> {
  const commands = [
    ...change.set.map((q) => `set ${q.user} ${q.key} ${q.value}`),
    ...change.remove.map((q) => `remove ${q.user} ${q.key}`),
  ];
  for (const q of [...change.set, ...change.remove]) {
    if (!USER.test(q.user) || !KEY.test(q.key)) throw new Error(`not a valid quota: ${q.user} ${q.key}`);
  }
  if (commands.length > 0) await adminTool(config, "ClientQuotas", commands);
}
