import { apiVersion, loadOpenApi, type OpenApiDocument } from "@grondslag/http-kit/openapi";

/** The gateway's OpenAPI document (`services/gateway/openapi/openapi.yaml`), the source of truth of its HTTP API. */
export const OPENAPI_FILE = new URL("../../openapi/openapi.yaml", import.meta.url);

let cached: OpenApiDocument | undefined;

/** Loaded on first use, then shared (frozen). */
export function openApiDocument(): OpenApiDocument {
  cached ??= loadOpenApi(OPENAPI_FILE);
  return cached;
}

/** `info.version`, returned in every response's `API-Version` header. */
export function gatewayApiVersion(): string {
  return apiVersion(openApiDocument());
}
