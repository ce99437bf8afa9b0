// `grondslag/package-boundaries`: every import, type-only ones included (a type import is still an arrow a reader
// and a refactoring must follow), is checked against the table in graph.js. It resolves `@grondslag/<name>[/…]`
// specifiers and relative paths that climb into another package's folder, refuses deep imports into another
// package's src/, and keeps network and process I/O out of the pure packages.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exceptions, ioModules, packages, service, temporary, testFiles } from "./graph.js";

const RULE = "grondslag/package-boundaries";
const SCOPE = "@grondslag/";
/** The packages that bring up, or write to, the local stack. */
const STACK = ["infra", "provision"];
/** The repository root: this file is tools/eslint-plugin/src/package-boundaries.js. */
export const defaultRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** `*` is one path segment (or part of one), `**` any number of them. */
function globToRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else re += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
const testFilePatterns = testFiles.map(globToRegExp);
const ioPatterns = ioModules.map(globToRegExp);
const temporaryEntries = temporary.map((t) => ({ ...t, from: globToRegExp(t.onlyFrom) }));

/** The package entry for a name after `@grondslag/`: from the table, or a service by convention. */
function byName(name) {
  const known = packages[name];
  if (known) return { name, ...known };
  return { name, dir: `services/${name}`, service: true, ...service };
}

/** The package a repository-relative path lies in, or undefined (root files, tools). */
function packageOfPath(rel) {
  for (const [name, p] of Object.entries(packages)) {
    if (rel === p.dir || rel.startsWith(`${p.dir}/`)) return byName(name);
  }
  const m = /^services\/([^/]+)\//.exec(rel);
  return m ? byName(m[1]) : undefined;
}

const label = (p) => `@grondslag/${p.name}`;
const list = (names) => (names.length === 0 ? "none" : names.map((n) => `@grondslag/${n}`).join(", "));

/** Why `from` may not import `to`, or undefined when it may. */
function refusal(from, to, isTest) {
  if (from.name === to.name || from.may === "*") return undefined;
  if (from.may.includes(to.name)) return undefined;
  if (isTest && from.tests.includes(to.name)) return undefined;
  if (!isTest && from.tests.includes(to.name)) {
    if (!from.pure && STACK.includes(to.name))
      return (
        `the local stack is for tests and the scenario: ${from.name}'s run-time code must not import ${label(to)} ` +
        `(only its tests, *.spec.ts and test/, may); take what it provides (brokers, credentials, a client) as a ` +
        `parameter from the caller.`
      );
    return (
      `${from.why}: it must not import ${label(to)} outside its tests (*.spec.ts, test/); ${from.fix} ` +
      `(${from.name} may import: ${list(from.may)}).`
    );
  }
  if (from.service && to.service)
    return `${from.why}: ${from.name} must not import ${label(to)}; ${from.fix}.`;
  const reverse = Array.isArray(to.may) && to.may.includes(from.name);
  return (
    `${from.why}: it must not import ${label(to)}` +
    (reverse ? ` (${to.name} imports ${from.name}: the arrow points the other way)` : "") +
    `; ${from.fix} (${from.name} may import: ${list(from.may)}).`
  );
}

/** @type {import("eslint").Rule.RuleModule} */
export const packageBoundaries = {
  meta: {
    type: "problem",
    docs: { description: "Workspace packages import each other only along the arrows of the package graph." },
    schema: [
      {
        type: "object",
        properties: { root: { type: "string" } },
        additionalProperties: false,
      },
    ],
    messages: { refused: `[${RULE}] {{message}}` },
  },
  create(context) {
    const root = context.options[0]?.root ?? defaultRoot;
    const filename = context.filename;
    const rel = path.relative(root, filename).split(path.sep).join("/");
    if (rel.startsWith("..") || path.isAbsolute(rel)) return {};
    const from = packageOfPath(rel);
    if (!from) return {};
    const isTest = testFilePatterns.some((re) => re.test(rel));
    const excepted = new Set(exceptions.filter((e) => e.file === rel).map((e) => e.import));

    const report = (node, message) => context.report({ node, messageId: "refused", data: { message } });

    function check(node, specifier) {
      if (typeof specifier !== "string" || excepted.has(specifier)) return;

      if (specifier.startsWith(SCOPE)) {
        const [name, ...sub] = specifier.slice(SCOPE.length).split("/");
        const to = byName(name);
        if (to.name !== from.name && sub[0] === "src") {
          return report(
            node,
            `deep import into ${to.name}'s src/: import ${label(to)} through its package.json "exports" ` +
              `(add the entry point there if it lacks one), not "${specifier}".`,
          );
        }
        const why = refusal(from, to, isTest);
        if (why) return report(node, why);
        const entry = temporaryEntries.find((t) => t.import === specifier && !t.from.test(rel));
        if (entry)
          report(node, `${specifier} is a temporary entry point for ${entry.onlyFrom} only: ${entry.fix}.`);
        return;
      }

      if (specifier.startsWith(".")) {
        const target = path
          .relative(root, path.resolve(path.dirname(filename), specifier))
          .split(path.sep)
          .join("/");
        const to = packageOfPath(`${target}/`);
        if (!to || to.name === from.name) return;
        const why = refusal(from, to, isTest);
        report(
          node,
          why ??
            `"${specifier}" climbs out of ${from.name} into ${to.dir}/: import ${label(to)} through its ` +
              `package.json "exports" instead.`,
        );
        return;
      }

      if (from.pure && ioPatterns.some((re) => re.test(specifier))) {
        report(node, `${from.why}: it must not import ${specifier} (network or process I/O); ${from.fix}.`);
      }
    }

    const fromSource = (node) => {
      if (node.source) check(node.source, node.source.value);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression(node) {
        if (node.source.type === "Literal") check(node.source, node.source.value);
      },
      TSImportType(node) {
        // `import("x").T`; typescript-eslint 8 keeps the specifier in `argument` (a literal type).
        const arg = node.argument;
        const lit = arg?.type === "TSLiteralType" ? arg.literal : arg;
        if (lit?.type === "Literal") check(lit, lit.value);
      },
      TSExternalModuleReference(node) {
        if (node.expression.type === "Literal") check(node.expression, node.expression.value);
      },
      CallExpression(node) {
        if (
          node.callee.type === "Identifier" &&
          node.callee.name === "require" &&
          node.arguments[0]?.type === "Literal"
        )
          check(node.arguments[0], node.arguments[0].value);
        if (!from.pure || node.callee.type !== "Identifier" || node.callee.name !== "fetch") return;
        const scope = context.sourceCode.getScope(node);
        const ref = scope.references.find((r) => r.identifier === node.callee);
        if (ref && ref.resolved && ref.resolved.defs.length > 0) return; // a local `fetch`, not the global one
        report(node.callee, `${from.why}: it must not call fetch (network I/O); ${from.fix}.`);
      },
    };
  },
};
