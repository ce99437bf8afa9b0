// The agency runtime: what every agency service (nla, belastingdienst, uwv, svb, szw-toelating, gemeente,
// inspectie, uitlener) stands on. See README.md.
export { defineAgency, type Agency } from "./define";
export { DeskRefusal } from "./app";
export { agencyEnv, type AgencyEnv } from "./env";
export { AgencyRuntime, type DeadLetter, type Outcome, type ReplayReport } from "./runtime";
export { isTransient, Store, type Query } from "./store";
export {
  deskAction,
  Poison,
  type AgencyContext,
  type AgencySpec,
  type DeskAction,
  type Handler,
  type PublishOpts,
  type Subscriptions,
  type Timer,
} from "./types";
export type { Delivery, JsonForm, Projected } from "@grondslag/sdk";
