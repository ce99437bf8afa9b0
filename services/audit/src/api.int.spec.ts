import type { AddressInfo } from "node:net";
import {
  checkRouteCoverage,
  createResponseValidator,
  type ResponseValidator,
} from "@grondslag/http-kit/testing";
import { testStack } from "@grondslag/infra/test";
import { createTokenVerifier, Pseudonymiser, staticKeyStore } from "@grondslag/kit";
import { signToken } from "@grondslag/sdk";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditApp, openApiDocument } from "./app";
import { eventRecords, isolatedAudit } from "./audit.fixture";
import { verifyCheckpoint } from "./checkpoint";
import { AuditQueries } from "./queries";
import { createAudit, type AuditService } from "./service";

const stack = testStack();
const KEY = Buffer.alloc(32, 7);
const pseudonymiser = new Pseudonymiser(KEY);
const BSN = "111222333";

async function partyKey(): Promise<{ priv: JWK; pub: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return {
    priv: { ...(await exportJWK(privateKey)), alg: "EdDSA", kid: "k1" },
    pub: { ...(await exportJWK(publicKey)), alg: "EdDSA", kid: "k1", use: "sig" },
  };
}

describe("audit service HTTP API: checkpoints and the auditors' queries (real Kafka and PostgreSQL)", () => {
  let fx: Awaited<ReturnType<typeof isolatedAudit>>;
  let audit: AuditService;
  let base: string;
  let close: () => Promise<void>;
  let validator: ResponseValidator;
  const tokens: Record<string, string> = {};
  const about = eventRecords({ bsnPseudonym: pseudonymiser.pseudonym("bsn", BSN) });
  const other = eventRecords({ bsnPseudonym: pseudonymiser.pseudonym("bsn", "123456782") });

  beforeAll(async () => {
    fx = await isolatedAudit(stack);
    audit = createAudit(fx.config, pino({ level: "warn" }));
    await audit.start();
    const keys = { "auditor.ap": await partyKey(), uwv: await partyKey() };
    for (const [party, k] of Object.entries(keys)) {
      tokens[party] = await signToken(k.priv, {
        party,
        issuer: "grondslag-dev",
        audience: "grondslag-audit",
        ttlSeconds: 600,
        now: new Date(),
      });
    }
    const app = createAuditApp({
      queries: new AuditQueries(audit.store.pool, fx.config.dbSchema),
      checkpoints: (n) => audit.store.checkpoints(n),
      checkpointKey: audit.signer.publicJwk,
      verification: async () => ({ ...(await audit.verify()), at: new Date().toISOString() }),
      verifier: createTokenVerifier({
        keyStore: staticKeyStore(Object.entries(keys).map(([party, k]) => ({ party, keys: [k.pub] }))),
        audience: "grondslag-audit",
        issuers: ["grondslag-dev"],
        now: () => new Date(),
      }),
      isAuditor: (p) => p.startsWith("auditor."),
      pseudonymiser,
      log: pino({ level: "silent" }),
      metrics: new Registry(),
      readiness: undefined,
    });
    expect(checkRouteCoverage(app, openApiDocument())).toEqual({ undocumented: [], unimplemented: [] });
    validator = await createResponseValidator(openApiDocument());
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
    await fx.send([...about, ...other]);
    const deadline = Date.now() + 30_000;
    while ((await audit.store.count()) < 4) {
      if (Date.now() > deadline) throw new Error("records not stored");
      await new Promise((r) => setTimeout(r, 50));
    }
    await audit.checkpoint();
  });
  afterAll(async () => {
    await close?.();
    await audit?.stop();
    await fx?.cleanup();
  });

  async function call(path: string, opts: { as?: string; purpose?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = {};
    if (opts.as) headers.Authorization = `Bearer ${tokens[opts.as]}`;
    if (opts.purpose !== undefined) headers.Doelbinding = opts.purpose;
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    const method = opts.body === undefined ? "GET" : "POST";
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    const body: unknown = type.includes("json") ? JSON.parse(text) : text;
    validator.assert({ method, path, status: res.status, headers: Object.fromEntries(res.headers), body });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a spec reads what the validator checked
    return { status: res.status, body: body as Record<string, any>, text, type };
  }

  it("any party fetches the signed checkpoints, which verify with the published key", async () => {
    const r = await call("/v1/checkpoints", { as: "uwv" });
    expect(r.status).toBe(200);
    const [cp] = r.body.checkpoints as { jws: string; total: number }[];
    const payload = await verifyCheckpoint(cp!.jws, r.body.key as JWK);
    expect(payload.total).toBe(4);
  });

  it("refuses without a token, a non-auditor, and a query without a purpose, each naming the fix", async () => {
    expect((await call("/v1/flows")).body).toMatchObject({ code: "UNAUTHENTICATED" });
    const notAuditor = await call("/v1/flows", { as: "uwv", purpose: "x" });
    expect(notAuditor.status).toBe(403);
    expect(notAuditor.body).toMatchObject({ code: "NOT_AN_AUDITOR", detail: "party uwv is not an auditor" });
    const noPurpose = await call("/v1/flows", { as: "auditor.ap" });
    expect(noPurpose.body).toMatchObject({ code: "MISSING_HEADER" });
  });

  it("flows aggregate producer → topic → consumer by legal basis and purpose, in a period", async () => {
    const r = await call("/v1/flows?party=uwv", { as: "auditor.ap", purpose: "avg-toezicht" });
    expect(r.body.flows).toEqual([
      expect.objectContaining({
        producer: "nla",
        consumer: "uwv",
        action: "DISCLOSE",
        grondslag: "arbowet-art9",
        count: 2,
      }),
    ]);
    const none = await call(
      `/v1/flows?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
      {
        as: "auditor.ap",
        purpose: "avg-toezicht",
      },
    );
    expect(none.body.flows).toEqual([]);
  });

  it("the trace of one event: its collection and each disclosure with the fields given", async () => {
    const r = await call(`/v1/events/${about[0]!.eventId}/trace`, {
      as: "auditor.ap",
      purpose: "avg-toezicht",
    });
    expect(
      (r.body.records as { action: string; fields: string[] }[]).map((x) => [x.action, x.fields]),
    ).toEqual([
      ["COLLECT", ["bsn", "kvk"]],
      ["DISCLOSE", ["bsn"]],
    ]);
  });

  it("who received data about this person, by BSN through the keyed pseudonym; the BSN is not stored", async () => {
    const r = await call("/v1/persons/disclosures", {
      as: "auditor.ap",
      purpose: "inzageverzoek-art15",
      body: { bsn: BSN },
    });
    expect(r.body.disclosures).toEqual([
      expect.objectContaining({ recipient: "uwv", eventId: about[0]!.eventId }),
    ]);
    const bad = await call("/v1/persons/disclosures", {
      as: "auditor.ap",
      purpose: "x",
      body: { bsn: "123456789" },
    });
    expect(bad.body).toMatchObject({ code: "INVALID_IDENTIFIER" });
    expect(bad.text).not.toContain("123456789");
    const dump = await audit.store.pool.query(
      `SELECT q::text AS t FROM ${fx.config.dbSchema}.queries q UNION ALL SELECT r::text FROM ${fx.config.dbSchema}.records r`,
    );
    expect(dump.rows.map((x: { t: string }) => x.t).join("\n")).not.toContain(BSN);
  });

  it("exports in the Logboek Dataverwerkingen shape, as JSON and CSV", async () => {
    const json = await call("/v1/export", { as: "auditor.ap", purpose: "avg-toezicht" });
    const entries = json.body.entries as { traceId: string; attributes: Record<string, string | null> }[];
    expect(entries).toHaveLength(4);
    expect(entries[0]!.attributes).toMatchObject({
      "dpl.core.processing_activity_id": "arbeidsongevallen-toezicht",
      "dpl.core.data_subject_id_type": "bsn",
    });
    const csv = await call("/v1/export?format=csv", { as: "auditor.ap", purpose: "avg-toezicht" });
    expect(csv.type).toMatch(/text\/csv/);
    const lines = csv.text.trim().split("\r\n");
    expect(lines[0]).toMatch(/^traceId,spanId,name,/);
    expect(lines).toHaveLength(5);
  });

  it("the chain status verifies, and every query above is recorded and cannot be deleted", async () => {
    const chain = await call("/v1/chain", { as: "auditor.ap", purpose: "avg-toezicht" });
    expect(chain.body).toMatchObject({ verified: true, records: 4, lastCheckpoint: { total: 4 } });
    const q = await call("/v1/queries", { as: "auditor.ap", purpose: "avg-toezicht" });
    const queries = q.body.queries as {
      query: string;
      auditor: string;
      purpose: string;
      parameters: unknown;
    }[];
    expect(queries.map((x) => x.query)).toEqual([
      "queries",
      "chain",
      "export",
      "export",
      "person-disclosures",
      "trace",
      "flows",
      "flows",
    ]);
    expect(queries.find((x) => x.query === "person-disclosures")).toMatchObject({
      auditor: "auditor.ap",
      purpose: "inzageverzoek-art15",
      parameters: { subject: { type: "bsn", pseudonym: pseudonymiser.pseudonym("bsn", BSN) } },
    });
    await expect(audit.store.pool.query(`DELETE FROM ${fx.config.dbSchema}.queries`)).rejects.toThrow(
      /permission denied/,
    );
    await fx.owner(async (c) => {
      await expect(c.query(`DELETE FROM ${fx.config.dbSchema}.queries`)).rejects.toThrow(
        /append-only: DELETE/,
      );
    });
  });

  it("serves the auditor's page", async () => {
    const r = await call("/auditor");
    expect(r.status).toBe(200);
    expect(r.text).toContain('data-testid="flows"');
  });
});
