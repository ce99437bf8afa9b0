import type { TestProject } from "vitest/node";
import type { StackConfig } from "../config";
import { acquireStack } from "../harness";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackConfig;
  }
}

/**
 * Brings the stack up once per test run, only when the run includes integration or end-to-end specs, and stops
 * afterwards only what it started: a stack a developer already had running stays up.
 */
export default async function setup(project: TestProject) {
  // Projects inherit the root's globalSetup (vitest concatenates the arrays): act once, in the root, whose
  // provided values every project sees.
  if (project !== project.vitest.getRootProject()) return;
  const needsStack = project.vitest.projects.some((p) => p.name !== "unit");
  if (!needsStack) return;
  const t0 = Date.now();
  const progress = (line: string) =>
    process.stderr.write(`[stack ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  const stack = await acquireStack(progress);
  progress(
    `${stack.config.mode}: Kafka ${stack.config.kafka.version}, Apicurio Registry ${stack.config.registry.version}`,
  );
  project.provide("stack", stack.config);
  return async () => {
    await stack.release();
  };
}
