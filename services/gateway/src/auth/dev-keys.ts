import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { PARTY_ID, privateKeyFile, publicKeyFile } from "./keys";

/**
 * Development keys and tokens. Key pairs are generated locally on first use into a git-ignored directory and
 * never committed; in any other environment parties hold their own private keys and register public ones.
 */
export const DEFAULT_DEV_KEYS_DIR = fileURLToPath(
  new URL("../../../../infra/.state/dev-keys", import.meta.url),
);
export const DEV_ISSUER = "grondslag-dev";
export const DEFAULT_AUDIENCE = "grondslag-gateway";

export interface DevKeyPair {
  privateJwk: JWK;
  publicJwk: JWK;
  created: boolean;
}

/** The party's Ed25519 key pair from `dir`, generated (private key file mode 0600) when absent. */
export async function ensureDevKeyPair(dir: string, party: string): Promise<DevKeyPair> {
  if (!PARTY_ID.test(party)) throw new Error(`not a party id: ${party}`);
  const privatePath = join(dir, privateKeyFile(party));
  try {
    const privateJwk = JSON.parse(await readFile(privatePath, "utf8")) as JWK;
    const { d: _d, ...publicJwk } = privateJwk;
    return { privateJwk, publicJwk, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg: "EdDSA", use: "sig" };
  publicJwk.kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), alg: "EdDSA", use: "sig", kid: publicJwk.kid };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // `wx`: never overwrite a key another process just wrote.
  await writeFile(privatePath, `${JSON.stringify(privateJwk)}\n`, { mode: 0o600, flag: "wx" });
  await writeFile(join(dir, publicKeyFile(party)), `${JSON.stringify(publicJwk, null, 2)}\n`, {
    mode: 0o644,
  });
  return { privateJwk, publicJwk, created: true };
}

export interface TokenClaims {
  party: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now: Date;
}

/** A bearer token for `party`, signed with its private JWK (EdDSA or ES256, per the key). */
export async function signToken(privateJwk: JWK, claims: TokenClaims): Promise<string> {
  const alg = privateJwk.alg ?? (privateJwk.kty === "EC" ? "ES256" : "EdDSA");
  const key = await importJWK(privateJwk, alg);
  const iat = Math.floor(claims.now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: "JWT", ...(privateJwk.kid === undefined ? {} : { kid: privateJwk.kid }) })
    .setIssuer(claims.issuer)
    .setSubject(claims.party)
    .setAudience(claims.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.ttlSeconds)
    .setJti(randomUUID())
    .sign(key);
}

/** `90`, `90s`, `15m`, `1h` → seconds; at most the gateway's maximum lifetime (1 h). */
export function parseTtl(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`--ttl ${text}: use seconds, or a number with s, m or h (15m)`);
  const n = Number(m[1]);
  const seconds = m[2] === "h" ? n * 3600 : m[2] === "m" ? n * 60 : n;
  if (seconds < 1 || seconds > 3600) throw new Error(`--ttl ${text}: between 1 s and 1 h`);
  return seconds;
}
