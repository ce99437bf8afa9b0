export {
  catalogueKeyStore,
  directoryKeyStore,
  PARTY_ID,
  staticKeyStore,
  usablePublicKeys,
  withDevelopmentKeys,
  type KeyStore,
} from "./keys";
export {
  ACCEPTED_ALGORITHMS,
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "./verify";
export { DEFAULT_AUDIENCE, DEFAULT_DEV_KEYS_DIR, DEV_ISSUER, ensureDevKeyPair, signToken } from "./dev-keys";
