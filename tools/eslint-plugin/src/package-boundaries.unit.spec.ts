import fs from "node:fs";
import path from "node:path";
import { ESLint, RuleTester } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import { exceptions, packages } from "./graph.js";
import { defaultRoot, packageBoundaries } from "./package-boundaries.js";

// Each forbidden kind of import, as a fixture: the file it sits in (repository-relative; the file need not exist)
// and its code. RuleTester fails a case whose rule reports nothing, or reports another message.
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const root = defaultRoot;
const tester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: "module" },
});

const at = (file: string) => path.join(root, file);
type Case = { name: string; file: string; code: string };
const valid = (c: Case) => ({ name: c.name, filename: at(c.file), code: c.code });
const invalid = (c: Case & { message: RegExp; errors?: number }) => ({
  name: c.name,
  filename: at(c.file),
  code: c.code,
  errors: Array.from({ length: c.errors ?? 1 }, () => ({ message: c.message })),
});

/** Every refusal names the rule. */
const rule = (tail: string) => new RegExp(`^\\[grondslag/package-boundaries\\] .*${tail}`);
const PURE_LAW = "contracts is pure law .*move the I/O to @grondslag/provision";

tester.run("grondslag/package-boundaries", packageBoundaries, {
  valid: [
    valid({
      name: "contracts → schemas",
      file: "contracts/src/x.ts",
      code: `import { rawSchema } from "@grondslag/schemas";`,
    }),
    valid({
      name: "contracts → wire (types too)",
      file: "contracts/src/provision/plan.ts",
      code: `import { subjectOf } from "@grondslag/wire"; import type { KafkaTopicName } from "@grondslag/wire";`,
    }),
    valid({
      name: "contracts → its own files",
      file: "contracts/src/provision/plan.ts",
      code: `import { projectSchema } from "../projection";`,
    }),
    valid({
      name: "contracts → node:fs (reading its data is not network I/O)",
      file: "contracts/src/load.ts",
      code: `import fs from "node:fs";`,
    }),
    valid({
      name: "contracts: a local function called fetch",
      file: "contracts/src/x.ts",
      code: `const fetch = (s: string) => s; fetch("a");`,
    }),
    valid({
      name: "a contracts spec → infra",
      file: "contracts/src/x.int.spec.ts",
      code: `import { testStack } from "@grondslag/infra/test";`,
    }),
    valid({
      name: "provision → contracts, its plan, infra, wire, kafkajs",
      file: "provision/src/apply.ts",
      code: `import { loadCatalogue } from "@grondslag/contracts"; import { desiredState } from "@grondslag/contracts/plan"; import { kafkaClient } from "@grondslag/infra"; import { AUDIT_TOPIC } from "@grondslag/wire"; import kafkajs from "kafkajs";`,
    }),
    valid({
      name: "infra → kafkajs, pg (infra is I/O)",
      file: "infra/src/kafka.ts",
      code: `import kafkajs from "kafkajs"; import pg from "pg";`,
    }),
    valid({
      name: "gateway → the libraries",
      file: "services/gateway/src/app.ts",
      code: `import { checkProduce } from "@grondslag/contracts"; import { GATEWAY } from "@grondslag/contracts/plan"; import type { Topic } from "@grondslag/schemas"; import { subjectOf } from "@grondslag/wire"; import { mount } from "@grondslag/http-kit/http"; import { kit } from "@grondslag/kit"; import { client } from "@grondslag/sdk";`,
    }),
    valid({
      name: "a gateway spec → infra and provision",
      file: "services/gateway/src/gateway.int.spec.ts",
      code: `import { waitFor } from "@grondslag/infra"; import { testStack } from "@grondslag/infra/test"; import { readCredential } from "@grondslag/provision";`,
    }),
    valid({
      name: "a gateway spec helper → infra",
      file: "services/gateway/src/test-config.ts",
      code: `import { databaseUrl } from "@grondslag/infra";`,
    }),
    valid({
      name: "the gateway bench → infra, provision and its own src",
      file: "services/gateway/bench/publish.bench.ts",
      code: `import { acquireStack } from "@grondslag/infra"; import { applyContracts } from "@grondslag/provision"; import { createApp } from "../src/app";`,
    }),
    valid({
      name: "scenario → infra and provision (it brings the stack up)",
      file: "services/scenario/src/main.ts",
      code: `import { acquireStack } from "@grondslag/infra"; import { applyContracts } from "@grondslag/provision"; import { connect } from "@grondslag/sdk";`,
    }),
    valid({
      name: "sdk → wire and an npm package",
      file: "services/sdk/src/http.ts",
      code: `import { HTTP_HEADERS } from "@grondslag/wire"; import { SignJWT } from "jose";`,
    }),
    valid({
      name: "kit → contracts and http-kit",
      file: "services/kit/src/index.ts",
      code: `import { loadCatalogue } from "@grondslag/contracts"; import { mount } from "@grondslag/http-kit/http";`,
    }),
    valid({
      name: "the end-to-end harness → a service",
      file: "test/src/gateway-harness.ts",
      code: `import { createApp } from "@grondslag/gateway/app";`,
    }),
    valid({
      name: "wire → node:crypto",
      file: "wire/src/trace.ts",
      code: `import crypto from "node:crypto";`,
    }),
    valid({
      name: "a root file is in no package",
      file: "vitest.config.ts",
      code: `import { x } from "@grondslag/infra";`,
    }),
  ],
  invalid: [
    // contracts is pure law
    invalid({
      name: "contracts → infra",
      file: "contracts/src/x.ts",
      code: `import { kafkaClient } from "@grondslag/infra";`,
      message: rule(`${PURE_LAW}.*contracts may import: @grondslag/schemas, @grondslag/wire`),
    }),
    invalid({
      name: "contracts → infra, type-only",
      file: "contracts/src/x.ts",
      code: `import type { StackConfig } from "@grondslag/infra";`,
      message: rule(PURE_LAW),
    }),
    invalid({
      name: "contracts → infra, re-exported",
      file: "contracts/src/x.ts",
      code: `export { kafkaClient } from "@grondslag/infra";`,
      message: rule(PURE_LAW),
    }),
    invalid({
      name: "contracts → infra, dynamic import",
      file: "contracts/src/x.ts",
      code: `export const m = () => import("@grondslag/infra/test");`,
      message: rule(PURE_LAW),
    }),
    invalid({
      name: "contracts → infra, import type expression",
      file: "contracts/src/x.ts",
      code: `export type S = import("@grondslag/infra").StackConfig;`,
      message: rule(PURE_LAW),
    }),
    invalid({
      name: "contracts → infra by a relative path",
      file: "contracts/src/provision/x.ts",
      code: `import { acquireStack } from "../../../infra/src/stack";`,
      message: rule(PURE_LAW),
    }),
    invalid({
      name: "contracts → provision (the arrow points the other way)",
      file: "contracts/src/x.ts",
      code: `import { applyContracts } from "@grondslag/provision";`,
      message: rule(
        "contracts is pure law .*must not import @grondslag/provision \\(provision imports contracts: the arrow points the other way\\)",
      ),
    }),
    invalid({
      name: "contracts → kafkajs",
      file: "contracts/src/x.ts",
      code: `import kafkajs from "kafkajs";`,
      message: rule(
        `must not import kafkajs \\(network or process I/O\\); move the I/O to @grondslag/provision`,
      ),
    }),
    invalid({
      name: "contracts → @kafkajs/confluent-schema-registry",
      file: "contracts/src/x.ts",
      code: `import csr from "@kafkajs/confluent-schema-registry";`,
      message: rule(`must not import @kafkajs/confluent-schema-registry`),
    }),
    invalid({
      name: "contracts → node:net",
      file: "contracts/src/x.ts",
      code: `import net from "node:net";`,
      message: rule(`${PURE_LAW.split(".*")[0]}.*must not import node:net`),
    }),
    invalid({
      name: "contracts → http",
      file: "contracts/src/x.ts",
      code: `import http from "http";`,
      message: rule(`must not import http \\(network`),
    }),
    invalid({
      name: "contracts calls fetch",
      file: "contracts/src/x.ts",
      code: `export const f = () => fetch("http://127.0.0.1:8080");`,
      message: rule(`must not call fetch \\(network I/O\\); move the I/O to @grondslag/provision`),
    }),
    // services never import each other
    invalid({
      name: "gateway → scenario",
      file: "services/gateway/src/x.ts",
      code: `import { steps } from "@grondslag/scenario/steps";`,
      message: rule(
        `services never import another service.*gateway must not import @grondslag/scenario; move what both need into @grondslag/kit`,
      ),
    }),
    invalid({
      name: "scenario → gateway",
      file: "services/scenario/src/steps.ts",
      code: `import { signToken } from "@grondslag/gateway/auth";`,
      message: rule(
        `services never import another service: the scenario drives the gateway.*scenario must not import @grondslag/gateway; use @grondslag/sdk`,
      ),
    }),
    invalid({
      name: "scenario → the gateway's dev-token code in main.ts (the old exception, gone with the SDK)",
      file: "services/scenario/src/main.ts",
      code: `import { signToken } from "@grondslag/gateway/auth";`,
      message: rule(`scenario must not import @grondslag/gateway; use @grondslag/sdk`),
    }),
    invalid({
      name: "scenario → gateway, type-only",
      file: "services/scenario/src/report.ts",
      code: `import type { GatewayConfig } from "@grondslag/gateway/gateway";`,
      message: rule(`scenario must not import @grondslag/gateway`),
    }),
    invalid({
      name: "a future service → another (nla → uwv)",
      file: "services/nla/src/main.ts",
      code: `import { x } from "@grondslag/uwv";`,
      message: rule(`nla must not import @grondslag/uwv`),
    }),
    invalid({
      name: "gateway → scenario by a relative path",
      file: "services/gateway/src/x.ts",
      code: `import { steps } from "../../scenario/src/steps";`,
      message: rule(`gateway must not import @grondslag/scenario`),
    }),
    invalid({
      name: "kit → gateway",
      file: "services/kit/src/x.ts",
      code: `import { createApp } from "@grondslag/gateway/app";`,
      message: rule(`the kit is a library.*must not import @grondslag/gateway`),
    }),
    invalid({
      name: "http-kit → gateway",
      file: "services/http-kit/src/http/x.ts",
      code: `import { createApp } from "@grondslag/gateway/app";`,
      message: rule(`must not import @grondslag/gateway`),
    }),
    invalid({
      name: "provision → gateway",
      file: "provision/src/x.ts",
      code: `import { createApp } from "@grondslag/gateway/app";`,
      message: rule(`provision applies .*must not import @grondslag/gateway`),
    }),
    // run-time code and the local stack
    invalid({
      name: "gateway run-time code → infra",
      file: "services/gateway/src/app.ts",
      code: `import { databaseUrl } from "@grondslag/infra";`,
      message: rule(
        `the local stack is for tests and the scenario: gateway's run-time code must not import @grondslag/infra \\(only its tests`,
      ),
    }),
    invalid({
      name: "gateway run-time code → provision",
      file: "services/gateway/src/main.ts",
      code: `import { readCredential } from "@grondslag/provision";`,
      message: rule(`gateway's run-time code must not import @grondslag/provision`),
    }),
    invalid({
      name: "kit run-time code → infra",
      file: "services/kit/src/x.ts",
      code: `import type { StackConfig } from "@grondslag/infra";`,
      message: rule(`kit's run-time code must not import @grondslag/infra`),
    }),
    invalid({
      name: "infra → contracts",
      file: "infra/src/x.ts",
      code: `import { loadCatalogue } from "@grondslag/contracts";`,
      message: rule(`infra is the local stack.*must not import @grondslag/contracts`),
    }),
    // the SDK: wire only
    invalid({
      name: "sdk → contracts",
      file: "services/sdk/src/x.ts",
      code: `import { checkProduce } from "@grondslag/contracts";`,
      message: rule(
        `the SDK is all a party installs.*must not import @grondslag/contracts.*sdk may import: @grondslag/wire\\)`,
      ),
    }),
    invalid({
      name: "sdk → schemas, type-only",
      file: "services/sdk/src/types.ts",
      code: `import type { Topic } from "@grondslag/schemas";`,
      message: rule(`the SDK .*must not import @grondslag/schemas`),
    }),
    invalid({
      name: "sdk → http-kit",
      file: "services/sdk/src/x.ts",
      code: `import { mount } from "@grondslag/http-kit/http";`,
      message: rule(`the SDK .*must not import @grondslag/http-kit`),
    }),
    invalid({
      name: "sdk → kit",
      file: "services/sdk/src/x.ts",
      code: `import { kit } from "@grondslag/kit";`,
      message: rule(`the SDK .*must not import @grondslag/kit`),
    }),
    invalid({
      name: "sdk → infra",
      file: "services/sdk/src/x.ts",
      code: `import { acquireStack } from "@grondslag/infra";`,
      message: rule(`the local stack is for tests.*sdk's run-time code must not import @grondslag/infra`),
    }),
    // wire and schemas import no workspace package
    invalid({
      name: "wire → schemas",
      file: "wire/src/topics.ts",
      code: `import type { Topic } from "@grondslag/schemas";`,
      message: rule(
        `wire is the protocol .*imports no workspace package.*must not import @grondslag/schemas.*wire may import: none`,
      ),
    }),
    invalid({
      name: "wire → contracts",
      file: "wire/src/x.ts",
      code: `import { checkProduce } from "@grondslag/contracts";`,
      message: rule(`wire is the protocol .*must not import @grondslag/contracts`),
    }),
    invalid({
      name: "wire → kafkajs",
      file: "wire/src/x.ts",
      code: `import kafkajs from "kafkajs";`,
      message: rule(`wire is the protocol .*must not import kafkajs`),
    }),
    invalid({
      name: "schemas → wire",
      file: "schemas/src/x.ts",
      code: `import { subjectOf } from "@grondslag/wire";`,
      message: rule(`schemas is the Avro catalogue .*must not import @grondslag/wire`),
    }),
    invalid({
      name: "schemas → contracts",
      file: "schemas/src/x.ts",
      code: `export * from "@grondslag/contracts";`,
      message: rule(`schemas is the Avro catalogue .*must not import @grondslag/contracts`),
    }),
    // deep imports
    invalid({
      name: "deep import into another package's src/",
      file: "services/gateway/src/x.ts",
      code: `import { loadCatalogue } from "@grondslag/contracts/src/load";`,
      message: rule(
        `deep import into contracts's src/: import @grondslag/contracts through its package.json "exports"`,
      ),
    }),
    invalid({
      name: "deep import from the e2e package",
      file: "test/src/x.ts",
      code: `import { createApp } from "@grondslag/gateway/src/app";`,
      message: rule(`deep import into gateway's src/`),
    }),
    invalid({
      name: "a relative path into a package it may import",
      file: "services/gateway/src/x.ts",
      code: `import { loadCatalogue } from "../../../contracts/src/load";`,
      message: rule(
        `climbs out of gateway into contracts/: import @grondslag/contracts through its package.json "exports"`,
      ),
    }),
    invalid({
      name: "a relative path from the e2e package into a service",
      file: "test/src/x.ts",
      code: `import { createApp } from "../../services/gateway/src/app";`,
      message: rule(`climbs out of test into services/gateway/`),
    }),
    invalid({
      name: "contracts → provision (the plan's I/O: the old temporary re-export, gone with the core rewrite)",
      file: "contracts/src/provision/index.ts",
      code: `export { readCredential } from "@grondslag/provision/credentials";`,
      message: rule("contracts is pure law.*must not import @grondslag/provision"),
    }),
    invalid({
      name: "one report per offending import",
      file: "contracts/src/x.ts",
      code: `import a from "kafkajs"; import type { B } from "@grondslag/infra"; import { c } from "@grondslag/schemas";`,
      message: rule("contracts is pure law"),
      errors: 2,
    }),
  ],
});

