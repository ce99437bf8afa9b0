import { randomInt } from "node:crypto";
import { ephemeralPortRange, type PrivateStack } from "@grondslag/infra";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEVEL, startFaultBus, type FaultBus } from "../src/faults/bus";
import { faultStackOf, startProvisionedStack } from "../src/faults/cluster";
import { expectInvariants, runUnderLoad } from "../src/faults/under-load";

/**
 * Faults under steady load, every invariant checked after each. The bus runs as `npm start` runs it (two gateway
 * processes sharing their groups, the audit service, the Belastingdienst's agency service; a private PostgreSQL),
 * with HTTP producers failing over between the gateways, a Kafka ingress producer, and real consumers (Kafka, HTTP,
 * a Kafka group, the agency). Each fault is injected at random moments (after a random number of acknowledged
 * events); after each, the time until a publish is delivered again is measured; at the end of each fault the load
 * stops and the invariants are checked:
 * - every acknowledged event is on its canonical topic, under one event id. Exactly once is reported, NOT
 *   asserted: after a broker kill the gateway writes some events twice under the same event id (a transaction it
 *   answered 503 for may have committed, and the client's retry finds no idempotency row): "dup canonical" in the
 *   figures. Delivery and audit deduplicate them by event id, which the DISCLOSE and agency checks prove;
 * - it reached each followed consumer its contract names (repeats only under the same event id);
 * - each delivery has exactly one DISCLOSE record; the audit store holds every audit.log record once and
 *   `audit:verify` passes;
 * - the agency applied each event once.
 *
 * GRONDSLAG_FAULTS=full (npm run test:faults): 5 repetitions of each fault, PostgreSQL down 30 s each time; the
 * default (inside npm test) runs each fault once, PostgreSQL down 10 s, shorter gaps, one churn cycle. The figures go to
 * test/.artifacts/faults-report.json and are printed as a table.
 *
 * The stack comes in as a `FaultStack`: a private single node here; cluster.faults.spec.ts runs the bus on three.
 */
const FULL = LEVEL === "full";
const REPS = FULL ? 5 : 1;
const PG_DOWN_MS = FULL ? 30_000 : 10_000;
/** Acknowledged events between faults (a random count in this range: the moment of the fault). */
const GAP: [number, number] = FULL ? [15, 60] : [10, 30];
/** Join-and-leave cycles of the consumer group per repetition. */
const CHURN_CYCLES = FULL ? 3 : 1;

let stack: PrivateStack;
let bus: FaultBus;
const underLoad = (fault: string, inject: (rep: number) => Promise<void>) =>
  runUnderLoad(bus, { reps: REPS, gap: GAP }, fault, inject);

// The stack is the fault suite's own (one node, freshly provisioned): the faults kill its broker and registry, never
// those of the stack the other specs share. (Once in CI the shared node, killed after every other spec had run on it,
// came back serving no SCRAM credentials at all: see RELIABILITY.md.)
beforeAll(async () => {
  const progress = (line: string) => process.stderr.write(`[bus-faults] ${line}\n`);
  stack = await startProvisionedStack("bus-faults", 1, progress);
  bus = await startFaultBus({ stack: faultStackOf(stack), credentialsFile: stack.credentialsFile });
}, 600_000);

afterAll(async () => {
  await bus?.stop();
  await stack?.stop();
}, 300_000);

describe(`faults under load (${LEVEL}: ${REPS}× each)`, () => {
  it("runs every process it restarts on a port below the kernel's ephemeral range", () => {
    // In that range, a killed process's port can become the local port of any outgoing connection on the machine
    // before the process is started again, which then cannot listen (EADDRINUSE; see infra/src/ports.int.spec.ts).
    const [low] = ephemeralPortRange();
    const ports = {
      postgres: bus.pg.port,
      ...Object.fromEntries(bus.gateways.map((g) => [g.name, g.port])),
      audit: bus.audit.port,
      agency: bus.agency.port,
    };
    for (const [name, port] of Object.entries(ports)) expect(port, name).toBeLessThan(low);
  });

  it("a broker killed with kill -9 and started again", async () => {
    const f = await underLoad("broker-kill", async () => {
      const i = randomInt(bus.stack.brokers);
      await bus.stack.killBroker(i);
      await bus.stack.startBroker(i);
    });
    expectInvariants(f);
  });

  it("a gateway instance killed (SIGKILL) mid-batch while the other shares its groups", async () => {
    const f = await underLoad("gateway-kill", async (rep) => {
      const g = bus.gateways[rep % bus.gateways.length]!;
      await g.kill();
      await g.start();
    });
    expectInvariants(f);
  });

  it(`PostgreSQL stopped (immediate) for ${PG_DOWN_MS / 1000} s`, async () => {
    const f = await underLoad("postgres-down", async () => {
      await bus.pg.crash();
      // The fault's duration: PostgreSQL stays down this long.
      await new Promise((r) => setTimeout(r, PG_DOWN_MS));
      await bus.pg.start();
    });
    expectInvariants(f);
  });

  it("the schema registry killed and started again", async () => {
    const f = await underLoad("registry-kill", async () => {
      await bus.stack.killRegistry();
      await bus.stack.startRegistry();
    });
    expectInvariants(f);
  });

  it("the agency service and the audit service killed (SIGKILL) and started again", async () => {
    const f = await underLoad("agency-audit-kill", async () => {
      await Promise.all([bus.agency.kill(), bus.audit.kill()]);
      await Promise.all([bus.agency.start(), bus.audit.start()]);
    });
    expectInvariants(f);
  });

  it("consumers joining and leaving repeatedly, one slower than its session timeout", async () => {
    const f = await underLoad("consumer-churn", async () => {
      // The slow member: a handler that outlasts its 6 s session timeout once; the group rebalances around it.
      const slow = await bus.churn.join({ slowMs: 9_000 });
      for (let i = 0; i < CHURN_CYCLES; i++) {
        const m = await bus.churn.join();
        await bus.churn.join().then((m2) => m2.stop());
        await m.stop();
      }
      await slow.stop();
    });
    expectInvariants(f);
  });
});
