import { fileURLToPath } from "node:url";

/**
 * Development keys and tokens. Signing and the key-pair files are the parties' client's (`@grondslag/sdk`): a party
 * signs its own tokens; the gateway only verifies. Key pairs are generated locally on first use into a git-ignored
 * directory and never committed; in any other environment parties hold their own private keys and register public
 * ones.
 */
export {
  DEFAULT_AUDIENCE,
  DEV_ISSUER,
  ensureKeyPair as ensureDevKeyPair,
  signToken,
  type KeyPair as DevKeyPair,
  type TokenClaims,
} from "@grondslag/sdk";

export const DEFAULT_DEV_KEYS_DIR = fileURLToPath(
  new URL("../../../../infra/.state/dev-keys", import.meta.url),
);

/** `90`, `90s`, `15m`, `1h` → seconds; at most the gateway's maximum lifetime (1 h). */
export function parseTtl(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`--ttl ${text}: use seconds, or a number with s, m or h (15m)`);
  const n = Number(m[1]);
  const seconds = m[2] === "h" ? n * 3600 : m[2] === "m" ? n * 60 : n;
  if (seconds < 1 || seconds > 3600) throw new Error(`--ttl ${text}: between 1 s and 1 h`);
  return seconds;
}
