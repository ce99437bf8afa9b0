import {
  apiVersionHeader,
  httpMetrics,
  problemHandler,
  sendProblem,
  serveOpenApi,
  type ProblemMapping,
} from "@grondslag/http-kit/http";
import { apiVersion, loadOpenApi, type OpenApiDocument } from "@grondslag/http-kit/openapi";
import {
  errorCodes,
  GrondslagError,
  isErrorCode,
  mountOps,
  problemType,
  type Caller,
  type Pseudonymiser,
  type Readiness,
  type TokenVerifier,
} from "@grondslag/kit";
import { isValidBsn } from "@grondslag/schemas";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { JWK } from "jose";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { StoredRecord } from "./chain";
import { auditorPage } from "./page";
import { logboekCsv, logboekEntries, type AuditQueries, type FlowFilter } from "./queries";
import type { VerifyReport } from "./verify";

/** The audit service's OpenAPI document (`services/audit/openapi/openapi.yaml`), the source of truth of its API. */
export const OPENAPI_FILE = new URL("../openapi/openapi.yaml", import.meta.url);
let cached: OpenApiDocument | undefined;
export function openApiDocument(): OpenApiDocument {
  cached ??= loadOpenApi(OPENAPI_FILE);
  return cached;
}

export interface AuditAppDeps {
  queries: AuditQueries;
  checkpoints(limit: number): Promise<{ id: number; createdAt: string; total: number; jws: string }[]>;
  checkpointKey: JWK;
  /** The chain's verification, recomputed at most every few seconds. */
  verification(): Promise<VerifyReport & { at: string }>;
  verifier: TokenVerifier;
  /** Whether a party is an auditor (kind `auditor` in contracts/data/parties.yaml). */
  isAuditor(party: string): boolean;
  pseudonymiser: Pseudonymiser;
  log: Logger;
  metrics: Registry;
  readiness: Readiness | undefined;
}

/** A refusal of this service: the wire's codes, and NOT_AN_AUDITOR. */
class Refusal extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly fix: string,
  ) {
    super(`${code}: ${detail}`);
  }
  static of(code: keyof typeof errorCodes, detail: string, fix: string): Refusal {
    const m = errorCodes[code];
    return new Refusal(code, m.status, m.title, detail, fix);
  }
}

type Handler = (req: Request, res: Response) => Promise<void>;
const wrap =
  (h: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    h(req, res).catch(next);
  };

function optionalTime(req: Request, name: string): number | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  const t = typeof v === "string" ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) {
    throw Refusal.of(
      "INVALID_REQUEST",
      `${name} is not a date-time`,
      `Send ${name} as RFC 3339 (2026-01-31T00:00:00Z).`,
    );
  }
  return t;
}

function optionalString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.length === 0 || v.length > 256) {
    throw Refusal.of(
      "INVALID_REQUEST",
      `${name} must be one non-empty string`,
      `Send ${name} once, at most 256 characters.`,
    );
  }
  return v;
}

function recordView(r: StoredRecord) {
  return {
    id: r.id,
    time: new Date(r.time).toISOString(),
    action: r.action,
    topic: r.topic,
    eventId: r.eventId,
    producer: r.producer,
    recipient: r.recipient,
    grondslag: r.grondslag,
    purpose: r.purpose,
    fields: r.fields,
    reasonCode: r.reasonCode,
    reasonDetail: r.reasonDetail,
    channel: r.channel,
    traceId: r.traceId,
    spanId: r.spanId,
    chain: { partition: r.partition, position: r.seq, hash: r.hash },
  };
}