describe("the exceptions in graph.js", () => {
  // None today. One added later must still occur in its file, so the list cannot go stale.
  it("each still occurs in its file (else remove it)", () => {
    for (const e of exceptions) {
      expect(fs.readFileSync(path.join(root, e.file), "utf8"), `${e.file} ${e.import}`).toContain(
        `"${e.import}"`,
      );
    }
  });
});

describe("package.json files agree with the graph", () => {
  const exceptional = new Set(
    exceptions.map((e) => `${e.file.split("/src/")[0]} ${e.import.split("/").slice(0, 2).join("/")}`),
  );
  it.each(Object.entries(packages).filter(([, p]) => fs.existsSync(path.join(root, p.dir, "package.json"))))(
    "%s declares only workspace dependencies its table entry allows",
    (_name, p) => {
      const json = JSON.parse(fs.readFileSync(path.join(root, p.dir, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const ws = (deps: Record<string, string> = {}) =>
        Object.keys(deps)
          .filter((d) => d.startsWith("@grondslag/"))
          .filter((d) => !exceptional.has(`${p.dir} ${d}`))
          .map((d) => d.slice("@grondslag/".length));
      const may = p.may === "*" ? ws(json.dependencies) : p.may;
      expect(ws(json.dependencies).filter((d) => !may.includes(d))).toEqual([]);
      expect(ws(json.devDependencies).filter((d) => !may.includes(d) && !p.tests.includes(d))).toEqual([]);
    },
  );
});

describe("eslint.config.js", () => {
  const eslint = new ESLint({ cwd: root });
  it.each([
    "schemas/src/index.ts",
    "wire/src/index.ts",
    "contracts/src/index.ts",
    "infra/src/index.ts",
    "provision/src/index.ts",
    "services/gateway/src/app.ts",
    "services/scenario/src/main.ts",
    "services/http-kit/src/http/index.ts",
    "test/src/global-setup.ts",
  ])("turns the rule on for %s", async (file) => {
    const config = (await eslint.calculateConfigForFile(at(file))) as { rules: Record<string, unknown[]> };
    expect(config.rules["grondslag/package-boundaries"]?.[0]).toBe(2);
  });
});
