import addFormats from "ajv-formats";
import { OpenAPIBackend, SetMatchType, type Operation } from "openapi-backend";
import {
  documentedOperations,
  HTTP_METHODS,
  withAbsolutePaths,
  type OpenApiDocument,
} from "../openapi/index";

/**
 * Test helpers that keep a service's OpenAPI document honest: route coverage (every registered route is
 * documented, every documented operation is registered) and response validation against the document.
 */

export interface RegisteredRoute {
  method: string;
  /** OpenAPI template syntax: `/v1/topics/{topic}/events`. */
  path: string;
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  handle?: { stack?: unknown };
  rawPath?: unknown;
  slash?: boolean;
}

/** `/v1/topics/:topic/events` → `/v1/topics/{topic}/events`; wildcards and optional groups are refused. */
export function expressPathToOpenApi(path: string): string {
  if (/[*?(){}]/.test(path)) {
    throw new Error(`route ${path}: wildcards and optional segments cannot be checked against a document`);
  }
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/**
 * Every route an express 5 app registers, nested routers included (mounted under a plain string path). The
 * implicit HEAD that express answers for each GET is not listed.
 */
export function expressRoutes(app: { router: { stack: unknown[] } }): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const walk = (stack: unknown[], prefix: string): void => {
    for (const raw of stack) {
      const layer = raw as Layer;
      if (layer.route !== undefined) {
        const paths = Array.isArray(layer.route.path) ? (layer.route.path as unknown[]) : [layer.route.path];
        for (const p of paths) {
          if (typeof p !== "string")
            throw new Error(`a route with a non-string path (${String(p)}) cannot be checked`);
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on !== true || method === "_all") continue;
            routes.push({ method: method.toUpperCase(), path: expressPathToOpenApi(`${prefix}${p}`) });
          }
          if (layer.route.methods._all === true) {
            for (const m of HTTP_METHODS)
              routes.push({ method: m.toUpperCase(), path: expressPathToOpenApi(`${prefix}${p}`) });
          }
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        const mount = layer.slash === true ? "" : layer.rawPath;
        if (typeof mount !== "string")
          throw new Error("a router mounted on a non-string path cannot be checked");
        walk(layer.handle.stack as unknown[], `${prefix}${mount}`);
      }
    }
  };
  walk(app.router.stack, "");
  return routes;
}

export interface RouteCoverage {
  /** Registered by the app, absent from the document. */
  undocumented: string[];
  /** In the document, not registered by the app. */
  unimplemented: string[];
}

/** Compares an express app's routes with a document's operations; both lists are empty when they agree. */
export function checkRouteCoverage(
  app: { router: { stack: unknown[] } },
  doc: OpenApiDocument,
): RouteCoverage {
  const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
  const registered = new Set(expressRoutes(app).map(key));
  const documented = new Set(documentedOperations(doc).map(key));
  return {
    undocumented: [...registered].filter((k) => !documented.has(k)).sort(),
    unimplemented: [...documented].filter((k) => !registered.has(k)).sort(),
  };
}

/** One HTTP exchange as a test saw it. `body` is the raw text (or already parsed JSON). */
export interface ObservedResponse {
  method: string;
  /** The path the client called, query string allowed. */
  path: string;
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body?: unknown;
}

export interface ResponseValidator {
  /** Problems with the response (empty when it matches the document). */
  validate(res: ObservedResponse): string[];
  /** Throws with every problem listed when the response does not match the document. */
  assert(res: ObservedResponse): void;
}

type ResponseObject = { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> };

function mediaType(contentType: unknown): string | undefined {
  if (typeof contentType !== "string") return undefined;
  return contentType.split(";")[0]?.trim().toLowerCase();
}

/**
 * Validates responses against a document with openapi-backend (operation matching, body and header schemas,
 * through Ajv with formats). openapi-backend validates JSON bodies only under `application/json`; this wrapper
 * first checks the status and the Content-Type are documented, then gives `+json` media types (problem+json) the
 * same schema validation by presenting them to the library as JSON. Other media types (Prometheus text, SSE) are
 * checked for their Content-Type only.
 */
