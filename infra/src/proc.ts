import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";

export type Progress = (line: string) => void;

/** Polls `check` until it returns a value, or throws naming `what` once `timeoutMs` has passed. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; progress?: Progress; onTimeout?: () => string },
): Promise<T> {
  const start = Date.now();
  let lastReport = start;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    const now = Date.now();
    if (now - start > opts.timeoutMs) {
      const hint = opts.onTimeout?.() ?? "";
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(
        `${what} not ready after ${Math.round(opts.timeoutMs / 1000)} s${cause}${hint ? `\n${hint}` : ""}`,
      );
    }
    if (opts.progress && now - lastReport >= 5000) {
      opts.progress(`  … still waiting for ${what} (${Math.round((now - start) / 1000)} s)`);
      lastReport = now;
    }
    await delay(opts.intervalMs ?? 250);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function readPid(file: string): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const pid = Number.parseInt(fs.readFileSync(file, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The pid from `file` if that process still runs; removes a stale pid file. */
export function livePid(file: string): number | undefined {
  const pid = readPid(file);
  if (pid === undefined) return undefined;
  if (isAlive(pid)) return pid;
  fs.rmSync(file, { force: true });
  return undefined;
}

/** Starts a long-running process detached from this one, output to `logFile`, pid to `pidFile`. */
export function startDetached(
  cmd: string,
  args: string[],
  opts: { cwd: string; logFile: string; pidFile: string; env?: NodeJS.ProcessEnv },
): number {
  const out = fs.openSync(opts.logFile, "a");
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    detached: true,
    stdio: ["ignore", out, out],
    env: opts.env ?? process.env,
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  child.unref();
  fs.writeFileSync(opts.pidFile, `${child.pid}\n`);
  return child.pid;
}

/** Stops the process in `pidFile` (ours by construction): SIGTERM, then SIGKILL after `graceMs`. */
export async function stopByPidFile(pidFile: string, graceMs = 20_000): Promise<boolean> {
  const pid = livePid(pidFile);
  if (pid === undefined) return false;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await delay(100);
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  while (isAlive(pid)) await delay(50);
  fs.rmSync(pidFile, { force: true });
  return true;
}

export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Runs a command to completion, handing each output line to `onLine`; rejects with the output's tail on failure. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    let partial = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output += text;
      if (output.length > 200_000) output = output.slice(-100_000);
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) opts.onLine?.(line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${cmd} ${args.join(" ")} exited with ${code}:\n${output.split("\n").slice(-25).join("\n")}`,
          ),
        );
    });
    child.stdin.end(opts.input ?? "");
  });
}
