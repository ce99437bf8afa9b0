import { timingSafeEqual, createHash } from "node:crypto";
import { apiVersionHeader, httpMetrics, sendProblem, serveOpenApi } from "@grondslag/http-kit/http";
import { apiVersion, loadOpenApi, type OpenApiDocument } from "@grondslag/http-kit/openapi";
import { errorCodes, mountOps, problemType, type Readiness } from "@grondslag/kit";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Registry } from "prom-client";
import { z } from "zod";
import type { AgencyRuntime } from "./runtime";

type Code = keyof typeof errorCodes;

function problem(
  res: Response,
  code: Code,
  detail: string,
  fix: string,
  extra: Record<string, unknown> = {},
) {
  sendProblem(res, {
    type: problemType(code),
    title: errorCodes[code].title,
    status: errorCodes[code].status,
    code,
    detail,
    fix,
    ...extra,
  });
}

/** The desk's OpenAPI document (`services/agency/openapi/openapi.yaml`), the same for every agency service. */
export const OPENAPI_FILE = new URL("../openapi/openapi.yaml", import.meta.url);
let cached: OpenApiDocument | undefined;
export function openApiDocument(): OpenApiDocument {
  cached ??= loadOpenApi(OPENAPI_FILE);
  return cached;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The desk API: the agency's own operators' actions (`POST /desk/<action>`), its state (`GET /state`) and its dead
 * letters, behind one bearer token (`DESK_TOKEN`), plus the ops endpoints. Its OpenAPI document is
 * `services/agency/openapi/openapi.yaml`, the same for every agency; `GET /desk` lists this service's actions with
 * their input schemas.
 */
export function createDeskApp(deps: {
  runtime: AgencyRuntime;
  deskToken: string;
  metrics: Registry;
  readiness: Readiness;
}): Express {
  const { runtime } = deps;
  const spec = runtime.spec;
  const doc = openApiDocument();
  const app = express();
  app.disable("x-powered-by");
  app.use(apiVersionHeader(apiVersion(doc)));
  app.use(httpMetrics(deps.metrics, { prefix: "agency_http" }));
  mountOps(app, { metrics: deps.metrics, readiness: deps.readiness });
  const v1 = express.Router();
  app.use("/v1", v1);
  v1.get("/openapi.json", serveOpenApi(doc));

  const expected = digest(deps.deskToken);
  const authorised = (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer (.+)$/.exec(req.get("authorization") ?? "");
    if (!m?.[1] || !timingSafeEqual(digest(m[1]), expected)) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="desk"');
      problem(
        res,
        "UNAUTHENTICATED",
        "the desk API needs the service's desk token",
        "Send Authorization: Bearer <DESK_TOKEN> (the service's environment).",
      );
      return;
    }
    next();
  };
  v1.use(["/desk", "/state", "/dead-letters"], authorised);
  v1.use(express.json({ limit: "256kb" }));

  v1.get("/desk", (_req, res) => {
    res.json({
      service: spec.service,
      party: runtime.party,
      actions: Object.entries(spec.desk ?? {}).map(([name, a]) => ({
        name,
        summary: a.summary,
        input: z.toJSONSchema(a.input, { unrepresentable: "any" }),
      })),
    });
  });

  v1.post("/desk/:action", async (req, res, next) => {
    const name = req.params.action;
    const action = spec.desk?.[name];
    if (!action) {
      problem(
        res,
        "NOT_FOUND",
        `${spec.service} has no desk action "${name}"`,
        `Use one of: ${Object.keys(spec.desk ?? {}).join(", ") || "(none)"} (GET /v1/desk lists them).`,
      );
      return;
    }
    const parsed = action.input.safeParse(req.body);
    if (!parsed.success) {
      problem(
        res,
        "INVALID_REQUEST",
        `the input of ${name} is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`,
        "Send a JSON body matching the action's input schema (GET /v1/desk).",
      );
      return;
    }
    try {
      const result = await runtime.transaction((ctx) => action.run(ctx, parsed.data));
      res.status(200).json({ action: name, result: result ?? null });
    } catch (err) {
      next(err);
    }
  });

  v1.get("/state", async (_req, res, next) => {
    try {
      res.json(await runtime.snapshot());
    } catch (err) {
      next(err);
    }
  });

  v1.get("/dead-letters", async (_req, res, next) => {
    try {
      res.json({ deadLetters: await runtime.deadLetters() });
    } catch (err) {
      next(err);
    }
  });

  v1.post("/dead-letters/replay", async (_req, res, next) => {
    try {
      res.json(await runtime.replay());
    } catch (err) {
      next(err);
    }
  });

  app.use((_req: Request, res: Response) => {
    problem(
      res,
      "NOT_FOUND",
      "no such path on this agency service",
      "See GET /v1/desk, GET /v1/state, GET /v1/dead-letters.",
    );
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; name?: string; message?: string };
    if (e.type === "entity.parse.failed") {
      problem(res, "INVALID_REQUEST", "the body is not valid JSON", "Send application/json.");
      return;
    }
    if (e.type === "entity.too.large") {
      problem(res, "PAYLOAD_TOO_LARGE", "the body is over 256 KiB", "Send a smaller body.");
      return;
    }
    // A domain rule that refuses an action says why (its message names the rule, never personal data).
    if (e.name === "DeskRefusal") {
      problem(
        res,
        "INVALID_REQUEST",
        e.message ?? "refused",
        (err as { fix?: string }).fix ?? "See the service's README.",
      );
      return;
    }
    runtime.log.error({ err: { name: e.name, message: e.message } }, "desk request failed");
    problem(
      res,
      "INTERNAL",
      "the action failed; nothing of it was committed",
      "Try again; the service's log says why.",
    );
  });
  return app;
}

/** A desk action refused by a domain rule: 400 with the rule's words and the fix. */
export class DeskRefusal extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "DeskRefusal";
  }
}
