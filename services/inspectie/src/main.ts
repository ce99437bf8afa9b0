// The process: the kit's service skeleton around the inspectie agency; AGENCY_PARTY names the body.
import { agency } from "./agency";

agency.main();
