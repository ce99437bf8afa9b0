import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { generateCheckpointKey } from "@grondslag/audit/checkpoint";
import { auditProcess } from "@grondslag/audit/process";
import { loadCatalogue, producerEntry } from "@grondslag/contracts";
import { databaseUrl } from "@grondslag/infra";
import {
  startGroupsAtEnd,
  testCredentialsFile,
  testStack,
  uniqueDbSchema,
  uniqueName,
} from "@grondslag/infra/test";
import { readCredential } from "@grondslag/provision";
import { runStep, steps } from "@grondslag/scenario/steps";
import type { TopicMap } from "@grondslag/schemas";
import { createClient } from "@grondslag/sdk";
import { AUDIT_TOPIC } from "@grondslag/wire";
import pg from "pg";
import pino from "pino";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../src/gateway-harness";

/**
 * The audit service after the scenario of `npm start`, on the real stack: the real gateway (in this process)
 * writes audit.log, the real audit service (its process spec, in this process) stores it, and the four auditor
 * queries answer for what the scenario did. Then the auditor's page in headless Chromium, with a screenshot.
 */
const stack = testStack();
const credentials = testCredentialsFile();
const catalogue = loadCatalogue();
const SCREENSHOT = new URL("../.artifacts/auditor-page.png", import.meta.url).pathname;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- specs read answers

