export { applyContracts, describeAllAcls, type ApplyResult, type Change } from "./apply";
export { CredentialsStore, readCredential } from "./credentials";
export {
  AUDIT_SERVICE,
  AUDIT_TOPIC,
  GATEWAY,
  aclKey,
  canonicalTopic,
  desiredState,
  ingressTopic,
  isManagedTopic,
  rejectedTopic,
  subjectOf,
  type AclSpec,
  type DesiredState,
  defaultPlanOptions,
  type PlanOptions,
  type QuotaSpec,
} from "./plan";
