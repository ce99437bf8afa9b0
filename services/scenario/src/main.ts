// `npm start`: the local stack, the gateway and the audit service, and a scenario from the seed flowing through the
// bus, ending in an audit summary and the auditor page, both from the audit service's own queries. Then it keeps
// both services running (each restarted with backoff if it exits) until Ctrl-C, which stops what this run started. `npm start -- --once` stops it all after the scenario and exits 0 only
// when the scenario succeeded.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadCatalogue } from "@grondslag/contracts";
import {
  acquireStack,
  CREDENTIALS_FILE,
  databaseUrl,
  livePid,
  REPO_ROOT,
  SERVICES_DIR,
  STATE_DIR,
  waitFor,
} from "@grondslag/infra";
import { applyContracts, readCredential } from "@grondslag/provision";
import type { TopicMap } from "@grondslag/schemas";
import { createClient, DEV_ISSUER, ensureKeyPair, signToken, tokenSigner, type Client } from "@grondslag/sdk";
import { exportJWK, generateKeyPair } from "jose";
import { countsOf, summary, type Flow } from "./report";
import { runStep, steps } from "./steps";
import { supervise, type Supervised } from "./supervisor";

const PORT = 8088;
const BASE = `http://127.0.0.1:${PORT}`;
const AUDIT_PORT = 8089;
const AUDIT_BASE = `http://127.0.0.1:${AUDIT_PORT}`;
/** The auditor the run asks the audit service as (contracts/data/parties.yaml, kind auditor). */
const AUDITOR = "auditor.ap";
const KEYS_DIR = path.join(STATE_DIR, "dev-keys");
const t0 = Date.now();
const progress = (line: string) =>
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const out = (line = "") => process.stdout.write(`${line}\n`);

function pseudonymKey(): string {
  const file = path.join(STATE_DIR, "pseudonym-key");
  if (!fs.existsSync(file))
    fs.writeFileSync(file, crypto.randomBytes(32).toString("base64"), { mode: 0o600 });
  return fs.readFileSync(file, "utf8").trim();
}

/** The audit service's checkpoint signing key (Ed25519), generated once for this stack (mode 0600, git-ignored). */
async function checkpointKey(): Promise<string> {
  const file = path.join(STATE_DIR, "audit-checkpoint.private.jwk.json");
  if (!fs.existsSync(file)) {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: "audit-checkpoint-dev" };
    fs.writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}

/** Starts a service under a supervisor, unless one already runs (then it is reused and left alone). */
async function startServiceProcess(
  /** The pid and log files' name (`gateway`, `audit`). */
  name: string,
  base: string,
  main: string,
  env: NodeJS.ProcessEnv,
): Promise<Supervised | undefined> {
  fs.mkdirSync(SERVICES_DIR, { recursive: true });
  const pidFile = path.join(SERVICES_DIR, `${name}.pid`);
  const logFile = path.join(SERVICES_DIR, `${name}.log`);
  let service: Supervised | undefined;
  if (livePid(pidFile) !== undefined) {
    progress(`${name} already running; this run leaves it alone`);
  } else {
    progress(`starting ${name} on ${base} (log: ${path.relative(REPO_ROOT, logFile)}) …`);
    service = supervise({
      name,
      // node itself with tsx's loader, not the tsx wrapper: the supervised pid must be the service's own, or a
      // killed wrapper leaves an orphaned service holding the port.
      cmd: process.execPath,
      args: ["--import", "tsx", path.join(REPO_ROOT, main)],
      cwd: REPO_ROOT,
      env,
      logFile,
      pidFile,
      progress,
    });
  }
  await waitFor(
    name,
    async () => {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? true : undefined;
    },
    { timeoutMs: 90_000, progress, onTimeout: () => `see ${logFile}` },
  );
  return service;
}

/** Set while the run waits for Ctrl-C after the scenario. */
let waitingForCtrlC: (() => void) | undefined;
/** What this run started, stopped in reverse order on exit or Ctrl-C. */
const started: { gateway?: Supervised; audit?: Supervised; releaseStack?: () => Promise<void> } = {};
async function stopStarted(): Promise<void> {
  const { gateway, audit, releaseStack } = started;
  started.gateway = undefined;
  started.audit = undefined;
  started.releaseStack = undefined;
  if (gateway) {
    progress("stopping the gateway …");
    await gateway.stop();
  }
  if (audit) {
    progress("stopping the audit service …");
    await audit.stop();
  }
  if (releaseStack) await releaseStack();
}

