import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";

export interface SupervisedOptions {
  name: string;
  cmd: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Written with the current child's pid, so `npm run infra:down` can stop it even if this process died. */
  pidFile: string;
  progress: (line: string) => void;
  /** First restart delay; doubles per consecutive crash up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A child that stayed up this long counts as healthy again: the next crash restarts after `backoffMs`. */
  stableMs?: number;
  /** SIGTERM, then SIGKILL after this long, on `stop()`. */
  graceMs?: number;
}

export interface Supervised {
  /** The running child's pid, if one runs. */
  pid(): number | undefined;
  /** How many times the child was restarted after exiting on its own. */
  restarts(): number;
  /** Resolves when the n-th child (1 = the first) has been spawned. */
  spawned(n: number): Promise<void>;
  /** Stops the child and restarts no more. */
  stop(): Promise<void>;
}

/**
 * Keeps one child process running: a child that exits on its own (a crash, or the gateway's own exit on a worker
 * that stopped for good) is started again after an exponential backoff, and each restart is reported, so an
 * outage is neither silent nor a tight crash loop that eats the machine's two cores.
 */
export function supervise(opts: SupervisedOptions): Supervised {
  const backoffMs = opts.backoffMs ?? 1000;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const stableMs = opts.stableMs ?? 60_000;
  const graceMs = opts.graceMs ?? 20_000;
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let spawnedCount = 0;
  let delay = backoffMs;
  let timer: NodeJS.Timeout | undefined;
  const spawnWaiters: { n: number; resolve: () => void }[] = [];

  const launch = () => {
    timer = undefined;
    if (stopping) return;
    const out = fs.openSync(opts.logFile, "a");
    // Its own process group: a Ctrl-C in the terminal reaches this supervisor, which stops the child in order.
    const c = spawn(opts.cmd, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    child = c;
    const startedAt = Date.now();
    if (c.pid !== undefined) fs.writeFileSync(opts.pidFile, `${c.pid}\n`);
    spawnedCount++;
    for (const w of spawnWaiters.filter((w) => w.n <= spawnedCount)) {
      spawnWaiters.splice(spawnWaiters.indexOf(w), 1);
      w.resolve();
    }
    c.on("error", (err) => opts.progress(`${opts.name}: could not start: ${err.message}`));
    c.on("exit", (code, signal) => {
      if (child === c) child = undefined;
      fs.rmSync(opts.pidFile, { force: true });
      if (stopping) return;
      if (Date.now() - startedAt >= stableMs) delay = backoffMs;
      restarts++;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      opts.progress(
        `${opts.name} exited (${how}); restarting in ${(delay / 1000).toFixed(1)} s (restart ${restarts}; log: ${opts.logFile})`,
      );
      timer = setTimeout(launch, delay);
      delay = Math.min(delay * 2, maxBackoffMs);
    });
  };
  launch();

  return {
    pid: () => child?.pid,
    restarts: () => restarts,
    spawned: (n) =>
      n <= spawnedCount ? Promise.resolve() : new Promise((resolve) => spawnWaiters.push({ n, resolve })),
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
      c.kill("SIGTERM");
      const kill = setTimeout(() => c.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(kill);
    },
  };
}
