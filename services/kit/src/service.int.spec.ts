import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

// The skeleton is a process-level contract (signals, exit codes, ports), so this spec runs a real process.
const fixture = fileURLToPath(new URL("./service.fixture.ts", import.meta.url));
const running: ChildProcess[] = [];

function startFixture(env: Record<string, string>) {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kit-service-")), "events.log");
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env: { ...process.env, LOG_LEVEL: "info", FIXTURE_LOG: log, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = async (timeoutMs = 20_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
      if (m?.[1]) return m[1];
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no url within ${timeoutMs} ms: ${stdout} ${stderr}`);
  };
  return { child, exited, url, log, out: () => ({ stdout, stderr }) };
}

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

describe("createService", () => {
  it("serves health, readiness and metrics, and on SIGTERM stops the service then exits 0", async () => {
    const f = startFixture({});
    const base = await f.url();
    expect(await fetch(`${base}/healthz`).then((r) => r.json())).toEqual({ status: "ok" });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { kafka: true } });
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/process_cpu_seconds_total/);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    f.child.kill("SIGTERM");
    expect(await f.exited).toBe(0);
    expect(fs.readFileSync(f.log, "utf8")).toBe("start\nstop\n");
    // One JSON log stream, named by service.
    expect(f.out().stdout).toMatch(/"service":"fixture".*"msg":"stopped"/);
  });

  it("answers 503 problem+json naming the failed check and why", async () => {
    const f = startFixture({ FIXTURE_UNREADY: "broker unreachable" });
    const res = await fetch(`${await f.url()}/readyz`);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(await res.json()).toMatchObject({
      code: "UNAVAILABLE",
      detail: "not ready: kafka (broker unreachable)",
      checks: { kafka: false },
    });
  });

  it("exits 2 naming every invalid variable, before starting anything", async () => {
    const f = startFixture({ FIXTURE_PORT: "http", LOG_LEVEL: "loud" });
    expect(await f.exited).toBe(2);
    expect(f.out().stderr).toMatch(/invalid fixture environment:\n {2}LOG_LEVEL: .*\n {2}FIXTURE_PORT: /);
    expect(fs.existsSync(f.log)).toBe(false);
  });

  it("exits 1 after stopping when a worker calls fatal", async () => {
    const f = startFixture({ FIXTURE_FATAL_MS: "300" });
    expect(await f.exited).toBe(1);
    expect(fs.readFileSync(f.log, "utf8")).toBe("start\nstop\n");
    expect(f.out().stdout).toMatch(/"level":60.*worker gone/);
  });

  it("exits 1 when stopping takes longer than its timeout", async () => {
    const f = startFixture({ FIXTURE_STOP_MS: "10000" });
    await f.url();
    f.child.kill("SIGTERM");
    expect(await f.exited).toBe(1);
    expect(f.out().stderr).toMatch(/stopping took over 2000 ms/);
  });
});
