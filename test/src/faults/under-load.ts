import { randomInt } from "node:crypto";
import { expect } from "vitest";
import { LEVEL, type FaultBus, type FaultFigures, type Window } from "./bus";
import { REPORT_FILE, writeReport } from "./report";

/** Runs `inject` `opts.reps` times under load, each at a random moment, then checks every invariant. */
export async function runUnderLoad(
  bus: FaultBus,
  opts: { reps: number; gap: [number, number] },
  fault: string,
  inject: (rep: number, window: Window) => Promise<void>,
): Promise<FaultFigures> {
  const { reps: REPS, gap: GAP } = opts;
  const w = await bus.startLoad(fault);
  const recoveryMs: number[] = [];
  try {
    for (let rep = 0; rep < REPS; rep++) {
      // A random moment: after a random number of further acknowledged events.
      await bus.acked(w, randomInt(GAP[0], GAP[1]));
      bus.progress(`${fault} #${rep + 1}: injecting`);
      await inject(rep, w);
      const ms = await bus.recovery(w);
      recoveryMs.push(ms);
      bus.progress(`${fault} #${rep + 1}: a publish was delivered again ${ms} ms after the fault ended`);
    }
    await bus.acked(w, GAP[0]);
  } finally {
    await bus.stopLoad(w);
  }
  const f = await bus.check(w, REPS, recoveryMs);
  process.stdout.write(`\n${writeReport(LEVEL, f)}\n(${REPORT_FILE})\n`);
  if (f.problems.length > 0) process.stdout.write(`${fault}: ${f.problems.slice(0, 30).join("\n  ")}\n`);
  return f;
}

export function expectInvariants(f: FaultFigures) {
  expect(f.acknowledged).toBeGreaterThan(0);
  expect({
    lost: f.lost,
    duplicatedDisclosures: f.duplicatedDisclosures,
    undisclosed: f.undisclosed,
    auditMissing: f.auditMissing,
    agencyMissing: f.agencyMissing,
    agencyDuplicates: f.agencyDuplicates,
    auditVerified: f.auditVerified,
    ingressRefusals: f.ingressRefusals,
    // A service that exits on its own under a fault is a crash (npm start's supervisor would restart it).
    crashes: Object.values(f.crashes).reduce((a, b) => a + b, 0),
    problems: f.problems,
  }).toEqual({
    lost: 0,
    duplicatedDisclosures: 0,
    undisclosed: 0,
    auditMissing: 0,
    agencyMissing: 0,
    agencyDuplicates: 0,
    auditVerified: true,
    ingressRefusals: 0,
    crashes: 0,
    problems: [],
  });
}
