import { readFileSync } from "node:fs";
import { Document, Spectral } from "@stoplight/spectral-core";
import parsers from "@stoplight/spectral-parsers";
import { ruleset } from "./ruleset";

export { ruleset };

export interface LintIssue {
  code: string;
  message: string;
  severity: "error" | "warning" | "info" | "hint";
  /** JSON path in the document: `paths./topics/{topic}/events.post.responses.202`. */
  path: string;
  /** 1-based line in the source file. */
  line: number;
}

const severities = ["error", "warning", "info", "hint"] as const;

/** Lints an OpenAPI document (YAML or JSON file) with the project's ruleset; offline. */
export async function lintOpenApi(file: string): Promise<LintIssue[]> {
  return lintOpenApiText(readFileSync(file, "utf8"), file);
}

/** Lints the text of an OpenAPI document (YAML or JSON). */
export async function lintOpenApiText(text: string, name = "openapi.yaml"): Promise<LintIssue[]> {
  const spectral = new Spectral();
  spectral.setRuleset(ruleset);
  const results = await spectral.run(new Document(text, parsers.Yaml, name));
  return results
    .map((r) => ({
      code: String(r.code),
      message: r.message,
      severity: severities[r.severity] ?? "error",
      path: r.path.map(String).join("."),
      line: r.range.start.line + 1,
    }))
    .sort((a, b) => a.line - b.line);
}