describe("the audit service after the scenario (real gateway, real stack)", () => {
  const pseudonymKey = crypto.randomBytes(32);
  const traceId = crypto.randomBytes(16).toString("hex");
  const schema = uniqueDbSchema("audit_e2e");
  const writerRole = `${schema}_writer`;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let audit: Awaited<ReturnType<typeof auditProcess.start>>;
  let auditorToken: string;
  const accepted: {
    eventId: string;
    topic: string;
    producer: string;
    recipients: string[];
    bsns: string[];
  }[] = [];
  const refusals = steps.filter((s) => s.expect >= 400).length;

  async function ask(
    urlPath: string,
    init: RequestInit = {},
  ): Promise<{ status: number; body: Json; text: string }> {
    const res = await fetch(`${audit.url}${urlPath}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${auditorToken}`,
        Doelbinding: "avg-toezicht",
        ...(init.headers ?? {}),
      },
    });
    const text = await res.text();
    return {
      status: res.status,
      body: /json/.test(res.headers.get("content-type") ?? "") ? (JSON.parse(text) as Json) : {},
      text,
    };
  }

  beforeAll(async () => {
    gw = await startGateway(stack, credentials, { pseudonymKey });
    const group = uniqueName("grondslag.audit.e2e");
    await startGroupsAtEnd(stack, { [group]: [AUDIT_TOPIC] });
    const owner = databaseUrl(stack.postgres);
    const writer = new URL(owner);
    writer.username = writerRole;
    audit = await auditProcess.start({
      env: {
        GRONDSLAG_ENV: "development",
        LOG_LEVEL: "warn",
        AUDIT_HOST: "127.0.0.1",
        AUDIT_PORT: "0",
        KAFKA_BROKERS: stack.kafka.brokers.join(","),
        AUDIT_KAFKA_PASSWORD: readCredential(credentials, "grondslag.audit"),
        AUDIT_GROUP: group,
        AUDIT_DATABASE_URL: writer.toString(),
        AUDIT_MIGRATE_DATABASE_URL: owner,
        AUDIT_DB_SCHEMA: schema,
        AUDIT_DB_WRITER_ROLE: writerRole,
        AUDIT_CHECKPOINT_KEY: JSON.stringify(await generateCheckpointKey()),
        AUDIT_CHECKPOINT_INTERVAL_MS: "500",
        PSEUDONYM_KEY: pseudonymKey.toString("base64"),
        DEV_KEYS_DIR: gw.keysDir,
      },
      log: pino({ level: "warn" }),
    });
    auditorToken = await gw.token("auditor.ap", { audience: "grondslag-audit" });

    // The scenario, as npm start runs it: each party through the SDK, with its own token, under one trace.
    for (const [i, step] of steps.entries()) {
      const token = await gw.token(step.party);
      const client = createClient<TopicMap>({ baseUrl: gw.base, token });
      const traceparent = `00-${traceId}-${crypto.randomBytes(8).toString("hex")}-01`;
      const outcome = await runStep(client, catalogue, step, {
        idempotencyKey: `audit-e2e-${traceId}-${i}`,
        traceparent,
      });
      expect(outcome.status, step.title).toBe(step.expect);
      if (outcome.accepted && step.kind === "publish") {
        accepted.push({
          eventId: outcome.accepted.eventId,
          topic: step.topic,
          producer: step.party,
          recipients: outcome.accepted.recipients,
          bsns: [...JSON.stringify(step.payload).matchAll(/"(?:bsn|workerBsn)":"(\d{9})"/g)].map(
            (m) => m[1]!,
          ),
        });
      }
    }
    // Stored: every COLLECT, every expected DISCLOSE and every refusal of this run.
    const deadline = Date.now() + 60_000;
    const want = {
      COLLECT: accepted.length,
      DISCLOSE: accepted.reduce((n, a) => n + a.recipients.length, 0),
      REJECT: refusals,
    };
    for (;;) {
      const { body } = await ask(`/v1/flows?traceId=${traceId}`);
      const got = { COLLECT: 0, DISCLOSE: 0, REJECT: 0 } as Record<string, number>;
      for (const f of (body.flows ?? []) as Json[])
        got[f.action as string] = (got[f.action as string] ?? 0) + (f.count as number);
      if (got.COLLECT === want.COLLECT && got.DISCLOSE! >= want.DISCLOSE && got.REJECT! >= want.REJECT) break;
      if (Date.now() > deadline)
        throw new Error(`stored ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await audit?.stop("spec done");
    await gw?.stop();
    const c = new pg.Client({ connectionString: databaseUrl(stack.postgres) });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`DROP OWNED BY ${writerRole}; DROP ROLE IF EXISTS ${writerRole}`);
    await c.end();
  });

  it("flows: producer → topic → consumer, with legal basis and purpose, exactly as the scenario disclosed", async () => {
    const { body } = await ask(`/v1/flows?traceId=${traceId}`);
    const disclosed = (body.flows as Json[])
      .filter((f) => f.action === "DISCLOSE")
      .flatMap((f) =>
        Array.from({ length: f.count as number }, () => `${f.producer} → ${f.topic} → ${f.consumer}`),
      )
      .sort();
    const expected = accepted
      .flatMap((a) => a.recipients.map((r) => `${a.producer} → ${a.topic} → ${r}`))
      .sort();
    expect(disclosed).toEqual(expected);
    for (const f of body.flows as Json[]) {
      if (f.action === "REJECT") continue;
      const entry = producerEntry(catalogue, f.topic as never, f.producer as string);
      expect(f.grondslag, `${f.producer} ${f.topic}`).toBeTruthy();
      if (f.action === "COLLECT") expect(f.grondslag).toBe(entry?.grondslag);
    }
  });

  it("the trace of one event: its collection, then a disclosure to each recipient with the fields given", async () => {
    const a = accepted.find((x) => x.recipients.length > 0)!;
    const { body } = await ask(`/v1/events/${a.eventId}/trace`);
    const records = body.records as Json[];
    expect(records.filter((r) => r.action === "COLLECT")).toHaveLength(1);
    expect(
      records
        .filter((r) => r.action === "DISCLOSE")
        .map((r) => r.recipient as string)
        .sort(),
    ).toEqual(a.recipients);
    for (const r of records) expect((r.fields as string[]).length).toBeGreaterThan(0);
  });

  it("who received data about a person of the scenario, by BSN (never stored: only its keyed pseudonym)", async () => {
    const withBsn = accepted.filter((a) => a.bsns.length > 0 && a.recipients.length > 0);
    expect(withBsn.length).toBeGreaterThan(0);
    const bsn = withBsn[0]!.bsns[0]!;
    const about = accepted.filter((a) => a.bsns.includes(bsn));
    const { body } = await ask("/v1/persons/disclosures", {
      method: "POST",
      headers: { "Content-Type": "application/json", Doelbinding: "inzageverzoek-art15" },
      body: JSON.stringify({ bsn }),
    });
    const mine = (body.disclosures as Json[]).filter((d) => about.some((a) => a.eventId === d.eventId));
    // Each event's recipients that were given this person's BSN field (a projection may leave it out).
    expect(mine.length).toBeGreaterThan(0);
    for (const d of mine)
      expect(about.find((a) => a.eventId === d.eventId)!.recipients).toContain(d.recipient);
    const { body: log } = await ask("/v1/queries");
    const lookup = (log.queries as Json[]).find((q) => q.query === "person-disclosures")!;
    expect(lookup).toMatchObject({ auditor: "auditor.ap", purpose: "inzageverzoek-art15" });
    expect(JSON.stringify(log)).not.toContain(bsn);
  });

  it("exports this run in the Logboek Dataverwerkingen shape, as JSON and as CSV", async () => {
    const json = await ask(`/v1/export?traceId=${traceId}`);
    const entries = json.body.entries as Json[];
    expect(entries.length).toBeGreaterThanOrEqual(accepted.length);
    for (const e of entries) {
      expect(e.traceId).toBe(traceId);
      expect(e.attributes).toHaveProperty("dpl.core.processing_activity_id");
      expect(e.attributes).toHaveProperty("dpl.core.data_subject_id");
    }
    const csv = await ask(`/v1/export?traceId=${traceId}&format=csv`);
    expect(csv.text.trim().split("\r\n")).toHaveLength(entries.length + 1);
    const bsns = accepted.flatMap((a) => a.bsns);
    for (const b of bsns) expect(csv.text).not.toContain(b);
  });

  it("the auditor's page draws the scenario's parties and topics, and the chain verified (headless Chromium)", async () => {
    const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
    expect(executablePath, "Debian's chromium (apt-get install chromium)").toBeDefined();
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${audit.url}/auditor#token=${auditorToken}`);
      await page.locator("#chain.ok").waitFor({ timeout: 20_000 });
      for (const party of new Set(
        accepted.map((a) => a.producer).concat(accepted.flatMap((a) => a.recipients)),
      )) {
        await page.locator(`[data-node="${party}"]`).first().waitFor({ timeout: 10_000 });
      }
      expect(await page.locator("#chain").textContent()).toMatch(/Keten geverifieerd/);
      await page.fill("#event", accepted[0]!.eventId);
      await page.click("#trace-form button");
      await page.locator("#trace table").waitFor({ timeout: 10_000 });
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    } finally {
      await browser?.close();
    }
  });
});
