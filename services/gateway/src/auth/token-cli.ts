/**
 * `npm run -s token -- --party uwv [--ttl 15m] [--aud grondslag-gateway] [--iss grondslag-dev] [--dir <keys>]`
 *
 * Prints a development bearer token for the party, and nothing else, on stdout (`TOKEN=$(npm run -s token -- …)`).
 * Generates the party's Ed25519 key pair into the dev-keys directory (git-ignored) on first use.
 */
import { parseArgs } from "node:util";
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureKeyPair, signToken } from "@grondslag/sdk";
import { DEFAULT_DEV_KEYS_DIR, parseTtl } from "./dev-keys";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      party: { type: "string" },
      ttl: { type: "string", default: "15m" },
      aud: { type: "string", default: DEFAULT_AUDIENCE },
      iss: { type: "string", default: DEV_ISSUER },
      dir: { type: "string", default: DEFAULT_DEV_KEYS_DIR },
    },
    strict: true,
  });
  if (values.party === undefined) throw new Error("--party is required, e.g. --party uwv");
  const keys = await ensureKeyPair(values.dir, values.party);
  if (keys.created) {
    process.stderr.write(`token: generated a dev key pair for ${values.party} in ${values.dir}\n`);
  }
  const token = await signToken(keys.privateJwk, {
    party: values.party,
    issuer: values.iss,
    audience: values.aud,
    ttlSeconds: parseTtl(values.ttl),
    now: new Date(),
  });
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
