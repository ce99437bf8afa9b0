// `npm run gen` writes schemas/src/generated/ from schemas/avro/*.avsc; `npm run gen:check` (`--check`) only
// compares, and fails when a generated file is missing, stale or unexpected.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generate, SchemaError, type GeneratedFile } from "./generate";

const avroDir = fileURLToPath(new URL("../../avro/", import.meta.url));
const recordsDir = fileURLToPath(new URL("../../records/", import.meta.url));
const outDir = fileURLToPath(new URL("../generated/", import.meta.url));
const shown = "schemas/src/generated";

function main(check: boolean): number {
  const sources = readdirSync(avroDir)
    .filter((n) => n.endsWith(".avsc"))
    .map((name) => ({ name, text: readFileSync(avroDir + name, "utf8") }));
  const records = readdirSync(recordsDir)
    .filter((n) => n.endsWith(".avsc"))
    .map((name) => ({ name, text: readFileSync(recordsDir + name, "utf8") }));
  let files: GeneratedFile[];
  try {
    files = generate(sources, records);
  } catch (err) {
    if (err instanceof SchemaError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  const existing = existsSync(outDir) ? readdirSync(outDir) : [];
  const extra = existing.filter((n) => !files.some((f) => f.name === n));
  if (check) {
    const problems = [
      ...files.flatMap((f) => {
        if (!existing.includes(f.name)) return [`${shown}/${f.name} is missing`];
        return readFileSync(outDir + f.name, "utf8") === f.text ? [] : [`${shown}/${f.name} is out of date`];
      }),
      ...extra.map((n) => `${shown}/${n} is not generated from schemas/avro`),
    ];
    if (problems.length) {
      console.error(`${problems.join("\n")}\nRun \`npm run gen\` (generated files are not committed).`);
      return 1;
    }
    console.log(
      `${shown} is up to date with schemas/avro and schemas/records (${sources.length + records.length} schemas).`,
    );
    return 0;
  }
  mkdirSync(outDir, { recursive: true });
  for (const n of extra) rmSync(outDir + n, { recursive: true });
  for (const f of files) writeFileSync(outDir + f.name, f.text);
  console.log(
    `Generated ${files.map((f) => f.name).join(", ")} in ${shown} from ${sources.length} event and ${records.length} other schemas.`,
  );
  return 0;
}

process.exitCode = main(process.argv.includes("--check"));
