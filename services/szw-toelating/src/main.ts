// The process: the kit's service skeleton around the szw-toelating agency (env, logger, SIGTERM, health, desk).
import { agency } from "./agency";

agency.main();
