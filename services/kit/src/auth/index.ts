export {
  catalogueKeyStore,
  directoryKeyStore,
  TOKEN_PARTY_ID,
  staticKeyStore,
  usablePublicKeys,
  withDevelopmentKeys,
  type KeyStore,
} from "./keys";
export {
  ACCEPTED_ALGORITHMS,
  createTokenVerifier,
  type Caller,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "./verify";