export function createAuditApp(deps: AuditAppDeps): Express {
  const doc = openApiDocument();
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(apiVersionHeader(apiVersion(doc)));
  app.use(httpMetrics(deps.metrics, { prefix: "audit_http" }));
  mountOps(app, { metrics: deps.metrics, readiness: deps.readiness });
  app.get("/auditor", (_req, res) => {
    res.setHeader(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'",
    );
    res.type("text/html").send(auditorPage());
  });

  const v1 = express.Router();
  v1.get("/openapi.json", serveOpenApi(doc));

  async function authenticate(req: Request): Promise<Caller> {
    const h = req.headers.authorization;
    const m = h === undefined ? null : /^Bearer (\S+)$/.exec(h);
    if (!m) {
      throw GrondslagError.of("UNAUTHENTICATED", "no bearer token", {
        fix: "Send `Authorization: Bearer <token>` with a JWT signed by your party's key (aud grondslag-audit).",
      });
    }
    return deps.verifier.verify(m[1]!);
  }

  /** An auditor's query: authenticated, an auditor, a stated purpose, and recorded before it is answered. */
  async function auditorQuery(
    req: Request,
    query: string,
    parameters: Record<string, unknown>,
  ): Promise<Caller> {
    const caller = await authenticate(req);
    if (!deps.isAuditor(caller.party)) {
      throw new Refusal(
        "NOT_AN_AUDITOR",
        403,
        "Not an auditor",
        `party ${caller.party} is not an auditor`,
        "Only parties of kind auditor in contracts/data/parties.yaml may query the audit store; fetch /v1/checkpoints instead.",
      );
    }
    const purpose = req.header("Doelbinding");
    if (purpose === undefined || purpose.trim() === "" || purpose.length > 256) {
      throw Refusal.of(
        "MISSING_HEADER",
        "the Doelbinding header (the purpose of this query) is missing",
        "Say why you ask in the Doelbinding header (for example avg-toezicht or inzageverzoek-art15); it is recorded.",
      );
    }
    await deps.queries.record({
      auditor: caller.party,
      tokenId: caller.tokenId ?? null,
      purpose: purpose.trim(),
      query,
      parameters,
    });
    return caller;
  }

  v1.get(
    "/checkpoints",
    wrap(async (req, res) => {
      await authenticate(req);
      const limit = Math.min(Number(optionalString(req, "limit") ?? 100) || 100, 1000);
      res.json({ key: deps.checkpointKey, checkpoints: await deps.checkpoints(limit) });
    }),
  );

  v1.get(
    "/chain",
    wrap(async (req, res) => {
      await auditorQuery(req, "chain", {});
      const report = await deps.verification();
      const [last] = await deps.checkpoints(1);
      res.json({
        verified: report.ok,
        verifiedAt: report.at,
        records: report.records,
        partitions: report.heads.map((h) => ({ partition: h.partition, count: h.count, head: h.hash })),
        lastCheckpoint: last ? { id: last.id, createdAt: last.createdAt, total: last.total } : null,
        checkpointsChecked: report.checkpoints.checked,
        faults: report.faults.map((f) => ({
          kind: f.kind,
          partition: f.partition,
          position: f.seq,
          detail: f.detail,
        })),
      });
    }),
  );

  v1.get(
    "/flows",
    wrap(async (req, res) => {
      const filter: FlowFilter = {
        from: optionalTime(req, "from"),
        to: optionalTime(req, "to"),
        party: optionalString(req, "party"),
        grondslag: optionalString(req, "grondslag"),
        purpose: optionalString(req, "purpose"),
        topic: optionalString(req, "topic"),
        traceId: optionalString(req, "traceId"),
      };
      await auditorQuery(req, "flows", { ...req.query });
      res.json({ flows: await deps.queries.flows(filter) });
    }),
  );

  v1.get(
    "/events/:eventId/trace",
    wrap(async (req, res) => {
      const eventId = String(req.params.eventId);
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(eventId)) {
        throw Refusal.of(
          "INVALID_REQUEST",
          "eventId is not a UUID",
          "Send the event id a receipt or an audit record named.",
        );
      }
      await auditorQuery(req, "trace", { eventId });
      const records = await deps.queries.trace(eventId);
      if (records.length === 0) {
        throw Refusal.of(
          "NOT_FOUND",
          `no audit record names event ${eventId}`,
          "Check the event id; records appear within seconds of the action.",
        );
      }
      res.json({ eventId, records: records.map(recordView) });
    }),
  );

  v1.post(
    "/persons/disclosures",
    express.json({ limit: "4kb" }),
    wrap(async (req, res) => {
      const body = req.body as { bsn?: unknown } | undefined;
      const bsn = typeof body?.bsn === "string" ? body.bsn : undefined;
      if (bsn === undefined || !isValidBsn(bsn)) {
        // Never echo the value: it may be a real BSN.
        throw Refusal.of(
          "INVALID_IDENTIFIER",
          "bsn is missing or fails the elfproef",
          'Send {"bsn": "<nine digits>"} with a valid BSN.',
        );
      }
      const pseudonym = deps.pseudonymiser.pseudonym("bsn", bsn);
      // The query log names the person by keyed pseudonym only.
      await auditorQuery(req, "person-disclosures", { subject: { type: "bsn", pseudonym } });
      const records = await deps.queries.aboutSubject("bsn", pseudonym, ["DISCLOSE"]);
      res.json({
        subject: { type: "bsn", pseudonym },
        disclosures: records.map((r) => ({
          time: new Date(r.time).toISOString(),
          recipient: r.recipient,
          producer: r.producer,
          topic: r.topic,
          eventId: r.eventId,
          grondslag: r.grondslag,
          purpose: r.purpose,
          fields: r.fields,
          traceId: r.traceId,
        })),
      });
    }),
  );

  v1.get(
    "/export",
    wrap(async (req, res) => {
      const format = optionalString(req, "format") ?? "json";
      if (format !== "json" && format !== "csv") {
        throw Refusal.of(
          "INVALID_REQUEST",
          `format ${format} is not offered`,
          "Use format=json or format=csv.",
        );
      }
      const limit = Math.min(Number(optionalString(req, "limit") ?? 10_000) || 10_000, 100_000);
      const period = {
        from: optionalTime(req, "from"),
        to: optionalTime(req, "to"),
        traceId: optionalString(req, "traceId"),
      };
      await auditorQuery(req, "export", { ...req.query });
      const entries = logboekEntries(await deps.queries.records(period, limit));
      if (format === "csv") {
        res
          .type("text/csv")
          .setHeader("Content-Disposition", 'attachment; filename="logboek-dataverwerkingen.csv"');
        res.send(logboekCsv(entries));
      } else res.json({ standard: "Logboek Dataverwerkingen", entries });
    }),
  );

  v1.get(
    "/queries",
    wrap(async (req, res) => {
      await auditorQuery(req, "queries", {});
      res.json({ queries: await deps.queries.queries() });
    }),
  );

  app.use("/v1", v1);
  app.use((_req, res) => {
    sendProblem(res, {
      type: problemType("NOT_FOUND"),
      title: errorCodes.NOT_FOUND.title,
      status: 404,
      code: "NOT_FOUND",
      detail: "no such path",
      fix: "See /v1/openapi.json for the paths this service serves.",
    });
  });
  app.use(
    problemHandler({
      log: deps.log,
      map: (err): ProblemMapping => {
        if (err instanceof Refusal) {
          return {
            problem: {
              type: problemType(err.code),
              title: err.title,
              status: err.status,
              code: err.code,
              detail: err.detail,
              fix: err.fix,
            },
          };
        }
        if (err instanceof GrondslagError && isErrorCode(err.code)) {
          const meta = errorCodes[err.code];
          const detail = err.message.replace(/^[A-Z_]+: /, "");
          return {
            problem: {
              type: problemType(err.code),
              title: meta.title,
              status: meta.status,
              code: err.code,
              detail,
              fix: err.fix ?? "Retry later.",
            },
            headers:
              err.code === "UNAUTHENTICATED"
                ? { "WWW-Authenticate": 'Bearer realm="grondslag-audit", error="invalid_token"' }
                : {},
          };
        }
        const body = (err as { type?: string }).type;
        if (body === "entity.parse.failed" || body === "entity.too.large") {
          return {
            problem: {
              type: problemType("INVALID_REQUEST"),
              title: errorCodes.INVALID_REQUEST.title,
              status: 400,
              code: "INVALID_REQUEST",
              detail: "the body is not JSON of at most 4 KiB",
              fix: "Send a small JSON body.",
            },
          };
        }
        return {
          problem: {
            type: problemType("UNAVAILABLE"),
            title: errorCodes.UNAVAILABLE.title,
            status: 503,
            code: "UNAVAILABLE",
            detail: "the audit store did not answer",
            fix: "Retry later; the query was not answered (and, if it was not recorded, not run).",
          },
        };
      },
    }),
  );
  return app;
}
