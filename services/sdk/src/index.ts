export {
  createClient,
  type BatchItem,
  type BatchOutcome,
  type Client,
  type ClientOptions,
  type PollOptions,
  type StreamOptions,
} from "./http";
export {
  createIngressPublisher,
  IngressRefusalError,
  type IngressPublisher,
  type IngressPublisherOptions,
  type IngressReceipt,
} from "./ingress";
export {
  createKafkaSubscriber,
  type KafkaSubscriber,
  type KafkaSubscriberOptions,
  type KafkaSubscription,
  type UndecodableRecord,
} from "./subscriber";
export { RefusalError, parseRetryAfter, refusalFromHeaders, refusalFromProblem } from "./errors";
export {
  backoffDelay,
  defaultRetryPolicy,
  NetworkError,
  withRetry,
  type AttemptInfo,
  type RetryPolicy,
} from "./retry";
export { RecentIds } from "./dedupe";
export {
  DEFAULT_AUDIENCE,
  DEV_ISSUER,
  ensureKeyPair,
  privateKeyFile,
  publicKeyFile,
  signToken,
  tokenSigner,
  type KeyPair,
  type TokenClaims,
  type TokenSignerOptions,
  type TokenSource,
} from "./token";
export { RegistryWindow, type RegistryWindowOptions } from "./window";
export { avroOptions } from "./codec";
export type {
  DeepPartial,
  Delivery,
  JsonForm,
  Projected,
  PublishOptions,
  PublishReceipt,
  TopicTypes,
} from "./types";
export type { KafkaSource } from "./kafka";
