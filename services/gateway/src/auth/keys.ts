// The key stores are the kit's (the audit service verifies parties' tokens too); the gateway's development-key
// directory names its files as the SDK writes them.
import { directoryKeyStore as kitDirectoryKeyStore, type KeyStore } from "@grondslag/kit";
import { publicKeyFile } from "@grondslag/sdk";

export {
  catalogueKeyStore,
  TOKEN_PARTY_ID as PARTY_ID,
  staticKeyStore,
  usablePublicKeys,
  withDevelopmentKeys,
  type KeyStore,
} from "@grondslag/kit";

/** Development keys: `<dir>/<party>.public.jwk.json`, as the token CLI (the SDK's `ensureKeyPair`) writes them. */
export function directoryKeyStore(dir: string): KeyStore {
  return kitDirectoryKeyStore(dir, publicKeyFile);
}
