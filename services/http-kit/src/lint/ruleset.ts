import type { RulesetDefinition } from "@stoplight/spectral-core";
import { oas3 } from "@stoplight/spectral-formats";
import { pattern, schema, truthy } from "@stoplight/spectral-functions";
import { oas } from "@stoplight/spectral-rulesets";

/**
 * Spectral ruleset for the project's OpenAPI documents: Spectral's own `oas` recommended rules, the core rules of
 * the NL API Design Rules (ADR) as Logius's published linter expresses them (rule ids kept, prefixed `nlgov:`),
 * and a few of our own (`grondslag:`). Kept here rather than fetched so linting works offline and in CI; when
 * Logius changes its linter, bring the change here.
 */
const ADR = "https://logius-standaarden.github.io/API-Design-Rules/";
const SUCCESS = "$..[responses][?(@property && @property.match(/^(2|3)\\d\\d$/))]";
const ERROR = "$..[responses][?(@property && @property.match(/^(4|5)\\d\\d$/))]";

export const ruleset: RulesetDefinition = {
  extends: [[oas as RulesetDefinition, "recommended"]],
  formats: [oas3],
  rules: {
    "oas3-api-servers": "error",
    "nlgov:openapi3": {
      description: "/core/doc-openapi: document the API in OpenAPI 3.",
      documentationUrl: `${ADR}#/core/doc-openapi`,
      severity: "error",
      given: "$.openapi",
      then: { function: pattern, functionOptions: { match: "^3(\\.\\d+){1,2}$" } },
    },
    "nlgov:missing-header": {
      description: "/core/version-header: every 2xx and 3xx response documents its headers (API-Version).",
      documentationUrl: `${ADR}#/core/version-header`,
      severity: "error",
      given: SUCCESS,
      then: { field: "headers", function: truthy },
    },
    "nlgov:missing-version-header": {
      description: "/core/version-header: return the full version number in an API-Version response header.",
      documentationUrl: `${ADR}#/core/version-header`,
      severity: "error",
      given: `${SUCCESS}[headers]`,
      then: { field: "API-Version", function: truthy },
    },
    "nlgov:include-major-version-in-uri": {
      description: "/core/uri-version: include the major version number in the URI.",
      documentationUrl: `${ADR}#/core/uri-version`,
      severity: "error",
      given: "$.servers[*]",
      then: { field: "url", function: pattern, functionOptions: { match: "/v\\d+$" } },
    },
    "nlgov:paths-no-trailing-slash": {
      description: "/core/no-trailing-slash: leave off trailing slashes from URIs.",
      documentationUrl: `${ADR}#/core/no-trailing-slash`,
      severity: "error",
      given: "$.paths",
      then: { field: "@key", function: pattern, functionOptions: { notMatch: ".+/$" } },
    },
    "info-contact": "error",
    "nlgov:info-contact-fields-exist": {
      description: "/core/doc-openapi-contact: the contact has a name, an email address and a URL.",
      documentationUrl: `${ADR}#/core/doc-openapi-contact`,
      severity: "error",
      given: "$.info.contact",
      then: { function: schema, functionOptions: { schema: { required: ["email", "name", "url"] } } },
    },
    "nlgov:paths-kebab-case": {
      description: "/core/naming-resources: path segments are lower-case kebab-case.",
      documentationUrl: `${ADR}#/core/naming-resources`,
      severity: "error",
      given: "$.paths[?(@property && !@property.match(/\\/openapi\\.json$/))]~",
      then: {
        function: pattern,
        functionOptions: { match: "^(/([a-z0-9-]+|\\{[^}]+\\}))+$" },
      },
    },
    "nlgov:query-keys-camel-case": {
      description: "Query parameter names are lower camelCase.",
      documentationUrl: `${ADR}#/core/naming-resources`,
      severity: "error",
      given: [
        "$.paths[*][*].parameters[?(@ && @.in == 'query')]",
        "$.components.parameters[?(@ && @.in == 'query')]",
      ],
      then: { field: "name", function: pattern, functionOptions: { match: "^[a-z][a-zA-Z0-9]*$" } },
    },
    "nlgov:servers-use-https": {
      description: "/core/transport/tls: servers are reached over HTTPS.",
      documentationUrl: `${ADR}#/core/transport/tls`,
      severity: "error",
      given: ["$.servers[*]", "$.paths[*].servers[*]"],
      then: { field: "url", function: pattern, functionOptions: { match: "^https://" } },
    },
    "nlgov:use-problem-schema": {
      description: "/core/error-handling/problem-details: errors are application/problem+json (RFC 9457).",
      documentationUrl: `${ADR}#/core/error-handling/problem-details`,
      severity: "error",
      given: `${ERROR}.content`,
      then: { field: "application/problem+json", function: truthy },
    },
    "nlgov:problem-schema-members": {
      description: "Problem details carry status, title and detail; ours add the stable code.",
      severity: "error",
      given: `${ERROR}.content[application/problem+json].schema`,
      then: {
        function: schema,
        functionOptions: {
          schema: {
            type: "object",
            required: ["properties"],
            properties: { properties: { type: "object", required: ["status", "title", "detail", "code"] } },
          },
        },
      },
    },
    "nlgov:problem-invalid-input": {
      description: "/core/error-handling/invalid-input: operations that take input can answer 400.",
      documentationUrl: `${ADR}#/core/error-handling/invalid-input`,
      severity: "error",
      given: [
        "$.paths[*][?(@property.match(/^(get|delete)$/) && @.parameters && @.parameters.length > 0)]",
        "$.paths[*][?(@property.match(/^(put|post|patch)$/))]",
      ],
      then: { field: "responses.400", function: truthy },
    },
    "nlgov:semver": {
      description: "/core/semver: info.version is a semantic version.",
      documentationUrl: `${ADR}#/core/semver`,
      severity: "error",
      given: "$.info.version",
      then: {
        function: pattern,
        functionOptions: {
          match: "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$",
        },
      },
    },
    "grondslag:security-schemes": {
      description: "The security schemes are documented.",
      severity: "error",
      given: "$",
      then: { field: "components.securitySchemes", function: truthy },
    },
    "grondslag:body-examples": {
      description: "Every request and response body has an example.",
      severity: "error",
      given: ["$.paths[*][*].requestBody.content[*]", "$.paths[*][*].responses[*].content[*]"],
      then: {
        function: schema,
        functionOptions: { schema: { anyOf: [{ required: ["example"] }, { required: ["examples"] }] } },
      },
    },
    "grondslag:operation-summary": {
      description: "Every operation has a summary.",
      severity: "error",
      given: "$.paths[*][get,put,post,delete,patch]",
      then: { field: "summary", function: truthy },
    },
  },
};
