import type { Topic } from "@grondslag/schemas";
import { deliveryTopic as wireDeliveryTopic } from "@grondslag/wire";

export {
  buildCatalogue,
  defaultDataDir,
  lintSource,
  loadCatalogue,
  overlaySources,
  parseSource,
  readCatalogueSource,
  type CatalogueSource,
  type Draft,
  type Located,
} from "./load";
export { lintCatalogue } from "./lint";
export { ContractError, formatPath, formatProblem, rules, type Problem, type RuleId } from "./problems";
export {
  avgGrounds,
  isWithin,
  parseInstant,
  partyAttributes,
  partyKinds,
  retentionMs,
  specialCategoryExceptions,
  type Catalogue,
  type Condition,
  type ConsumerEntry,
  type DeepReadonly,
  type LegalBasis,
  type Literal,
  type Party,
  type PartyAttribute,
  type PartyKind,
  type ProducerEntry,
  type Purpose,
  type RowFilter,
  type TopicContract,
  type Window,
} from "./model";
export {
  checkProduce,
  consumersOf,
  isPattern,
  matchParty,
  partiesMatching,
  producerEntry,
  type Delivery,
  type ProduceDecision,
  type ProduceRefusal,
} from "./match";
export {
  consumerView,
  deliveredFields,
  projectSchema,
  ProjectionError,
  schemaFingerprint,
  type ConsumerView,
} from "./projection";
export { checkRowFilter, evaluateRowFilter, type FilterProblem } from "./row-filter";

// TODO(lead): import from @grondslag/wire. Temporary, for services/gateway/src/core/subscriptions.ts only (with the
// old signature, which that file's `as never` relies on); delete with the core rewrite: topic names live in wire.
export const deliveryTopic: (partyId: string, topic: Topic) => string = wireDeliveryTopic;
