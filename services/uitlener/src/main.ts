// `npm run start -w @grondslag/uitlener`: AGENCY_PARTY names the party (uitlener.* or inlener.*); the catalogue's
// kind of that party picks the role's agency (src/agency.ts), which then runs on the runtime's process skeleton.
import { loadCatalogue } from "@grondslag/contracts";
import { agencyFor } from "./agency";

const party = process.env.AGENCY_PARTY;
if (!party) {
  process.stderr.write("uitlener: set AGENCY_PARTY to the uitlener.* or inlener.* party this instance is\n");
  process.exit(2);
}
try {
  const contractsDir = process.env.CONTRACTS_DIR;
  agencyFor(contractsDir ? loadCatalogue(contractsDir) : loadCatalogue(), party).main();
} catch (err) {
  process.stderr.write(`uitlener: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
