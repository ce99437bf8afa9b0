import { fileURLToPath } from "node:url";
import path from "node:path";

/** Versions of the native stack. The Kafka jars' versions are pinned in infra/kafka/pom.xml. */
export const KAFKA_VERSION = "4.1.1";
export const APICURIO_VERSION = "3.3.3";
/** Pinned: without a pom, Maven 3.8 falls back to a very old dependency plugin. */
export const MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

export const INFRA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = path.resolve(INFRA_DIR, "..");
/** Downloads: git-ignored, kept across runs so a second `infra:up` fetches nothing. */
export const CACHE_DIR = path.join(INFRA_DIR, ".cache");
/** Data, logs, pids and generated secrets of the local stack: git-ignored. */
export const STATE_DIR = path.join(INFRA_DIR, ".state");
