import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readCredential } from "@grondslag/provision";
import { databaseUrl, type StackConfig } from "@grondslag/infra";
import type { HttpLimits } from "../app";
import { ensureDevKeyPair, signToken } from "../auth";
import type { GatewayWorker } from "../gateway";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/**
 * For specs: the real gateway process (`main.ts`, configured by its environment as an operator would) on the real
 * stack, so a spec can read that process's RSS and CPU time, and keeps running when the gateway's event loop does not.
 */
export async function startChildGateway(
  stack: StackConfig,
  credentialsFile: string,
  opts: {
    /** The HTTP limits an operator can set by environment (streams, long polls, stream length and heartbeat). */
    limits?: Partial<
      Pick<HttpLimits, "streamsPerParty" | "longPollsPerParty" | "streamSeconds" | "streamKeepAliveSeconds">
    >;
    heapMb?: number;
    /** Another principal than the gateway's (with `workers: []`, since it may not read the gateway's topics). */
    kafkaUser?: string;
    workers?: GatewayWorker[];
    /** More of the operator's environment (rate limits, group prefix, ingress parties): set after the defaults. */
    env?: Record<string, string>;
    /** Extra Node options for the gateway's process (e.g. `--cpu-prof`). */
    nodeArgs?: string[];
  } = {},
) {
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "grondslag-child-keys-"));
  const kafkaUser = opts.kafkaUser ?? "grondslag.gateway";
  const limits = opts.limits ?? {};
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GRONDSLAG_ENV: "development",
    LOG_LEVEL: "info",
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    KAFKA_BROKERS: stack.kafka.brokers.join(","),
    GATEWAY_KAFKA_USER: kafkaUser,
    GATEWAY_KAFKA_PASSWORD: readCredential(credentialsFile, kafkaUser),
    REGISTRY_URL: stack.registry.url,
    REGISTRY_USERNAME: stack.registry.gateway.username,
    REGISTRY_PASSWORD: stack.registry.gateway.password,
    DATABASE_URL: databaseUrl(stack.postgres),
    GATEWAY_DB_SCHEMA: "gateway",
    PSEUDONYM_KEY: crypto.randomBytes(32).toString("base64"),
    DEV_KEYS_DIR: keysDir,
    GATEWAY_WORKERS: opts.workers ? opts.workers.join(",") || "none" : "delivery,ingress",
    GATEWAY_RATE_PER_SECOND: "0",
    ...(limits.streamsPerParty ? { GATEWAY_STREAMS_PER_PARTY: String(limits.streamsPerParty) } : {}),
    ...(limits.longPollsPerParty ? { GATEWAY_LONG_POLLS_PER_PARTY: String(limits.longPollsPerParty) } : {}),
    ...(limits.streamSeconds ? { GATEWAY_STREAM_SECONDS: String(limits.streamSeconds) } : {}),
    ...(limits.streamKeepAliveSeconds
      ? { GATEWAY_STREAM_KEEPALIVE_SECONDS: String(limits.streamKeepAliveSeconds) }
      : {}),
    ...opts.env,
  };
  if (!opts.env?.CONTRACTS_DIR) delete env.CONTRACTS_DIR;
  const child: ChildProcess = spawn(
    process.execPath,
    [`--max-old-space-size=${opts.heapMb ?? 1024}`, ...(opts.nodeArgs ?? []), "--import", "tsx", MAIN],
    { stdio: ["ignore", "pipe", "pipe"], env },
  );
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    // A gateway that never says it listens is ended, never left behind.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child gateway did not start: ${stderr}`));
    }, 90_000);
    // The log stream (one JSON line per entry) is read to its end, so the pipe never fills; only its last 8 KB
    // are kept, for a failure's message. The kit's "listening" line names the URL.
    child.stdout?.on("data", (d: Buffer) => {
      out = (out + d.toString()).slice(-8000);
      stdout = out;
      const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`child gateway exited with ${code}: ${stderr}${stdout}`));
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
