// `npm run contracts:lint [-- <dir>]`: prints every problem as `file:path: message [rule]` and exits 1 if any.
// `-- --rules` lists the rules.
import path from "node:path";
import { defaultDataDir, lintSource, readCatalogueSource } from "./load";
import { formatProblem, rules } from "./problems";

function main(args: string[]): number {
  if (args.includes("--rules")) {
    for (const [id, what] of Object.entries(rules)) console.log(`${id.padEnd(24)} ${what}`);
    return 0;
  }
  // npm runs workspace scripts in the workspace folder; INIT_CWD is where the user typed the command.
  const dir = args[0] ? path.resolve(process.env.INIT_CWD ?? process.cwd(), args[0]) : defaultDataDir;
  const { catalogue, problems } = lintSource(readCatalogueSource(dir));
  for (const p of problems) console.error(`${formatProblem(p)} [${p.rule}]`);
  if (problems.length) {
    console.error(`${problems.length} problem(s).`);
    return 1;
  }
  const count = (o: object): number => Object.keys(o).length;
  console.log(
    `Contracts OK: ${count(catalogue.topics)} topics, ${count(catalogue.parties)} parties, ` +
      `${count(catalogue.legalBases)} legal bases, ${count(catalogue.purposes)} purposes.`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
