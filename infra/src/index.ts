export { CREDENTIALS_FILE, databaseUrl, stackConfigSchema, type StackConfig } from "./config";
export { readInfraEnv, type InfraEnv } from "./env";
export { acquireStack, currentStackConfig, type Stack } from "./harness";
export { upsertScramUsers, deleteScramUsers, listScramUsers } from "./scram";
export { waitFor, type Progress } from "./proc";
export { KAFKA_AUTHORIZER_LOG } from "./kafka";
export { SERVICES_DIR } from "./stack";
export { isAlive, livePid, startDetached } from "./proc";
export { STATE_DIR, REPO_ROOT } from "./paths";
