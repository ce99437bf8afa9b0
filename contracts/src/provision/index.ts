// TODO(lead): import from @grondslag/wire (topic names), @grondslag/contracts/plan (GATEWAY) and
// @grondslag/provision/credentials (readCredential). This entry point is temporary: only services/gateway/src/core/**
// still imports it, and it goes with the core rewrite. The provisioning plan is `@grondslag/contracts/plan`; the
// I/O that applies it is `@grondslag/provision`.
export { AUDIT_TOPIC, canonicalTopic, ingressTopic, rejectedTopic, subjectOf } from "@grondslag/wire";
export { GATEWAY } from "./plan";
// The one import from contracts into provisioning, allowed by name in eslint/boundaries.js until the rewrite.
export { readCredential } from "@grondslag/provision/credentials";
