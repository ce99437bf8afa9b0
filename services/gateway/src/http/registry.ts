import { matchParty, type Catalogue } from "@grondslag/contracts";
import type { Topic } from "@grondslag/schemas";
import { canonicalTopic, deliveryTopic, subjectOf } from "@grondslag/wire";
import express, { type Express, type RequestHandler, type Response } from "express";
import { GatewayError } from "../errors";
import { callerOf } from "./edge";

/**
 * The parties' read-only window on the schema registry: a Confluent-compatible subset under `/v1/registry`, enough
 * for a standard Avro serializer/deserializer (@kafkajs/confluent-schema-registry, Confluent's Java
 * KafkaAvroSerializer with auto-registration off) pointed at the gateway. The registry itself refuses parties
 * (they have no account there); this window shows each party only the subjects it may use:
 *
 * - `events.<topic>-value` for each topic it produces: the writer schema it encodes ingress records with;
 * - `deliver.<party>.<topic>-value` for each topic it consumes: its own projected view, never another party's,
 *   and never the canonical schema of a topic it only consumes (that would name fields its contract withholds).
 *
 * Anything else, and anything that does not exist, is the same 404: a party cannot probe for other subjects.
 * Writes (register, delete, config) are not part of the window: only provisioning writes to the registry.
 */

/** The subjects `party` may read, from the contracts alone. */
export function visibleSubjects(catalogue: Catalogue, party: string): Set<string> {
  const subjects = new Set<string>();
  for (const contract of Object.values(catalogue.topics)) {
    if (!contract) continue;
    const topic: Topic = contract.topic;
    if (contract.producers.some((p) => matchParty(p.party, party)))
      subjects.add(subjectOf(canonicalTopic(topic)));
    if (contract.consumers.some((c) => matchParty(c.party, party)))
      subjects.add(subjectOf(deliveryTopic(party, topic)));
  }
  return subjects;
}

export interface RegistryViewOptions {
  catalogue: () => Catalogue;
  /** Base of the registry's Confluent-compatible API (…/apis/ccompat/v7). */
  url: string;
  /** The gateway's own (read-only) registry account. */
  credential?: { username: string; password: string } | undefined;
}

interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType?: string;
}

