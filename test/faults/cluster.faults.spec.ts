import { randomInt } from "node:crypto";
import type { PrivateStack } from "@grondslag/infra";
import { afterAll, beforeAll, describe, it } from "vitest";
import { LEVEL, startFaultBus, type FaultBus } from "../src/faults/bus";
import { faultStackOf, startProvisionedStack } from "../src/faults/cluster";
import { expectInvariants, runUnderLoad } from "../src/faults/under-load";

/**
 * The bus itself (two gateways, the audit service, an agency, HTTP and Kafka producers and consumers, as in
 * bus.faults.spec.ts) on a private three-node cluster provisioned by contracts:apply (replication 3,
 * min.insync.replicas 2): one of the three brokers killed with kill -9 at random moments under the load and started
 * again. Survival, not only recovery: with one broker down the others lead its partitions, and every invariant holds
 * at the end (nothing acknowledged lost, one DISCLOSE per delivery, the audit store complete and verified, each
 * agency effect once). GRONDSLAG_FAULTS=full: 5 kills; inside npm test: 2.
 */
const FULL = LEVEL === "full";
const REPS = FULL ? 5 : 2;
const GAP: [number, number] = FULL ? [15, 60] : [10, 30];
const progress = (line: string) => process.stderr.write(`[cluster-faults] ${line}\n`);

let cluster: PrivateStack;
let bus: FaultBus;

beforeAll(async () => {
  cluster = await startProvisionedStack("cluster-faults", 3, progress);
  bus = await startFaultBus({
    stack: faultStackOf(cluster),
    credentialsFile: cluster.credentialsFile,
    progress,
  });
}, 600_000);

afterAll(async () => {
  await bus?.stop();
  await cluster?.stop();
}, 300_000);

describe(`faults under load on three brokers (${LEVEL}: ${REPS}× each)`, () => {
  it("one broker of three killed with kill -9 and started again: the bus goes on and loses nothing", async () => {
    const f = await runUnderLoad(bus, { reps: REPS, gap: GAP }, "broker-kill-1-of-3", async (_rep, w) => {
      const i = randomInt(cluster.brokers);
      await cluster.killBroker(i);
      // Survival, not only recovery: with the broker still down, publishing goes on (delivery of these is checked
      // with the rest at the end).
      await bus.acked(w, GAP[0]);
      await cluster.startBroker(i);
      await cluster.waitInSync();
    });
    expectInvariants(f);
  });
});
