import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT, waitFor } from "@grondslag/infra";

/**
 * One service of the bus as its own process (`node --import tsx services/<x>/src/main.ts`, configured by its
 * environment as `npm start` configures it), on a fixed port so a restarted instance keeps its address. The fault
 * specs kill it with SIGKILL and start it again; an exit nobody asked for is counted (and the process is started
 * again, as `npm start`'s supervisor would), so a crash under a fault shows in the report.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private killing = false;
  private stopped = false;
  /** Exits the spec did not cause (a crash, or a service's own exit on a fault), with the exit status. */
  readonly unexpectedExits: { at: number; how: string }[] = [];
  starts = 0;

  constructor(
    readonly name: string,
    readonly main: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    private readonly progress: (line: string) => void,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.child !== undefined;
  }

  /** Spawns the process and resolves once its /readyz answers 200. */
  async start(timeoutMs = 120_000): Promise<void> {
    this.stopped = false;
    this.spawnChild();
    await this.ready(timeoutMs);
  }

  private spawnChild(): void {
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    const out = fs.openSync(this.logFile, "a");
    const c = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, this.main)], {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    this.child = c;
    this.starts++;
    c.on("exit", (code, signal) => {
      if (this.child === c) this.child = undefined;
      if (this.killing || this.stopped) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      this.unexpectedExits.push({ at: Date.now(), how });
      this.progress(`${this.name} exited on its own (${how}); starting it again (see ${this.logFile})`);
      // The log may not outlive the run (CI keeps only what is printed): its last lines say why.
      for (const line of lastLines(this.logFile, 8)) this.progress(`  ${this.name}| ${line}`);
      // As npm start's supervisor does: a service that exits is started again (after a second).
      setTimeout(() => {
        if (!this.stopped && !this.child) this.spawnChild();
      }, 1000).unref();
    });
  }

  /** Resolves once /readyz answers 200 (the service's own readiness: its Kafka, registry, database). */
  async ready(timeoutMs = 120_000): Promise<void> {
    await waitFor(
      `${this.name} ready`,
      async () => {
        const res = await fetch(`${this.base}/readyz`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? true : undefined;
      },
      { timeoutMs, intervalMs: 100, onTimeout: () => `see ${this.logFile}` },
    );
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    this.killing = true;
    const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGKILL");
    await gone;
    this.killing = false;
  }

  /** SIGTERM (SIGKILL after 20 s), and no restarts. */
  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.child;
    if (!c) return;
    const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGTERM");
    const t = setTimeout(() => c.kill("SIGKILL"), 20_000);
    await gone;
    clearTimeout(t);
  }
}

/** The last `n` lines of a file (each cut at 400 characters), or none when it cannot be read. */
export function lastLines(file: string, n: number): string[] {
  try {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, "r");
    try {
      const len = Math.min(size, 16_384);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      const lines = buf
        .toString("utf8")
        .split("\n")
        .filter((l) => l.trim() !== "");
      // The first line of a cut read may be partial: dropped unless the read took the whole file.
      return (len < size ? lines.slice(1) : lines).slice(-n).map((l) => l.slice(0, 400));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}
