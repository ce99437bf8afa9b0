export { CREDENTIALS_FILE, databaseUrl, stackConfigSchema, type StackConfig } from "./config";
export { readInfraEnv, type InfraEnv } from "./env";
export { acquireStack, currentStackConfig, type Stack } from "./harness";
export { upsertScramUsers, deleteScramUsers, listScramUsers } from "./scram";
export { alterUserQuotas, describeUserQuotas, type UserQuota } from "./quotas";
export { waitFor, type Progress } from "./proc";
export {
  adminClientProperties,
  clusterReplication,
  ensureKafkaJars,
  KAFKA_AUTHORIZER_LOG,
  kafkaClasspath,
} from "./kafka";
export { basicAuth, type RegistryCredential } from "./registry";
export { SERVICES_DIR } from "./stack";
export { isAlive, livePid, startDetached } from "./proc";
export { STATE_DIR, REPO_ROOT } from "./paths";
export { kafkaClient, type KafkaClient } from "./client";
export {
  ephemeralPortRange,
  freePorts,
  PRIVATE_STACKS_DIR,
  startPrivateStack,
  type PrivateStack,
  type PrivateStackOptions,
} from "./private-stack";
