import express from "express";
import { describe, expect, it } from "vitest";
import type { OpenApiDocument } from "../openapi/index";
import { checkRouteCoverage, createResponseValidator, expressPathToOpenApi, expressRoutes } from "./index";

const problem = {
  type: "object",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string", enum: ["NOT_FOUND"] },
  },
};
const versionHeader = { required: true, schema: { type: "string", pattern: "^\\d+\\.\\d+\\.\\d+$" } };

const doc: OpenApiDocument = {
  openapi: "3.0.3",
  info: { title: "t", version: "1.2.3" },
  servers: [{ url: "https://api.example/v1" }],
  paths: {
    "/things/{id}": {
      get: {
        operationId: "getThing",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": {
            description: "ok",
            headers: { "API-Version": versionHeader },
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["id", "created"],
                  additionalProperties: false,
                  properties: { id: { type: "string" }, created: { type: "string", format: "date-time" } },
                },
              },
            },
          },
          "404": { $ref: "#/components/responses/NotFound" },
        },
      },
    },
    "/healthz": {
      servers: [{ url: "https://api.example" }],
      get: {
        operationId: "health",
        responses: { "200": { description: "ok", headers: { "API-Version": versionHeader } } },
      },
    },
  },
  components: {
    responses: {
      NotFound: {
        description: "not found",
        headers: { "API-Version": versionHeader },
        content: { "application/problem+json": { schema: problem } },
      },
    },
  },
};

describe("response validator", () => {
  const good = {
    method: "GET",
    path: "/v1/things/42?verbose=1",
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8", "api-version": "1.2.3" },
    body: JSON.stringify({ id: "42", created: "2026-01-01T00:00:00Z" }),
  };

  it("accepts a response that matches the document", async () => {
    const v = await createResponseValidator(doc);
    expect(v.validate(good)).toEqual([]);
    expect(() => v.assert(good)).not.toThrow();
  });

  it("reports a body that breaks the schema, with the path", async () => {
    const v = await createResponseValidator(doc);
    const problems = v.validate({ ...good, body: { id: 42, created: "yesterday", extra: true } });
    expect(problems.join("\n")).toMatch(/body\/id must be string/);
    expect(problems.join("\n")).toMatch(/body\/created must match format "date-time"/);
    expect(problems.join("\n")).toMatch(/must NOT have additional properties/);
    expect(() => v.assert({ ...good, body: {} })).toThrow(/does not match the OpenAPI document/);
  });

  it("reports undocumented statuses, media types, missing required headers and unknown operations", async () => {
    const v = await createResponseValidator(doc);
    expect(v.validate({ ...good, status: 500 })).toEqual([
      `GET /v1/things/42 → 500: status 500 is not documented`,
    ]);
    expect(v.validate({ ...good, headers: { ...good.headers, "content-type": "text/html" } })[0]).toMatch(
      /Content-Type text\/html is not one of application\/json/,
    );
    expect(v.validate({ ...good, headers: { "content-type": "application/json" } })).toEqual([
      "GET /v1/things/42 → 200: required header API-Version is missing",
    ]);
    expect(v.validate({ ...good, headers: { ...good.headers, "api-version": "one" } })[0]).toMatch(
      /headers\/api-version must match pattern/,
    );
    expect(v.validate({ ...good, path: "/v2/things/42" })).toEqual([
      "GET /v2/things/42 → 200: no documented operation matches",
    ]);
  });

  it("validates problem+json bodies through $ref'd responses", async () => {
    const v = await createResponseValidator(doc);
    const notFound = {
      method: "GET",
      path: "/v1/things/9",
      status: 404,
      headers: { "content-type": "application/problem+json", "api-version": "1.2.3" },
      body: { type: "about:blank", title: "Not found", status: 404, detail: "no thing 9", code: "NOT_FOUND" },
    };
    expect(v.validate(notFound)).toEqual([]);
    expect(v.validate({ ...notFound, body: { ...notFound.body, code: "GONE" } })[0]).toMatch(
      /body\/code must be equal to one of the allowed values/,
    );
  });

  it("places path-level servers: /healthz lives outside /v1", async () => {
    const v = await createResponseValidator(doc);
    expect(
      v.validate({ method: "GET", path: "/healthz", status: 200, headers: { "api-version": "1.2.3" } }),
    ).toEqual([]);
    expect(
      v.validate({
        method: "GET",
        path: "/healthz",
        status: 200,
        headers: { "api-version": "1.2.3" },
        body: "x",
      })[0],
    ).toMatch(/a body was sent but none is documented/);
  });
});

describe("route coverage", () => {
  it("translates express paths and refuses patterns it cannot compare", () => {
    expect(expressPathToOpenApi("/v1/things/:id/parts/:partId")).toBe("/v1/things/{id}/parts/{partId}");
    expect(() => expressPathToOpenApi("/files/*path")).toThrow(/wildcards/);
  });

  it("lists routes of nested routers and agrees with a matching document", () => {
    const app = express();
    const v1 = express.Router();
    v1.get("/things/:id", (_req, res) => void res.end());
    app.use("/v1", v1);
    app.get("/healthz", (_req, res) => void res.end());
    expect(expressRoutes(app)).toEqual([
      { method: "GET", path: "/v1/things/{id}" },
      { method: "GET", path: "/healthz" },
    ]);
    expect(checkRouteCoverage(app, doc)).toEqual({ undocumented: [], unimplemented: [] });
  });

  it("names routes missing from the document and operations missing from the app", () => {
    const app = express();
    app.get("/v1/things/:id", (_req, res) => void res.end());
    app.delete("/v1/things/:id", (_req, res) => void res.end());
    expect(checkRouteCoverage(app, doc)).toEqual({
      undocumented: ["DELETE /v1/things/{id}"],
      unimplemented: ["GET /healthz"],
    });
  });
});