export async function createResponseValidator(doc: OpenApiDocument): Promise<ResponseValidator> {
  const flat = withAbsolutePaths(doc);
  const api = new OpenAPIBackend({
    definition: presentJsonMediaTypesAsJson(flat),
    strict: true,
    validate: true,
    quick: false,
    ajvOpts: { allErrors: true },
    customizeAjv: (ajv) => {
      addFormats(ajv);
      return ajv;
    },
  });
  await api.init();

  const validate = (observed: ObservedResponse): string[] => {
    const url = new URL(observed.path, "http://validator.invalid");
    const where = `${observed.method} ${url.pathname} → ${observed.status}`;
    const operation: Operation | undefined = api.matchOperation({
      method: observed.method,
      path: url.pathname,
      headers: {},
      query: {},
    });
    if (operation === undefined) return [`${where}: no documented operation matches`];

    // Status and media type against the document as written (before the JSON presentation above).
    const original = (flat.paths[operation.path]?.[operation.method] ?? {}) as {
      responses?: Record<string, unknown>;
    };
    const responses = original.responses ?? {};
    const found =
      responses[String(observed.status)] ?? responses[`${String(observed.status)[0]}XX`] ?? responses.default;
    if (found === undefined) return [`${where}: status ${observed.status} is not documented`];
    const response = resolveRef(flat, found) as ResponseObject;

    const problems: string[] = [];
    const headers = lowerCaseHeaders(observed.headers);
    const type = mediaType(headers["content-type"]);
    const documentedTypes = Object.keys(response.content ?? {});
    const hasBody = observed.body !== undefined && observed.body !== "" && observed.body !== null;
    if (documentedTypes.length === 0) {
      if (hasBody) problems.push(`${where}: a body was sent but none is documented`);
    } else if (type === undefined || !documentedTypes.includes(type)) {
      problems.push(`${where}: Content-Type ${type ?? "(none)"} is not one of ${documentedTypes.join(", ")}`);
    } else if (type === "application/json" || type.endsWith("+json")) {
      let body: unknown = observed.body;
      if (typeof body === "string") {
        try {
          body = JSON.parse(body);
        } catch {
          problems.push(`${where}: body is not JSON`);
        }
      }
      const result = api.validateResponse(body, operation, observed.status);
      for (const e of result.errors ?? [])
        problems.push(`${where}: body${e.instancePath} ${e.message ?? "is invalid"}`);
    }

    // openapi-backend checks the schemas of the headers present; `required: true` is checked here.
    for (const [name, h] of Object.entries(response.headers ?? {})) {
      const header = resolveRef(flat, h) as { required?: boolean };
      if (header.required === true && headers[name.toLowerCase()] === undefined) {
        problems.push(`${where}: required header ${name} is missing`);
      }
    }
    const headerResult = api.validateResponseHeaders(headers, operation, {
      statusCode: observed.status,
      setMatchType: SetMatchType.Any,
    });
    for (const e of headerResult.errors ?? []) {
      problems.push(`${where}: headers${e.instancePath} ${e.message ?? "are invalid"}`);
    }
    return problems;
  };

  return {
    validate,
    assert(observed) {
      const problems = validate(observed);
      if (problems.length > 0)
        throw new Error(`response does not match the OpenAPI document:\n${problems.join("\n")}`);
    },
  };
}

/** Follows local `$ref`s (`#/components/...`) to the object they name. */
function resolveRef(doc: OpenApiDocument, node: unknown): unknown {
  let current = node;
  for (let hops = 0; hops < 20; hops++) {
    if (typeof current !== "object" || current === null || !("$ref" in current)) return current;
    const ref = current.$ref;
    if (typeof ref !== "string" || !ref.startsWith("#/"))
      throw new Error(`only local $refs are supported: ${String(ref)}`);
    current = ref
      .slice(2)
      .split("/")
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], doc);
    if (current === undefined) throw new Error(`unresolvable $ref ${ref}`);
  }
  throw new Error("$ref chain too long");
}

function lowerCaseHeaders(headers: ObservedResponse["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

/** For each response whose only JSON media type is `…+json`, adds it as `application/json` for the validator. */
function presentJsonMediaTypesAsJson(doc: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(doc);
  const visit = (response: ResponseObject | undefined) => {
    if (response?.content === undefined || "application/json" in response.content) return;
    const json = Object.keys(response.content).find((t) => t.endsWith("+json"));
    if (json !== undefined) response.content["application/json"] = response.content[json] ?? {};
  };
  for (const item of Object.values(copy.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as
        { responses?: Record<string, ResponseObject | { $ref: string }> } | undefined;
      for (const r of Object.values(op?.responses ?? {})) if (!("$ref" in r)) visit(r);
    }
  }
  const shared = (copy.components as { responses?: Record<string, ResponseObject> } | undefined)?.responses;
  for (const r of Object.values(shared ?? {})) visit(r);
  return copy;
}
