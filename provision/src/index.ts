export { applyContracts, describeAllAcls, type ApplyOptions, type ApplyResult, type Change } from "./apply";
export { CredentialsStore, readCredential } from "./credentials";
