import { loadCatalogue } from "@grondslag/contracts";
import { startPrivateStack, type PrivateStack } from "@grondslag/infra";
import { applyContracts } from "@grondslag/provision";
import { expect } from "vitest";

/**
 * A private three-node cluster of the fault specs' own, provisioned by contracts:apply from the real contracts: every
 * topic at replication 3 with min.insync.replicas 2 (asserted, so a spec never proves survival on less).
 */
export async function startProvisionedCluster(
  name: string,
  progress: (line: string) => void,
): Promise<PrivateStack> {
  const stack = await startPrivateStack({ name, brokers: 3, progress });
  try {
    const { replication } = await applyContracts(loadCatalogue(), stack.config, {
      dryRun: false,
      credentialsFile: stack.credentialsFile,
    });
    expect(replication).toEqual({ replicationFactor: 3, minInsync: 2, brokers: 3 });
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
