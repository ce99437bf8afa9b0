/**
 * `npm run lint:openapi [-- file…]`: lints the given OpenAPI documents, or every `services/<name>/openapi/*.yaml`
 * under the current directory. Exits 1 on any error or warning, so a new service's document is linted without
 * touching the script.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { lintOpenApi } from "./index";

function discover(root: string): string[] {
  const services = join(root, "services");
  if (!existsSync(services)) return [];
  return readdirSync(services, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => {
      const dir = join(services, d.name, "openapi");
      if (!existsSync(dir)) return [];
      return readdirSync(dir)
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .map((f) => join(dir, f));
    });
}

const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : discover(process.cwd());
if (files.length === 0) {
  process.stderr.write("lint:openapi: no documents found (expected services/<name>/openapi/*.yaml)\n");
  process.exit(1);
}

let failed = 0;
for (const file of files) {
  const issues = await lintOpenApi(file);
  for (const i of issues) {
    process.stdout.write(`${file}:${i.line} ${i.severity} ${i.code} ${i.message} (${i.path})\n`);
  }
  const blocking = issues.filter((i) => i.severity === "error" || i.severity === "warning").length;
  failed += blocking;
  process.stdout.write(`${file}: ${blocking === 0 ? "ok" : `${blocking} problem(s)`}\n`);
}
process.exit(failed === 0 ? 0 : 1);
