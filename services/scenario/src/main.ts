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
import { DEV_ISSUER, ensureKeyPair, signToken } from "@grondslag/sdk";
import { exportJWK, generateKeyPair } from "jose";
import { AGENCIES, groupPrefixOf, processName, schemaOf } from "./agencies";
import { chain, chainBsns } from "./chain";
import { runChain } from "./chain-run";
import { deskClient, deskTokenOf, gatewayCaughtUp, refusedAttempt, resetAgencies } from "./run-support";
import { countsOf, runSummary, type Flow } from "./report";
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
const started: {
  gateway?: Supervised;
  audit?: Supervised;
  agencies?: Supervised[];
  releaseStack?: () => Promise<void>;
} = {};
async function stopStarted(): Promise<void> {
  const { gateway, audit, agencies, releaseStack } = started;
  started.gateway = undefined;
  started.audit = undefined;
  started.agencies = undefined;
  started.releaseStack = undefined;
  if (agencies?.length) {
    progress(`stopping ${agencies.length} agency services …`);
    await Promise.all(agencies.map((a) => a.stop()));
  }
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
  const owner = databaseUrl(config.postgres);
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

  // The agencies: one process each, a fresh state for this run (see resetAgencies), then the chain.
  const deskToken = deskTokenOf();
  const ours = AGENCIES.filter(
    (a) => livePid(path.join(SERVICES_DIR, `${processName(a)}.pid`)) === undefined,
  );
  if (ours.length > 0) await gatewayCaughtUp(config, progress);
  await resetAgencies(config, catalogue, ours, { mailboxes: started.gateway !== undefined, owner });
  progress(`starting ${ours.length} agency services (${ours.map(processName).join(", ")}) …`);
  const agencyProcs = await Promise.all(
    AGENCIES.map((a) =>
      startServiceProcess(processName(a), `http://127.0.0.1:${a.port}`, `services/${a.service}/src/main.ts`, {
        ...process.env,
        GRONDSLAG_ENV: "development",
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        AGENCY_PARTY: a.party,
        AGENCY_HOST: "127.0.0.1",
        AGENCY_PORT: String(a.port),
        GATEWAY_URL: BASE,
        KAFKA_BROKERS: config.kafka.brokers.join(","),
        AGENCY_KAFKA_PASSWORD: readCredential(CREDENTIALS_FILE, a.party),
        DATABASE_URL: owner,
        AGENCY_DB_SCHEMA: schemaOf(a),
        AGENCY_GROUP_PREFIX: groupPrefixOf(a),
        DESK_TOKEN: deskToken,
        AGENCY_KEYS_DIR: KEYS_DIR,
        AGENCY_POLL_SECONDS: "5",
        AGENCY_OUTBOX_SWEEP_MS: "500",
        CONTRACTS_DIR: path.join(REPO_ROOT, "contracts", "data"),
      }),
    ),
  );
  started.agencies = agencyProcs.filter((x): x is Supervised => x !== undefined);

  const desk = deskClient(deskToken, { base: BASE, keysDir: KEYS_DIR, catalogue });
  const runStart = new Date(Date.now() - 1000);
  out(
    "\nThe chain: a temp agency loses its admission (after the seed, Jaarrapportage arbeidsmigranten 2023)\n",
  );
  const outcomes = await runChain(
    chain(),
    desk,
    AGENCIES.map((a) => a.party),
    out,
  );
  let failures = outcomes.filter((o) => !o.ok).length;

  // One attempt the gateway must refuse: the temp agency that lost its admission asks for the Arbeidsinspectie's
  // accident reports, which no contract lets it read.
  out("\n  A deliberately refused attempt\n");
  const refused = await refusedAttempt(BASE, KEYS_DIR);
  out(`       ${refused.ok ? "✓" : "✗"} ${refused.line}`);
  if (!refused.ok) failures++;

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
  // Verifying the chains reads the whole store, which grows with every run on a shared stack: give it time.
  const ask = async <T>(urlPath: string, timeoutMs = 10_000): Promise<T> => {
    const res = await fetch(`${AUDIT_BASE}/v1${urlPath}`, {
      headers: { Authorization: `Bearer ${await auditorToken(300)}`, Doelbinding: "npm-start-overzicht" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`audit service ${urlPath}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const states = await Promise.all(AGENCIES.map((a) => desk.state(a.party)));
  const accepted = states.flatMap((s) =>
    s.outbox.filter((o) => o.state === "sent" || o.state === "published"),
  );
  const refusedRows = states.flatMap((s) => s.outbox.filter((o) => o.state === "refused"));
  progress("waiting until the audit service has stored every record of this run …");
  const window = `from=${encodeURIComponent(runStart.toISOString())}`;
  let flows: Flow[] = [];
  const complete = await waitFor(
    "the audit service to store this run",
    async () => {
      flows = (await ask<{ flows: Flow[] }>(`/flows?${window}`)).flows;
      const n = countsOf(flows);
      return n.COLLECT >= accepted.length && n.REJECT >= refusedRows.length + 1 ? true : undefined;
    },
    { timeoutMs: 60_000, progress },
  ).then(
    () => true,
    () => false,
  );
  out("\nSummary of this run\n");
  out(runSummary(flows, states, refused));
  const exported = JSON.stringify(await ask<unknown>(`/export?${window}`));
  const leaked = chainBsns().filter((b) => exported.includes(b)).length;
  out(`  raw BSNs in the stored audit records: ${leaked} (persons appear only as keyed pseudonyms)`);
  const chainStatus = await ask<{
    verified: boolean;
    records: number;
    lastCheckpoint: { id: number } | null;
  }>("/chain", 180_000);
  out(
    `  hash chains: ${chainStatus.verified ? "verified" : "NOT VERIFIED"} (${chainStatus.records} records stored, last signed checkpoint ${chainStatus.lastCheckpoint ? `#${chainStatus.lastCheckpoint.id}` : "none yet"})`,
  );
  if (!complete) out("  ! not every expected record was stored within 60 s: see infra/.state/services/*.log");
  if (process.env.SCENARIO_REPORT) {
    fs.writeFileSync(
      process.env.SCENARIO_REPORT,
      JSON.stringify(
        {
          outcomes: outcomes.map((o) => ({ title: o.step.title, ok: o.ok, problems: o.problems })),
          refused,
          states,
          flows,
        },
        null,
        2,
      ),
    );
  }

  // The token rides in the fragment, which the browser never sends to a server; it is valid for an hour.
  out(`\nAuditor page: ${AUDIT_BASE}/auditor#token=${await auditorToken(3600)}`);
  const code = failures === 0 && complete && leaked === 0 && chainStatus.verified ? 0 : 1;
  if (code !== 0) {
    const why = [
      ...outcomes.flatMap((o) => o.problems),
      refused.ok ? "" : `the refused attempt: ${refused.line}`,
      complete ? "" : "not every record of this run was stored in time",
      leaked > 0 ? `${leaked} raw BSN(s) in the stored audit records` : "",
      chainStatus.verified ? "" : "the audit store's hash chains do not verify",
    ].filter(Boolean);
    out(`Scenario FAILED: ${why.join("; ")}`);
  }
  if (once) return code;
  out(`Gateway: ${BASE} (OpenAPI: ${BASE}/v1/openapi.json, metrics: ${BASE}/metrics)`);
  out(`Audit service: ${AUDIT_BASE} (OpenAPI: ${AUDIT_BASE}/v1/openapi.json). Verify its store:`);
  out(
    `Agencies (desk API, Authorization: Bearer $(cat infra/.state/desk-token)): ${AGENCIES.map((a) => `${a.party} :${a.port}`).join(", ")}`,
  );
  out('  e.g. curl -H "Authorization: Bearer $(cat infra/.state/desk-token)" http://127.0.0.1:8091/v1/state');
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