async function main(once: boolean): Promise<number> {
  const stack = await acquireStack(progress);
  started.releaseStack = () => stack.release();
  const { config } = stack;
  const catalogue = loadCatalogue();
  const { changes } = await applyContracts(catalogue, config, {
    dryRun: false,
    credentialsFile: CREDENTIALS_FILE,
  });
  progress(
    `contracts applied (${changes.length} changes): topics, ACLs, users and schemas derived from contracts/`,
  );

  const pseudonym = pseudonymKey();
  started.gateway = await startServiceProcess("gateway", BASE, "services/gateway/src/main.ts", {
    ...process.env,
    // The scenario signs its tokens with development keys, which the gateway accepts only in development on loopback.
    GRONDSLAG_ENV: "development",
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: String(PORT),
    KAFKA_BROKERS: config.kafka.brokers.join(","),
    GATEWAY_KAFKA_PASSWORD: readCredential(CREDENTIALS_FILE, "grondslag.gateway"),
    REGISTRY_URL: config.registry.url,
    REGISTRY_USERNAME: config.registry.gateway.username,
    REGISTRY_PASSWORD: config.registry.gateway.password,
    DATABASE_URL: databaseUrl(config.postgres),
    PSEUDONYM_KEY: pseudonym,
    DEV_KEYS_DIR: KEYS_DIR,
    CONTRACTS_DIR: path.join(REPO_ROOT, "contracts", "data"),
  });
  // The audit service: audit.log into PostgreSQL as a role that may only INSERT and SELECT (the owner's
  // connection migrates it at start), hash-chained, with signed checkpoints; the auditors' API and page.
  const owner = databaseUrl(config.postgres);
  // The store belongs to this stack's state: its checkpoint key and pseudonym key live in infra/.state. A fresh
  // state directory on a reused database (a new clone, a removed infra/.state) starts a store of its own, rather
  // than appending to chains whose checkpoints were signed with a key this run no longer has.
  const auditKey = await checkpointKey();
  const auditSchema = `audit_${crypto.createHash("sha256").update(auditKey).digest("hex").slice(0, 12)}`;
  const writer = new URL(owner);
  writer.username = `${config.postgres.database}_audit_writer`;
  started.audit = await startServiceProcess("audit", AUDIT_BASE, "services/audit/src/main.ts", {
    ...process.env,
    GRONDSLAG_ENV: "development",
    AUDIT_HOST: "127.0.0.1",
    AUDIT_PORT: String(AUDIT_PORT),
    KAFKA_BROKERS: config.kafka.brokers.join(","),
    AUDIT_KAFKA_PASSWORD: readCredential(CREDENTIALS_FILE, "grondslag.audit"),
    AUDIT_DATABASE_URL: writer.toString(),
    AUDIT_MIGRATE_DATABASE_URL: owner,
    AUDIT_DB_WRITER_ROLE: writer.username,
    AUDIT_DB_SCHEMA: auditSchema,
    AUDIT_CHECKPOINT_KEY: auditKey,
    AUDIT_CHECKPOINT_INTERVAL_MS: "2000",
    PSEUDONYM_KEY: pseudonym,
    DEV_KEYS_DIR: KEYS_DIR,
    CONTRACTS_DIR: path.join(REPO_ROOT, "contracts", "data"),
  });

  // One trace for the whole run: every audit record of it carries this trace id.
  const traceId = crypto.randomBytes(16).toString("hex");
  const traceparent = () => `00-${traceId}-${crypto.randomBytes(8).toString("hex")}-01`;
  // Each party talks to the bus through the client SDK, with tokens signed by its own (development) key.
  const clients = new Map<string, Client<TopicMap>>();
  const clientOf = async (party: string) => {
    let client = clients.get(party);
    if (!client) {
      const { privateJwk } = await ensureKeyPair(KEYS_DIR, party);
      client = createClient<TopicMap>({
        baseUrl: BASE,
        token: tokenSigner({ party, privateJwk, issuer: DEV_ISSUER, ttlSeconds: 300 }),
      });
      clients.set(party, client);
    }
    return client;
  };

  out("\nThe scenario (after the seed: Jaarrapportage arbeidsmigranten 2023)\n");
  const accepted: { eventId: string; expectedRecipients: number }[] = [];
  let failures = 0;
  for (const [i, step] of steps.entries()) {
    const {
      status,
      detail,
      accepted: event,
    } = await runStep(await clientOf(step.party), catalogue, step, {
      idempotencyKey: `scenario-${traceId}-${i}`,
      traceparent: traceparent(),
    });
    if (event) accepted.push({ eventId: event.eventId, expectedRecipients: event.recipients.length });
    const ok = status === step.expect;
    if (!ok) failures++;
    out(`  ${ok ? "✓" : "✗"} ${status} ${step.title}`);
    if (status >= 300 || !ok) out(`        ${detail}`);
  }

  // The auditor asks the audit service, as any auditor would: a token of its own, a purpose, every query recorded.
  const { privateJwk: auditorKey } = await ensureKeyPair(KEYS_DIR, AUDITOR);
  const auditorToken = (ttlSeconds: number) =>
    signToken(auditorKey, {
      party: AUDITOR,
      issuer: DEV_ISSUER,
      audience: "grondslag-audit",
      ttlSeconds,
      now: new Date(),
    });
  const ask = async <T>(urlPath: string): Promise<T> => {
    const res = await fetch(`${AUDIT_BASE}/v1${urlPath}`, {
      headers: { Authorization: `Bearer ${await auditorToken(300)}`, Doelbinding: "npm-start-overzicht" },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`audit service ${urlPath}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  progress("waiting until the audit service has stored every record of this run …");
  const expected = {
    COLLECT: accepted.length,
    DISCLOSE: accepted.reduce((n, a) => n + a.expectedRecipients, 0),
    REJECT: steps.filter((s) => s.expect >= 400).length,
  };
  let flows: Flow[] = [];
  const complete = await waitFor(
    "the audit service to store this run",
    async () => {
      flows = (await ask<{ flows: Flow[] }>(`/flows?traceId=${traceId}`)).flows;
      const n = countsOf(flows);
      return n.COLLECT >= expected.COLLECT && n.DISCLOSE >= expected.DISCLOSE && n.REJECT >= expected.REJECT
        ? true
        : undefined;
    },
    { timeoutMs: 60_000, progress },
  ).then(
    () => true,
    () => false,
  );
  out("\nAudit summary of this run (from the audit service)\n");
  out(summary(flows));
  const rawBsns = steps.flatMap((s) =>
    s.kind === "publish"
      ? [...JSON.stringify(s.payload).matchAll(/"(?:bsn|workerBsn)":"(\d{9})"/g)].map((m) => m[1])
      : [],
  );
  const exported = JSON.stringify(await ask<unknown>(`/export?traceId=${traceId}`));
  const leaked = rawBsns.filter((b) => b && exported.includes(b)).length;
  out(`  raw BSNs in the stored audit records: ${leaked} (persons appear only as keyed pseudonyms)`);
  const chain = await ask<{ verified: boolean; records: number; lastCheckpoint: { id: number } | null }>(
    "/chain",
  );
  out(
    `  hash chains: ${chain.verified ? "verified" : "NOT VERIFIED"} (${chain.records} records stored, last signed checkpoint ${chain.lastCheckpoint ? `#${chain.lastCheckpoint.id}` : "none yet"})`,
  );
  if (!complete) out("  ! not every expected record was stored within 60 s: see infra/.state/services/*.log");

  // The token rides in the fragment, which the browser never sends to a server; it is valid for an hour.
  out(`\nAuditor page: ${AUDIT_BASE}/auditor#token=${await auditorToken(3600)}`);
  const code = failures === 0 && complete && leaked === 0 && chain.verified ? 0 : 1;
  if (code !== 0) {
    const why = [
      failures > 0 ? `${failures} step(s) answered otherwise than expected` : "",
      complete ? "" : "not every record of this run was stored in time",
      leaked > 0 ? `${leaked} raw BSN(s) in the stored audit records` : "",
      chain.verified ? "" : "the audit store's hash chains do not verify",
    ].filter(Boolean);
    out(`Scenario FAILED: ${why.join("; ")}`);
  }
  if (once) return code;
  out(`Gateway: ${BASE} (OpenAPI: ${BASE}/v1/openapi.json, metrics: ${BASE}/metrics)`);
  out(`Audit service: ${AUDIT_BASE} (OpenAPI: ${AUDIT_BASE}/v1/openapi.json). Verify its store:`);
  out(
    `  AUDIT_DATABASE_URL='${owner}' AUDIT_DB_SCHEMA=${auditSchema} AUDIT_CHECKPOINT_KEY="$(cat ${path.relative(REPO_ROOT, path.join(STATE_DIR, "audit-checkpoint.private.jwk.json"))})" npm run -s audit:verify`,
  );
  out(
    "Try it: TOKEN=$(npm run -s token -- --party nla); curl -H \"Authorization: Bearer $TOKEN\" -H 'Doelbinding: ongevalsonderzoek' \\",
  );
  out(`         '${BASE}/v1/topics/arbo.accident-reported/deliveries?max=5'`);
  out("The bus keeps running. Ctrl-C stops what this run started (a stack that was already up stays up).\n");
  await new Promise<void>((resolve) => {
    waitingForCtrlC = resolve;
  });
  return code;
}

const once = process.argv.includes("--once");
let exiting = false;
const shutdown = (code: number) => {
  if (exiting) return;
  exiting = true;
  stopStarted().then(
    () => process.exit(code),
    (err: unknown) => {
      progress(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(code || 1);
    },
  );
};
// Installed for the whole run: a Ctrl-C while the scenario runs stops what it started; once it waits, Ctrl-C ends
// the wait; a second signal while stopping (npx relays Ctrl-C, so one often comes twice) must not kill this
// process before the gateway it supervises is stopped.
const onSignal = () => {
  if (exiting) return progress("still stopping what this run started …");
  if (waitingForCtrlC) return waitingForCtrlC();
  progress("interrupted: stopping what this run started …");
  shutdown(130);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
main(once).then(
  (code) => shutdown(code),
  (err: unknown) => {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    shutdown(1);
  },
);
