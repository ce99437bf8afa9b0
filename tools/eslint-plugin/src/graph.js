// The package graph that `grondslag/package-boundaries` enforces: which workspace package may import which. Change
// an arrow here, in ARCHITECTURE.md ("Packages and their arrows") and in the package's package.json together.

/**
 * Workspace packages, by the name after `@grondslag/`. `dir` is the folder from the repository root; `may` the
 * workspace packages its code may import ("*": any); `tests` what its test files may import besides; `why` and `fix`
 * make the refusal's message. Every other folder under services/ is a service (`services/<name>`, `@grondslag/<name>`).
 */
export const packages = {
  schemas: {
    dir: "schemas",
    may: [],
    tests: [],
    pure: true,
    why: "schemas is the Avro catalogue every package builds on: it imports no workspace package",
    fix: "move the code that needs it into the importing package",
  },
  wire: {
    dir: "wire",
    may: [],
    tests: [],
    pure: true,
    why: "wire is the protocol every party and service agrees on: it imports no workspace package",
    fix: "move the code that needs it into the importing package, or the fact it needs into wire",
  },
  contracts: {
    dir: "contracts",
    may: ["schemas", "wire"],
    tests: ["infra"],
    pure: true,
    why: "contracts is pure law (loading, lint, projection, decisions, the provisioning plan)",
    fix: "move the I/O to @grondslag/provision, which applies what contracts derive",
  },
  infra: {
    dir: "infra",
    may: ["schemas", "wire"],
    tests: [],
    why: "infra is the local stack: it knows nothing of the contracts or the services",
    fix: "move the code that needs it into @grondslag/provision or into a test",
  },
  provision: {
    dir: "provision",
    may: ["schemas", "wire", "contracts", "infra"],
    tests: [],
    why: "provision applies the contracts' plan to the stack; no service is part of that",
    fix: "take what it needs from @grondslag/contracts, @grondslag/wire or @grondslag/infra",
  },
  kit: {
    dir: "services/kit",
    may: ["schemas", "wire", "contracts", "http-kit"],
    tests: ["infra", "provision"],
    why: "the kit is a library every service uses: it never imports a service or the local stack",
    fix: "take configuration as a parameter instead",
  },
  "http-kit": {
    dir: "services/http-kit",
    may: ["schemas", "wire"],
    tests: ["infra", "provision"],
    why: "http-kit is the server-side HTTP library every service uses: it never imports a service",
    fix: "take what it needs as a parameter",
  },
  sdk: {
    dir: "services/sdk",
    may: ["wire"],
    tests: ["infra", "provision", "contracts", "schemas"],
    why: "the SDK is all a party installs: it may import @grondslag/wire and nothing else from the repository",
    fix: "put the protocol fact it needs into @grondslag/wire",
  },
  agency: {
    dir: "services/agency",
    may: ["schemas", "wire", "contracts", "kit", "http-kit", "sdk"],
    tests: ["infra", "provision"],
    why: "the agency runtime is a library every agency service uses: it never imports a service or the local stack",
    fix: "take configuration as a parameter instead",
  },
  scenario: {
    dir: "services/scenario",
    service: true,
    // `npm start`: it brings the stack up and provisions it, so it alone among the services uses infra at run time.
    may: ["schemas", "wire", "contracts", "kit", "http-kit", "sdk", "agency", "infra", "provision"],
    tests: [],
    why: "services never import another service: the scenario drives the gateway over HTTP and Kafka, as a party does",
    fix: "use @grondslag/sdk (or @grondslag/wire) instead",
  },
  test: {
    dir: "test",
    // The end-to-end harness composes the real services in-process.
    may: "*",
    tests: [],
  },
};

/** What every service may import (the scenario has its own entry above). */
export const service = {
  may: ["schemas", "wire", "contracts", "kit", "http-kit", "sdk", "agency"],
  tests: ["infra", "provision"],
  why: "services never import another service: they talk through topics and HTTP",
  fix: "move what both need into @grondslag/kit or @grondslag/wire",
};

/** Files that are tests or serve only tests: they may import their package's `tests` too. */
export const testFiles = [
  "**/*.spec.ts",
  "**/*.fixture.ts",
  "test/**",
  "services/*/bench/**",
  // Spec helpers of the gateway: a gateway config on the test stack, and a gateway in a child process.
  "services/gateway/src/test-config.ts",
  "services/gateway/src/core/child-gateway.ts",
];

/** Modules a pure package (`pure: true`) never imports: network and process I/O. `fetch` is refused as well. */
export const ioModules = [
  "kafkajs",
  "@kafkajs/*",
  "pg",
  "express",
  "undici",
  "ws",
  "node:net",
  "node:http",
  "node:https",
  "node:http2",
  "node:tls",
  "node:dgram",
  "node:dns",
  "node:child_process",
  "net",
  "http",
  "https",
  "http2",
  "tls",
  "dgram",
  "dns",
  "child_process",
];

/**
 * Known violations, each allowed by exact file and import specifier until its TODO is done. The unit spec fails
 * when one no longer occurs in its file: remove it then.
 */
export const exceptions = [];

/** Temporary entry points: importable only from the files named, so that no new importer appears. */
export const temporary = [];
