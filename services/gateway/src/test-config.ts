import crypto from "node:crypto";
import { GATEWAY } from "@grondslag/contracts/plan";
import { databaseUrl, type StackConfig } from "@grondslag/infra";
import { readCredential } from "@grondslag/provision";
import type { GatewayConfig } from "./gateway";

/**
 * For specs: the config of a gateway on the test stack, as the gateway principal, with a pseudonym key of its own.
 * Each spec overrides what it must keep apart from the others (groups, database schema, workers, contracts).
 */
export function testGatewayConfig(
  stack: StackConfig,
  credentialsFile: string,
  overrides: Partial<GatewayConfig> = {},
): GatewayConfig {
  const kafkaUser = overrides.kafkaUser ?? GATEWAY;
  return {
    brokers: stack.kafka.brokers,
    kafkaUser,
    kafkaPassword: overrides.kafkaPassword ?? readCredential(credentialsFile, kafkaUser),
    registryUrl: stack.registry.url,
    registryAuth: stack.registry.gateway,
    databaseUrl: databaseUrl(stack.postgres),
    dbSchema: "gateway",
    pseudonymKey: crypto.randomBytes(32),
    contractsDir: undefined,
    ...overrides,
  };
}
