// UWV as a process: env, logger, health, metrics, graceful stop (the kit), around its agency.
import { agency } from "./agency";

agency.main();
