import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readCredential } from "@grondslag/provision";
import { databaseUrl, type StackConfig } from "@grondslag/infra";
import type { HttpLimits } from "../app";
import { ensureDevKeyPair, signToken } from "../auth";

const FIXTURE = fileURLToPath(new URL("../child-gateway.fixture.ts", import.meta.url));

/**
 * For specs: the real gateway (core on the real stack, HTTP app) in a child process, so a spec can read that
 * process's RSS and CPU time, and keeps running when the gateway's event loop does not.
 */
export async function startChildGateway(
  stack: StackConfig,
  credentialsFile: string,
  opts: {
    limits?: Partial<HttpLimits>;
    heapMb?: number;
    /** Another principal than the gateway's (with `workers: []`, since it may not read the gateway's topics). */
    kafkaUser?: string;
    workers?: ("delivery" | "ingress")[];
  } = {},
) {
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-child-keys-"));
  const kafkaUser = opts.kafkaUser ?? "grondslag.gateway";
  const config = {
    gateway: {
      brokers: stack.kafka.brokers,
      kafkaUser,
      kafkaPassword: readCredential(credentialsFile, kafkaUser),
      registryUrl: stack.registry.url,
      registryAuth: stack.registry.gateway,
      databaseUrl: databaseUrl(stack.postgres),
      dbSchema: "gateway",
      contractsDir: undefined,
      ...(opts.workers ? { workers: opts.workers } : {}),
    },
    keysDir,
    limits: opts.limits,
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [`--max-old-space-size=${opts.heapMb ?? 1024}`, "--import", "tsx", FIXTURE, JSON.stringify(config)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`child gateway did not start: ${stderr}`)), 90_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`child gateway exited with ${code}: ${stderr}`));
    });
  });
  const pid = child.pid ?? 0;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  return {
    base: `http://127.0.0.1:${port}`,
    pid,
    exited: () => exited,
    stderr: () => stderr,
    async token(party: string) {
      const { privateJwk } = await ensureDevKeyPair(keysDir, party);
      return signToken(privateJwk, {
        party,
        issuer: "grondslag-dev",
        audience: "grondslag-gateway",
        ttlSeconds: 600,
        now: new Date(),
      });
    },
    /** Resident set size of the gateway's process, in MB (from /proc: the process itself, not a guess). */
    rssMb(): number {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
      return kb / 1024;
    },
    /** CPU seconds (user + system) the gateway's process has used so far. */
    cpuSeconds(): number {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    async stop() {
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await gone;
        clearTimeout(timer);
      }
      fs.rmSync(keysDir, { recursive: true, force: true });
    },
    kill() {
      if (!exited) child.kill("SIGKILL");
    },
  };
}

export type ChildGateway = Awaited<ReturnType<typeof startChildGateway>>;
