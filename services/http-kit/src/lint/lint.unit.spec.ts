import { describe, expect, it } from "vitest";
import { lintOpenApiText } from "./index";

const bad = `
openapi: 3.0.3
info:
  title: bad
  version: "1.0"
servers:
  - url: http://api.example
paths:
  /Things/:
    get:
      operationId: listThings
      parameters:
        - name: page_size
          in: query
          schema: { type: integer }
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { type: object }
        "404":
          description: nope
          content:
            application/json:
              schema: { type: object }
`;

describe("OpenAPI lint (API Design Rules)", () => {
  it("finds the ADR violations of a careless document", async () => {
    const codes = new Set(
      (await lintOpenApiText(bad)).filter((i) => i.severity === "error").map((i) => i.code),
    );
    for (const code of [
      "nlgov:semver",
      "nlgov:include-major-version-in-uri",
      "nlgov:servers-use-https",
      "nlgov:paths-no-trailing-slash",
      "nlgov:paths-kebab-case",
      "nlgov:query-keys-camel-case",
      "nlgov:missing-header",
      "nlgov:use-problem-schema",
      "nlgov:problem-invalid-input",
      "info-contact",
      "grondslag:security-schemes",
      "grondslag:body-examples",
    ]) {
      expect(codes, code).toContain(code);
    }
  }, 30_000);
});
