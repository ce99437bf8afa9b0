import { defineConfig } from "vitest/config";

// Three tiers, named in the file name (unit: no I/O; int: real Kafka, registry or PostgreSQL; e2e: the whole
// stack). Integration and end-to-end specs share one stack that the global setup brings up once per run (and stops
// afterwards only if it started it).
/**
 * Run alone, after everything else: the bench's smoke run saturates both cores with a load generator for tens of
 * seconds; the subscriptions spec bounds /healthz latency during an outage replay, and the ingress spec the gateway's
 * RSS during a poisoned-record replay, bounds that other specs' load on two cores can push over.
 */
const SOLO = [
  "services/gateway/src/bench.int.spec.ts",
  "services/gateway/src/core/subscriptions.int.spec.ts",
  // Bounds the gateway's RSS at 300 MB during a poisoned-record replay: 316 MB once beside the other specs.
  "services/gateway/src/core/ingress.int.spec.ts",
];

export default defineConfig({
  test: {
    // CI logs list every test by name (the smoke test's names the broker and registry versions it ran against).
    // In CI, a JSON report too: .ci/run prints its totals as the plain "N passed, N failed" closing line.
    reporters: process.env.CI ? ["verbose", "json"] : ["default"],
    outputFile: { json: "coverage/vitest-results.json" },
    globalSetup: ["test/src/global-setup.ts"],
    setupFiles: ["test/src/kafkajs-setup.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["**/src/**/*.unit.spec.ts"],
          exclude: ["**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "int",
          include: ["**/src/**/*.int.spec.ts"],
          exclude: ["**/node_modules/**", ...SOLO],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/**/*.e2e.spec.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          // `npm start -- --once` as a newcomer runs it: its gateway reads every party's ingress topic and its
          // agencies every delivery topic of their parties, so it runs after the other projects, alone on the stack.
          name: "chain",
          include: ["test/**/*.chain.spec.ts"],
          testTimeout: 600_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          // Specs that bound latency under load (or make the load): last, one file at a time, alone on the machine.
          name: "solo",
          include: [...SOLO],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          // Faults under load (test/src/faults): they kill the stack's broker and registry, so they run after
          // everything else, one file at a time. GRONDSLAG_FAULTS=full (npm run test:faults) repeats each fault 5
          // times; inside npm test each runs once, shorter.
          name: "faults",
          include: ["test/faults/**/*.faults.spec.ts"],
          fileParallelism: false,
          testTimeout: 1_800_000,
          hookTimeout: 300_000,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
