import fs from "node:fs";
import path from "node:path";
import { CACHE_DIR, MAVEN_DEPENDENCY_PLUGIN, STATE_DIR } from "./paths";
import { livePid, portOpen, run, startDetached, stopByPidFile, waitFor, type Progress } from "./proc";

export const APICURIO_VERSION = "3.3.3";
const ARCHIVE = path.join(CACHE_DIR, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
const HOME = path.join(CACHE_DIR, `apicurio-${APICURIO_VERSION}`);
const RUN_JAR = path.join(HOME, "quarkus-run.jar");
const DIR = path.join(STATE_DIR, "registry");
const PID_FILE = path.join(DIR, "registry.pid");
export const REGISTRY_LOG = path.join(DIR, "registry.log");
/** Apicurio 3.3 is compiled for Java 21 (class file 65); the machine's default Java 17 cannot run it. */
const MIN_JAVA = 21;

export interface RegistryPorts {
  port: number;
  managementPort: number;
}

/** Fetches and unpacks the runnable archive (the bits the official image is built from) once. */
export async function ensureRegistryArchive(progress: Progress): Promise<void> {
  if (fs.existsSync(RUN_JAR)) return;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  if (!fs.existsSync(ARCHIVE)) {
    progress(`fetching Apicurio Registry ${APICURIO_VERSION} (≈160 MB, first run only) …`);
    const started = Date.now();
    const timer = setInterval(() => {
      const part = fs.readdirSync(CACHE_DIR).length;
      progress(
        `  … still downloading (${Math.round((Date.now() - started) / 1000)} s, ${part} files in cache)`,
      );
    }, 10_000);
    try {
      // `copy` fetches exactly this artifact; `get` would resolve its whole dependency tree.
      await run("mvn", [
        "-B",
        "-ntp",
        `${MAVEN_DEPENDENCY_PLUGIN}:copy`,
        `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
        `-DoutputDirectory=${CACHE_DIR}`,
      ]);
    } finally {
      clearInterval(timer);
    }
  }
  progress("unpacking Apicurio Registry …");
  const tmp = `${HOME}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await run("tar", ["xzf", ARCHIVE, "-C", tmp]);
  fs.renameSync(tmp, HOME);
}

function javaMajor(javaBin: string): number | undefined {
  const release = path.join(path.dirname(path.dirname(javaBin)), "release");
  if (!fs.existsSync(release)) return undefined;
  const m = /JAVA_VERSION="(\d+)/.exec(fs.readFileSync(release, "utf8"));
  return m ? Number(m[1]) : undefined;
}

/** A Java ≥ 21: GRONDSLAG_REGISTRY_JAVA, else JAVA_HOME, else the newest JDK under /usr/lib/jvm. */
export function findRegistryJava(explicit?: string): string {
  if (explicit) return explicit;
  const candidates: string[] = [];
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, "bin", "java"));
  if (fs.existsSync("/usr/lib/jvm")) {
    for (const d of fs.readdirSync("/usr/lib/jvm"))
      candidates.push(path.join("/usr/lib/jvm", d, "bin", "java"));
  }
  const usable = candidates
    .filter((c) => fs.existsSync(c))
    .map((c) => ({ c, v: javaMajor(c) ?? 0 }))
    .filter((x) => x.v >= MIN_JAVA)
    .sort((a, b) => b.v - a.v);
  if (usable[0]) return usable[0].c;
  throw new Error(
    `Apicurio Registry ${APICURIO_VERSION} needs Java ${MIN_JAVA} or newer and none was found ` +
      `(looked at JAVA_HOME and /usr/lib/jvm). Install one, or point GRONDSLAG_REGISTRY_JAVA at its java binary.`,
  );
}

export function registryRunning(): number | undefined {
  return livePid(PID_FILE);
}

export interface RegistryStorage {
  /** JDBC URL of the PostgreSQL database that keeps schemas (ids survive a registry restart). */
  jdbcUrl: string;
  username: string;
  password: string;
}

export async function startRegistry(
  ports: RegistryPorts,
  storage: RegistryStorage,
  opts: { java?: string | undefined; progress: Progress },
): Promise<boolean> {
  if (registryRunning() !== undefined) return false;
  for (const p of [ports.port, ports.managementPort]) {
    if (await portOpen(p)) {
      throw new Error(
        `port ${p} is taken by a process this stack did not start. Stop it, or choose other ports with ` +
          `GRONDSLAG_REGISTRY_PORT / GRONDSLAG_REGISTRY_MANAGEMENT_PORT.`,
      );
    }
  }
  await ensureRegistryArchive(opts.progress);
  const java = findRegistryJava(opts.java);
  fs.mkdirSync(DIR, { recursive: true });
  opts.progress(`starting Apicurio Registry ${APICURIO_VERSION} on 127.0.0.1:${ports.port} (${java}) …`);
  startDetached(
    java,
    [
      "-Xms128m",
      "-Xmx512m",
      `-Dquarkus.http.host=127.0.0.1`,
      `-Dquarkus.http.port=${ports.port}`,
      `-Dquarkus.management.host=127.0.0.1`,
      `-Dquarkus.management.port=${ports.managementPort}`,
      // Apicurio's default is NONE (Confluent's is BACKWARD): consumers built on an older schema must keep reading.
      "-Dapicurio.rules.global.compatibility=BACKWARD",
      "-Dapicurio.storage.kind=sql",
      "-Dapicurio.storage.sql.kind=postgresql",
      `-Dapicurio.datasource.url=${storage.jdbcUrl}`,
      `-Dapicurio.datasource.username=${storage.username}`,
      `-Dapicurio.datasource.password=${storage.password}`,
      "-Dquarkus.log.console.color=false",
      "-jar",
      RUN_JAR,
    ],
    { cwd: DIR, logFile: REGISTRY_LOG, pidFile: PID_FILE },
  );
  return true;
}

export async function stopRegistry(): Promise<boolean> {
  return stopByPidFile(PID_FILE);
}

/** Ready means: the Confluent API answers and the global compatibility rule is in force. Returns the version. */
export async function waitRegistryReady(url: string, nativeUrl: string, progress: Progress): Promise<string> {
  return waitFor(
    "Apicurio Registry",
    async () => {
      const cfg = await fetch(`${url}/config`, { signal: AbortSignal.timeout(2000) });
      if (!cfg.ok) return undefined;
      const { compatibilityLevel } = (await cfg.json()) as { compatibilityLevel?: string };
      if (!compatibilityLevel || compatibilityLevel === "NONE") {
        throw new Error(
          `registry compatibility is ${compatibilityLevel ?? "unset"}; expected BACKWARD or stricter`,
        );
      }
      const info = await fetch(`${nativeUrl}/system/info`, { signal: AbortSignal.timeout(2000) });
      return info.ok ? ((await info.json()) as { version: string }).version : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500, progress, onTimeout: () => `see ${REGISTRY_LOG}` },
  );
}
