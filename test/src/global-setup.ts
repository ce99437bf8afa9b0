import { loadCatalogue } from "@grondslag/contracts";
import { acquireStack, CREDENTIALS_FILE, type StackConfig } from "@grondslag/infra";
import { applyContracts } from "@grondslag/provision";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackConfig;
    credentialsFile: string;
  }
}

/**
 * Brings the stack up once per test run, only when the run includes integration or end-to-end specs, provisions
 * it from the contracts, and afterwards stops only what it started: a stack a developer already had running stays
 * up. Specs that change provisioning themselves restore it before they end.
 */
export default async function setup(project: TestProject) {
  // Projects inherit the root's globalSetup (vitest concatenates the arrays): act once, in the root, whose
  // provided values every project sees.
  if (project !== project.vitest.getRootProject()) return;
  if (!project.vitest.projects.some((p) => p.name !== "unit")) return;
  const t0 = Date.now();
  const progress = (line: string) =>
    process.stderr.write(`[stack ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  const stack = await acquireStack(progress);
  progress(
    `${stack.config.mode}: Kafka ${stack.config.kafka.version}, Apicurio Registry ${stack.config.registry.version}`,
  );
  try {
    const { changes } = await applyContracts(loadCatalogue(), stack.config, {
      dryRun: false,
      credentialsFile: CREDENTIALS_FILE,
    });
    progress(`contracts applied (${changes.length} changes)`);
  } catch (err) {
    await stack.release();
    throw err;
  }
  project.provide("stack", stack.config);
  project.provide("credentialsFile", CREDENTIALS_FILE);
  return async () => {
    await stack.release();
  };
}
