import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "@grondslag/infra";
import { describe, expect, it } from "vitest";

/**
 * `npm start -- --once` as a newcomer runs it, on the real stack: the gateway, the audit service and the eleven
 * agency processes, the chain "a temp agency loses its admission", the summary. The run itself waits for every
 * reaction in the agencies' own states; this spec then reads those states (the run's report: each agency's
 * `GET /v1/state` at the end) and checks the effects one by one, each exactly once.
 */
type Row = Record<string, unknown>;
interface State {
  party: string;
  handled: number;
  state: Record<string, Row[]>;
  outbox: { topic: string; state: string; refusalCode: string | null }[];
  deadLetters: { topic: string; reason: string }[];
}
interface Report {
  outcomes: { title: string; ok: boolean; problems: string[] }[];
  refused: { ok: boolean; code?: string };
  states: State[];
}

const UITLENER = "90000002";
const INLENER = "90000101";

function runOnce(reportFile: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "services/scenario/src/main.ts", "--once"], {
      cwd: REPO_ROOT,
      env: { ...process.env, SCENARIO_REPORT: reportFile, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("npm start -- --once (the whole bus, the chain, every agency's reaction)", () => {
  it("runs the chain and every agency holds each expected effect exactly once", async () => {
    const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-chain-")), "report.json");
    const { code, output } = await runOnce(reportFile);
    expect(code, output.slice(-6000)).toBe(0);
    const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report;
    expect(report.outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(report.refused).toMatchObject({ ok: true, code: "NOT_A_CONSUMER" });
    const of = (party: string) => {
      const s = report.states.find((x) => x.party === party);
      if (!s) throw new Error(`no state of ${party} in the report`);
      return s;
    };
    const rows = (party: string, table: string, pred: (r: Row) => boolean = () => true) =>
      (of(party).state[table] ?? []).filter(pred);
    const about = (r: Row) => r.subjectKvk === UITLENER || r.uitlenerKvk === UITLENER;

    // Nothing was parked: every delivery of the chain was handled.
    for (const s of report.states) expect(s.deadLetters, s.party).toEqual([]);

    // szw.toelating: the admission, the three grounds in the chain's order, the revocation.
    expect(rows("szw.toelating", "admissions", about).map((a) => a.status)).toEqual(["REVOKED"]);
    expect(rows("szw.toelating", "grounds", about).length).toBeGreaterThanOrEqual(3);
    const szwOut = of("szw.toelating").outbox.map((o) => `${o.topic}:${o.state}`);
    expect(szwOut.filter((o) => o === "wtta.admission-revoked:sent")).toHaveLength(1);
    expect(szwOut.filter((o) => o === "wtta.admission-granted:sent")).toHaveLength(1);

    // inspectie.sna: the follow-up inspection it scheduled and the non-compliant report it filed.
    expect(rows("inspectie.sna", "inspections", about)).toHaveLength(1);
    expect(rows("inspectie.sna", "reports", about).map((r) => r.outcome)).toEqual(["NON_COMPLIANT"]);

    // The uitlener: one report of its own and one vergewis task for the one notice.
    expect(rows("uitlener.90000002", "tasks")).toHaveLength(1);
    expect(of("uitlener.90000002").outbox.filter((o) => o.topic === "arbo.accident-reported")).toHaveLength(
      1,
    );

    // The inlener: NOT_ADMITTED in its register, the placement to be ended.
    expect(rows("inlener.90000101", "register", about).map((r) => r.registerStatus)).toEqual([
      "NOT_ADMITTED",
    ]);
    expect(rows("inlener.90000101", "placements", about).map((r) => r.status)).toEqual(["TO_BE_ENDED"]);

    // nla: one case for two reports of one accident, one fine investigation, one signal, one AMU case.
    const cases = rows("nla", "cases", (r) => r.inlenerKvk === INLENER);
    expect(cases).toHaveLength(1);
    expect(cases[0]?.reports).toHaveLength(2);
    expect(rows("nla", "enforcementActions", (r) => r.inlenerKvk === INLENER)).toHaveLength(1);
    expect(rows("nla", "amuCases", about)).toHaveLength(1);

    // belastingdienst and svb: the inlener's liability review, the posting review, each recording the AMU case.
    expect(rows("belastingdienst", "liabilityReviews", (r) => r.inlenerKvk === INLENER)).toHaveLength(1);
    expect(rows("svb", "postingReviews", about)).toHaveLength(1);
    for (const p of ["belastingdienst", "svb", "uwv"]) expect(rows(p, "amuCases", about), p).toHaveLength(1);

    // uwv: the accident once; the registration gap prepared and refused, as no law carries it yet.
    expect(rows("uwv", "accidents", (r) => r.inlenerKvk === INLENER)).toHaveLength(1);
    expect(rows("uwv", "findings", about).map((f) => f.refusalCode)).toContain("LEGAL_BASIS_NOT_IN_FORCE");

    // Schiedam: the address investigation, its own violation, the notices in Polish (refused: no law yet).
    expect(rows("gemeente.schiedam", "investigations").length).toBeGreaterThanOrEqual(1);
    const notices = rows("gemeente.schiedam", "workerNotices");
    expect(notices.map((n) => n.language)).toEqual(["pl", "pl"]);
    expect(
      of("gemeente.schiedam").outbox.filter(
        (o) => o.topic === "informatie.worker-notice-issued" && o.refusalCode === "LEGAL_BASIS_NOT_IN_FORCE",
      ),
    ).toHaveLength(2);

    // The public bodies' desks show cases by company, reference and count: no worker's BSN (the uitlener's own
    // worker records do hold them; they are its administration).
    for (const p of ["nla", "uwv", "svb", "belastingdienst", "gemeente.schiedam", "szw.toelating"]) {
      const shown = JSON.stringify(of(p).state);
      for (const bsn of ["231445611", "231445623"])
        expect(shown.includes(bsn), `${p} shows a BSN`).toBe(false);
    }
  });
});
