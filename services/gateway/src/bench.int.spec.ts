import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchReport } from "../bench/report";

// The harness of `npm run bench`, not its figures: a short run of three of its phases (the physical limit, Kafka
// ingress against its raw twin, HTTP through the load generator in its own process) on the test stack must print
// its table and write its JSON and chart. Figures on a shared 2-core machine prove nothing; that they exist, are
// finite and are computed against their twins proves the harness works.
const BENCH = fileURLToPath(new URL("../bench/bench.ts", import.meta.url));
const out = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-bench-smoke-"));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe("npm run bench (a short run)", () => {
  it("measures ingress against its twin and HTTP against /healthz, and writes the table, JSON and chart", async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", BENCH], {
        env: {
          ...process.env,
          BENCH_EVENTS: "2000",
          BENCH_HTTP_SECONDS: "3",
          BENCH_PHASES: "physical,ingress,http",
          BENCH_OUT: out,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-6000)));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/events\/s +ms\/event +× twin +× phys/);
    const report = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8")) as BenchReport;
    const row = (id: string) => report.rows.find((r) => r.id === id);
    for (const id of [
      "physical",
      "kafkajs",
      "ingress-twin",
      "ingress",
      "http-healthz",
      "http-single",
      "http-batch",
    ]) {
      expect(row(id)?.perSecond, id).toBeGreaterThan(0);
    }
    expect(row("ingress")?.events).toBeGreaterThan(0);
    expect(Number.isFinite(row("ingress")?.xTwin)).toBe(true);
    expect(Number.isFinite(row("http-single")?.xTwin)).toBe(true);
    expect(row("http-single")?.latency?.p99).toBeGreaterThan(0);
    expect(row("ingress")?.resources?.rssPeakMb).toBeGreaterThan(0);
    const svg = fs.readFileSync(path.join(out, "ratios.svg"), "utf8");
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain("Kafka ingress ÷ raw pipe");
  }, 240_000);
});
