import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PARTY_ID } from "@grondslag/wire";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";

/** The gateway's audience (`aud`) unless it is configured otherwise. */
export const DEFAULT_AUDIENCE = "grondslag-gateway";
/** The issuer a local (development) gateway trusts for tokens signed with development keys. */
export const DEV_ISSUER = "grondslag-dev";

/** A bearer token, or something that gives a current one (called before every request; cache inside). */
export type TokenSource = string | (() => string | Promise<string>);

export const resolveToken = async (source: TokenSource): Promise<string> =>
  typeof source === "string" ? source : source();

export interface TokenClaims {
  party: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now: Date;
}

/** A bearer token for `party`, signed with its private JWK (EdDSA or ES256, per the key; nothing else verifies). */
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

export interface TokenSignerOptions {
  party: string;
  privateJwk: JWK;
  /** An issuer the gateway trusts (`grondslag-dev` locally). */
  issuer: string;
  /** Default `grondslag-gateway`. */
  audience?: string;
  /** Lifetime of each token; the gateway accepts at most 3600. Default 300. */
  ttlSeconds?: number;
  /** A new token is signed this long before the cached one expires. Default 30 s (a tenth of the lifetime at most). */
  refreshBeforeSeconds?: number;
  now?: () => Date;
}

/**
 * A token source that signs with the party's key and reuses the token until shortly before it expires; concurrent
 * callers share one signing.
 */
export function tokenSigner(opts: TokenSignerOptions): () => Promise<string> {
  const ttl = opts.ttlSeconds ?? 300;
  if (!(ttl >= 1 && ttl <= 3600)) throw new Error("tokenSigner: ttlSeconds between 1 and 3600");
  const margin = Math.min(opts.refreshBeforeSeconds ?? 30, ttl / 10) * 1000;
  const now = opts.now ?? (() => new Date());
  let cached: { token: Promise<string>; refreshAt: number } | undefined;
  return () => {
    const at = now();
    if (cached && at.getTime() < cached.refreshAt) return cached.token;
    const token = signToken(opts.privateJwk, {
      party: opts.party,
      issuer: opts.issuer,
      audience: opts.audience ?? DEFAULT_AUDIENCE,
      ttlSeconds: ttl,
      now: at,
    });
    // The claims count whole seconds from iat = floor(now): refresh relative to that, never later than expiry.
    const iat = Math.floor(at.getTime() / 1000) * 1000;
    const entry = { token, refreshAt: iat + ttl * 1000 - margin };
    cached = entry;
    token.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return token;
  };
}

export function publicKeyFile(party: string): string {
  return `${party}.public.jwk.json`;
}

export function privateKeyFile(party: string): string {
  return `${party}.private.jwk.json`;
}

export interface KeyPair {
  privateJwk: JWK;
  publicJwk: JWK;
  /** True when this call generated the pair. */
  created: boolean;
}

/**
 * The party's Ed25519 key pair from `dir` (`<party>.private.jwk.json`, `<party>.public.jwk.json`), generated when
 * absent (private key file mode 0600, never overwritten). Register the public key with the platform team; keep the
 * private one to yourself.
 */
export async function ensureKeyPair(dir: string, party: string): Promise<KeyPair> {
  if (!PARTY_ID.test(party)) throw new Error(`not a party id: ${party}`);
  const privatePath = join(dir, privateKeyFile(party));
  const existing = await readKeyPair(privatePath);
  if (existing) return existing;
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg: "EdDSA", use: "sig" };
  publicJwk.kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), alg: "EdDSA", use: "sig", kid: publicJwk.kid };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // `wx`: never overwrite a key another process just wrote; use that one instead.
  try {
    await writeFile(privatePath, `${JSON.stringify(privateJwk)}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    const theirs =
      (err as NodeJS.ErrnoException).code === "EEXIST" ? await readKeyPair(privatePath) : undefined;
    if (theirs) return theirs;
    throw err;
  }
  await writeFile(join(dir, publicKeyFile(party)), `${JSON.stringify(publicJwk, null, 2)}\n`, {
    mode: 0o644,
  });
  return { privateJwk, publicJwk, created: true };
}

async function readKeyPair(privatePath: string): Promise<KeyPair | undefined> {
  try {
    const privateJwk = JSON.parse(await readFile(privatePath, "utf8")) as JWK;
    const { d: _d, ...publicJwk } = privateJwk;
    return { privateJwk, publicJwk, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
