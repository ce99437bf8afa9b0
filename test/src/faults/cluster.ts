import { loadCatalogue } from "@grondslag/contracts";
import { startPrivateStack, type PrivateStack } from "@grondslag/infra";
import type { FaultStack } from "@grondslag/infra/test";
import { applyContracts } from "@grondslag/provision";
import { expect } from "vitest";

/**
 * A private stack of the fault specs' own (one node or three), provisioned by contracts:apply from the real
 * contracts: on three nodes every topic at replication 3 with min.insync.replicas 2 (asserted, so a spec never proves
 * survival on less). The fault specs kill its broker and registry, never those of the stack the other specs share.
 */
export async function startProvisionedStack(
  name: string,
  brokers: 1 | 3,
  progress: (line: string) => void,
): Promise<PrivateStack> {
  const stack = await startPrivateStack({ name, brokers, progress });
  try {
    const { replication } = await applyContracts(loadCatalogue(), stack.config, {
      dryRun: false,
      credentialsFile: stack.credentialsFile,
    });
    expect(replication).toEqual(
      brokers === 3
        ? { replicationFactor: 3, minInsync: 2, brokers: 3 }
        : { replicationFactor: 1, minInsync: 1, brokers: 1 },
    );
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** A private stack's handles as the fault bus takes them. */
export function faultStackOf(stack: PrivateStack): FaultStack {
  return {
    config: stack.config,
    brokers: stack.brokers,
    killBroker: async (i) => {
      await stack.killBroker(i);
    },
    startBroker: (i) => stack.startBroker(i),
    killRegistry: async () => {
      await stack.killRegistry();
    },
    startRegistry: () => stack.startRegistry(),
  };
}
