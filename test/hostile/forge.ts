/**
 * Builds the tokens the JWT cases of the corpus describe: signed with the party's real key, with a stranger's, with
 * none, with HMAC over the party's public key, with headers that point elsewhere (`jku`, `x5u`, `jwk`, `kid`).
 * Only node:crypto: the point is to make what a careful library would refuse to make.
 */
import crypto from "node:crypto";

export interface JwtSpec {
  /** `sub` and whose key signs (default the case's party). */
  party?: string;
  /** Header fields set over the default `{ alg: "EdDSA", typ: "JWT", kid }`; `null` removes one. */
  header?: Record<string, unknown>;
  /** Claims set over the defaults (iss, sub, aud, iat, exp, jti); `null` removes one. `"$now+60"` is relative. */
  claims?: Record<string, unknown>;
  /**
   * party: the party's registered key; stranger: a key nobody registered; none: no signature; hs256-public-jwk /
   * hs256-public-x: HMAC keyed with the party's public key (the JWK's JSON, or its raw `x`); garbage: random bytes;
   * swap: a valid signature of another token.
   */
  sign?: "party" | "stranger" | "none" | "hs256-public-jwk" | "hs256-public-x" | "garbage" | "swap";
  /** Compact forms a JWT is not: too few or many parts, or far too long. */
  shape?: "two-parts" | "four-parts" | "jwe" | "long" | "padded";
}

export interface Keys {
  /** The party's registered key pair (as the SDK writes it: Ed25519 JWKs). */
  privateJwk: crypto.JsonWebKey & { kid?: string };
  publicJwk: crypto.JsonWebKey & { kid?: string };
  /** Another Ed25519 pair, registered for nobody. */
  stranger: { privateKey: crypto.KeyObject; publicJwk: crypto.JsonWebKey };
  /** A URL the token may name (`jku`, `x5u`); the spec counts requests to it, and there must be none. */
  canaryUrl: string;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function resolve(value: unknown, now: number, keys: Keys): unknown {
  if (typeof value !== "string") return value;
  const rel = /^\$now([+-]\d+)?$/.exec(value);
  if (rel) return now + Number(rel[1] ?? 0);
  if (value === "$strangerJwk") return keys.stranger.publicJwk;
  if (value === "$partyJwk") return keys.publicJwk;
  if (value === "$partyKid") return keys.publicJwk.kid;
  if (value.startsWith("$canary")) return `${keys.canaryUrl}${value.slice("$canary".length)}`;
  return value;
}

export function forgeToken(
  spec: JwtSpec,
  party: string,
  keys: Keys,
  issuer: string,
  audience: string,
): string {
  const now = Math.floor(Date.now() / 1000);
  const sign = spec.sign ?? "party";
  const header: Record<string, unknown> = { alg: "EdDSA", typ: "JWT", kid: keys.publicJwk.kid };
  if (sign === "none") header.alg = "none";
  if (sign.startsWith("hs256")) header.alg = "HS256";
  for (const [k, v] of Object.entries(spec.header ?? {})) {
    if (v === null) delete header[k];
    else header[k] = resolve(v, now, keys);
  }
  const claims: Record<string, unknown> = {
    iss: issuer,
    sub: spec.party ?? party,
    aud: audience,
    iat: now,
    exp: now + 300,
    jti: crypto.randomUUID(),
  };
  for (const [k, v] of Object.entries(spec.claims ?? {})) {
    if (v === null) delete claims[k];
    else claims[k] = resolve(v, now, keys);
  }
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  let signature: string;
  switch (sign) {
    case "party":
      signature = b64(
        crypto.sign(
          null,
          Buffer.from(input),
          crypto.createPrivateKey({ key: keys.privateJwk, format: "jwk" }),
        ),
      );
      break;
    case "stranger":
      signature = b64(crypto.sign(null, Buffer.from(input), keys.stranger.privateKey));
      break;
    case "none":
      signature = "";
      break;
    case "hs256-public-jwk":
      signature = b64(crypto.createHmac("sha256", JSON.stringify(keys.publicJwk)).update(input).digest());
      break;
    case "hs256-public-x":
      signature = b64(
        crypto
          .createHmac("sha256", Buffer.from(keys.publicJwk.x ?? "", "base64url"))
          .update(input)
          .digest(),
      );
      break;
    case "garbage":
      signature = b64(crypto.randomBytes(64));
      break;
    case "swap": {
      const other = `${b64(JSON.stringify(header))}.${b64(JSON.stringify({ ...claims, jti: "other" }))}`;
      signature = b64(
        crypto.sign(
          null,
          Buffer.from(other),
          crypto.createPrivateKey({ key: keys.privateJwk, format: "jwk" }),
        ),
      );
      break;
    }
  }
  const token = `${input}.${signature}`;
  switch (spec.shape) {
    case "two-parts":
      return input;
    case "four-parts":
      return `${token}.${signature}`;
    case "jwe":
      return `${b64(JSON.stringify({ alg: "dir", enc: "A256GCM" }))}..${b64(crypto.randomBytes(12))}.${b64(crypto.randomBytes(32))}.${b64(crypto.randomBytes(16))}`;
    case "long":
      return `${input}${"A".repeat(9000)}.${signature}`;
    case "padded":
      return `${token}==`;
    default:
      return token;
  }
}
