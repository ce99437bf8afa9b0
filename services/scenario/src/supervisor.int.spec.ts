import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { supervise, type Supervised } from "./supervisor";

// Real child processes (no broker needed): a child that crashes is restarted with a growing backoff, and each
// restart is reported; stop() ends the child and restarts nothing.
describe("supervise", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-supervisor-"));
  let sup: Supervised | undefined;
  afterEach(async () => {
    await sup?.stop();
  });

  it("restarts a child that exits, with backoff, and says so; stop() ends it for good", async () => {
    const counter = path.join(dir, "count");
    fs.writeFileSync(counter, "0");
    // Exits with code 3 on its first two runs, then stays up.
    const script = `
      const fs = require("fs");
      const n = Number(fs.readFileSync(${JSON.stringify(counter)}, "utf8")) + 1;
      fs.writeFileSync(${JSON.stringify(counter)}, String(n));
      if (n <= 2) process.exit(3);
      setInterval(() => {}, 1000);
    `;
    const lines: string[] = [];
    const pidFile = path.join(dir, "child.pid");
    const t0 = Date.now();
    sup = supervise({
      name: "child",
      cmd: process.execPath,
      args: ["-e", script],
      cwd: dir,
      env: process.env,
      logFile: path.join(dir, "child.log"),
      pidFile,
      progress: (l) => lines.push(l),
      backoffMs: 100,
    });
    await sup.spawned(3);
    const elapsed = Date.now() - t0;
    expect(sup.restarts()).toBe(2);
    // 100 ms, then 200 ms: the backoff doubled.
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(lines).toEqual([
      expect.stringMatching(/^child exited \(code 3\); restarting in 0\.1 s \(restart 1;/),
      expect.stringMatching(/^child exited \(code 3\); restarting in 0\.2 s \(restart 2;/),
    ]);
    const pid = sup.pid();
    expect(pid).toBeDefined();
    expect(fs.readFileSync(pidFile, "utf8").trim()).toBe(String(pid));

    await sup.stop();
    expect(sup.pid()).toBeUndefined();
    expect(() => process.kill(pid ?? 0, 0)).toThrow();
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(sup.restarts()).toBe(2);
  });
});
