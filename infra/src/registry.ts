import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CACHE_DIR, MAVEN_DEPENDENCY_PLUGIN, STATE_DIR } from "./paths";
import { livePid, portOpen, run, startDetached, stopByPidFile, waitFor, type Progress } from "./proc";

export const APICURIO_VERSION = "3.3.3";
const ARCHIVE = path.join(CACHE_DIR, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
const HOME = path.join(CACHE_DIR, `apicurio-${APICURIO_VERSION}`);
const RUN_JAR = path.join(HOME, "quarkus-run.jar");
/** The registry's working directory in a stack's state directory (config, pid, log). */
const registryDir = (stateDir: string) => path.join(stateDir, "registry");
const pidFile = (stateDir: string) => path.join(registryDir(stateDir), "registry.pid");
const logFile = (stateDir: string) => path.join(registryDir(stateDir), "registry.log");
export const REGISTRY_LOG = logFile(STATE_DIR);
/** Apicurio 3.3 is compiled for Java 21 (class file 65); the machine's default Java 17 cannot run it. */
const MIN_JAVA = 21;

/** A registry account: HTTP basic auth on every call (anonymous callers get 401). */
export interface RegistryCredential {
  username: string;
  password: string;
}

/**
 * The registry's two accounts. Parties get none: they read schemas through the gateway's read-only subset
 * (`/v1/registry`), which shows each party only its own subjects.
 */
export interface RegistryAccounts {
  /** Provisioning (`contracts:apply`) and tests that register schemas: Apicurio role sr-admin. */
  admin: RegistryCredential;
  /** The gateway: role sr-readonly. It only looks ids up and reads schemas; a leaked gateway secret rewrites nothing. */
  gateway: RegistryCredential;
}

/** The accounts of the native registry: generated once into the stack's state dir (0600), kept across restarts. */
export function registryAccounts(stateDir = STATE_DIR): RegistryAccounts {
  const ACCOUNTS_FILE = path.join(stateDir, "registry-accounts.json");
  if (!fs.existsSync(ACCOUNTS_FILE)) {
    fs.mkdirSync(stateDir, { recursive: true });
    const secret = () => crypto.randomBytes(18).toString("base64url");
    const accounts: RegistryAccounts = {
      admin: { username: "provision", password: secret() },
      gateway: { username: "gateway", password: secret() },
    };
    fs.writeFileSync(ACCOUNTS_FILE, JSON.stringify(accounts, null, 2) + "\n", { mode: 0o600 });
  }
  return JSON.parse(fs.readFileSync(ACCOUNTS_FILE, "utf8")) as RegistryAccounts;
}

/** The `Authorization` header value for a registry account. */
export function basicAuth(c: RegistryCredential): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

/**
 * Apicurio's own authentication, no identity server needed: Quarkus HTTP basic auth against the embedded users
 * realm (enabled at build time in the 3.3.3 archive), and Apicurio's role-based authorization on those users'
 * roles. Quarkus warns that `quarkus.http.auth.basic` is "build time fixed"; Apicurio reads it at run time to build
 * its authentication chain (its log says `Authentication chain: basic`), and the readiness check below proves
 * anonymous callers are refused. Written to `config/application.properties` in the registry's working directory
 * (Quarkus reads it from there), mode 0600, so no secret is on a command line.
 */
function authProperties(accounts: RegistryAccounts): string {
  const user = (c: RegistryCredential, role: string) => [
    `quarkus.security.users.embedded.users.${c.username}=${c.password}`,
    `quarkus.security.users.embedded.roles.${c.username}=${role}`,
  ];
  return [
    "quarkus.http.auth.basic=true",
    "quarkus.security.users.embedded.enabled=true",
    "quarkus.security.users.embedded.plain-text=true",
    ...user(accounts.admin, "sr-admin"),
    ...user(accounts.gateway, "sr-readonly"),
    "apicurio.auth.role-based-authorization=true",
    "apicurio.auth.role-source=token",
    "apicurio.auth.anonymous-read-access.enabled=false",
    "",
  ].join("\n");
}

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

export function registryRunning(stateDir = STATE_DIR): number | undefined {
  return livePid(pidFile(stateDir));
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
  opts: { java?: string | undefined; progress: Progress; stateDir?: string },
): Promise<boolean> {
  const stateDir = opts.stateDir ?? STATE_DIR;
  const DIR = registryDir(stateDir);
  if (registryRunning(stateDir) !== undefined) return false;
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
  fs.mkdirSync(path.join(DIR, "config"), { recursive: true });
  fs.writeFileSync(
    path.join(DIR, "config", "application.properties"),
    authProperties(registryAccounts(stateDir)),
    {
      mode: 0o600,
    },
  );
  fs.chmodSync(path.join(DIR, "config", "application.properties"), 0o600);
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
      // Apicurio's defaults hold 20 connections open and allow 100: on a PostgreSQL server with its default
      // max_connections of 100 that starves the gateway and the tests ("sorry, too many clients already", seen here).
      "-Dapicurio.datasource.jdbc.initial-size=2",
      "-Dapicurio.datasource.jdbc.min-size=2",
      "-Dapicurio.datasource.jdbc.max-size=10",
      "-Dquarkus.log.console.color=false",
      "-jar",
      RUN_JAR,
    ],
    { cwd: DIR, logFile: logFile(stateDir), pidFile: pidFile(stateDir) },
  );
  return true;
}

export async function stopRegistry(stateDir = STATE_DIR): Promise<boolean> {
  return stopByPidFile(pidFile(stateDir));
}

/**
 * Ready means: the Confluent API answers the admin account and the global compatibility rule is in force; then it
 * must refuse an anonymous caller, or it is never called ready (one started before authentication was configured
 * would be open to anyone on the machine). Returns the version.
 */
export async function waitRegistryReady(
  url: string,
  nativeUrl: string,
  admin: RegistryCredential,
  progress: Progress,
  stateDir = STATE_DIR,
): Promise<string> {
  const version = await waitFor(
    "Apicurio Registry",
    async () => {
      const cfg = await fetch(`${url}/config`, {
        headers: { authorization: basicAuth(admin) },
        signal: AbortSignal.timeout(2000),
      });
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
    { timeoutMs: 120_000, intervalMs: 500, progress, onTimeout: () => `see ${logFile(stateDir)}` },
  );
  const anonymous = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(5000) });
  if (anonymous.status !== 401) {
    throw new Error(
      `the registry at ${url} answers anonymous callers (HTTP ${anonymous.status}); it must refuse them. ` +
        "If it was started before authentication was configured: npm run infra:down && npm run infra:up",
    );
  }
  return version;
}
