import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/**
 * An OpenAPI 3.0 document, typed only as far as the project's tools read it. Each service keeps its document as
 * a YAML file next to its code (the source of truth), loads it with `loadOpenApi` and serves it as JSON.
 */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; [key: string]: unknown };
  servers?: ServerObject[];
  paths: Record<string, PathItem>;
  components?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ServerObject {
  url: string;
  description?: string;
}

export type PathItem = { servers?: ServerObject[]; [key: string]: unknown };

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** One documented operation, with the full path a client calls (the server's base path included). */
export interface DocumentedOperation {
  method: Uppercase<(typeof HTTP_METHODS)[number]>;
  /** Path as the app routes it, OpenAPI template syntax: `/v1/topics/{topic}/events`. */
  path: string;
  /** The key under `paths` in the document: `/topics/{topic}/events`. */
  documentPath: string;
  operationId: string | undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Reads a YAML (or JSON) OpenAPI document and checks the little every tool here relies on. Frozen. */
export function loadOpenApi(file: string | URL): OpenApiDocument {
  const path = typeof file === "string" ? file : fileURLToPath(file);
  const doc: unknown = parse(readFileSync(path, "utf8"));
  const problems: string[] = [];
  if (typeof doc !== "object" || doc === null) throw new Error(`${path}: not an OpenAPI document`);
  const d = doc as Partial<OpenApiDocument>;
  if (typeof d.openapi !== "string" || !d.openapi.startsWith("3.")) problems.push("`openapi` must be 3.x");
  if (typeof d.info?.version !== "string") problems.push("`info.version` is required");
  if (typeof d.paths !== "object" || d.paths === null) problems.push("`paths` is required");
  if (problems.length > 0) throw new Error(`${path}: ${problems.join("; ")}`);
  return deepFreeze(doc as OpenApiDocument);
}

/** The path part of a server URL without a trailing slash: `https://host/v1` → `/v1`, `https://host` → ``. */
export function serverBasePath(url: string): string {
  const pathname = new URL(url, "https://relative.invalid").pathname;
  return pathname.replace(/\/+$/, "");
}

/**
 * Every operation in the document with the path a client calls: the base path of the servers that apply
 * (path-level `servers` override the top-level ones, as OpenAPI says) joined to the path key. The servers that
 * apply must agree on their base path; a document that mixes them cannot be routed by one app.
 */
export function documentedOperations(doc: OpenApiDocument): DocumentedOperation[] {
  const ops: DocumentedOperation[] = [];
  for (const [documentPath, item] of Object.entries(doc.paths)) {
    const servers = item.servers ?? doc.servers ?? [{ url: "/" }];
    const bases = new Set(servers.map((s) => serverBasePath(s.url)));
    if (bases.size !== 1) {
      throw new Error(
        `paths.${documentPath}: its servers have different base paths (${[...bases].join(", ")})`,
      );
    }
    const [base] = [...bases];
    for (const method of HTTP_METHODS) {
      const op = item[method] as { operationId?: string } | undefined;
      if (op === undefined) continue;
      ops.push({
        method: method.toUpperCase() as DocumentedOperation["method"],
        path: `${base ?? ""}${documentPath}`,
        documentPath,
        operationId: op.operationId,
      });
    }
  }
  return ops;
}

/** `info.version`, which the API returns in its `API-Version` header (ADR /core/version-header). */
export function apiVersion(doc: OpenApiDocument): string {
  return doc.info.version;
}

/** A copy of the document in which every path carries its server base path and the only server is `/`. */
export function withAbsolutePaths(doc: OpenApiDocument): OpenApiDocument {
  const paths: Record<string, PathItem> = {};
  for (const [documentPath, item] of Object.entries(doc.paths)) {
    const servers = item.servers ?? doc.servers ?? [{ url: "/" }];
    const base = serverBasePath(servers[0]?.url ?? "/");
    const { servers: _servers, ...rest } = item;
    paths[`${base}${documentPath}`] = rest;
  }
  return { ...structuredClone(doc), servers: [{ url: "/" }], paths: structuredClone(paths) };
}
