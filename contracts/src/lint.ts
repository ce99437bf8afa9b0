import { defaultDataDir, lintSource, readCatalogueSource } from "./load";
import type { Problem } from "./problems";

/** Lints the contracts in `dir` (default `contracts/data`): every problem, none thrown. */
export function lintCatalogue(dir: string = defaultDataDir): Problem[] {
  return lintSource(readCatalogueSource(dir)).problems;
}
