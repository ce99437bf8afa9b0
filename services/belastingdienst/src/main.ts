import { agency } from "./agency";

agency.main();