/** Reads the registry on a party's behalf, within `visibleSubjects`. */
export function createRegistryView(opts: RegistryViewOptions) {
  const headers: Record<string, string> = opts.credential
    ? {
        authorization: `Basic ${Buffer.from(`${opts.credential.username}:${opts.credential.password}`).toString("base64")}`,
      }
    : {};

  async function upstream(path: string, init?: { method: string; body: unknown }) {
    const res = await fetch(`${opts.url}${path}`, {
      method: init?.method ?? "GET",
      headers: { ...headers, "content-type": "application/vnd.schemaregistry.v1+json" },
      ...(init ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(5000),
    }).catch((err: unknown) => {
      throw new GatewayError("UNAVAILABLE", "the schema registry is unreachable", "Retry later.", {
        cause: err,
      });
    });
    if (res.status === 404) return undefined;
    if (!res.ok) {
      throw new GatewayError(
        "UNAVAILABLE",
        `the schema registry answered ${res.status}`,
        "Retry later; if it persists, report the traceId.",
      );
    }
    return await res.json();
  }

  const notFound = (what: string) =>
    new GatewayError(
      "NOT_FOUND",
      `${what.slice(0, 200)} is not a subject or schema you may read`,
      "GET /v1/registry/subjects lists the subjects your contracts let you use.",
    );

  function visible(party: string, subject: string): string {
    if (!visibleSubjects(opts.catalogue(), party).has(subject)) throw notFound(subject);
    return encodeURIComponent(subject);
  }

  function strip(v: SubjectVersion): SubjectVersion {
    return {
      subject: v.subject,
      version: v.version,
      id: v.id,
      schema: v.schema,
      ...(v.schemaType && v.schemaType !== "AVRO" ? { schemaType: v.schemaType } : {}),
    };
  }

  return {
    async subjects(party: string): Promise<string[]> {
      const all = ((await upstream("/subjects")) ?? []) as string[];
      const mine = visibleSubjects(opts.catalogue(), party);
      return all.filter((s) => mine.has(s)).sort();
    },

    async versions(party: string, subject: string): Promise<number[]> {
      const v = await upstream(`/subjects/${visible(party, subject)}/versions`);
      if (v === undefined) throw notFound(subject);
      return v as number[];
    },

    async version(party: string, subject: string, version: string): Promise<SubjectVersion> {
      const v = await upstream(
        `/subjects/${visible(party, subject)}/versions/${encodeURIComponent(version)}`,
      );
      if (v === undefined) throw notFound(`${subject} version ${version}`);
      return strip(v as SubjectVersion);
    },

    /** The schema with registry id `id`, if it is registered under a subject the party may read. */
    async schema(party: string, id: number): Promise<{ schema: string; schemaType?: string }> {
      const mine = visibleSubjects(opts.catalogue(), party);
      const under = ((await upstream(`/schemas/ids/${id}/versions`)) ?? []) as { subject: string }[];
      if (!under.some((u) => mine.has(u.subject))) throw notFound(`schema ${id}`);
      const s = (await upstream(`/schemas/ids/${id}`)) as { schema: string; schemaType?: string } | undefined;
      if (s === undefined) throw notFound(`schema ${id}`);
      return {
        schema: s.schema,
        ...(s.schemaType && s.schemaType !== "AVRO" ? { schemaType: s.schemaType } : {}),
      };
    },

    /** Which version of `subject` (and which id) `schema` is: how serializers find the id without registering. */
    async lookup(
      party: string,
      subject: string,
      schema: string,
      schemaType?: string,
    ): Promise<SubjectVersion> {
      const v = await upstream(`/subjects/${visible(party, subject)}`, {
        method: "POST",
        body: { schema, ...(schemaType ? { schemaType } : {}) },
      });
      if (v === undefined) throw notFound(`that schema under ${subject}`);
      return strip(v as SubjectVersion);
    },
  };
}

export type RegistryView = ReturnType<typeof createRegistryView>;

const BASIC = /^Basic +([A-Za-z0-9+/]+=*) *$/i;

/**
 * Serializer libraries speak HTTP basic (`basic.auth.user.info`, `auth: { username, password }`), not bearer:
 * the window takes `Basic <party>:<bearer token>` too, and checks the name against the token's party. The token
 * is the same short-lived JWT the rest of the API takes; no registry password exists for a party.
 */
export function basicAsBearer(): RequestHandler {
  return (req, _res, next) => {
    const m = BASIC.exec(req.get("authorization") ?? "");
    if (m?.[1] !== undefined) {
      const decoded = Buffer.from(m[1], "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const user = colon < 0 ? "" : decoded.slice(0, colon);
      const token = colon < 0 ? "" : decoded.slice(colon + 1);
      req.headers.authorization = `Bearer ${token}`;
      (req as { basicUser?: string }).basicUser = user;
    }
    next();
  };
}

const claimedUserMatches: RequestHandler = (req, res, next) => {
  const user = (req as { basicUser?: string }).basicUser;
  if (user !== undefined && user !== callerOf(res).party) {
    throw new GatewayError(
      "UNAUTHENTICATED",
      "the basic-auth user name is not the token's party",
      "Send `<your party id>:<your bearer token>` as basic-auth user and password, or the token as a bearer.",
    );
  }
  next();
};

const subjectParam = (req: { params: Record<string, unknown> }): string =>
  typeof req.params.subject === "string" ? req.params.subject : "";

function versionParam(raw: unknown): string {
  const v = typeof raw === "string" ? raw : "";
  if (v === "latest" || /^[1-9][0-9]{0,8}$/.test(v)) return v;
  throw new GatewayError(
    "INVALID_REQUEST",
    "a version is a positive integer or `latest`",
    "Ask for `latest`.",
    {
      field: "version",
    },
  );
}

function idParam(raw: unknown): number {
  const v = typeof raw === "string" ? raw : "";
  if (/^[0-9]{1,10}$/.test(v) && Number(v) <= 2_147_483_647) return Number(v);
  throw new GatewayError(
    "INVALID_REQUEST",
    "a schema id is a non-negative 32-bit integer",
    "Use the id from the record's header.",
    {
      field: "id",
    },
  );
}

const registryJson = express.json({
  limit: 256 * 1024,
  type: ["application/json", "application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json"],
});

const send = (res: Response, body: unknown) => res.status(200).json(body);

/**
 * Mounts the window on `app`. `caller` is the API's own authentication and rate limit; `view` is undefined on an
 * app built without a registry (unit tests of other routes): then every call answers UNAVAILABLE.
 */
export function mountRegistry(
  app: Express,
  deps: { caller: RequestHandler[]; view: RegistryView | undefined },
): void {
  const guard = [basicAsBearer(), ...deps.caller, claimedUserMatches];
  const view = (): RegistryView => {
    if (deps.view === undefined) {
      throw new GatewayError(
        "UNAVAILABLE",
        "this gateway instance has no schema registry configured",
        "Retry later; operators: give the gateway REGISTRY_URL and its registry account.",
      );
    }
    return deps.view;
  };
  app.get("/v1/registry/subjects", ...guard, async (_req, res) => {
    send(res, await view().subjects(callerOf(res).party));
  });
  app.get("/v1/registry/subjects/:subject/versions", ...guard, async (req, res) => {
    send(res, await view().versions(callerOf(res).party, subjectParam(req)));
  });
  app.get("/v1/registry/subjects/:subject/versions/:version", ...guard, async (req, res) => {
    send(res, await view().version(callerOf(res).party, subjectParam(req), versionParam(req.params.version)));
  });
  app.post("/v1/registry/subjects/:subject", ...guard, registryJson, async (req, res) => {
    const body = req.body as { schema?: unknown; schemaType?: unknown } | undefined;
    if (
      typeof body?.schema !== "string" ||
      (body.schemaType !== undefined && typeof body.schemaType !== "string")
    ) {
      throw new GatewayError(
        "INVALID_REQUEST",
        'the body must be { "schema": "<the schema as a JSON string>" }',
        "Send the schema you encode with, as the registry's Confluent API takes it.",
        { field: "schema" },
      );
    }
    send(res, await view().lookup(callerOf(res).party, subjectParam(req), body.schema, body.schemaType));
  });
  app.get("/v1/registry/schemas/ids/:id", ...guard, async (req, res) => {
    send(res, await view().schema(callerOf(res).party, idParam(req.params.id)));
  });
}
