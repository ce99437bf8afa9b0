// `npm start`: the local stack, the gateway, and a scenario from the seed flowing through the bus, ending in an
// audit summary and the auditor page. Then it keeps the gateway running (restarted with backoff if it exits) until
// Ctrl-C, which stops what this run started. `npm start -- --once` stops it all after the scenario and exits 0 only
// when the scenario succeeded.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { consumersOf, evaluateRowFilter, loadCatalogue, producerEntry } from "@grondslag/contracts";
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
import {
  createClient,
  DEV_ISSUER,
  ensureKeyPair,
  RefusalError,
  tokenSigner,
  type Client,
} from "@grondslag/sdk";
import { readAudit } from "./audit-log";
import { auditorPage, summary } from "./report";
import { steps } from "./steps";
import { supervise, type Supervised } from "./supervisor";

const PORT = 8088;
const BASE = `http://127.0.0.1:${PORT}`;
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

/** Starts the gateway under a supervisor, unless one already runs (then it is reused and left alone). */
async function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<Supervised | undefined> {
  fs.mkdirSync(SERVICES_DIR, { recursive: true });
  const pidFile = path.join(SERVICES_DIR, "gateway.pid");
  const logFile = path.join(SERVICES_DIR, "gateway.log");
  let gateway: Supervised | undefined;
  if (livePid(pidFile) !== undefined) {
    progress("gateway already running (it reloads changed contracts by itself); this run leaves it alone");
  } else {
    progress(`starting the gateway on ${BASE} (log: ${path.relative(REPO_ROOT, logFile)}) …`);
    gateway = supervise({
      name: "gateway",
      // node itself with tsx's loader, not the tsx wrapper: the supervised pid must be the gateway's own, or a
      // killed wrapper leaves an orphaned gateway holding the port.
      cmd: process.execPath,
      args: ["--import", "tsx", path.join(REPO_ROOT, "services/gateway/src/main.ts")],
      cwd: REPO_ROOT,
      env,
      logFile,
      pidFile,
      progress,
    });
  }
  await waitFor(
    "the gateway",
    async () => {
      const res = await fetch(`${BASE}/readyz`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? true : undefined;
    },
    { timeoutMs: 90_000, progress, onTimeout: () => `see ${logFile}` },
  );
  return gateway;
}

/** Set while the run waits for Ctrl-C after the scenario. */
let waitingForCtrlC: (() => void) | undefined;
/** What this run started, stopped in reverse order on exit or Ctrl-C. */
const started: { gateway?: Supervised; releaseStack?: () => Promise<void> } = {};
async function stopStarted(): Promise<void> {
  const { gateway, releaseStack } = started;
  started.gateway = undefined;
  started.releaseStack = undefined;
  if (gateway) {
    progress("stopping the gateway …");
    await gateway.stop();
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

  started.gateway = await startGatewayProcess({
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
    PSEUDONYM_KEY: pseudonymKey(),
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
    const client = await clientOf(step.party);
    let status: number;
    let detail: string;
    try {
      if (step.kind === "publish") {
        const entry = producerEntry(catalogue, step.topic, step.party);
        const receipt = await client.publish(step.topic, step.payload, {
          grondslag: step.grondslag ?? entry?.grondslag ?? "",
          purpose: step.purpose ?? entry?.purposes[0] ?? "",
          idempotencyKey: `scenario-${traceId}-${i}`,
          traceparent: traceparent(),
        });
        status = 202;
        detail = `event ${receipt.eventId.slice(0, 8)}`;
        const expected = consumersOf(catalogue, step.topic, new Date()).filter((d) =>
          evaluateRowFilter(d.entry.rowFilter, JSON.parse(JSON.stringify(step.payload)), d.party),
        ).length;
        accepted.push({ eventId: receipt.eventId, expectedRecipients: expected });
      } else {
        const { deliveries } = await client.poll(step.topic, {
          purpose: step.purpose,
          max: 1,
          traceparent: traceparent(),
        });
        status = 200;
        detail = `${deliveries.length} deliveries`;
      }
    } catch (err) {
      if (!(err instanceof RefusalError)) throw err;
      status = err.status;
      detail = `${err.code}: ${err.detail}`;
    }
    const ok = status === step.expect;
    if (!ok) failures++;
    out(`  ${ok ? "✓" : "✗"} ${status} ${step.title}`);
    if (status >= 300 || !ok) out(`        ${detail}`);
  }

  progress("waiting for every disclosure to be audited …");
  const { records, complete } = await readAudit(
    config,
    traceId,
    (rs) =>
      accepted.every(
        (a) =>
          rs.some((r) => r.action === "COLLECT" && r.eventId === a.eventId) &&
          rs.filter((r) => r.action === "DISCLOSE" && r.eventId === a.eventId).length >= a.expectedRecipients,
      ) && rs.filter((r) => r.action === "REJECT").length >= steps.filter((s) => s.expect >= 400).length,
  );
  out("\nAudit summary of this run (from audit.log)\n");
  out(summary(records));
  const rawBsns = steps.flatMap((s) =>
    s.kind === "publish"
      ? [...JSON.stringify(s.payload).matchAll(/"(?:bsn|workerBsn)":"(\d{9})"/g)].map((m) => m[1])
      : [],
  );
  const leaked = records.filter((r) => rawBsns.some((b) => b && JSON.stringify(r).includes(b))).length;
  out(`  raw BSNs in audit records: ${leaked} (persons appear only as keyed pseudonyms)`);
  if (!complete)
    out("  ! not every expected disclosure was audited within 60 s: see infra/.state/services/gateway.log");

  const page = path.join(STATE_DIR, "auditor.html");
  fs.writeFileSync(page, auditorPage(records, { traceId, generated: new Date().toISOString() }));
  out(`\nAuditor page: file://${page}`);
  const code = failures === 0 && complete && leaked === 0 ? 0 : 1;
  if (code !== 0) {
    const why = [
      failures > 0 ? `${failures} step(s) answered otherwise than expected` : "",
      complete ? "" : "not every disclosure was audited in time",
      leaked > 0 ? `${leaked} audit record(s) hold a raw BSN` : "",
    ].filter(Boolean);
    out(`Scenario FAILED: ${why.join("; ")}`);
  }
  if (once) return code;
  out(`Gateway: ${BASE} (OpenAPI: ${BASE}/v1/openapi.json, metrics: ${BASE}/metrics)`);
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
